/**
 * The production settings of docs/production.md on the real engine: both Jobs with build secrets
 * from a Secret and an artifacts claim, the Secret and the claim created first with kubectl as the
 * guide does. The API server accepts what the components render (the client under Pod Security
 * `restricted`, without a warning), the pods are scheduled with the claim bound and run to
 * completion, the Jobs' `artifacts` outputs say where the outputs land, and the secret's value
 * appears in no stored object but its Secret, in no output and no state. (No container runs on
 * kwok's nodes and every log is a fixed text, so the logs prove nothing and are not checked.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EarthlyAllInOneJob, EarthlyRemoteJob, FleetConnection } from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { BUILDER_POOL, GENERAL_POOL } from "../../stacks/demoArgs";
import { createNamespaces, dryRunPod } from "./admission";
import { engineFixture } from "./fixture";
import { engineProvider } from "./programs";

const BUILDS = "prod-builds";
const CI = "prod-ci";
const SENTINEL = "engine-s3ntinel-value-never-rendered";
const CLAIM = "build-artifacts";

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const engine = engineFixture("prod", [BUILDER_POOL, GENERAL_POOL]);

/** A pre-provisioned volume and the claim bound to it, as a platform team's storage class would give. */
function claimManifests(namespace: string): string {
  const pv = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name: `${namespace}-artifacts` },
    spec: {
      capacity: { storage: "1Gi" },
      accessModes: ["ReadWriteOnce"],
      storageClassName: "",
      persistentVolumeReclaimPolicy: "Retain",
      hostPath: { path: `/var/lib/${namespace}-artifacts` },
      claimRef: { namespace, name: CLAIM },
    },
  };
  const pvc = {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: CLAIM, namespace },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: "",
      volumeName: pv.metadata.name,
      resources: { requests: { storage: "1Gi" } },
    },
  };
  return JSON.stringify({ apiVersion: "v1", kind: "List", items: [pv, pvc] });
}

/** A client's view of a plaintext fleet in the builders' namespace (no daemon needs to run). */
const FLEET: FleetConnection = {
  fleetName: "buildkitd",
  namespace: BUILDS,
  buildkitHost: `tcp://buildkitd.${BUILDS}.svc.cluster.local:8372`,
  instanceNames: ["buildkitd-0"],
  instanceHosts: [`buildkitd-0.buildkitd-instances.${BUILDS}.svc.cluster.local`],
  earthlyVersion: "v0.8.16",
  tlsEnabled: false,
  caCertPem: "",
  clientLabels: { "earthly-kubernetes/client-of": "buildkitd" },
};

