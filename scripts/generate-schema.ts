/**
 * Writes `schema.json`: the package schema Pulumi's analyzer infers from the source, with sorted keys.
 *
 *   npm run schema            # regenerate schema.json
 *   npm run schema -- --check # exit 1 when schema.json is stale, writing nothing
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REGENERATE_SCHEMA, REPO_ROOT, SCHEMA_PATH, analyzeSchema, renderSchema } from "./schema";

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const text = renderSchema(await analyzeSchema());
  const current = existsSync(SCHEMA_PATH) ? readFileSync(SCHEMA_PATH, "utf8") : undefined;
  const relative = path.relative(REPO_ROOT, SCHEMA_PATH);
  if (check) {
    if (current !== text) {
      console.error(`${relative} is stale: run \`${REGENERATE_SCHEMA}\` and commit the result.`);
      process.exitCode = 1;
    } else {
      console.log(`${relative} is up to date.`);
    }
    return;
  }
  if (current === text) {
    console.log(`${relative} is up to date.`);
    return;
  }
  writeFileSync(SCHEMA_PATH, text);
  console.log(`wrote ${relative}`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
