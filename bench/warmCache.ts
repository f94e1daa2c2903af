/**
 * Warm-cache model: ClientIP session affinity vs rendezvous pinning on a buildkitd fleet.
 *
 *   npx tsx bench/warmCache.ts [--seed N] [--repositories R] [--builds B]
 *
 * Prints a Markdown report (assumptions, machine, tables, PASS/FAIL per target), writes the same Markdown to
 * `bench/results/warm-cache.md`, and exits non-zero if a target fails. It is a seeded model of kube-proxy's
 * behaviour (see `warmCacheModel.ts`), not a timed test and not a measurement of a cluster: the same seed
 * gives the same tables on every run and machine.
 */

import { parseArgs } from "node:util";
import { machineSection, markdownTable, publishReport, targetsSection, verdict } from "./report";
import { fleetNames } from "../components/fleet/names";
import { pickInstance } from "../components/fleet/pinning";
import {
  DEFAULT_SEED,
  expectedClientIpWarmHits,
  type Popularity,
  reassignment,
  repositoryNames,
  simulateWarmHits,
} from "./warmCacheModel";

const FLEET = "buildkitd";
const NAMESPACE = "earthly";
const INSTANCE_COUNTS = [2, 4, 8];
const POPULARITIES: Popularity[] = ["uniform", "zipf"];
const MOVE_KEYS = 10_000;
/** Pinning must find a warm cache for at least this share of builds after each repository's first. */
const PINNING_WARM_TARGET = 0.95;
/** Allowed distance from 1/N (ClientIP) and from 1/(N+1) (keys moved on scale-up). */
const TOLERANCE = 0.05;
/** Allowed distance between the simulated and the analytic ClientIP warm-hit ratio (model self-check). */
const MODEL_TOLERANCE = 0.03;

function parseOptions(): { seed: number; repositories: number; builds: number } {
  const { values } = parseArgs({
    options: {
      seed: { type: "string", default: String(DEFAULT_SEED) },
      repositories: { type: "string", default: "20" },
      builds: { type: "string", default: "2000" },
    },
  });
  const toInt = (raw: string, name: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 0)
      throw new Error(`--${name} must be a non-negative integer, got ${raw}`);
    return n;
  };
  return {
    seed: toInt(values.seed, "seed"),
    repositories: toInt(values.repositories, "repositories"),
    builds: toInt(values.builds, "builds"),
  };
}

const percent = (x: number): string => `${(x * 100).toFixed(1)}%`;
/**
 * `pickInstance`, remembering its answers per instance list: the scale-up and loss tables ask about the same
 * lists several times. The answers are exactly `pickInstance`'s.
 */
function memoizedPick(): (key: string, instances: readonly string[]) => string {
  const byList = new Map<string, Map<string, string>>();
  return (key, list) => {
    const id = list.join("\n");
    let picks = byList.get(id);
    if (picks === undefined) byList.set(id, (picks = new Map()));
    let pick = picks.get(key);
    if (pick === undefined) picks.set(key, (pick = pickInstance(key, list)));
    return pick;
  };
}

function instances(replicas: number): string[] {
  return fleetNames({ fleetName: FLEET, namespace: NAMESPACE, replicas }).instanceNames;
}

