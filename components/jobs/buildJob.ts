/**
 * The Job resource around an Earthly pod, for every kind of Earthly Job: the `batch/v1` object, the
 * labels that select its pods, its registration beside its NetworkPolicy, and the outputs every
 * Earthly Job has.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_SRC_DIR, KubePodSpec } from "../pods/pod";
import { WorkloadRole, selectorLabels, toLabelValue } from "../pods/labels";
import { NetworkPolicyObject } from "../pods/network";
import { pruneUndefined } from "../values/deterministic";
import { lift, registeredAfter } from "../values/inputs";
import { ArtifactsLocation, ArtifactsVolume, artifactsLocation } from "./artifacts";

/** The Job object (`metadata` and `spec` of a `batch/v1` Job) an Earthly Job registers. */
export interface EarthlyJobObject {
  apiVersion: "batch/v1";
  kind: "Job";
  metadata: kubernetes.types.input.meta.v1.ObjectMeta;
  spec: pulumi.Input<kubernetes.types.input.batch.v1.JobSpec>;
}

/** Options of a build Job. */
export interface JobInput {
  namespace: pulumi.Input<string>;
  labels: pulumi.Input<{ [key: string]: string }>;
  annotations?: { [key: string]: string };
  /** Annotations of the pod template (a change replaces the Job: its template is immutable). */
  templateAnnotations?: pulumi.Input<{ [key: string]: string } | undefined>;
  podSpec: KubePodSpec;
  backoffLimit: number;
  ttlSecondsAfterFinished?: number;
  activeDeadlineSeconds?: number;
}

/** A `batch/v1` Job around a pod spec. The name is left to Pulumi's auto-naming (Jobs are immutable). */
export function buildJob(input: JobInput): EarthlyJobObject {
  const labels = () => lift(input.labels, (labels) => ({ ...labels }));
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: pruneUndefined<kubernetes.types.input.meta.v1.ObjectMeta>({
      namespace: input.namespace,
      labels: labels(),
      annotations:
        input.annotations && Object.keys(input.annotations).length > 0 ? input.annotations : undefined,
    }),
    spec: pruneUndefined<kubernetes.types.input.batch.v1.JobSpec>({
      backoffLimit: input.backoffLimit,
      ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
      activeDeadlineSeconds: input.activeDeadlineSeconds,
      template: {
        metadata: pruneUndefined<kubernetes.types.input.meta.v1.ObjectMeta>({
          labels: labels(),
          annotations: lift(input.templateAnnotations, (annotations) =>
            annotations && Object.keys(annotations).length > 0 ? annotations : undefined,
          ),
        }),
        spec: input.podSpec,
      },
    }),
  };
}

/** Minutes `pulumi up` waits for a build when the caller says nothing. */
export const DEFAULT_JOB_TIMEOUT_MINUTES = 30;

/** The labels that select an Earthly Job's pods (stable across versions and rebuilds). */
export function jobPodSelector(instance: string, role: WorkloadRole): { [key: string]: string } {
  return {
    ...selectorLabels("earthly", toLabelValue(instance)),
    "app.kubernetes.io/component": role,
  };
}

/**
 * Logs on a Job component the warnings its flags call for, once they are known (at preview whenever
 * they are plain, so the warning shows before anything runs). Each check returns a warning or nothing.
 */
export function warnOnFlags(
  parent: pulumi.Resource,
  flags: pulumi.Input<string[]> | undefined,
  checks: readonly ((flags: string[] | undefined) => string | undefined)[],
): void {
  pulumi.output(flags).apply((known) => {
    for (const check of checks) {
      const warning = check(known);
      if (warning !== undefined) void pulumi.log.warn(warning, parent);
    }
  });
}

/** The outputs every Earthly Job has: its Job's name and namespace, and where its artifacts land. */
export interface EarthlyJobOutputs {
  jobName: pulumi.Output<string>;
  namespace: pulumi.Output<string>;
  artifacts: pulumi.Output<ArtifactsLocation | undefined>;
}

/** The common outputs of a registered build Job (see {@link EarthlyJobOutputs}). */
export function earthlyJobOutputs(
  job: kubernetes.batch.v1.Job,
  args: { artifacts?: ArtifactsVolume; srcDir?: string },
): EarthlyJobOutputs {
  return {
    jobName: job.metadata.name,
    namespace: job.metadata.namespace,
    artifacts: pulumi.output(artifactsLocation(args.artifacts, args.srcDir ?? DEFAULT_SRC_DIR)),
  };
}

/**
 * Registers an Earthly Job and its NetworkPolicy from built objects, as children of `parent`. The
 * policy comes first and the Job depends on it, so no build pod ever runs without it; neither is
 * registered before `checked` (the arguments' checks) resolves. The objects are typed args whose
 * leaves are Outputs only where the arguments were, so a preview shows both. `pulumi up` waits for
 * the build as long as `timeoutMinutes` allows.
 */
export function newBuildJob(
  name: string,
  parent: pulumi.Resource,
  objects: { job: EarthlyJobObject; policy: NetworkPolicyObject; timeoutMinutes: number | undefined },
  checked: pulumi.Output<unknown>,
): kubernetes.batch.v1.Job {
  const policy = new kubernetes.networking.v1.NetworkPolicy(
    `${name}-network`,
    { metadata: objects.policy.metadata, spec: objects.policy.spec },
    { parent, dependsOn: registeredAfter(checked) },
  );
  const timeout = `${objects.timeoutMinutes ?? DEFAULT_JOB_TIMEOUT_MINUTES}m`;
  return new kubernetes.batch.v1.Job(
    name,
    { metadata: objects.job.metadata, spec: objects.job.spec },
    {
      parent,
      dependsOn: registeredAfter(checked, policy),
      customTimeouts: { create: timeout, update: timeout },
    },
  );
}
