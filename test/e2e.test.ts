/**
 * End to end: a real `pulumi up` of each demo stack against kind, the build checked in the cluster,
 * a second preview that must change nothing, then `pulumi destroy` and the cluster checked gone.
 * Runs only where pulumi, kind, kubectl and a running container engine exist; elsewhere it reports
 * itself SKIPPED with the reason (a skip is not a pass).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { test } from "node:test";
import { LocalWorkspace } from "@pulumi/pulumi/automation";

const ROOT = path.resolve(__dirname, "..");

function run(commandLine: string[]): { ok: boolean; stdout: string } {
  const result = spawnSync(commandLine[0], commandLine.slice(1), { encoding: "utf8", timeout: 60_000 });
  return { ok: result.status === 0, stdout: result.stdout ?? "" };
}

/** Why the end-to-end test cannot run here, or undefined when it can. */
function missingTools(): string | undefined {
  const engine = process.env.KIND_EXPERIMENTAL_PROVIDER === "podman" ? "podman" : "docker";
  const checks: [string, string[]][] = [
    ["pulumi CLI", ["pulumi", "version"]],
    ["kind", ["kind", "version"]],
    ["kubectl", ["kubectl", "version", "--client"]],
    [`a running ${engine} engine`, [engine, "info"]],
  ];
  const missing = checks.filter(([, commandLine]) => !run(commandLine).ok).map(([what]) => what);
  return missing.length > 0 ? `needs ${missing.join(", ")}, not available on this machine` : undefined;
}

const reason = missingTools();

for (const stackName of ["aio", "remote"]) {
  test(
    `end to end: pulumi up / preview / destroy of stack ${stackName} on kind`,
    { timeout: 45 * 60_000 },
    async (t) => {
      if (reason) {
        t.skip(reason);
        return;
      }
      const clusterName = `earthlydemo-${stackName}`;
      const stack = await LocalWorkspace.createOrSelectStack(
        { stackName, workDir: ROOT },
        { envVars: { PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "" } },
      );
      try {
        const up = await stack.up({ onOutput: (line) => t.diagnostic(line.trimEnd()) });
        const jobName = String(up.outputs.jobName.value);
        const namespace = stackName === "aio" ? "earthly-builds" : "earthly-clients";
        const succeeded = run([
          "kubectl",
          "--context",
          `kind-${clusterName}`,
          "--namespace",
          namespace,
          "get",
          `job/${jobName}`,
          "-o",
          "jsonpath={.status.succeeded}",
        ]);
        assert.equal(succeeded.stdout, "1", `job ${jobName} did not succeed`);
        assert.equal(up.outputs.buildResult.value, "succeeded");
        // The log itself, not the waiter's note that it could not be read.
        const log = String(up.outputs.buildLog.value);
        assert.doesNotMatch(log, /^\(no log: /);
        assert.notEqual(log.trim(), "");

        // Deterministic inputs: a second run must change nothing.
        const preview = await stack.preview();
        const changed = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && n > 0);
        assert.deepEqual(changed, [], "a second pulumi up would change resources");
      } finally {
        await stack.destroy({ onOutput: (line) => t.diagnostic(line.trimEnd()) });
      }
      const clusters = run(["kind", "get", "clusters"]);
      assert.ok(clusters.ok);
      assert.equal(clusters.stdout.split("\n").includes(clusterName), false, `${clusterName} still exists`);
    },
  );
}
