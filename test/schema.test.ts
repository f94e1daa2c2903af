/**
 * The multi-language package schema, from Pulumi's own analyzer (`ComponentProvider.getSchema()`), and
 * `ComponentProvider.construct()` with plain inputs as a Pulumi YAML program sends them.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { before, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { ofType, recorded, resetRecord, settle, valueOf } from "./support/mocks";
import { validateKubeObject } from "./support/kubeSchema";
import {
  PACKAGE_NAME,
  PackageSchema,
  PropertySpec,
  REGENERATE_SCHEMA,
  SCHEMA_PATH,
  componentClasses,
  componentProvider,
  localTypeName,
  renderSchema,
  tokenOf,
} from "../scripts/schema";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const COMPONENTS = [
  "BuildkitCertificateAuthority",
  "BuildkitdFleet",
  "EarthlyAllInOneJob",
  "EarthlyRemoteJob",
  "KindCluster",
];

let provider: ComponentProvider;
let schema: PackageSchema;

before(async () => {
  provider = componentProvider();
  schema = JSON.parse(await provider.getSchema()) as PackageSchema;
});

/** Every property of the schema that must carry a description, with a readable path. */
function describedProperties(s: PackageSchema): { path: string; property: PropertySpec }[] {
  const all: { path: string; property: PropertySpec }[] = [];
  for (const [token, resource] of Object.entries(s.resources)) {
    for (const [name, property] of Object.entries(resource.inputProperties ?? {}))
      all.push({ path: `${token} input ${name}`, property });
    for (const [name, property] of Object.entries(resource.properties ?? {}))
      all.push({ path: `${token} output ${name}`, property });
  }
  for (const [token, type] of Object.entries(s.types)) {
    for (const [name, property] of Object.entries(type.properties ?? {}))
      all.push({ path: `${token} property ${name}`, property });
  }
  return all;
}

/** Every `$ref` in the schema (nested in arrays and maps too), with where it is. */
function refs(s: PackageSchema): { path: string; ref: string }[] {
  const found: { path: string; ref: string }[] = [];
  const walk = (path: string, p: PropertySpec | undefined): void => {
    if (!p) return;
    if (p.$ref) found.push({ path, ref: p.$ref });
    walk(`${path}[]`, p.items);
    walk(`${path}{}`, p.additionalProperties);
  };
  for (const { path, property } of describedProperties(s)) walk(path, property);
  return found;
}

test("the plugin host finds exactly the five components among the package root's exports", () => {
  assert.equal(PACKAGE_NAME, "earthly-kubernetes");
  assert.deepEqual(
    componentClasses()
      .map((c) => c.name)
      .sort(),
    COMPONENTS,
  );
});

test("every component is in the schema, with its description", (t) => {
  assert.equal(schema.name, PACKAGE_NAME);
  assert.ok(schema.description, "package description (from package.json)");
  for (const name of COMPONENTS) {
    const resource = schema.resources[tokenOf(name)];
    assert.ok(resource, `${tokenOf(name)} missing`);
    assert.equal(resource.isComponent, true, name);
    assert.ok(resource.description && resource.description.trim().length > 20, `${name} has no description`);
  }
  assert.deepEqual(Object.keys(schema.resources).sort(), COMPONENTS.map(tokenOf));
  const resources = Object.values(schema.resources);
  const inputs = resources.reduce((n, r) => n + Object.keys(r.inputProperties).length, 0);
  const outputs = resources.reduce((n, r) => n + Object.keys(r.properties).length, 0);
  const types = Object.values(schema.types);
  const enums = types.filter((x) => x.enum).length;
  const typeProperties = types.reduce((n, x) => n + Object.keys(x.properties ?? {}).length, 0);
  const documented = describedProperties(schema).filter(({ property }) =>
    property.description?.trim(),
  ).length;
  t.diagnostic(
    `schema: ${resources.length} components, ${inputs} inputs, ${outputs} outputs, ${types.length} types ` +
      `(${types.length - enums} object, ${enums} enum) with ${typeProperties} properties; ` +
      `${documented}/${inputs + outputs + typeProperties} properties documented`,
  );
});

test("every input, output and type property has a description", () => {
  const missing = describedProperties(schema)
    .filter(({ property }) => !property.description || property.description.trim() === "")
    .map(({ path }) => path);
  assert.deepEqual(missing, [], `undocumented: ${missing.join(", ")}`);
  // A TSDoc comment holding an inline tag reaches the analyzer as nodes, not text.
  const mangled = describedProperties(schema)
    .filter(({ property }) => /\[object Object\]/.test(property.description ?? ""))
    .map(({ path }) => path);
  assert.deepEqual(mangled, []);
  for (const [token, type] of Object.entries(schema.types)) {
    for (const value of type.enum ?? []) assert.ok(value.description, `${token} value ${value.name}`);
  }
});

