/**
 * PersistentVolumes made by hand on the node (no provisioner runs here), each reserved for one
 * claim by name, and the claims that take them.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import { NODE_NAME } from "./fixture";

/** A claim's namespace and name. */
export interface ClaimName {
  namespace: string;
  name: string;
}

/**
 * A PersistentVolume of `kind` at folder `dir` on the node, reserved for `claim`. A `local` volume is
 * tied to the node and gets the pod's fsGroup from the kubelet; a `hostPath` one does not.
 */
export function nodeVolume(
  name: string,
  kind: "local" | "hostPath",
  dir: string,
  claim: ClaimName,
  options: { storageClassName?: string; capacity?: string } = {},
): kubernetes.types.input.core.v1.PersistentVolume {
  return {
    metadata: { name },
    spec: {
      capacity: { storage: options.capacity ?? "1Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: options.storageClassName ?? "",
      claimRef: { namespace: claim.namespace, name: claim.name },
      ...(kind === "local"
        ? {
            local: { path: dir },
            nodeAffinity: {
              required: {
                nodeSelectorTerms: [
                  {
                    matchExpressions: [
                      { key: "kubernetes.io/hostname", operator: "In", values: [NODE_NAME] },
                    ],
                  },
                ],
              },
            },
          }
        : { hostPath: { path: dir, type: "Directory" } }),
    },
  };
}

/** The claim that takes volume `volumeName` (class "": no provisioner is asked). */
export function claimOfVolume(
  claim: ClaimName,
  volumeName: string,
  size = "1Gi",
): kubernetes.types.input.core.v1.PersistentVolumeClaim {
  return {
    metadata: { name: claim.name, namespace: claim.namespace },
    spec: {
      accessModes: ["ReadWriteOnce"],
      storageClassName: "",
      volumeName,
      resources: { requests: { storage: size } },
    },
  };
}
