/**
 * A reproducible model of where the builds of a buildkitd fleet land, and how often they find a warm cache,
 * under two ways of choosing an instance:
 *
 * - `clientip`: the ClusterIP Service with `sessionAffinity: ClientIP`. Every build is a new client Job,
 *   so a new pod IP; the model assumes kube-proxy sends a new client IP to a uniformly random endpoint, and
 *   keeps it there for the rest of that build only.
 * - `rendezvous`: the client dials `pickInstance(repository, instanceNames)` directly.
 *
 * Everything here is pure: randomness comes from a seeded PRNG passed in or derived from a seed, so the
 * same inputs always give the same outputs. `warmCache.ts` runs it and prints the results.
 */

import { fleetNames } from "../components/fleet/names";
import { pickInstance } from "../components/fleet/pinning";

/** A source of uniform numbers in `[0, 1)`. */
export type Rng = () => number;

/**
 * The mulberry32 PRNG: a 32-bit state advanced by a Weyl sequence and scrambled by multiply-xorshift
 * rounds. Not cryptographic; small, fast and the same on every machine (pure 32-bit integer arithmetic).
 *
 * @param seed - Any number; only its low 32 bits are used.
 * @returns A generator of uniform numbers in `[0, 1)` with 32 bits of resolution.
 */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Derives an independent-looking 32-bit seed for stream `stream` of `seed` (golden-ratio offset, then the
 * MurmurHash3 32-bit finaliser), so that the build order and kube-proxy's choices use separate streams.
 */
