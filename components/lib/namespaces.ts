/**
 * Namespaces for builders and clients, labelled for Pod Security Admission.
 */
import { KubeObject } from "./earthlyPod";

/** Pod Security Standard levels. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/**
 * A Namespace enforcing a Pod Security level. Privileged build daemons need `privileged`; Earthly
 * clients of a remote fleet run under `baseline`.
 */
export function podSecurityNamespace(name: string, level: PodSecurityLevel): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name,
      labels: {
        "pod-security.kubernetes.io/enforce": level,
        "pod-security.kubernetes.io/enforce-version": "latest",
        // Warn and audit at baseline, so privileged namespaces still show what exceeds it.
        "pod-security.kubernetes.io/warn": level === "restricted" ? "restricted" : "baseline",
        "pod-security.kubernetes.io/audit": level === "restricted" ? "restricted" : "baseline",
        "app.kubernetes.io/part-of": "earthly",
        "app.kubernetes.io/managed-by": "pulumi",
      },
    },
  };
}
