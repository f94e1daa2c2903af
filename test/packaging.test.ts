/**
 * What `npm publish` would ship: the built JavaScript and declarations, the schema, the plugin
 * manifest, README, LICENSE and CHANGELOG; nothing from the tests, the demo stacks, the benchmark or
 * the examples. `bin/` is built first (as `prepare` would), then packed without scripts.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import * as path from "node:path";
import { before, test } from "node:test";
import * as YAML from "yaml";
import { REPO_ROOT } from "../scripts/schema";

interface PackResult {
  name: string;
  version: string;
  entryCount: number;
  unpackedSize: number;
  files: { path: string; size: number }[];
}

const npm = process.platform === "win32" ? "npm.cmd" : "npm";
let pack: PackResult;
let files: Set<string>;

before(() => {
  execFileSync(npm, ["run", "--silent", "build"], { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const out = execFileSync(npm, ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "ignore"],
  });
  pack = (JSON.parse(out) as PackResult[])[0];
  files = new Set(pack.files.map((f) => f.path));
});

/** Every `.ts` source under a directory, relative to the repository root. */
function sources(dir: string): string[] {
  return readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(path.join(dir, entry.name))
      : entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")
        ? [path.join(dir, entry.name).split(path.sep).join("/")]
        : [],
  );
}

test("the tarball has the entry points, every compiled component, the schema and the metadata files", (t) => {
  const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
    main: string;
    types: string;
    license: string;
  };
  for (const required of [
    manifest.main,
    manifest.types,
    "bin/index.js",
    "bin/index.d.ts",
    "README.md",
    "LICENSE",
    "CHANGELOG.md",
    "schema.json",
    "PulumiPlugin.yaml",
    "package.json",
  ]) {
    assert.ok(files.has(required), `${required} is not in the tarball`);
  }
  for (const source of sources("components")) {
    const base = `bin/${source.replace(/\.ts$/, "")}`;
    assert.ok(files.has(`${base}.js`), `${base}.js is not in the tarball`);
    assert.ok(files.has(`${base}.d.ts`), `${base}.d.ts is not in the tarball`);
  }
  assert.equal(manifest.license, "Apache-2.0");
  assert.match(
    readFileSync(path.join(REPO_ROOT, "LICENSE"), "utf8"),
    /Apache License\s+Version 2\.0, January 2004/,
  );
  const plugin = YAML.parse(readFileSync(path.join(REPO_ROOT, "PulumiPlugin.yaml"), "utf8")) as {
    runtime: string;
  };
  assert.equal(plugin.runtime, "nodejs");
  t.diagnostic(`${pack.name}@${pack.version}: ${pack.entryCount} files, ${pack.unpackedSize} bytes unpacked`);
});

test("nothing from the tests, demo stacks, benchmark, examples, scripts or CI is shipped", () => {
  const forbidden = [...files].filter((f) =>
    /^(test|stacks|bench|examples|scripts|\.ci|node_modules)\/|^bin\/(test|stacks|bench|examples|scripts)\//.test(
      f,
    ),
  );
  assert.deepEqual(forbidden, []);
  // Only the listed top-level files, and compiled output under bin/.
  const stray = [...files].filter(
    (f) =>
      !f.startsWith("bin/") &&
      !["README.md", "LICENSE", "CHANGELOG.md", "schema.json", "PulumiPlugin.yaml", "package.json"].includes(
        f,
      ),
  );
  assert.deepEqual(stray, []);
  const strayBin = [...files].filter(
    (f) => f.startsWith("bin/") && !/^bin\/(index|components\/.+)\.(js|d\.ts|js\.map)$/.test(f),
  );
  assert.deepEqual(strayBin, []);
});

test("the package exports a deliberate list of runtime names, every one a promise semver must keep", async () => {
  const pkg = (await import("../index")) as { [name: string]: unknown };
  assert.deepEqual(Object.keys(pkg).sort(), [
    "BuildkitCertificateAuthority",
    "BuildkitdFleet",
    "DEFAULT_EARTHLY_VERSION",
    "EarthlyAllInOneJob",
    "EarthlyRemoteJob",
    "InvalidArgumentsError",
    "IpFamily",
    "KeyAlgorithm",
    "KindCluster",
    "KubeProxyMode",
    "StorageMedium",
    "TaintEffect",
    "TolerationOperator",
  ]);
  // The enums are the values their argument types accept, not a second spelling of them.
  assert.deepEqual(pkg.TaintEffect, {
    NoSchedule: "NoSchedule",
    PreferNoSchedule: "PreferNoSchedule",
    NoExecute: "NoExecute",
  });
  assert.equal(pkg.DEFAULT_EARTHLY_VERSION, "v0.8.16");
});

test("the demo uses the package as a user would: its public API, and the one shell prelude its waiter shares", () => {
  // The one exception, by name: the waiter's sh re-validates with the kind scripts' own checks.
  const allowed = new Set(["../components", "../components/kind/scripts"]);
  const reached = sources("stacks").flatMap((file) =>
    [...readFileSync(path.join(REPO_ROOT, file), "utf8").matchAll(/from "(\.\.\/[^"]+)"/g)].map((m) => [
      file,
      m[1],
    ]),
  );
  assert.ok(
    reached.some(([, target]) => target === "../components"),
    "no import of the public API found",
  );
  assert.deepEqual(
    reached.filter(([, target]) => !allowed.has(target)),
    [],
  );
  assert.deepEqual(
    reached.filter(([, target]) => target === "../components/kind/scripts").map(([file]) => file),
    ["stacks/buildResult.ts"],
  );
});
