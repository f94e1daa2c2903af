/**
 * The refusal contract, asserted one way everywhere: construction throws an InvalidArgumentsError
 * naming exactly the expected fields, each with the value given and what is allowed, and nothing at
 * all is registered.
 */
import assert from "node:assert/strict";
import { InvalidArgumentsError } from "../../components/validation/errors";
import { recorded, resetRecord, settle } from "./mocks";

/** One expected problem: the field, the value as the message prints it, and what is allowed. */
export interface ExpectedProblem {
  field: string;
  got: string;
  allowed?: RegExp;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Asserts that `make` is refused at construction with exactly `expected`, and nothing is registered. */
export async function assertRefused(
  make: () => unknown,
  expected: readonly ExpectedProblem[],
): Promise<void> {
  resetRecord();
  assert.throws(make, (e: unknown) => {
    assert.ok(e instanceof InvalidArgumentsError, `expected InvalidArgumentsError, got ${String(e)}`);
    assert.deepEqual(
      e.problems.map((p) => p.field),
      expected.map((x) => x.field),
    );
    for (const x of expected) {
      assert.match(
        e.message,
        new RegExp(`invalid ${escapeRegExp(x.field)}: got ${escapeRegExp(x.got)}; allowed: `),
      );
      if (x.allowed) assert.match(e.message, x.allowed);
    }
    return true;
  });
  await settle();
  assert.deepEqual(recorded, [], "nothing may be registered when the arguments are refused");
}
