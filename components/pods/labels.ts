/**
 * The labels and annotations every workload shares.
 */

/** The label that marks a pod as a client of a buildkitd fleet; the fleet's NetworkPolicy admits these. */
export const CLIENT_OF_LABEL = "earthly-kubernetes/client-of";

/**
 * The role a workload plays, a label value such as `all-in-one`, `client` or `buildkitd`; becomes
 * `app.kubernetes.io/component`. Each workload's file names its own, so a new kind adds no entry here.
 */
export type WorkloadRole = string;

/** The Kubernetes recommended labels for one of our workloads. */
export function recommendedLabels(args: {
  /** `earthly` for client and all-in-one pods, `buildkitd` for daemons. */
  app: "earthly" | "buildkitd";
  /** The component instance, e.g. the Pulumi resource name. */
  instance: string;
  role: WorkloadRole;
  version: string;
}): { [key: string]: string } {
  return {
    "app.kubernetes.io/name": args.app,
    "app.kubernetes.io/instance": args.instance,
    "app.kubernetes.io/component": args.role,
    "app.kubernetes.io/version": args.version,
    "app.kubernetes.io/part-of": "earthly",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** The labels that select a workload's pods; stable across version upgrades (no version label). */
export function selectorLabels(app: "earthly" | "buildkitd", instance: string): { [key: string]: string } {
  return { "app.kubernetes.io/name": app, "app.kubernetes.io/instance": instance };
}

/** A label value derived from arbitrary text: truncated to 63 and trimmed to alphanumerics at both ends. */
export function toLabelValue(text: string): string {
  return text
    .replace(/[^A-Za-z0-9_.-]/g, "-")
    .slice(0, 63)
    .replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
}

/** The annotation that tells the kubernetes provider not to wait for a resource to become ready. */
export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";
