/**
 * A fleet per architecture on the real engine: builder nodes of two architectures in one tainted
 * builder group (kwok nodes labelled `kubernetes.io/arch` amd64 and arm64, as their kubelets would
 * report), one `BuildkitdFleet` per architecture with the same scheduling plus `architecture`, and a
 * client per platform given both fleets. The real scheduler places each fleet's daemons on its
 * architecture only; each client picks the fleet of its platform, dials it with `--platform`, and
 * completes. (kwok runs no container: no build runs on either.)
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildkitdFleet, EarthlyRemoteJob, NodePool, TaintEffect } from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { GENERAL_POOL } from "../../stacks/demoArgs";
import { createNamespaces } from "./admission";
import { engineFixture } from "./fixture";
import { engineProvider } from "./programs";

const BUILDERS = "arch-builds";
const CLIENTS = "arch-ci";
const ARCHITECTURES = ["amd64", "arm64"] as const;

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One builder pool per architecture, with the same role label and taint. */
const pools: NodePool[] = ARCHITECTURES.map((arch) => ({
  name: `builders-${arch}`,
  labels: { "earthly.dev/role": "builder", "kubernetes.io/arch": arch },
  taints: [{ key: "earthly.dev/builder", value: "true", effect: TaintEffect.NoSchedule }],
}));

const engine = engineFixture("arch", [...pools, GENERAL_POOL]);

test("a fleet per architecture: each fleet's daemons on nodes of its architecture only, a client per platform picks its fleet and completes", async () => {
  createNamespaces(engine.cp, [
    [BUILDERS, "privileged"],
    [CLIENTS, "restricted"],
  ]);
  // The builder group as a platform team would select it: by role, not by pool or architecture.
  const builders = {
    nodeSelector: { "earthly.dev/role": "builder" },
    tolerations: [
      { key: "earthly.dev/builder", operator: "Exists" as const, effect: TaintEffect.NoSchedule },
    ],
  };
  const s = await engine.env.stack("arch", async () => {
    const k8s = { provider: engineProvider(engine.cp) };
    const outputs: { [key: string]: unknown } = {};
    const fleets = ARCHITECTURES.map(
      (architecture) =>
        new BuildkitdFleet(
          `buildkitd-${architecture}`,
          {
            namespace: BUILDERS,
            replicas: 2,
            insecureDisableTls: true,
            scheduling: { ...builders, architecture },
            clientNamespaces: [CLIENTS],
          },
          k8s,
        ),
    );
    for (const architecture of ARCHITECTURES) {
      // Every client is given both fleets; its platform picks one.
      const client = new EarthlyRemoteJob(
        `client-${architecture}`,
        {
          namespace: CLIENTS,
          target: "+build",
          fleets: fleets.map((fleet) => fleet.connection),
          platform: `linux/${architecture}`,
          scheduling: schedulingForPool(GENERAL_POOL),
          timeoutMinutes: 5,
        },
        k8s,
      );
      outputs[`${architecture}Job`] = client.jobName;
      outputs[`${architecture}Host`] = client.buildkitHost;
    }
    return outputs;
  });
  const up = await s.up();

  const nodes = (JSON.parse(engine.cp.kubectl(["get", "nodes", "-o", "json"])) as Obj).items as Obj[];
  const archOf = new Map(
    nodes.map((n) => [n.metadata.name as string, n.metadata.labels["kubernetes.io/arch"]]),
  );
  for (const architecture of ARCHITECTURES) {
    const pods = (
      JSON.parse(
        engine.cp.kubectl([
          "--namespace",
          BUILDERS,
          "get",
          "pods",
          "-l",
          `app.kubernetes.io/instance=buildkitd-${architecture}`,
          "-o",
          "json",
        ]),
      ) as Obj
    ).items as Obj[];
    assert.equal(pods.length, 2, `buildkitd-${architecture}: ${pods.length} pods`);
    for (const pod of pods) {
      // As the API server stored it, and where the real scheduler put it.
      assert.equal(pod.spec.nodeSelector["kubernetes.io/arch"], architecture);
      assert.equal(
        archOf.get(pod.spec.nodeName),
        architecture,
        `${pod.metadata.name} on ${pod.spec.nodeName}`,
      );
    }
    // The client of this platform dials its fleet with --platform, and its Job completed.
    assert.equal(
      up.outputs[`${architecture}Host`].value,
      `tcp://buildkitd-${architecture}.${BUILDERS}.svc.cluster.local:8372`,
    );
    const job = JSON.parse(
      engine.cp.kubectl([
        "--namespace",
        CLIENTS,
        "get",
        `job/${String(up.outputs[`${architecture}Job`].value)}`,
        "-o",
        "json",
      ]),
    ) as Obj;
    assert.equal(job.status.succeeded, 1, `client-${architecture}`);
    const container = job.spec.template.spec.containers[0] as Obj;
    assert.equal(container.args[0], `--platform=linux/${architecture}`);
    assert.equal(
      (container.env as Obj[]).find((e) => e.name === "EARTHLY_BUILDKIT_HOST")?.value,
      `tcp://buildkitd-${architecture}.${BUILDERS}.svc.cluster.local:8372`,
    );
  }
  await s.destroy();
});
