/**
 * Refusals, in one place: what is refused and how it reads. Each bad input is refused at
 * construction, before any resource (not even the component) is registered, with a message naming
 * the component, the field, the value and what is allowed, printed by the CLI as its message alone (a
 * `pulumi.RunError`, also an `InputPropertiesError` through the provider's `construct`). The sections:
 * how a refusal reads (at construction, inside an `apply`, in the demo's config, `argumentProblems`);
 * the validation contract, table-driven; ways around rules found by hostile inputs (a target that is
 * a flag, a Secret key that is a path step, system directories, Earthly's own variables). Bounds at
 * the bound and one past are in bounds.test.ts; each component's own refusals beside its other tests.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { recorded, refusedInApply, resetRecord, settle } from "./support/mocks";
import { assertRefused, escapeRegExp } from "./support/refusals";
import { FLEET_CONNECTION } from "./support/built";
import { fleetPems } from "./engine/certificates";
import {
  BuildkitCertificateAuthority,
  BuildkitdFleet,
  EarthlyAllInOneJob,
  EarthlyRemoteJob,
  InvalidArgumentsError,
  KindCluster,
  TaintEffect,
} from "../components";
import type {
  BuildkitdFleetArgs,
  EarthlyAllInOneJobArgs,
  EarthlyRemoteJobArgs,
  FleetConnection,
  KeyReference,
  KindClusterArgs,
  Problem,
} from "../components";
import { earthlyTargetRule } from "../components/jobs/flags";
import { EARTHLY_FLAG_ENV } from "../components/jobs/earthlyFlagEnv";
import { RESERVED_ENV, keyReferenceRule } from "../components/pods/pod";
import { SYSTEM_DIRECTORIES, sourcePath } from "../components/validation/rules";
import { readDemoConfig } from "../stacks/config";
import { componentProvider, tokenOf } from "../scripts/schema";

// ---------------------------------------------------------------------------------------------
// How a refusal reads: a tool's message, at construction, in an apply, in the demo's config
// ---------------------------------------------------------------------------------------------

/** Asserts what the CLI would print for `error`: its message alone, naming field, value and allowed. */
function assertToolLike(error: unknown, lines: readonly RegExp[]): void {
  assert.ok(pulumi.RunError.isInstance(error), `not a RunError: ${String(error)}`);
  assert.ok(error instanceof pulumi.RunError && error instanceof InvalidArgumentsError);
  const messageLines = error.message.split("\n");
  assert.equal(messageLines.length, lines.length, error.message);
  lines.forEach((line, i) => assert.match(messageLines[i], line));
  assert.doesNotMatch(error.message, /\n\s+at |unhandled exception/);
}

test("at construction: a RunError whose message names component, field, value and what is allowed", () => {
  resetRecord();
  let caught: unknown;
  try {
    new KindCluster("bad", { clusterName: "Bad Name", workerPools: [{ name: "builders", nodes: 0 }] });
  } catch (e) {
    caught = e;
  }
  assertToolLike(caught, [
    /^KindCluster "bad": invalid clusterName: got "Bad Name"; allowed: a kind cluster name: 1-40/,
    /^KindCluster "bad": invalid workerPools\[0\]\.nodes: got 0; allowed: an integer from 1 to 20$/,
  ]);
});

test("inside an apply (an Input checked on resolution): the same RunError, and every rejection it causes", async () => {
  resetRecord();
  const { error, rejections } = await refusedInApply(
    () =>
      new EarthlyAllInOneJob("late", { namespace: "ns", target: pulumi.output("+build\nrm -rf /") }).jobName,
  );
  // The SDK prefixes the message of an error that fails a property's serialization; it keeps its format.
  const expected = [
    /^EarthlyAllInOneJob "late": invalid target: got "\+build\\nrm -rf \/"; allowed: a non-empty/,
  ];
  assertToolLike(error, expected);
  assert.ok(rejections.length > 0);
  for (const rejection of rejections) assertToolLike(rejection, expected);
});

