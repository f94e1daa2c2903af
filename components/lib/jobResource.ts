/**
 * The Kubernetes Job resource both Earthly Jobs register: `pulumi up` waits for the build to finish
 * (and fails if it fails) for as long as the caller allows.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { KubeObject } from "./earthlyPod";

/** Minutes `pulumi up` waits for a build when the caller says nothing. */
export const DEFAULT_JOB_TIMEOUT_MINUTES = 30;

/** Registers a Job from a built object, as a child of `parent`. */
export function newBuildJob(
  name: string,
  object: pulumi.Output<KubeObject>,
  timeoutMinutes: number | undefined,
  parent: pulumi.Resource,
): kubernetes.batch.v1.Job {
  const timeout = `${timeoutMinutes ?? DEFAULT_JOB_TIMEOUT_MINUTES}m`;
  return new kubernetes.batch.v1.Job(
    name,
    {
      metadata: object.apply((o) => o.metadata as kubernetes.types.input.meta.v1.ObjectMeta),
      spec: object.apply((o) => o.spec as kubernetes.types.input.batch.v1.JobSpec),
    },
    { parent, customTimeouts: { create: timeout, update: timeout } },
  );
}
