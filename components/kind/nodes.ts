/**
 * The nodes kind makes from a configuration: their names, and the labels and taints their Node
 * objects carry once they have joined. Read back from the rendered configuration (the YAML
 * `renderKindConfig` gives `kind create cluster`), so the model cannot drift from what kind is told.
 *
 * What kind, kubeadm and the kubelet add to the configuration:
 * - names: kind names nodes `<cluster>-<role>`, numbering each role from its second node on, in
 *   configuration order: `<cluster>-control-plane`, `<cluster>-worker`, `<cluster>-worker2`, ...;
 * - labels: the kubelet's `kubernetes.io/hostname` (the node name), `kubernetes.io/os`,
 *   `kubernetes.io/arch` and their deprecated `beta.kubernetes.io/` forms; kubeadm's
 *   `node-role.kubernetes.io/control-plane` and `node.kubernetes.io/exclude-from-external-load-balancers`
 *   (both empty) on control-plane nodes;
 * - taints: kubeadm registers a node with its configuration's `nodeRegistration.taints` (our pools'
 *   taints travel in a JoinConfiguration patch), and a control-plane node, when none are given, with
 *   `node-role.kubernetes.io/control-plane:NoSchedule`. kind removes that taint only from a cluster of
 *   exactly one node: once a cluster has workers, its control plane takes no ordinary pod.
 */
import * as YAML from "yaml";
import { sortedByKey } from "../values/deterministic";
import { KindConfigInput, renderKindConfig } from "./kindConfig";
import { Taint, TaintEffect } from "../pods/scheduling";

/** A kind node's role. */
export type KindNodeRole = "control-plane" | "worker";

/** A node as kind creates it: the name, labels and taints of its Node object. */
export interface KindNode {
  /** The node's name (also its container's name and its hostname). */
  name: string;
  /** The node's role in the kind configuration. */
  role: KindNodeRole;
  /** The Node object's labels. */
  labels: { [key: string]: string };
  /** The Node object's taints, in registration order; a taint without value has no `value`. */
  taints: Taint[];
}

/** The taint kubeadm gives control-plane nodes (kind removes it only in a one-node cluster). */
export const CONTROL_PLANE_TAINT: Readonly<Taint> = Object.freeze({
  key: "node-role.kubernetes.io/control-plane",
  effect: TaintEffect.NoSchedule,
});

/** The architecture the kubelet reports when none is given: kind's usual `kindest/node` hosts. */
export const DEFAULT_NODE_ARCH = "amd64";

/**
 * The nodes kind makes from this configuration input, in creation order. `arch` is what the
 * kubelet reports in `kubernetes.io/arch` (the host's architecture, e.g. `arm64` on Apple silicon).
 */
export function kindNodes(clusterName: string, input: KindConfigInput, arch = DEFAULT_NODE_ARCH): KindNode[] {
  return kindNodesFromConfig(clusterName, renderKindConfig(input), arch);
}

type Patchable = { role?: unknown; labels?: unknown; kubeadmConfigPatches?: unknown };

/** The nodes kind makes from a kind configuration given as YAML text (e.g. a Command's stdin). */
export function kindNodesFromConfig(
  clusterName: string,
  configYaml: string,
  arch = DEFAULT_NODE_ARCH,
): KindNode[] {
  const config = (YAML.parse(configYaml) ?? {}) as Patchable & { nodes?: unknown };
  // kind's default when the configuration lists no nodes: one control plane.
  const listed = Array.isArray(config.nodes) ? (config.nodes as Patchable[]) : [{ role: "control-plane" }];
  const clusterPatches = patchesOf(config);
  const counters = new Map<KindNodeRole, number>();
  let bootstrapped = false;
  const nodes = listed.map((entry): KindNode => {
    const role = roleOf(entry.role);
    const count = (counters.get(role) ?? 0) + 1;
    counters.set(role, count);
    const name = `${clusterName}-${role}${count > 1 ? count : ""}`;
    // The first control plane runs `kubeadm init` (InitConfiguration); every other node joins.
    const bootstrap = role === "control-plane" && !bootstrapped;
    bootstrapped ||= bootstrap;
    const patches = [...clusterPatches, ...patchesOf(entry)];
    const given = registrationTaints(patches, bootstrap ? "InitConfiguration" : "JoinConfiguration");
    const taints = given ?? (role === "control-plane" ? [{ ...CONTROL_PLANE_TAINT }] : []);
    const labels = {
      "kubernetes.io/hostname": name,
      "kubernetes.io/os": "linux",
      "kubernetes.io/arch": arch,
      "beta.kubernetes.io/os": "linux",
      "beta.kubernetes.io/arch": arch,
      ...stringMap(entry.labels),
      ...(role === "control-plane"
        ? {
            "node-role.kubernetes.io/control-plane": "",
            "node.kubernetes.io/exclude-from-external-load-balancers": "",
          }
        : {}),
    };
    return { name, role, labels: sortedByKey(labels), taints };
  });
  if (nodes.length === 1) {
    // `kubectl taint nodes --all node-role.kubernetes.io/control-plane-`: every effect of that key.
    nodes[0].taints = nodes[0].taints.filter((t) => t.key !== CONTROL_PLANE_TAINT.key);
  }
  return nodes;
}

function roleOf(value: unknown): KindNodeRole {
  if (value === "control-plane" || value === "worker") return value;
  throw new Error(`kind node role ${JSON.stringify(value)} is neither 'control-plane' nor 'worker'`);
}

function stringMap(value: unknown): { [key: string]: string } {
  if (value === null || typeof value !== "object") return {};
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, String(v)]));
}

/** The objects of every `kubeadmConfigPatches` entry (each entry is YAML text, maybe several documents). */
function patchesOf(holder: Patchable): unknown[] {
  const texts = Array.isArray(holder.kubeadmConfigPatches) ? holder.kubeadmConfigPatches : [];
  return texts.flatMap((text) =>
    typeof text === "string" ? YAML.parseAllDocuments(text).map((doc) => doc.toJS() as unknown) : [],
  );
}

/** The taints the last patch of this kubeadm kind registers the node with; undefined when none does. */
function registrationTaints(patches: unknown[], kind: string): Taint[] | undefined {
  let found: Taint[] | undefined;
  for (const patch of patches) {
    const p = (patch ?? {}) as { kind?: unknown; nodeRegistration?: { taints?: unknown } };
    if (p.kind !== kind || !Array.isArray(p.nodeRegistration?.taints)) continue;
    found = (p.nodeRegistration.taints as { key?: unknown; value?: unknown; effect?: unknown }[]).map((t) => {
      const value = t.value === undefined || t.value === null ? "" : String(t.value);
      const key = String(t.key);
      const effect = String(t.effect) as TaintEffect;
      // The API server drops an empty value: the Node object carries none.
      return value === "" ? { key, effect } : { key, value, effect };
    });
  }
  return found;
}
