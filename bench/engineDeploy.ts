/**
 * Deploy time on the real-engine tier: `pulumi up` of the remote mode (namespaces, a fleet of N
 * buildkitd instances with mTLS, one client Job) against what a user would otherwise run, applying
 * the same objects with `kubectl apply --server-side` and waiting with `kubectl wait`, on the same
 * control plane, in one run. Also `pulumi preview` of the same program on an empty stack.
 *
 *   npm run engine:build && npx tsx bench/engineDeploy.ts [--sizes 1,3,10] [--rounds 2]
 *
 * The objects kubectl applies are the ones Pulumi applied, taken from the stack's state (inputs,
 * secrets decrypted), so both sides create byte-identical objects. No container runs: kwok marks
 * pods ready and Job pods complete, so this measures orchestration, not builds.
 *
 * Writes `bench/results/engine-deploy.md`; exits non-zero when a target fails.
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import * as YAML from "yaml";
import { kindConfigInputOf } from "../components/kind/kindCluster";
import { kindNodes } from "../components/kind/nodes";
import {
  BUILDER_NAMESPACE,
  BUILDER_POOL,
  CLIENT_NAMESPACE,
  FLEET_NAME,
  GENERAL_POOL,
} from "../stacks/demoArgs";
import { engineBinaries } from "../test/engine/binaries";
import { fleetPems } from "../test/engine/certificates";
import { ControlPlane, startControlPlane } from "../test/engine/controlPlane";
import { remoteProgram } from "../test/engine/programs";
import { pulumiEnvironment } from "../test/engine/stacks";
import { Check, machineSection, markdownTable, publishReport, targetsSection } from "./report";

/** `pulumi up` may take at most this multiple of kubectl's apply + wait. */
const TARGET_RATIO = 1.5;

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const { values } = parseArgs({
  options: { sizes: { type: "string", default: "1,3,10" }, rounds: { type: "string", default: "2" } },
});
const sizes = (values.sizes ?? "1,3,10").split(",").map(Number);
const rounds = Number(values.rounds ?? "2");

/** A value from `stack export --show-secrets`: secrets come back as JSON text under `plaintext`. */
function revealed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(revealed);
  if (value && typeof value === "object") {
    const o = value as Obj;
    if (typeof o.plaintext === "string" && o["4dabf18193072939515e22adb298388d"])
      return revealed(JSON.parse(o.plaintext));
    return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, revealed(v)]));
  }
  return value;
}

/** The Kubernetes objects a stack created, as Pulumi sent them, namespaces first. */
function appliedObjects(deployment: Obj): Obj[] {
  const objects = (deployment.resources as Obj[])
    // Kubernetes objects only: the provider's type is `pulumi:providers:kubernetes`.
    .filter((r) => r.custom && String(r.type).startsWith("kubernetes:"))
    .map((r) => revealed(r.inputs) as Obj)
    .filter((o) => o.kind !== undefined);
  return objects.sort((a, b) => Number(b.kind === "Namespace") - Number(a.kind === "Namespace"));
}

async function timed<T>(body: () => Promise<T>): Promise<[T, number]> {
  const start = performance.now();
  const value = await body();
  return [value, (performance.now() - start) / 1000];
}

function deleteNamespaces(cp: ControlPlane): void {
  cp.kubectl([
    "delete",
    "namespace",
    BUILDER_NAMESPACE,
    CLIENT_NAMESPACE,
    "--ignore-not-found",
    "--wait=true",
    "--timeout=120s",
  ]);
}

