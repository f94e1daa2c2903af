/**
 * KindCluster under Pulumi mocks: the `kind` Command's exact inputs (scripts, environment, the kind
 * configuration on stdin parsed back with the yaml package), its resource options as the engine
 * would receive them, the Kubernetes provider, the outputs, determinism and refused arguments.
 */
import "./support/mocks";
import { before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import {
  FAKE_KUBECONFIG,
  recorded,
  registrations,
  resetRecord,
  resetRegistrations,
  settle,
  valueOf,
} from "./support/mocks";
import { one } from "./support/recorded";
import { KindCluster, KindClusterArgs } from "../components/kind/kindCluster";
import { CONFIG_HASH_LABEL, kindConfigHash } from "../components/kind/kindConfig";
import {
  KIND_CREATE_COMMAND,
  KIND_CREATE_SCRIPT,
  KIND_DELETE_COMMAND,
  KIND_DELETE_SCRIPT,
  kindCreateEnvironment,
  kindDeleteEnvironment,
} from "../components/kind/scripts";
import { assertRefused as assertRefusedWith, escapeRegExp } from "./support/refusals";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TYPE = "earthly-kubernetes:index:KindCluster";
const COMMAND = "command:local:Command";
const PROVIDER = "pulumi:providers:kubernetes";

function resetAll(): void {
  resetRecord();
  resetRegistrations();
}

const BUILDERS = {
  name: "builders",
  labels: { "earthly.dev/role": "builder" },
  taints: [{ key: "earthly.dev/builder", value: "true", effect: "NoSchedule" as const }],
};

function aioArgs(): KindClusterArgs {
  return { clusterName: "earthlydemo-aio", workerPools: [structuredClone(BUILDERS)] };
}

async function build(name: string, args: KindClusterArgs): Promise<{ cluster: KindCluster; command: Obj }> {
  resetAll();
  const cluster = new KindCluster(name, args);
  await valueOf(cluster.kubeconfig);
  await valueOf(cluster.poolScheduling);
  await settle();
  return { cluster, command: one(COMMAND, `${name}-kind`).inputs as Obj };
}

describe("the earthlydemo-aio cluster with a tainted builder pool", () => {
  let built: Awaited<ReturnType<typeof build>>;
  const hash = kindConfigHash({ workerPools: [BUILDERS] });

  before(async () => {
    built = await build("aio", aioArgs());
  });

  test("the component, the kind Command and the provider are registered, nothing else", () => {
    assert.deepEqual(
      recorded.map((r) => `${r.type} ${r.name}`),
      [`${TYPE} aio`, `${COMMAND} aio-kind`, `${PROVIDER} aio-provider`],
    );
    assert.match(hash, /^[0-9a-f]{40}$/);
  });

  test("Command: create/delete are the short command lines; the scripts and values in the environment", () => {
    const { command } = built;
    assert.deepEqual(Object.keys(command).sort(), [
      "addPreviousOutputInEnv",
      "create",
      "delete",
      "environment",
      "logging",
      "stdin",
      "triggers",
    ]);
    assert.equal(command.create, KIND_CREATE_COMMAND);
    assert.equal(command.delete, KIND_DELETE_COMMAND);
    const expectedEnvironment = {
      ...kindCreateEnvironment({
        clusterName: "earthlydemo-aio",
        waitSeconds: 120,
        configHash: hash,
        adoptExisting: false,
      }),
      ...kindDeleteEnvironment("earthlydemo-aio"),
    };
    assert.deepEqual(command.environment, expectedEnvironment);
    // And literally, so a change of the helper's shape shows up too.
    assert.deepEqual(command.environment, {
      KIND_CLUSTER_NAME: "earthlydemo-aio",
      EK_WAIT_SECONDS: "120",
      EK_CONFIG_HASH: hash,
      EK_ADOPT_EXISTING: "false",
      EK_CONFIG_HASH_LABEL: "earthly-kubernetes/kind-config",
      EK_KIND_CREATE_SCRIPT: KIND_CREATE_SCRIPT,
      EK_KIND_DELETE_SCRIPT: KIND_DELETE_SCRIPT,
    });
  });

  test("Command: stdin is the kind config, a control plane with the hash label and one tainted worker", () => {
    const config = YAML.parse(built.command.stdin) as Obj;
    // The worker's one patch is YAML text of its own, parsed below.
    const patches: unknown = config.nodes?.[1]?.kubeadmConfigPatches;
    assert.ok(Array.isArray(patches) && patches.length === 1 && typeof patches[0] === "string");
    const patchText = patches[0] as string;
    assert.deepEqual(config, {
      kind: "Cluster",
      apiVersion: "kind.x-k8s.io/v1alpha4",
      nodes: [
        { role: "control-plane", labels: { [CONFIG_HASH_LABEL]: hash } },
        {
          role: "worker",
          labels: { "earthly-kubernetes/pool": "builders", "earthly.dev/role": "builder" },
          kubeadmConfigPatches: [patchText],
        },
      ],
    });
    assert.equal(CONFIG_HASH_LABEL, "earthly-kubernetes/kind-config");
    const patch = YAML.parse(patchText) as Obj;
    assert.deepEqual(patch, {
      kind: "JoinConfiguration",
      nodeRegistration: { taints: [{ key: "earthly.dev/builder", value: "true", effect: "NoSchedule" }] },
    });
  });

  test("Command: triggers, logging stderr, the previous stdout (a kubeconfig) kept out of the scripts' environment", () => {
    assert.deepEqual(built.command.triggers, ["earthlydemo-aio", hash]);
    assert.equal(built.command.logging, "stderr");
    assert.equal(built.command.addPreviousOutputInEnv, false);
  });

  test("Command options: stdout is an additional secret output, deleteBeforeReplace, parented", () => {
    const options = registrations.filter((o) => o.type === COMMAND);
    assert.equal(options.length, 1);
    assert.equal(options[0].name, "aio-kind");
    assert.deepEqual(options[0].additionalSecretOutputs, ["stdout"]);
    assert.equal(options[0].deleteBeforeReplace, true);
    assert.equal(options[0].deleteBeforeReplaceDefined, true);
    assert.match(options[0].parent, new RegExp(`${escapeRegExp(TYPE)}::aio$`));
  });

  test("Provider: the kubeconfig as a secret, deleteUnreachable, the Command's id as cluster identifier", () => {
    const inputs = one(PROVIDER, "aio-provider").inputs;
    assert.equal(pulumi.runtime.isRpcSecret(inputs.kubeconfig), true);
    assert.equal(pulumi.runtime.unwrapRpcSecret(inputs.kubeconfig), FAKE_KUBECONFIG);
    // The kubernetes provider's inputs are strings on the wire.
    assert.equal(inputs.deleteUnreachable, "true");
    assert.equal(inputs.clusterIdentifier, "aio-kind-id");
    const options = registrations.filter((o) => o.type === PROVIDER);
    assert.equal(options.length, 1);
    assert.match(options[0].parent, new RegExp(`${escapeRegExp(TYPE)}::aio$`));
  });

  test("outputs: kubeconfig (secret), kubeContext, clusterName, poolScheduling, untaintedNodes", async () => {
    const { cluster } = built;
    assert.equal(await valueOf(cluster.kubeconfig), FAKE_KUBECONFIG);
    assert.equal(await pulumi.isSecret(cluster.kubeconfig), true);
    assert.equal(await valueOf(cluster.kubeContext), "kind-earthlydemo-aio");
    assert.equal(await valueOf(cluster.clusterName), "earthlydemo-aio");
    assert.deepEqual(await valueOf(cluster.poolScheduling), {
      builders: {
        nodeSelector: { "earthly-kubernetes/pool": "builders" },
        tolerations: [{ key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" }],
      },
    });
    assert.equal(await pulumi.isSecret(cluster.poolScheduling), false);
    // Only a tainted pool: kind keeps the control plane tainted too, so no node takes an ordinary pod.
    assert.deepEqual(await valueOf(cluster.untaintedNodes), []);
  });
});

describe("schedulability: untaintedNodes, and a warning when no node takes an ordinary pod", () => {
  const GENERAL = { name: "general", labels: { "earthly.dev/role": "general" } };

  async function built(name: string, args: KindClusterArgs) {
    const warn = mock.method(pulumi.log, "warn", () => Promise.resolve());
    try {
      const { cluster } = await build(name, args);
      return { cluster, untainted: await valueOf(cluster.untaintedNodes), warnings: warn.mock.calls };
    } finally {
      warn.mock.restore();
    }
  }

  test("every pool tainted: no node, and one warning on the component naming kind's rule and the fix", async () => {
    const { cluster, untainted, warnings } = await built("tainted", aioArgs());
    assert.deepEqual(untainted, []);
    assert.equal(warnings.length, 1);
    const [message, resource] = warnings[0].arguments as unknown as [string, unknown];
    assert.equal(resource, cluster);
    assert.match(
      message,
      /^KindCluster "tainted": no node of kind cluster 'earthlydemo-aio' accepts a pod that/,
    );
    assert.match(message, /builders \(earthly\.dev\/builder=true:NoSchedule\)/);
    assert.match(
      message,
      /kind keeps node-role\.kubernetes\.io\/control-plane:NoSchedule on the control plane/,
    );
    assert.match(message, /Add a worker pool without NoSchedule\/NoExecute taints/);
  });

  test("with an untainted pool: its nodes, numbered as kind names them, and no warning", async () => {
    const { untainted, warnings } = await built("general", {
      clusterName: "demo",
      workerPools: [structuredClone(BUILDERS), { ...GENERAL, nodes: 2 }],
    });
    assert.deepEqual(untainted, ["demo-worker2", "demo-worker3"]);
    assert.equal(warnings.length, 0);
  });

  test("no pools: the control plane alone, untainted (kind's one-node rule), and no warning", async () => {
    const { untainted, warnings } = await built("single", { clusterName: "solo" });
    assert.deepEqual(untainted, ["solo-control-plane"]);
    assert.equal(warnings.length, 0);
  });

  test("a PreferNoSchedule taint only steers: its nodes take ordinary pods", async () => {
    const { untainted, warnings } = await built("prefer", {
      clusterName: "prefer",
      workerPools: [{ name: "soft", taints: [{ key: "soft", effect: "PreferNoSchedule" }] }],
    });
    assert.deepEqual(untainted, ["prefer-worker"]);
    assert.equal(warnings.length, 0);
  });
});

describe("determinism", () => {
  test("the same arguments give byte-identical Command inputs", async () => {
    const first = await build("same-a", aioArgs());
    const second = await build("same-b", aioArgs());
    assert.equal(JSON.stringify(second.command), JSON.stringify(first.command));
    // They are the cluster's inputs: its name is in them, the resource's name is not.
    assert.equal(first.command.environment.KIND_CLUSTER_NAME, "earthlydemo-aio");
    assert.doesNotMatch(JSON.stringify(first.command), /same-a/);
  });

  test("labels given in another key order give byte-identical Command inputs", async () => {
    const ordered = await build("order-a", {
      clusterName: "ordered",
      controlPlaneLabels: { alpha: "1", zulu: "2" },
      workerPools: [{ name: "builders", labels: { "a.example/x": "1", "z.example/y": "2" } }],
    });
    const reversed = await build("order-b", {
      clusterName: "ordered",
      controlPlaneLabels: { zulu: "2", alpha: "1" },
      workerPools: [{ name: "builders", labels: { "z.example/y": "2", "a.example/x": "1" } }],
    });
    assert.equal(JSON.stringify(reversed.command), JSON.stringify(ordered.command));
  });

  test("a changed taint changes the config hash, the hash label, the environment and the triggers", async () => {
    const before = await build("taint-a", aioArgs());
    const changedArgs = aioArgs();
    changedArgs.workerPools![0].taints![0].effect = "NoExecute";
    const after = await build("taint-b", changedArgs);
    const hashBefore = before.command.environment.EK_CONFIG_HASH as string;
    const hashAfter = after.command.environment.EK_CONFIG_HASH as string;
    assert.match(hashAfter, /^[0-9a-f]{40}$/);
    assert.notEqual(hashAfter, hashBefore);
    assert.deepEqual(before.command.triggers, ["earthlydemo-aio", hashBefore]);
    assert.deepEqual(after.command.triggers, ["earthlydemo-aio", hashAfter]);
    const labelAfter = (YAML.parse(after.command.stdin) as Obj).nodes[0].labels[CONFIG_HASH_LABEL];
    assert.equal(labelAfter, hashAfter);
    const patch = YAML.parse(
      (YAML.parse(after.command.stdin) as Obj).nodes[1].kubeadmConfigPatches[0],
    ) as Obj;
    assert.equal(patch.nodeRegistration.taints[0].effect, "NoExecute");
  });

  test("waitSeconds and adoptExisting reach the environment but do not change the hash or triggers", async () => {
    const base = await build("wait-a", aioArgs());
    const waited = await build("wait-b", { ...aioArgs(), waitSeconds: 300, adoptExisting: true });
    assert.equal(waited.command.environment.EK_WAIT_SECONDS, "300");
    assert.equal(waited.command.environment.EK_ADOPT_EXISTING, "true");
    assert.deepEqual(waited.command.triggers, base.command.triggers);
    assert.equal(waited.command.stdin, base.command.stdin);
  });
});

describe("refused arguments (nothing is registered)", () => {
  async function assertRefused(
    args: KindClusterArgs,
    field: string,
    got: string,
    allowed: RegExp,
  ): Promise<void> {
    resetAll();
    await assertRefusedWith(() => new KindCluster("refused", args), [{ field, got, allowed }]);
    assert.deepEqual(registrations, []);
  }

  for (const clusterName of ["Bad_Name", "a b", "$(touch x)", "k".repeat(41)]) {
    test(`cluster name ${JSON.stringify(clusterName)}`, async () => {
      await assertRefused(
        { ...aioArgs(), clusterName },
        "clusterName",
        JSON.stringify(clusterName),
        /a kind cluster name: 1-40 lower-case letters/,
      );
    });
  }

  test("a 40-character name is accepted", async () => {
    const { cluster } = await build("forty", { clusterName: "k".repeat(40) });
    assert.equal(await valueOf(cluster.kubeContext), `kind-${"k".repeat(40)}`);
  });

  test("taint effect Sometimes", async () => {
    const args = aioArgs();
    (args.workerPools![0].taints![0] as { effect: string }).effect = "Sometimes";
    await assertRefused(
      args,
      "workerPools[0].taints[0].effect",
      '"Sometimes"',
      /one of 'NoSchedule', 'PreferNoSchedule', 'NoExecute'/,
    );
  });

  test("duplicate pool names", async () => {
    await assertRefused(
      { clusterName: "dup", workerPools: [{ name: "builders" }, { name: "general" }, { name: "builders" }] },
      "workerPools[2]",
      '"builders"',
      /allowed: a pool name not already used/,
    );
  });

  test("a pool of 0 nodes", async () => {
    await assertRefused(
      { clusterName: "zero", workerPools: [{ name: "builders", nodes: 0 }] },
      "workerPools[0].nodes",
      "0",
      /an integer from 1 to 20/,
    );
  });

  test("podSubnet 10.0.0.0/33", async () => {
    await assertRefused(
      { clusterName: "net", networking: { podSubnet: "10.0.0.0/33" } },
      "networking.podSubnet",
      '"10.0.0.0/33"',
      /a CIDR block/,
    );
  });

  test("apiServerPort 70000", async () => {
    await assertRefused(
      { clusterName: "port", networking: { apiServerPort: 70000 } },
      "networking.apiServerPort",
      "70000",
      /an integer from 1 to 65535/,
    );
  });

  // From JavaScript or another language an Output can arrive where the types say a plain value:
  // the cluster's config is a Command's stdin, so every argument must be known now.
  for (const [field, args] of [
    ["clusterName", { clusterName: pulumi.output("late") }],
    ["waitSeconds", { clusterName: "late", waitSeconds: pulumi.output(30) }],
    ["workerPools[0].name", { clusterName: "late", workerPools: [{ name: pulumi.output("builders") }] }],
  ] as const) {
    test(`an Output in ${field}`, async () => {
      await assertRefused(
        args as unknown as KindClusterArgs,
        field,
        '"an Output or Promise"',
        /a plain value, known when the component is created/,
      );
    });
  }

  test("nodeImage without a tag", async () => {
    await assertRefused(
      { clusterName: "image", nodeImage: "kindest/node" },
      "nodeImage",
      '"kindest/node"',
      /an image reference with a tag or digest/,
    );
  });
});
