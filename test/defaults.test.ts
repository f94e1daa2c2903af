/**
 * Every documented default of every component argument, in one place, as the literal values the
 * documentation promises ("v0.8.16", "/tmp/earthly", 600, "500m", ...): never through the constants
 * that produce them, so a changed constant fails here even where every other test follows it.
 * Each component is built with only its required arguments.
 */
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as YAML from "yaml";
import {
  BuiltFleet,
  BuiltJob,
  CONFIG_MAP,
  FLEET_CONNECTION,
  JOB,
  NETWORK_POLICY,
  STATEFUL_SET,
  buildAllInOne,
  buildFleet,
  buildKind,
  buildRemote,
  timeoutsOf,
} from "./support/built";
import { Obj } from "./support/values";
import { inputsOf } from "./support/recorded";
import { recorded, resetRecord, settle, valueOf } from "./support/mocks";
import { BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import { BuildkitCertificateAuthority } from "../components/tls/buildkitCertificateAuthority";
import { serverCertificate } from "./support/serverCertificate";
import { EarthlyAllInOneJob } from "../components/jobs/earthlyAllInOneJob";
import { KindCluster } from "../components/kind/kindCluster";

const TARGET = "github.com/earthly/ci-example-project:main+build";

/** Egress to DNS, on UDP and TCP port 53, to any address. */
const DNS_EGRESS = {
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};
/** Egress to the internet: everything but the private, link-local and metadata ranges. */
const INTERNET_EGRESS = {
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

/** The recommended labels of an Earthly Job's pod, by role, for instance `instance`. */
function earthlyLabels(instance: string, role: string): Record<string, string> {
  return {
    "app.kubernetes.io/name": "earthly",
    "app.kubernetes.io/instance": instance,
    "app.kubernetes.io/component": role,
    "app.kubernetes.io/version": "v0.8.16",
    "app.kubernetes.io/part-of": "earthly",
    "app.kubernetes.io/managed-by": "pulumi",
  };
}

/**
 * The defaults both Earthly Jobs share, asserted on one built Job; `outputFlags` are the flags the
 * Job adds by default before the target (the remote client's `--no-output`).
 */
function commonJobDefaults(name: string, built: () => BuiltJob, outputFlags: string[]): void {
  test("srcDir /workspace: SRC_DIR, the working directory and the workspace mount", () => {
    const { container } = built();
    assert.deepEqual(
      (container.env as Obj[]).filter((e) => e.name === "SRC_DIR"),
      [{ name: "SRC_DIR", value: "/workspace" }],
    );
    assert.equal(container.workingDir, "/workspace");
    assert.deepEqual(container.volumeMounts[0], { name: "workspace", mountPath: "/workspace" });
  });

  test("sourceVolume: an emptyDir of at most 4Gi", () => {
    assert.deepEqual(built().pod.volumes[0], { name: "workspace", emptyDir: { sizeLimit: "4Gi" } });
  });

  test("imageDigest unset: the image by tag only", () => {
    assert.doesNotMatch(built().container.image, /@/);
  });

  test(`flags: none; the arguments are [${[...outputFlags, "target"].join(", ")}]`, () => {
    assert.deepEqual(built().container.args, [...outputFlags, TARGET]);
  });

  test("imagePullPolicy IfNotPresent", () => {
    assert.equal(built().container.imagePullPolicy, "IfNotPresent");
  });

  test("scheduling: no nodeSelector, no tolerations", () => {
    const { pod } = built();
    assert.equal(pod.nodeSelector, undefined);
    assert.equal(pod.tolerations, undefined);
  });

  test("backoffLimit 1; no ttlSecondsAfterFinished; activeDeadlineSeconds 1800 (timeoutMinutes 30)", () => {
    const { job } = built();
    assert.equal(job.spec.backoffLimit, 1);
    assert.equal("ttlSecondsAfterFinished" in job.spec, false);
    assert.equal(job.spec.activeDeadlineSeconds, 1800);
  });

  test("timeoutMinutes 30: pulumi up waits 30m on create and update", () => {
    assert.deepEqual(timeoutsOf(JOB, name), { create: "30m", update: "30m", delete: "" });
  });

  test("waitForCompletion true: no skipAwait annotation; rebuildTrigger none: no template annotation", () => {
    const { job } = built();
    assert.equal(job.metadata.annotations, undefined);
    assert.equal(job.spec.template.metadata.annotations, undefined);
  });

  test("buildSecrets none: no --secret flag, no variable from a Secret", () => {
    const { container } = built();
    assert.equal((container.args as string[]).includes("--secret"), false);
    assert.equal(
      (container.env as Obj[]).some((e) => e.valueFrom !== undefined),
      false,
    );
  });

  test("artifacts none: no artifacts volume, nothing mounted under /workspace", () => {
    const { pod, container } = built();
    assert.equal(
      (pod.volumes as Obj[]).some((v) => v.name === "artifacts"),
      false,
    );
    assert.equal(
      (container.volumeMounts as Obj[]).some((m) => (m.mountPath as string).startsWith("/workspace/")),
      false,
    );
  });

  test("restartPolicy Never, no service account token, no service links", () => {
    const { pod } = built();
    assert.equal(pod.restartPolicy, "Never");
    assert.equal(pod.automountServiceAccountToken, false);
    assert.equal(pod.enableServiceLinks, false);
  });
}

describe("EarthlyAllInOneJob with only namespace and target", () => {
  let built: BuiltJob;
  let component: EarthlyAllInOneJob;
  let policy: Obj;
  before(async () => {
    built = await buildAllInOne("aio-defaults", { namespace: "builds", target: TARGET });
    policy = inputsOf(NETWORK_POLICY, "aio-defaults-network");
    component = new EarthlyAllInOneJob("aio-defaults-image", { namespace: "builds", target: TARGET });
  });

  test("earthlyVersion v0.8.16, imageRepository earthly/earthly: image earthly/earthly:v0.8.16", async () => {
    assert.equal(built.container.image, "earthly/earthly:v0.8.16");
    assert.equal(await valueOf(component.image), "earthly/earthly:v0.8.16");
  });

  test("artifacts none: the artifacts output is unset", async () => {
    assert.equal(await valueOf(component.artifacts), undefined);
  });

  test("labels: only the recommended ones, version v0.8.16", () => {
    assert.deepEqual(built.job.metadata.labels, earthlyLabels("aio-defaults", "all-in-one"));
    assert.deepEqual(built.job.spec.template.metadata.labels, earthlyLabels("aio-defaults", "all-in-one"));
  });

  test("earthlyTmpDir /tmp/earthly, scratchVolume an emptyDir of 40Gi, cacheSizeMb 80% of it, cniMtu unset: the whole env", () => {
    assert.deepEqual(built.container.env, [
      { name: "EARTHLY_TMP_DIR", value: "/tmp/earthly" },
      { name: "CACHE_SIZE_MB", value: "32768" },
      { name: "SRC_DIR", value: "/workspace" },
    ]);
    assert.deepEqual(built.container.volumeMounts, [
      { name: "workspace", mountPath: "/workspace" },
      { name: "earthly-tmp", mountPath: "/tmp/earthly" },
    ]);
    assert.deepEqual(built.pod.volumes[1], { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } });
  });

  test("resources: requests 500m CPU / 1Gi / 10Gi ephemeral storage, limits 2 CPU / 4Gi / 46Gi", () => {
    assert.deepEqual(built.container.resources, {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "10Gi" },
      limits: { cpu: "2", memory: "4Gi", "ephemeral-storage": "46Gi" },
    });
  });

  test("egress: no ingress; DNS and the internet, not the private ranges nor link-local", () => {
    assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policy.spec.egress, [DNS_EGRESS, INTERNET_EGRESS]);
  });

  test("privileged: the embedded buildkitd needs it", () => {
    assert.deepEqual(built.container.securityContext, { privileged: true });
  });

  commonJobDefaults("aio-defaults", () => built, []);
});

