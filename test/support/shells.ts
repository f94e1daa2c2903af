/**
 * What the shell-script tests share: finding programs on PATH, the POSIX shells to run scripts
 * under, and a folder of links to the few system tools a script may reach (so a stand-in on PATH is
 * the only kubectl or kind it can find).
 */
import * as fs from "node:fs";
import * as path from "node:path";

/** The executable file `name` on PATH, or undefined. */
export function which(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":")) {
    if (dir === "") continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** A shell to run a script under; `argv0` `sh` puts bash in POSIX mode. */
export interface Shell {
  label: string;
  path: string;
  argv0?: string;
}

/** /bin/sh (what local.Command uses), bash, bash as `sh` (POSIX mode, like macOS /bin/sh), dash; each once. */
export const SHELLS: readonly Shell[] = (() => {
  const bash = which("bash");
  const dash = which("dash");
  const candidates: Shell[] = [{ label: "/bin/sh", path: "/bin/sh" }];
  if (bash) candidates.push({ label: "bash", path: bash }, { label: "bash as sh", path: bash, argv0: "sh" });
  if (dash) candidates.push({ label: "dash", path: dash });
  const seen = new Set<string>();
  return candidates.filter((shell) => {
    const real = fs.realpathSync(shell.path);
    const key = `${real}|${shell.argv0 ?? path.basename(real)}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
})();

/**
 * {@link SHELLS} plus busybox ash when `busybox` is on PATH: the `/bin/sh` of the Alpine-based
 * `earthly/earthly` image, where the scripts that run inside a build pod (the Git wrapper) run.
 * busybox picks its applet from `argv[0]`.
 */
export const POD_SHELLS: readonly Shell[] = (() => {
  const busybox = which("busybox");
  return busybox ? [...SHELLS, { label: "busybox ash", path: busybox, argv0: "ash" }] : SHELLS;
})();

/** Makes `dir` and links `tools` (found on PATH) into it; throws naming a tool that is missing. */
export function linkSystemTools(dir: string, tools: readonly string[]): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const tool of tools) {
    const found = which(tool);
    if (found === undefined) throw new Error(`the tests need '${tool}' on PATH`);
    fs.symlinkSync(found, path.join(dir, tool));
  }
  return dir;
}
