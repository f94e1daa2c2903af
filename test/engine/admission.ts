/**
 * What the engine tier's tests ask the API server directly, the way a platform team would with
 * kubectl: namespaces under a Pod Security level, and a server-side dry run of a pod spec (the API
 * server's validation and admission, warnings included, with nothing created).
 */
import type { ControlPlane } from "./controlPlane";

/** A Pod Security Standards level, as the namespace label takes it. */
export type PodSecurityLevel = "privileged" | "baseline" | "restricted";

/** Creates each namespace, enforcing its level (and, with `warn`, warning at it too). */
export function createNamespaces(
  cp: ControlPlane,
  levels: readonly (readonly [namespace: string, level: PodSecurityLevel])[],
  options: { warn?: boolean } = {},
): void {
  for (const [namespace, level] of levels) {
    cp.kubectl(["create", "namespace", namespace]);
    cp.kubectl(["label", "namespace", namespace, `pod-security.kubernetes.io/enforce=${level}`]);
    if (options.warn)
      cp.kubectl(["label", "namespace", namespace, `pod-security.kubernetes.io/warn=${level}`]);
  }
}

/** A server-side dry run of a pod with this spec in `namespace`: its exit status and what it printed. */
export function dryRunPod(
  cp: ControlPlane,
  namespace: string,
  spec: unknown,
  name = "admission-check",
): { status: number; stderr: string } {
  const pod = { apiVersion: "v1", kind: "Pod", metadata: { name, namespace }, spec };
  return cp.tryKubectl(["create", "--dry-run=server", "-f", "-"], JSON.stringify(pod));
}
