/**
 * docs/api.md's generated section is what `npm run docs` renders from schema.json, so the tables
 * never drift from the components' types and TSDoc; the README stays a short front page, and no
 * relative link in it or in the guides points at a file or heading that does not exist.
 */
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import * as path from "node:path";
import { test } from "node:test";
import * as YAML from "yaml";
import { fleetNames } from "../components/fleet/names";
import {
  API_END,
  API_START,
  API_DOC,
  API_DOC_PATH,
  REGENERATE_DOCS,
  apiSection,
  cell,
  renderApi,
  renderApiDoc,
  replaceApiSection,
  typeCell,
} from "../scripts/api-table";
import { REPO_ROOT, readCommittedSchema } from "../scripts/schema";

test("docs/api.md's generated section is up to date with schema.json", async (t) => {
  const doc = readFileSync(API_DOC_PATH, "utf8");
  assert.ok(
    doc.includes(API_START) && doc.includes(API_END),
    `${API_DOC} has no "${API_START}" ... "${API_END}" markers for the API reference`,
  );
  const schema = readCommittedSchema();
  const expected = apiSection(await renderApiDoc(doc, schema));
  assert.ok(
    apiSection(doc) === expected,
    `${API_DOC}'s generated section is stale: run \`${REGENERATE_DOCS}\` (after \`npm run schema\` if the components changed)`,
  );
  const components = Object.keys(schema.resources);
  for (const token of components) assert.ok(expected.includes(`\`${token}\``), `${token} is not documented`);
  t.diagnostic(
    `${API_DOC}: ${components.length} components, ${Object.keys(schema.types).length} types, ` +
      `${expected.split("\n").filter((l) => l.startsWith("| `")).length} table rows`,
  );
});