test("both Jobs with build secrets and an artifacts claim: accepted, scheduled with the claim, completed; the value nowhere", async () => {
  // What docs/production.md has the platform team do first, with kubectl.
  createNamespaces(engine.cp, [
    [BUILDS, "privileged"],
    [CI, "restricted"],
  ]);
  for (const ns of [BUILDS, CI]) {
    engine.cp.kubectl([
      "--namespace",
      ns,
      "create",
      "secret",
      "generic",
      "build-secrets",
      `--from-literal=npm-token=${SENTINEL}`,
    ]);
    engine.cp.kubectl(["apply", "-f", "-"], claimManifests(ns));
  }

  const secrets = [{ name: "NPM_TOKEN", secretKeyRef: { name: "build-secrets", key: "npm-token" } }];
  const s = await engine.env.stack("production", async () => {
    const k8s = { provider: engineProvider(engine.cp) };
    const aio = new EarthlyAllInOneJob(
      "build",
      {
        namespace: BUILDS,
        target: "github.com/acme/app:main+release",
        flags: ["--ci"],
        scheduling: schedulingForPool(BUILDER_POOL),
        buildSecrets: secrets,
        artifacts: { claimName: CLAIM, subPath: "nightly" },
        timeoutMinutes: 5,
      },
      k8s,
    );
    const client = new EarthlyRemoteJob(
      "build",
      {
        namespace: CI,
        target: "github.com/acme/app:main+release",
        fleet: FLEET,
        buildSecrets: secrets,
        artifacts: { claimName: CLAIM, directory: "dist" },
        timeoutMinutes: 5,
      },
      k8s,
    );
    return {
      aioJob: aio.jobName,
      aioArtifacts: aio.artifacts,
      clientJob: client.jobName,
      clientArtifacts: client.artifacts,
    };
  });
  const up = await s.up();

  // The outputs say where the outputs land.
  assert.deepEqual(up.outputs.aioArtifacts.value, {
    claimName: CLAIM,
    subPath: "nightly",
    directory: "out",
    mountPath: "/workspace/out",
  });
  assert.deepEqual(up.outputs.clientArtifacts.value, {
    claimName: CLAIM,
    subPath: "",
    directory: "dist",
    mountPath: "/workspace/dist",
  });

  for (const [ns, name, mountPath] of [
    [BUILDS, String(up.outputs.aioJob.value), "/workspace/out"],
    [CI, String(up.outputs.clientJob.value), "/workspace/dist"],
  ]) {
    const jobText = engine.cp.kubectl(["--namespace", ns, "get", `job/${name}`, "-o", "json"]);
    const job = JSON.parse(jobText) as Obj;
    assert.equal(job.status.succeeded, 1, `job ${ns}/${name} did not succeed`);
    // As the API server stored it: the reference, the flag, the claim.
    const container = job.spec.template.spec.containers[0] as Obj;
    assert.deepEqual(
      (container.env as Obj[]).find((e) => e.name === "NPM_TOKEN"),
      { name: "NPM_TOKEN", valueFrom: { secretKeyRef: { name: "build-secrets", key: "npm-token" } } },
    );
    assert.deepEqual((container.args as string[]).slice(0, 2), ["--secret", "NPM_TOKEN"]);
    assert.deepEqual(
      (job.spec.template.spec.volumes as Obj[]).find((v) => v.name === "artifacts"),
      { name: "artifacts", persistentVolumeClaim: { claimName: CLAIM } },
    );
    assert.equal((container.volumeMounts as Obj[]).find((m) => m.name === "artifacts")?.mountPath, mountPath);
    // The pod ran with the claim bound, and neither the Job nor its pod holds the value. (Not the
    // log: kwok serves one fixed log for every container, so a check of it could never fail.)
    const podsText = engine.cp.kubectl([
      "--namespace",
      ns,
      "get",
      "pods",
      "-l",
      `batch.kubernetes.io/job-name=${name}`,
      "-o",
      "json",
    ]);
    assert.equal((JSON.parse(podsText) as Obj).items.length, 1);
    const claim = JSON.parse(
      engine.cp.kubectl(["--namespace", ns, "get", `pvc/${CLAIM}`, "-o", "json"]),
    ) as Obj;
    assert.equal(claim.status.phase, "Bound");
    for (const [what, text] of [
      ["job", jobText],
      ["pods", podsText],
    ]) {
      assert.equal(text.includes(SENTINEL), false, `${what} of ${ns}/${name} holds the secret's value`);
    }
  }

  // The client's pod is admitted under `restricted` without a warning, claim and all.
  const clientJob = JSON.parse(
    engine.cp.kubectl(["--namespace", CI, "get", `job/${String(up.outputs.clientJob.value)}`, "-o", "json"]),
  ) as Obj;
  const admitted = dryRunPod(engine.cp, CI, clientJob.spec.template.spec, "client-check");
  assert.equal(admitted.status, 0, admitted.stderr);
  assert.doesNotMatch(admitted.stderr, /PodSecurity|[Ww]arning/);

  // Nothing the engine stored for the stack holds the value either.
  assert.equal(JSON.stringify((await s.exportStack()).deployment).includes(SENTINEL), false);
  assert.equal(JSON.stringify(up.outputs).includes(SENTINEL), false);

  await s.destroy();
  // The claim and its data are the team's: destroying the stack leaves them.
  assert.equal(
    (JSON.parse(engine.cp.kubectl(["--namespace", BUILDS, "get", `pvc/${CLAIM}`, "-o", "json"])) as Obj)
      .status.phase,
    "Bound",
  );
});
