/**
 * Small helpers that keep serialised objects deterministic: the same input, the same bytes.
 */

/** `T` without the fields that may be undefined, which become optional fields that are never undefined. */
export type Pruned<T> = { [K in keyof T as undefined extends T[K] ? never : K]: T[K] } & {
  [K in keyof T as undefined extends T[K] ? K : never]?: Exclude<T[K], undefined>;
};

/** Drops undefined fields, so an unset option never appears as a key. */
export function pruneUndefined<T extends object>(value: T): Pruned<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Pruned<T>;
}

/** The same record with its keys in code-point order, whatever order they were given in. */
export function sortedByKey<V>(record: { [key: string]: V }): { [key: string]: V } {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
