/**
 * The demo when its build fails, under mocks: the stack outputs still exist (the Job's name, how to
 * follow it, the result and the log), and the program fails with a RunError (message only, no stack)
 * that starts with the reason and carries the log tail, thrown where no output depends on it. And
 * `rebuild` in the stack config replaces the Job. The real engine runs the same path in test/engine.
 */
import { mockDemoCommands, ofType, settle, valueOf } from "./support/mocks";
import { collectRejections } from "./support/rejections";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { stackConfigGetter } from "./support/stackConfig";
import { readDemoConfig } from "../stacks/config";
import { REBUILD_COMMAND } from "../stacks/buildOutputs";
import { demo } from "../stacks/demo";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

mockDemoCommands(
  "result=failed\nreason=BackoffLimitExceeded\npod=build-abc123-x2\ndetail=\nlog:\n+build | ERROR: exit code 2\n",
);

// The failure surfaces as unhandled rejections, as in the program's own process, where the SDK
// reports it. This file is one program: collect them while it runs (the test runner's own listener
// would count them as failures), then check every one.
let collector: ReturnType<typeof collectRejections>;
let outputs: { [output: string]: pulumi.Output<unknown> } = {};

before(() => {
  // Installed here, once the test runner's own listener is.
  collector = collectRejections();
  const fromFile = stackConfigGetter("aio");
  outputs = demo(readDemoConfig((key) => (key === "rebuild" ? "2026-11-28" : fromFile(key)), "aio"));
});

after(async () => {
  await collector.stop();
  const rejections = collector.rejections;
  assert.ok(
    rejections.every((r) => r === rejections[0]),
    "another error than the build's failure",
  );
});

test("a failed build: the outputs exist and the deployment fails with the reason and the log tail", async () => {
  assert.equal(await valueOf(outputs.jobName), "build-abc123");
  assert.equal(
    await valueOf(outputs.followCommand),
    "kubectl --context kind-earthlydemo-aio --namespace earthly-builds logs --follow job/build-abc123",
  );
  assert.equal(await valueOf(outputs.buildResult), "failed");
  assert.equal(await valueOf(outputs.buildLog), "+build | ERROR: exit code 2\n");
  assert.equal(await valueOf(outputs.rebuildCommand), REBUILD_COMMAND);
  for (let i = 0; i < 20 && collector.rejections.length === 0; i++) await settle();
  const rejections = collector.rejections;
  const errors = rejections.filter((r) => r instanceof pulumi.RunError) as pulumi.RunError[];
  // One error, though more than one promise may carry it: the SDK reports an error object once.
  assert.equal(new Set(rejections).size, 1, String(rejections));
  assert.equal(errors.length, rejections.length);
  assert.doesNotMatch(errors[0].message, /\n\s+at /);
  // What the CLI prints when the program has already finished: the stack, which is the message.
  assert.equal(errors[0].stack, errors[0].message);
  const lines = errors[0].message.split("\n");
  assert.equal(
    lines[0],
    "The Earthly build failed: job/build-abc123 in namespace earthly-builds (context kind-earthlydemo-aio) failed (BackoffLimitExceeded).",
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
