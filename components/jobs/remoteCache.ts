/**
 * Earthly's registry cache (`--remote-cache`, `--max-remote-cache`) as a typed input of both Jobs.
 * What Earthly v0.8.16 does with it (`cmd/earthly/subcmd/build_cmd.go`): it always imports the cache
 * image, and exports to it only when the build runs with `--push`; `--max-remote-cache` exports every
 * intermediate layer instead of the final stages'. The registry credentials are the Job's own
 * (`dockerConfigSecret`), as for an image push.
 */
import { Rule } from "../validation/errors";
import { booleanValue, imageReference, objectOf, required } from "../validation/rules";
import { lastTrueFlag } from "./flags";

/** A registry image that holds the build's cache, shared by every build that names it. */
export interface RemoteCache {
  /**
   * The cache image with a tag, e.g. `registry.example.com/acme/app-cache:main` (one tag per branch
   * keeps branches from evicting each other's layers). Read by every build; written by builds that
   * run with `--push`, with the Job's registry credentials (`dockerConfigSecret`).
   */
  image: string;
  /**
   * Export every intermediate layer too (`--max-remote-cache`): more hits for later builds, a bigger
   * cache image and a longer push. Default: only the final stages' layers.
   */
  max?: boolean;
}

const cacheFields = objectOf<RemoteCache>({ image: imageReference, max: booleanValue });

/** Checks a {@link RemoteCache}: an image with a tag (a digest cannot be written to). */
export const remoteCacheRule: Rule<RemoteCache> = (value, field) => {
  const problems = cacheFields(value, field);
  if (problems.length > 0) return problems;
  const missing = required(`${field}.image`, value.image, "the cache image, with a tag");
  if (missing.length > 0) return missing;
  return value.image.includes("@")
    ? [
        {
          field: `${field}.image`,
          value: value.image,
          allowed: "an image with a tag and no digest: the build writes the cache to the tag",
        },
      ]
    : [];
};

/** The flags for a cache: `--remote-cache=<image>`, and `--max-remote-cache` with `max`. */
export function remoteCacheFlags(cache: RemoteCache | undefined): string[] {
  if (cache === undefined) return [];
  return [`--remote-cache=${cache.image}`, ...(cache.max === true ? ["--max-remote-cache"] : [])];
}

/**
 * A warning when the cache will be read and never written: the flags have no `--push`. Not a
 * refusal: a build may read a cache that another (pushing) build writes.
 */
export function remoteCacheWarning(
  component: string,
  cache: RemoteCache | undefined,
  flags: readonly string[] | undefined,
): string | undefined {
  if (cache === undefined || lastTrueFlag(flags ?? [], "push") >= 0) return undefined;
  return (
    `${component}: remoteCache ${cache.image} is read but not written: Earthly exports the cache only ` +
    "with --push. Add --push to flags where this build should refresh it."
  );
}
