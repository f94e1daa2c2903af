/**
 * A seeded sample of mutants, run against the unit tier:
 * `npm run mutants -- --seed N [--count 40] [--operators all|stryker|near-miss]`.
 *
 * Stryker's instrumenter lists every mutant its operators make in `components/` and `stacks/` (at
 * the committed HEAD), and nearMissMutants.ts adds the near-misses it does not make (a number one
 * off, an array member dropped); the seed picks `count` of them, so no one chooses the lines. Each
 * runs in a scratch worktree under ~/.cache/earthly-kubernetes/mutants: first the type check (a
 * mutant that does not type-check is reported as such and left out of the score, as Stryker does;
 * an unused name is allowed), then the tests named for or importing its file, then, if those pass,
 * the rest of the unit tier. A run past 15 minutes counts as killed (a loop the mutant made). Which
 * survivors are equivalent stays a reader's judgment: each is printed with its change.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { Mutant, applyMutant, describeMutant, sampleMutants, testsFirst } from "./mutantSample";
import { nearMissMutants } from "./nearMissMutants";

type Outcome = "killed" | "survived" | "type error";

interface Result {
  /** One line for the reader (file:line:column, operator, old -> new, shortened). */
  mutant: string;
  /** The mutant in full, to apply again. */
  applied: Mutant;
  outcome: Outcome;
  killedBy?: string;
  seconds: number;
}

const repo = path.resolve(__dirname, "..");
const work = path.join(os.homedir(), ".cache", "earthly-kubernetes", "mutants");

