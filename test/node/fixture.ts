/**
 * One test file's real cluster: the control plane plus one real node in the demo's builder pool,
 * started before the file's tests (images imported) and stopped after them, also when one fails.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { kindConfigInputOf } from "../../components/kind/kindCluster";
import { kindNodes } from "../../components/kind/nodes";
import { BUILDER_POOL, GENERAL_POOL } from "../../stacks/demoArgs";
import { engineBinaries } from "../engine/binaries";
import { PulumiEnvironment, pulumiEnvironment } from "../engine/stacks";
import { nodeBuilds } from "./binaries";
import { RealCluster, nodePreconditions, startRealCluster } from "./node";

/**
 * The node: the demo's builder-pool node, with the name, labels and taints kind gives it (the labels
 * the kubelet sets itself, `kubernetes.io/*` and their `beta.` forms, are left to it).
 */
const BUILDER_NODE = (() => {
  const cluster = "earthlydemo";
  const nodes = kindNodes(
    cluster,
    kindConfigInputOf({ clusterName: cluster, workerPools: [BUILDER_POOL, GENERAL_POOL] }),
  );
  const node = nodes.find(
    (n) => n.role === "worker" && n.labels["earthly-kubernetes/pool"] === BUILDER_POOL.name,
  );
  assert.ok(node, "the demo's kind config has a builder-pool worker");
  const own = (key: string) => /^(beta\.)?kubernetes\.io\//.test(key);
  return {
    name: node.name,
    labels: Object.fromEntries(Object.entries(node.labels).filter(([k]) => !own(k))),
    taints: node.taints,
  };
})();
export const NODE_NAME = BUILDER_NODE.name;

/** The cluster and a Pulumi environment, once the file's `before` hook has run. */
export interface NodeFixture {
  readonly cluster: RealCluster;
  readonly env: PulumiEnvironment;
}

/**
 * Starts the control plane and the builder-pool node, and a Pulumi environment for them. Fails (never
 * skips) saying why when the tier cannot run here. For the tests' fixture and the benchmark.
 */
export async function startBuilderNode(): Promise<NodeFixture & { stop(): Promise<void> }> {
  const problems = nodePreconditions();
  assert.deepEqual(problems, [], `the node tier cannot run here: ${problems.join("; ")}`);
  const engine = engineBinaries();
  const cluster = await startRealCluster(engine, nodeBuilds(), NODE_NAME, BUILDER_NODE);
  try {
    const env = await pulumiEnvironment(engine);
    return {
      cluster,
      env,
      async stop() {
        await cluster.stop();
        env.dispose();
      },
    };
  } catch (e) {
    await cluster.stop();
    throw e;
  }
}

/** Registers the hooks that start and stop one real cluster for the calling test file. */
export function nodeFixture(): NodeFixture {
  let cluster: RealCluster | undefined;
  let env: PulumiEnvironment | undefined;
  let stop: (() => Promise<void>) | undefined;
  before(async () => {
    ({ cluster, env, stop } = await startBuilderNode());
  });
  after(async () => {
    await stop?.();
  });
  return {
    get cluster() {
      assert.ok(cluster, "the real cluster is started in a before hook");
      return cluster;
    },
    get env() {
      assert.ok(env, "the Pulumi environment is made in a before hook");
      return env;
    },
  };
}
