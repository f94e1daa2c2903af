/** The Input helpers beside components/values/inputs.ts (and their use for a fleet connection): what is known now, and what is not. */
import "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { containsUnknown, isUnknown, recordFields, recordedFieldsOf } from "../components/values/inputs";
import { CONNECTION_FIELDS, FleetConnection, connectionFieldsOf } from "../components/fleet/connection";
import { settledValue } from "./support/mocks";
import { FLEET_CONNECTION } from "./support/built";
import { readCommittedSchema, tokenOf } from "../scripts/schema";

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

// A connection from a stack reference or another language is an Output no fleet recorded: each of
// its fields is read from the whole. A field missing from that list would arrive undefined (the
// instance names, say, and with them every pin by cache key).
test("connectionFieldsOf: an Output no fleet recorded is read field by field, every field of FleetConnection", async () => {
  const schemaFields = Object.keys(
    readCommittedSchema().types[tokenOf("FleetConnection")].properties ?? {},
  ).sort();
  assert.deepEqual([...CONNECTION_FIELDS].sort(), schemaFields);
  const connection: FleetConnection = { ...FLEET_CONNECTION, architecture: "arm64" };
  assert.deepEqual(Object.keys(connection).sort(), schemaFields, "the test's connection gives every field");
  const fields = connectionFieldsOf(pulumi.output(connection));
  for (const key of schemaFields as (keyof FleetConnection)[]) {
    assert.ok(pulumi.Output.isInstance(fields[key]), key);
    assert.deepEqual(await settledValue(fields[key] as pulumi.Output<unknown>), connection[key], key);
  }
});

test("isUnknown: an Output or a Promise itself; a value holding one is not (containsUnknown says that)", () => {
  assert.equal(isUnknown(pulumi.output(1)), true);
  assert.equal(isUnknown(Promise.resolve(1)), true);
  for (const known of [undefined, null, 0, "", [pulumi.output(1)], { a: pulumi.output(1) }]) {
    assert.equal(isUnknown(known), false, String(known));
  }
  assert.equal(containsUnknown([pulumi.output(1)]), true);
});
