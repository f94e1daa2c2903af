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
  /** Extra node labels. */
  labels?: { [key: string]: string };
  /** Taints that keep other pods off these nodes. */
  taints?: Taint[];
}

/** The node label every pool sets, so a nodeSelector can pick the pool by name. */
export const POOL_LABEL = "earthly-kubernetes/pool";

/** Checks a node pool. */
export const nodePoolRule: Rule<NodePool> = (value, field) => [
  ...rfc1123Label(value.name, `${field}.name`),
  ...objectOf<NodePool>({
    // Checked above.
    name: anyValue,
    nodes: integerBetween(1, 20),
    labels: labelMap,
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
