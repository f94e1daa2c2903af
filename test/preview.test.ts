/**
 * `pulumi preview` shows the deployment: under Pulumi mocks in preview mode, with the TLS material
 * unknown (the certificate authority does not exist yet, as on a first deploy or after a re-issue),
 * every Kubernetes object of both demo stacks is registered with its name, namespace and every
 * field that does not derive from key material known. A CA read from an existing Secret (secret)
 * makes secret only the leaves that carry it, not a whole spec.
 *
 * Its own process and its own mocks (node:test runs each file alone): the shared mocks run with
 * preview off and give the tls resources real keys; here nothing is returned but the inputs, so
 * every output a provider computes (keys, certificates, a Command's stdout) is unknown, as it is in
 * a real preview.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { autoNamedMetadata } from "./support/autoName";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Registered {
  type: string;
  name: string;
  inputs: Obj;
}
const recorded: Registered[] = [];
/** The CA certificate the existing Secret holds. */
const STORED_CA_PEM = "-----BEGIN CERTIFICATE-----\nc3RvcmVkIENB\n-----END CERTIFICATE-----\n";

void pulumi.runtime.setMocks(
  {
    async newResource(args) {
      recorded.push({ type: args.type, name: args.name, inputs: args.inputs as Obj });
      // A read of an existing Secret: its data, secret as the kubernetes provider marks it.
      if (args.type === "kubernetes:core/v1:Secret" && args.id) {
        const data = { "ca.crt": Buffer.from(STORED_CA_PEM).toString("base64") };
        return { id: args.id, state: { ...args.inputs, data: pulumi.secret(data) } };
      }
      // What a provider's preview returns for a create: its inputs, and a Kubernetes object's
      // auto-name (the provider computes it at preview). Nothing else: keys, certificates and
      // stdout stay unknown.
      const metadata = autoNamedMetadata(args);
      return { id: `${args.name}-id`, state: { ...args.inputs, ...(metadata ? { metadata } : {}) } };
    },
    call(args) {
      return args.inputs;
    },
  },
  "earthly-kubernetes",
  "test",
  /* preview */ true,
);

// Loaded after setMocks, like every program the engine runs.
import { settle } from "./support/rejections";
import { stackConfigGetter } from "./support/stackConfig";
import { plain } from "./support/values";
import { readDemoConfig } from "../stacks/config";
import { demo } from "../stacks/demo";
import { BUILDER_NAMESPACE, CLIENT_NAMESPACE } from "../stacks/demoArgs";
import { EarthlyAllInOneJob, EarthlyRemoteJob, BuildkitdFleet } from "../components";
import * as kubernetes from "@pulumi/kubernetes";
import * as tls from "@pulumi/tls";

/** `apps/v1:StatefulSet` and the like. */
const kindOf = (r: Registered) => r.type.slice("kubernetes:".length);

/** Kubernetes objects, not providers or Commands. */
function kubeObjects(records: readonly Registered[]): Registered[] {
  return records.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:index"));
}

