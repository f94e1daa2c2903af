import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecks, NOT_YET_KNOWN, argProblems } from "../components/validation/checks";
import { requiredFields } from "../components/validation/checks";
import { anyValue, rfc1123Label, uniqueBy } from "../components/validation/rules";

test("rfc1123Label accepts a label and refuses an upper-case one", () => {
  assert.deepEqual(rfc1123Label("ok-name", "f"), []);
  assert.equal(rfc1123Label("Bad", "f").length, 1);
});

test("a cross-field rule waits for the fields it reads, and sees others only as present", () => {
  type Args = { a?: pulumi.Input<string>; b?: pulumi.Input<string> };
  const seen: unknown[] = [];
  const checks: ArgChecks<Args> = {
    rules: { a: anyValue, b: anyValue },
    cross: [
      {
        reads: ["a"],
        check: (args) => {
          seen.push(args.b);
          return args.a === "bad" ? [{ field: "a", value: args.a, allowed: "not bad" }] : [];
        },
      },
    ],
  };
  // `a` known, `b` an Output: the rule runs now and sees `b` as present but not yet known.
  assert.deepEqual(argProblems<Args>({ a: "bad", b: pulumi.output("x") }, checks, true), [
    { field: "a", value: "bad", allowed: "not bad" },
  ]);
  assert.deepEqual(seen, [NOT_YET_KNOWN]);
  // `a` an Output: the rule waits (for the apply, where it runs on resolved values).
  assert.deepEqual(argProblems<Args>({ a: pulumi.output("bad") }, checks, true), []);
  assert.equal(seen.length, 1);
  assert.equal(argProblems<Args>({ a: "bad" }, checks).length, 1);
});

test("uniqueBy names the repeated item; requiredFields names the missing field", () => {
  assert.deepEqual(uniqueBy((x: string) => x, "unique")(["a", "b", "a"], "f"), [
    { field: "f[2]", value: "a", allowed: "unique" },
  ]);
  assert.deepEqual(requiredFields<{ x?: string }>({ x: "an x" }).check({}), [
    { field: "x", value: undefined, allowed: "an x" },
  ]);
});
