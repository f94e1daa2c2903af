/**
 * Node pools: the labels and taints that set a pool of nodes apart, the scheduling that lands a pod
 * on one, and the scheduler's node-selector and taint checks, to tell which nodes take which pods.
 */
import {
  Scheduling,
  Taint,
  TaintEffect,
  Toleration,
  TolerationOperator,
  taintRule,
  tolerationsFor,
  requiredNodeLabels,
} from "../pods/scheduling";
import { Rule } from "../validation/errors";
import { anyValue, eachOf, integerBetween, labelMap, objectOf, rfc1123Label } from "../validation/rules";

/** A pool of identical nodes, with the labels and taints that set it apart. */
export interface NodePool {
  /** The pool's name, an RFC 1123 label; also set as the node label `earthly-kubernetes/pool`. */
  name: string;
  /** How many nodes the pool has (default 1). */
  nodes?: number;
  /**
   * Extra node labels; not the kubelet's own (`kubernetes.io/arch`, `kubernetes.io/os`,
   * `kubernetes.io/hostname`): the nodes report what they run on, the host's architecture.
   */
  labels?: { [key: string]: string };
  /** Taints that keep other pods off these nodes. */
  taints?: Taint[];
}

/** The node label every pool sets, so a nodeSelector can pick the pool by name. */
export const POOL_LABEL = "earthly-kubernetes/pool";

/**
 * The labels every kubelet sets on its node from what it runs on (its name, OS and architecture, and
 * their deprecated `beta.` forms). Given as a kind node label, the kubelet takes the given value
 * instead (its `--node-labels` override its own), so the node would claim what it is not: kind runs
 * every node on the host's architecture, and its containers are pulled for it (no emulation).
 */
export const KUBELET_OWN_LABELS: readonly string[] = [
  "kubernetes.io/hostname",
  "kubernetes.io/os",
  "kubernetes.io/arch",
  "beta.kubernetes.io/os",
  "beta.kubernetes.io/arch",
];

/** The other labels in Kubernetes' namespaces a kubelet accepts in `--node-labels` (kubelet's `IsKubeletLabel`). */
export const KUBELET_SETTABLE_LABELS: readonly string[] = [
  "topology.kubernetes.io/zone",
  "topology.kubernetes.io/region",
  "failure-domain.beta.kubernetes.io/zone",
  "failure-domain.beta.kubernetes.io/region",
  "beta.kubernetes.io/instance-type",
  "node.kubernetes.io/instance-type",
];

/** The label namespaces (and their subdomains) a kubelet accepts any label of. */
const KUBELET_LABEL_NAMESPACES = ["kubelet.kubernetes.io", "node.kubernetes.io"];

const within = (domain: string, parent: string) => domain === parent || domain.endsWith(`.${parent}`);

/**
 * Why a kind node may not carry this label, or undefined. kind passes node labels to the kubelet
 * (`--node-labels`), which refuses to start with a label in the `kubernetes.io` or `k8s.io`
 * namespaces other than those it may set, and overrides its own with what is given.
 */
function kindNodeLabelProblem(key: string): string | undefined {
  if (KUBELET_OWN_LABELS.includes(key)) {
    return (
      "no such label: the kubelet sets it from the machine (kind runs every node on the host's architecture and " +
      "OS, so a pool of another architecture is a pool on another cluster; pick one with scheduling.architecture)"
    );
  }
  const domain = key.includes("/") ? key.slice(0, key.indexOf("/")) : "";
  const kubernetes = within(domain, "kubernetes.io") || within(domain, "k8s.io");
  if (!kubernetes || KUBELET_SETTABLE_LABELS.includes(key)) return undefined;
  if (KUBELET_LABEL_NAMESPACES.some((namespace) => within(domain, namespace))) return undefined;
  return (
    "a label outside the kubernetes.io and k8s.io namespaces, or one a kubelet may set (under kubelet.kubernetes.io/ " +
    `or node.kubernetes.io/, or ${KUBELET_SETTABLE_LABELS.join(", ")}): the kubelet refuses to start with another`
  );
}

