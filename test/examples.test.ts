/**
 * The examples stay in step with the components: the TypeScript example type-checks with the
 * repository's compiler options (as ts-node would at `pulumi up`), and every property the YAML example
 * passes to one of this package's components is an input of that component in schema.json, with a
 * compatible type.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as ts from "typescript";
import * as YAML from "yaml";
import {
  PACKAGE_NAME,
  PackageSchema,
  PropertySpec,
  REPO_ROOT,
  localTypeName,
  readCommittedSchema,
} from "../scripts/schema";

const TS_EXAMPLE = path.join(REPO_ROOT, "examples/existing-cluster/index.ts");
const YAML_EXAMPLE = path.join(REPO_ROOT, "examples/yaml/Pulumi.yaml");

test("the TypeScript example type-checks with the repository's compiler options", (t) => {
  const configFile = ts.readConfigFile(path.join(REPO_ROOT, "tsconfig.json"), ts.sys.readFile);
  assert.equal(configFile.error, undefined);
  const parsed = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO_ROOT);
  const program = ts.createProgram({ rootNames: [TS_EXAMPLE], options: { ...parsed.options, noEmit: true } });
  const diagnostics = ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file
      ? `${path.relative(REPO_ROOT, d.file.fileName)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}`
      : "";
    return `${where} ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`;
  });
  assert.deepEqual(diagnostics, []);
  const source = readFileSync(TS_EXAMPLE, "utf8");
  for (const component of ["BuildkitCertificateAuthority", "BuildkitdFleet", "EarthlyRemoteJob"]) {
    assert.match(source, new RegExp(`new ${component}\\(`), `${component} is not used`);
  }
  // Its own provider from config, passed to everything that talks to the cluster.
  assert.match(
    source,
    /new kubernetes\.Provider\("cluster", \{ kubeconfig: config\.requireSecret\("kubeconfig"\) \}\)/,
  );
  t.diagnostic(`${program.getSourceFiles().length} source files checked, 0 diagnostics`);
});

// ------------------------------------------------------------------------------------------------
// The YAML example against schema.json
// ------------------------------------------------------------------------------------------------

/** What an expression in the YAML program evaluates to, as far as this check can tell. */
type ValueType =
  { kind: "literal"; value: unknown } | { kind: "spec"; spec: PropertySpec } | { kind: "unknown" };

interface YamlProgram {
  config?: { [key: string]: { type?: string; default?: unknown } };
  resources: { [name: string]: { type: string; properties?: { [key: string]: unknown } } };
}

const PRIMITIVE_OF_CONFIG: { [type: string]: string } = {
  string: "string",
  integer: "number",
  number: "number",
  boolean: "boolean",
};

class YamlChecker {
  readonly problems: string[] = [];
  checked = 0;

  constructor(
    private readonly schema: PackageSchema,
    private readonly program: YamlProgram,
  ) {}

  private typeOf(ref: string): PackageSchema["types"][string] | undefined {
    const name = localTypeName(ref);
    return name === undefined ? undefined : this.schema.types[`${PACKAGE_NAME}:index:${name}`];
  }

  /** Evaluates a whole-value `${...}` expression's type: config, or an output of this package's component. */
  private evaluate(value: unknown): ValueType {
    if (typeof value !== "string") return { kind: "literal", value };
    const whole = /^\$\{([^}]+)\}$/.exec(value);
    if (!whole) return { kind: "literal", value }; // a literal, or interpolation into a string
    const [root = "", ...accessors] = whole[1].match(/[A-Za-z_][\w-]*|\["[^"]*"\]|\[\d+\]/g) ?? [];
    const config = this.program.config?.[root];
    if (config && accessors.length === 0) {
      return { kind: "spec", spec: { type: PRIMITIVE_OF_CONFIG[config.type ?? "string"] ?? "string" } };
    }
    const resource = this.program.resources[root];
    const component = resource ? this.schema.resources[resource.type] : undefined;
    if (!component || accessors.length === 0) return { kind: "unknown" };
    let spec: PropertySpec | undefined = component.properties[accessors[0]];
    if (!spec) {
      this.problems.push(`${value}: ${resource.type} has no output ${accessors[0]}`);
      return { kind: "unknown" };
    }
    for (const accessor of accessors.slice(1)) {
      if (!spec) break;
      if (accessor.startsWith('["')) spec = spec.additionalProperties;
      else if (accessor.startsWith("[")) spec = spec.items;
      else spec = spec.$ref ? this.typeOf(spec.$ref)?.properties?.[accessor] : undefined;
    }
    if (!spec) {
      this.problems.push(`${value}: no such output path`);
      return { kind: "unknown" };
    }
    return { kind: "spec", spec };
  }

