/**
 * Issue 12, least privilege and bounded resources, on the rendered objects: the client meets Pod
 * Security `restricted`; every scratch volume, container and cache is bounded and consistent; every
 * build pod has a NetworkPolicy; the fleet has a PodDisruptionBudget and spreads over nodes; every
 * image can be pinned by digest. Exact values, defaults and non-defaults, every Kubernetes object
 * validated against the API schema. (The real API server's verdicts are in test/engine.)
 */
import "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import type { RegisterResourceRequest } from "@pulumi/pulumi/proto/resource_pb";
import { recorded, resetRecord, settle, valueOf } from "./support/mocks";
import { inputsOf } from "./support/recorded";
import { plain } from "./support/values";
import { assertRefused } from "./support/refusals";
import { validateKubeObject } from "./support/kubeSchema";
import { EarthlyAllInOneJob, EarthlyAllInOneJobArgs } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet, BuildkitdFleetArgs } from "../components/fleet/buildkitdFleet";
import { FleetConnection } from "../components/fleet/connection";
import { readDemoConfig } from "../stacks/config";
import {
  bytesToMiQuantity,
  quantityToBytes,
  withDefaultSize,
  withEphemeralStorage,
} from "../components/pods/storage";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const JOB = "kubernetes:batch/v1:Job";
const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";

const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;

// The resources a registration depends on are not in the mocks' MockResourceArgs; the engine gets
// them in the RegisterResource request, so they are recorded from the mock monitor.
const dependencies = new Map<string, string[]>();
{
  type Callback = (error: unknown, response: unknown) => void;
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(request: RegisterResourceRequest, callback: Callback): unknown;
  };
  const original = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    dependencies.set(`${request.getType()} ${request.getName()}`, request.getDependenciesList());
    return original(request, callback);
  };
}

/** Whether the registration of `type name` depends on a resource of `dependencyType dependencyName`. */
function dependsOn(type: string, name: string, dependencyType: string, dependencyName: string): boolean {
  const urns = dependencies.get(`${type} ${name}`);
  assert.ok(urns, `no registration of ${type} ${name}`);
  return urns.some((urn) => urn.endsWith(`${dependencyType}::${dependencyName}`));
}

/** Names of the recorded resources of a type. */
function namesOf(type: string): string[] {
  return recorded.filter((r) => r.type === type).map((r) => r.name);
}

/** Validates every recorded Kubernetes object against the API schema; returns how many. */
function validateAll(): number {
  const kube = recorded.filter((r) => r.type.startsWith("kubernetes:"));
  for (const r of kube) validateKubeObject(plain(r.inputs) as Record<string, unknown>);
  return kube.length;
}

async function allInOne(name: string, args: Partial<EarthlyAllInOneJobArgs> = {}): Promise<Obj> {
  resetRecord();
  const component = new EarthlyAllInOneJob(name, { namespace: "builds", target: "+build", ...args });
  await valueOf(component.jobName);
  await settle();
  assert.ok(validateAll() >= 2);
  return inputsOf(JOB, name);
}

const FLEET: FleetConnection = {
  fleetName: "buildkitd",
  namespace: "earthly-builds",
  buildkitHost: "tcp://buildkitd.earthly-builds.svc.cluster.local:8372",
  instanceNames: ["buildkitd-0"],
  instanceHosts: ["buildkitd-0.buildkitd-instances.earthly-builds.svc.cluster.local"],
  earthlyVersion: "v0.8.16",
  tlsEnabled: false,
  caCertPem: "",
  clientLabels: { "earthly-kubernetes/client-of": "buildkitd" },
};

async function client(name: string, args: Partial<EarthlyRemoteJobArgs> = {}): Promise<Obj> {
  resetRecord();
  const component = new EarthlyRemoteJob(name, { namespace: "ci", target: "+build", fleet: FLEET, ...args });
  await valueOf(component.jobName);
  await settle();
  assert.ok(validateAll() >= 4);
  return inputsOf(JOB, name);
}

async function fleet(name: string, args: Partial<BuildkitdFleetArgs> = {}): Promise<Obj> {
  resetRecord();
  const component = new BuildkitdFleet(name, { namespace: "builds", insecureDisableTls: true, ...args });
  await valueOf(component.connection);
  await settle();
  assert.ok(validateAll() >= 4);
  return inputsOf(STATEFUL_SET, name);
}

