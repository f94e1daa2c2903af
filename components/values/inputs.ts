/**
 * Helpers that keep a resource's inputs known at preview wherever the arguments are: an argument
 * given as an Output (or a value derived from one) becomes an Output at the one leaf it feeds, and
 * every other leaf stays a plain value. Without Outputs they return plain values: the builders that
 * use them stay pure and deterministic.
 */
import * as pulumi from "@pulumi/pulumi";

/** True when the value itself is not yet known: an Output or a Promise (not what it holds). */
export function isUnknown(value: unknown): value is pulumi.Output<unknown> | Promise<unknown> {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

/** True when the value, or anything inside it, is not yet known (an Output or a Promise). */
export function containsUnknown(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (Array.isArray(value)) return value.some(containsUnknown);
  if (value !== null && typeof value === "object") return Object.values(value).some(containsUnknown);
  return false;
}

/**
 * `fn` of a value: applied at once when the value holds no Output or Promise, else an Output that
 * applies it once they resolve (unknown at preview while any of them is, secret when any is).
 */
export function lift<T, U>(value: T, fn: (resolved: pulumi.Unwrap<T>) => U): U | pulumi.Output<U> {
  return containsUnknown(value)
    ? pulumi.output(value).apply((resolved) => fn(resolved as pulumi.Unwrap<T>))
    : fn(value as pulumi.Unwrap<T>);
}

/**
 * The concatenation of lists. When every list is a plain array it is a plain array, whose items may
 * still hold Outputs (a variable's name stays known while its value is not); when a list is itself an
 * Output, the whole list is one.
 */
export function concatLists<T>(
  lists: readonly (readonly T[] | pulumi.Output<readonly T[]>)[],
): T[] | pulumi.Output<T[]> {
  if (lists.every((list) => Array.isArray(list))) return (lists as readonly (readonly T[])[]).flat();
  return pulumi.output(lists as pulumi.Input<readonly T[]>[]).apply((resolved) => resolved.flat() as T[]);
}

/**
 * A `dependsOn` that holds a resource's registration until `checked` resolves and fails it with the
 * refusal when `checked` rejects, so that arguments checked once they resolve still keep every
 * object from the cluster, while the resource's inputs carry no Output for the check; plus any
 * `resources` to depend on. At preview an unknown `checked` (an argument not known until the
 * deployment) holds nothing, and the resources are still dependencies (as the Output's own).
 */
export function registeredAfter(
  checked: pulumi.Output<unknown>,
  ...resources: pulumi.Resource[]
): pulumi.Output<pulumi.Resource[]> {
  return pulumi.all([checked, ...resources.map((r) => r.urn)]).apply(() => resources);
}

/** The fields each Output a component built from fields was made of (see {@link recordFields}). */
const recordedFields = new WeakMap<object, object>();

/** The fields of an object, each an Input. */
export type InputFields<T> = { [K in keyof T]: pulumi.Input<T[K]> };

/**
 * Records the fields an Output object was made of. An Output is known (and public) only as a
 * whole, so a consumer given this Output reads it back field by field with {@link fieldsOf}: a
 * field not known yet (a certificate) then leaves the others known at preview, and a secret field
 * (a key) does not make the others secret.
 */
export function recordFields<T extends object>(output: pulumi.Output<T>, fields: InputFields<T>): void {
  recordedFields.set(output, fields);
}

/**
 * The fields recorded for a component's own Output (see {@link recordFields}), or a plain object's
 * own; undefined for any other Output, whose fields are known only when it resolves. Makes no Output.
 */
export function recordedFieldsOf<T extends object>(input: pulumi.Input<T>): InputFields<T> | undefined {
  const recorded = recordedFields.get(input as object);
  if (recorded !== undefined) return recorded as InputFields<T>;
  return isUnknown(input) ? undefined : (input as InputFields<T>);
}

/**
 * The fields of an object Input: those recorded for a component's own Output, a plain object's own
 * fields, or else each field read from the Output (known, and secret, as the whole is).
 */
export function fieldsOf<T extends object>(
  input: pulumi.Input<T>,
  keys: readonly (keyof T)[],
): InputFields<T> {
  const recorded = recordedFields.get(input as object);
  if (recorded !== undefined) return recorded as InputFields<T>;
  if (!isUnknown(input)) return input as InputFields<T>;
  const whole = pulumi.output(input);
  return Object.fromEntries(
    keys.map((key) => [key, whole.apply((value) => value[key as keyof typeof value])]),
  ) as InputFields<T>;
}