describe("EarthlyRemoteJob with only namespace, target, fleet and client certificate", () => {
  let built: BuiltJob & { config: Obj; buildkitHost: string };
  let policy: Obj;
  before(async () => {
    built = await buildRemote("remote-defaults", {
      namespace: "ci",
      target: TARGET,
      fleet: FLEET_CONNECTION,
      clientCertPem: "cert",
      clientPrivateKeyPem: "key",
    });
    policy = inputsOf(NETWORK_POLICY, "remote-defaults-network");
  });

  test("earthlyVersion: the fleet's (v0.8.16), in image earthly/earthly:v0.8.16", () => {
    assert.equal(built.container.image, "earthly/earthly:v0.8.16");
  });

  test("earthlyVersion follows the fleet's version, not a constant", async () => {
    const { container } = await buildRemote("remote-defaults-v19", {
      namespace: "ci",
      target: TARGET,
      fleet: { ...FLEET_CONNECTION, earthlyVersion: "v0.8.19" },
      clientCertPem: "cert",
      clientPrivateKeyPem: "key",
    });
    assert.equal(container.image, "earthly/earthly:v0.8.19");
  });

  test("labels: the recommended ones and the fleet's client label", () => {
    assert.deepEqual(built.job.spec.template.metadata.labels, {
      "earthly-kubernetes/client-of": "buildkitd",
      ...earthlyLabels("remote-defaults", "client"),
    });
  });

  test("cacheKey unset: the client dials the fleet's Service; env has nothing else", () => {
    assert.equal(built.buildkitHost, "tcp://buildkitd.earthly.svc.cluster.local:8372");
    assert.deepEqual(built.container.env, [
      { name: "NO_BUILDKIT", value: "1" },
      { name: "EARTHLY_BUILDKIT_HOST", value: "tcp://buildkitd.earthly.svc.cluster.local:8372" },
      { name: "HOME", value: "/home/earthly" },
      { name: "SRC_DIR", value: "/workspace" },
    ]);
  });

  test("earthlyConfig and gitCredentials unset: Earthly's config holds only the host and TLS settings", () => {
    assert.deepEqual(YAML.parse(built.config.data["config.yml"]), {
      global: {
        buildkit_host: "tcp://buildkitd.earthly.svc.cluster.local:8372",
        tls_enabled: true,
        tlsca: "/etc/.earthly/certs/ca_cert.pem",
        tlscert: "/etc/.earthly/certs/earthly_cert.pem",
        tlskey: "/etc/.earthly/certs/earthly_key.pem",
      },
    });
  });

  test("resources: requests 100m CPU / 256Mi / 1Gi ephemeral storage, limits 1 CPU / 1Gi / 6Gi", () => {
    assert.deepEqual(built.container.resources, {
      requests: { cpu: "100m", memory: "256Mi", "ephemeral-storage": "1Gi" },
      limits: { cpu: "1", memory: "1Gi", "ephemeral-storage": "6Gi" },
    });
  });

  test("unprivileged, Pod Security restricted: all capabilities dropped, read-only root", () => {
    assert.deepEqual(built.container.securityContext, {
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  test("security: UID and GID 10001, non-root, RuntimeDefault seccomp; home 256Mi and /tmp 1Gi", () => {
    assert.deepEqual(built.pod.securityContext, {
      runAsNonRoot: true,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(built.pod.volumes.slice(1, 3), [
      { name: "earthly-home", emptyDir: { sizeLimit: "256Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
    ]);
  });

  test("egress: no ingress; DNS and port 8372 of the fleet's daemons only", () => {
    assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
    assert.deepEqual(policy.spec.egress, [
      DNS_EGRESS,
      {
        to: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "earthly" } },
            podSelector: {
              matchLabels: { "app.kubernetes.io/name": "buildkitd", "app.kubernetes.io/part-of": "earthly" },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 8372 }],
      },
    ]);
  });

  commonJobDefaults("remote-defaults", () => built, ["--no-output"]);
});

describe("BuildkitdFleet with only namespace and the TLS material", () => {
  // Every name a fleet "buildkitd" of one instance in "earthly" is dialled by, written out.
  const dnsNames = [
    "buildkitd",
    "buildkitd.earthly",
    "buildkitd.earthly.svc",
    "buildkitd.earthly.svc.cluster.local",
    "buildkitd-0.buildkitd-instances",
    "buildkitd-0.buildkitd-instances.earthly",
    "buildkitd-0.buildkitd-instances.earthly.svc",
    "buildkitd-0.buildkitd-instances.earthly.svc.cluster.local",
  ];
  let built: BuiltFleet;
  let egressPolicy: Obj;
  let budget: Obj;
  before(async () => {
    const pems = await serverCertificate("buildkitd.earthly.svc.cluster.local", dnsNames);
    built = await buildFleet("buildkitd", {
      namespace: "earthly",
      tls: { caCertPem: pems.caCertPem, serverCertPem: pems.certPem, serverPrivateKeyPem: pems.keyPem },
    });
    egressPolicy = inputsOf(NETWORK_POLICY, "buildkitd-egress");
    budget = inputsOf("kubernetes:policy/v1:PodDisruptionBudget", "buildkitd-budget");
  });

  test("cacheClaims: none without persistentCache (the cache is a volume of each pod)", async () => {
    assert.deepEqual(await valueOf(built.fleet.cacheClaims), []);
  });

  test("fleetName: the resource name, for the StatefulSet, the Services and the NetworkPolicy", () => {
    assert.equal(built.statefulSet.metadata.name, "buildkitd");
    assert.equal(built.service.metadata.name, "buildkitd");
    assert.equal(built.headless.metadata.name, "buildkitd-instances");
    assert.equal(built.policy.metadata.name, "buildkitd-clients");
    assert.equal(built.connection.fleetName, "buildkitd");
  });

  test("replicas 1", () => {
    assert.equal(built.statefulSet.spec.replicas, 1);
    assert.deepEqual(built.connection.instanceNames, ["buildkitd-0"]);
  });

  test("earthlyVersion v0.8.16, imageRepository earthly/buildkitd: image earthly/buildkitd:v0.8.16", () => {
    assert.equal(built.container.image, "earthly/buildkitd:v0.8.16");
    assert.equal(built.connection.earthlyVersion, "v0.8.16");
    assert.equal(built.statefulSet.metadata.labels["app.kubernetes.io/version"], "v0.8.16");
  });

  test("clusterDomain cluster.local: the hosts clients dial", () => {
    assert.equal(built.connection.buildkitHost, "tcp://buildkitd.earthly.svc.cluster.local:8372");
    assert.deepEqual(built.connection.instanceHosts, [
      "buildkitd-0.buildkitd-instances.earthly.svc.cluster.local",
    ]);
  });

  test("insecureDisableTls false: mTLS on, the TLS Secret mounted", () => {
    assert.equal(built.connection.tlsEnabled, true);
    assert.deepEqual(
      (built.container.env as Obj[]).find((e) => e.name === "BUILDKIT_TLS_ENABLED"),
      { name: "BUILDKIT_TLS_ENABLED", value: "true" },
    );
    assert.deepEqual(
      (built.container.volumeMounts as Obj[]).filter((m) => m.name === "tls").map((m) => m.mountPath),
      ["/etc/ca.pem", "/etc/cert.pem", "/etc/key.pem"],
    );
    assert.ok(built.secret, "the TLS Secret");
  });

  test("earthlyTmpDir /tmp/earthly on an emptyDir of 40Gi; no persistentCache; cacheSizeMb 80% of it, no CNI_MTU; the whole env", () => {
    assert.deepEqual(built.container.env, [
      { name: "BUILDKIT_TCP_TRANSPORT_ENABLED", value: "true" },
      { name: "BUILDKIT_TLS_ENABLED", value: "true" },
      { name: "EARTHLY_TMP_DIR", value: "/tmp/earthly" },
      { name: "CACHE_SIZE_MB", value: "32768" },
    ]);
    assert.deepEqual(built.container.volumeMounts[0], { name: "earthly-tmp", mountPath: "/tmp/earthly" });
    assert.deepEqual(built.pod.volumes[0], { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } });
    assert.equal(built.statefulSet.spec.volumeClaimTemplates, undefined);
    assert.equal(built.statefulSet.spec.persistentVolumeClaimRetentionPolicy, undefined);
  });

  test("cacheSizeMb: 80% of a known volume size, in MiB", async () => {
    const { container } = await buildFleet("sized", {
      namespace: "earthly",
      insecureDisableTls: true,
      persistentCache: { size: "10Gi" },
    });
    assert.equal((container.env as Obj[]).find((e) => e.name === "CACHE_SIZE_MB")?.value, "8192");
  });

  test("resources: requests 500m CPU / 1Gi / 10Gi ephemeral storage, limits 2 CPU / 4Gi / 42Gi", () => {
    assert.deepEqual(built.container.resources, {
      requests: { cpu: "500m", memory: "1Gi", "ephemeral-storage": "10Gi" },
      limits: { cpu: "2", memory: "4Gi", "ephemeral-storage": "42Gi" },
    });
  });

  test("egress, disruptionBudget, spread: DNS and the internet; at most 1 down; preferred one per node", () => {
    assert.deepEqual(egressPolicy.spec.egress, [DNS_EGRESS, INTERNET_EGRESS]);
    assert.deepEqual(budget.spec.maxUnavailable, 1);
    assert.deepEqual(
      built.pod.topologySpreadConstraints.map((c: Obj) => [c.topologyKey, c.maxSkew, c.whenUnsatisfiable]),
      [["kubernetes.io/hostname", 1, "ScheduleAnyway"]],
    );
  });

  test("scheduling: no nodeSelector, no tolerations; podAnnotations: only the TLS checksum", () => {
    assert.equal(built.pod.nodeSelector, undefined);
    assert.equal(built.pod.tolerations, undefined);
    assert.deepEqual(Object.keys(built.statefulSet.spec.template.metadata.annotations), [
      "earthly-kubernetes/tls-checksum",
    ]);
  });

  test("sessionAffinityTimeoutSeconds 600", () => {
    assert.equal(built.service.spec.sessionAffinity, "ClientIP");
    assert.deepEqual(built.service.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 600 } });
  });

  test("clientNamespaces: the fleet's namespace; allowedNamespaces and allowedCidrs: none", () => {
    assert.deepEqual(built.policy.spec.ingress[0].from, [
      {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "earthly" } },
        podSelector: { matchLabels: { "earthly-kubernetes/client-of": "buildkitd" } },
      },
    ]);
  });

  test("the StatefulSet is awaited with the provider's default timeouts", () => {
    assert.deepEqual(timeoutsOf(STATEFUL_SET, "buildkitd"), { create: "", update: "", delete: "" });
  });
});

