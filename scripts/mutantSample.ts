/**
 * The pure parts of the mutant sampler (scripts/mutants.ts): which mutants a seed picks, how one is
 * applied to its file, and which tests to try first. The mutants themselves come from Stryker's
 * instrumenter, so the sample is not chosen by whoever wrote the tests.
 */
import { mulberry32 } from "../bench/warmCacheModel";

/** A position as Stryker's instrumenter reports it: line and column both from 0. */
export interface SourcePosition {
  line: number;
  column: number;
}

/** One mutant: where in which file, and the code that replaces that span. */
export interface Mutant {
  file: string;
  mutator: string;
  replacement: string;
  start: SourcePosition;
  end: SourcePosition;
}

/** A stable order for mutants: by file, then position, then replacement. */
export function compareMutants(a: Mutant, b: Mutant): number {
  return (
    a.file.localeCompare(b.file) ||
    a.start.line - b.start.line ||
    a.start.column - b.start.column ||
    a.end.line - b.end.line ||
    a.end.column - b.end.column ||
    a.mutator.localeCompare(b.mutator) ||
    a.replacement.localeCompare(b.replacement)
  );
}

/**
 * `count` mutants drawn without replacement by `seed` (a partial Fisher-Yates shuffle over the
 * mutants in their stable order), returned in that order. The same mutants and seed give the same
 * sample whatever order they were listed in.
 */
export function sampleMutants(mutants: readonly Mutant[], seed: number, count: number): Mutant[] {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`count must be a positive integer, got ${count}`);
  const pool = [...mutants].sort(compareMutants);
  const random = mulberry32(seed);
  const picked = Math.min(count, pool.length);
  for (let i = 0; i < picked; i++) {
    const j = i + Math.floor(random() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j], pool[i]];
  }
  return pool.slice(0, picked).sort(compareMutants);
}

/** The offset in `source` of a Stryker position; throws when the position is not in the text. */
export function offsetOf(source: string, at: SourcePosition): number {
  const lines = source.split("\n");
  if (at.line < 0 || at.line >= lines.length)
    throw new Error(`line ${at.line} is outside 0..${lines.length - 1}`);
  if (at.column < 0 || at.column > lines[at.line].length)
    throw new Error(`column ${at.column} is outside line ${at.line} (length ${lines[at.line].length})`);
  let offset = 0;
  for (let i = 0; i < at.line; i++) offset += lines[i].length + 1;
  return offset + at.column;
}

/** The file's text with the mutant's span replaced. */
export function applyMutant(source: string, mutant: Mutant): string {
  const from = offsetOf(source, mutant.start);
  const to = offsetOf(source, mutant.end);
  if (to < from) throw new Error(`the mutant ends before it starts in ${mutant.file}`);
  return source.slice(0, from) + mutant.replacement + source.slice(to);
}

/** What the mutant changes, on one line for a report: `file:line:column mutator: old -> new` (from 1). */
export function describeMutant(source: string, mutant: Mutant): string {
  const old = source.slice(offsetOf(source, mutant.start), offsetOf(source, mutant.end));
  const oneLine = (text: string) => {
    const flat = text.replace(/\s+/g, " ");
    return flat.length > 80 ? `${flat.slice(0, 77)}...` : flat;
  };
  return `${mutant.file}:${mutant.start.line + 1}:${mutant.start.column + 1} ${mutant.mutator}: ${oneLine(old)} -> ${oneLine(mutant.replacement)}`;
}

/**
 * The test files to run first for a mutant in `file`: those named for it (`platform.test.ts` and
 * `platformX.test.ts` for `jobs/platform.ts`) and those that import it by its path (the import ends
 * with its folder and base name). If none fails, the whole unit tier runs: this order only makes a
 * kill cheaper, it never decides one.
 */
export function testsFirst(file: string, tests: ReadonlyMap<string, string>): string[] {
  const [folder, base] = file.replace(/\.ts$/, "").split("/").slice(-2);
  const imports = new RegExp(`from "(?:\\.\\.?/)+(?:[\\w-]+/)*${folder}/${base}"`);
  return [...tests.keys()]
    .filter((name) => name.split("/").pop()?.startsWith(base) || imports.test(tests.get(name) ?? ""))
    .sort();
}