test("an Output refused on resolution keeps every object of the component out of the cluster", async () => {
  // The objects' known fields carry no Output for the check: it holds their registration instead.
  // [the component's type, a build of it returning an output, the one line of the refusal].
  const pems = await fleetPems({ fleetName: "tls-fleet", namespace: "ns", replicas: 1 });
  const cases: [string, () => pulumi.Output<unknown>, RegExp][] = [
    [
      // With TLS: not even the Secret with the server's private key is registered.
      "earthly-kubernetes:index:BuildkitdFleet",
      () =>
        new BuildkitdFleet("tls-fleet", {
          namespace: "ns",
          tls: {
            caCertPem: pems.caCertPem,
            serverCertPem: pems.serverCertPem,
            serverPrivateKeyPem: pulumi.secret(pems.serverPrivateKeyPem),
          },
          env: pulumi.output([{ name: "SRC_DIR", value: "x" }]),
        }).connection,
      /^BuildkitdFleet "tls-fleet": invalid env\[0\]\.name: got "SRC_DIR"; allowed: a name other than/,
    ],
    [
      "earthly-kubernetes:index:BuildkitdFleet",
      () =>
        new BuildkitdFleet("late-fleet", {
          namespace: "ns",
          insecureDisableTls: true,
          env: pulumi.output([{ name: "SRC_DIR", value: "x" }]),
        }).connection,
      /^BuildkitdFleet "late-fleet": invalid env\[0\]\.name: got "SRC_DIR"; allowed: a name other than/,
    ],
    [
      "earthly-kubernetes:index:EarthlyAllInOneJob",
      () =>
        new EarthlyAllInOneJob("late-pool", {
          namespace: "ns",
          target: "+build",
          scheduling: pulumi.output({ nodeSelector: { "bad key!": "x" } }),
        }).jobName,
      /^EarthlyAllInOneJob "late-pool": invalid scheduling\.nodeSelector/,
    ],
  ];
  for (const [type, build, line] of cases) {
    resetRecord();
    const { error, rejections } = await refusedInApply(build);
    assertToolLike(error, [line]);
    assert.ok(rejections.length > 0);
    for (const rejection of rejections) assertToolLike(rejection, [line]);
    // One refusal, reported once: the SDK reports an error object once, however many promises carry it.
    assert.equal(new Set(rejections).size, 1, rejections.map(String).join("\n---\n"));
    assert.equal((error as Error).stack, (error as Error).message);
    assert.deepEqual(
      recorded.map((r) => r.type),
      [type],
    );
  }
});

test("the demo's configuration: a RunError naming the key, the value and what is allowed", () => {
  assert.throws(
    () => readDemoConfig((key) => ({ cniMtu: "70000", replicas: "zero" })[key], "remote"),
    (e: unknown) => {
      assertToolLike(e, [
        /^stack config \(remote\): invalid cniMtu: got 70000; allowed: .*576 to 9216/,
        /^stack config \(remote\): invalid replicas: got "zero"; allowed: an integer from 1 to 10$/,
      ]);
      return true;
    },
  );
});

test("also an InputPropertiesError: one property error per problem", () => {
  const error = new InvalidArgumentsError("C", [
    { field: "a", value: 1, allowed: "2" },
    { field: "b[0].c", value: undefined, allowed: "a value" },
  ]);
  assert.ok(pulumi.InputPropertiesError.isInstance(error));
  assert.deepEqual(error.errors, [
    { propertyPath: "a", reason: "got 1; allowed: 2" },
    { propertyPath: "b[0].c", reason: "got nothing; allowed: a value" },
  ]);
  assert.equal(
    error.message,
    "C: invalid a: got 1; allowed: 2\nC: invalid b[0].c: got nothing; allowed: a value",
  );
  assert.equal(error.name, "InvalidArgumentsError");
  error.message = `error serializing property "metadata": ${error.message}`;
  assert.match(error.message, /^C: invalid a:/);
});