/** Checks a kind node's labels: label syntax, and only labels its kubelet takes for what they say. */
export const kindNodeLabelsRule: Rule<{ [key: string]: string }> = (value, field) => {
  const syntax = labelMap(value, field);
  if (syntax.length > 0) return syntax;
  return Object.keys(value).flatMap((key) => {
    const allowed = kindNodeLabelProblem(key);
    return allowed === undefined
      ? []
      : [{ field: `${field}[${JSON.stringify(key)}]`, value: value[key], allowed }];
  });
};

/** Checks a node pool. */
export const nodePoolRule: Rule<NodePool> = (value, field) => [
  ...rfc1123Label(value.name, `${field}.name`),
  ...objectOf<NodePool>({
    // Checked above.
    name: anyValue,
    nodes: integerBetween(1, 20),
    labels: kindNodeLabelsRule,
    taints: eachOf(taintRule),
  })(value, field),
  ...(value.labels && POOL_LABEL in value.labels
    ? [
        {
          field: `${field}.labels`,
          value: value.labels,
          allowed: `labels other than '${POOL_LABEL}', which is set from the pool name`,
        },
      ]
    : []),
];

/** The labels a pool's nodes carry: the user's, plus the pool label. */
export function poolNodeLabels(pool: NodePool): { [key: string]: string } {
  return { ...(pool.labels ?? {}), [POOL_LABEL]: pool.name };
}

/** The scheduling that puts a pod on this pool and nowhere else. */
export function schedulingForPool(pool: NodePool): Scheduling {
  return {
    nodeSelector: { [POOL_LABEL]: pool.name },
    tolerations: tolerationsFor(pool.taints ?? []),
  };
}

/** What the scheduler's node-selector and taint checks read from a node. */
export interface SchedulableNode {
  /** The node's labels. */
  labels: { [key: string]: string };
  /** The node's taints. */
  taints: readonly Taint[];
}

/** Whether a toleration tolerates a taint, with Kubernetes' rules (`Toleration.ToleratesTaint`). */
export function toleratesTaint(toleration: Toleration, taint: Taint): boolean {
  // An empty effect matches every effect; an empty key (only valid with Exists) every key.
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  switch (toleration.operator || TolerationOperator.Equal) {
    case TolerationOperator.Exists:
      return true;
    case TolerationOperator.Equal:
      return (toleration.value ?? "") === (taint.value ?? "");
    default:
      return false;
  }
}

/**
 * Why a pod with this scheduling cannot be placed on the node; empty when it can. Only the
 * nodeSelector and the taints are checked: `NoSchedule` and `NoExecute` taints must be tolerated,
 * `PreferNoSchedule` only steers. Affinity, resources and ports are not modelled.
 */
export function schedulingMismatches(pod: Scheduling, node: SchedulableNode): string[] {
  const labels = Object.entries(requiredNodeLabels(pod))
    .filter(([key, value]) => node.labels[key] !== value)
    .map(([key, value]) => `nodeSelector ${key}=${value} does not match the node's labels`);
  const taints = node.taints
    .filter((taint) => taint.effect !== TaintEffect.PreferNoSchedule)
    .filter((taint) => !(pod.tolerations ?? []).some((t) => toleratesTaint(t, taint)))
    .map(
      (taint) => `taint ${taint.key}${taint.value ? `=${taint.value}` : ""}:${taint.effect} is not tolerated`,
    );
  return [...labels, ...taints];
}

/** Whether a pod with this scheduling can be placed on the node (see {@link schedulingMismatches}). */
export function podFitsNode(pod: Scheduling, node: SchedulableNode): boolean {
  return schedulingMismatches(pod, node).length === 0;
}

/** The nodes a pod with this scheduling can be placed on, in the given order. */
export function nodesAccepting<N extends SchedulableNode>(pod: Scheduling, nodes: readonly N[]): N[] {
  return nodes.filter((node) => podFitsNode(pod, node));
}