test("exact property types", () => {
  const fleet = schema.resources[tokenOf("BuildkitdFleet")];
  assert.deepEqual(fleet.inputProperties.replicas, {
    type: "number",
    optional: true,
    plain: true,
    description: fleet.inputProperties.replicas.description,
  });
  assert.equal(fleet.inputProperties.sessionAffinityTimeoutSeconds.type, "number");
  assert.equal(fleet.inputProperties.insecureDisableTls.type, "boolean");
  assert.equal(fleet.inputProperties.tls.$ref, `#/types/${tokenOf("FleetTls")}`);
  assert.deepEqual(fleet.requiredInputs, ["namespace"]);
  assert.equal(fleet.properties.connection.$ref, `#/types/${tokenOf("FleetConnection")}`);
  assert.deepEqual(fleet.properties.instanceHosts, {
    type: "array",
    items: { type: "string" },
    description: fleet.properties.instanceHosts.description,
  });

  const kind = schema.resources[tokenOf("KindCluster")];
  assert.equal(kind.inputProperties.workerPools.type, "array");
  assert.equal(kind.inputProperties.workerPools.items?.$ref, `#/types/${tokenOf("NodePool")}`);
  assert.deepEqual(kind.requiredInputs, ["clusterName"]);
  assert.equal(kind.properties.kubeconfig.type, "string");
  assert.equal(kind.properties.poolScheduling.additionalProperties?.$ref, `#/types/${tokenOf("Scheduling")}`);

  const taintEffect = schema.types[tokenOf("TaintEffect")];
  assert.equal(taintEffect.type, "string");
  assert.deepEqual(
    taintEffect.enum?.map((v) => v.value),
    ["NoSchedule", "PreferNoSchedule", "NoExecute"],
  );
  assert.equal(schema.types[tokenOf("Taint")].properties?.effect.$ref, `#/types/${tokenOf("TaintEffect")}`);
  assert.deepEqual(
    schema.types[tokenOf("KeyAlgorithm")].enum?.map((v) => v.value),
    ["ECDSA_P256", "RSA_2048", "RSA_4096"],
  );

  // The client takes the fleet's connection output as an Input (not plain), so YAML can wire it.
  const client = schema.resources[tokenOf("EarthlyRemoteJob")];
  assert.equal(client.inputProperties.fleet.$ref, `#/types/${tokenOf("FleetConnection")}`);
  assert.equal(client.inputProperties.fleet.plain, undefined);
  // fleet or fleets: one of them, which the component checks (the schema cannot say "one of").
  assert.deepEqual(client.requiredInputs, ["namespace", "target"]);
  assert.deepEqual(schema.resources[tokenOf("BuildkitCertificateAuthority")].requiredInputs ?? [], []);
  // The issuer a fleet issues its server certificate from: an Input, so another language can wire it.
  const fleetTls = schema.types[tokenOf("FleetTls")];
  assert.equal(fleetTls.properties?.issuer.$ref, `#/types/${tokenOf("CertificateIssuer")}`);
  assert.equal(fleetTls.properties?.issuer.plain, undefined);
  assert.equal(
    schema.resources[tokenOf("BuildkitCertificateAuthority")].properties.issuer.$ref,
    `#/types/${tokenOf("CertificateIssuer")}`,
  );
  assert.deepEqual(schema.resources[tokenOf("EarthlyAllInOneJob")].requiredInputs, ["namespace", "target"]);
});

test("every local $ref names a type the schema defines", () => {
  const dangling = refs(schema)
    .filter(({ ref }) => ref.startsWith("#/"))
    .filter(({ ref }) => !schema.types[`${PACKAGE_NAME}:index:${localTypeName(ref)}`])
    .map(({ path, ref }) => `${path}: ${ref}`);
  assert.deepEqual(dangling, []);
});

