/**
 * Plain arguments: where the schema says a component's argument (or a field inside one) is plain, an
 * Output or Promise there is refused at construction by its path, before anything is registered.
 * The places come from the committed schema (generated into `components/validation/plainInputs.ts`),
 * and every one of them, in every component, is tried below.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { assertRefused } from "./support/refusals";
import { recorded, resetRecord, settle } from "./support/mocks";
import { plain } from "./support/values";
import { FLEET_CONNECTION } from "./support/built";
import {
  BuildkitCertificateAuthority,
  BuildkitdFleet,
  EarthlyAllInOneJob,
  EarthlyRemoteJob,
  KindCluster,
} from "../components";
import { PlainFields, PlainNode, plainProblems } from "../components/validation/plain";
import { PLAIN_INPUTS } from "../components/validation/plainInputs";
import { PLAIN_INPUTS_PATH, plainInputsOf, renderPlainInputs } from "../scripts/plainInputs";
import { PackageSchema, readCommittedSchema, tokenOf } from "../scripts/schema";

const NOT_PLAIN = {
  value: "an Output or Promise",
  allowed: "a plain value, known when the component is created",
};

describe("plainProblems", () => {
  const fields: PlainFields = {
    leaf: {},
    object: { fields: { inner: {} } },
    list: { items: { fields: { name: {} } } },
    map: { values: {} },
  };

  test("an Output and a Promise at a plain field, each named; absent and null fields pass", () => {
    const promise = Promise.resolve("p");
    assert.deepEqual(plainProblems({ leaf: pulumi.output("o") }, fields), [{ field: "leaf", ...NOT_PLAIN }]);
    assert.deepEqual(plainProblems({ leaf: promise }, fields), [{ field: "leaf", ...NOT_PLAIN }]);
    assert.deepEqual(plainProblems({ leaf: null, object: undefined }, fields), []);
  });

  test("inside an object, each member of a list, each value of a map: named by path, with the prefix", () => {
    const args = {
      object: { inner: pulumi.output(1) },
      list: [{ name: "a" }, { name: pulumi.output("b") }, pulumi.output({ name: "c" })],
      map: { first: "x", "second key": pulumi.output("y") },
    };
    assert.deepEqual(
      plainProblems(args, fields, "p.").map((p) => p.field),
      ["p.object.inner", "p.list[1].name", "p.list[2]", 'p.map["second key"]'],
    );
  });

  test("a place the schema leaves an Input may hold an Output, at any depth", () => {
    const partly: PlainFields = { object: { fields: { inner: {} } }, list: { items: {} } };
    assert.deepEqual(
      plainProblems(
        { other: pulumi.output(1), object: { inner: "x", input: pulumi.output(2) }, map: pulumi.output({}) },
        partly,
      ),
      [],
    );
    // A plain list whose members may be Outputs (like a client's `fleets`): the list itself must be plain.
    const listOfInputs: PlainFields = { list: {} };
    assert.deepEqual(plainProblems({ list: [pulumi.output(1)] }, listOfInputs), []);
    assert.deepEqual(plainProblems({ list: pulumi.output([1]) }, listOfInputs), [
      { field: "list", ...NOT_PLAIN },
    ]);
  });

  test("a value of another shape than the place's is left to the rules", () => {
    assert.deepEqual(
      plainProblems({ object: "text", list: { name: pulumi.output(1) }, map: [1] }, fields),
      [],
    );
  });
});

describe("plainInputsOf: the places, from the schema", () => {
  const schema: PackageSchema = {
    name: "p",
    version: "1.0.0",
    resources: {
      [tokenOf("Thing")]: {
        inputProperties: {
          plainText: { type: "string", plain: true },
          inputText: { type: "string" },
          plainList: { type: "array", plain: true, items: { type: "string", plain: true } },
          listOfInputs: { type: "array", plain: true, items: { type: "string" } },
          inputList: { type: "array", items: { type: "string", plain: true } },
          plainMap: {
            type: "object",
            plain: true,
            additionalProperties: { $ref: `#/types/${tokenOf("Part")}`, plain: true },
          },
          part: { $ref: `#/types/${tokenOf("Part")}`, plain: true },
          inputPart: { $ref: `#/types/${tokenOf("Part")}` },
        },
        requiredInputs: [],
        properties: {},
        required: [],
      },
      "other:index:Skipped": {
        inputProperties: { x: { plain: true } },
        requiredInputs: [],
        properties: {},
        required: [],
      },
    },
    types: {
      [tokenOf("Part")]: {
        type: "object",
        properties: { size: { type: "integer", plain: true }, label: { type: "string" } },
      },
    },
  };

  test("plain inputs and the plain places inside them; Input places and other packages left out", () => {
    const part: PlainNode = { fields: { size: {} } };
    assert.deepEqual(plainInputsOf(schema), {
      Thing: {
        listOfInputs: {},
        part,
        plainList: { items: {} },
        plainMap: { values: part },
        plainText: {},
      },
    });
  });

  test("a type that contains itself is refused, not followed forever", () => {
    const looped = structuredClone(schema);
    looped.types[tokenOf("Part")].properties = { again: { $ref: `#/types/${tokenOf("Part")}`, plain: true } };
    assert.throws(() => plainInputsOf(looped), /the type Part contains itself/);
  });

  test("the generated module is the committed schema's places, formatted", async () => {
    const committed = readCommittedSchema();
    assert.deepEqual(PLAIN_INPUTS, plainInputsOf(committed));
    assert.equal(readFileSync(PLAIN_INPUTS_PATH, "utf8"), await renderPlainInputs(committed));
  });
});

/** Every place of a tree, as a path and the arguments that hold an Output there (and nothing else). */
function placesOf(
  fields: PlainFields,
): { path: string; value: (output: unknown) => Record<string, unknown> }[] {
  const places: { path: string; value: (output: unknown) => Record<string, unknown> }[] = [];
  const visit = (node: PlainNode, path: string, wrap: (inner: unknown) => unknown): void => {
    if (node.fields !== undefined) {
      for (const [name, child] of Object.entries(node.fields)) {
        const at = path === "" ? name : `${path}.${name}`;
        places.push({ path: at, value: (output) => wrap({ [name]: output }) as Record<string, unknown> });
        visit(child, at, (inner) => wrap({ [name]: inner }));
      }
    }
    if (node.items !== undefined) {
      const at = `${path}[0]`;
      places.push({ path: at, value: (output) => wrap([output]) as Record<string, unknown> });
      visit(node.items, at, (inner) => wrap([inner]));
    }
    if (node.values !== undefined) {
      const at = `${path}["k"]`;
      places.push({ path: at, value: (output) => wrap({ k: output }) as Record<string, unknown> });
      visit(node.values, at, (inner) => wrap({ k: inner }));
    }
  };
  visit({ fields }, "", (inner) => inner);
  return places;
}