function main(): void {
  const started = performance.now();
  const { seed, repositories, builds } = parseOptions();
  const checks: { what: string; pass: boolean }[] = [];

  // Warm-cache hits.
  const warmRows: string[][] = [];
  for (const popularity of POPULARITIES) {
    for (const n of INSTANCE_COUNTS) {
      const sim = simulateWarmHits({ repositories, builds, instances: n, popularity, seed });
      const c = sim.clientIp.tally;
      const r = sim.rendezvous.tally;
      const expectedWarm = expectedClientIpWarmHits(sim.buildsPerRepository, n) / c.eligible;
      const scenario = `${popularity}, N=${n}`;

      const clientPass = Math.abs(c.hotRatio - 1 / n) <= TOLERANCE;
      const modelPass = Math.abs(c.warmRatio - expectedWarm) <= MODEL_TOLERANCE;
      const pinPass = r.warmRatio >= PINNING_WARM_TARGET;
      checks.push(
        {
          what: `${scenario}: ClientIP lands on the previous build's instance ${percent(c.hotRatio)}, 1/N = ${percent(1 / n)} ± ${TOLERANCE * 100}`,
          pass: clientPass,
        },
        {
          what: `${scenario}: ClientIP warm-hit ${percent(c.warmRatio)} matches the analytic ${percent(expectedWarm)} ± ${MODEL_TOLERANCE * 100} (model self-check)`,
          pass: modelPass,
        },
        {
          what: `${scenario}: rendezvous warm-hit ${percent(r.warmRatio)} ≥ ${percent(PINNING_WARM_TARGET)}`,
          pass: pinPass,
        },
      );
      warmRows.push(
        [
          popularity,
          String(n),
          "ClientIP affinity",
          String(c.eligible),
          percent(c.hotRatio),
          percent(c.warmRatio),
          percent(expectedWarm),
          String(c.coldBuilds),
          c.cacheCopiesPerRepository.toFixed(2),
          `previous ≈ 1/N = ${percent(1 / n)}`,
          verdict(clientPass && modelPass),
        ],
        [
          popularity,
          String(n),
          "rendezvous pinning",
          String(r.eligible),
          percent(r.hotRatio),
          percent(r.warmRatio),
          "100.0%",
          String(r.coldBuilds),
          r.cacheCopiesPerRepository.toFixed(2),
          `warm ≥ ${percent(PINNING_WARM_TARGET)}`,
          verdict(pinPass),
        ],
      );
    }
  }

  // Keys moved when the fleet scales up by one.
  const keys = repositoryNames(MOVE_KEYS);
  const pick = memoizedPick();
  const scaleRows: string[][] = [];
  for (let n = 2; n <= 8; n++) {
    const moves = reassignment(keys, instances(n), instances(n + 1), pick);
    const ideal = 1 / (n + 1);
    const allToNew = moves.movedToAdded === moves.moved;
    const pass = Math.abs(moves.fraction - ideal) <= TOLERANCE && allToNew;
    checks.push({
      what: `scale ${n}→${n + 1}: moved ${percent(moves.fraction)} (ideal ${percent(ideal)} ± ${TOLERANCE * 100}), all to the new instance: ${allToNew}`,
      pass,
    });
    scaleRows.push([
      `${n} → ${n + 1}`,
      String(moves.moved),
      moves.fraction.toFixed(4),
      ideal.toFixed(4),
      (moves.fraction - ideal).toFixed(4),
      `${moves.movedToAdded} / ${moves.moved}`,
      verdict(pass),
    ]);
  }

  // Keys moved when one instance is lost.
  const lossCases: [number, number][] = [
    [2, 0],
    [2, 1],
    [4, 0],
    [4, 1],
    [4, 2],
    [4, 3],
    [8, 0],
    [8, 3],
    [8, 7],
  ];
  const lossRows: string[][] = [];
  for (const [n, k] of lossCases) {
    const fleet = instances(n);
    const moves = reassignment(
      keys,
      fleet,
      fleet.filter((_, i) => i !== k),
      pick,
    );
    const pass = moves.moved === moves.onRemoved && moves.movedFromRemoved === moves.moved;
    checks.push({
      what: `lose ${fleet[k]} of ${n}: moved ${moves.moved}, held by it ${moves.onRemoved}, only its keys moved`,
      pass,
    });
    lossRows.push([
      `${fleet[k]} of ${n}`,
      String(moves.onRemoved),
      String(moves.moved),
      moves.fraction.toFixed(4),
      (1 / n).toFixed(4),
      String(moves.moved - moves.movedFromRemoved),
      verdict(pass),
    ]);
  }

  const md = [
    "# Warm-cache model: ClientIP affinity vs rendezvous pinning",
    "",
    `Generated by \`npx tsx bench/warmCache.ts\` with seed ${seed}, R = ${repositories} repositories, B = ${builds} builds. ` +
      "This is a seeded model of kube-proxy's behaviour and of per-instance caches, not a measurement of a cluster: " +
      "the same seed gives the same numbers on every run and machine.",
    "",
    "## Assumptions",
    "",
    "- Every build is a new client Job, so a new pod with a new IP. The model assumes that kube-proxy, for a client IP " +
      "it has no affinity entry for, picks a ready endpoint of the ClusterIP Service uniformly at random and " +
      "independently of the repository; `sessionAffinity: ClientIP` then pins that IP for the rest of this build only.",
    `- Rendezvous pinning: the client dials \`pickInstance(repository, instanceNames)\` directly, with the instance names from \`fleetNames()\` (\`${FLEET}-0\` …); all instances are up.`,
    "- Each instance keeps its own cache, one set of repositories per instance. Caches are never evicted: once an " +
      "instance has built a repository it stays warm for it.",
    "- Builds run one after another; the repository of each build is drawn independently, uniformly over the R " +
      "repositories, or with a Zipf-like skew (the k-th repository has weight 1/k).",
    "- Warm-hit ratio: of the builds after each repository's first build in the fleet (the first is cold under any " +
      "strategy and is not counted), the share that lands on an instance that has already built that repository.",
    "- Same-as-previous ratio: of the same builds, the share that lands on the instance that ran that repository's " +
      "previous build, i.e. the one holding its newest layers. For ClientIP this is 1/N. Because caches are never " +
      "evicted, ClientIP's warm-hit ratio instead rises towards 100% as every instance ends up caching every " +
      "repository (about N cold builds and N cache copies per repository); the expected column is the analytic " +
      "value, the sum over builds of 1 − (1 − 1/N)^(j−1) for the j-th build of a repository.",
    "- PRNG: mulberry32; the build order and kube-proxy's choices use separate streams derived from the seed.",
    "",
    ...machineSection(),
    `## Warm-cache hits (R = ${repositories}, B = ${builds})`,
    "",
    markdownTable(
      [
        "Popularity",
        "N",
        "Strategy",
        "Builds after first",
        "Same as previous",
        "Warm-hit",
        "Expected warm-hit",
        "Cold builds",
        "Copies / repo",
        "Target",
        "Result",
      ],
      "lrlrrrrrrll",
      warmRows,
    ),
    "",
    `## Keys moved when scaling N → N+1 (${MOVE_KEYS.toLocaleString("en-US")} keys)`,
    "",
    markdownTable(
      ["N → N+1", "Moved", "Fraction", "Ideal 1/(N+1)", "Difference", "Moved to the new instance", "Result"],
      "lrrrrrl",
      scaleRows,
    ),
    "",
    `## Keys moved when one instance is lost (${MOVE_KEYS.toLocaleString("en-US")} keys)`,
    "",
    markdownTable(
      [
        "Lost instance",
        "Keys it held",
        "Moved",
        "Fraction",
        "1/N",
        "Moved from a surviving instance",
        "Result",
      ],
      "lrrrrrl",
      lossRows,
    ),
    "",
    ...targetsSection(checks),
  ].join("\n");

  publishReport(
    "warm-cache.md",
    md,
    checks,
    `Seed ${seed}, ${((performance.now() - started) / 1000).toFixed(2)} s. `,
  );
}

main();
