/**
 * Node disk, bounded: the default size of every scratch volume, the ephemeral storage a container is
 * allowed (at least what its node-disk volumes may hold), and the build cache size that fits them.
 * Pure: plain values in, plain values out.
 */
import { Problem } from "../validation/errors";
import { pruneUndefined } from "../values/deterministic";
import type { VolumeChoice } from "./pod";
import type { Resources } from "./resources";

/** The size limit of an Earthly scratch (cache) `emptyDir` when none is given. */
export const DEFAULT_SCRATCH_SIZE = "40Gi";
/** The size limit of the source (`srcDir`) `emptyDir` when none is given; artifacts saved locally land here. */
export const DEFAULT_SOURCE_SIZE = "4Gi";

/** Share of a cache volume buildkitd may fill; the rest is headroom for metadata and layers in flight. */
export const CACHE_SHARE_OF_VOLUME = 0.8;

const BINARY_SUFFIX: { [suffix: string]: number } = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};
const DECIMAL_SUFFIX: { [suffix: string]: number } = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
};

/** A Kubernetes storage quantity in bytes, or undefined when it is not a plain size (e.g. `1e3`, `500m`). */
export function quantityToBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/.exec(quantity);
  if (!match) return undefined;
  const unit = match[2] ?? "";
  return Number(match[1]) * (BINARY_SUFFIX[unit] ?? DECIMAL_SUFFIX[unit]);
}

/** A byte count as a quantity in whole MiB, rounded up (so it never undercuts what it stands for). */
export function bytesToMiQuantity(bytes: number): string {
  return `${Math.ceil(bytes / 2 ** 20)}Mi`;
}

/** `CACHE_SIZE_MB` for a cache volume of the given size: {@link CACHE_SHARE_OF_VOLUME} of it, in MiB. */
export function cacheSizeMbFor(volumeSize: string): number | undefined {
  const bytes = quantityToBytes(volumeSize);
  return bytes === undefined ? undefined : Math.floor((bytes / 2 ** 20) * CACHE_SHARE_OF_VOLUME);
}

/**
 * The volume with a default size: an unset choice becomes an `emptyDir` of `size`, an `emptyDir`
 * without a `sizeLimit` gets `size` (on disk, or in memory for `medium: Memory`); any other source
 * is returned as it is (a claim has its own size, a hostPath is the node's business).
 */
export function withDefaultSize(choice: VolumeChoice | undefined, size: string): VolumeChoice {
  if (choice === undefined) return { emptyDir: { sizeLimit: size } };
  const sourceGiven =
    choice.ephemeral !== undefined ||
    choice.persistentVolumeClaimName !== undefined ||
    choice.hostPath !== undefined;
  if (sourceGiven) return choice;
  return {
    ...choice,
    emptyDir: { ...(choice.emptyDir ?? {}), sizeLimit: choice.emptyDir?.sizeLimit ?? size },
  };
}

/** The size a volume holds, when known: an `emptyDir`'s `sizeLimit` or an ephemeral claim's size. */
export function volumeSize(choice: VolumeChoice | undefined): string | undefined {
  return choice?.ephemeral?.size ?? choice?.emptyDir?.sizeLimit;
}

/**
 * Bytes a volume may take from the node's disk, which count against the pod's ephemeral storage:
 * an `emptyDir` on disk (not `medium: Memory`, which counts against memory; not a claim or a hostPath).
 * Undefined when that size is not a plain quantity.
 */
export function nodeDiskBytes(choice: VolumeChoice): number | undefined {
  const onDisk =
    choice.ephemeral === undefined &&
    choice.persistentVolumeClaimName === undefined &&
    choice.hostPath === undefined &&
    choice.emptyDir?.medium !== "Memory";
  if (!onDisk) return 0;
  const size = choice.emptyDir?.sizeLimit;
  return size === undefined ? undefined : quantityToBytes(size);
}

/** The sum of {@link nodeDiskBytes}, or undefined when one of them is not known. */
export function totalNodeDiskBytes(choices: readonly VolumeChoice[]): number | undefined {
  let total = 0;
  for (const choice of choices) {
    const bytes = nodeDiskBytes(choice);
    if (bytes === undefined) return undefined;
    total += bytes;
  }
  return total;
}

/**
 * Requests and limits with the ephemeral storage a container needs. A limit given is kept; else the
 * default, raised to the container's node-disk volumes plus `headroom` (its writable layer and logs)
 * when they need more, since the kubelet evicts a pod whose volumes and containers together exceed
 * the sum of its limits. A request given is kept; else the default, lowered to the limit if above it.
 */