function run(command: string, args: string[], cwd: string): { ok: boolean; out: string } {
  const r = spawnSync(command, args, {
    cwd,
    encoding: "utf8",
    timeout: 900_000,
    maxBuffer: 256 * 1024 * 1024,
  });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

const OPERATORS = ["all", "stryker", "near-miss"] as const;
type Operators = (typeof OPERATORS)[number];

/** The command line, read with Node's parseArgs (an unknown or misspelt option is refused). */
function options(): { seed: number; count: number; operators: Operators } {
  const { values } = parseArgs({
    options: {
      seed: { type: "string" },
      count: { type: "string", default: "40" },
      operators: { type: "string", default: "all" },
    },
  });
  const whole = (name: string, text: string | undefined): number => {
    if (text === undefined || !/^[0-9]{1,9}$/.test(text))
      throw new Error(`--${name} needs a whole number (up to 9 digits), got ${text ?? "nothing"}`);
    return Number(text);
  };
  const operators = OPERATORS.find((o) => o === values.operators);
  if (operators === undefined)
    throw new Error(`--operators must be one of ${OPERATORS.join(", ")}, got ${values.operators}`);
  return { seed: whole("seed", values.seed), count: whole("count", values.count), operators };
}

/** The committed sources to mutate (paths relative to the repository). */
function sourceFiles(tree: string): string[] {
  const listed = run("git", ["ls-files", "components", "stacks"], tree);
  return listed.out
    .split("\n")
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .sort();
}

/** Every mutant the chosen operators make in `files`. */
async function allMutants(tree: string, files: string[], chosen: Operators): Promise<Mutant[]> {
  const nearMiss =
    chosen === "stryker"
      ? []
      : files.flatMap((name) => nearMissMutants(name, fs.readFileSync(path.join(tree, name), "utf8")));
  return chosen === "near-miss" ? nearMiss : [...(await strykerMutants(tree, files)), ...nearMiss];
}

/** Every mutant Stryker's operators make in `files`. */
async function strykerMutants(tree: string, files: string[]): Promise<Mutant[]> {
  // Stryker's packages are ES modules: loaded with import(), which CommonJS output would turn into require().
  const load = new Function("specifier", "return import(specifier)") as (s: string) => Promise<StrykerModule>;
  const { Instrumenter } = await load("@stryker-mutator/instrumenter");
  const quiet = () => undefined;
  const logger = { isTraceEnabled: () => false, isDebugEnabled: () => false, isInfoEnabled: () => false };
  const instrumenter = new Instrumenter({
    ...logger,
    trace: quiet,
    debug: quiet,
    info: quiet,
    warn: quiet,
    error: quiet,
    fatal: quiet,
  });
  const result = await instrumenter.instrument(
    files.map((name) => ({ name, content: fs.readFileSync(path.join(tree, name), "utf8"), mutate: true })),
    { plugins: null, excludedMutations: [], ignorers: [], noHeader: true },
  );
  return result.mutants.map((m) => ({
    file: m.fileName,
    mutator: m.mutatorName,
    replacement: m.replacement,
    start: m.location.start,
    end: m.location.end,
  }));
}

/** The part of Stryker's instrumenter this uses (its package is an ES module, loaded at run time). */
interface StrykerModule {
  Instrumenter: new (logger: object) => {
    instrument(
      files: { name: string; content: string; mutate: boolean }[],
      options: object,
    ): Promise<{ mutants: StrykerMutant[] }>;
  };
}

interface StrykerMutant {
  fileName: string;
  mutatorName: string;
  replacement: string;
  location: { start: Mutant["start"]; end: Mutant["end"] };
}

/** A fresh detached worktree of HEAD, with the repository's node_modules. */
function scratchTree(): string {
  const tree = path.join(work, "tree");
  run("git", ["worktree", "remove", "--force", tree], repo);
  fs.rmSync(tree, { recursive: true, force: true });
  fs.mkdirSync(work, { recursive: true });
  const added = run("git", ["worktree", "add", "--detach", tree, "HEAD"], repo);
  if (!added.ok) throw new Error(`git worktree add failed: ${added.out}`);
  fs.symlinkSync(path.join(repo, "node_modules"), path.join(tree, "node_modules"));
  return tree;
}

function tryMutant(
  tree: string,
  mutant: Mutant,
  tests: ReadonlyMap<string, string>,
): Omit<Result, "mutant" | "applied"> {
  const started = Date.now();
  const seconds = () => Math.round((Date.now() - started) / 1000);
  // Unused names are not type errors: a mutant that leaves a variable unread is still a program.
  const unusedAllowed = ["--noUnusedLocals", "false", "--noUnusedParameters", "false"];
  const typed = run("npx", ["tsc", "--noEmit", "-p", "tsconfig.json", ...unusedAllowed], tree);
  if (!typed.ok) return { outcome: "type error", seconds: seconds() };
  const first = testsFirst(mutant.file, tests);
  const node = (files: string[]) => run("npx", ["tsx", "--test", "--test-concurrency=2", ...files], tree);
  if (first.length > 0 && !node(first).ok)
    return { outcome: "killed", killedBy: first.join(" "), seconds: seconds() };
  const rest = [...tests.keys()].filter((t) => !first.includes(t));
  if (!node(rest).ok) return { outcome: "killed", killedBy: "the rest of the unit tier", seconds: seconds() };
  return { outcome: "survived", seconds: seconds() };
}

async function main(): Promise<void> {
  const { seed, count, operators: chosen } = options();
  const tree = scratchTree();
  const head = run("git", ["rev-parse", "--short", "HEAD"], tree).out.trim();
  const mutants = await allMutants(tree, sourceFiles(tree), chosen);
  const sample = sampleMutants(mutants, seed, count);
  console.log(
    `# ${mutants.length} mutants (operators: ${chosen}) in components/ and stacks/ at ${head}; seed ${seed} picks ${sample.length}`,
  );
  const tests = new Map(
    fs
      .readdirSync(path.join(tree, "test"))
      .filter((f) => f.endsWith(".test.ts"))
      .map((f) => [`test/${f}`, fs.readFileSync(path.join(tree, "test", f), "utf8")] as const),
  );
  const results: Result[] = [];
  for (const [i, mutant] of sample.entries()) {
    const file = path.join(tree, mutant.file);
    const source = fs.readFileSync(file, "utf8");
    const description = describeMutant(source, mutant);
    fs.writeFileSync(file, applyMutant(source, mutant));
    try {
      const result = { mutant: description, applied: mutant, ...tryMutant(tree, mutant, tests) };
      results.push(result);
      console.log(`${i + 1}/${sample.length} ${result.outcome} (${result.seconds} s) ${description}`);
    } finally {
      fs.writeFileSync(file, source);
    }
  }
  const scored = results.filter((r) => r.outcome !== "type error");
  const killed = scored.filter((r) => r.outcome === "killed").length;
  console.log(
    `# killed ${killed} of ${scored.length} that type-check; ${results.length - scored.length} do not`,
  );
  const report = path.join(work, `seed-${seed}-${chosen}-${head}.json`);
  fs.writeFileSync(
    report,
    JSON.stringify({ head, seed, count, operators: chosen, total: mutants.length, results }, null, 1),
  );
  console.log(`# report: ${report}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
