/**
 * Every pod the demo creates has a node in the demo's kind cluster. The pods are the real demo
 * program's, run under the Pulumi mocks (stack `aio`, then `remote`); the nodes are modelled from the
 * kind configuration the program gives `kind create cluster` (the Command's stdin), with kind's rule
 * that the control plane stays tainted once a cluster has workers.
 */
import {
  RecordedResource,
  SUCCEEDED_BUILD_REPORT,
  mockDemoCommands,
  recorded,
  resetRecord,
  settle,
} from "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import { stackConfigGetter } from "./support/stackConfig";
import { readDemoConfig } from "../stacks/config";
import { demo } from "../stacks/demo";
import { BUILDER_POOL, GENERAL_POOL } from "../stacks/demoArgs";
import { kindConfigInputOf } from "../components/kind/kindCluster";
import { KindNode, kindNodes, kindNodesFromConfig } from "../components/kind/nodes";
import { KIND_CREATE_COMMAND } from "../components/kind/scripts";
import { Scheduling } from "../components/pods/scheduling";
import { nodesAccepting, schedulingMismatches } from "../components/kind/pools";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

// The kind Command prints the kubeconfig; the demo's waiter reports a finished build.
mockDemoCommands(SUCCEEDED_BUILD_REPORT);

/** A pod the program asked for: which resource, and the scheduling its pod template carries. */
interface DemoPod {
  owner: string;
  scheduling: Scheduling;
  spec: Obj;
}

/** The pod template of every workload the program registered (whatever kinds it uses). */
function podsOf(resources: readonly RecordedResource[]): DemoPod[] {
  return resources.flatMap((r) => {
    const inputs = r.inputs as Obj;
    const spec: Obj | undefined =
      r.type === "kubernetes:core/v1:Pod"
        ? inputs.spec
        : r.type === "kubernetes:batch/v1:CronJob"
          ? inputs.spec?.jobTemplate?.spec?.template?.spec
          : r.type.startsWith("kubernetes:")
            ? inputs.spec?.template?.spec
            : undefined;
    if (spec === undefined) return [];
    const scheduling: Scheduling = { nodeSelector: spec.nodeSelector, tolerations: spec.tolerations };
    return [{ owner: `${r.type}::${r.name}`, scheduling, spec }];
  });
}

/** Runs the demo for a stack and returns what it registered, once registrations stop arriving. */
async function runDemo(stack: "aio" | "remote"): Promise<RecordedResource[]> {
  resetRecord();
  demo(readDemoConfig(stackConfigGetter(stack), stack));
  let seen = -1;
  while (seen !== recorded.length) {
    seen = recorded.length;
    await settle();
  }
  return [...recorded];
}

/** The nodes kind makes from the configuration the program hands `kind create cluster`. */
function demoNodes(resources: readonly RecordedResource[]): { clusterName: string; nodes: KindNode[] } {
  const kind = resources.filter(
    (r) => r.type === "command:local:Command" && r.inputs.create === KIND_CREATE_COMMAND,
  );
  assert.equal(kind.length, 1, "one kind create command");
  const clusterName = (kind[0].inputs.environment as Obj).KIND_CLUSTER_NAME as string;
  return { clusterName, nodes: kindNodesFromConfig(clusterName, kind[0].inputs.stdin as string) };
}

function assertEveryPodHasANode(pods: readonly DemoPod[], nodes: readonly KindNode[]): void {
  for (const pod of pods) {
    // The model checks nodeSelector and taints: a pod must not rely on anything else to be placed.
    for (const unmodelled of ["affinity", "nodeName"]) {
      assert.equal(
        pod.spec[unmodelled],
        undefined,
        `${pod.owner} sets ${unmodelled}, which the model ignores`,
      );
    }
    // A spread the scheduler only prefers (ScheduleAnyway) never leaves a pod without a node.
    assert.deepEqual(
      ((pod.spec.topologySpreadConstraints ?? []) as Obj[]).filter(
        (c) => c.whenUnsatisfiable !== "ScheduleAnyway",
      ),
      [],
      `${pod.owner} sets a required topology spread, which the model ignores`,
    );
    const why = nodes.map(
      (n) => `${n.name}: ${schedulingMismatches(pod.scheduling, n).join("; ") || "fits"}`,
    );
    assert.ok(
      nodesAccepting(pod.scheduling, nodes).length > 0,
      `${pod.owner} has no node:\n${why.join("\n")}`,
    );
  }
}

const placements = (pods: readonly DemoPod[], nodes: readonly KindNode[]) =>
  Object.fromEntries(pods.map((p) => [p.owner, nodesAccepting(p.scheduling, nodes).map((n) => n.name)]));

const ready = (async () => {
  const aio = await runDemo("aio");
  const remote = await runDemo("remote");
  return { aio, remote };
})();

test("the demo's kind configuration is the pools' configuration: builders (tainted) and general (not)", async () => {
  const { aio, remote } = await ready;
  for (const resources of [aio, remote]) {
    const { clusterName, nodes } = demoNodes(resources);
    const input = kindConfigInputOf({ clusterName, workerPools: [BUILDER_POOL, GENERAL_POOL] });
    assert.deepEqual(nodes, kindNodes(clusterName, input));
    assert.deepEqual(
      nodes.map((n) => [n.name, n.taints.map((t) => `${t.key}:${t.effect}`)]),
      [
        [`${clusterName}-control-plane`, ["node-role.kubernetes.io/control-plane:NoSchedule"]],
        [`${clusterName}-worker`, ["earthly.dev/builder:NoSchedule"]],
        [`${clusterName}-worker2`, []],
      ],
    );
  }
});

test("aio: the all-in-one Job has a node, and only on the builder pool", async () => {
  const { aio } = await ready;
  const { clusterName, nodes } = demoNodes(aio);
  const pods = podsOf(aio);
  assert.deepEqual(placements(pods, nodes), { "kubernetes:batch/v1:Job::build": [`${clusterName}-worker`] });
  assertEveryPodHasANode(pods, nodes);
});

test("remote: the buildkitd pods have a node on the builder pool, the client Job on the general pool", async () => {
  const { remote } = await ready;
  const { clusterName, nodes } = demoNodes(remote);
  const pods = podsOf(remote);
  assert.deepEqual(placements(pods, nodes), {
    "kubernetes:apps/v1:StatefulSet::buildkitd": [`${clusterName}-worker`],
    "kubernetes:batch/v1:Job::build": [`${clusterName}-worker2`],
  });
  assertEveryPodHasANode(pods, nodes);
});

test("the historical bug: without the general pool the remote client Job has no node", async () => {
  const { remote } = await ready;
  const { clusterName } = demoNodes(remote);
  const builderOnly = kindNodes(clusterName, kindConfigInputOf({ clusterName, workerPools: [BUILDER_POOL] }));
  const client = podsOf(remote).find((p) => p.owner === "kubernetes:batch/v1:Job::build");
  assert.ok(client);
  assert.deepEqual(nodesAccepting(client.scheduling, builderOnly), []);
  assert.deepEqual(schedulingMismatches(client.scheduling, builderOnly[0]), [
    "taint node-role.kubernetes.io/control-plane:NoSchedule is not tolerated",
  ]);
  assert.throws(() => assertEveryPodHasANode(podsOf(remote), builderOnly), /Job::build has no node/);
});
