/**
 * `components/validation/plainInputs.ts`: for each component, where the schema says its arguments
 * are plain, so that the components refuse an Output there by name (see `components/validation/plain.ts`).
 * Written with `schema.json` by `npm run schema`, from the same schema, so the two cannot disagree.
 */
import * as path from "node:path";
import * as prettier from "prettier";
import type { PlainFields, PlainNode } from "../components/validation/plain";
import { PackageSchema, PropertySpec, REGENERATE_SCHEMA, REPO_ROOT, localTypeName, tokenOf } from "./schema";

/** The generated module. */
export const PLAIN_INPUTS_PATH = path.join(REPO_ROOT, "components", "validation", "plainInputs.ts");

function plainFieldsOf(
  schema: PackageSchema,
  properties: { [name: string]: PropertySpec },
  seen: readonly string[],
): PlainFields {
  const fields: Record<string, PlainNode> = {};
  for (const name of Object.keys(properties).sort()) {
    const property = properties[name];
    if (property.plain === true) fields[name] = plainNodeOf(schema, property, seen);
  }
  return fields;
}

function plainNodeOf(schema: PackageSchema, property: PropertySpec, seen: readonly string[]): PlainNode {
  const node: { fields?: PlainFields; items?: PlainNode; values?: PlainNode } = {};
  const typeName = property.$ref === undefined ? undefined : localTypeName(property.$ref);
  if (typeName !== undefined) {
    if (seen.includes(typeName)) throw new Error(`the type ${typeName} contains itself`);
    const fields = plainFieldsOf(schema, schema.types[tokenOf(typeName)]?.properties ?? {}, [
      ...seen,
      typeName,
    ]);
    if (Object.keys(fields).length > 0) node.fields = fields;
  }
  if (property.items?.plain === true) node.items = plainNodeOf(schema, property.items, seen);
  if (property.additionalProperties?.plain === true) {
    node.values = plainNodeOf(schema, property.additionalProperties, seen);
  }
  return node;
}

/** Each component's plain arguments, by the component's name, from the package schema. */
export function plainInputsOf(schema: PackageSchema): Record<string, PlainFields> {
  const prefix = tokenOf("");
  return Object.fromEntries(
    Object.keys(schema.resources)
      .filter((token) => token.startsWith(prefix))
      .sort()
      .map((token) => [
        token.slice(prefix.length),
        plainFieldsOf(schema, schema.resources[token].inputProperties, []),
      ]),
  );
}

/** The generated module's text, formatted as the repository formats TypeScript. */
export async function renderPlainInputs(schema: PackageSchema): Promise<string> {
  const tree = plainInputsOf(schema);
  const source = [
    "/**",
    " * Where each component's arguments must be plain values: the `plain` inputs of `schema.json`, and",
    " * the plain fields inside them. Generated from the schema; do not edit: run",
    ` * \`${REGENERATE_SCHEMA}\`.`,
    " */",
    'import type { PlainFields } from "./plain";',
    "",
    `export const PLAIN_INPUTS = ${JSON.stringify(tree)} as const satisfies Record<string, PlainFields>;`,
    "",
  ].join("\n");
  const options = await prettier.resolveConfig(PLAIN_INPUTS_PATH);
  return prettier.format(source, { ...options, filepath: PLAIN_INPUTS_PATH });
}
