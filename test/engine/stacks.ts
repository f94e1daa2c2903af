/**
 * Pulumi stacks for the real-engine tier: the real CLI and the real kubernetes provider, a local file
 * backend in a temp folder, inline Automation API programs (the SDK serves the language runtime
 * in-process, so no language host is needed), and no plugin downloads.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { LocalWorkspace, PulumiCommand, PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { ENGINE_VERSIONS, EngineBinaries } from "./binaries";

/** A Pulumi home and backend for one test run. */
export interface PulumiEnvironment {
  /** Creates (or selects) a stack of an inline program. */
  stack(name: string, program: PulumiFn): Promise<Stack>;
  /** The environment every CLI call gets. */
  env: { [key: string]: string };
  /** The stack's checkpoint as the backend stores it at rest (secrets encrypted). */
  storedState(stack: string): string;
  /** Removes the Pulumi home and the backend. */
  dispose(): void;
}

/** Sets up a fresh PULUMI_HOME with the built kubernetes provider installed as the version the npm SDK asks for. */
export async function pulumiEnvironment(bin: EngineBinaries): Promise<PulumiEnvironment> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-pulumi-"));
  const home = path.join(dir, "home");
  const backend = path.join(dir, "backend");
  fs.mkdirSync(home);
  fs.mkdirSync(backend);
  const env = {
    PULUMI_HOME: home,
    PULUMI_CONFIG_PASSPHRASE: "engine-tier",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
    // No ambient cluster: every resource goes through the explicit provider of the program.
    KUBECONFIG: path.join(dir, "no-ambient-kubeconfig"),
  };
  const pulumiBin = path.join(bin.pulumiRoot, "bin", "pulumi");
  const install = spawnSync(
    pulumiBin,
    [
      "plugin",
      "install",
      "resource",
      "kubernetes",
      ENGINE_VERSIONS.kubernetesProvider,
      "--file",
      bin.kubernetesProvider,
    ],
    { env: { ...process.env, ...env }, encoding: "utf8" },
  );
  if (install.status !== 0) {
    throw new Error(`installing the built kubernetes provider failed: ${install.stderr}${install.stdout}`);
  }
  const pulumiCommand = await PulumiCommand.get({ root: bin.pulumiRoot, skipVersionCheck: true });
  return {
    env,
    stack: (name, program) =>
      LocalWorkspace.createOrSelectStack(
        { stackName: name, projectName: "engine-tier", program },
        {
          pulumiCommand,
          envVars: env,
          projectSettings: { name: "engine-tier", runtime: "nodejs", backend: { url: `file://${backend}` } },
        },
      ),
    storedState: (stack) =>
      fs.readFileSync(path.join(backend, ".pulumi", "stacks", "engine-tier", `${stack}.json`), "utf8"),
    dispose: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
