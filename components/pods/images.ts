/**
 * The images every workload runs: the default release and repositories, and how a reference is made.
 */

/** The Earthly release used when none is given. Client and daemon always share one version. */
export const DEFAULT_EARTHLY_VERSION = "v0.8.16";
/** The default repository of the Earthly client / all-in-one image. */
export const DEFAULT_EARTHLY_IMAGE_REPOSITORY = "earthly/earthly";
/** The default repository of the buildkitd daemon image. */
export const DEFAULT_BUILDKITD_IMAGE_REPOSITORY = "earthly/buildkitd";

/**
 * An image reference from a repository and a version tag, pinned to `digest` (`sha256:<64 hex>`)
 * when given: `repo:tag@sha256:...`, which the runtime pulls by digest (the tag is then only a label).
 */
export function imageFor(repository: string, version: string, digest?: string): string {
  return digest === undefined ? `${repository}:${version}` : `${repository}:${version}@${digest}`;
}

/** The Earthly client / all-in-one image: the override if given, else repository, version and digest. */
export function earthlyImage(args: {
  image?: string;
  imageRepository?: string;
  earthlyVersion?: string;
  imageDigest?: string;
}): string {
  return (
    args.image ??
    imageFor(
      args.imageRepository ?? DEFAULT_EARTHLY_IMAGE_REPOSITORY,
      args.earthlyVersion ?? DEFAULT_EARTHLY_VERSION,
      args.imageDigest,
    )
  );
}
