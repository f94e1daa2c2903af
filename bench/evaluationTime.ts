/**
 * Program evaluation time under Pulumi mocks, for stacks of 1, 10 and 100 fleets.
 *
 *   npx tsx bench/evaluationTime.ts [--runs 3] [--sizes 1,10,100]
 *
 * A "fleet" is a `RemoteBuildkitd` with 2 replicas and `insecureDisableTls: true` (a TLS fleet would need
 * a real server certificate covering each fleet's names, whose cost would swamp the measurement), plus one
 * `EarthlyRemoteJob` on `fleet.connection` with a cache key. Each run of each size is a fresh child process
 * (`--child N`), so mocks and runtime state never accumulate. The child times the program from the first
 * constructor call until every registration has settled; module loading is timed apart and not counted.
 *
 * Prints a Markdown report (machine, table, PASS/FAIL), writes it to `bench/results/evaluation-time.md`,
 * and exits non-zero if the target fails: ms per resource at the largest size is at most 2x that at the
 * reference size (10 fleets), i.e. evaluation stays flat as the stack grows.
 */

import { fork } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { machineSection, markdownTable, publishReport, targetsSection } from "./report";
import { type ChildResult, flatness, type SizeSummary, summarize } from "./evaluationTimeModel";

const DEFAULT_SIZES = [1, 10, 100];
const DEFAULT_RUNS = 3;
const REFERENCE_FLEETS = 10;
/** ms per resource at the largest size may be at most this multiple of that at the reference size. */
const FLATNESS_FACTOR = 2;
const REPLICAS = 2;
const NAMESPACE = "earthly";
/** A child that has not settled by then is reported as failed. */
const CHILD_TIMEOUT_MS = 60_000;
/** Registrations are settled once the count has not moved for this many polls in a row. */
const STABLE_POLLS = 3;
const POLL_MS = 20;

// ---------------------------------------------------------------------------------------------- child

/** Resolves an Output's value (mocks never preview, so every apply runs). */
function valueOf<T>(output: { apply<U>(f: (t: T) => U): unknown }): Promise<T> {
  return new Promise((resolve) => {
    output.apply((v) => {
      resolve(v);
      return v;
    });
  });
}

async function runChild(fleets: number): Promise<ChildResult> {
  const importStart = performance.now();
  const pulumi = await import("@pulumi/pulumi");

  let registered = 0;
  let lastRegistrationAt = 0;
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        registered++;
        lastRegistrationAt = performance.now();
        const state: Record<string, unknown> = { ...args.inputs };
        // Kubernetes auto-naming, as in test/support/mocks.ts: Job and ConfigMap names come from the provider.
        if (args.type.startsWith("kubernetes:")) {
          const metadata = (args.inputs.metadata ?? {}) as Record<string, unknown>;
          state.metadata = { ...metadata, name: metadata.name ?? `${args.name}-abc123` };
        }
        return { id: args.custom ? `${args.name}-id` : undefined, state };
      },
      call(args) {
        return args.inputs;
      },
    },
    "earthly-kubernetes",
    "bench",
    false,
  );
  const { RemoteBuildkitd } = await import("../components/remoteBuildkitd");
  const { EarthlyRemoteJob } = await import("../components/earthlyRemoteJob");
  const importMs = performance.now() - importStart;

  const start = performance.now();
  const awaited: Promise<unknown>[] = [];
  for (let i = 0; i < fleets; i++) {
    const fleet = new RemoteBuildkitd(`fleet-${i}`, {
      namespace: NAMESPACE,
      replicas: REPLICAS,
      insecureDisableTls: true,
    });
    const job = new EarthlyRemoteJob(`client-${i}`, {
      namespace: NAMESPACE,
      target: "github.com/earthly/ci-example-project:main+build",
      fleet: fleet.connection,
      cacheKey: `github.com/example/repository-${i}`,
    });
    awaited.push(valueOf(fleet.connection), valueOf(job.jobName), valueOf(job.buildkitHost));
  }
  const constructMs = performance.now() - start;

  const timeout = sleep(CHILD_TIMEOUT_MS / 2, undefined, { ref: false }).then(() => {
    throw new Error(
      `${fleets} fleets: outputs unresolved after ${CHILD_TIMEOUT_MS / 2} ms (${registered} registered)`,
    );
  });
  await Promise.race([Promise.all(awaited), timeout]);
  const outputsAt = performance.now();

  // Some registrations (e.g. Secrets nobody awaits) may still be in flight: poll until the count is stable.
  let last = -1;
  for (let stable = 0; stable < STABLE_POLLS;) {
    await sleep(POLL_MS);
    if (registered === last) stable++;
    else [stable, last] = [0, registered];
  }

  return {
    fleets,
    resources: registered,
    evaluationMs: Math.max(outputsAt, lastRegistrationAt) - start,
    constructMs,
    importMs,
  };
}

// --------------------------------------------------------------------------------------------- parent

/** Runs one size in a fresh process (same Node flags, so the same TypeScript loader) and returns its report. */
function spawnChild(fleets: number): Promise<ChildResult> {
  const execArgv = process.execArgv.some((a) => a.includes("tsx"))
    ? process.execArgv
    : [...process.execArgv, "--import", "tsx"];
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ["--child", String(fleets)], {
      execArgv,
      stdio: ["ignore", "inherit", "inherit", "ipc"],
      timeout: CHILD_TIMEOUT_MS,
    });
    let result: ChildResult | undefined;
    child.on("message", (m) => (result = m as ChildResult));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      if (result && code === 0) resolve(result);
      else reject(new Error(`child for ${fleets} fleets exited with ${signal ?? `code ${code}`}`));
    });
  });
}