// Pulumi's schema binder resolves `/<pkg>/v<version>/schema.json#/resources/<token>` by a three-part
// resource token, and a provider only as `#/provider`. The analyzer builds the reference from the
// class's `__pulumiType`, which for a provider class is the bare package name ("kubernetes"); that is
// why `KindCluster.provider` is a getter, which the analyzer leaves out.
test("every external $ref is one Pulumi's schema binder can resolve", () => {
  const bad = refs(schema)
    .filter(({ ref }) => !ref.startsWith("#/") && !ref.startsWith("pulumi.json#/"))
    .filter(({ ref }) => {
      const match = /^\/[-\w]+\/v[^/]+\/schema\.json#\/(.*)$/.exec(ref);
      if (!match) return true;
      if (match[1] === "provider") return false;
      const resource = /^resources\/(.+)$/.exec(match[1]);
      return !resource || decodeURIComponent(resource[1]).split(":").length !== 3;
    })
    .map(({ path, ref }) => `${path}: ${ref}`);
  assert.deepEqual(bad, []);
});

test("schema.json is the analyzer's current schema", () => {
  let committed: string | undefined;
  try {
    committed = readFileSync(SCHEMA_PATH, "utf8");
  } catch {
    committed = undefined;
  }
  const expected = renderSchema(schema);
  assert.ok(
    committed === expected,
    committed === undefined
      ? `schema.json is missing: run \`${REGENERATE_SCHEMA}\` and commit it`
      : `schema.json is stale (the components' types or TSDoc changed): run \`${REGENERATE_SCHEMA}\` and commit it`,
  );
});

// ------------------------------------------------------------------------------------------------
// construct(): what the plugin does when a YAML (or Python, Go, ...) program creates a component.
// ------------------------------------------------------------------------------------------------

async function construct(name: string, component: string, inputs: Obj) {
  resetRecord();
  const result = await provider.construct(name, tokenOf(component), inputs, {});
  await settle();
  return result;
}

