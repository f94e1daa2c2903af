import "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
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
    // 80% of the default 40Gi scratch volume, in MiB.
    { name: "CACHE_SIZE_MB", value: "32768" },
    { name: "SRC_DIR", value: "/workspace" },
  ]);
  assert.deepEqual(pod.volumes, [
    { name: "workspace", emptyDir: { sizeLimit: "4Gi" } },
    { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } },
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

test("the pure builder: plain data whose content comes from the arguments, the same for the same arguments", () => {
  const args = { namespace: "ns", target: "+build", cniMtu: 1440, earthlyTmpDir: "/scratch" };
  const object = allInOneJobObject("x", args) as Obj;
  // Plain data, no Output or function anywhere: it survives a JSON round trip unchanged.
  assert.deepEqual(JSON.parse(JSON.stringify(object)), object);
  const container = object.spec.template.spec.containers[0];
  assert.equal(container.image, "earthly/earthly:v0.8.16");
  assert.deepEqual(container.args, ["+build"]);
  assert.deepEqual(container.env, [
    { name: "EARTHLY_TMP_DIR", value: "/scratch" },
    { name: "CACHE_SIZE_MB", value: "32768" },
    { name: "CNI_MTU", value: "1440" },
    { name: "SRC_DIR", value: "/workspace" },
  ]);
  assert.equal(object.metadata.namespace, "ns");
  assert.equal(object.metadata.labels["app.kubernetes.io/instance"], "x");
  assert.deepEqual(allInOneJobObject("x", { ...args }), object);
});