type Construct = (args: Record<string, unknown>) => unknown;
const COMPONENTS: { name: keyof typeof PLAIN_INPUTS; base: Record<string, unknown>; make: Construct }[] = [
  { name: "BuildkitCertificateAuthority", base: {}, make: (a) => new BuildkitCertificateAuthority("ca", a) },
  { name: "BuildkitdFleet", base: { namespace: "ns" }, make: (a) => new BuildkitdFleet("fleet", a as never) },
  {
    name: "EarthlyAllInOneJob",
    base: { namespace: "ns" },
    make: (a) => new EarthlyAllInOneJob("aio", a as never),
  },
  {
    name: "EarthlyRemoteJob",
    base: { namespace: "ns", fleet: FLEET_CONNECTION },
    make: (a) => new EarthlyRemoteJob("remote", a as never),
  },
  { name: "KindCluster", base: { clusterName: "plain" }, make: (a) => new KindCluster("kind", a as never) },
];
/** Plain objects a component takes whole as an Output too (see `ArgChecks.plain`; tested beside the CA). */
const TAKEN_WHOLE: Record<string, readonly string[]> = { BuildkitCertificateAuthority: ["existingCa"] };

for (const { name, base, make } of COMPONENTS) {
  describe(`${name}: an Output where the schema says plain`, () => {
    const places = placesOf(plainInputsOf(readCommittedSchema())[name] ?? {});
    test("the schema has plain places for it", () => assert.ok(places.length > 0));
    for (const { path, value } of places) {
      if (TAKEN_WHOLE[name]?.includes(path)) continue;
      test(path, async () => {
        await assertRefused(
          () => make({ ...base, ...value(pulumi.output(undefined)) }),
          [
            {
              field: path,
              got: '"an Output or Promise"',
              allowed: /a plain value, known when the component is created/,
            },
          ],
        );
      });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The other side: an Output wherever the schema allows one is accepted at construction, with every
// other argument given, so every rule across fields that reads it waits for it (one that did not
// would see a value not known yet, and throw or refuse at construction).
// ---------------------------------------------------------------------------------------------

/** What was registered, secrets unwrapped: each resource's type, name and inputs. */
const recordedShapes = () => recorded.map((r) => [r.type, r.name, plain(r.inputs)]);

const SCHEDULING = {
  nodeSelector: { "earthly.dev/role": "builder" },
  tolerations: [{ key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" }],
};
const ACCESS = {
  gitCredentials: {
    https: [{ host: "git.example.com", secretName: "git-token" }],
    ssh: { hosts: ["github.com"], secretName: "git-ssh", knownHosts: { secretName: "known", key: "hosts" } },
  },
  dockerConfigSecret: "registry-push",
  buildSecrets: [{ name: "NPM_TOKEN", secretKeyRef: { name: "npm", key: "token" } }],
  earthlyConfig: { global: { disable_analytics: "true" } },
  artifacts: { claimName: "out" },
};
const CLIENT_CERT = "-----BEGIN CERTIFICATE-----\nQ0xJRU5U\n-----END CERTIFICATE-----\n";
const CLIENT_KEY = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";
const JOB_OUTPUTS = {
  target: "+build",
  flags: ["--ci"],
  env: [{ name: "FOO", value: "bar" }],
  namespace: "builds",
  platform: "linux/amd64",
  rebuildTrigger: "one",
};
const RICH: {
  name: keyof typeof PLAIN_INPUTS;
  /** Another way of giving the arguments, beside the one that gives every input. */
  way?: string;
  args: Record<string, unknown>;
  make: Construct;
}[] = [
  {
    name: "EarthlyAllInOneJob",
    args: {
      ...ACCESS,
      ...JOB_OUTPUTS,
      scheduling: { ...SCHEDULING, architecture: "amd64" },
      cniMtu: 1400,
      buildkitRegistries: { "registry.internal:5000": { http: true } },
    },
    make: (a) => new EarthlyAllInOneJob("aio-outputs", a as never),
  },
  {
    name: "EarthlyRemoteJob",
    args: {
      ...ACCESS,
      ...JOB_OUTPUTS,
      scheduling: SCHEDULING,
      fleet: { ...FLEET_CONNECTION, architecture: "amd64" },
      cacheKey: "github.com/acme/app",
      clientCertPem: CLIENT_CERT,
      clientPrivateKeyPem: CLIENT_KEY,
    },
    make: (a) => new EarthlyRemoteJob("remote-outputs", a as never),
  },
  {
    name: "EarthlyRemoteJob",
    way: "choosing among fleets by platform",
    args: {
      ...ACCESS,
      ...JOB_OUTPUTS,
      platform: "linux/arm64",
      scheduling: SCHEDULING,
      fleets: [
        { ...FLEET_CONNECTION, architecture: "amd64" },
        { ...FLEET_CONNECTION, fleetName: "buildkitd-arm64", architecture: "arm64" },
      ],
      cacheKey: "github.com/acme/app",
      clientCertPem: CLIENT_CERT,
      clientPrivateKeyPem: CLIENT_KEY,
    },
    make: (a) => new EarthlyRemoteJob("remote-fleets-outputs", a as never),
  },
  {
    name: "BuildkitdFleet",
    args: {
      namespace: "builds",
      insecureDisableTls: true,
      env: [{ name: "FOO", value: "bar" }],
      scheduling: { ...SCHEDULING, architecture: "amd64" },
      cniMtu: 1400,
      buildkitRegistries: { "registry.internal:5000": { http: true } },
      persistentCache: { size: "10Gi" },
    },
    make: (a) => new BuildkitdFleet("fleet-outputs", a as never),
  },
];

for (const { name, way, args, make } of RICH) {
  describe(`${name}: an Output wherever the schema allows one, with every other argument given${way ? `, ${way}` : ""}`, () => {
    const inputs = readCommittedSchema().resources[tokenOf(name)].inputProperties;
    const outputs = Object.keys(inputs).filter((field) => inputs[field].plain !== true && field in args);
    if (way === undefined)
      test("the arguments give every input that may be an Output", () =>
        assert.deepEqual(
          outputs,
          Object.keys(inputs).filter((field) => inputs[field].plain !== true),
        ));
    test("all as given: accepted", async () => {
      resetRecord();
      make(args);
      await settle();
    });
    for (const field of outputs) {
      test(`${field} as an Output: accepted at construction, the same objects once it resolves`, async () => {
        resetRecord();
        make({ ...args, [field]: pulumi.output(args[field]) });
        await settle();
        const withOutput = recordedShapes();
        resetRecord();
        make(args);
        await settle();
        assert.deepEqual(withOutput, recordedShapes());
      });
    }
  });
}
