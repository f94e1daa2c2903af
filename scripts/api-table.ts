/**
 * Renders the API reference from `schema.json` into docs/api.md, between the markers
 * `<!-- api:start -->` and `<!-- api:end -->`: an index, then per component a table of inputs and one
 * of outputs, then every object and enum type the components use. The document is then formatted with
 * prettier, so the generated section is prettier-stable. Text outside the markers is left as it is.
 *
 *   npm run docs            # rewrite docs/api.md's generated section
 *   npm run docs -- --check # exit 1 when the section is stale, writing nothing
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import * as prettier from "prettier";
import { EARTHLY_FLAG_ENV } from "../components/jobs/earthlyFlagEnv";
import { ENV_NAMES, EnvRefusal, WorkloadKind } from "../components/pods/envNames";
import { DEFAULT_EARTHLY_VERSION } from "../components/pods/images";
import {
  PackageSchema,
  PropertySpec,
  REPO_ROOT,
  TypeSpec,
  localTypeName,
  readCommittedSchema,
  tokenOf,
} from "./schema";

/** The API reference's file, relative to the repository root (for messages) and absolute. */
export const API_DOC = "docs/api.md";
export const API_DOC_PATH = path.join(REPO_ROOT, API_DOC);
export const API_START = "<!-- api:start -->";
export const API_END = "<!-- api:end -->";
export const REGENERATE_DOCS = "npm run docs";

/** A GitHub heading anchor for a plain one-word heading. */
function anchor(name: string): string {
  return `#${name.toLowerCase()}`;
}

/** Text safe in a Markdown table cell: one line, pipes escaped, `<` outside code spans escaped. */
export function cell(text: string | undefined): string {
  const oneLine = (text ?? "").replace(/\s*\n\s*/g, " ").trim();
  return oneLine
    .split(/(`[^`]*`)/)
    .map((part, i) => (i % 2 === 1 ? part : part.replace(/</g, "&lt;")))
    .join("")
    .replace(/\|/g, "\\|");
}

/** The type column: primitives in code, object and enum types linked to their table. */
export function typeCell(spec: PropertySpec): string {
  if (spec.$ref) {
    const name = localTypeName(spec.$ref);
    if (name) return `[${name}](${anchor(name)})`;
    const external = /schema\.json#\/(?:resources\/(.+)|provider)$/.exec(spec.$ref);
    return external?.[1] ? `\`${decodeURIComponent(external[1])}\` resource` : "provider resource";
  }
  if (spec.type === "array") return `${typeCell(spec.items ?? {})}[]`;
  if (spec.type === "object") return `map of ${typeCell(spec.additionalProperties ?? {})}`;
  return `\`${spec.type ?? "any"}\``;
}

/** Required properties first, then the rest, each alphabetically. */
function ordered(properties: { [name: string]: PropertySpec }, required: string[]): [string, PropertySpec][] {
  return Object.entries(properties).sort(([a], [b]) => {
    const ra = required.includes(a) ? 0 : 1;
    const rb = required.includes(b) ? 0 : 1;
    return ra !== rb ? ra - rb : a < b ? -1 : a > b ? 1 : 0;
  });
}

function propertyTable(
  heading: string,
  properties: { [name: string]: PropertySpec },
  required: string[],
): string[] {
  return [
    `| ${heading} | Type | Required | Description |`,
    "| --- | --- | --- | --- |",
    ...ordered(properties, required).map(
      ([name, spec]) =>
        `| \`${name}\` | ${typeCell(spec)} | ${required.includes(name) ? "yes" : "no"} | ${cell(spec.description)} |`,
    ),
  ];
}

