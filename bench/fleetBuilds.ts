/**
 * Real builds on the real fleet, side by side in one run: Earthly's buildkitd (2 instances, mTLS,
 * `persistentCache` on local volumes) on the real-node tier's node, and remote client Jobs
 * (`EarthlyRemoteJob` with buildctl from the daemon's own BuildKit fork) building
 * test/node/workload/Dockerfile, heavy enough to matter (four steps hashing MEGABYTES each).
 *
 *   npm run engine:build && npm run node:build && npx tsx bench/fleetBuilds.ts [--megabytes 1024] [--repeats 10]
 *
 * Measured, each from a fresh client pod (a new pod IP): a cold build; the same build again on the
 * same instance; on the other instance; then, for a project of its own each, `--repeats` builds
 * after a first one, pinned by `cacheKey` versus through the fleet's Service (`sessionAffinity:
 * ClientIP`) alone: how many were served warm (no step ran) and the median time. Build time is
 * measured inside the client pod; "end to end" adds `pulumi up` and the pod's start.
 *
 * Writes `bench/results/fleet-builds.md`; exits non-zero when a target fails.
 */
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { NODE_VERSIONS } from "../test/node/binaries";
import {
  CACHE_CLASS,
  ClientResult,
  ClientRun,
  cacheKeyFor,
  deployBuildBench,
  namesOf,
} from "../test/node/buildClient";
import { startBuilderNode } from "../test/node/fixture";
import { Check, machineSection, markdownTable, publishReport, targetsSection } from "./report";

const { values } = parseArgs({
  options: { megabytes: { type: "string", default: "1024" }, repeats: { type: "string", default: "10" } },
});
const MEGABYTES = Number(values.megabytes ?? "1024");
const REPEATS = Number(values.repeats ?? "10");
const REPLICAS = 2;
const NAMES = namesOf(REPLICAS);
const keyFor = (project: string, i: number) => cacheKeyFor(project, i, NAMES);

interface Row {
  what: string;
  result: ClientResult;
  endToEndSeconds: number;
  instance: string;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const seconds = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const started = performance.now();
  const node = await startBuilderNode();
  const rows: Row[] = [];
  try {
    const bench = await deployBuildBench(
      node,
      { replicas: REPLICAS, persistentCache: { size: "8Gi", storageClassName: CACHE_CLASS } },
      "bench",
    );
    try {
      const ids = bench.workerIds();
      const instanceOf = (worker: string) =>
        NAMES.instanceNames[ids.indexOf(worker)] ?? `unknown (${worker})`;
      // Each project has its own inputs (so its own cache keys): MEGABYTES plus its number, so
      // every project's steps cost the same.
      const run = async (what: string, project: number, client: ClientRun): Promise<ClientResult> => {
        const t = performance.now();
        const result = await bench.run({ ...client, megabytes: MEGABYTES + project });
        if (result.status !== 0) throw new Error(`${what}: the build failed:\n${result.log}`);
        rows.push({
          what,
          result,
          endToEndSeconds: (performance.now() - t) / 1000,
          instance: instanceOf(result.worker),
        });
        process.stderr.write(
          `${what}: ${result.seconds} s on ${instanceOf(result.worker)}, steps run ${result.stepsRun.join(",") || "none"}\n`,
        );
        return result;
      };
      await run("cold, pinned to instance 0", 0, { cacheKey: keyFor("a", 0) });
      await run("repeat on the same instance", 0, { cacheKey: keyFor("a", 0) });
      await run("repeat on the other instance", 0, { cacheKey: keyFor("a", 1) });
      await run("pinned: first build", 1, { cacheKey: keyFor("b", 0) });
      for (let n = 1; n <= REPEATS; n++) await run(`pinned: repeat ${n}`, 1, { cacheKey: keyFor("b", 0) });
      await run("Service: first build", 2, {});
      for (let n = 1; n <= REPEATS; n++) await run(`Service: repeat ${n}`, 2, {});
    } finally {
      await bench.destroy();
    }
  } finally {
    await node.stop();
  }
  report(rows, (performance.now() - started) / 1000);
}

function report(rows: Row[], totalSeconds: number): void {
  const warm = (r: Row) => r.result.stepsRun.length === 0;
  const by = (prefix: string) => rows.filter((r) => r.what.startsWith(prefix));
  const [cold, same, other] = rows;
  const pinned = by("pinned: repeat");
  const service = by("Service: repeat");
  const share = (rs: Row[]) => `${rs.filter(warm).length} of ${rs.length}`;
  const checks: Check[] = [
    {
      what: `the cold build takes 20 to 60 s (${seconds(cold.result.seconds)} s)`,
      pass: cold.result.seconds >= 20 && cold.result.seconds <= 60,
    },
    { what: "a repeat on the same instance runs no step", pass: warm(same) },
    {
      what: "a repeat on the other instance runs every step (caches are per instance)",
      pass: other.result.stepsRun.length === 4,
    },
    { what: `every pinned repeat is served warm (${share(pinned)})`, pass: pinned.every(warm) },
    {
      what: `pinning serves at least as many repeats warm as the Service alone (${share(pinned)} against ${share(service)})`,
      pass: pinned.filter(warm).length >= service.filter(warm).length,
    },
  ];
  const table = markdownTable(
    ["Build", "Instance", "Steps run", "Build s", "End to end s"],
    "llrrr",
    [cold, same, other, ...by("pinned:"), ...by("Service:")].map((r) => [
      r.what,
      r.instance,
      r.result.stepsRun.length === 0 ? "none (cache)" : String(r.result.stepsRun.length),
      seconds(r.result.seconds),
      seconds(r.endToEndSeconds),
    ]),
  );
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const summary = markdownTable(
    [
      `${REPEATS} repeats from fresh pods`,
      "Served warm",
      "Median build s",
      "Sum of build s",
      "Median end to end s",
      "Instances",
    ],
    "lrrrrl",
    (
      [
        ["pinned by cacheKey", pinned],
        ["Service (ClientIP) alone", service],
      ] as const
    ).map(([label, list]) => [
      label,
      share(list),
      seconds(median(list.map((r) => r.result.seconds))),
      seconds(sum(list.map((r) => r.result.seconds))),
      seconds(median(list.map((r) => r.endToEndSeconds))),
      NAMES.instanceNames.map((n) => `${n}: ${list.filter((r) => r.instance === n).length}`).join(", "),
    ]),
  );
  const markdown = [
    "# Real builds on the real fleet",
    "",
    "Written by `bench/fleetBuilds.ts` (how to rerun: its header). One run: Earthly's buildkitd",
    `${NODE_VERSIONS.earthly} on the real-node tier, ${REPLICAS} instances with mTLS and \`persistentCache\`, each build`,
    `from a fresh \`EarthlyRemoteJob\` pod running buildctl; the workload hashes ${MEGABYTES} MiB in each of`,
    "four steps. Build seconds are measured inside the client pod; end to end adds `pulumi up` and the",
    `pod's start. The whole run took ${seconds(totalSeconds)} s.`,
    "",
    ...machineSection(),
    "## Side by side",
    "",
    summary,
    "",
    "Through the Service alone a fresh pod (a new client IP) lands on any instance, and each project is",
    "built cold once on every instance it lands on: with N instances and P projects up to N × P cold",
    "builds and N copies of every cache, against P and one with `cacheKey` pinning. The medians hide",
    "that cost; the sums show it.",
    "",
    "## Every build",
    "",
    table,
    "",
    ...targetsSection(checks),
  ].join("\n");
  publishReport("fleet-builds.md", markdown, checks, "");
}

main().catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