async function main(): Promise<void> {
  const bin = engineBinaries();
  const cluster = "earthlydemo";
  const nodes = kindNodes(
    cluster,
    kindConfigInputOf({ clusterName: cluster, workerPools: [BUILDER_POOL, GENERAL_POOL] }),
  );
  const cp = await startControlPlane(bin, nodes);
  const env = await pulumiEnvironment(bin);
  const rows: string[][] = [];
  const checks: Check[] = [];
  try {
    for (const n of sizes) {
      const pems = await fleetPems({ fleetName: FLEET_NAME, namespace: BUILDER_NAMESPACE, replicas: n });
      const ups: number[] = [];
      const kubectls: number[] = [];
      const previews: number[] = [];
      const floors: number[] = [];
      for (let round = 0; round < rounds; round++) {
        // The engine's fixed cost: CLI start, language runtime, snapshot, for a program with no resource.
        const empty = await env.stack(`floor-${n}-${round}`, async () => ({}));
        const [, floor] = await timed(() => empty.up());
        floors.push(floor);
        const stack = await env.stack(`bench-${n}-${round}`, remoteProgram(cp, { replicas: n, pems }));
        const [, preview] = await timed(() => stack.preview());
        const [up, upSeconds] = await timed(() => stack.up());
        const jobName = String(up.outputs.jobName.value);
        const objects = appliedObjects((await stack.exportStack()).deployment as Obj);
        await stack.destroy();
        deleteNamespaces(cp);

        const manifest = objects.map((o) => YAML.stringify(o)).join("---\n");
        const [, kubectlSeconds] = await timed(async () => {
          cp.kubectl(["apply", "--server-side", "--field-manager=bench", "-f", "-"], manifest);
          cp.kubectl([
            "--namespace",
            BUILDER_NAMESPACE,
            "wait",
            `--for=jsonpath={.status.readyReplicas}=${n}`,
            `statefulset/${FLEET_NAME}`,
            "--timeout=300s",
          ]);
          cp.kubectl([
            "--namespace",
            CLIENT_NAMESPACE,
            "wait",
            "--for=condition=Complete",
            `job/${jobName}`,
            "--timeout=300s",
          ]);
        });
        deleteNamespaces(cp);
        ups.push(upSeconds);
        kubectls.push(kubectlSeconds);
        previews.push(preview);
        process.stderr.write(
          `fleet ${n}, round ${round + 1}: up ${upSeconds.toFixed(1)} s, kubectl ${kubectlSeconds.toFixed(1)} s, preview ${preview.toFixed(1)} s, ${objects.length} objects\n`,
        );
      }
      const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
      const ratio = median(ups) / median(kubectls);
      const aboveFloor = (median(ups) - median(floors)) / median(kubectls);
      const list = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(" / ");
      rows.push([
        String(n),
        list(ups),
        list(kubectls),
        ratio.toFixed(2),
        list(floors),
        aboveFloor.toFixed(2),
        list(previews),
      ]);
      checks.push({
        what: `fleet of ${n}: pulumi up within ${TARGET_RATIO}x of kubectl apply + wait (median ratio ${ratio.toFixed(2)})`,
        pass: ratio <= TARGET_RATIO,
      });
    }
  } finally {
    await cp.stop();
    env.dispose();
  }
  const markdown = [
    "# Deploy time on the real-engine tier",
    "",
    "`pulumi up` of the remote mode (two namespaces, a buildkitd fleet of N with mTLS, one client Job) with the real",
    "Pulumi CLI and kubernetes provider, against `kubectl apply --server-side` of the same objects followed by",
    "`kubectl wait` (StatefulSet ready, Job complete), on the same control plane (kube-apiserver, scheduler and",
    "controller-manager, kwok nodes shaped like the demo's kind nodes). Preview is of the same program on an empty",
    "stack. Seconds, wall clock, one value per round. No container runs: this measures orchestration only.",
    "",
    ...machineSection(),
    "## Results",
    "",
    markdownTable(
      [
        "fleet",
        "pulumi up (s)",
        "kubectl apply + wait (s)",
        "ratio",
        "pulumi up, empty program (s)",
        "ratio above that floor",
        "pulumi preview (s)",
      ],
      "rrrrrrr",
      rows,
    ),
    "",
    "Ratios are of medians. The floor is `pulumi up` of a program with no resource: the CLI starting, the",
    "language runtime, the snapshot. What is left above it comes from the dependency chain (namespace, then",
    "the fleet's Secret and Services, the StatefulSet awaited until ready, then the client's Secret and",
    "ConfigMap, then the Job awaited until complete) where kubectl sends every object in one request, and from",
    "the provider's Job await, which polls where `kubectl wait` watches. The ClusterIP Service is not awaited",
    "(annotation `pulumi.com/skipAwait`): its await only polled for endpoints, took 10 of 12 s, and the",
    "StatefulSet's readiness already says the fleet serves.",
    "",
    ...targetsSection(checks),
  ].join("\n");
  publishReport("engine-deploy.md", markdown, checks, "");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