test("every input and output of every component has a row in its table", () => {
  const schema = readCommittedSchema();
  const markdown = renderApi(schema);
  for (const [token, resource] of Object.entries(schema.resources)) {
    const name = token.split(":")[2];
    const at = markdown.indexOf(`\n## ${name}\n`);
    assert.ok(at !== -1, `${name} has no section`);
    const section = markdown.slice(at);
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

test("a document without the markers is refused with a clear message", () => {
  assert.throws(
    () => replaceApiSection("# Title\n\nno markers\n", "x"),
    /docs\/api\.md needs exactly one "<!-- api:start -->"/,
  );
  assert.throws(() => apiSection(`${API_END}\n${API_START}\n`), /followed by/);
  assert.equal(
    replaceApiSection(`a\n${API_START}\nold\n${API_END}\nb\n`, "new"),
    `a\n${API_START}\n\nnew\n\n${API_END}\nb\n`,
  );
});

// ------------------------------------------------------------------------------------------------
// The README as a front page, and the links between the documents
// ------------------------------------------------------------------------------------------------

/** The README stays a newcomer's page; reference and guides live in docs/ and stacks/README.md. */
const README_MAX_BYTES = 12_000;

/** Every Markdown document whose relative links are checked, relative to the repository root. */
function documents(): string[] {
  const docs = readdirSync(path.join(REPO_ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", "stacks/README.md", ...docs];
}

/** The lines of a Markdown document outside fenced code blocks. */
function proseLines(markdown: string): string[] {
  const lines: string[] = [];
  let fence: string | undefined;
  for (const line of markdown.split("\n")) {
    const marker = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === undefined && marker) fence = marker[0].repeat(marker.length);
    else if (fence !== undefined && marker?.startsWith(fence)) fence = undefined;
    else if (fence === undefined) lines.push(line);
  }
  return lines;
}

/** GitHub's anchors for a document's headings (lower case, punctuation dropped, spaces to `-`). */
function headingAnchors(markdown: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of proseLines(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const text = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, "$1").replace(/[`*]/g, "");
    const slug = text
      .toLowerCase()
      .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
      .replace(/ /g, "-");
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** The targets of a document's inline links and images, outside code, that are not URLs. */
function relativeLinks(markdown: string): string[] {
  const targets: string[] = [];
  for (const line of proseLines(markdown)) {
    const prose = line.replace(/(`+)[^`]*?\1/g, "");
    for (const match of prose.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1];
      if (target === "" || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue;
      targets.push(target);
    }
  }
  return targets;
}

test("README.md stays a short front page", (t) => {
  const bytes = statSync(path.join(REPO_ROOT, "README.md")).size;
  assert.ok(
    bytes < README_MAX_BYTES,
    `README.md is ${bytes} bytes, over ${README_MAX_BYTES}: move reference or guide text to docs/`,
  );
  // It links to every document, so none is an orphan.
  const readme = readFileSync(path.join(REPO_ROOT, "README.md"), "utf8");
  const linked = new Set(relativeLinks(readme).map((target) => target.split("#")[0]));
  for (const doc of documents().filter((d) => d !== "README.md"))
    assert.ok(linked.has(doc), `README.md does not link to ${doc}`);
  t.diagnostic(`README.md: ${bytes} bytes (limit ${README_MAX_BYTES})`);
});

test("every relative link in README.md, stacks/README.md and docs/*.md points at an existing file and heading", (t) => {
  const problems: string[] = [];
  let checked = 0;
  for (const doc of documents()) {
    const text = readFileSync(path.join(REPO_ROOT, doc), "utf8");
    for (const target of relativeLinks(text)) {
      checked++;
      const [file, anchor] = target.split("#", 2);
      const resolved =
        file === "" ? path.join(REPO_ROOT, doc) : path.resolve(REPO_ROOT, path.dirname(doc), decodeURI(file));
      if (!resolved.startsWith(REPO_ROOT + path.sep) || !existsSync(resolved)) {
        problems.push(`${doc}: ${target} (no such file)`);
        continue;
      }
      if (
        anchor !== undefined &&
        resolved.endsWith(".md") &&
        !headingAnchors(readFileSync(resolved, "utf8")).has(anchor)
      )
        problems.push(`${doc}: ${target} (no heading with that anchor)`);
    }
  }
  assert.deepEqual(problems, []);
  assert.ok(checked > 50, `only ${checked} links found: is the link pattern still right?`);
  t.diagnostic(`${checked} relative links in ${documents().length} documents`);
});

test("the link checker finds links and anchors the way GitHub renders them", () => {
  const sample = [
    "# Title",
    "## kind's taint rule",
    "## When the build fails",
    "## `code` and [a link](x.md)",
    "## Twice",
    "## Twice",
    "```sh",
    "# not a heading, and [not a link](nowhere.md)",
    "```",
    'See [a](a.md), ![b](img/b.png "title"), [c](https://example.com), `[d](code.md)`, [e](#twice-1).',
  ].join("\n");
  assert.deepEqual(
    [...headingAnchors(sample)],
    ["title", "kinds-taint-rule", "when-the-build-fails", "code-and-a-link", "twice", "twice-1"],
  );
  assert.deepEqual(relativeLinks(sample), ["x.md", "a.md", "img/b.png", "#twice-1"]);
});

test("the remote guide's cert-manager Certificate lists exactly the names the fleet serves", () => {
  const guide = readFileSync(path.join(REPO_ROOT, "docs", "remote.md"), "utf8");
  const block = /```yaml\n(apiVersion: cert-manager\.io\/v1[\s\S]*?)```/.exec(guide);
  assert.ok(block, "docs/remote.md has a cert-manager Certificate");
  const certificate = YAML.parse(block[1]) as {
    metadata: { namespace: string };
    spec: { secretName: string; dnsNames: string[] };
  };
  assert.deepEqual(
    certificate.spec.dnsNames,
    fleetNames({ fleetName: "buildkitd", namespace: certificate.metadata.namespace, replicas: 2 }).dnsNames,
  );
  assert.match(guide, new RegExp(`existingSecret: \\{ name: "${certificate.spec.secretName}" \\}`));
});