const podOf = (job: Obj): Obj => job.spec.template.spec;
const containerOf = (job: Obj): Obj => podOf(job).containers[0];
const envValue = (container: Obj, name: string): string | undefined =>
  (container.env as Obj[]).find((e) => e.name === name)?.value;

// ---------------------------------------------------------------------------------------------
// 1. The client meets Pod Security `restricted`.
// ---------------------------------------------------------------------------------------------

describe("the remote client Job meets Pod Security restricted", () => {
  test("defaults: non-root 10001:10001, no capability, no escalation, RuntimeDefault seccomp, read-only root", async () => {
    const job = await client("restricted");
    const pod = podOf(job);
    assert.deepEqual(pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(containerOf(job).securityContext, {
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    // Nothing that restricted forbids: no host namespaces, no hostPath, no host ports.
    for (const key of ["hostNetwork", "hostPID", "hostIPC"]) assert.equal(pod[key], undefined, key);
    assert.deepEqual(
      (pod.volumes as Obj[]).filter((v) => v.hostPath !== undefined),
      [],
    );
  });

  test("where Earthly writes: HOME, /tmp and the working directory are bounded emptyDirs; the config is a mounted file", async () => {
    const job = await client("writable");
    const container = containerOf(job);
    assert.equal(envValue(container, "HOME"), "/home/earthly");
    assert.equal(container.workingDir, "/workspace");
    assert.deepEqual(container.volumeMounts, [
      { name: "workspace", mountPath: "/workspace" },
      { name: "earthly-home", mountPath: "/home/earthly" },
      { name: "tmp", mountPath: "/tmp" },
      {
        name: "earthly-config",
        mountPath: "/etc/.earthly/config.yml",
        subPath: "config.yml",
        readOnly: true,
      },
    ]);
    assert.deepEqual(podOf(job).volumes, [
      { name: "workspace", emptyDir: { sizeLimit: "4Gi" } },
      { name: "earthly-home", emptyDir: { sizeLimit: "256Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "earthly-config", configMap: { name: "writable-config-abc123" } },
    ]);
  });

  test("a user of your own, and a writable root for a custom image", async () => {
    const job = await client("own-user", {
      security: { runAsUser: 2000, runAsGroup: 3000, readOnlyRootFilesystem: false },
    });
    assert.deepEqual(podOf(job).securityContext, {
      runAsNonRoot: true,
      runAsUser: 2000,
      runAsGroup: 3000,
      fsGroup: 3000,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const context = containerOf(job).securityContext;
    assert.equal(context.readOnlyRootFilesystem, false);
    // What is never relaxed.
    assert.deepEqual(context.capabilities, { drop: ["ALL"] });
    assert.equal(context.allowPrivilegeEscalation, false);
  });

  test("refused: UID 0, HOME in env, a source directory on the home volume", async () => {
    const make = (args: Partial<EarthlyRemoteJobArgs>) => () =>
      new EarthlyRemoteJob("bad", { namespace: "ci", target: "+build", fleet: FLEET, ...args });
    await assertRefused(make({ security: { runAsUser: 0 } }), [
      { field: "security.runAsUser", got: "0", allowed: /an integer from 1 to 2147483647/ },
    ]);
    await assertRefused(make({ env: [{ name: "HOME", value: "/root" }] }), [
      { field: "env.name", got: '"HOME"', allowed: /not HOME: it is \/home\/earthly/ },
    ]);
    await assertRefused(make({ srcDir: "/home/earthly/src" }), [
      {
        field: "srcDir/home",
        got: '["/home/earthly/src","/home/earthly"]',
        allowed: /two distinct directories/,
      },
    ]);
  });

  test("the privileged workloads stay privileged: buildkitd needs it", async () => {
    assert.deepEqual(containerOf(await allInOne("privileged")).securityContext, { privileged: true });
    assert.deepEqual(podOf(await allInOne("privileged")).securityContext, undefined);
    const daemon = (await fleet("privileged-fleet")).spec.template.spec.containers[0];
    assert.deepEqual(daemon.securityContext, { privileged: true });
  });
});

// ---------------------------------------------------------------------------------------------
// 2. Bounded node disk.
// ---------------------------------------------------------------------------------------------

describe("bounded node disk", () => {
  test("all-in-one defaults: 4Gi workspace, 40Gi scratch, 10Gi/46Gi ephemeral storage, CACHE_SIZE_MB 80% of 40Gi", async () => {
    const job = await allInOne("disk");
    const container = containerOf(job);
    assert.deepEqual(podOf(job).volumes, [
      { name: "workspace", emptyDir: { sizeLimit: "4Gi" } },
      { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } },
    ]);
    assert.deepEqual(container.resources, {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "10Gi" },
      limits: { cpu: "2", memory: "4Gi", "ephemeral-storage": "46Gi" },
    });
    assert.deepEqual(container.env, [
      { name: "EARTHLY_TMP_DIR", value: "/tmp/earthly" },
      { name: "CACHE_SIZE_MB", value: String(40 * 1024 * 0.8) },
      { name: "SRC_DIR", value: "/workspace" },
    ]);
  });

  test("a larger scratch volume raises the default limit and the cache with it", async () => {
    const job = await allInOne("big", { scratchVolume: { emptyDir: { sizeLimit: "100Gi" } } });
    const container = containerOf(job);
    // 100Gi scratch + 4Gi workspace + 2Gi headroom.
    assert.equal(container.resources.limits["ephemeral-storage"], `${106 * 1024}Mi`);
    assert.equal(container.resources.requests["ephemeral-storage"], "10Gi");
    assert.equal(envValue(container, "CACHE_SIZE_MB"), String(100 * 1024 * 0.8));
  });

  test("an emptyDir given without sizeLimit gets the default; tmpfs and claims do not count as node disk", async () => {
    const unsized = await allInOne("unsized", {
      scratchVolume: { emptyDir: {} },
      sourceVolume: { emptyDir: {} },
    });
    assert.deepEqual(podOf(unsized).volumes, [
      { name: "workspace", emptyDir: { sizeLimit: "4Gi" } },
      { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } },
    ]);
    const memory = await allInOne("memory", {
      scratchVolume: { emptyDir: { medium: "Memory", sizeLimit: "200Gi" } },
    });
    assert.equal(containerOf(memory).resources.limits["ephemeral-storage"], "46Gi");
    const claim = await allInOne("claim", { scratchVolume: { ephemeral: { size: "500Gi" } } });
    assert.equal(containerOf(claim).resources.limits["ephemeral-storage"], "46Gi");
    assert.equal(envValue(containerOf(claim), "CACHE_SIZE_MB"), String(500 * 1024 * 0.8));
    // A hostPath's size is unknown: no cache size is made up.
    const host = await allInOne("host", { scratchVolume: { hostPath: "/var/earthly" } });
    assert.equal(envValue(containerOf(host), "CACHE_SIZE_MB"), undefined);
  });

  test("explicit values win: cacheSizeMb, cacheSizePct, an ephemeral-storage limit (the default request follows it down)", async () => {
    const mb = await allInOne("mb", { cacheSizeMb: 10000 });
    assert.equal(envValue(containerOf(mb), "CACHE_SIZE_MB"), "10000");
    const pct = await allInOne("pct", { cacheSizePct: 50 });
    assert.equal(envValue(containerOf(pct), "CACHE_SIZE_PCT"), "50");
    assert.equal(envValue(containerOf(pct), "CACHE_SIZE_MB"), undefined);
    const small = await allInOne("small", {
      scratchVolume: { hostPath: "/var/earthly" },
      sourceVolume: { emptyDir: { sizeLimit: "1Gi" } },
      resources: { limits: { ephemeralStorage: "5Gi" } },
    });
    assert.deepEqual(containerOf(small).resources, {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "5Gi" },
      limits: { cpu: "2", memory: "4Gi", "ephemeral-storage": "5Gi" },
    });
  });

  test("refused: a limit below the volumes, a request above the limit, a cache larger than its volume", async () => {
    const make = (args: Partial<EarthlyAllInOneJobArgs>) => () =>
      new EarthlyAllInOneJob("bad", { namespace: "builds", target: "+build", ...args });
    await assertRefused(make({ resources: { limits: { ephemeralStorage: "20Gi" } } }), [
      {
        field: "resources.limits.ephemeralStorage",
        got: '"20Gi"',
        allowed:
          /at least 45056Mi, what the node-disk volumes may hold \(sourceVolume 4Gi \+ scratchVolume 40Gi\)/,
      },
    ]);
    await assertRefused(make({ resources: { requests: { ephemeralStorage: "50Gi" } } }), [
      {
        field: "resources.requests.ephemeralStorage",
        got: '"50Gi"',
        allowed: /at most the ephemeral-storage limit in force, 46Gi/,
      },
    ]);
    // The cache size comes from its arguments, so that it always agrees with the volume.
    await assertRefused(make({ env: [{ name: "CACHE_SIZE_MB", value: "999999" }] }), [
      { field: "env[0].name", got: '"CACHE_SIZE_MB"', allowed: /set from dedicated arguments/ },
    ]);
    await assertRefused(make({ scratchVolume: { emptyDir: { sizeLimit: "10Gi" } }, cacheSizeMb: 20000 }), [
      {
        field: "cacheSizeMb",
        got: "20000",
        allowed: /at most 10240, the size in MiB of scratchVolume \(10Gi\)/,
      },
    ]);
  });

  test("fleet: a 40Gi emptyDir cache by default, 10Gi/42Gi ephemeral storage, CACHE_SIZE_MB 32768", async () => {
    const ss = await fleet("disk-fleet");
    const pod = ss.spec.template.spec;
    assert.deepEqual(pod.volumes, [{ name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } }]);
    assert.deepEqual(pod.containers[0].resources, {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "10Gi" },
      limits: { cpu: "2", memory: "4Gi", "ephemeral-storage": "42Gi" },
    });
    assert.equal(envValue(pod.containers[0], "CACHE_SIZE_MB"), "32768");
    const big = (await fleet("big-fleet", { scratchVolume: { emptyDir: { sizeLimit: "100Gi" } } })).spec
      .template.spec.containers[0];
    assert.equal(big.resources.limits["ephemeral-storage"], `${102 * 1024}Mi`);
    // A claim per instance is not node disk: the default limit stays.
    const claimed = (await fleet("claim-fleet", { persistentCache: { size: "200Gi" } })).spec.template.spec
      .containers[0];
    assert.equal(claimed.resources.limits["ephemeral-storage"], "42Gi");
    assert.equal(envValue(claimed, "CACHE_SIZE_MB"), String(200 * 1024 * 0.8));
  });

  test("fleet refusals: a limit below the cache volume, a cache larger than the claim", async () => {
    const make = (args: Partial<BuildkitdFleetArgs>) => () =>
      new BuildkitdFleet("bad-fleet", { namespace: "builds", insecureDisableTls: true, ...args });
    await assertRefused(make({ resources: { limits: { ephemeralStorage: "30Gi" } } }), [
      { field: "resources.limits.ephemeralStorage", got: '"30Gi"', allowed: /at least 40960Mi/ },
    ]);
    await assertRefused(make({ persistentCache: { size: "10Gi" }, cacheSizeMb: 10241 }), [
      {
        field: "cacheSizeMb",
        got: "10241",
        allowed: /at most 10240, the size in MiB of persistentCache\.size/,
      },
    ]);
  });

  test("client: 1Gi/6Gi ephemeral storage by default, raised with a larger workspace", async () => {
    assert.deepEqual(containerOf(await client("disk-client")).resources, {
      requests: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "6Gi" },
    });
    const big = containerOf(
      await client("big-client", { sourceVolume: { emptyDir: { sizeLimit: "20Gi" } } }),
    );
    // 20Gi workspace + 256Mi home + 1Gi /tmp + 512Mi headroom.
    assert.equal(big.resources.limits["ephemeral-storage"], `${20 * 1024 + 256 + 1024 + 512}Mi`);
  });

  test("the storage arithmetic: quantities, rounding up, defaults only where nothing is given", () => {
    assert.equal(quantityToBytes("1Gi"), 2 ** 30);
    assert.equal(quantityToBytes("1G"), 1e9);
    assert.equal(quantityToBytes("500m"), undefined);
    assert.equal(bytesToMiQuantity(2 ** 20 + 1), "2Mi");
    assert.deepEqual(withDefaultSize(undefined, "1Gi"), { emptyDir: { sizeLimit: "1Gi" } });
    assert.deepEqual(withDefaultSize({ emptyDir: { sizeLimit: "2Gi" } }, "1Gi"), {
      emptyDir: { sizeLimit: "2Gi" },
    });
    assert.deepEqual(withDefaultSize({ hostPath: "/data" }, "1Gi"), { hostPath: "/data" });
    // A volume whose size is not a plain quantity leaves the default limit as it is.
    assert.deepEqual(
      withEphemeralStorage(
        { requests: { ephemeralStorage: "1Gi" }, limits: { ephemeralStorage: "2Gi" } },
        undefined,
        [{ emptyDir: { sizeLimit: "1e12" } }],
        "1Gi",
      ),
      { requests: { ephemeralStorage: "1Gi" }, limits: { ephemeralStorage: "2Gi" } },
    );
  });
});

