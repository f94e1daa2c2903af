/**
 * Recorded values as the provider sees them (secrets unwrapped, unknowns kept) or as a diff shows them
 * (secrets masked). No mocks here: a test with mocks of its own (preview mode) can use these too.
 */
import * as pulumi from "@pulumi/pulumi";

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
