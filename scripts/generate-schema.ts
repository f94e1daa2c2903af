/**
 * Writes `schema.json`: the package schema Pulumi's analyzer infers from the source, with sorted keys;
 * and, from it, `components/validation/plainInputs.ts` (where each component's arguments are plain).
 *
 *   npm run schema            # regenerate both
 *   npm run schema -- --check # exit 1 when either is stale, writing nothing
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { PLAIN_INPUTS_PATH, renderPlainInputs } from "./plainInputs";
import { REGENERATE_SCHEMA, REPO_ROOT, SCHEMA_PATH, analyzeSchema, renderSchema } from "./schema";

/** Writes `text` to `file` (with `check`, only says whether it would change). */
function update(file: string, text: string, check: boolean): void {
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  const relative = path.relative(REPO_ROOT, file);
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
  writeFileSync(file, text);
  console.log(`wrote ${relative}`);
}

async function main(): Promise<void> {
  const check = process.argv.includes("--check");
  const schema = await analyzeSchema();
  update(SCHEMA_PATH, renderSchema(schema), check);
  update(PLAIN_INPUTS_PATH, await renderPlainInputs(schema), check);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
