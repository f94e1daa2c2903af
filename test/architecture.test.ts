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
import { BuildkitdFleet, TaintEffect } from "../components";
import { NODE_ARCHITECTURES, schedulingRule } from "../components/pods/scheduling";
import { schedulingMismatches } from "../components/kind/pools";

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
