/**
 * One test file's real cluster: the control plane plus one real node in the demo's builder pool,
 * started before the file's tests (images imported) and stopped after them, also when one fails.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { BUILDER_POOL } from "../../stacks/demo";
import { engineBinaries } from "../engine/binaries";
import { PulumiEnvironment, pulumiEnvironment } from "../engine/stacks";
import { nodeBuilds } from "./binaries";
import { RealCluster, nodePreconditions, startRealCluster } from "./node";

/** The node's name: the demo's first worker, as kind would name it. */
export const NODE_NAME = "earthlydemo-worker";

/** The cluster and a Pulumi environment, once the file's `before` hook has run. */
export interface NodeFixture {
  readonly cluster: RealCluster;
  readonly env: PulumiEnvironment;
}

/** Registers the hooks that start and stop one real cluster for the calling test file. */
export function nodeFixture(): NodeFixture {
  let cluster: RealCluster | undefined;
  let env: PulumiEnvironment | undefined;
  before(async () => {
    // No skip: a tier that cannot run fails, saying why.
    const problems = nodePreconditions();
    assert.deepEqual(problems, [], `the node tier cannot run here: ${problems.join("; ")}`);
    const engine = engineBinaries();
    cluster = await startRealCluster(engine, nodeBuilds(), NODE_NAME, BUILDER_POOL);
    env = await pulumiEnvironment(engine);
  });
  after(async () => {
    await cluster?.stop();
    env?.dispose();
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