/** Paths of every value in `value` that `is` picks (the walk does not enter what it picks). */
function pathsWhere(value: unknown, is: (v: unknown) => boolean, path = ""): string[] {
  if (is(value)) return [path];
  if (pulumi.runtime.isRpcSecret(value)) return pathsWhere(pulumi.runtime.unwrapRpcSecret(value), is, path);
  if (Array.isArray(value)) return value.flatMap((v, i) => pathsWhere(v, is, `${path}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => pathsWhere(v, is, path ? `${path}.${k}` : k));
  }
  return [];
}
const unknownPaths = (value: unknown) => pathsWhere(value, (v) => pulumi.isUnknown(v));
const secretPaths = (value: unknown) => pathsWhere(value, (v) => pulumi.runtime.isRpcSecret(v));

/** Runs a program and returns what it registered. */
async function registered(program: () => void): Promise<Registered[]> {
  recorded.length = 0;
  program();
  await settle();
  await settle();
  return [...recorded];
}

/** Every unknown leaf of every Kubernetes object, as `Kind name: path`. */
function unknownLeaves(records: readonly Registered[]): string[] {
  return kubeObjects(records).flatMap((r) =>
    unknownPaths(r.inputs).map((p) => `${kindOf(r)} ${r.name}: ${p}`),
  );
}

/** The one Kubernetes object of a type and resource name; its inputs with secrets unwrapped. */
function inputsOf(records: readonly Registered[], type: string, name: string): Obj {
  const found = records.filter((r) => r.type === type && r.name === name);
  assert.equal(found.length, 1, `one ${type} ${name}, found ${found.length}`);
  return plain(found[0].inputs) as Obj;
}

/**
 * Names are known, or left to auto-naming (`autoNamed`, by resource name: the provider names those
 * at preview already); namespaces are known.
 */
function assertNamesAndNamespaces(records: readonly Registered[], autoNamed: readonly string[]): void {
  for (const r of kubeObjects(records)) {
    const metadata = r.inputs.metadata as Obj;
    assert.ok(metadata && !pulumi.isUnknown(metadata), `${r.type} ${r.name}: metadata known`);
    if (autoNamed.includes(r.name)) {
      assert.equal(metadata.name, undefined, `${r.type} ${r.name}: auto-named`);
    } else {
      assert.equal(typeof metadata.name, "string", `${r.type} ${r.name}: name known`);
    }
    if (r.type !== "kubernetes:core/v1:Namespace") {
      assert.equal(typeof metadata.namespace, "string", `${r.type} ${r.name}: namespace known`);
    }
  }
}

const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
const SERVICE = "kubernetes:core/v1:Service";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const JOB = "kubernetes:batch/v1:Job";
const FLEET_SELECTOR = { "app.kubernetes.io/name": "buildkitd", "app.kubernetes.io/instance": "buildkitd" };
const BUILDER_SCHEDULING = {
  nodeSelector: { "earthly-kubernetes/pool": "builders" },
  tolerations: [{ key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" }],
};

test("remote demo: every object previews known, but the TLS material and its digest", async () => {
  const records = await registered(() => demo(readDemoConfig(stackConfigGetter("remote"), "remote")));
  assert.deepEqual(
    kubeObjects(records)
      .map((r) => `${kindOf(r)} ${r.name}`)
      .sort(),
    [
      "apps/v1:StatefulSet buildkitd",
      "batch/v1:Job build",
      "core/v1:ConfigMap build-config",
      "core/v1:Namespace earthly-builds",
      "core/v1:Namespace earthly-clients",
      "core/v1:Secret build-certs",
      "core/v1:Secret buildkitd-tls",
      "core/v1:Service buildkitd",
      "core/v1:Service buildkitd-instances",
      "networking.k8s.io/v1:NetworkPolicy build-network",
      "networking.k8s.io/v1:NetworkPolicy buildkitd-clients",
      "networking.k8s.io/v1:NetworkPolicy buildkitd-egress",
      "policy/v1:PodDisruptionBudget buildkitd-budget",
    ],
  );
  // The certificate authority's outputs are unknown: that is what this preview is about.
  assert.ok(records.some((r) => r.type === "tls:index/selfSignedCert:SelfSignedCert"));
  assert.deepEqual(unknownLeaves(records).sort(), [
    "apps/v1:StatefulSet buildkitd: spec.template.metadata.annotations.earthly-kubernetes/tls-checksum",
    "core/v1:Secret build-certs: stringData",
    "core/v1:Secret buildkitd-tls: stringData",
  ]);
  assertNamesAndNamespaces(records, ["build", "build-config", "build-certs", "build-network"]);

  const ss = inputsOf(records, STATEFUL_SET, "buildkitd");
  assert.deepEqual(ss.metadata.name, "buildkitd");
  assert.deepEqual(ss.metadata.namespace, BUILDER_NAMESPACE);
  assert.equal(ss.spec.replicas, 2);
  assert.equal(ss.spec.serviceName, "buildkitd-instances");
  assert.deepEqual(ss.spec.selector, { matchLabels: FLEET_SELECTOR });
  assert.deepEqual(ss.spec.template.metadata.labels, {
    ...FLEET_SELECTOR,
    "app.kubernetes.io/component": "buildkitd",
    "app.kubernetes.io/version": "v0.8.16",
    "app.kubernetes.io/part-of": "earthly",
    "app.kubernetes.io/managed-by": "pulumi",
  });
  const daemon = ss.spec.template.spec.containers[0];
  assert.equal(daemon.image, "earthly/buildkitd:v0.8.16");
  assert.deepEqual(daemon.ports, [{ name: "tcp-buildkitd", containerPort: 8372, protocol: "TCP" }]);
  assert.deepEqual(daemon.volumeMounts, [
    { name: "earthly-tmp", mountPath: "/tmp/earthly" },
    { name: "tls", mountPath: "/etc/ca.pem", subPath: "ca.pem", readOnly: true },
    { name: "tls", mountPath: "/etc/cert.pem", subPath: "cert.pem", readOnly: true },
    { name: "tls", mountPath: "/etc/key.pem", subPath: "key.pem", readOnly: true },
  ]);
  assert.deepEqual(daemon.readinessProbe.exec, { command: ["nc", "-z", "127.0.0.1", "8372"] });
  assert.deepEqual(
    daemon.env.map((e: Obj) => e.name),
    ["BUILDKIT_TCP_TRANSPORT_ENABLED", "BUILDKIT_TLS_ENABLED", "EARTHLY_TMP_DIR", "CACHE_SIZE_MB"],
  );
  assert.deepEqual(ss.spec.template.spec.nodeSelector, BUILDER_SCHEDULING.nodeSelector);
  assert.deepEqual(ss.spec.template.spec.tolerations, BUILDER_SCHEDULING.tolerations);
  assert.deepEqual(ss.spec.template.spec.volumes, [
    { name: "earthly-tmp", emptyDir: { sizeLimit: "10Gi" } },
    { name: "tls", secret: { secretName: "buildkitd-tls", defaultMode: 0o400 } },
  ]);

  const ports = [{ name: "tcp-buildkitd", port: 8372, targetPort: 8372, protocol: "TCP" }];
  assert.deepEqual(inputsOf(records, SERVICE, "buildkitd").spec, {
    type: "ClusterIP",
    selector: FLEET_SELECTOR,
    ports,
    sessionAffinity: "ClientIP",
    sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } },
  });
  assert.deepEqual(inputsOf(records, SERVICE, "buildkitd-instances").spec, {
    clusterIP: "None",
    selector: FLEET_SELECTOR,
    ports,
    publishNotReadyAddresses: false,
  });
  assert.deepEqual(inputsOf(records, NETWORK_POLICY, "buildkitd-clients").spec, {
    podSelector: { matchLabels: FLEET_SELECTOR },
    policyTypes: ["Ingress"],
    ingress: [
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": CLIENT_NAMESPACE } },
            podSelector: { matchLabels: { "earthly-kubernetes/client-of": "buildkitd" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 8372 }],
      },
    ],
  });

  const job = inputsOf(records, JOB, "build");
  assert.equal(job.metadata.namespace, CLIENT_NAMESPACE);
  const client = job.spec.template.spec.containers[0];
  assert.equal(client.image, "earthly/earthly:v0.8.16");
  assert.deepEqual(
    client.env.map((e: Obj) => e.name),
    ["NO_BUILDKIT", "EARTHLY_BUILDKIT_HOST", "HOME", "SRC_DIR"],
  );
  assert.match(
    client.env[1].value,
    /^tcp:\/\/buildkitd-[01]\.buildkitd-instances\.earthly-builds\.svc\.cluster\.local:8372$/,
  );
  assert.deepEqual(job.spec.template.metadata.labels["earthly-kubernetes/client-of"], "buildkitd");
  assert.deepEqual(
    job.spec.template.spec.volumes.map((v: Obj) => v.name),
    ["workspace", "earthly-home", "tmp", "earthly-config", "earthly-certs"],
  );
  // The client's egress names the fleet's namespace at preview.
  assert.deepEqual(
    inputsOf(records, NETWORK_POLICY, "build-network").spec.egress[1].to[0].namespaceSelector,
    { matchLabels: { "kubernetes.io/metadata.name": BUILDER_NAMESPACE } },
  );
});

test("all-in-one demo: every Kubernetes object previews fully known", async () => {
  const records = await registered(() => demo(readDemoConfig(stackConfigGetter("aio"), "aio")));
  assert.deepEqual(
    kubeObjects(records)
      .map((r) => `${kindOf(r)} ${r.name}`)
      .sort(),
    [
      "batch/v1:Job build",
      "core/v1:Namespace earthly-builds",
      "networking.k8s.io/v1:NetworkPolicy build-network",
    ],
  );
  assert.deepEqual(unknownLeaves(records), []);
  assertNamesAndNamespaces(records, ["build", "build-network"]);
  const job = inputsOf(records, JOB, "build");
  assert.equal(job.metadata.namespace, BUILDER_NAMESPACE);
  const pod = job.spec.template.spec;
  assert.equal(pod.containers[0].image, "earthly/earthly:v0.8.16");
  assert.deepEqual(pod.nodeSelector, BUILDER_SCHEDULING.nodeSelector);
  assert.deepEqual(pod.tolerations, BUILDER_SCHEDULING.tolerations);
});

test("a CA read from an existing Secret is secret only where it is carried", async () => {
  let caIsSecret: Promise<boolean> | undefined;
  const records = await registered(() => {
    const stored = kubernetes.core.v1.Secret.get("stored-ca", "earthly/buildkit-ca");
    const caCertPem = stored.data.apply((data) => Buffer.from(data["ca.crt"], "base64").toString());
    caIsSecret = pulumi.isSecret(caCertPem);
    // A server key and certificate not created yet: unknown at preview.
    const serverKey = new tls.PrivateKey("server-key", { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const fleet = new BuildkitdFleet("buildkitd", {
      namespace: "earthly",
      replicas: 2,
      tls: { caCertPem, serverCertPem: serverKey.publicKeyPem, serverPrivateKeyPem: serverKey.privateKeyPem },
    });
    new EarthlyRemoteJob("client", {
      namespace: "ci",
      target: "+build",
      fleet: fleet.connection,
      clientCertPem: "-----BEGIN CERTIFICATE-----\nY2xpZW50\n-----END CERTIFICATE-----\n",
      clientPrivateKeyPem: pulumi.secret("-----BEGIN PRIVATE KEY-----\na2V5\n-----END PRIVATE KEY-----\n"),
    });
  });
  const secretLeaves = kubeObjects(records).flatMap((r) =>
    secretPaths(r.inputs).map((p) => `${kindOf(r)} ${r.name}: ${p}`),
  );
  assert.equal(await caIsSecret, true, "the CA read from the Secret is a secret");
  assert.deepEqual(secretLeaves.sort(), [
    "core/v1:Secret buildkitd-tls: stringData",
    "core/v1:Secret client-certs: stringData",
  ]);
  // The client's Secret carries the stored CA, known (and secret) at preview.
  assert.equal(
    inputsOf(records, "kubernetes:core/v1:Secret", "client-certs").stringData["ca_cert.pem"],
    STORED_CA_PEM,
  );
  // The Job and the StatefulSet are known and public, field by field.
  const job = inputsOf(records, JOB, "client");
  assert.deepEqual(unknownPaths(job), []);
  assert.equal(job.spec.template.spec.containers[0].image, "earthly/earthly:v0.8.16");
  const ss = records.find((r) => r.type === STATEFUL_SET);
  assert.ok(ss);
  assert.deepEqual(unknownPaths(ss.inputs), [
    "spec.template.metadata.annotations.earthly-kubernetes/tls-checksum",
  ]);
});

test("an argument not known at preview is unknown at the leaves it feeds, and nowhere else", async () => {
  const later = <T>(value: T) =>
    new tls.PrivateKey(`later-${recorded.length}`, { algorithm: "ED25519" }).publicKeyPem.apply(() => value);
  const records = await registered(() => {
    new EarthlyAllInOneJob("aio", {
      namespace: "builds",
      target: "+build",
      env: later([{ name: "EARTHLY_TOKEN", value: "t" }]),
      rebuildTrigger: later("1"),
    });
    new BuildkitdFleet("fleet", {
      namespace: "builds",
      insecureDisableTls: true,
      cniMtu: later(1440),
      scheduling: later({ nodeSelector: { pool: "builders" } }),
    });
  });
  assert.deepEqual(unknownLeaves(records).sort(), [
    "apps/v1:StatefulSet fleet: spec.template.spec.containers[0].env",
    "apps/v1:StatefulSet fleet: spec.template.spec.nodeSelector",
    "apps/v1:StatefulSet fleet: spec.template.spec.tolerations",
    "batch/v1:Job aio: spec.template.metadata.annotations",
    "batch/v1:Job aio: spec.template.spec.containers[0].env",
  ]);
  assertNamesAndNamespaces(records, ["aio", "aio-network"]);
});

test("a client given a fleet per architecture previews the chosen fleet's objects known; an unknown platform only what it chooses", async () => {
  const later = <T>(value: T) =>
    new tls.PrivateKey(`platform-later-${recorded.length}`, { algorithm: "ED25519" }).publicKeyPem.apply(
      () => value,
    );
  const program = (platform: pulumi.Input<string>) => () => {
    const fleets = ["amd64", "arm64"].map(
      (architecture) =>
        new BuildkitdFleet(`buildkitd-${architecture}`, {
          namespace: `earthly-${architecture}`,
          insecureDisableTls: true,
          scheduling: { architecture },
        }),
    );
    new EarthlyRemoteJob("client", {
      namespace: "ci",
      target: "+build",
      fleets: fleets.map((fleet) => fleet.connection),
      platform,
    });
  };
  const known = await registered(program("linux/arm64"));
  const job = inputsOf(known, JOB, "client");
  assert.deepEqual(unknownPaths(job), []);
  const container = job.spec.template.spec.containers[0];
  assert.equal(container.args[0], "--platform=linux/arm64");
  assert.equal(
    (container.env as Obj[]).find((e) => e.name === "EARTHLY_BUILDKIT_HOST")?.value,
    "tcp://buildkitd-arm64.earthly-arm64.svc.cluster.local:8372",
  );
  assert.deepEqual(unknownLeaves(known), []);

  const unknown = await registered(program(later("linux/arm64")));
  // The labels (with the chosen fleet's client label), the flag, the address, the config, the CA
  // and the policy's namespace; the rest of the Job (TLS is off in both fleets) stays known.
  assert.deepEqual(unknownLeaves(unknown).sort(), [
    "batch/v1:Job client: metadata.labels",
    "batch/v1:Job client: spec.template.metadata.labels",
    "batch/v1:Job client: spec.template.spec.containers[0].args",
    "batch/v1:Job client: spec.template.spec.containers[0].env[1].value",
    "core/v1:ConfigMap client-config: data.config.yml",
    "core/v1:Secret client-certs: stringData",
    "networking.k8s.io/v1:NetworkPolicy client-network: spec.egress[1].to[0].namespaceSelector.matchLabels.kubernetes.io/metadata.name",
  ]);
});
