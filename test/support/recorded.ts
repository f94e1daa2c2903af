/**
 * Reading what the mocks recorded: values as the provider sees them (secrets unwrapped) or as a diff
 * shows them (secrets masked), and the one resource of a type and name.
 */
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import { RecordedResource, recorded } from "./mocks";

/** Kubernetes JSON as the tests read it. */
export type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A recorded value with every secret wrapper removed (what the provider would see). */
export function plain(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return plain(pulumi.runtime.unwrapRpcSecret(value));
  // An unknown value (at preview) stays the marker it is.
  if (pulumi.isUnknown(value)) return value;
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

/** A recorded value with every secret replaced by a marker: what a diff or a state file shows in clear. */
export function publicPart(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return "[secret]";
  if (Array.isArray(value)) return value.map(publicPart);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, publicPart(v)]));
  }
  return value;
}

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
