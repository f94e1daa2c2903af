/**
 * The Kubernetes Job resource both Earthly Jobs register: `pulumi up` waits for the build to finish
 * (and fails if it fails) for as long as the caller allows.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EarthlyJobObject } from "./earthlyJob";

/** Minutes `pulumi up` waits for a build when the caller says nothing. */
export const DEFAULT_JOB_TIMEOUT_MINUTES = 30;

/**
 * Registers a Job from a built object, as a child of `parent`. The object's fields are typed args
 * whose leaves are Outputs only where the arguments were, so a preview shows the Job; `dependsOn`
 * holds the registration until the arguments are checked (see `registeredAfter`).
 */
export function newBuildJob(
  name: string,
  object: EarthlyJobObject,
  timeoutMinutes: number | undefined,
  parent: pulumi.Resource,
  dependsOn: pulumi.Input<pulumi.Input<pulumi.Resource>[]>,
): kubernetes.batch.v1.Job {
  const timeout = `${timeoutMinutes ?? DEFAULT_JOB_TIMEOUT_MINUTES}m`;
  return new kubernetes.batch.v1.Job(
    name,
    { metadata: object.metadata, spec: object.spec },
    { parent, dependsOn, customTimeouts: { create: timeout, update: timeout } },
  );
}