  /** Checks a value passed where `expected` is declared. */
  check(where: string, expected: PropertySpec, value: unknown): void {
    this.checked++;
    const actual = this.evaluate(value);
    if (actual.kind === "unknown") return;
    if (actual.kind === "spec") {
      if (!sameType(expected, actual.spec)) {
        this.problems.push(
          `${where}: ${describe(actual.spec)} given where ${describe(expected)} is expected`,
        );
      }
      return;
    }
    const literal = actual.value;
    const fail = (wanted: string): void => {
      this.problems.push(`${where}: ${JSON.stringify(literal)} given where ${wanted} is expected`);
    };
    if (expected.$ref) {
      const type = this.typeOf(expected.$ref);
      if (!type) return fail(`${expected.$ref} (not in schema.json)`);
      if (type.enum) {
        if (!type.enum.some((v) => v.value === literal))
          fail(type.enum.map((v) => JSON.stringify(v.value)).join(" | "));
        return;
      }
      if (!isObject(literal)) return fail(`an object (${localTypeName(expected.$ref)})`);
      this.checkObject(where, type.properties ?? {}, type.required ?? [], literal);
      return;
    }
    switch (expected.type) {
      case "string":
      case "boolean":
        if (typeof literal !== expected.type) fail(expected.type);
        return;
      case "number":
      case "integer":
        if (typeof literal !== "number" || (expected.type === "integer" && !Number.isInteger(literal)))
          fail(expected.type);
        return;
      case "array":
        if (!Array.isArray(literal)) return fail("an array");
        literal.forEach((item, i) => this.check(`${where}[${i}]`, expected.items ?? {}, item));
        return;
      case "object":
        if (!isObject(literal)) return fail("an object");
        for (const [key, item] of Object.entries(literal)) {
          this.check(`${where}.${key}`, expected.additionalProperties ?? {}, item);
        }
        return;
      default:
        fail(describe(expected));
    }
  }

  /** Checks an object's keys against declared properties, and that the required ones are given. */
  checkObject(
    where: string,
    properties: { [name: string]: PropertySpec },
    required: string[],
    value: { [key: string]: unknown },
  ): void {
    for (const [key, item] of Object.entries(value)) {
      const spec = properties[key];
      if (!spec) this.problems.push(`${where}.${key}: no such property`);
      else this.check(`${where}.${key}`, spec, item);
    }
    for (const key of required) {
      if (!(key in value)) this.problems.push(`${where}.${key}: required but missing`);
    }
  }
}

function isObject(value: unknown): value is { [key: string]: unknown } {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function describe(spec: PropertySpec): string {
  if (spec.$ref) return localTypeName(spec.$ref) ?? spec.$ref;
  if (spec.type === "array") return `${describe(spec.items ?? {})}[]`;
  if (spec.type === "object") return `map of ${describe(spec.additionalProperties ?? {})}`;
  return spec.type ?? "any";
}

function sameType(a: PropertySpec, b: PropertySpec): boolean {
  return describe(a) === describe(b);
}

test("every property the YAML example passes to a component is an input of a compatible type", (t) => {
  const text = readFileSync(YAML_EXAMPLE, "utf8");
  const document = YAML.parseDocument(text);
  assert.deepEqual(document.errors, []);
  const program = document.toJS() as YamlProgram & {
    runtime: string;
    packages?: { [name: string]: unknown };
  };
  assert.equal(program.runtime, "yaml");
  assert.ok(
    program.packages?.[PACKAGE_NAME],
    `packages: ${PACKAGE_NAME} (written by \`pulumi package add\`)`,
  );

  const schema = readCommittedSchema();
  const checker = new YamlChecker(schema, program);
  const used = new Set<string>();
  for (const [name, resource] of Object.entries(program.resources)) {
    if (!resource.type.startsWith(`${PACKAGE_NAME}:`)) continue;
    const component = schema.resources[resource.type];
    assert.ok(component, `${name}: ${resource.type} is not a component of schema.json`);
    used.add(resource.type);
    checker.checkObject(name, component.inputProperties, component.requiredInputs, resource.properties ?? {});
  }
  assert.deepEqual(checker.problems, []);
  assert.deepEqual([...used].sort(), [
    `${PACKAGE_NAME}:index:EarthlyAllInOneJob`,
    `${PACKAGE_NAME}:index:KindCluster`,
  ]);
  t.diagnostic(`${checker.checked} YAML values checked against schema.json, in ${used.size} components`);
});

test("the YAML checker itself catches unknown properties, wrong types and bad enum values", () => {
  const schema = readCommittedSchema();
  const program: YamlProgram = {
    config: { target: { type: "string" } },
    resources: {
      cluster: {
        type: `${PACKAGE_NAME}:index:KindCluster`,
        properties: {
          clusterName: "x",
          waitSeconds: "120",
          workerPools: [{ name: "b", taints: [{ key: "k", effect: "NoScheduleAtAll" }] }],
          bogus: true,
        },
      },
      build: {
        type: `${PACKAGE_NAME}:index:EarthlyAllInOneJob`,
        properties: { namespace: "ns", target: "${target}", scheduling: "${cluster.kubeconfig}" },
      },
    },
  };
  const checker = new YamlChecker(schema, program);
  for (const [name, resource] of Object.entries(program.resources)) {
    const component = schema.resources[resource.type];
    checker.checkObject(name, component.inputProperties, component.requiredInputs, resource.properties ?? {});
  }
  assert.deepEqual(checker.problems, [
    'cluster.waitSeconds: "120" given where number is expected',
    'cluster.workerPools[0].taints[0].effect: "NoScheduleAtAll" given where "NoSchedule" | "PreferNoSchedule" | "NoExecute" is expected',
    "cluster.bogus: no such property",
    "build.scheduling: string given where Scheduling is expected",
  ]);
});
