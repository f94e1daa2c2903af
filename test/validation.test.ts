import { test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { ArgChecks, NOT_YET_KNOWN, argProblems, checkArgs } from "../components/validation/checks";
import { settledValue } from "./support/mocks";
import { collectingRejections } from "./support/rejections";
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

test("checkArgs: the one entry point refuses known values now, unknown ones when they resolve, and an Output where a plain value must be", async () => {
  type Args = { a?: pulumi.Input<string>; b?: pulumi.Input<string> };
  const notBad: ArgChecks<Args>["rules"]["a"] = (value, field) =>
    value === "bad" ? [{ field, value, allowed: "not bad" }] : [];
  const checks: ArgChecks<Args> = { rules: { a: notBad, b: notBad } };
  // A known bad value: thrown at once, naming the component and the field.
  assert.throws(() => checkArgs("C", { a: "bad" }, checks), /C.*a.*"bad".*not bad/s);
  // An unknown bad value: accepted now, refused by the checked field and by `all`.
  await collectingRejections(async () => {
    const later = checkArgs("C", { a: "ok", b: pulumi.output("bad") }, checks);
    await assert.rejects(settledValue(later.fields.b as pulumi.Output<string>), /b.*"bad"/s);
    await assert.rejects(settledValue(later.all), /b.*"bad"/s);
  });
  const good = checkArgs("C", { a: "ok", b: pulumi.output("fine") }, checks);
  assert.deepEqual(await settledValue(good.all), { a: "ok", b: "fine" });
  // plain inputs: an Output there is refused by name, before any rule; one in `except` may wait.
  const plain = { inputs: { a: {}, b: {} } };
  assert.throws(
    () => checkArgs("C", { a: pulumi.output("bad") }, { ...checks, plain }),
    /a.*an Output or Promise.*a plain value, known when the component is created/s,
  );
  assert.throws(
    () =>
      checkArgs("C", { a: "ok", b: pulumi.output("ok") }, { ...checks, plain: { ...plain, except: ["a"] } }),
    /b.*an Output or Promise/s,
  );
  checkArgs("C", { a: pulumi.output("ok"), b: "ok" }, { ...checks, plain: { ...plain, except: ["a"] } });
  // A field the schema leaves Input may wait, though others are plain.
  checkArgs("C", { a: "ok", b: pulumi.output("ok") }, { ...checks, plain: { inputs: { a: {} } } });
});
