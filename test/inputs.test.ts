/** The Input helpers beside components/values/inputs.ts: what is known now, and what is not. */
import "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { containsUnknown, recordFields, recordedFieldsOf } from "../components/values/inputs";

test("recordedFieldsOf: a plain object's own fields; a recorded Output's recorded ones; nothing for another Output or a Promise", () => {
  const plain = { name: "a", size: 2 };
  assert.equal(recordedFieldsOf(plain), plain);
  const recorded = pulumi.output(plain);
  const fields = { name: pulumi.output("a"), size: 2 };
  recordFields(recorded, fields);
  assert.equal(recordedFieldsOf(recorded), fields);
  assert.equal(recordedFieldsOf(pulumi.output(plain)), undefined);
  assert.equal(recordedFieldsOf(Promise.resolve(plain)), undefined);
});

test("containsUnknown: an Output or Promise at any depth; plain values of every kind are known", () => {
  for (const known of [undefined, null, 0, "", false, [], {}, { a: [1, { b: "c" }] }])
    assert.equal(containsUnknown(known), false, JSON.stringify(known));
  for (const unknown of [
    pulumi.output(1),
    Promise.resolve(1),
    [1, pulumi.output(2)],
    { a: { b: pulumi.output("c") } },
  ])
    assert.equal(containsUnknown(unknown), true);
});
