/**
 * Pure helpers of `evaluationTime.ts`: the child's report, the summary per stack size, the flatness target
 * and the Markdown table. Nothing here touches Pulumi, so it loads fast and can be tested on its own.
 */

/** What one child process reports for one stack size. */
export interface ChildResult {
  /** Fleets (each a `RemoteBuildkitd` plus one `EarthlyRemoteJob`) in the stack. */
  fleets: number;
  /** Resources the mocks saw registered (components and their children). */
  resources: number;
  /** Milliseconds from the first constructor call to the last registration or awaited output. */
  evaluationMs: number;
  /** Milliseconds spent in the constructors alone (synchronous part of the program). */
  constructMs: number;
  /** Milliseconds loading `@pulumi/pulumi`, `@pulumi/kubernetes` and the components (not in `evaluationMs`). */
  importMs: number;
}

/** The median of a non-empty list (mean of the two middle values for an even length). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new Error("median of an empty list");
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Medians over the runs of one stack size. */
export interface SizeSummary {
  fleets: number;
  runs: number;
  /** Resources registered; the same in every run, or `undefined` if the runs disagree. */
  resources: number | undefined;
  evaluationMs: number;
  constructMs: number;
  importMs: number;
  msPerResource: number;
  /** Evaluation time of each run, in run order. */
  allEvaluationMs: number[];
}

export function summarize(fleets: number, results: readonly ChildResult[]): SizeSummary {
  const counts = new Set(results.map((r) => r.resources));
  return {
    fleets,
    runs: results.length,
    resources: counts.size === 1 ? results[0].resources : undefined,
    evaluationMs: median(results.map((r) => r.evaluationMs)),
    constructMs: median(results.map((r) => r.constructMs)),
    importMs: median(results.map((r) => r.importMs)),
    msPerResource: median(results.map((r) => r.evaluationMs / r.resources)),
    allEvaluationMs: results.map((r) => r.evaluationMs),
  };
}

/**
 * The flatness target: the cost per resource of the large stack is at most `factor` times that of the
 * reference stack. A cheaper large stack passes (fixed costs weigh less there).
 */
export function flatness(
  reference: SizeSummary,
  large: SizeSummary,
  factor: number,
): { ratio: number; pass: boolean } {
  const ratio = large.msPerResource / reference.msPerResource;
  return { ratio, pass: Number.isFinite(ratio) && ratio <= factor };
}
