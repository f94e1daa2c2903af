/**
 * One test file's real engine: a control plane whose nodes are the ones kind would make for the demo's
 * pools, and a Pulumi environment, started before the file's tests and stopped after them.
 */
import assert from "node:assert/strict";
import { after, before } from "node:test";
import { kindConfigInputOf } from "../../components/kind/kindCluster";
import { kindNodes } from "../../components/kind/nodes";
import type { NodePool } from "../../components/kind/pools";
import { engineBinaries } from "./binaries";
import { ControlPlane, startControlPlane } from "./controlPlane";
import { PulumiEnvironment, pulumiEnvironment } from "./stacks";

/** The control plane and the Pulumi environment, once the file's `before` hook has run. */
export interface EngineFixture {
  readonly cp: ControlPlane;
  readonly env: PulumiEnvironment;
}

/** Registers the hooks that start and stop one engine for the calling test file. */
export function engineFixture(clusterName: string, workerPools: NodePool[]): EngineFixture {
  let cp: ControlPlane | undefined;
  let env: PulumiEnvironment | undefined;
  before(async () => {
    // No skip: a tier that cannot run fails, saying why.
    const binaries = engineBinaries();
    cp = await startControlPlane(
      binaries,
      kindNodes(clusterName, kindConfigInputOf({ clusterName, workerPools })),
    );
    env = await pulumiEnvironment(binaries);
  });
  after(async () => {
    await cp?.stop();
    env?.dispose();
  });
  return {
    get cp() {
      assert.ok(cp, "the engine's control plane is started in a before hook");
      return cp;
    },
    get env() {
      assert.ok(env, "the engine's Pulumi environment is made in a before hook");
      return env;
    },
  };
}
