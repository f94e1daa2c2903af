/**
 * The demo's build outputs: a waiter reports how the build Job ended (see `buildResult.ts`), its
 * report becomes stack outputs, and a build that did not succeed fails `pulumi up` with the reason,
 * the end of the log, where to read all of it and how to run it again. The Job is created without
 * the provider's wait, so its outputs exist whatever the build does.
 */
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { BUILD_RESULT_COMMAND, BuildResult, buildResultEnvironment, parseBuildResult } from "./buildResult";

/**
 * A `pulumi.RunError` whose `stack` is its message. The CLI prints only a RunError's message, except
 * when it rejects after the program has finished (as one thrown in an `apply` often does): then its
 * first handler prints `stack`. So the user reads the message alone either way.
 */
function buildFailedError(message: string): pulumi.RunError {
  const error = new pulumi.RunError(message);
  error.stack = message;
  return error;
}

/** How many log lines the `buildLog` output and a failure message keep. */
export const LOG_TAIL_LINES = 60;

/** The one command that runs the build again (a new rebuild trigger replaces the Job). */
export const REBUILD_COMMAND = 'pulumi config set rebuild "$(date +%s)" && pulumi up';

/** The cluster a build runs on, as the waiter and the messages need it. */
export interface BuildCluster {
  /** A kubeconfig for the cluster (a secret). */
  kubeconfig: pulumi.Input<string>;
  /** The kube context users have for it, for the commands the messages show. */
  kubeContext: pulumi.Input<string>;
}

/** A build Job as the outputs see it. */
export interface BuildJob {
  jobName: pulumi.Output<string>;
  namespace: pulumi.Output<string>;
}

/** What a waiter gives back: its report, and the command that waits again without rebuilding. */
export interface Waiter {
  stdout: pulumi.Output<string>;
  waitAgainCommand?: pulumi.Output<string>;
}

/**
 * Runs the waiter script with its environment and returns what it printed. The demo's runs it as a
 * local Command; the real-engine tier, which has no command provider, runs the same script itself.
 */
export type RunWaiter = (
  environment: pulumi.Output<Record<string, string>>,
  job: BuildJob & pulumi.Resource,
) => Waiter;

/** The demo's waiter: a local Command, re-run when the Job's name changes (a new build). */
export const commandWaiter: RunWaiter = (environment, job) => {
  const waiter = new command.local.Command(
    "build-result",
    {
      create: BUILD_RESULT_COMMAND,
      environment,
      // A new Job (new name) is a new build: wait for it and read its log again.
      triggers: [job.jobName],
      // The environment holds the kubeconfig; stdout is parsed, stderr only has the script's messages.
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { dependsOn: [job] },
  );
  return {
    // The environment carries the kubeconfig, so Pulumi treats the outputs as secret; the report is not.
    stdout: pulumi.unsecret(waiter.stdout),
    waitAgainCommand: pulumi.interpolate`pulumi up --replace '${waiter.urn}'`,
  };
};

/** Where a build ran, for the messages that point at it. */
export interface BuildLocation {
  kubeContext: string;
  namespace: string;
  jobName: string;
  /** How to wait for the same build again (after a timeout or an unreadable result). */
  waitAgainCommand?: string;
}

/**
 * The error a build that did not succeed fails `pulumi up` with: the reason first, then the end of
 * the log, then where to read all of it and how to run the build (or only the wait) again.
 */
export function buildFailureMessage(result: BuildResult, at: BuildLocation): string {
  const kubectl = `kubectl --context ${at.kubeContext} --namespace ${at.namespace}`;
  const what = `job/${at.jobName} in namespace ${at.namespace} (context ${at.kubeContext})`;
  const headline = {
    failed: `The Earthly build failed: ${what} failed${result.reason ? ` (${result.reason})` : ""}.`,
    timeout: `The Earthly build did not finish in time: ${what}.`,
    unknown: `The Earthly build's result is unknown: ${what} could not be read.`,
    succeeded: `The Earthly build succeeded: ${what}.`,
  }[result.result];
  const lines = [headline];
  if (result.detail) lines.push(`Detail: ${result.detail}`);
  if (result.log.trim() !== "") {
    lines.push(`Last ${LOG_TAIL_LINES} lines of the log of pod/${result.pod}:`, result.log.trimEnd());
  }
  // Earthly writes .tmp-earthly-out under the working directory before any output moves.
  if (/unable to create dir \.tmp-earthly-out\b.*permission denied/.test(result.log)) {
    lines.push(
      "Hint: the build's user cannot write its source volume (Earthly writes .tmp-earthly-out there " +
        "first). A sourceVolume claim must be writable by the pod's user: fsGroup does that for block " +
        "volumes, not for hostPath or NFS (docs/production.md, section 3).",
    );
  }
  lines.push(
    `The whole log: ${kubectl} logs ${result.pod ? `pod/${result.pod}` : `job/${at.jobName}`} --all-containers`,
  );
  if (result.result !== "failed" && at.waitAgainCommand) {
    lines.push(`Wait for this build again: ${at.waitAgainCommand}`);
  }
  lines.push(`Run the build again: ${REBUILD_COMMAND}`);
  return lines.join("\n");
}

/** Options of {@link buildOutputs}. */
export interface BuildOutputsOptions {
  /** How long to wait for the build. */
  timeoutMinutes: number;
  /** How the waiter runs (default: {@link commandWaiter}). */
  runWaiter?: RunWaiter;
  /** How often the waiter looks (default 2 s). */
  pollSeconds?: number;
  /** How long a pod may be unable to start before the build counts as failed (default 120 s). */
  startSeconds?: number;
}

/**
 * Waits for the build, puts its result and the end of its log into the outputs, and fails the
 * deployment with that log when the build did not succeed. The failure is a `RunError` thrown in an
 * `apply` that no output depends on: the SDK reports its message alone (no stack trace) and makes
 * `pulumi up` fail once the program has finished, so the stack outputs are saved first.
 */
export function buildOutputs(
  cluster: BuildCluster,
  job: BuildJob & pulumi.Resource,
  options: BuildOutputsOptions,
): { [output: string]: pulumi.Output<unknown> } {
  const environment = pulumi
    .all([cluster.kubeconfig, job.namespace, job.jobName])
    .apply(([kubeconfig, namespace, jobName]) =>
      buildResultEnvironment({
        kubeconfig,
        namespace,
        jobName,
        tailLines: LOG_TAIL_LINES,
        timeoutSeconds: options.timeoutMinutes * 60,
        pollSeconds: options.pollSeconds,
        startSeconds: options.startSeconds,
      }),
    );
  const waiter = (options.runWaiter ?? commandWaiter)(environment, job);
  const result = waiter.stdout.apply(parseBuildResult);
  pulumi
    .all([result, cluster.kubeContext, job.namespace, job.jobName, waiter.waitAgainCommand])
    .apply(([r, kubeContext, namespace, jobName, waitAgainCommand]) => {
      if (r.result !== "succeeded") {
        throw buildFailedError(buildFailureMessage(r, { kubeContext, namespace, jobName, waitAgainCommand }));
      }
    });
  return {
    jobName: job.jobName,
    followCommand: pulumi.interpolate`kubectl --context ${cluster.kubeContext} --namespace ${job.namespace} logs --follow job/${job.jobName}`,
    buildResult: result.apply((r) => r.result),
    buildLog: result.apply((r) => r.log || (r.detail ? `(no log: ${r.detail})` : "(the log is empty)")),
    rebuildCommand: pulumi.output(REBUILD_COMMAND),
  };
}
