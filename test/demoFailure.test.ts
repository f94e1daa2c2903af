/**
 * The demo when its build fails, under mocks: the stack outputs still exist (the Job's name, how to
 * follow it, the result and the log), and the deployment fails with an error diagnostic that starts
 * with the reason and carries the log tail. And `rebuild` in the stack config replaces the Job.
 */
import { mockDemoCommands, ofType, settle, valueOf } from "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { stackConfigGetter } from "./support/stackConfig";
import { readDemoConfig } from "../stacks/config";
import { REBUILD_COMMAND, demo } from "../stacks/demo";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

mockDemoCommands("result=failed\npod=build-abc123-x2\ndetail=\nlog:\n+build | ERROR: exit code 2\n");

const errors: string[] = [];
// Collect the program's error diagnostics instead of sending them to the (mocked) engine.
(pulumi.log as { error: (message: string) => Promise<void> }).error = async (message: string) => {
  errors.push(message);
};

const fromFile = stackConfigGetter("aio");
const outputs = demo(readDemoConfig((key) => (key === "rebuild" ? "2026-11-28" : fromFile(key)), "aio"));

test("a failed build: the outputs exist and the deployment fails with the reason and the log tail", async () => {
  assert.equal(await valueOf(outputs.jobName), "build-abc123");
  assert.equal(
    await valueOf(outputs.followCommand),
    "kubectl --context kind-earthlydemo-aio --namespace earthly-builds logs --follow job/build-abc123",
  );
  assert.equal(await valueOf(outputs.buildResult), "failed");
  assert.equal(await valueOf(outputs.buildLog), "+build | ERROR: exit code 2\n");
  assert.equal(await valueOf(outputs.rebuildCommand), REBUILD_COMMAND);
  await settle();
  assert.equal(errors.length, 1);
  const lines = errors[0].split("\n");
  assert.equal(
    lines[0],
    "The Earthly build failed: job/build-abc123 in namespace earthly-builds (context kind-earthlydemo-aio) reached its retry limit.",
  );
  assert.ok(lines.includes("+build | ERROR: exit code 2"));
  assert.ok(
    lines.includes(
      "The whole log: kubectl --context kind-earthlydemo-aio --namespace earthly-builds logs pod/build-abc123-x2 --all-containers",
    ),
  );
  assert.equal(lines.at(-1), `Run the build again: ${REBUILD_COMMAND}`);
});

test("`rebuild` in the stack config becomes the Job's rebuild trigger (a pod-template annotation)", async () => {
  await settle();
  const [job] = ofType("kubernetes:batch/v1:Job");
  assert.deepEqual((job.inputs as Obj).spec.template.metadata.annotations, {
    "earthly-kubernetes/rebuild-trigger": "2026-11-28",
  });
});
