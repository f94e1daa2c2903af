/**
 * Cache-affine pinning of an Earthly client to one buildkitd instance of a fleet.
 *
 * Every instance of a fleet keeps its own cache, so the next build of a repository is only fast when it
 * lands on the instance that built it before. A ClusterIP Service with `sessionAffinity: ClientIP` cannot
 * promise that: every client Job is a new pod with a new IP. Instead, the client takes a cache key (for
 * example the repository) and dials one instance directly, chosen by rendezvous (highest random weight)
 * hashing of the key over the instance names (see `fleetNames()` in `fleetNames.ts`).
 *
 * Rendezvous hashing scores every (key, instance) pair and picks the instance with the highest score. When
 * an instance is added, only the keys for which the new instance scores highest move, and they all move to
 * it (about 1/(N+1) of the keys); when an instance is lost, only the keys it held move. Everything here is
 * pure and deterministic across runs, processes and machines.
 */

import { createHash } from "node:crypto";

/**
 * The rendezvous score of `instance` for `key`.
 *
 * Encoding (fixed; changing it re-pins every key): SHA-256 over
 * `u32be(len(key)) ‖ utf8(key) ‖ u32be(len(instance)) ‖ utf8(instance)`, where `len` is the length in
 * bytes of the UTF-8 encoding and `u32be` is a 4-byte big-endian unsigned integer. The length prefixes make
 * the encoding unambiguous: no two different (key, instance) pairs hash the same bytes, whatever
 * characters (including NUL) they contain (strings with lone UTF-16 surrogates, which are not valid
 * Unicode, encode them as U+FFFD, as `Buffer` does). The score is the first 8 bytes of the digest read as a
 * big-endian unsigned 64-bit integer, so it lies in `[0, 2^64)`.
 *
 * @param key - The cache key, for example the repository URL.
 * @param instance - The instance name, for example `buildkitd-0`.
 * @returns The score, an unsigned 64-bit integer.
 */
export function rendezvousScore(key: string, instance: string): bigint {
  const keyLength = Buffer.byteLength(key, "utf8");
  const instanceLength = Buffer.byteLength(instance, "utf8");
  const message = Buffer.allocUnsafe(4 + keyLength + 4 + instanceLength); // every byte is written below
  message.writeUInt32BE(keyLength, 0);
  message.write(key, 4, "utf8");
  message.writeUInt32BE(instanceLength, 4 + keyLength);
  message.write(instance, 8 + keyLength, "utf8");
  return createHash("sha256").update(message).digest().readBigUInt64BE(0);
}

/** Refuses an empty cache key: every client without a key would otherwise pile onto one instance. */
function requireKey(key: string): void {
  if (typeof key !== "string" || key.length === 0) {
    throw new Error("rendezvous pinning: the cache key must be a non-empty string");
  }
}

/** Refuses an empty instance name: it cannot be dialled. */
function requireInstanceNames(instances: readonly string[]): void {
  for (const instance of instances) {
    if (typeof instance !== "string" || instance.length === 0) {
      throw new Error("rendezvous pinning: every instance name must be a non-empty string");
    }
  }
}

/**
 * Orders two scored instances: higher score first, and on equal scores the name that sorts first (by
 * UTF-16 code units, which does not depend on the locale).
 */
function compareScored(a: { name: string; score: bigint }, b: { name: string; score: bigint }): number {
  if (a.score !== b.score) return a.score > b.score ? -1 : 1;
  if (a.name === b.name) return 0;
  return a.name < b.name ? -1 : 1;
}

/**
 * Every instance ordered by descending {@link rendezvousScore} for `key`: the first is the one to dial,
 * the next ones are the fallbacks in order (if the first is down, dialling the second is exactly what
 * {@link pickInstance} would pick once the first is removed from the list).
 *
 * Equal scores are ordered by instance name, so the result never depends on the order of `instances`.
 * Duplicate names are listed once. An empty list gives an empty result.
 *
 * @param key - The cache key, for example the repository URL; must not be empty.
 * @param instances - The instance names, for example `fleetNames(...).instanceNames`.
 * @returns The distinct instance names, best first.
 * @throws Error if `key` or an instance name is empty.
 */
export function rankInstances(key: string, instances: readonly string[]): string[] {
  requireKey(key);
  requireInstanceNames(instances);
  return [...new Set(instances)]
    .map((name) => ({ name, score: rendezvousScore(key, name) }))
    .sort(compareScored)
    .map((scored) => scored.name);
}

/**
 * The instance a client with cache key `key` should dial: the one with the highest
 * {@link rendezvousScore}, equal scores going to the instance name that sorts first, so the result never
 * depends on the order of `instances`.
 *
 * @param key - The cache key, for example the repository URL; must not be empty.
 * @param instances - The instance names, for example `fleetNames(...).instanceNames`; must not be empty.
 * @returns One of `instances`.
 * @throws Error if `key` is empty, `instances` is empty, or an instance name is empty.
 */
export function pickInstance(key: string, instances: readonly string[]): string {
  requireKey(key);
  if (instances.length === 0) {
    throw new Error(`rendezvous pinning: no instance to pick for key "${key}" (the instance list is empty)`);
  }
  requireInstanceNames(instances);
  let best = { name: instances[0], score: rendezvousScore(key, instances[0]) };
  for (const name of instances.slice(1)) {
    const candidate = { name, score: rendezvousScore(key, name) };
    if (compareScored(candidate, best) < 0) best = candidate;
  }
  return best.name;
}