// ---------------------------------------------------------------------------------------------
// 3. NetworkPolicies.
// ---------------------------------------------------------------------------------------------

const DNS = {
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};
const INTERNET = {
  to: [
    {
      ipBlock: {
        cidr: "0.0.0.0/0",
        except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"],
      },
    },
    { ipBlock: { cidr: "::/0", except: ["fc00::/7", "fe80::/10", "fd00:ec2::254/128"] } },
  ],
};
const TO_FLEET = {
  to: [
    {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "earthly-builds" } },
      podSelector: {
        matchLabels: { "app.kubernetes.io/name": "buildkitd", "app.kubernetes.io/part-of": "earthly" },
      },
    },
  ],
  ports: [{ protocol: "TCP", port: 8372 }],
};

describe("NetworkPolicies", () => {
  test("all-in-one: no ingress; egress DNS and the internet but not private ranges nor link-local; before the Job", async () => {
    const job = await allInOne("net");
    const policy = inputsOf(NETWORK_POLICY, "net-network");
    assert.deepEqual(policy.metadata, { namespace: "builds" });
    assert.deepEqual(policy.spec, {
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "earthly",
          "app.kubernetes.io/instance": "net",
          "app.kubernetes.io/component": "all-in-one",
        },
      },
      policyTypes: ["Ingress", "Egress"],
      egress: [DNS, INTERNET],
    });
    // The policy selects the Job's pods.
    const labels = job.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels))
      assert.equal(labels[key], value);
    // The Job depends on it: no build pod runs before its policy exists.
    assert.equal(dependsOn(JOB, "net", NETWORK_POLICY, "net-network"), true);
    assert.equal(dependsOn(JOB, "net", NETWORK_POLICY, "other-network"), false);
  });

  test("all-in-one options: other cluster ranges, an internal registry, a namespace; or no egress rules at all", async () => {
    await allInOne("net-options", {
      egress: {
        clusterCidrs: ["10.244.0.0/16", "10.96.0.0/12", "fd00:10::/56"],
        allowedCidrs: ["10.20.0.15/32"],
        allowedNamespaces: ["registry"],
      },
    });
    assert.deepEqual(inputsOf(NETWORK_POLICY, "net-options-network").spec.egress, [
      DNS,
      {
        to: [
          { ipBlock: { cidr: "0.0.0.0/0", except: ["10.244.0.0/16", "10.96.0.0/12", "169.254.0.0/16"] } },
          { ipBlock: { cidr: "::/0", except: ["fd00:10::/56", "fe80::/10", "fd00:ec2::254/128"] } },
        ],
      },
      {
        to: [
          { ipBlock: { cidr: "10.20.0.15/32" } },
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "registry" } } },
        ],
      },
    ]);
    await allInOne("net-offline", { egress: { internet: false } });
    assert.deepEqual(inputsOf(NETWORK_POLICY, "net-offline-network").spec.egress, [DNS]);
    await allInOne("net-open", { egress: { restrict: false } });
    assert.deepEqual(inputsOf(NETWORK_POLICY, "net-open-network").spec, {
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "earthly",
          "app.kubernetes.io/instance": "net-open",
          "app.kubernetes.io/component": "all-in-one",
        },
      },
      policyTypes: ["Ingress"],
    });
  });

  test("client: no ingress; egress DNS and the fleet's port only, unless the internet is asked for", async () => {
    const job = await client("net-client");
    const policy = inputsOf(NETWORK_POLICY, "net-client-network");
    assert.deepEqual(policy.metadata, { namespace: "ci" });
    assert.deepEqual(policy.spec, {
      podSelector: {
        matchLabels: {
          "app.kubernetes.io/name": "earthly",
          "app.kubernetes.io/instance": "net-client",
          "app.kubernetes.io/component": "client",
        },
      },
      policyTypes: ["Ingress", "Egress"],
      egress: [DNS, TO_FLEET],
    });
    const labels = job.spec.template.metadata.labels;
    for (const [key, value] of Object.entries(policy.spec.podSelector.matchLabels))
      assert.equal(labels[key], value);
    assert.equal(dependsOn(JOB, "net-client", NETWORK_POLICY, "net-client-network"), true);

    await client("net-client-cloud", { egress: { internet: true } });
    assert.deepEqual(inputsOf(NETWORK_POLICY, "net-client-cloud-network").spec.egress, [
      DNS,
      INTERNET,
      TO_FLEET,
    ]);
  });

  test("fleet: an egress policy beside the clients' ingress policy, before the daemons; none with restrict false", async () => {
    await fleet("net-fleet");
    const selector = { "app.kubernetes.io/name": "buildkitd", "app.kubernetes.io/instance": "net-fleet" };
    assert.deepEqual(inputsOf(NETWORK_POLICY, "net-fleet-egress"), {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "net-fleet-egress", namespace: "builds" },
      spec: { podSelector: { matchLabels: selector }, policyTypes: ["Egress"], egress: [DNS, INTERNET] },
    });
    assert.deepEqual(inputsOf(NETWORK_POLICY, "net-fleet-clients").spec.policyTypes, ["Ingress"]);
    assert.equal(dependsOn(STATEFUL_SET, "net-fleet", NETWORK_POLICY, "net-fleet-egress"), true);
    await fleet("open-fleet", { egress: { restrict: false } });
    assert.deepEqual(namesOf(NETWORK_POLICY), ["open-fleet-clients"]);
  });

  test("refused: a cluster range of prefix 0, a bad namespace, a bad block", async () => {
    const make = (egress: EarthlyAllInOneJobArgs["egress"]) => () =>
      new EarthlyAllInOneJob("bad", { namespace: "builds", target: "+build", egress });
    await assertRefused(make({ clusterCidrs: ["0.0.0.0/0"] }), [
      { field: "egress.clusterCidrs[0]", got: '"0.0.0.0/0"', allowed: /a prefix length above 0/ },
    ]);
    await assertRefused(make({ allowedNamespaces: ["Registry"] }), [
      { field: "egress.allowedNamespaces[0]", got: '"Registry"', allowed: /RFC 1123 label/ },
    ]);
    await assertRefused(make({ allowedCidrs: ["10.0.0.300/32"] }), [
      { field: "egress.allowedCidrs[0]", got: '"10.0.0.300/32"', allowed: /a CIDR block/ },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 4. The fleet under disruption.
// ---------------------------------------------------------------------------------------------

describe("the fleet under disruption", () => {
  const selector = (instance: string) => ({
    "app.kubernetes.io/name": "buildkitd",
    "app.kubernetes.io/instance": instance,
  });

  test("defaults: a PodDisruptionBudget of maxUnavailable 1 and a preferred spread over nodes", async () => {
    const ss = await fleet("spread", { replicas: 3 });
    const budget = inputsOf(PDB, "spread-budget");
    assert.equal(budget.metadata.name, "spread");
    assert.equal(budget.metadata.namespace, "builds");
    assert.deepEqual(budget.spec, {
      maxUnavailable: 1,
      selector: { matchLabels: selector("spread") },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
    assert.deepEqual(ss.spec.template.spec.topologySpreadConstraints, [
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: selector("spread") },
      },
    ]);
    // The budget and the spread select exactly the StatefulSet's pods.
    assert.deepEqual(ss.spec.selector.matchLabels, selector("spread"));
  });

  test("options: a larger budget, a required spread over zones; or neither", async () => {
    const ss = await fleet("zones", {
      replicas: 4,
      disruptionBudget: { maxUnavailable: 2 },
      spread: { topologyKey: "topology.kubernetes.io/zone", maxSkew: 2, required: true },
    });
    assert.equal(inputsOf(PDB, "zones-budget").spec.maxUnavailable, 2);
    assert.deepEqual(ss.spec.template.spec.topologySpreadConstraints, [
      {
        maxSkew: 2,
        topologyKey: "topology.kubernetes.io/zone",
        whenUnsatisfiable: "DoNotSchedule",
        labelSelector: { matchLabels: selector("zones") },
      },
    ]);
    const bare = await fleet("bare", { disruptionBudget: { enabled: false }, spread: { enabled: false } });
    assert.deepEqual(namesOf(PDB), []);
    assert.equal("topologySpreadConstraints" in bare.spec.template.spec, false);
  });

  test("refused: a budget of 0 (it would block every drain), a bad topology key", async () => {
    const make = (args: Partial<BuildkitdFleetArgs>) => () =>
      new BuildkitdFleet("bad-fleet", { namespace: "builds", insecureDisableTls: true, ...args });
    await assertRefused(make({ disruptionBudget: { maxUnavailable: 0 } }), [
      { field: "disruptionBudget.maxUnavailable", got: "0", allowed: /an integer from 1 to 100/ },
    ]);
    await assertRefused(make({ spread: { topologyKey: "not a key" } }), [
      { field: "spread.topologyKey", got: '"not a key"', allowed: /a label key/ },
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// 5. Images pinned by digest.
// ---------------------------------------------------------------------------------------------

describe("images pinned by digest", () => {
  test("imageDigest pins the Jobs' and the fleet's images; the version label stays the release", async () => {
    resetRecord();
    const component = new EarthlyAllInOneJob("pinned", {
      namespace: "builds",
      target: "+build",
      imageDigest: DIGEST,
    });
    assert.equal(await valueOf(component.image), `earthly/earthly:v0.8.16@${DIGEST}`);
    await settle();
    validateAll();
    const job = inputsOf(JOB, "pinned");
    assert.equal(containerOf(job).image, `earthly/earthly:v0.8.16@${DIGEST}`);
    assert.equal(job.spec.template.metadata.labels["app.kubernetes.io/version"], "v0.8.16");

    const clientJob = await client("pinned-client", {
      imageRepository: "earthbuild/earthbuild",
      imageDigest: DIGEST,
    });
    assert.equal(containerOf(clientJob).image, `earthbuild/earthbuild:v0.8.16@${DIGEST}`);

    const ss = await fleet("pinned-fleet", { imageDigest: DIGEST, earthlyVersion: "v0.8.19" });
    assert.equal(ss.spec.template.spec.containers[0].image, `earthly/buildkitd:v0.8.19@${DIGEST}`);
  });

  test("a full image reference may carry a digest, with or without a tag", async () => {
    for (const image of [
      `registry.example.com/earthly@${DIGEST}`,
      `registry.example.com/earthly:v1@${DIGEST}`,
    ]) {
      const job = await allInOne("by-reference", { image });
      assert.equal(containerOf(job).image, image);
    }
  });

  test("refused: a malformed digest, a digest beside a full image reference", async () => {
    await assertRefused(
      () =>
        new EarthlyAllInOneJob("bad", { namespace: "builds", target: "+build", imageDigest: "sha256:ABC" }),
      [
        {
          field: "imageDigest",
          got: '"sha256:ABC"',
          allowed: /'sha256:' followed by 64 lower-case hex digits/,
        },
      ],
    );
    await assertRefused(
      () =>
        new BuildkitdFleet("bad-fleet", {
          namespace: "builds",
          insecureDisableTls: true,
          imageDigest: DIGEST.slice(0, -1),
        }),
      [{ field: "imageDigest", got: JSON.stringify(DIGEST.slice(0, -1)) }],
    );
    await assertRefused(
      () =>
        new EarthlyAllInOneJob("bad", {
          namespace: "builds",
          target: "+build",
          image: "registry.example.com/earthly:v1",
          imageDigest: DIGEST,
        }),
      [
        {
          field: "image",
          got: '"registry.example.com/earthly:v1"',
          allowed: /or earthlyVersion\/imageRepository\/imageDigest/,
        },
      ],
    );
  });

  test("the demo reads a digest for each image and refuses a malformed one", () => {
    const config = readDemoConfig(
      (key) =>
        (({ earthlyImageDigest: DIGEST, buildkitdImageDigest: DIGEST }) as { [key: string]: string })[key],
      "remote",
    );
    assert.equal(config.earthlyImageDigest, DIGEST);
    assert.equal(config.buildkitdImageDigest, DIGEST);
    assert.throws(
      () => readDemoConfig((key) => (key === "buildkitdImageDigest" ? "latest" : undefined), "remote"),
      /invalid buildkitdImageDigest: got "latest"; allowed: an image digest/,
    );
  });
});