describe("KindCluster with only clusterName", () => {
  let command: Obj;
  let cluster: KindCluster;
  before(async () => {
    ({ command, cluster } = await buildKind("kind-defaults", { clusterName: "defaults" }));
  });

  test("waitSeconds 120, adoptExisting false", () => {
    assert.equal(command.environment.EK_WAIT_SECONDS, "120");
    assert.equal(command.environment.EK_ADOPT_EXISTING, "false");
  });

  test("nodeImage: kind's default (no image); workerPools, controlPlaneLabels, networking: none", () => {
    const config = YAML.parse(command.stdin) as Obj;
    assert.deepEqual(Object.keys(config), ["kind", "apiVersion", "nodes"]);
    assert.equal(config.nodes.length, 1);
    assert.equal(config.nodes[0].role, "control-plane");
    assert.equal("image" in config.nodes[0], false);
    assert.deepEqual(Object.keys(config.nodes[0].labels), ["earthly-kubernetes/kind-config"]);
  });

  test("the kube context is kind-<clusterName>; no pool, so the lone control plane takes ordinary pods", async () => {
    assert.equal(await valueOf(cluster.kubeContext), "kind-defaults");
    assert.deepEqual(await valueOf(cluster.poolScheduling), {});
    assert.deepEqual(await valueOf(cluster.untaintedNodes), ["defaults-control-plane"]);
  });
});

