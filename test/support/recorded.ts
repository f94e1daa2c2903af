/**
 * The one resource of a type and name the mocks recorded, and its inputs as the provider sees them
 * (secrets unwrapped; see ./values).
 */
import assert from "node:assert/strict";
import { RecordedResource, recorded } from "./mocks";
import { Obj, plain } from "./values";

/** The one recorded resource of a type and name. */
export function one(type: string, name: string): RecordedResource {
  const found = recorded.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `expected exactly one ${type} named ${name}, found ${found.length}`);
  return found[0];
}

/** The recorded inputs of the one resource of a type and name, secrets unwrapped. */
export function inputsOf(type: string, name: string): Obj {
  return plain(one(type, name).inputs) as Obj;
}
