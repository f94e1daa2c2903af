import { SUCCEEDED_BUILD_REPORT, mockDemoCommands, ofType, recorded, settle, valueOf } from "./support/mocks";
import assert from "node:assert/strict";
import { X509Certificate } from "node:crypto";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { validateKubeObject, validatedObjects } from "./support/kubeSchema";
import { auditInputs, auditOutputs } from "./support/secretsAudit";
import { stackConfigGetter } from "./support/stackConfig";
import { readDemoConfig } from "../stacks/config";
import { demo } from "../stacks/demo";
import { pickInstance } from "../components/fleet/pinning";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

mockDemoCommands(SUCCEEDED_BUILD_REPORT);

const outputs = demo(readDemoConfig(stackConfigGetter("remote"), "remote"));
const ready = (async () => {
  for (const output of Object.values(outputs)) await valueOf(output);
  await settle();
})();

test("the remote demo: CA, fleet of 2 on the builder pool, unprivileged client pinned over mTLS", async (t) => {
  await ready;
  assert.equal(await valueOf(outputs.buildkitHost), "tcp://buildkitd.earthly-builds.svc.cluster.local:8372");
  assert.equal(
    "artifacts" in outputs,
    false,
    "no artifactsClaim, no artifacts output (demoArtifacts has one)",
  );
  const instanceHosts = (await valueOf(outputs.instanceHosts)) as string[];
  assert.deepEqual(instanceHosts, [
    "tcp://buildkitd-0.buildkitd-instances.earthly-builds.svc.cluster.local:8372",
    "tcp://buildkitd-1.buildkitd-instances.earthly-builds.svc.cluster.local:8372",
  ]);

  const namespaces = ofType("kubernetes:core/v1:Namespace").map((n) => (n.inputs.metadata as Obj).labels);
  assert.deepEqual(
    namespaces.map((l) => l["pod-security.kubernetes.io/enforce"]),
    ["privileged", "restricted"],
  );

  const [fleet] = ofType("kubernetes:apps/v1:StatefulSet");
  const daemonPod = (fleet.inputs as Obj).spec.template.spec;
  assert.equal((fleet.inputs as Obj).spec.replicas, 2);
  assert.deepEqual(daemonPod.nodeSelector, { "earthly-kubernetes/pool": "builders" });
  assert.equal(daemonPod.containers[0].securityContext.privileged, true);

  const [job] = ofType("kubernetes:batch/v1:Job");
  const clientPod = (job.inputs as Obj).spec.template.spec;
  const container = clientPod.containers[0];
  assert.equal(container.securityContext.privileged, false);
  assert.equal(clientPod.securityContext.runAsNonRoot, true);
  // Every build pod has a NetworkPolicy, and the fleet a disruption budget.
  assert.deepEqual(
    ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy")
      .map((p) => `${(p.inputs as Obj).metadata.namespace} ${p.name}`)
      .sort(),
    ["earthly-builds buildkitd-clients", "earthly-builds buildkitd-egress", "earthly-clients build-network"],
  );
  assert.equal(ofType("kubernetes:policy/v1:PodDisruptionBudget").length, 1);
  assert.equal(clientPod.tolerations, undefined, "the client runs on ordinary nodes");
  const env = Object.fromEntries(container.env.map((e: Obj) => [e.name, e.value]));
  assert.equal(env.NO_BUILDKIT, "1");
  const pinned = pickInstance("github.com/earthly/ci-example-project", ["buildkitd-0", "buildkitd-1"]);
  assert.equal(
    env.EARTHLY_BUILDKIT_HOST,
    `tcp://${pinned}.buildkitd-instances.earthly-builds.svc.cluster.local:8372`,
  );
  assert.equal((job.inputs as Obj).metadata.namespace, "earthly-clients");

  // The pinned host is a name the real server certificate covers.
  const [serverCert] = ofType("tls:index/locallySignedCert:LocallySignedCert").filter((r) =>
    r.name.includes("server"),
  );
  assert.ok(serverCert, "a server certificate was issued");
  const ca = new X509Certificate(await valueOf(outputs.caCertPem as pulumi.Output<string>));
  const secret = ofType("kubernetes:core/v1:Secret").find((s) => s.name === "buildkitd-tls");
  assert.ok(secret);
  const stringData = pulumi.runtime.unwrapRpcSecret(secret.inputs.stringData) as Obj;
  const cert = new X509Certificate(stringData["cert.pem"]);
  assert.equal(cert.verify(ca.publicKey), true);
  assert.equal(
    cert.checkHost(new URL(env.EARTHLY_BUILDKIT_HOST).hostname, { subject: "never" }) !== undefined,
    true,
  );

  const [config] = ofType("kubernetes:core/v1:ConfigMap");
  assert.deepEqual(
    YAML.parse((config.inputs.data as Obj)["config.yml"]).global.buildkit_host,
    env.EARTHLY_BUILDKIT_HOST,
  );

  for (const r of recorded.filter((r) => r.type.startsWith("kubernetes:"))) {
    const inputs = { ...r.inputs } as Obj;
    for (const key of ["stringData", "data"]) {
      if (pulumi.runtime.isRpcSecret(inputs[key])) inputs[key] = pulumi.runtime.unwrapRpcSecret(inputs[key]);
    }
    validateKubeObject(inputs);
  }
  t.diagnostic(`kubernetes objects validated: ${validatedObjects()}`);
  // 10, plus the fleet's egress policy, its disruption budget and the client's policy.
  assert.equal(validatedObjects(), 13);
});

test("secrets audit (remote): every key and kubeconfig, in inputs and outputs, is a Pulumi secret", async (t) => {
  await ready;
  const inputs = auditInputs(recorded);
  assert.deepEqual(inputs.leaks, []);
  t.diagnostic(`secret inputs with key material: ${inputs.protected.join(", ")}`);
  assert.ok(inputs.protected.length >= 8, "keys, the TLS Secrets and the kubeconfig were all seen");
  const out = await auditOutputs(outputs);
  assert.deepEqual(out.leaks, []);
  assert.deepEqual(out.sensitive.sort(), ["clientPrivateKeyPem", "kubeconfig"]);
  t.diagnostic(
    `resources audited: ${inputs.checked}; sensitive outputs, all secret: ${out.sensitive.join(", ")}`,
  );
  // The audit can fail: a key in a plain input is caught.
  const planted = auditInputs([{ type: "t", name: "n", inputs: { x: "-----BEGIN PRIVATE KEY-----" } }]);
  assert.deepEqual(planted.leaks, ["t::n.x"]);
});
