import assert from "node:assert/strict";
import { test } from "node:test";
import {
  Mutant,
  applyMutant,
  describeMutant,
  offsetOf,
  sampleMutants,
  testsFirst,
} from "../scripts/mutantSample";
import { nearMissMutants } from "../scripts/nearMissMutants";

const at = (line: number, column: number) => ({ line, column });
const mutant = (file: string, line: number, replacement = "x"): Mutant => ({
  file,
  mutator: "StringLiteral",
  replacement,
  start: at(line, 0),
  end: at(line, 1),
});

test("sampleMutants: the seed decides, the listing order does not; no mutant twice; count at and past the pool", () => {
  const pool = Array.from({ length: 20 }, (_, i) => mutant(`f${i % 3}.ts`, i));
  const picked = sampleMutants(pool, 42, 5);
  assert.equal(picked.length, 5);
  assert.deepEqual(sampleMutants([...pool].reverse(), 42, 5), picked);
  assert.notDeepEqual(sampleMutants(pool, 43, 5), picked);
  assert.equal(new Set(picked.map((m) => `${m.file}:${m.start.line}`)).size, 5);
  assert.equal(sampleMutants(pool, 1, 20).length, 20);
  assert.equal(sampleMutants(pool, 1, 21).length, 20);
  assert.throws(() => sampleMutants(pool, 1, 0), /count must be a positive integer, got 0/);
});

test("offsetOf and applyMutant: Stryker's lines and columns count from 0; a position outside the text is refused", () => {
  const source = "first\nsecond line\nthird";
  assert.equal(offsetOf(source, at(0, 0)), 0);
  assert.equal(offsetOf(source, at(1, 0)), 6);
  assert.equal(offsetOf(source, at(1, 11)), 17);
  assert.equal(offsetOf(source, at(2, 5)), source.length);
  assert.throws(() => offsetOf(source, at(1, 12)), /column 12 is outside line 1 \(length 11\)/);
  assert.throws(() => offsetOf(source, at(3, 0)), /line 3 is outside 0\.\.2/);
  assert.throws(() => offsetOf(source, at(-1, 0)), /line -1 is outside/);
  const change: Mutant = {
    file: "a.ts",
    mutator: "StringLiteral",
    replacement: "LINE",
    start: at(1, 7),
    end: at(1, 11),
  };
  assert.equal(applyMutant(source, change), "first\nsecond LINE\nthird");
  assert.equal(describeMutant(source, change), "a.ts:2:8 StringLiteral: line -> LINE");
  assert.throws(
    () => applyMutant(source, { ...change, start: at(2, 0), end: at(1, 0) }),
    /ends before it starts/,
  );
});

test("testsFirst: the tests named for the file and those importing it by its folder and name, not a lookalike", () => {
  const tests = new Map([
    ["test/platform.test.ts", 'import { x } from "../components";'],
    ["test/platformFlags.test.ts", ""],
    ["test/arguments.test.ts", 'import { BUILD_PLATFORMS } from "../components/jobs/platform";'],
    ["test/other.test.ts", 'import { y } from "../components/pods/platform";'],
    ["test/near.test.ts", 'import { z } from "../components/jobs/platformRules";'],
    ["test/unrelated.test.ts", 'import { w } from "../components";'],
  ]);
  assert.deepEqual(testsFirst("components/jobs/platform.ts", tests), [
    "test/arguments.test.ts",
    "test/platform.test.ts",
    "test/platformFlags.test.ts",
  ]);
  assert.deepEqual(testsFirst("stacks/config.ts", new Map([["test/x.test.ts", 'from "../stacks/config"']])), [
    "test/x.test.ts",
  ]);
});

test("nearMissMutants: each number one up and one down, each array member dropped in turn; not a number in a type, comment or string", () => {
  const source = [
    "type Pair = [1, 2];",
    "// 7 in a comment",
    'const name = "8";',
    "const limit = 63;",
    "const none = 0;",
    'const kinds = ["a", "b", "c"];',
    "const one = [5];",
  ].join("\n");
  const made = nearMissMutants("x.ts", source);
  const applied = (m: Mutant) => applyMutant(source, m).split("\n")[m.start.line];
  assert.deepEqual(
    made.map((m) => `${m.mutator} ${applied(m)}`),
    [
      "NumberShift const limit = 64;",
      "NumberShift const limit = 62;",
      "NumberShift const none = 1;",
      "NumberShift const none = (-1);",
      'ArrayMember const kinds = ["b", "c"];',
      'ArrayMember const kinds = ["a", "c"];',
      'ArrayMember const kinds = ["a", "b"];',
      // A one-member array is not shortened (that is Stryker's empty-array mutant); its number is shifted.
      "NumberShift const one = [6];",
      "NumberShift const one = [4];",
    ],
  );
  assert.deepEqual(made[0].start, { line: 3, column: 14 });
  assert.deepEqual(made[0].end, { line: 3, column: 16 });
  assert.deepEqual(
    nearMissMutants("y.ts", "const big = 1_000;").map((m) => m.replacement),
    ["1001", "999"],
  );
});
