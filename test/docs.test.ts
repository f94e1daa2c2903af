/**
 * README.md's API section is what `npm run docs` renders from schema.json, so the tables never drift
 * from the components' types and TSDoc.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import {
  API_END,
  API_START,
  README_PATH,
  REGENERATE_DOCS,
  apiSection,
  cell,
  renderApi,
  renderReadme,
  replaceApiSection,
  typeCell,
} from "../scripts/api-table";
import { readCommittedSchema } from "../scripts/schema";

test("README.md's API section is up to date with schema.json", async (t) => {
  const readme = readFileSync(README_PATH, "utf8");
  assert.ok(
    readme.includes(API_START) && readme.includes(API_END),
    `README.md has no "${API_START}" ... "${API_END}" markers for the API section`,
  );
  const schema = readCommittedSchema();
  const expected = apiSection(await renderReadme(readme, schema));
  assert.ok(
    apiSection(readme) === expected,
    `README.md's API section is stale: run \`${REGENERATE_DOCS}\` (after \`npm run schema\` if the components changed)`,
  );
  const components = Object.keys(schema.resources);
  for (const token of components) assert.ok(expected.includes(`\`${token}\``), `${token} is not documented`);
  t.diagnostic(
    `API section: ${components.length} components, ${Object.keys(schema.types).length} types, ` +
      `${expected.split("\n").filter((l) => l.startsWith("| `")).length} table rows`,
  );
});

test("every input and output of every component has a row in its table", () => {
  const schema = readCommittedSchema();
  const markdown = renderApi(schema);
  for (const [token, resource] of Object.entries(schema.resources)) {
    const name = token.split(":")[2];
    const section = markdown.slice(markdown.indexOf(`### ${name}\n`));
    for (const input of Object.keys(resource.inputProperties))
      assert.match(section, new RegExp(`\\| \`${input}\` \\|`));
    for (const output of Object.keys(resource.properties))
      assert.match(section, new RegExp(`\\| \`${output}\` \\|`));
  }
});

test("cells and types render safely", () => {
  assert.equal(cell("a | b\n  c <d> `x | <y>`"), "a \\| b c &lt;d> `x \\| <y>`");
  assert.equal(
    typeCell({ type: "array", items: { $ref: "#/types/earthly-kubernetes:index:NodePool" } }),
    "[NodePool](#nodepool)[]",
  );
  assert.equal(typeCell({ type: "object", additionalProperties: { type: "string" } }), "map of `string`");
  assert.equal(typeCell({ $ref: "/kubernetes/v4.34.2/schema.json#/provider" }), "provider resource");
});

test("a README without the markers is refused with a clear message", () => {
  assert.throws(
    () => replaceApiSection("# Title\n\nno markers\n", "x"),
    /README\.md needs exactly one "<!-- api:start -->"/,
  );
  assert.throws(() => apiSection(`${API_END}\n${API_START}\n`), /followed by/);
  assert.equal(
    replaceApiSection(`a\n${API_START}\nold\n${API_END}\nb\n`, "new"),
    `a\n${API_START}\n\nnew\n\n${API_END}\nb\n`,
  );
});
