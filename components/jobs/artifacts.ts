/**
 * Artifacts out: where `SAVE ARTIFACT ... AS LOCAL` and `earthly --artifact` outputs land.
 *
 * Earthly writes local outputs relative to its working directory (the Job's `srcDir`; for a target
 * in a local Earthfile, relative to that Earthfile's directory): it first exports them into
 * `.tmp-earthly-out/` there, then hard-links them to their destination, copying them when the
 * destination is on another filesystem. So a claim mounted at a directory inside the working
 * directory receives every output whose destination is under that directory, and the outputs
 * survive the pod.
 */
import * as path from "node:path";
import type { VolumeEntry } from "../pods/pod";
import { Problem, Rule } from "../validation/errors";
import { objectOf, rfc1123Subdomain } from "../validation/rules";

/** A volume for the build's local outputs (`SAVE ARTIFACT ... AS LOCAL`, `earthly --artifact`). */
export interface ArtifactsVolume {
  /**
   * An existing PersistentVolumeClaim in the Job's namespace. The Job writes to it; with
   * `ReadWriteOnce`, a helper pod reads it once the build pod has finished.
   */
  claimName: string;
  /** A directory inside the claim to use instead of its root, e.g. one per build (default: the root). */
  subPath?: string;
  /**
   * Where the claim is mounted, relative to the working directory `srcDir` (default `out`): the
   * directory the Earthfile's `AS LOCAL` paths and `--artifact` destinations name, e.g.
   * `SAVE ARTIFACT app AS LOCAL out/app`.
   */
  directory?: string;
}

/** Where a Job's local outputs land: the Job's `artifacts` output. */
export interface ArtifactsLocation {
  /** The PersistentVolumeClaim holding them. */
  claimName: string;
  /** The directory inside the claim (empty: the claim's root). */
  subPath: string;
  /** The directory relative to the working directory, as the Earthfile names it (e.g. `out`). */
  directory: string;
  /** The absolute path in the build pod where the claim is mounted, e.g. `/workspace/out`. */
  mountPath: string;
}

/** The mount directory, relative to `srcDir`, used when none is given. */
export const DEFAULT_ARTIFACTS_DIRECTORY = "out";
/** The volume's name in the pod. */
export const ARTIFACTS_VOLUME_NAME = "artifacts";

/** A relative, normalised path inside its parent: no `..`, no leading or trailing `/`, no control characters. */
function relativePathRule(extra: (value: string) => boolean, what: string): Rule<string> {
  return (value, field) =>
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= 253 &&
    !value.startsWith("/") &&
    !value.endsWith("/") &&
    path.posix.normalize(value) === value &&
    value !== "." &&
    !value.split("/").includes("..") &&
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    !/[\u0000-\u001f\u007f:]/.test(value) &&
    extra(value)
      ? []
      : [{ field, value, allowed: what }];
}

/** Checks an {@link ArtifactsVolume}. */
export const artifactsVolumeRule: Rule<ArtifactsVolume> = (value, field) => [
  ...(value.claimName === undefined
    ? [
        {
          field: `${field}.claimName`,
          value: undefined,
          allowed: "the name of an existing PersistentVolumeClaim",
        },
      ]
    : []),
  ...objectOf<ArtifactsVolume>({
    claimName: rfc1123Subdomain,
    subPath: relativePathRule(() => true, "a relative, normalised path inside the claim, without '..'"),
    directory: relativePathRule(
      (v) => v.split("/")[0] !== ".tmp-earthly-out",
      "a relative, normalised path inside srcDir, without '..', not Earthly's .tmp-earthly-out",
    ),
  })(value, field),
];

/** Where the artifacts volume is mounted for a source directory. */
export function artifactsMountPath(volume: ArtifactsVolume, srcDir: string): string {
  return path.posix.join(srcDir, volume.directory ?? DEFAULT_ARTIFACTS_DIRECTORY);
}

/** The pod volume and the container mount of the artifacts claim, if any. */
export function artifactsVolumeEntry(volume: ArtifactsVolume | undefined, srcDir: string): VolumeEntry[] {
  if (volume === undefined) return [];
  return [
    {
      volume: { name: ARTIFACTS_VOLUME_NAME, persistentVolumeClaim: { claimName: volume.claimName } },
      mount: {
        name: ARTIFACTS_VOLUME_NAME,
        mountPath: artifactsMountPath(volume, srcDir),
        ...(volume.subPath !== undefined ? { subPath: volume.subPath } : {}),
      },
    },
  ];
}

/** The `artifacts` output: where the outputs land, or `undefined` without an artifacts volume. */
export function artifactsLocation(
  volume: ArtifactsVolume | undefined,
  srcDir: string,
): ArtifactsLocation | undefined {
  if (volume === undefined) return undefined;
  return {
    claimName: volume.claimName,
    subPath: volume.subPath ?? "",
    directory: volume.directory ?? DEFAULT_ARTIFACTS_DIRECTORY,
    mountPath: artifactsMountPath(volume, srcDir),
  };
}

/** Problems of the artifacts volume together with the source volume: the claim cannot be both. */
export function artifactsSourceConflict(
  volume: ArtifactsVolume | undefined,
  sourceClaim: string | undefined,
): Problem[] {
  return volume !== undefined && sourceClaim !== undefined && volume.claimName === sourceClaim
    ? [
        {
          field: "artifacts.claimName",
          value: volume.claimName,
          allowed: "a claim other than sourceVolume's: the outputs already land there, under srcDir",
        },
      ]
    : [];
}
