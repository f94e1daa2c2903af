/**
 * The package's multi-language schema, as Pulumi's own analyzer infers it from the TypeScript source.
 *
 * The components are found exactly as the Node.js plugin host finds them when another language runs
 * `pulumi package add` (`getPulumiComponents` over the package root's exports), and the schema comes
 * from the same `ComponentProvider.getSchema()` the host serves. `schema.json` at the repository root
 * is that schema, pretty-printed with sorted keys so that it is byte-for-byte reproducible.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ComponentProvider, getPulumiComponents } from "@pulumi/pulumi/provider/experimental";
import * as pkg from "../index";

/** The repository root: where package.json, tsconfig.json and index.ts are. */
export const REPO_ROOT = path.resolve(__dirname, "..");
/** The committed schema. */
export const SCHEMA_PATH = path.join(REPO_ROOT, "schema.json");
/** How to regenerate the committed schema. */
export const REGENERATE_SCHEMA = "npm run schema";

/**
 * The package (provider) name, derived from package.json's `name` the way the plugin host derives it
 * (scope dropped, anything but letters, digits, `-` and `_` replaced by `-`).
 */
export const PACKAGE_NAME: string = (() => {
  const name = (JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as { name: string })
    .name;
  return name.replace(/^@[^/]*\//, "").replace(/[^-a-zA-Z0-9_]/g, "-");
})();

/** A property (input, output, or a field of an object type) in the schema. */
export interface PropertySpec {
  type?: string;
  $ref?: string;
  items?: PropertySpec;
  additionalProperties?: PropertySpec;
  description?: string;
  optional?: boolean;
  plain?: boolean;
}

/** A component resource in the schema. */
export interface ResourceSpec {
  isComponent?: boolean;
  description?: string;
  inputProperties: { [name: string]: PropertySpec };
  requiredInputs: string[];
  properties: { [name: string]: PropertySpec };
  required: string[];
}

/** One value of an enum type. */
export interface EnumValueSpec {
  name: string;
  value: string | number;
  description?: string;
}

/** An object or enum type in the schema. */
export interface TypeSpec {
  type: string;
  description?: string;
  properties?: { [name: string]: PropertySpec };
  required?: string[];
  enum?: EnumValueSpec[];
}

/** The parts of the package schema this repository reads. */
export interface PackageSchema {
  name: string;
  version: string;
  description?: string;
  resources: { [token: string]: ResourceSpec };
  types: { [token: string]: TypeSpec };
  dependencies?: { name: string; version: string }[];
}

/** Every component class the package root exports, as the plugin host finds them. */
export function componentClasses(): ReturnType<typeof getPulumiComponents> {
  return getPulumiComponents(pkg);
}

/** A component provider over every exported component, rooted at the repository (as the host does). */
export function componentProvider(): ComponentProvider {
  return new ComponentProvider({ components: componentClasses(), dirname: REPO_ROOT, name: PACKAGE_NAME });
}

/** Runs Pulumi's analyzer over the source (a few seconds: it type-checks the whole program). */
export async function analyzeSchema(
  provider: ComponentProvider = componentProvider(),
): Promise<PackageSchema> {
  return JSON.parse(await provider.getSchema()) as PackageSchema;
}

/** A copy of a JSON value with every object's keys in sorted order. */
export function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    const object = value as { [key: string]: unknown };
    return Object.fromEntries(
      Object.keys(object)
        .sort()
        .map((key) => [key, sortKeys(object[key])]),
    );
  }
  return value;
}

/** The committed form of a schema: sorted keys, two-space indentation, a final newline. */
export function renderSchema(schema: PackageSchema): string {
  return `${JSON.stringify(sortKeys(schema), null, 2)}\n`;
}

/** The committed schema, parsed. */
export function readCommittedSchema(): PackageSchema {
  return JSON.parse(readFileSync(SCHEMA_PATH, "utf8")) as PackageSchema;
}

/** The type token of a component or type of this package: `<package>:index:<Name>`. */
export function tokenOf(name: string): string {
  return `${PACKAGE_NAME}:index:${name}`;
}

/** The last segment of a local `$ref` (`#/types/<package>:index:NodePool` gives `NodePool`). */
export function localTypeName(ref: string): string | undefined {
  const match = /^#\/types\/[^:]+:[^:]*:(.+)$/.exec(ref);
  return match ? match[1] : undefined;
}
