import {
  FAKE_KUBECONFIG,
  SUCCEEDED_BUILD_REPORT,
  mockDemoCommands,
  ofType,
  recorded,
  settle,
  valueOf,
} from "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { validateKubeObject, validatedObjects } from "./support/kubeSchema";
import { auditInputs, auditOutputs } from "./support/secretsAudit";
import { stackConfigGetter } from "./support/stackConfig";
import { readDemoConfig } from "../stacks/config";
import { demo } from "../stacks/demo";
import { KIND_CREATE_COMMAND } from "../components/kind/scripts";
import { plain } from "./support/values";
import { BUILD_RESULT_COMMAND, BUILD_RESULT_SCRIPT } from "../stacks/buildResult";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

mockDemoCommands(SUCCEEDED_BUILD_REPORT);

const fromFile = stackConfigGetter("aio");
const outputs = demo(readDemoConfig((key) => (key === "cniMtu" ? "1440" : fromFile(key)), "aio"));

test("the aio demo: kind cluster with a tainted builder pool, privileged namespace, all-in-one Job on the pool", async (t) => {
  const kubeconfig = outputs.kubeconfig;
  assert.equal(await pulumi.isSecret(kubeconfig), true);
  assert.equal(await valueOf(outputs.kubeconfig), FAKE_KUBECONFIG);
  assert.equal(await valueOf(outputs.buildLog), "+build | --> done\n");
  assert.equal(
    "artifacts" in outputs,
    false,
    "no artifactsClaim, no artifacts output (demoArtifacts has one)",
  );
  assert.equal(await pulumi.isSecret(outputs.buildLog), false);
  assert.equal(await valueOf(outputs.buildResult), "succeeded");
  assert.equal(await valueOf(outputs.rebuildCommand), 'pulumi config set rebuild "$(date +%s)" && pulumi up');
  assert.equal(
    await valueOf(outputs.followCommand),
    "kubectl --context kind-earthlydemo-aio --namespace earthly-builds logs --follow job/build-abc123",
  );
  await settle();

  const commands = ofType("command:local:Command");
  assert.deepEqual(
    commands.map((c) => [
      c.name,
      c.inputs.create === KIND_CREATE_COMMAND,
      c.inputs.create === BUILD_RESULT_COMMAND,
    ]),
    [
      ["cluster-kind", true, false],
      ["build-result", false, true],
    ],
  );
  // The environment carries the kubeconfig, so it is a secret as a whole.
  assert.equal(pulumi.runtime.isRpcSecret(commands[1].inputs.environment), true);
  const waiterEnv = plain(commands[1].inputs.environment) as Obj;
  assert.equal(waiterEnv.EK_BUILD_RESULT_SCRIPT, BUILD_RESULT_SCRIPT);
  assert.deepEqual(
    [waiterEnv.EK_NAMESPACE, waiterEnv.EK_JOB_NAME, waiterEnv.EK_TAIL_LINES, waiterEnv.EK_TIMEOUT_SECONDS],
    ["earthly-builds", "build-abc123", "60", "1860"],
  );
  assert.equal(waiterEnv.EK_KUBECONFIG, FAKE_KUBECONFIG);
  assert.equal(commands[1].inputs.addPreviousOutputInEnv, false);
  assert.equal((commands[0].inputs.environment as Obj).KIND_CLUSTER_NAME, "earthlydemo-aio");

  const namespaces = ofType("kubernetes:core/v1:Namespace");
  assert.equal(namespaces.length, 1);
  assert.equal(
    (namespaces[0].inputs.metadata as Obj).labels["pod-security.kubernetes.io/enforce"],
    "privileged",
  );

  const [job] = ofType("kubernetes:batch/v1:Job");
  const pod = (job.inputs as Obj).spec.template.spec;
  assert.deepEqual(pod.nodeSelector, { "earthly-kubernetes/pool": "builders" });
  assert.deepEqual(pod.tolerations, [
    { key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" },
  ]);
  assert.deepEqual(pod.containers[0].env, [
    { name: "EARTHLY_TMP_DIR", value: "/tmp/earthly" },
    // The demo's 10Gi cache volume, 80% in MiB: small enough for a laptop's or CI runner's disk.
    { name: "CACHE_SIZE_MB", value: "8192" },
    { name: "CNI_MTU", value: "1440" },
    { name: "SRC_DIR", value: "/workspace" },
  ]);
  assert.equal((job.inputs as Obj).metadata.namespace, "earthly-builds");
  // The demo waits for the build itself (so its outputs survive a failed build), not the provider.
  assert.deepEqual((job.inputs as Obj).metadata.annotations, { "pulumi.com/skipAwait": "true" });
  assert.equal((job.inputs as Obj).spec.template.metadata.annotations, undefined);
  // Kubernetes stops the build when the demo's wait (a minute longer) would end.
  assert.equal((job.inputs as Obj).spec.activeDeadlineSeconds, 1800);

  // Every Kubernetes object the demo creates satisfies the API schema.
  for (const r of recorded.filter(
    (r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:index"),
  )) {
    validateKubeObject(r.inputs);
  }
  t.diagnostic(`kubernetes objects validated: ${validatedObjects()}`);
  // The namespace, the Job and the Job's NetworkPolicy (no ingress; DNS and the internet out).
  assert.equal(validatedObjects(), 3);
  const [policy] = ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy");
  assert.equal((policy.inputs as Obj).metadata.namespace, "earthly-builds");
  assert.deepEqual((policy.inputs as Obj).spec.policyTypes, ["Ingress", "Egress"]);
  // Every Kubernetes resource goes through the cluster's provider, never an ambient kubeconfig.
  for (const r of recorded.filter(
    (r) => r.type.startsWith("kubernetes:") && r.type !== "pulumi:providers:kubernetes",
  )) {
    assert.match(r.provider ?? "", /pulumi:providers:kubernetes::cluster-provider/, `${r.type} ${r.name}`);
  }
});

test("secrets audit (aio): the kubeconfig is secret wherever it appears", async (t) => {
  await settle();
  const inputs = auditInputs(recorded);
  assert.deepEqual(inputs.leaks, []);
  assert.deepEqual(inputs.protected, [
    "pulumi:providers:kubernetes::cluster-provider.kubeconfig",
    "command:local:Command::build-result.environment",
  ]);
  const out = await auditOutputs(outputs);
  assert.deepEqual(out.leaks, []);
  assert.deepEqual(out.sensitive, ["kubeconfig"]);
  t.diagnostic(
    `resources audited: ${inputs.checked}; secret inputs with key material: ${inputs.protected.length}`,
  );
});