test("construct EarthlyAllInOneJob from plain YAML inputs registers the Job", async () => {
  const result = await construct("build", "EarthlyAllInOneJob", {
    namespace: "earthly-builds",
    target: "github.com/earthly/ci-example-project:main+build",
    flags: ["--ci"],
    cniMtu: 1440,
    scheduling: {
      nodeSelector: { "earthly.dev/pool": "builders" },
      tolerations: [{ key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" }],
    },
    resources: { limits: { cpu: "4", memory: "8Gi" } },
    labels: { team: "platform" },
    timeoutMinutes: 45,
  });
  assert.ok(result.urn);
  assert.deepEqual(
    Object.keys(result.state).sort(),
    Object.keys(schema.resources[tokenOf("EarthlyAllInOneJob")].properties).sort(),
  );
  assert.equal(await valueOf(result.state.image as pulumi.Output<string>), "earthly/earthly:v0.8.16");
  assert.equal(await valueOf(result.state.namespace as pulumi.Output<string>), "earthly-builds");

  assert.equal(recorded.filter((r) => r.type === tokenOf("EarthlyAllInOneJob")).length, 1);
  const jobs = ofType("kubernetes:batch/v1:Job");
  assert.equal(jobs.length, 1);
  const job = jobs[0].inputs as Obj;
  validateKubeObject(job);
  assert.equal(job.metadata.namespace, "earthly-builds");
  assert.equal(job.metadata.labels.team, "platform");
  const pod = job.spec.template.spec;
  assert.deepEqual(pod.nodeSelector, { "earthly.dev/pool": "builders" });
  assert.deepEqual(pod.tolerations, [
    { key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" },
  ]);
  const container = pod.containers[0];
  assert.deepEqual(container.args, ["--ci", "github.com/earthly/ci-example-project:main+build"]);
  assert.deepEqual(container.securityContext, { privileged: true });
  assert.ok(container.env.some((e: Obj) => e.name === "CNI_MTU" && e.value === "1440"));
  assert.equal(container.resources.limits.cpu, "4");
  assert.equal(container.resources.limits.memory, "8Gi");
  // Defaults fill what YAML left out.
  assert.equal(container.resources.requests.cpu, "500m");
});

test("construct rejects YAML inputs the component refuses, before anything is registered", async () => {
  resetRecord();
  await assert.rejects(
    provider.construct(
      "bad",
      tokenOf("EarthlyAllInOneJob"),
      { namespace: "Not_A_Label", target: "+build" },
      {},
    ),
    /namespace/,
  );
  assert.equal(recorded.length, 0);
});

test("construct BuildkitdFleet with insecureDisableTls: a fleet without TLS material", async () => {
  const result = await construct("fleet", "BuildkitdFleet", {
    namespace: "earthly-builds",
    replicas: 2,
    insecureDisableTls: true,
    sessionAffinityTimeoutSeconds: 1200,
  });
  assert.deepEqual(
    Object.keys(result.state).sort(),
    Object.keys(schema.resources[tokenOf("BuildkitdFleet")].properties).sort(),
  );
  const connection = await valueOf(result.state.connection as pulumi.Output<Obj>);
  assert.equal(connection.tlsEnabled, false);
  assert.equal(connection.caCertPem, "");
  assert.deepEqual(connection.instanceNames, ["fleet-0", "fleet-1"]);
  assert.equal(await valueOf(result.state.caCertPem as pulumi.Output<string>), "");

  assert.equal(ofType("kubernetes:core/v1:Secret").length, 0, "no TLS secret without TLS");
  const sets = ofType("kubernetes:apps/v1:StatefulSet");
  assert.equal(sets.length, 1);
  const set = sets[0].inputs as Obj;
  validateKubeObject(set);
  assert.equal(set.spec.replicas, 2);
  const daemon = set.spec.template.spec.containers[0];
  assert.ok(daemon.env.some((e: Obj) => e.name === "BUILDKIT_TLS_ENABLED" && e.value === "false"));
  assert.ok(!set.spec.template.spec.volumes.some((v: Obj) => v.name === "tls"));
  const services = ofType("kubernetes:core/v1:Service").map((s) => s.inputs as Obj);
  const affine = services.find((s) => s.spec.sessionAffinity === "ClientIP");
  assert.equal(affine?.spec.sessionAffinityConfig.clientIP.timeoutSeconds, 1200);
  // The clients' ingress policy and the daemons' egress policy.
  assert.equal(ofType("kubernetes:networking.k8s.io/v1:NetworkPolicy").length, 2);
});

test("construct KindCluster: the kind command with the pools' taints, and a provider for the cluster", async () => {
  const result = await construct("dev", "KindCluster", {
    clusterName: "earthly",
    workerPools: [
      {
        name: "builders",
        nodes: 1,
        labels: { "earthly.dev/role": "builders" },
        taints: [{ key: "earthly.dev/builder", value: "true", effect: "NoSchedule" }],
      },
    ],
    networking: { kubeProxyMode: "iptables" },
  });
  assert.deepEqual(
    Object.keys(result.state).sort(),
    Object.keys(schema.resources[tokenOf("KindCluster")].properties).sort(),
  );
  assert.equal(await valueOf(result.state.kubeContext as pulumi.Output<string>), "kind-earthly");
  assert.ok(
    await pulumi.isSecret(result.state.kubeconfig as pulumi.Output<string>),
    "kubeconfig is a secret",
  );
  const scheduling = await valueOf(result.state.poolScheduling as pulumi.Output<Obj>);
  assert.equal(scheduling.builders.nodeSelector["earthly-kubernetes/pool"], "builders");
  assert.ok(
    scheduling.builders.tolerations.some(
      (x: Obj) => x.key === "earthly.dev/builder" && x.effect === "NoSchedule",
    ),
  );

  const commands = ofType("command:local:Command");
  assert.equal(commands.length, 1);
  const stdin = String(commands[0].inputs.stdin);
  assert.match(stdin, /earthly\.dev\/builder/);
  assert.match(stdin, /NoSchedule/);
  assert.equal(commands[0].inputs.logging, "stderr");
  // A provider is registered for the cluster, but it is not a schema output (other languages build
  // one from the kubeconfig).
  assert.equal(ofType("pulumi:providers:kubernetes").length, 1);
  assert.equal("provider" in result.state, false);
});

test("the arguments that are Inputs are the ones docs/contributing.md's rule names, and no others", () => {
  // The rule: what decides which objects exist, their names or their count is plain; what only fills
  // a field may be an Input. A change to this list is a decision about the API, not a side effect.
  const inputs = Object.fromEntries(
    Object.entries(schema.resources).map(([token, resource]) => [
      token.split(":")[2],
      Object.entries(resource.inputProperties)
        .filter(([, property]) => property.plain !== true)
        .map(([name]) => name)
        .sort(),
    ]),
  );
  assert.deepEqual(inputs, {
    BuildkitCertificateAuthority: [],
    BuildkitdFleet: ["cniMtu", "env", "scheduling"],
    EarthlyAllInOneJob: [
      "cniMtu",
      "env",
      "flags",
      "namespace",
      "platform",
      "rebuildTrigger",
      "scheduling",
      "target",
    ],
    EarthlyRemoteJob: [
      "cacheKey",
      "clientCertPem",
      "clientPrivateKeyPem",
      "env",
      "flags",
      "fleet",
      "namespace",
      "platform",
      "rebuildTrigger",
      "scheduling",
      "target",
    ],
    KindCluster: [],
  });
});