describe("BuildkitCertificateAuthority with no arguments, and a fleet issuing from it", () => {
  test("ECDSA P-256 keys, CN earthly-buildkit-ca, 10-year CA, 1-year certificates, 30-day renewal, one client called earthly", async () => {
    resetRecord();
    const ca = new BuildkitCertificateAuthority("ca-defaults", {});
    const issuer = await valueOf(ca.issuer);
    const clients = await valueOf(ca.clientCertificates);
    const fleet = new BuildkitdFleet("issued", { namespace: "earthly", tls: { issuer: ca.issuer } });
    await valueOf(fleet.connection);
    await settle();
    const tls = (typeAndName: string) => {
      const [type, name] = typeAndName.split("::");
      return inputsOf(`tls:index/${type}`, name);
    };
    assert.deepEqual(tls("privateKey:PrivateKey::ca-defaults-ca-key"), {
      algorithm: "ECDSA",
      ecdsaCurve: "P256",
    });
    const caCert = tls("selfSignedCert:SelfSignedCert::ca-defaults-ca-cert");
    assert.deepEqual(caCert.subject, { commonName: "earthly-buildkit-ca" });
    assert.equal(caCert.validityPeriodHours, 87600);
    assert.equal(caCert.earlyRenewalHours, 720);
    assert.deepEqual(caCert.allowedUses, ["cert_signing", "crl_signing", "digital_signature"]);
    assert.deepEqual(Object.keys(clients), ["earthly"]);
    const client = tls("locallySignedCert:LocallySignedCert::ca-defaults-client-earthly-cert");
    assert.equal(client.validityPeriodHours, 8760);
    assert.equal(client.earlyRenewalHours, 720);
    assert.deepEqual(client.allowedUses, ["client_auth", "digital_signature", "key_encipherment"]);
    assert.deepEqual(
      { ...issuer, caCertPem: "", caPrivateKeyPem: "" },
      {
        caCertPem: "",
        caPrivateKeyPem: "",
        keyAlgorithm: "ECDSA_P256",
        certificateValidityHours: 8760,
        earlyRenewalHours: 720,
      },
    );
    // The fleet's server certificate takes the issuer's settings.
    assert.deepEqual(tls("privateKey:PrivateKey::issued-server-key"), {
      algorithm: "ECDSA",
      ecdsaCurve: "P256",
    });
    const server = tls("locallySignedCert:LocallySignedCert::issued-server-cert");
    assert.equal(server.validityPeriodHours, 8760);
    assert.equal(server.earlyRenewalHours, 720);
    assert.deepEqual(server.allowedUses, ["server_auth", "digital_signature", "key_encipherment"]);
    assert.deepEqual(tls("certRequest:CertRequest::issued-server-csr").subject, {
      commonName: "issued.earthly.svc.cluster.local",
    });
  });
});

