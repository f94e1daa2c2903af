/**
 * The validation contract, table-driven: each bad input is refused at construction, before any
 * resource (not even the component) is registered, with a message naming the component, the field,
 * the value and what is allowed.
 */
import { recorded, resetRecord, settle } from "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildkitCertificateAuthority } from "../components/tls/buildkitCertificateAuthority";
import { EarthlyAllInOneJob, EarthlyAllInOneJobArgs } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { KindCluster, KindClusterArgs } from "../components/kind/kindCluster";
import { BuildkitdFleet, BuildkitdFleetArgs } from "../components/fleet/buildkitdFleet";
import { FleetConnection } from "../components/fleet/connection";
import { InvalidArgumentsError } from "../components/validation/errors";
import { TaintEffect } from "../components/pods/scheduling";

const aio = (extra: Partial<EarthlyAllInOneJobArgs>) => () =>
  new EarthlyAllInOneJob("aio", {
    namespace: "builds",
    target: "+build",
    ...extra,
  } as EarthlyAllInOneJobArgs);
const kind = (extra: Partial<KindClusterArgs>) => () =>
  new KindCluster("kind", { clusterName: "demo", ...extra } as KindClusterArgs);
const TLS = { caCertPem: "ca", serverCertPem: "cert", serverPrivateKeyPem: "key" };
const fleet = (extra: Partial<BuildkitdFleetArgs>) => () =>
  new BuildkitdFleet("fleet", { namespace: "builds", tls: TLS, ...extra } as BuildkitdFleetArgs);
const CONNECTION: FleetConnection = {
  fleetName: "buildkitd",
  namespace: "builds",
  buildkitHost: "tcp://buildkitd.builds.svc.cluster.local:8372",
  instanceNames: ["buildkitd-0"],
  instanceHosts: ["buildkitd-0.buildkitd-instances.builds.svc.cluster.local"],
  earthlyVersion: "v0.8.16",
  tlsEnabled: true,
  caCertPem: "ca",
  clientLabels: { "earthly-kubernetes/client-of": "buildkitd" },
};
const client = (extra: Partial<EarthlyRemoteJobArgs>) => () =>
  new EarthlyRemoteJob("client", {
    namespace: "clients",
    target: "+build",
    fleet: CONNECTION,
    clientCertPem: "cert",
    clientPrivateKeyPem: "key",
    ...extra,
  } as EarthlyRemoteJobArgs);

