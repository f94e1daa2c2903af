/**
 * Refusals read like a tool's: every refusal is an error the Pulumi CLI prints as its message alone
 * (a `pulumi.RunError`), never "unhandled exception" and a stack trace, whether it happens at
 * construction, inside an `apply` (an Input checked once it resolves), or in the demo's config; and
 * through the provider's `construct` (other languages) it is a `pulumi.InputPropertiesError` with one
 * entry per problem. The last tests pin the SDK code that makes those decisions.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { recorded, refusedInApply, resetRecord } from "./support/mocks";
import {
  BuildkitCertificateAuthority,
  BuildkitdFleet,
  EarthlyAllInOneJob,
  EarthlyRemoteJob,
  InvalidArgumentsError,
  KindCluster,
} from "../components";
import type { Problem } from "../components";
import { readDemoConfig } from "../stacks/config";
import { fleetPems } from "./engine/certificates";
import { componentProvider, tokenOf } from "../scripts/schema";

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
