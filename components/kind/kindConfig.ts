/**
 * The kind cluster configuration (`kind.x-k8s.io/v1alpha4`), built as data and serialised with the
 * YAML library, so that no user value is ever glued into text.
 */
import { createHash } from "node:crypto";
import * as YAML from "yaml";
import { pruneUndefined, sortedByKey } from "../values/deterministic";
import { NodePool, poolNodeLabels } from "./pools";

/** kube-proxy's mode in a kind cluster. */
export const KubeProxyMode = {
  /** iptables rules (kind's default). */
  Iptables: "iptables",
  /** IPVS load balancing. */
  Ipvs: "ipvs",
  /** nftables rules (newer kind and Kubernetes). */
  Nftables: "nftables",
  /** No kube-proxy, for CNIs that replace it. */
  None: "none",
} as const;
/** kube-proxy's mode in a kind cluster. */
export type KubeProxyMode = (typeof KubeProxyMode)[keyof typeof KubeProxyMode];

/** IP families a kind cluster can use. */
export const IpFamily = {
  /** IPv4 only. */
  Ipv4: "ipv4",
  /** IPv6 only. */
  Ipv6: "ipv6",
  /** Both. */
  Dual: "dual",
} as const;
/** IP families a kind cluster can use. */
export type IpFamily = (typeof IpFamily)[keyof typeof IpFamily];

/** The `networking` section of the kind configuration, passed through as given. */
export interface KindNetworking {
  /** Skip kind's default CNI (kindnet), e.g. to install Calico; nodes stay NotReady until a CNI runs. */
  disableDefaultCNI?: boolean;
  /** The pod network CIDR. */
  podSubnet?: string;
  /** The service network CIDR. */
  serviceSubnet?: string;
  /** The host address the API server listens on (default 127.0.0.1). */
  apiServerAddress?: string;
  /** The host port the API server listens on (default: a random free port). */
  apiServerPort?: number;
  /** kube-proxy's mode. */
  kubeProxyMode?: KubeProxyMode;
  /** The cluster's IP family. */
  ipFamily?: IpFamily;
}

/** Everything the kind configuration is built from. */
export interface KindConfigInput {
  /** Node image for every node, e.g. `kindest/node:v1.31.0`; kind's default when unset. */
  nodeImage?: string;
  /** Extra labels for the control-plane node. */
  controlPlaneLabels?: { [key: string]: string };
  /** Worker pools, in order. */
  workerPools: readonly NodePool[];
  /** Passed through to the `networking` section. */
  networking?: KindNetworking;
}

/** The node label holding a hash of the configuration, which marks a cluster as created by us. */
export const CONFIG_HASH_LABEL = "earthly-kubernetes/kind-config";

/** A node as the kind configuration lists it (`kindNodes` models the Node object kind makes of it). */
type KindConfigNode = {
  role: "control-plane" | "worker";
  image?: string;
  labels?: { [key: string]: string };
  kubeadmConfigPatches?: string[];
};

/** The kind configuration as data, without the ownership marker. */
function buildUnmarkedKindConfig(input: KindConfigInput): { [key: string]: unknown } {
  const image = input.nodeImage ? { image: input.nodeImage } : {};
  const controlPlane: KindConfigNode = {
    role: "control-plane",
    ...image,
    ...(input.controlPlaneLabels && Object.keys(input.controlPlaneLabels).length > 0
      ? { labels: sortedByKey(input.controlPlaneLabels) }
      : {}),
  };
  const workers = input.workerPools.flatMap((pool) => {
    const node: KindConfigNode = { role: "worker", ...image, labels: sortedByKey(poolNodeLabels(pool)) };
    if (pool.taints && pool.taints.length > 0) {
      // kind has no taint field; kubeadm's JoinConfiguration registers the node with them.
      const patch = {
        kind: "JoinConfiguration",
        nodeRegistration: {
          taints: pool.taints.map((t) => ({ key: t.key, value: t.value ?? "", effect: t.effect })),
        },
      };
      node.kubeadmConfigPatches = [YAML.stringify(patch)];
    }
    return Array.from({ length: pool.nodes ?? 1 }, () => node);
  });
  const networking = input.networking ? pruneUndefined({ ...input.networking }) : {};
  return {
    kind: "Cluster",
    apiVersion: "kind.x-k8s.io/v1alpha4",
    ...(Object.keys(networking).length > 0 ? { networking } : {}),
    nodes: [controlPlane, ...workers],
  };
}

/** A short, stable hash of the configuration: what identifies a cluster this component created. */
export function kindConfigHash(input: KindConfigInput): string {
  const canonical = JSON.stringify(buildUnmarkedKindConfig(input));
  return createHash("sha256").update(canonical).digest("hex").slice(0, 40);
}

/**
 * The kind configuration as data. The control-plane node carries {@link CONFIG_HASH_LABEL}, so the
 * create script can tell a cluster it made (say, before a crash) from one somebody else made.
 */
export function buildKindConfig(input: KindConfigInput): { [key: string]: unknown } {
  const config = buildUnmarkedKindConfig(input);
  const nodes = config.nodes as KindConfigNode[];
  nodes[0] = {
    ...nodes[0],
    labels: sortedByKey({ ...(nodes[0].labels ?? {}), [CONFIG_HASH_LABEL]: kindConfigHash(input) }),
  };
  return config;
}

/** The kind configuration as YAML text, byte-identical for identical input. */
export function renderKindConfig(input: KindConfigInput): string {
  // Every node written out in full: no YAML anchors or aliases for kind's loader to resolve.
  return YAML.stringify(buildKindConfig(input), {
    sortMapEntries: false,
    lineWidth: 0,
    aliasDuplicateObjects: false,
  });
}
