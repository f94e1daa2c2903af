/**
 * Node pools, taints and the scheduling (nodeSelector + tolerations) that lands a pod on them.
 * Shared by the kind cluster (which creates tainted pools) and every workload (which tolerates them).
 */
import { Rule } from "../validation/errors";
import {
  anyValue,
  eachOf,
  integerBetween,
  labelKey,
  labelMap,
  labelValue,
  objectOf,
  oneOf,
  rfc1123Label,
} from "../validation/rules";

/** How a taint repels pods that do not tolerate it. */
export const TaintEffect = {
  /** New pods that do not tolerate the taint are not scheduled on the node. */
  NoSchedule: "NoSchedule",
  /** The scheduler tries to avoid the node for pods that do not tolerate the taint. */
  PreferNoSchedule: "PreferNoSchedule",
  /** Pods that do not tolerate the taint are evicted as well as not scheduled. */
  NoExecute: "NoExecute",
} as const;
/** How a taint repels pods that do not tolerate it. */
export type TaintEffect = (typeof TaintEffect)[keyof typeof TaintEffect];

/** How a toleration matches a taint. */
export const TolerationOperator = {
  /** The toleration's value must equal the taint's value. */
  Equal: "Equal",
  /** Any value of the key matches. */
  Exists: "Exists",
} as const;
/** How a toleration matches a taint. */
export type TolerationOperator = (typeof TolerationOperator)[keyof typeof TolerationOperator];

/** A node taint. */
export interface Taint {
  /** The taint key, e.g. `earthly.dev/builder`. */
  key: string;
  /** The taint value (may be empty). */
  value?: string;
  /** The effect: `NoSchedule`, `PreferNoSchedule` or `NoExecute`. */
  effect: TaintEffect;
}

/** A pod toleration, as in the Kubernetes API. */
export interface Toleration {
  /** The taint key this toleration matches; empty with operator `Exists` matches every taint. */
  key?: string;
  /** `Equal` (default) or `Exists`. */
  operator?: TolerationOperator;
  /** The value to match when the operator is `Equal`. */
  value?: string;
  /** The effect to match; empty matches every effect. */
  effect?: TaintEffect;
  /** For `NoExecute`: how long the pod stays bound after the taint appears. */
  tolerationSeconds?: number;
}

/** Where a pod may run: the node labels it requires and the taints it tolerates. */
export interface Scheduling {
  /** Node labels a node must carry for the pod to run there. */
  nodeSelector?: { [key: string]: string };
  /** Taints the pod tolerates. */
  tolerations?: Toleration[];
}

export const TAINT_EFFECTS = Object.values(TaintEffect);
export const TOLERATION_OPERATORS = Object.values(TolerationOperator);

/** Checks a taint. */
export const taintRule: Rule<Taint> = (value, field) => [
  ...(value.key === undefined ? [{ field: `${field}.key`, value: value.key, allowed: "a label key" }] : []),
  ...objectOf<Taint>({ key: labelKey, value: labelValue, effect: oneOf(TAINT_EFFECTS) })(value, field),
  ...(value.effect === undefined
    ? [{ field: `${field}.effect`, value: value.effect, allowed: `one of ${TAINT_EFFECTS.join(", ")}` }]
    : []),
];

/** Checks a toleration, with the Kubernetes rules that `Exists` carries no value and an empty key needs `Exists`. */
export const tolerationRule: Rule<Toleration> = (value, field) => [
  ...objectOf<Toleration>({
    key: labelKey,
    value: labelValue,
    operator: oneOf(TOLERATION_OPERATORS),
    effect: oneOf(TAINT_EFFECTS),
    tolerationSeconds: integerBetween(0, 2 ** 31 - 1),
  })(value, field),
  ...(value.operator === "Exists" && value.value
    ? [{ field: `${field}.value`, value: value.value, allowed: "no value when operator is 'Exists'" }]
    : []),
  // An empty key matches every taint, which Kubernetes allows only with `Exists`.
  ...((value.key === undefined || value.key === "") && value.operator !== "Exists"
    ? [
        {
          field: `${field}.operator`,
          value: value.operator ?? "Equal",
          allowed: "'Exists' when the key is empty (a toleration of every taint)",
        },
      ]
    : []),
  ...(value.tolerationSeconds !== undefined && value.effect !== "NoExecute"
    ? [
        {
          field: `${field}.tolerationSeconds`,
          value: value.tolerationSeconds,
          allowed: "only with effect 'NoExecute'",
        },
      ]
    : []),
];

/** Checks a scheduling block. */
export const schedulingRule: Rule<Scheduling> = objectOf<Scheduling>({
  nodeSelector: labelMap,
  tolerations: eachOf(tolerationRule),
});

/** The tolerations that exactly match a list of taints. */
export function tolerationsFor(taints: readonly Taint[]): Toleration[] {
  return taints.map((taint) => ({
    key: taint.key,
    operator: TolerationOperator.Equal,
    value: taint.value ?? "",
    effect: taint.effect,
  }));
}

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
  const labels = Object.entries(pod.nodeSelector ?? {})
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