describe("Git and registry arguments unset, and the defaults inside them", () => {
  let aio: BuiltJob;
  let withCredentials: BuiltJob;
  let fleet: BuiltFleet;
  let aioConfigMaps: string[];
  before(async () => {
    aio = await buildAllInOne("aio-access-defaults", { namespace: "builds", target: TARGET });
    aioConfigMaps = recorded.filter((r) => r.type === CONFIG_MAP).map((r) => r.name);
    fleet = await buildFleet("access-defaults", { namespace: "earthly", insecureDisableTls: true });
    withCredentials = await buildAllInOne("aio-credential-defaults", {
      namespace: "builds",
      target: TARGET,
      gitCredentials: {
        https: [{ host: "git.example.com", secretName: "git-token" }],
        ssh: { hosts: ["github.com"], secretName: "git-ssh", knownHosts: { secretName: "known-hosts" } },
      },
    });
  });

  test("earthlyConfig, gitCredentials unset: no config file of the all-in-one's own, the image's entrypoint", () => {
    assert.deepEqual(aioConfigMaps, []);
    assert.equal("command" in aio.container, false);
    assert.equal(
      (aio.container.volumeMounts as Obj[]).some((m) => m.mountPath === "/etc/.earthly/config.yml"),
      false,
    );
  });

  test("imagePullSecrets unset: none on the Job's pod nor the fleet's", () => {
    assert.equal("imagePullSecrets" in aio.pod, false);
    assert.equal("imagePullSecrets" in fleet.pod, false);
  });

  test("dockerConfigSecret and buildkitRegistries unset: no DOCKER_CONFIG, no EARTHLY_ADDITIONAL_BUILDKIT_CONFIG", () => {
    const names = (c: Obj) => (c.env as Obj[]).map((e) => e.name);
    assert.equal(names(aio.container).includes("DOCKER_CONFIG"), false);
    assert.equal(names(aio.container).includes("EARTHLY_ADDITIONAL_BUILDKIT_CONFIG"), false);
    assert.equal(names(fleet.container).includes("EARTHLY_ADDITIONAL_BUILDKIT_CONFIG"), false);
  });

  test("usernameKey username, passwordKey password, privateKeyKey ssh-privatekey, knownHosts key known_hosts, ssh user git", () => {
    const volume = (name: string) => (withCredentials.pod.volumes as Obj[]).find((v) => v.name === name);
    assert.deepEqual(volume("git-https-0")?.secret.items, [
      { key: "username", path: "username" },
      { key: "password", path: "password" },
    ]);
    assert.deepEqual(volume("git-ssh")?.secret.items, [{ key: "ssh-privatekey", path: "key" }]);
    // The wrapper reads the same default keys from its environment: Secret/usernameKey/passwordKey.
    const env = Object.fromEntries(
      (withCredentials.container.env as Obj[]).map((e) => [e.name, e.value] as [string, unknown]),
    );
    assert.equal(env.EARTHLY_KUBERNETES_GIT_HTTPS_SECRETS, "git-token/username/password");
    assert.equal(env.EARTHLY_KUBERNETES_GIT_SSH_SECRET, "git-ssh/ssh-privatekey");
    assert.deepEqual(volume("git-known-hosts")?.secret, {
      secretName: "known-hosts",
      items: [{ key: "known_hosts", path: "ssh_known_hosts" }],
      defaultMode: 0o400,
    });
    const config = YAML.parse(inputsOf(CONFIG_MAP, "aio-credential-defaults-config").data["config.yml"]);
    assert.deepEqual(config, {
      git: { "git.example.com": { auth: "https" }, "github.com": { auth: "ssh", user: "git" } },
    });
  });
});

describe("hostUsers unset: the node's user namespace (Kubernetes' default), nothing written", () => {
  test("no hostUsers in the all-in-one's, the client's or the daemons' pod spec; true is written as unset", async () => {
    const args = { namespace: "builds", target: TARGET };
    const aio = await buildAllInOne("aio-host-users", args);
    assert.equal("hostUsers" in aio.pod, false);
    const remote = await buildRemote("remote-host-users", {
      ...args,
      fleet: FLEET_CONNECTION,
      clientCertPem: "cert",
      clientPrivateKeyPem: "key",
    });
    assert.equal("hostUsers" in remote.pod, false);
    const fleet = await buildFleet("host-users", { namespace: "earthly", insecureDisableTls: true });
    assert.equal("hostUsers" in fleet.pod, false);
    const withTrue = await buildAllInOne("aio-host-users", { ...args, hostUsers: true });
    assert.equal(JSON.stringify(withTrue.job), JSON.stringify(aio.job));
  });
});
