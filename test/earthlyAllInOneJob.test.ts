import "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { recorded, resetRecord, settle, valueOf, ofType } from "./support/mocks";
import { validateKubeObject } from "./support/kubeSchema";
import { EarthlyAllInOneJob, allInOneJobObject } from "../components/jobs/earthlyAllInOneJob";
import { InvalidArgumentsError } from "../components/validation/errors";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

test("defaults: privileged earthly container, scratch and workspace volumes, env agree with mounts", async () => {
  resetRecord();
  const job = new EarthlyAllInOneJob("build", {
    namespace: "earthly-builds",
    target: "github.com/earthly/ci-example-project:main+build",
  });
  assert.equal(await valueOf(job.image), "earthly/earthly:v0.8.16");
  await settle();
  const jobs = ofType("kubernetes:batch/v1:Job");
  assert.equal(jobs.length, 1);
  const inputs = jobs[0].inputs as Obj;
  validateKubeObject(inputs);
  const pod = inputs.spec.template.spec;
  const c = pod.containers[0];
  assert.deepEqual(c.args, ["github.com/earthly/ci-example-project:main+build"]);
  assert.deepEqual(c.securityContext, { privileged: true });
  assert.deepEqual(c.env, [
    { name: "EARTHLY_TMP_DIR", value: "/tmp/earthly" },
    { name: "SRC_DIR", value: "/workspace" },
  ]);
  assert.deepEqual(pod.volumes, [
    { name: "workspace", emptyDir: {} },
    { name: "earthly-tmp", emptyDir: {} },
  ]);
  assert.equal(c.workingDir, "/workspace");
  assert.deepEqual(c.volumeMounts, [
    { name: "workspace", mountPath: "/workspace" },
    { name: "earthly-tmp", mountPath: "/tmp/earthly" },
  ]);
  assert.equal(pod.automountServiceAccountToken, false);
  assert.equal(pod.restartPolicy, "Never");
  assert.equal(inputs.spec.backoffLimit, 1);
  assert.equal(inputs.metadata.namespace, "earthly-builds");
  assert.equal(recorded.filter((r) => r.type === "earthly-kubernetes:index:EarthlyAllInOneJob").length, 1);
});

test("a bad cniMtu is refused before anything is created", () => {
  resetRecord();
  assert.throws(
    () => new EarthlyAllInOneJob("bad", { namespace: "ns", target: "+build", cniMtu: 70000 }),
    (e: unknown) => e instanceof InvalidArgumentsError && /cniMtu.*70000.*576 to 9216/.test(e.message),
  );
});

test("pure builder is deterministic", () => {
  const args = { namespace: "ns", target: "+build", cniMtu: 1440 } as pulumi.Unwrap<never>;
  assert.equal(JSON.stringify(allInOneJobObject("x", args)), JSON.stringify(allInOneJobObject("x", args)));
});
