/**
 * The real engine keeps a fleet deployed before `RemoteBuildkitd` was renamed `BuildkitdFleet`: a
 * stack whose state still carries the old type token previews no change (the alias maps every URN),
 * and its next `up` moves the state to the new token without touching a Kubernetes object.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildkitdFleet } from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { BUILDER_POOL } from "../../stacks/demoArgs";
import { securedNamespace } from "../../stacks/namespaces";
import { engineFixture } from "./fixture";
import { engineProvider } from "./programs";

const NEW_TYPE = "earthly-kubernetes:index:BuildkitdFleet";
const OLD_TYPE = "earthly-kubernetes:index:RemoteBuildkitd";
const NAMESPACE = "rename-check";

const engine = engineFixture("rename", [BUILDER_POOL]);

test("a stack deployed under the old type token keeps its fleet: no change previewed, nothing replaced", async () => {
  const s = await engine.env.stack("rename", async () => {
    const k8s = { provider: engineProvider(engine.cp) };
    const namespace = securedNamespace(NAMESPACE, "privileged", k8s);
    const fleet = new BuildkitdFleet(
      "buildkitd",
      { namespace: NAMESPACE, insecureDisableTls: true, scheduling: schedulingForPool(BUILDER_POOL) },
      { ...k8s, dependsOn: [namespace] },
    );
    return { host: fleet.buildkitHost };
  });
  await s.up();
  const uid = engine.cp.kubectl([
    "--namespace",
    NAMESPACE,
    "get",
    "statefulset/buildkitd",
    "-o",
    "jsonpath={.metadata.uid}",
  ]);

  // The state as the package's 0.1.0 previews wrote it: the component and its children under the old token.
  const state = await s.exportStack();
  const text = JSON.stringify(state.deployment);
  assert.ok(text.includes(NEW_TYPE));
  const renamed = text.split(NEW_TYPE).join(OLD_TYPE);
  await s.importStack({ version: state.version, deployment: JSON.parse(renamed) as unknown });
  assert.ok(
    !JSON.stringify((await s.exportStack()).deployment).includes(NEW_TYPE),
    "the old state is in place",
  );

  const preview = await s.preview();
  const changed = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
  assert.deepEqual(Object.fromEntries(changed), {}, "the alias maps every old URN to its new one");

  await s.up();
  assert.ok(
    !JSON.stringify((await s.exportStack()).deployment).includes(OLD_TYPE),
    "state moved to the new token",
  );
  assert.equal(
    engine.cp.kubectl([
      "--namespace",
      NAMESPACE,
      "get",
      "statefulset/buildkitd",
      "-o",
      "jsonpath={.metadata.uid}",
    ]),
    uid,
    "the same StatefulSet",
  );
  await s.destroy();
});