/** The places at or under a property that may hold another resource's output (`a.b`, `a[]`, `a{}`). */
function outputPlaces(schema: PackageSchema, spec: PropertySpec, at: string): string[] {
  if (spec.plain !== true) return [at];
  const typeName = spec.$ref === undefined ? undefined : localTypeName(spec.$ref);
  const fields = typeName === undefined ? {} : (schema.types[tokenOf(typeName)]?.properties ?? {});
  return [
    ...Object.keys(fields)
      .sort()
      .flatMap((name) => outputPlaces(schema, fields[name], `${at}.${name}`)),
    ...(spec.items ? outputPlaces(schema, spec.items, `${at}[]`) : []),
    ...(spec.additionalProperties ? outputPlaces(schema, spec.additionalProperties, `${at}{}`) : []),
  ];
}

/**
 * Where a component's inputs may be another resource's output; everywhere else they are plain, and
 * the component refuses an output there, by its path, at preview.
 */
function outputsAllowed(schema: PackageSchema, inputs: { [name: string]: PropertySpec }): string[] {
  const places = Object.keys(inputs)
    .sort()
    .flatMap((name) => outputPlaces(schema, inputs[name], name));
  const plain =
    "values known when the program runs (literals or configuration), not another resource's output";
  if (places.length === 0) return [`Every input is plain: ${plain}.`, ""];
  const listed = places.map((place) => `\`${place}\``).join(", ");
  return [`May be another resource's output: ${listed}. Everything else is plain: ${plain}.`, ""];
}

function typeSection(name: string, type: TypeSpec): string[] {
  if (type.enum) {
    return [
      `### ${name}`,
      "",
      `Enum (\`${type.type}\`).${type.description ? ` ${cell(type.description)}` : ""}`,
      "",
      "| Value | Description |",
      "| --- | --- |",
      ...type.enum.map((v) => `| \`${JSON.stringify(v.value)}\` | ${cell(v.description)} |`),
      "",
    ];
  }
  return [
    `### ${name}`,
    "",
    ...(type.description ? [cell(type.description), ""] : []),
    ...propertyTable("Property", type.properties ?? {}, type.required ?? []),
    "",
  ];
}

/** The generated section's Markdown (before prettier), from a schema. */
export function renderApi(schema: PackageSchema): string {
  const byName = (a: [string, unknown], b: [string, unknown]) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
  const components = Object.entries(schema.resources)
    .map(([token, resource]): [string, typeof resource] => [token.split(":")[2], resource])
    .sort(byName);
  const types = Object.entries(schema.types)
    .map(([token, type]): [string, TypeSpec] => [token.split(":")[2], type])
    .sort(byName);
  const index = (names: string[]) => names.map((name) => `[${name}](${anchor(name)})`).join(", ");
  const lines: string[] = [
    "Generated from `schema.json` by `npm run docs`; do not edit by hand. Every input can be given from",
    "TypeScript; from other languages, use the names and types below.",
    "",
    `Components: ${index(components.map(([name]) => name))}.`,
    "",
    ...(types.length > 0 ? [`[Types](#types): ${index(types.map(([name]) => name))}.`, ""] : []),
  ];
  for (const [name, resource] of components) {
    lines.push(
      `## ${name}`,
      "",
      `\`${Object.keys(schema.resources).find((t) => t.endsWith(`:${name}`))}\``,
      "",
    );
    if (resource.description) lines.push(cell(resource.description), "");
    lines.push(...propertyTable("Input", resource.inputProperties, resource.requiredInputs), "");
    lines.push(...outputsAllowed(schema, resource.inputProperties));
    lines.push(
      "| Output | Type | Description |",
      "| --- | --- | --- |",
      ...ordered(resource.properties, []).map(
        ([output, spec]) => `| \`${output}\` | ${typeCell(spec)} | ${cell(spec.description)} |`,
      ),
      "",
    );
  }
  if (types.length > 0) {
    lines.push("## Types", "");
    for (const [name, type] of types) lines.push(...typeSection(name, type));
  }
  lines.push(...envNamesSection());
  return lines.join("\n").trimEnd();
}

