/**
 * `scheduling.architecture` on every workload: the node architecture (`kubernetes.io/arch`) added to
 * the nodeSelector, each value Kubernetes publishes nodes for accepted (member by member, from a
 * literal copy) and near-misses refused, a nodeSelector naming another architecture refused, and
 * the scheduler model placing a pod only on nodes of its architecture.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { FLEET_CONNECTION, buildAllInOne, buildFleet, buildRemote } from "./support/built";
import { BuildkitdFleet, KindCluster, TaintEffect } from "../components";
import { NODE_ARCHITECTURES, schedulingRule } from "../components/pods/scheduling";
import { KUBELET_OWN_LABELS, KUBELET_SETTABLE_LABELS, schedulingMismatches } from "../components/kind/pools";

const BUILDERS = {
  nodeSelector: { "earthly.dev/role": "builder" },
  tolerations: [{ key: "earthly.dev/builder", operator: "Exists" as const, effect: TaintEffect.NoSchedule }],
};

describe("architecture lands in the nodeSelector of every workload, beside the given one", () => {
  const expected = { "earthly.dev/role": "builder", "kubernetes.io/arch": "arm64" };
  const scheduling = { ...BUILDERS, architecture: "arm64" };
  test("all-in-one Job", async () => {
    const { pod } = await buildAllInOne("arch-aio", { namespace: "builds", target: "+build", scheduling });
    assert.deepEqual(pod.nodeSelector, expected);
  });
  test("client Job", async () => {
    const { pod } = await buildRemote("arch-client", {
      namespace: "builds",
      target: "+build",
      fleet: FLEET_CONNECTION,
      clientCertPem: "cert",
      clientPrivateKeyPem: "key",
      scheduling: { architecture: "amd64" },
    });
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/arch": "amd64" });
  });
  test("fleet daemons", async () => {
    const { pod } = await buildFleet("arch-fleet", {
      namespace: "earthly",
      insecureDisableTls: true,
      scheduling,
    });
    assert.deepEqual(pod.nodeSelector, expected);
  });
});

describe("architecture values", () => {
  // A literal copy: a value dropped from the code, or one added to it, fails here.
  const PUBLISHED = ["amd64", "arm64", "arm", "ppc64le", "s390x"];
  test("the list is exactly Kubernetes' node architectures", () => {
    assert.deepEqual([...NODE_ARCHITECTURES], PUBLISHED);
  });
  for (const architecture of PUBLISHED) {
    test(`${architecture} accepted`, () => {
      assert.deepEqual(schedulingRule({ architecture }, "scheduling"), []);
    });
  }
  // Other spellings of the same machines, and values wrong only at the start or the end.
  for (const architecture of [
    "x86_64",
    "aarch64",
    "AMD64",
    " amd64",
    "amd64 ",
    "arm64/v8",
    "linux/arm64",
    "",
  ]) {
    test(`${JSON.stringify(architecture)} refused, naming the field and the values`, () => {
      assert.deepEqual(schedulingRule({ architecture }, "scheduling"), [
        {
          field: "scheduling.architecture",
          value: architecture,
          allowed: "one of 'amd64', 'arm64', 'arm', 'ppc64le', 's390x'",
        },
      ]);
    });
  }
});

describe("architecture against a nodeSelector on kubernetes.io/arch", () => {
  test("the same value accepted; another refused at preview, naming the selector's key; nothing registered", () => {
    assert.deepEqual(
      schedulingRule(
        { nodeSelector: { "kubernetes.io/arch": "arm64" }, architecture: "arm64" },
        "scheduling",
      ),
      [],
    );
    const problems = BuildkitdFleet.argumentProblems("f", {
      namespace: "earthly",
      insecureDisableTls: true,
      scheduling: { nodeSelector: { "kubernetes.io/arch": "amd64" }, architecture: "arm64" },
    });
    assert.deepEqual(problems, [
      {
        field: 'scheduling.nodeSelector["kubernetes.io/arch"]',
        value: "amd64",
        allowed: "'arm64', the architecture given, or no such key",
      },
    ]);
  });
});

describe("the scheduler model places a pod only on nodes of its architecture", () => {
  const node = (arch: string) => ({
    labels: { "earthly.dev/role": "builder", "kubernetes.io/arch": arch },
    taints: [{ key: "earthly.dev/builder", value: "true", effect: TaintEffect.NoSchedule }],
  });
  test("arm64 pod: fits an arm64 builder, not an amd64 one (saying why)", () => {
    const pod = { ...BUILDERS, architecture: "arm64" };
    assert.deepEqual(schedulingMismatches(pod, node("arm64")), []);
    assert.deepEqual(schedulingMismatches(pod, node("amd64")), [
      "nodeSelector kubernetes.io/arch=arm64 does not match the node's labels",
    ]);
  });
  test("no architecture: fits both", () => {
    assert.deepEqual(schedulingMismatches(BUILDERS, node("arm64")), []);
    assert.deepEqual(schedulingMismatches(BUILDERS, node("amd64")), []);
  });
});

describe("a kind node cannot claim another architecture: the kubelet's own labels refused in kind node labels", () => {
  // A literal copy: a label dropped from the code, or one added to it, fails here.
  const KUBELET_LABELS = [
    "kubernetes.io/hostname",
    "kubernetes.io/os",
    "kubernetes.io/arch",
    "beta.kubernetes.io/os",
    "beta.kubernetes.io/arch",
  ];
  test("the list is exactly the kubelet's own", () => {
    assert.deepEqual([...KUBELET_OWN_LABELS], KUBELET_LABELS);
  });
  for (const label of KUBELET_LABELS) {
    test(`${label}: refused in a pool's labels and the control plane's, naming the key`, () => {
      const allowed =
        "no such label: the kubelet sets it from the machine (kind runs every node on the host's architecture and " +
        "OS, so a pool of another architecture is a pool on another cluster; pick one with scheduling.architecture)";
      assert.deepEqual(
        KindCluster.argumentProblems("c", {
          clusterName: "c",
          workerPools: [
            { name: "general" },
            { name: "arm", labels: { "earthly.dev/role": "builder", [label]: "arm64" } },
          ],
        }),
        [{ field: `workerPools[1].labels[${JSON.stringify(label)}]`, value: "arm64", allowed }],
      );
      assert.deepEqual(
        KindCluster.argumentProblems("c", { clusterName: "c", controlPlaneLabels: { [label]: "x" } }),
        [{ field: `controlPlaneLabels[${JSON.stringify(label)}]`, value: "x", allowed }],
      );
    });
  }
  const poolLabels = (label: string) =>
    KindCluster.argumentProblems("c", {
      clusterName: "c",
      workerPools: [{ name: "p", labels: { [label]: "v" } }],
    });
  test("labels a kubelet may set, and the user's own near them: accepted", () => {
    // A literal copy of the named ones; then namespaces the kubelet takes, and lookalike domains.
    const SETTABLE = [
      "topology.kubernetes.io/zone",
      "topology.kubernetes.io/region",
      "failure-domain.beta.kubernetes.io/zone",
      "failure-domain.beta.kubernetes.io/region",
      "beta.kubernetes.io/instance-type",
      "node.kubernetes.io/instance-type",
    ];
    assert.deepEqual([...KUBELET_SETTABLE_LABELS], SETTABLE);
    for (const label of [
      ...SETTABLE,
      "node.kubernetes.io/arch-pool",
      "kubelet.kubernetes.io/x",
      "pool.node.kubernetes.io/x",
      "example.com/arch",
      "kubernetes.io.example.com/x",
      "notkubernetes.io/x",
      "arch",
    ]) {
      assert.deepEqual(poolLabels(label), [], label);
    }
  });
  test("other labels in Kubernetes' namespaces refused (the kubelet would not start), naming the key", () => {
    for (const label of [
      "kubernetes.io/archive",
      "k8s.io/x",
      "example.kubernetes.io/x",
      "sub.k8s.io/x",
      "node-restriction.kubernetes.io/x",
      "topology.kubernetes.io/rack",
      "xnode.kubernetes.io/x",
    ]) {
      const problems = poolLabels(label);
      assert.equal(problems.length, 1, label);
      assert.equal(problems[0].field, `workerPools[0].labels[${JSON.stringify(label)}]`);
      assert.match(problems[0].allowed, /the kubelet refuses to start with another$/);
    }
  });
});