/** [description, construct, expected message]. */
const CASES: [string, () => unknown, RegExp][] = [
  // names
  [
    "cluster name with upper case",
    kind({ clusterName: "Demo" }),
    /KindCluster "kind": invalid clusterName: got "Demo"; allowed: a kind cluster name/,
  ],
  ["cluster name with a space", kind({ clusterName: "a b" }), /invalid clusterName: got "a b"/],
  ["cluster name with $()", kind({ clusterName: "$(reboot)" }), /invalid clusterName: got "\$\(reboot\)"/],
  ["cluster name with ;", kind({ clusterName: "a;rm -rf ~" }), /invalid clusterName: got "a;rm -rf ~"/],
  ["cluster name with a newline", kind({ clusterName: "a\nb" }), /invalid clusterName: got "a\\nb"/],
  ["cluster name with a leading -", kind({ clusterName: "-demo" }), /invalid clusterName: got "-demo"/],
  [
    "cluster name too long",
    kind({ clusterName: "a".repeat(41) }),
    /invalid clusterName: got "a{41}"; allowed: a kind cluster name: 1-40/,
  ],
  [
    "namespace with upper case",
    aio({ namespace: "Builds" }),
    /EarthlyAllInOneJob "aio": invalid namespace: got "Builds"; allowed: an RFC 1123 label/,
  ],
  [
    "namespace with a dot",
    fleet({ namespace: "a.b" }),
    /BuildkitdFleet "fleet": invalid namespace: got "a.b"/,
  ],
  [
    "fleet name starting with a digit",
    fleet({ fleetName: "1fleet" }),
    /invalid fleetName: got "1fleet"; allowed: an RFC 1035 label/,
  ],
  [
    "fleet name too long",
    fleet({ fleetName: "f".repeat(41) }),
    /invalid fleetName: got "f{41}"; allowed: an RFC 1035 label of at most 40 characters/,
  ],
  [
    "pool name with _",
    kind({ workerPools: [{ name: "my_pool" }] }),
    /invalid workerPools\[0\]\.name: got "my_pool"/,
  ],
  [
    "duplicate pool names",
    kind({ workerPools: [{ name: "a" }, { name: "a" }] }),
    /invalid workerPools\[1\]: got "a"; allowed: a pool name not already used/,
  ],
  // versions and images
  [
    "earthlyVersion without v",
    aio({ earthlyVersion: "0.8.16" }),
    /invalid earthlyVersion: got "0.8.16"; allowed: an Earthly release tag/,
  ],
  ["earthlyVersion latest", fleet({ earthlyVersion: "latest" }), /invalid earthlyVersion: got "latest"/],
  [
    "image without a tag",
    aio({ image: "earthly/earthly" }),
    /invalid image: got "earthly\/earthly"; allowed: an image reference with a tag or digest/,
  ],
  [
    "image and version together",
    aio({ image: "me/earthly:v1", earthlyVersion: "v0.8.16" }),
    /invalid image: got "me\/earthly:v1"; allowed: either image \(with its own tag or digest\), or earthlyVersion\/imageRepository\/imageDigest, not both/,
  ],
  [
    "image repository with a tag",
    fleet({ imageRepository: "earthly/buildkitd:v1" }),
    /invalid imageRepository: got "earthly\/buildkitd:v1"/,
  ],
  ["node image without a tag", kind({ nodeImage: "kindest/node" }), /invalid nodeImage: got "kindest\/node"/],
  [
    "client version differs from the fleet",
    client({ earthlyVersion: "v0.8.15" }),
    /EarthlyRemoteJob "client": invalid earthlyVersion: got "v0.8.15"; allowed: the fleet's version v0.8.16/,
  ],
  // integers and ranges
  ["replicas 0", fleet({ replicas: 0 }), /invalid replicas: got 0; allowed: an integer from 1 to 100/],
  ["replicas 1.5", fleet({ replicas: 1.5 }), /invalid replicas: got 1.5/],
  [
    "affinity timeout 0",
    fleet({ sessionAffinityTimeoutSeconds: 0 }),
    /invalid sessionAffinityTimeoutSeconds: got 0; allowed: an integer from 1 to 86400/,
  ],
  [
    "affinity timeout 86401",
    fleet({ sessionAffinityTimeoutSeconds: 86401 }),
    /invalid sessionAffinityTimeoutSeconds: got 86401/,
  ],
  ["cniMtu 575", aio({ cniMtu: 575 }), /invalid cniMtu: got 575; allowed: an integer from 576 to 9216/],
  ["cniMtu 9217", fleet({ cniMtu: 9217 }), /invalid cniMtu: got 9217/],
  [
    "negative backoff limit",
    aio({ backoffLimit: -1 }),
    /invalid backoffLimit: got -1; allowed: an integer from 0 to 100/,
  ],
  [
    "node count 0",
    kind({ workerPools: [{ name: "b", nodes: 0 }] }),
    /invalid workerPools\[0\]\.nodes: got 0; allowed: an integer from 1 to 20/,
  ],
  [
    "API server port 70000",
    kind({ networking: { apiServerPort: 70000 } }),
    /invalid networking\.apiServerPort: got 70000/,
  ],
  [
    "cache percentage 101",
    fleet({ cacheSizePct: 101 }),
    /invalid cacheSizePct: got 101; allowed: an integer from 1 to 100/,
  ],
  // enums
  [
    "taint effect Sometimes",
    kind({ workerPools: [{ name: "b", taints: [{ key: "k", effect: "Sometimes" as TaintEffect }] }] }),
    /invalid workerPools\[0\]\.taints\[0\]\.effect: got "Sometimes"; allowed: one of 'NoSchedule', 'PreferNoSchedule', 'NoExecute'/,
  ],
  [
    "toleration operator Like",
    aio({ scheduling: { tolerations: [{ key: "k", operator: "Like" as "Equal" }] } }),
    /invalid scheduling\.tolerations\[0\]\.operator: got "Like"; allowed: one of 'Equal', 'Exists'/,
  ],
  [
    "Exists with a value",
    aio({ scheduling: { tolerations: [{ key: "k", operator: "Exists", value: "v" }] } }),
    /invalid scheduling\.tolerations\[0\]\.value: got "v"; allowed: no value when operator is 'Exists'/,
  ],
  [
    "empty key without Exists",
    aio({ scheduling: { tolerations: [{ effect: "NoSchedule" }] } }),
    /invalid scheduling\.tolerations\[0\]\.operator: got "Equal"; allowed: 'Exists' when the key is empty/,
  ],
  [
    "kube-proxy mode userspace",
    kind({ networking: { kubeProxyMode: "userspace" as "iptables" } }),
    /invalid networking\.kubeProxyMode: got "userspace"/,
  ],
  [
    "key algorithm DSA",
    () => new BuildkitCertificateAuthority("ca", { keyAlgorithm: "DSA" as "ECDSA_P256" }),
    /invalid keyAlgorithm: got "DSA"/,
  ],
  // quantities
  [
    "memory 4GB",
    aio({ resources: { limits: { memory: "4GB" } } }),
    /invalid resources\.limits\.memory: got "4GB"; allowed: a Kubernetes quantity/,
  ],
  [
    "cpu two",
    fleet({ resources: { requests: { cpu: "two" } } }),
    /invalid resources\.requests\.cpu: got "two"/,
  ],
  [
    "cache size 50 gigs",
    fleet({ persistentCache: { size: "50 gigs" } }),
    /invalid persistentCache\.size: got "50 gigs"/,
  ],
  [
    "emptyDir size -1Gi",
    aio({ scratchVolume: { emptyDir: { sizeLimit: "-1Gi" } } }),
    /invalid scratchVolume\.emptyDir\.sizeLimit: got "-1Gi"/,
  ],
  // paths
  [
    "relative scratch dir",
    aio({ earthlyTmpDir: "tmp/earthly" }),
    /invalid earthlyTmpDir: got "tmp\/earthly"; allowed: an absolute, normalised path/,
  ],
  ["scratch dir /", aio({ earthlyTmpDir: "/" }), /invalid earthlyTmpDir: got "\/"/],
  ["source dir /etc", aio({ srcDir: "/etc" }), /invalid srcDir: got "\/etc"/],
  ["unnormalised path", aio({ srcDir: "/work/../etc" }), /invalid srcDir: got "\/work\/\.\.\/etc"/],
  [
    "scratch dir inside the source dir",
    aio({ srcDir: "/work", earthlyTmpDir: "/work/tmp" }),
    /invalid earthlyTmpDir\/srcDir: got \["\/work\/tmp","\/work"\]; allowed: two distinct directories/,
  ],
  // combinations
  [
    "TLS missing without the opt-in",
    fleet({ tls: undefined }),
    /invalid tls: got nothing; allowed: the server certificate: tls\.issuer .* \(mTLS is on by default/,
  ],
  [
    "TLS given with the opt-out",
    fleet({ insecureDisableTls: true }),
    /invalid tls: got "\(given\)"; allowed: no tls together with insecureDisableTls/,
  ],
  [
    "persistent cache and scratch volume",
    fleet({ persistentCache: { size: "10Gi" }, scratchVolume: { emptyDir: {} } }),
    /invalid scratchVolume: .*allowed: not together with persistentCache/,
  ],
  [
    "two volume sources",
    aio({ scratchVolume: { emptyDir: {}, hostPath: "/data" } }),
    /allowed: at most one of emptyDir, ephemeral, persistentVolumeClaimName or hostPath/,
  ],
  // environment and free text
  [
    "reserved env name",
    aio({ env: [{ name: "EARTHLY_TMP_DIR", value: "/x" }] }),
    /invalid env\[0\]\.name: got "EARTHLY_TMP_DIR"; allowed: a name other than/,
  ],
  ["env name with =", aio({ env: [{ name: "A=B", value: "x" }] }), /invalid env\[0\]\.name: got "A=B"/],
  [
    "env with two sources",
    aio({ env: [{ name: "T", value: "x", secretKeyRef: { name: "s", key: "k" } }] }),
    /allowed: exactly one of value, secretKeyRef or configMapKeyRef/,
  ],
  [
    "GLOBAL_CONFIG on a client",
    client({ env: [{ name: "GLOBAL_CONFIG", value: "{}" }] }),
    /invalid env\.name: got "GLOBAL_CONFIG"; allowed: not GLOBAL_CONFIG here: use earthlyConfig\.global/,
  ],
  [
    "earthlyConfig overriding tls_enabled",
    client({ earthlyConfig: { global: { tls_enabled: "false" } } }),
    /invalid earthlyConfig\.global\.tls_enabled: got "false"; allowed: a key the components do not own; tls_enabled is set from the fleet/,
  ],
  [
    "target with a newline",
    aio({ target: "+build\n+deploy" }),
    /invalid target: got "\+build\\n\+deploy"; allowed: a non-empty string .* without control characters/,
  ],
  ["flag with a control character", aio({ flags: ["--ci\u0007"] }), /invalid flags\[0\]: got "--ci\\u0007"/],
  [
    "label value too long",
    aio({ labels: { team: "x".repeat(64) } }),
    /invalid labels\["team"\]: got "x{64}"/,
  ],
  [
    "client namespace with upper case",
    fleet({ clientNamespaces: ["CI"] }),
    /invalid clientNamespaces\[0\]: got "CI"/,
  ],
  [
    "a misspelt nested field (egress.clusterCidr)",
    fleet({ egress: { clusterCidr: ["100.0.0.0/8"] } } as unknown as Partial<BuildkitdFleetArgs>),
    /invalid egress\.clusterCidr: got \["100\.0\.0\.0\/8"\]; allowed: no such field; the fields are .*clusterCidrs/,
  ],
  [
    "a misspelt field of tls (serverKeyPem)",
    fleet({
      tls: { caCertPem: "ca", serverCertPem: "cert", serverPrivateKeyPem: "key", serverKeyPem: "key" },
    } as unknown as Partial<BuildkitdFleetArgs>),
    /invalid tls\.serverKeyPem: got "key"; allowed: no such field/,
  ],
  [
    "fleet env setting what buildkitRegistries sets",
    fleet({
      buildkitRegistries: { "docker.io": { mirrors: ["m.example.com"] } },
      env: [{ name: "EARTHLY_ADDITIONAL_BUILDKIT_CONFIG", value: "" }],
    }),
    /invalid env\.name: got "EARTHLY_ADDITIONAL_BUILDKIT_CONFIG"; allowed: .*together with buildkitRegistries, which sets or reads them/,
  ],
  [
    "CIDR /33",
    fleet({ allowedCidrs: ["10.0.0.0/33"] }),
    /invalid allowedCidrs\[0\]: got "10.0.0.0\/33"; allowed: a CIDR block/,
  ],
  [
    "fleet with two ways to its certificate",
    fleet({ tls: { issuer: { caCertPem: "x", caPrivateKeyPem: "y" }, existingSecret: { name: "tls" } } }),
    /invalid tls: got "tls\.issuer and tls\.existingSecret"; allowed: exactly one of/,
  ],
  [
    "duplicate client certificate names",
    () => new BuildkitCertificateAuthority("ca", { clients: ["ci", "ci"] }),
    /invalid clients/,
  ],
];

for (const [description, construct, message] of CASES) {
  test(`refused: ${description}`, async () => {
    resetRecord();
    assert.throws(construct, (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentsError, `not an InvalidArgumentsError: ${String(error)}`);
      assert.match(error.message, message);
      return true;
    });
    await settle();
    assert.deepEqual(
      recorded.map((r) => `${r.type}::${r.name}`),
      [],
      "nothing may be registered for refused input",
    );
  });
}
