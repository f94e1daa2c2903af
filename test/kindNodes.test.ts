/**
 * The model of the nodes kind makes (names, labels, taints) and the scheduling helpers that ask
 * whether a pod's nodeSelector and tolerations fit a node.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { CONFIG_HASH_LABEL, kindConfigHash, renderKindConfig } from "../components/kind/kindConfig";
import { CONTROL_PLANE_TAINT, kindNodes, kindNodesFromConfig } from "../components/kind/nodes";
import { Taint, Toleration } from "../components/pods/scheduling";
import {
  NodePool,
  SchedulableNode,
  nodesAccepting,
  podFitsNode,
  schedulingForPool,
  schedulingMismatches,
  toleratesTaint,
} from "../components/kind/pools";

const BUILDERS: NodePool = {
  name: "builders",
  nodes: 2,
  labels: { "earthly.dev/role": "builder" },
  taints: [{ key: "earthly.dev/builder", value: "true", effect: "NoSchedule" }],
};
const GENERAL: NodePool = { name: "general", labels: { "earthly.dev/role": "general" } };
const KUBELET = (name: string, arch = "amd64") => ({
  "beta.kubernetes.io/arch": arch,
  "beta.kubernetes.io/os": "linux",
  "kubernetes.io/arch": arch,
  "kubernetes.io/hostname": name,
  "kubernetes.io/os": "linux",
});
const CONTROL_PLANE_LABELS = {
  "node-role.kubernetes.io/control-plane": "",
  "node.kubernetes.io/exclude-from-external-load-balancers": "",
};

describe("kindNodes", () => {
  test("names: the control plane, then workers numbered from the second on, in configuration order", () => {
    const nodes = kindNodes("demo", { workerPools: [BUILDERS, GENERAL] });
    assert.deepEqual(
      nodes.map((n) => [n.name, n.role]),
      [
        ["demo-control-plane", "control-plane"],
        ["demo-worker", "worker"],
        ["demo-worker2", "worker"],
        ["demo-worker3", "worker"],
      ],
    );
  });

  test("labels and taints of every node, as the Node objects carry them", () => {
    const input = { controlPlaneLabels: { "example.com/zone": "a" }, workerPools: [BUILDERS, GENERAL] };
    const [controlPlane, builder1, builder2, general] = kindNodes("demo", input);
    assert.deepEqual(controlPlane.labels, {
      ...KUBELET("demo-control-plane"),
      ...CONTROL_PLANE_LABELS,
      [CONFIG_HASH_LABEL]: kindConfigHash(input),
      "example.com/zone": "a",
    });
    // The cluster has workers: kind leaves kubeadm's control-plane taint in place.
    assert.deepEqual(controlPlane.taints, [
      { key: "node-role.kubernetes.io/control-plane", effect: "NoSchedule" },
    ]);
    for (const [node, name] of [
      [builder1, "demo-worker"],
      [builder2, "demo-worker2"],
    ] as const) {
      assert.deepEqual(node.labels, {
        ...KUBELET(name),
        "earthly-kubernetes/pool": "builders",
        "earthly.dev/role": "builder",
      });
      assert.deepEqual(node.taints, [{ key: "earthly.dev/builder", value: "true", effect: "NoSchedule" }]);
    }
    assert.deepEqual(general.labels, {
      ...KUBELET("demo-worker3"),
      "earthly-kubernetes/pool": "general",
      "earthly.dev/role": "general",
    });
    assert.deepEqual(general.taints, []);
  });

  test("a one-node cluster: kind removes the control-plane taint; the labels stay", () => {
    const [only, ...rest] = kindNodes("solo", { workerPools: [] });
    assert.deepEqual(rest, []);
    assert.equal(only.name, "solo-control-plane");
    assert.deepEqual(only.taints, []);
    assert.equal(only.labels["node-role.kubernetes.io/control-plane"], "");
    // A configuration listing no nodes is kind's default: the same single control plane.
    assert.deepEqual(kindNodesFromConfig("solo", "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n"), [
      {
        name: "solo-control-plane",
        role: "control-plane",
        labels: { ...KUBELET("solo-control-plane"), ...CONTROL_PLANE_LABELS },
        taints: [],
      },
    ]);
  });

  test("a taint without value has none on the Node; the architecture is a parameter", () => {
    const pool: NodePool = { name: "gpu", taints: [{ key: "example.com/gpu", effect: "NoExecute" }] };
    const [, worker] = kindNodes("arm", { workerPools: [pool] }, "arm64");
    assert.deepEqual(worker.taints, [{ key: "example.com/gpu", effect: "NoExecute" }]);
    assert.equal(worker.labels["kubernetes.io/arch"], "arm64");
    assert.equal(worker.labels["beta.kubernetes.io/arch"], "arm64");
  });

  test("kindNodes reads the rendered configuration back: the same nodes as from the YAML", () => {
    const input = { workerPools: [BUILDERS, GENERAL] };
    assert.deepEqual(kindNodes("demo", input), kindNodesFromConfig("demo", renderKindConfig(input)));
  });

  test("other kind configurations: several control planes, explicit registration taints", () => {
    const yaml = [
      "kind: Cluster",
      "apiVersion: kind.x-k8s.io/v1alpha4",
      "nodes:",
      "- role: control-plane",
      "  kubeadmConfigPatches:",
      "  - |",
      "    kind: InitConfiguration",
      "    nodeRegistration:",
      "      taints: []",
      "- role: control-plane",
      "- role: worker",
      "",
    ].join("\n");
    const nodes = kindNodesFromConfig("ha", yaml);
    assert.deepEqual(
      nodes.map((n) => [n.name, n.taints]),
      [
        ["ha-control-plane", []],
        ["ha-control-plane2", [{ ...CONTROL_PLANE_TAINT }]],
        ["ha-worker", []],
      ],
    );
    assert.throws(
      () => kindNodesFromConfig("x", "nodes:\n- role: boss\n"),
      /neither 'control-plane' nor 'worker'/,
    );
  });
});

describe("toleratesTaint (Kubernetes' rules)", () => {
  const taint: Taint = { key: "k", value: "v", effect: "NoSchedule" };
  const cases: [string, Toleration, Taint, boolean][] = [
    [
      "Equal, same key, value and effect",
      { key: "k", operator: "Equal", value: "v", effect: "NoSchedule" },
      taint,
      true,
    ],
    ["operator unset means Equal", { key: "k", value: "v" }, taint, true],
    ["Equal, other value", { key: "k", operator: "Equal", value: "w" }, taint, false],
    ["Equal without value, taint with value", { key: "k", operator: "Equal" }, taint, false],
    [
      "Equal, empty value matches a taint without value",
      { key: "k", value: "" },
      { key: "k", effect: "NoSchedule" },
      true,
    ],
    ["other key", { key: "j", operator: "Exists" }, taint, false],
    ["Exists, same key, any value", { key: "k", operator: "Exists" }, taint, true],
    [
      "Exists without key tolerates every taint",
      { operator: "Exists" },
      { key: "x", value: "y", effect: "NoExecute" },
      true,
    ],
    [
      "empty effect matches every effect",
      { key: "k", operator: "Exists" },
      { ...taint, effect: "NoExecute" },
      true,
    ],
    ["other effect", { key: "k", operator: "Exists", effect: "NoExecute" }, taint, false],
    ["Exists without key, but with an effect", { operator: "Exists", effect: "NoExecute" }, taint, false],
  ];
  for (const [title, toleration, t, expected] of cases) {
    test(title, () => assert.equal(toleratesTaint(toleration, t), expected));
  }
});

describe("podFitsNode, schedulingMismatches, nodesAccepting", () => {
  const node = (labels: { [key: string]: string }, taints: Taint[]): SchedulableNode => ({ labels, taints });

  test("NoSchedule and NoExecute must be tolerated; PreferNoSchedule only steers", () => {
    assert.equal(podFitsNode({}, node({}, [{ key: "a", effect: "PreferNoSchedule" }])), true);
    assert.equal(podFitsNode({}, node({}, [{ key: "a", effect: "NoSchedule" }])), false);
    assert.equal(podFitsNode({}, node({}, [{ key: "a", effect: "NoExecute" }])), false);
    assert.deepEqual(schedulingMismatches({}, node({}, [{ key: "a", value: "1", effect: "NoExecute" }])), [
      "taint a=1:NoExecute is not tolerated",
    ]);
    const both = node({}, [
      { key: "a", effect: "NoSchedule" },
      { key: "b", effect: "NoExecute" },
    ]);
    assert.equal(podFitsNode({ tolerations: [{ key: "a", operator: "Exists" }] }, both), false);
    assert.equal(podFitsNode({ tolerations: [{ operator: "Exists" }] }, both), true);
  });

  test("every nodeSelector entry must match a node label exactly", () => {
    const labelled = node({ pool: "builders", zone: "a" }, []);
    assert.equal(podFitsNode({ nodeSelector: { pool: "builders" } }, labelled), true);
    assert.equal(podFitsNode({ nodeSelector: { pool: "builders", zone: "b" } }, labelled), false);
    assert.deepEqual(schedulingMismatches({ nodeSelector: { missing: "" } }, labelled), [
      "nodeSelector missing= does not match the node's labels",
    ]);
  });

  test("a pool's own scheduling lands on its nodes and nowhere else; an untolerating pod on untainted nodes", () => {
    const nodes = kindNodes("demo", { workerPools: [BUILDERS, GENERAL] });
    assert.deepEqual(
      nodesAccepting(schedulingForPool(BUILDERS), nodes).map((n) => n.name),
      ["demo-worker", "demo-worker2"],
    );
    assert.deepEqual(
      nodesAccepting(schedulingForPool(GENERAL), nodes).map((n) => n.name),
      ["demo-worker3"],
    );
    assert.deepEqual(
      nodesAccepting({}, nodes).map((n) => n.name),
      ["demo-worker3"],
    );
    // Only tainted workers: kind keeps the control plane tainted, so nothing takes an ordinary pod.
    assert.deepEqual(nodesAccepting({}, kindNodes("demo", { workerPools: [BUILDERS] })), []);
  });
});
