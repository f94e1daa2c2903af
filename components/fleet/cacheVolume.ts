/**
 * The fleet's cache volume: a claim per instance (`persistentCache`) or a scratch volume in each pod,
 * how big it is, the cache size a daemon is told from it, and the rules that tie the two together.
 */
import { Problem } from "../validation/errors";
import { objectOf, quantity, rfc1123Subdomain } from "../validation/rules";
import { VolumeChoice } from "../pods/pod";
import {
  CacheSize,
  DEFAULT_SCRATCH_SIZE,
  cacheSizeProblems,
  effectiveCacheSize,
  volumeSize,
  withDefaultSize,
} from "../pods/storage";

/** A per-instance PersistentVolumeClaim for the cache. */
export interface PersistentCache {
  /** Size of each instance's claim, e.g. `50Gi`. */
  size: string;
  /** StorageClass for the claims; the cluster default when unset. */
  storageClassName?: string;
}

/** The fleet's arguments about its cache volume. */
export interface CacheVolumeInput {
  persistentCache?: PersistentCache;
  scratchVolume?: VolumeChoice;
}

export const persistentCacheRule = objectOf<PersistentCache>({
  size: quantity,
  storageClassName: rfc1123Subdomain,
});

/** The cache size a daemon of the fleet is told: explicit values first, else derived from its volume's size. */
export function fleetCacheSize(input: CacheVolumeInput & CacheSize): CacheSize {
  return effectiveCacheSize(input, cacheVolumeSize(input));
}

/** The cache volume when it is not a claim per instance: the one given, or an `emptyDir`, sized by default. */
export function fleetScratchVolume(input: Pick<CacheVolumeInput, "scratchVolume">): VolumeChoice {
  return withDefaultSize(input.scratchVolume, DEFAULT_SCRATCH_SIZE);
}

/** The size of an instance's cache volume, when known: its claim's, or the scratch volume's. */
export function cacheVolumeSize(input: CacheVolumeInput): string | undefined {
  return input.persistentCache?.size ?? volumeSize(fleetScratchVolume(input));
}

/**
 * The claims `persistentCache` makes, one per instance, as the StatefulSet controller names them
 * (`<volume claim template>-<pod>`): `earthly-tmp-<fleet>-<i>`. None without `persistentCache`.
 */
export function cacheClaimNames(instanceNames: readonly string[], persistentCache: boolean): string[] {
  return persistentCache ? instanceNames.map((instance) => `earthly-tmp-${instance}`) : [];
}

/** A claim per instance and a scratch volume exclude each other, and instances cannot share one claim. */
export function cacheVolumeConflicts({ persistentCache, scratchVolume }: CacheVolumeInput): Problem[] {
  return [
    ...(persistentCache && scratchVolume
      ? [{ field: "scratchVolume", value: scratchVolume, allowed: "not together with persistentCache" }]
      : []),
    ...(scratchVolume?.persistentVolumeClaimName
      ? [
          {
            field: "scratchVolume.persistentVolumeClaimName",
            value: scratchVolume.persistentVolumeClaimName,
            allowed:
              "nothing: instances cannot share one claim; use persistentCache for a claim per instance",
          },
        ]
      : []),
  ];
}

/** An explicit `cacheSizeMb` against the cache volume it must fit in. */
export function fleetCacheSizeProblems(args: CacheVolumeInput & { cacheSizeMb?: number }): Problem[] {
  return cacheSizeProblems(
    args.cacheSizeMb,
    args.persistentCache ? "persistentCache.size" : "scratchVolume",
    cacheVolumeSize(args),
  );
}