function parseOptions(): { child?: number; runs: number; sizes: number[] } {
  const { values } = parseArgs({
    options: {
      child: { type: "string" },
      runs: { type: "string", default: String(DEFAULT_RUNS) },
      sizes: { type: "string", default: DEFAULT_SIZES.join(",") },
    },
  });
  const toInt = (raw: string, name: string): number => {
    const n = Number(raw);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got ${raw}`);
    return n;
  };
  const sizes = values.sizes.split(",").map((s) => toInt(s.trim(), "sizes"));
  if (!sizes.includes(REFERENCE_FLEETS) || Math.max(...sizes) <= REFERENCE_FLEETS)
    throw new Error(`--sizes must include ${REFERENCE_FLEETS} and a larger size`);
  return {
    child: values.child === undefined ? undefined : toInt(values.child, "child"),
    runs: toInt(values.runs, "runs"),
    sizes: [...new Set(sizes)].sort((a, b) => a - b),
  };
}

const ms = (x: number): string => x.toFixed(1);

async function main(): Promise<void> {
  const started = performance.now();
  const { runs, sizes } = parseOptions();

  // Sizes interleaved run by run, so a slow phase of the machine hits every size alike.
  const results = new Map<number, ChildResult[]>(sizes.map((n) => [n, []]));
  for (let run = 1; run <= runs; run++) {
    for (const n of sizes) {
      const r = await spawnChild(n);
      results.get(n)?.push(r);
      process.stderr.write(
        `run ${run}/${runs}, ${n} fleets: ${r.resources} resources in ${ms(r.evaluationMs)} ms\n`,
      );
    }
  }
  const summaries = new Map<number, SizeSummary>(sizes.map((n) => [n, summarize(n, results.get(n) ?? [])]));
  const reference = summaries.get(REFERENCE_FLEETS) as SizeSummary;
  const largest = summaries.get(sizes[sizes.length - 1]) as SizeSummary;
  const flat = flatness(reference, largest, FLATNESS_FACTOR);

  // Every run must have registered the same resources per fleet, else "settled" did not hold.
  const perFleet = new Set(
    [...results.values()].flat().map((r) => (r.resources % r.fleets === 0 ? r.resources / r.fleets : NaN)),
  );
  const consistent = perFleet.size === 1 && !perFleet.has(NaN);
  const resourcesPerFleet = consistent ? [...perFleet][0] : undefined;

  const checks = [
    {
      what: `every run registered the same number of resources per fleet (${resourcesPerFleet ?? [...perFleet].join(", ")})`,
      pass: consistent,
    },
    {
      what:
        `ms per resource at ${largest.fleets} fleets (${largest.msPerResource.toFixed(3)}) is within ` +
        `${FLATNESS_FACTOR}x of that at ${reference.fleets} fleets (${reference.msPerResource.toFixed(3)}): ` +
        `ratio ${flat.ratio.toFixed(2)}`,
      pass: flat.pass,
    },
  ];

  const rows = [...summaries.values()].map((s) => [
    String(s.fleets),
    s.resources === undefined ? "varies" : String(s.resources),
    ms(s.evaluationMs),
    s.msPerResource.toFixed(3),
    ms(s.constructMs),
    ms(s.importMs),
    s.allEvaluationMs.map(ms).join(" / "),
  ]);
  const md = [
    "# Program evaluation time under Pulumi mocks",
    "",
    `Generated by \`npx tsx bench/evaluationTime.ts\`: ${runs} runs per size, medians shown. ` +
      `A fleet is a \`RemoteBuildkitd\` with ${REPLICAS} replicas and \`insecureDisableTls: true\` plus one ` +
      "`EarthlyRemoteJob` on `fleet.connection` with a `cacheKey`. TLS is off because a TLS fleet needs a real " +
      "server certificate covering its names, and making one per fleet would dominate the time measured.",
    "",
    "- Each run is a fresh Node process (`--child N`), so mocks and runtime state never carry over.",
    "- Evaluation: from the first constructor call until the last registration reached the mocks or the last " +
      "awaited output (every fleet's `connection`, every Job's `jobName` and `buildkitHost`) resolved, whichever " +
      `is later; the child then polls until the registered count is stable for ${STABLE_POLLS} × ${POLL_MS} ms ` +
      "(not counted).",
    "- Resources: every registration the mocks saw, components included.",
    "- Module load: importing `@pulumi/pulumi`, `@pulumi/kubernetes` and the components; not counted.",
    "- Small stacks pay fixed first-call costs (JIT warm-up, lazy initialisation in the SDK) over few resources, " +
      `so their ms per resource is high. The target compares ${REFERENCE_FLEETS} fleets with the largest size ` +
      `and fails only if the larger stack costs more than ${FLATNESS_FACTOR}x per resource; cheaper passes.`,
    "",
    ...machineSection(),
    "## Results",
    "",
    markdownTable(
      [
        "Fleets",
        "Resources",
        "Evaluation (ms)",
        "ms / resource",
        "Constructors (ms)",
        "Module load (ms)",
        "Runs (ms)",
      ],
      "rrrrrrl",
      rows,
    ),
    "",
    ...targetsSection(checks),
  ].join("\n");

  publishReport("evaluation-time.md", md, checks, `${((performance.now() - started) / 1000).toFixed(1)} s. `);
}

const childFleets = parseOptions().child;
if (childFleets !== undefined) {
  runChild(childFleets).then(
    (result) => process.send?.(result, () => process.exit(0)) ?? process.exit(1),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
} else {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
