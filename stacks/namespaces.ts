/**
 * The demo's namespaces, labelled for Pod Security Admission: privileged builders in one, clients in
 * another that enforces a stricter level.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Pod Security Standard levels. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** The labels that make a namespace enforce a Pod Security level. */
export function podSecurityLabels(level: PodSecurityLevel): { [key: string]: string } {
  // Warn and audit at least at baseline, so a privileged namespace still shows what exceeds it.
  const report = level === "restricted" ? "restricted" : "baseline";
  return {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": report,
    "pod-security.kubernetes.io/audit": report,
    "app.kubernetes.io/part-of": "earthly",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/** A namespace enforcing a Pod Security level. */
export function securedNamespace(
  name: string,
  level: PodSecurityLevel,
  opts: pulumi.CustomResourceOptions,
): kubernetes.core.v1.Namespace {
  return new kubernetes.core.v1.Namespace(
    name,
    { metadata: { name, labels: podSecurityLabels(level) } },
    opts,
  );
}
