/**
 * Node pools, taints and the scheduling (nodeSelector + tolerations) that lands a pod on them.
 * Shared by the kind cluster (which creates tainted pools) and every workload (which tolerates them).
 */
import { Rule } from "../validation/errors";
import { eachOf, integerBetween, labelKey, labelMap, labelValue, objectOf, oneOf } from "../validation/rules";

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
  /**
   * The CPU architecture of the nodes the pod may run on, as the kubelet reports it in
   * `kubernetes.io/arch` (`amd64`, `arm64`, ...): added to the nodeSelector. Builds then run natively
   * for that platform (no emulation); one `BuildkitdFleet` per architecture, each with its own name.
   */
  architecture?: string;
}

/** The node label the kubelet sets to its CPU architecture (Go's GOARCH). */
export const ARCH_LABEL = "kubernetes.io/arch";

/** The architectures Kubernetes publishes node binaries for (its `kubernetes.io/arch` values). */
export const NODE_ARCHITECTURES: readonly string[] = ["amd64", "arm64", "arm", "ppc64le", "s390x"];

/** The node labels a pod with this scheduling requires: its nodeSelector, and the architecture. */
export function requiredNodeLabels(scheduling: Scheduling | undefined): { [key: string]: string } {
  return {
    ...(scheduling?.nodeSelector ?? {}),
    ...(scheduling?.architecture !== undefined ? { [ARCH_LABEL]: scheduling.architecture } : {}),
  };
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
    // Empty is Kubernetes' "every key" (checked below: only with `Exists`), as is no key at all.
    key: (key, at) => (key === "" ? [] : labelKey(key, at)),
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

const schedulingFields = objectOf<Scheduling>({
  nodeSelector: labelMap,
  tolerations: eachOf(tolerationRule),
  architecture: oneOf(NODE_ARCHITECTURES),
});

/** Checks a scheduling block; `architecture` and a nodeSelector on `kubernetes.io/arch` must agree. */
export const schedulingRule: Rule<Scheduling> = (value, field) => {
  const problems = schedulingFields(value, field);
  if (problems.length > 0) return problems;
  const selected = value.nodeSelector?.[ARCH_LABEL];
  return value.architecture !== undefined && selected !== undefined && selected !== value.architecture
    ? [
        {
          field: `${field}.nodeSelector["${ARCH_LABEL}"]`,
          value: selected,
          allowed: `'${value.architecture}', the architecture given, or no such key`,
        },
      ]
    : [];
};

/** The tolerations that exactly match a list of taints. */
export function tolerationsFor(taints: readonly Taint[]): Toleration[] {
  return taints.map((taint) => ({
    key: taint.key,
    operator: TolerationOperator.Equal,
    value: taint.value ?? "",
    effect: taint.effect,
  }));
}