/** What `env` refuses, and why, from the registry of environment names (components/pods/envNames.ts). */
const REFUSAL_WORDS: { [refusal in EnvRefusal]: string } = {
  reserved: "always: the component sets it",
  "client-home": "always",
  config: "always: use",
  "output-mode": "always: give in flags",
  claimed: "when this argument is given:",
};

/** The kinds of workload a name is refused in, in words: a Job and a daemon are every workload. */
function workloadWords(kinds: readonly WorkloadKind[]): string {
  return kinds.includes("Earthly Jobs") && kinds.includes("BuildKit daemons")
    ? "every workload"
    : kinds.join(", ");
}

function envNamesSection(): string[] {
  return [
    "## Environment names",
    "",
    "Names a workload's `env` refuses, from `components/pods/envNames.ts`; besides these, the Jobs refuse",
    `every variable Earthly's CLI reads as a flag (${Object.keys(EARTHLY_FLAG_ENV).length} in Earthly ${DEFAULT_EARTHLY_VERSION}, \`components/jobs/earthlyFlagEnv.ts\`).`,
    "",
    "Workloads by kind: the all-in-one Job is an Earthly Job and a BuildKit daemon, the remote client an",
    "Earthly Job and a fleet client, the fleet's pods BuildKit daemons and fleet servers.",
    "",
    "| Name | Refused in | When | Set or read by | Why |",
    "| --- | --- | --- | --- | --- |",
    ...ENV_NAMES.map(
      (e) =>
        `| \`${e.name}\` | ${workloadWords(e.workloads)} | ${REFUSAL_WORDS[e.refusal]} | ${cell(e.owner)} | ${cell(e.why)} |`,
    ),
    "",
  ];
}

/** Where the section is: the indices just after the start marker and at the end marker. */
function markers(doc: string): { start: number; end: number } {
  const start = doc.indexOf(API_START);
  const end = doc.indexOf(API_END);
  if (start === -1 || end === -1 || end < start || doc.indexOf(API_START, start + 1) !== -1) {
    throw new Error(
      `${API_DOC} needs exactly one "${API_START}" followed by one "${API_END}" (each on its own line) ` +
        `where the API reference goes; found ${start === -1 ? "no" : "a"} start marker and ${end === -1 ? "no" : "an"} end marker.`,
    );
  }
  return { start: start + API_START.length, end };
}

/** The text between the markers. */
export function apiSection(doc: string): string {
  const { start, end } = markers(doc);
  return doc.slice(start, end);
}

/** The document with the section between the markers replaced by `body`. */
export function replaceApiSection(doc: string, body: string): string {
  const { start, end } = markers(doc);
  return `${doc.slice(0, start)}\n\n${body}\n\n${doc.slice(end)}`;
}

/** Formats Markdown with the repository's prettier configuration. */
export async function formatMarkdown(text: string, filepath: string = API_DOC_PATH): Promise<string> {
  const options = (await prettier.resolveConfig(filepath)) ?? {};
  return prettier.format(text, { ...options, filepath });
}

/** docs/api.md as `npm run docs` would write it. */
export async function renderApiDoc(doc: string, schema: PackageSchema): Promise<string> {
  return formatMarkdown(replaceApiSection(doc, renderApi(schema)));
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const doc = readFileSync(API_DOC_PATH, "utf8");
  const updated = await renderApiDoc(doc, readCommittedSchema());
  if (apiSection(updated) === apiSection(doc)) {
    console.log(`${API_DOC}'s generated section is up to date.`);
    return;
  }
  if (check) {
    console.error(
      `${API_DOC}'s generated section is stale: run \`${REGENERATE_DOCS}\` and commit the result.`,
    );
    process.exitCode = 1;
    return;
  }
  // Only the section changes; the rest of the document stays as it is.
  writeFileSync(API_DOC_PATH, replaceApiSection(doc, apiSection(updated).trim()));
  console.log(`updated ${API_DOC}'s generated section`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