export function withEphemeralStorage(
  resources: Resources,
  given: Resources | undefined,
  volumes: readonly VolumeChoice[],
  headroom: string,
): Resources {
  const defaultLimit = resources.limits?.ephemeralStorage;
  const defaultRequest = resources.requests?.ephemeralStorage;
  const volumeBytes = totalNodeDiskBytes(volumes);
  const headroomBytes = quantityToBytes(headroom) ?? 0;
  let limit = given?.limits?.ephemeralStorage ?? defaultLimit;
  if (
    given?.limits?.ephemeralStorage === undefined &&
    defaultLimit !== undefined &&
    volumeBytes !== undefined
  ) {
    const needed = volumeBytes + headroomBytes;
    const current = quantityToBytes(defaultLimit);
    if (current !== undefined && needed > current) limit = bytesToMiQuantity(needed);
  }
  let request = given?.requests?.ephemeralStorage ?? defaultRequest;
  if (given?.requests?.ephemeralStorage === undefined && request !== undefined && limit !== undefined) {
    const requestBytes = quantityToBytes(request);
    const limitBytes = quantityToBytes(limit);
    if (requestBytes !== undefined && limitBytes !== undefined && requestBytes > limitBytes) request = limit;
  }
  return {
    requests: pruneUndefined({ ...resources.requests, ephemeralStorage: request }),
    limits: pruneUndefined({ ...resources.limits, ephemeralStorage: limit }),
  };
}

/**
 * Refuses an ephemeral-storage limit given below what the container's node-disk volumes may hold
 * (the pod would be evicted before they are full), and a request given above the limit in force.
 */
export function ephemeralStorageProblems(
  given: Resources | undefined,
  volumes: readonly { field: string; choice: VolumeChoice }[],
  effective: Resources,
): Problem[] {
  const problems: Problem[] = [];
  const limit = given?.limits?.ephemeralStorage;
  const volumeBytes = totalNodeDiskBytes(volumes.map((v) => v.choice));
  const limitBytes = limit === undefined ? undefined : quantityToBytes(limit);
  if (limitBytes !== undefined && volumeBytes !== undefined && limitBytes < volumeBytes) {
    const counted = volumes
      .filter((v) => (nodeDiskBytes(v.choice) ?? 0) > 0)
      .map((v) => `${v.field} ${v.choice.emptyDir?.sizeLimit}`)
      .join(" + ");
    problems.push({
      field: "resources.limits.ephemeralStorage",
      value: limit,
      allowed: `at least ${bytesToMiQuantity(volumeBytes)}, what the node-disk volumes may hold (${counted}); the kubelet evicts a pod whose volumes exceed its limits`,
    });
  }
  const request = given?.requests?.ephemeralStorage;
  const inForce = effective.limits?.ephemeralStorage;
  const requestBytes = request === undefined ? undefined : quantityToBytes(request);
  const inForceBytes = inForce === undefined ? undefined : quantityToBytes(inForce);
  if (requestBytes !== undefined && inForceBytes !== undefined && requestBytes > inForceBytes) {
    problems.push({
      field: "resources.requests.ephemeralStorage",
      value: request,
      allowed: `at most the ephemeral-storage limit in force, ${inForce}`,
    });
  }
  return problems;
}

/** The cache size settings a daemon is told (`CACHE_SIZE_MB` / `CACHE_SIZE_PCT`). */
export interface CacheSize {
  cacheSizeMb?: number;
  cacheSizePct?: number;
}

/**
 * The cache size a buildkitd is told: explicit values first, else {@link CACHE_SHARE_OF_VOLUME} of
 * the cache volume's size when that is known (without it buildkitd sizes its cache from the node's
 * whole disk, not from the volume's limit, and a full cache gets the pod evicted).
 */
export function effectiveCacheSize(explicit: CacheSize, cacheVolumeSize: string | undefined): CacheSize {
  if (explicit.cacheSizeMb !== undefined || explicit.cacheSizePct !== undefined) {
    return pruneUndefined({ cacheSizeMb: explicit.cacheSizeMb, cacheSizePct: explicit.cacheSizePct });
  }
  const derived = cacheVolumeSize === undefined ? undefined : cacheSizeMbFor(cacheVolumeSize);
  return derived === undefined ? {} : { cacheSizeMb: derived };
}

/** Refuses a `cacheSizeMb` larger than the cache volume it must fit in, when that size is known. */
export function cacheSizeProblems(
  cacheSizeMb: number | undefined,
  volumeField: string,
  cacheVolumeSize: string | undefined,
): Problem[] {
  const bytes = cacheVolumeSize === undefined ? undefined : quantityToBytes(cacheVolumeSize);
  if (cacheSizeMb === undefined || bytes === undefined) return [];
  const volumeMb = Math.floor(bytes / 2 ** 20);
  return cacheSizeMb > volumeMb
    ? [
        {
          field: "cacheSizeMb",
          value: cacheSizeMb,
          allowed: `at most ${volumeMb}, the size in MiB of ${volumeField} (${cacheVolumeSize}); about ${cacheSizeMbFor(cacheVolumeSize as string)} leaves room for layers in flight`,
        },
      ]
    : [];
}