test("through the provider's construct (another language): an InputPropertiesError per problem", async () => {
  resetRecord();
  const provider = componentProvider();
  const refused = provider.construct(
    "bad",
    tokenOf("KindCluster"),
    { clusterName: "Bad Name", waitSeconds: -1 } as pulumi.Inputs,
    {},
  );
  await assert.rejects(refused, (e: unknown) => {
    assert.ok(pulumi.InputPropertiesError.isInstance(e), `not an InputPropertiesError: ${String(e)}`);
    assert.deepEqual(
      e.errors.map((p) => p.propertyPath),
      ["clusterName", "waitSeconds"],
    );
    assert.match(e.errors[0].reason, /^got "Bad Name"; allowed: a kind cluster name/);
    assert.match(e.errors[1].reason, /^got -1; allowed: an integer from 0 to 3600$/);
    return true;
  });
});

const SDK = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
const sdkSource = (file: string) => readFileSync(path.join(SDK, file), "utf8");

test("the SDK as installed: a program's RunError is printed as its message alone, other errors with a stack", () => {
  // The uncaught-error handler of `pulumi up` for a Node.js program (and for a plugin's program).
  for (const file of ["cmd/run/run.js", "cmd/run-plugin/run.js"]) {
    const source = sdkSource(file);
    assert.match(
      source,
      /if \(errors_1\.RunError\.isInstance\(err\)\) \{\s*\/\/[^\n]*\n\s*log\.error\(err\.message\);/,
      file,
    );
    assert.match(source, /failed with an unhandled exception:/, file);
  }
});

test("the SDK as installed: construct turns an InputPropertiesError into per-property errors for the engine", () => {
  const source = sdkSource("provider/server.js");
  const construct = source.slice(source.indexOf("async construct("), source.indexOf("async call("));
  assert.match(
    construct,
    /if \(errors_1\.InputPropertiesError\.isInstance\(e\)\) \{\s*const error = this\.buildInvalidPropertiesError\(e\.message, e\.errors\);/,
  );
});

test("argumentProblems: each component's check without the component, the problems its constructor would throw", () => {
  const cases: [string, () => Problem[], () => unknown][] = [
    [
      "KindCluster",
      () => KindCluster.argumentProblems("k", { clusterName: "Bad Name" }),
      () => new KindCluster("k", { clusterName: "Bad Name" }),
    ],
    [
      "BuildkitCertificateAuthority",
      () => BuildkitCertificateAuthority.argumentProblems("ca", { clients: ["Bad_"] }),
      () => new BuildkitCertificateAuthority("ca", { clients: ["Bad_"] }),
    ],
    [
      "BuildkitdFleet",
      () =>
        BuildkitdFleet.argumentProblems("f", { namespace: "ns", replicas: 101, insecureDisableTls: true }),
      () => new BuildkitdFleet("f", { namespace: "ns", replicas: 101, insecureDisableTls: true }),
    ],
    [
      "EarthlyAllInOneJob",
      () => EarthlyAllInOneJob.argumentProblems("j", { namespace: "ns", target: "-x" }),
      () => new EarthlyAllInOneJob("j", { namespace: "ns", target: "-x" }),
    ],
    [
      "EarthlyRemoteJob",
      () =>
        EarthlyRemoteJob.argumentProblems("r", {
          namespace: "ns",
          target: "+build",
          fleet: pulumi.output(undefined as never),
          clientCertPem: "c",
          clientPrivateKeyPem: "k",
          cacheKey: "a\nb",
        }),
      () =>
        new EarthlyRemoteJob("r", {
          namespace: "ns",
          target: "+build",
          fleet: pulumi.output(undefined as never),
          clientCertPem: "c",
          clientPrivateKeyPem: "k",
          cacheKey: "a\nb",
        }),
    ],
  ];
  for (const [component, problems, construct] of cases) {
    resetRecord();
    const found = problems();
    assert.equal(found.length, 1, `${component}: ${JSON.stringify(found)}`);
    assert.deepEqual(recorded, [], `${component}: argumentProblems registered something`);
    assert.throws(construct, (e: unknown) => {
      assert.ok(e instanceof InvalidArgumentsError);
      assert.deepEqual(e.problems, found, component);
      return true;
    });
  }
  // The fleet's default name is the component's: a name too long for one is a problem of fleetName.
  assert.deepEqual(
    BuildkitdFleet.argumentProblems("f".repeat(60), { namespace: "ns", insecureDisableTls: true }).map(
      (p) => p.field,
    ),
    ["fleetName"],
  );
  // Good arguments, and a bad value still inside an Output (checked when it resolves): nothing yet.
  assert.deepEqual(KindCluster.argumentProblems("k", { clusterName: "good" }), []);
  assert.deepEqual(
    EarthlyAllInOneJob.argumentProblems("j", { namespace: "ns", target: pulumi.output("-x") }),
    [],
  );
});

test("a required argument missing, null or empty: refused by field, saying what it needs, component by component", async () => {
  const missing = [undefined, null, ""] as unknown as string[];
  const cases: [string, string, string, (value: string) => Problem[]][] = [
    [
      "KindCluster",
      "clusterName",
      "a kind cluster name",
      (v) => KindCluster.argumentProblems("k", { clusterName: v }),
    ],
    [
      "BuildkitdFleet",
      "namespace",
      "a namespace",
      (v) => BuildkitdFleet.argumentProblems("f", { namespace: v, insecureDisableTls: true }),
    ],
    ...(["EarthlyAllInOneJob", "EarthlyRemoteJob"] as const).flatMap((component) => {
      const problems = (args: { namespace: string; target: string }) =>
        component === "EarthlyAllInOneJob"
          ? EarthlyAllInOneJob.argumentProblems("j", args)
          : EarthlyRemoteJob.argumentProblems("r", {
              ...args,
              fleet: FLEET_CONNECTION,
              clientCertPem: "c",
              clientPrivateKeyPem: "k",
            });
      return [
        [component, "namespace", "a namespace", (v: string) => problems({ namespace: v, target: "+build" })],
        [component, "target", "an Earthly target", (v: string) => problems({ namespace: "ns", target: v })],
      ] as [string, string, string, (value: string) => Problem[]][];
    }),
  ];
  for (const [component, field, needs, problemsWith] of cases)
    for (const value of missing) {
      const found = problemsWith(value);
      // Absent, the message says what the field needs; empty, the field's own rule refuses it.
      const expected = value === "" ? found[0]?.allowed : needs;
      if (value === "") assert.notEqual(expected, needs);
      assert.deepEqual(
        found.map((p) => [p.field, p.allowed]),
        [[field, expected]],
        `${component}.${field} = ${JSON.stringify(value)}`,
      );
    }
  // At construction it reads the same, and nothing is registered.
  await assertRefused(
    () => new BuildkitdFleet("f", { insecureDisableTls: true } as BuildkitdFleetArgs),
    [{ field: "namespace", got: "nothing", allowed: /allowed: a namespace$/ }],
  );
});

// ---------------------------------------------------------------------------------------------
// The validation contract, table-driven: refused at construction, nothing registered
// ---------------------------------------------------------------------------------------------

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
  // hostUsers: a boolean, on each workload (from another language a string can arrive)
  [
    'hostUsers "false" on the all-in-one',
    aio({ hostUsers: "false" as never }),
    /EarthlyAllInOneJob .*invalid hostUsers: got "false"; allowed: true or false/,
  ],
  [
    'hostUsers "false" on the client',
    client({ hostUsers: "false" as never }),
    /EarthlyRemoteJob .*invalid hostUsers: got "false"; allowed: true or false/,
  ],
  [
    'hostUsers "false" on the fleet',
    fleet({ hostUsers: "false" as never }),
    /BuildkitdFleet .*invalid hostUsers: got "false"; allowed: true or false/,
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

// ---------------------------------------------------------------------------------------------
// Ways around rules, found by hostile inputs
// ---------------------------------------------------------------------------------------------

describe("target: never a flag", () => {
  for (const target of ["-x", "--secret=A=b", "--config=/tmp/c.yml", "-"]) {
    test(`refuses ${JSON.stringify(target)} (wrong only at its start)`, () => {
      const problems = earthlyTargetRule(target, "target");
      assert.deepEqual(
        problems.map((p) => p.field),
        ["target"],
      );
      assert.match(problems[0].allowed, /no leading '-'/);
    });
  }
  for (const target of ["+build-x", "+build-", "github.com/a/b-c:main+t", "./sub-dir+build"]) {
    test(`accepts ${JSON.stringify(target)} (a '-' in the middle or at the end)`, () =>
      assert.deepEqual(earthlyTargetRule(target, "target"), []));
  }
  test("both Jobs refuse it before registering anything", async () => {
    const target = "--secret=TOKEN=s3cret";
    await assertRefused(
      () => new EarthlyAllInOneJob("t", { namespace: "b", target }),
      [{ field: "target", got: JSON.stringify(target), allowed: /a target, not a flag/ }],
    );
    await assertRefused(
      () =>
        new EarthlyRemoteJob("t", {
          namespace: "b",
          target,
          fleet: FLEET_CONNECTION,
          clientCertPem: "c",
          clientPrivateKeyPem: "k",
        }),
      [{ field: "target", got: JSON.stringify(target), allowed: /a target, not a flag/ }],
    );
  });
});

describe("Secret and ConfigMap keys as the API checks them", () => {
  const ref = (key: string) => keyReferenceRule({ name: "s", key }, "env[0].secretKeyRef");
  for (const key of [".", ".."]) {
    test(`refuses ${JSON.stringify(key)}`, () =>
      assert.deepEqual(
        ref(key).map((p) => p.field),
        ["env[0].secretKeyRef.key"],
      ));
  }
  for (const key of ["...", ".a", "a..", "a.b", "x".repeat(253)]) {
    test(`accepts a key of ${key.length} characters starting ${JSON.stringify(key.slice(0, 4))}`, () =>
      assert.deepEqual(ref(key), []));
  }
  test("253 characters is the bound: 254 is refused, and so are empty and a '/'", () => {
    for (const key of ["x".repeat(254), "", "a/b", "/a", "a/"]) {
      assert.deepEqual(
        ref(key).map((p) => p.field),
        ["env[0].secretKeyRef.key"],
        JSON.stringify(key),
      );
    }
  });
  // From JavaScript or YAML a key can be a number or a list, which a regex would read as text.
  test("a key that is not a string is refused, though its text would pass", () => {
    for (const key of [5, ["a"], true]) {
      assert.deepEqual(
        keyReferenceRule({ name: "s", key } as unknown as KeyReference, "env[0].secretKeyRef").map(
          (p) => p.field,
        ),
        ["env[0].secretKeyRef.key"],
        JSON.stringify(key),
      );
    }
  });
  test("a Job refuses env from key '..' before registering anything", async () => {
    await assertRefused(
      () =>
        new EarthlyAllInOneJob("k", {
          namespace: "b",
          target: "+t",
          env: [{ name: "TOKEN", secretKeyRef: { name: "creds", key: ".." } }],
        }),
      [{ field: "env[0].secretKeyRef.key", got: '".."', allowed: /not '\.' or '\.\.'/ }],
    );
  });
});

describe("the client's group is never root", () => {
  const client = (runAsGroup: number) =>
    new EarthlyRemoteJob("g", {
      namespace: "b",
      target: "+t",
      fleet: FLEET_CONNECTION,
      clientCertPem: "c",
      clientPrivateKeyPem: "k",
      security: { runAsGroup },
    });
  test("runAsGroup 0 (the bound) is refused: it would be the pod's fsGroup", async () => {
    await assertRefused(
      () => client(0),
      [
        {
          field: "security.runAsGroup",
          got: "0",
          allowed: /an integer from 1 to 2147483647: not 0, .*fsGroup/,
        },
      ],
    );
  });
  test("runAsGroup 1 (bound + 1) and the largest GID are accepted", async () => {
    assert.doesNotThrow(() => client(1));
    assert.doesNotThrow(() => client(2 ** 31 - 1));
    // Let their registrations land here, not in the next test's record.
    await settle();
  });
});

describe("srcDir: never in or under a system directory", () => {
  // Member by member, from a literal copy of the list the rule uses.
  const SYSTEM = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
    "/tmp",
  ];
  test("the rule's list is this literal copy (removing a member fails)", () =>
    assert.deepEqual([...SYSTEM_DIRECTORIES], SYSTEM));
  for (const dir of SYSTEM) {
    test(`refuses ${dir} and ${dir}/src`, () => {
      assert.equal(sourcePath(dir, "srcDir").length, 1);
      const under = sourcePath(`${dir}/src`, "srcDir");
      assert.deepEqual(
        under.map((p) => p.field),
        ["srcDir"],
      );
      assert.match(under[0].allowed, new RegExp(`under ${dir}\\)`));
    });
  }
  for (const dir of ["/workspace", "/src", "/usrx", "/etcetera/src", "/home/ci/src", "/opt/app"]) {
    test(`accepts ${dir} (a name that only starts like a system directory is not under it)`, () =>
      assert.deepEqual(sourcePath(dir, "srcDir"), []));
  }
  test("a Job refuses srcDir /usr/src before registering anything", async () => {
    await assertRefused(
      () => new EarthlyAllInOneJob("s", { namespace: "b", target: "+t", srcDir: "/usr/src" }),
      [{ field: "srcDir", got: '"/usr/src"', allowed: /under \/usr/ }],
    );
  });
});

describe("env: no variable Earthly reads as a flag", () => {
  const aio = (name: string) => () =>
    new EarthlyAllInOneJob("e", { namespace: "b", target: "+t", env: [{ name, value: "x" }] });
  // A literal copy of what matters most, with what each message points to.
  const KEY_CASES: [string, RegExp][] = [
    ["EARTHLY_SECRETS", /Earthly reads it as --secret; use buildSecrets/],
    ["EARTHLY_SECRET_FILES", /as --secret-file; use buildSecrets/],
    ["GIT_PASSWORD", /as --git-password; use gitCredentials\.https/],
    ["GIT_USERNAME", /as --git-username; use gitCredentials\.https/],
    ["EARTHLY_CONFIG", /as --config; use earthlyConfig/],
    ["EARTHLY_SSH_AUTH_SOCK", /as --ssh-auth-sock; use gitCredentials\.ssh/],
    ["EARTHLY_PUSH", /as --push; give --push in flags/],
    ["EARTHLY_ALLOW_PRIVILEGED", /as --allow-privileged; give --allow-privileged in flags/],
    ["GITHUB_ACTIONS", /as --github-annotations/],
  ];
  for (const [name, allowed] of KEY_CASES) {
    test(`${name} is refused, saying what to use`, async () => {
      assert.ok(name in EARTHLY_FLAG_ENV, `${name} is in the derived list`);
      await assertRefused(aio(name), [{ field: "env.name", got: JSON.stringify(name), allowed }]);
    });
  }
  test("every variable of the derived list is refused by one rule, once (member by member)", async () => {
    assert.ok(Object.keys(EARTHLY_FLAG_ENV).length >= 50);
    for (const [name, flag] of Object.entries(EARTHLY_FLAG_ENV)) {
      // Each names a flag of Earthly's, and the message names that flag.
      assert.match(flag, /^--[a-z][a-z0-9]*(-[a-z0-9]+)*$/, name);
      // The names the components set themselves keep their own rule, which names the entry.
      const reserved = (RESERVED_ENV as readonly string[]).includes(name);
      const field = reserved ? "env[0].name" : "env.name";
      const allowed = reserved ? undefined : new RegExp(` ${escapeRegExp(flag)}(?![a-z0-9-])`);
      await assertRefused(aio(name), [{ field, got: JSON.stringify(name), allowed }]);
    }
  });
  test("a name Earthly does not read passes (EARTHLY_ itself is not refused as a prefix)", async () => {
    assert.doesNotThrow(aio("EARTHLY_TEAM_NOTE"));
    assert.doesNotThrow(aio("PUSH"));
    await settle();
  });
});
