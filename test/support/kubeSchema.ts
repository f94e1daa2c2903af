/**
 * Validates Kubernetes objects against the Kubernetes API schema (the `kubernetes-models` package),
 * and counts how many were validated so the suite can report the figure.
 */
import { Namespace, Secret, Service } from "kubernetes-models/v1";
import { StatefulSet } from "kubernetes-models/apps/v1";
import { Job } from "kubernetes-models/batch/v1";
import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ConfigMap } from "kubernetes-models/v1";

type Validating = { validate(): void };
const MODELS: Record<string, (data: never) => Validating> = {
  "v1/Namespace": (d) => new Namespace(d),
  "v1/Secret": (d) => new Secret(d),
  "v1/Service": (d) => new Service(d),
  "v1/ConfigMap": (d) => new ConfigMap(d),
  "apps/v1/StatefulSet": (d) => new StatefulSet(d),
  "batch/v1/Job": (d) => new Job(d),
  "networking.k8s.io/v1/NetworkPolicy": (d) => new NetworkPolicy(d),
  "policy/v1/PodDisruptionBudget": (d) => new PodDisruptionBudget(d),
};

/** Pulumi resource type -> apiVersion/kind. */
export function kubeKindOf(pulumiType: string): string | undefined {
  const match = /^kubernetes:([^:]+):(\w+)$/.exec(pulumiType);
  if (!match) return undefined;
  const [group, version] = match[1].split("/");
  return group === "core" ? `${version}/${match[2]}` : `${group}/${version}/${match[2]}`;
}

let validatedCount = 0;

/** Throws when the object does not satisfy the Kubernetes schema for its kind. */
export function validateKubeObject(object: Record<string, unknown>): void {
  const key = `${object.apiVersion}/${object.kind}`;
  const model = MODELS[key];
  if (!model) throw new Error(`no schema registered for ${key}`);
  model(object as never).validate();
  validatedCount++;
}

/** How many objects this process validated. */
export function validatedObjects(): number {
  return validatedCount;
}
