/**
 * The pure kind configuration builder: `renderKindConfig` output parsed back with the yaml package
 * (and each kubeadm patch parsed too), so what is checked is what kind would read.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as YAML from "yaml";
import {
  CONFIG_HASH_LABEL,
  KindConfigInput,
  buildKindConfig,
  kindConfigHash,
  renderKindConfig,
} from "../components/kind/kindConfig";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

function parse(input: KindConfigInput): Obj {
  return YAML.parse(renderKindConfig(input)) as Obj;
}

function patchesOf(node: Obj): Obj[] {
  return ((node.kubeadmConfigPatches ?? []) as string[]).map((p) => YAML.parse(p) as Obj);
}

const TWO_POOLS: KindConfigInput = {
  nodeImage: "kindest/node:v1.31.0",
  controlPlaneLabels: { "ingress-ready": "true" },
  workerPools: [
    {
      name: "builders",
      nodes: 2,
      labels: { "earthly.dev/role": "builder" },
      taints: [
        { key: "earthly.dev/builder", value: "true", effect: "NoSchedule" },
        { key: "earthly.dev/privileged", effect: "NoExecute" },
      ],
    },
    { name: "general", nodes: 3 },
  ],
  networking: { disableDefaultCNI: true, podSubnet: "192.168.0.0/16" },
};

describe("renderKindConfig", () => {
  test("header: kind.x-k8s.io/v1alpha4 Cluster", () => {
    const config = parse({ workerPools: [] });
    assert.equal(config.kind, "Cluster");
    assert.equal(config.apiVersion, "kind.x-k8s.io/v1alpha4");
  });

  test("no pools: a lone control plane carrying only the hash label, no networking section", () => {
    const input: KindConfigInput = { workerPools: [] };
    assert.deepEqual(parse(input), {
      kind: "Cluster",
      apiVersion: "kind.x-k8s.io/v1alpha4",
      nodes: [{ role: "control-plane", labels: { [CONFIG_HASH_LABEL]: kindConfigHash(input) } }],
    });
  });

  test("pools: one worker per node, in pool order, after the control plane", () => {
    const config = parse(TWO_POOLS);
    assert.deepEqual(
      (config.nodes as Obj[]).map((n) => `${n.role}:${n.labels["earthly-kubernetes/pool"] ?? ""}`),
      [
        "control-plane:",
        "worker:builders",
        "worker:builders",
        "worker:general",
        "worker:general",
        "worker:general",
      ],
    );
  });

  test("a pool without a node count has one node", () => {
    const config = parse({ workerPools: [{ name: "solo" }] });
    assert.equal(config.nodes.length, 2);
    assert.equal(config.nodes[1].role, "worker");
  });

  test("labels: the pool label plus the user's on workers; control plane labels plus the hash", () => {
    const config = parse(TWO_POOLS);
    assert.deepEqual(config.nodes[0].labels, {
      [CONFIG_HASH_LABEL]: kindConfigHash(TWO_POOLS),
      "ingress-ready": "true",
    });
    for (const node of config.nodes.slice(1, 3)) {
      assert.deepEqual(node.labels, { "earthly-kubernetes/pool": "builders", "earthly.dev/role": "builder" });
    }
    for (const node of config.nodes.slice(3)) {
      assert.deepEqual(node.labels, { "earthly-kubernetes/pool": "general" });
    }
  });

  test("taints: a JoinConfiguration patch on every node of a tainted pool, none elsewhere", () => {
    const config = parse(TWO_POOLS);
    const expected = {
      kind: "JoinConfiguration",
      nodeRegistration: {
        taints: [
          { key: "earthly.dev/builder", value: "true", effect: "NoSchedule" },
          // An absent value becomes the empty string, as a taint without value is written.
          { key: "earthly.dev/privileged", value: "", effect: "NoExecute" },
        ],
      },
    };
    for (const node of config.nodes.slice(1, 3)) {
      assert.equal(node.kubeadmConfigPatches.length, 1);
      assert.equal(typeof node.kubeadmConfigPatches[0], "string");
      assert.deepEqual(patchesOf(node), [expected]);
    }
    for (const node of [config.nodes[0], ...config.nodes.slice(3)]) {
      assert.equal("kubeadmConfigPatches" in node, false);
    }
  });

  test("a taint value that YAML would read as another type stays a string", () => {
    const config = parse({
      workerPools: [{ name: "p", taints: [{ key: "k", value: "true", effect: "NoSchedule" }] }],
    });
    const value = patchesOf(config.nodes[1])[0].nodeRegistration.taints[0].value;
    assert.equal(value, "true");
    assert.equal(typeof value, "string");
  });

  test("networking is passed through", () => {
    assert.deepEqual(parse(TWO_POOLS).networking, { disableDefaultCNI: true, podSubnet: "192.168.0.0/16" });
    assert.deepEqual(
      parse({
        workerPools: [],
        networking: {
          serviceSubnet: "10.96.0.0/12",
          apiServerAddress: "127.0.0.1",
          apiServerPort: 6443,
          kubeProxyMode: "ipvs",
          ipFamily: "dual",
        },
      }).networking,
      {
        serviceSubnet: "10.96.0.0/12",
        apiServerAddress: "127.0.0.1",
        apiServerPort: 6443,
        kubeProxyMode: "ipvs",
        ipFamily: "dual",
      },
    );
    // disableDefaultCNI false is kept as given; undefined fields are dropped.
    assert.deepEqual(
      parse({ workerPools: [], networking: { disableDefaultCNI: false, podSubnet: undefined } }).networking,
      {
        disableDefaultCNI: false,
      },
    );
    assert.equal("networking" in parse({ workerPools: [], networking: {} }), false);
  });

  test("nodeImage on every node, and on none when unset", () => {
    const config = parse(TWO_POOLS);
    assert.equal(config.nodes.length, 6);
    assert.deepEqual(
      (config.nodes as Obj[]).map((n) => n.image),
      Array(6).fill("kindest/node:v1.31.0"),
    );
    const without = parse({ ...TWO_POOLS, nodeImage: undefined });
    assert.deepEqual(
      (without.nodes as Obj[]).map((n) => "image" in n),
      Array(6).fill(false),
    );
  });

  test("the rendered text parses to exactly buildKindConfig's data", () => {
    assert.deepEqual(parse(TWO_POOLS), buildKindConfig(TWO_POOLS));
  });
});

describe("determinism", () => {
  test("identical input gives byte-identical output: exactly this text, and this hash", () => {
    const input: KindConfigInput = {
      workerPools: [{ name: "p", taints: [{ key: "k", effect: "NoSchedule" }] }],
    };
    const expected = [
      "kind: Cluster",
      "apiVersion: kind.x-k8s.io/v1alpha4",
      "nodes:",
      "  - role: control-plane",
      "    labels:",
      "      earthly-kubernetes/kind-config: 9b29ed4f968def41367df8851a3a2a008aeccf85",
      "  - role: worker",
      "    labels:",
      "      earthly-kubernetes/pool: p",
      "    kubeadmConfigPatches:",
      "      - |",
      "        kind: JoinConfiguration",
      "        nodeRegistration:",
      "          taints:",
      "            - key: k",
      '              value: ""',
      "              effect: NoSchedule",
      "",
    ].join("\n");
    assert.equal(renderKindConfig(structuredClone(input)), expected);
    assert.equal(renderKindConfig(input), expected);
    // The hash marks a cluster as this component's: a new hash for the same input would disown every
    // cluster created before (the create script refuses a same-named cluster it did not make).
    assert.equal(kindConfigHash(structuredClone(TWO_POOLS)), "5d9abb6892193ff946296b5da54375d4c445fe9c");
    assert.equal(kindConfigHash(TWO_POOLS), "5d9abb6892193ff946296b5da54375d4c445fe9c");
  });

  test("labels given in another key order give byte-identical output", () => {
    const a: KindConfigInput = {
      controlPlaneLabels: { alpha: "1", "zulu.example/z": "2", mid: "3" },
      workerPools: [{ name: "p", labels: { "b.example/b": "1", "a.example/a": "2", c: "3" } }],
    };
    const b: KindConfigInput = {
      controlPlaneLabels: { mid: "3", "zulu.example/z": "2", alpha: "1" },
      workerPools: [{ name: "p", labels: { c: "3", "a.example/a": "2", "b.example/b": "1" } }],
    };
    assert.equal(renderKindConfig(b), renderKindConfig(a));
    assert.equal(kindConfigHash(b), kindConfigHash(a));
    // Sorted by key in the output.
    assert.deepEqual(Object.keys(parse(a).nodes[1].labels), [
      "a.example/a",
      "b.example/b",
      "c",
      "earthly-kubernetes/pool",
    ]);
  });

  test("a different taint, label or pool size changes the output and the hash", () => {
    const base = renderKindConfig(TWO_POOLS);
    const baseHash = kindConfigHash(TWO_POOLS);
    const variants: KindConfigInput[] = [];
    const taint = structuredClone(TWO_POOLS);
    taint.workerPools[0].taints![0].effect = "PreferNoSchedule";
    variants.push(taint);
    const label = structuredClone(TWO_POOLS);
    label.workerPools[1].labels = { extra: "yes" };
    variants.push(label);
    const size = structuredClone(TWO_POOLS);
    (size.workerPools[1] as { nodes?: number }).nodes = 4;
    variants.push(size);
    for (const variant of variants) {
      assert.notEqual(renderKindConfig(variant), base);
      assert.notEqual(kindConfigHash(variant), baseHash);
    }
  });
});