export function deriveSeed(seed: number, stream: number): number {
  let z = ((seed >>> 0) + Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** The PRNG stream that draws which repository each build is for. */
export const BUILD_ORDER_STREAM = 0;
/** The PRNG stream that draws the endpoint kube-proxy gives each new client IP. */
export const ENDPOINT_STREAM = 1;

/** `count` repository names, `github.com/example/repo-00` ... (zero-padded so they sort by number). */
export function repositoryNames(count: number): string[] {
  const width = String(Math.max(count - 1, 0)).length;
  return Array.from({ length: count }, (_, i) => `github.com/example/repo-${String(i).padStart(width, "0")}`);
}

/** How often each repository is built. */
export type Popularity = "uniform" | "zipf";

/**
 * The probability of each of `count` repositories being the next one built: equal for `uniform`; for
 * `zipf`, the k-th repository (1-based) has weight `1 / k^exponent`. Normalised to sum to 1.
 */
export function popularityWeights(count: number, popularity: Popularity, exponent = 1): number[] {
  const raw = Array.from({ length: count }, (_, i) => (popularity === "zipf" ? 1 / (i + 1) ** exponent : 1));
  const total = raw.reduce((sum, w) => sum + w, 0);
  return raw.map((w) => w / total);
}

/** The running sums of `weights`; the last is forced to exactly 1 so every `u < 1` finds an index. */
export function cumulative(weights: readonly number[]): number[] {
  let sum = 0;
  const out = weights.map((w) => (sum += w));
  if (out.length > 0) out[out.length - 1] = 1;
  return out;
}

/** The first index whose running sum exceeds `u` (inverse-CDF sampling of a uniform `u` in `[0, 1)`). */
export function drawIndex(cumulativeWeights: readonly number[], u: number): number {
  let lo = 0;
  let hi = cumulativeWeights.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (u < cumulativeWeights[mid]) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** One build: which repository, where it ran, and what it found there. */
export interface BuildRecord {
  /** The repository (the cache key). */
  repository: string;
  /** The instance the build ran on. */
  instance: string;
  /** The first build of this repository anywhere in the fleet: it cannot be warm, and is not counted. */
  first: boolean;
  /** Not first, and the instance had built this repository before (caches are never evicted). */
  warm: boolean;
  /** Not first, and the instance is the one that ran this repository's previous build (its newest cache). */
  hot: boolean;
}

/** The counts over a sequence of builds. Ratios are `NaN` when no build is eligible. */
export interface WarmCacheTally {
  /** Number of builds. */
  builds: number;
  /** Builds that were the first of their repository (= the number of distinct repositories built). */
  firstBuilds: number;
  /** Builds after their repository's first: `builds - firstBuilds`, the denominator of both ratios. */
  eligible: number;
  /** Eligible builds that landed on an instance that had built the repository before. */
  warmHits: number;
  /** `warmHits / eligible`. */
  warmRatio: number;
  /** Eligible builds that landed on the instance of the repository's previous build. */
  hotHits: number;
  /** `hotHits / eligible`. */
  hotRatio: number;
  /** Builds that found no cache of their repository on their instance, first builds included. */
  coldBuilds: number;
  /** At the end, the mean number of instances holding a cache of each repository built. */
  cacheCopiesPerRepository: number;
}

/**
 * Counts warm and cold builds, given which repository each build is for and which instance it landed on.
 * Each instance keeps a set of the repositories it has built; nothing is ever evicted.
 *
 * @param repositories - The repository of each build, in build order.
 * @param landings - The instance of each build, same length and order.
 */
export function tallyBuilds(
  repositories: readonly string[],
  landings: readonly string[],
): { tally: WarmCacheTally; records: BuildRecord[] } {
  if (repositories.length !== landings.length) {
    throw new Error(`tallyBuilds: ${repositories.length} repositories but ${landings.length} landings`);
  }
  const caches = new Map<string, Set<string>>();
  const previous = new Map<string, string>();
  const records: BuildRecord[] = [];
  for (const [i, repository] of repositories.entries()) {
    const instance = landings[i];
    const cache = caches.get(instance) ?? new Set<string>();
    const first = !previous.has(repository);
    records.push({
      repository,
      instance,
      first,
      warm: !first && cache.has(repository),
      hot: !first && previous.get(repository) === instance,
    });
    cache.add(repository);
    caches.set(instance, cache);
    previous.set(repository, instance);
  }
  const builds = records.length;
  const firstBuilds = records.filter((r) => r.first).length;
  const eligible = builds - firstBuilds;
  const warmHits = records.filter((r) => r.warm).length;
  const hotHits = records.filter((r) => r.hot).length;
  const copies = [...caches.values()].reduce((sum, cache) => sum + cache.size, 0);
  return {
    tally: {
      builds,
      firstBuilds,
      eligible,
      warmHits,
      warmRatio: warmHits / eligible,
      hotHits,
      hotRatio: hotHits / eligible,
      coldBuilds: records.filter((r) => !r.warm).length,
      cacheCopiesPerRepository: copies / firstBuilds,
    },
    records,
  };
}

/**
 * The expected number of warm hits under `clientip` with never-evicted caches: the j-th build of a
 * repository (j ≥ 2) is warm unless all j-1 earlier builds of it missed its uniformly random instance,
 * so it is warm with probability `1 - (1 - 1/N)^(j-1)`.
 *
 * @param buildsPerRepository - How many times each repository was built.
 * @param instances - N, the number of instances.
 */
export function expectedClientIpWarmHits(buildsPerRepository: readonly number[], instances: number): number {
  const miss = 1 - 1 / instances;
  let expected = 0;
  for (const count of buildsPerRepository) {
    for (let j = 2; j <= count; j++) expected += 1 - miss ** (j - 1);
  }
  return expected;
}

/** What to simulate. */
export interface WarmCacheOptions {
  /** R, the number of repositories (default 20). */
  repositories?: number;
  /** B, the number of builds (default 2000). */
  builds?: number;
  /** N, the number of buildkitd instances (default 4). */
  instances?: number;
  /** How often each repository is built (default `uniform`). */
  popularity?: Popularity;
  /** The Zipf exponent when `popularity` is `zipf` (default 1). */
  zipfExponent?: number;
  /** The PRNG seed (default {@link DEFAULT_SEED}). */
  seed?: number;
  /** The fleet's name, which names its instances (default `buildkitd`). */
  fleetName?: string;
  /** The fleet's namespace (default `earthly`). */
  namespace?: string;
}

/** The default PRNG seed. */
export const DEFAULT_SEED = 20240601;

/** The outcome of one strategy over the shared build sequence. */
export interface StrategyOutcome {
  /** The instance each build landed on. */
  landings: string[];
  /** The counts. */
  tally: WarmCacheTally;
  /** Every build, in order. */
  records: BuildRecord[];
}

/** The outcome of {@link simulateWarmHits}. */
export interface WarmCacheSimulation {
  /** The options with every default filled in. */
  options: Required<WarmCacheOptions>;
  /** The instance names, from `fleetNames()`. */
  instanceNames: string[];
  /** The repository of each build (the same sequence for both strategies). */
  sequence: string[];
  /** How many times each repository was built, in repository order. */
  buildsPerRepository: number[];
  /** ClusterIP Service with ClientIP affinity: a uniformly random endpoint per build. */
  clientIp: StrategyOutcome;
  /** Rendezvous pinning: `pickInstance(repository, instanceNames)`. */
  rendezvous: StrategyOutcome;
}

function requirePositiveInteger(value: number, what: string): void {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${what} must be a positive integer, got ${value}`);
}

/**
 * Simulates B builds of R repositories on a fleet of N instances under both strategies, on the same build
 * sequence. The build order is drawn from stream {@link BUILD_ORDER_STREAM} of the seed, the ClientIP
 * endpoints from stream {@link ENDPOINT_STREAM}, so the same options always give the same result.
 */
export function simulateWarmHits(options: WarmCacheOptions = {}): WarmCacheSimulation {
  const opts: Required<WarmCacheOptions> = {
    repositories: options.repositories ?? 20,
    builds: options.builds ?? 2000,
    instances: options.instances ?? 4,
    popularity: options.popularity ?? "uniform",
    zipfExponent: options.zipfExponent ?? 1,
    seed: options.seed ?? DEFAULT_SEED,
    fleetName: options.fleetName ?? "buildkitd",
    namespace: options.namespace ?? "earthly",
  };
  requirePositiveInteger(opts.repositories, "repositories");
  requirePositiveInteger(opts.builds, "builds");
  requirePositiveInteger(opts.instances, "instances");

  const instanceNames = fleetNames({
    fleetName: opts.fleetName,
    namespace: opts.namespace,
    replicas: opts.instances,
  }).instanceNames;
  const repos = repositoryNames(opts.repositories);
  const weights = cumulative(popularityWeights(opts.repositories, opts.popularity, opts.zipfExponent));

  const orderRng = mulberry32(deriveSeed(opts.seed, BUILD_ORDER_STREAM));
  const indices = Array.from({ length: opts.builds }, () => drawIndex(weights, orderRng()));
  const sequence = indices.map((i) => repos[i]);
  const buildsPerRepository = repos.map(() => 0);
  for (const i of indices) buildsPerRepository[i]++;

  const endpointRng = mulberry32(deriveSeed(opts.seed, ENDPOINT_STREAM));
  const clientIpLandings = sequence.map(
    () => instanceNames[Math.floor(endpointRng() * instanceNames.length)],
  );
  const rendezvousLandings = sequence.map((repository) => pickInstance(repository, instanceNames));

  return {
    options: opts,
    instanceNames,
    sequence,
    buildsPerRepository,
    clientIp: { landings: clientIpLandings, ...tallyBuilds(sequence, clientIpLandings) },
    rendezvous: { landings: rendezvousLandings, ...tallyBuilds(sequence, rendezvousLandings) },
  };
}

/** How the keys' instances changed between two instance lists. */
export interface Reassignment {
  /** Number of keys. */
  keys: number;
  /** Keys whose instance changed. */
  moved: number;
  /** `moved / keys`. */
  fraction: number;
  /** Moved keys whose new instance was not in the old list (they went to an added instance). */
  movedToAdded: number;
  /** Moved keys whose old instance is not in the new list (their instance was removed). */
  movedFromRemoved: number;
  /** Keys whose old instance is not in the new list (all of them must move). */
  onRemoved: number;
}

/**
 * Compares where each key is pinned before and after a change of the instance list.
 *
 * @param keys - The cache keys.
 * @param before - The instance names before.
 * @param after - The instance names after.
 * @param pick - The pinning function (default {@link pickInstance}); tests pass toy ones.
 */
export function reassignment(
  keys: readonly string[],
  before: readonly string[],
  after: readonly string[],
  pick: (key: string, instances: readonly string[]) => string = pickInstance,
): Reassignment {
  const oldSet = new Set(before);
  const newSet = new Set(after);
  let moved = 0;
  let movedToAdded = 0;
  let movedFromRemoved = 0;
  let onRemoved = 0;
  for (const key of keys) {
    const from = pick(key, before);
    const to = pick(key, after);
    if (!newSet.has(from)) onRemoved++;
    if (from === to) continue;
    moved++;
    if (!oldSet.has(to)) movedToAdded++;
    if (!newSet.has(from)) movedFromRemoved++;
  }
  return {
    keys: keys.length,
    moved,
    fraction: moved / keys.length,
    movedToAdded,
    movedFromRemoved,
    onRemoved,
  };
}

/** The fraction of `keys` whose instance changes from `before` to `after` (see {@link reassignment}). */
export function movedFraction(
  keys: readonly string[],
  before: readonly string[],
  after: readonly string[],
  pick: (key: string, instances: readonly string[]) => string = pickInstance,
): number {
  return reassignment(keys, before, after, pick).fraction;
}
