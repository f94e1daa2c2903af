/**
 * Builds one component under the Pulumi mocks and hands back the objects it registered, secrets
 * unwrapped and every Kubernetes object validated against the API schema: what the survivor,
 * defaults and arguments tests assert on. Import `./mocks` (through this module) before any component.
 */
import assert from "node:assert/strict";
import { recorded, resetRecord, settle, valueOf, registrations } from "./mocks";
import { validateKubeObject } from "./kubeSchema";
import { EarthlyAllInOneJob, EarthlyAllInOneJobArgs } from "../../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet, BuildkitdFleetArgs } from "../../components/fleet/buildkitdFleet";
import { KindCluster, KindClusterArgs } from "../../components/kind/kindCluster";
import { FleetConnection } from "../../components/fleet/connection";

import { Obj, plain } from "./values";
import { inputsOf } from "./recorded";

export const JOB = "kubernetes:batch/v1:Job";
export const STATEFUL_SET = "kubernetes:apps/v1:StatefulSet";
export const SERVICE = "kubernetes:core/v1:Service";
export const SECRET = "kubernetes:core/v1:Secret";
export const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
export const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
export const COMMAND = "command:local:Command";

/** The custom timeouts of the last registration of a resource of this type and name. */
export function timeoutsOf(type: string, name: string): { create: string; update: string; delete: string } {
  const found = registrations.filter((r) => r.type === type && r.name === name);
  assert.ok(found.length > 0, `no registration of ${type} ${name}`);
  return found[found.length - 1].customTimeouts;
}

/** Validates every recorded Kubernetes object (not providers) against the Kubernetes API schema. */
function validateRecorded(): void {
  for (const r of recorded.filter(
    (x) => x.type.startsWith("kubernetes:") && !x.type.startsWith("kubernetes:index"),
  )) {
    validateKubeObject(plain(r.inputs) as Record<string, unknown>);
  }
}

/** A container's variables as a name -> value map (`valueFrom` variables as their JSON). */
export function envOf(container: Obj): Record<string, string> {
  return Object.fromEntries(
    (container.env as Obj[]).map((e) => [
      e.name as string,
      e.value !== undefined ? (e.value as string) : JSON.stringify(e.valueFrom),
    ]),
  );
}

/** The mount of the named volume in a container (exactly one). */
export function mountOf(container: Obj, volume: string): Obj {
  const mounts = (container.volumeMounts as Obj[]).filter((m) => m.name === volume);
  assert.equal(mounts.length, 1, `exactly one mount of volume ${volume}`);
  return mounts[0];
}

/** What an Earthly Job registered. */
export interface BuiltJob {
  job: Obj;
  pod: Obj;
  container: Obj;
}

function jobParts(name: string): BuiltJob {
  const job = inputsOf(JOB, name);
  return { job, pod: job.spec.template.spec, container: job.spec.template.spec.containers[0] };
}

/** An EarthlyAllInOneJob's Job, once registered. */
export async function buildAllInOne(name: string, args: EarthlyAllInOneJobArgs): Promise<BuiltJob> {
  resetRecord();
  const component = new EarthlyAllInOneJob(name, args);
  await valueOf(component.jobName);
  await settle();
  validateRecorded();
  return jobParts(name);
}

/** A fleet connection of 3 instances with TLS, as a client Job receives it. */
export const FLEET_CONNECTION: FleetConnection = {
  fleetName: "buildkitd",
  namespace: "earthly",
  buildkitHost: "tcp://buildkitd.earthly.svc.cluster.local:8372",
  instanceNames: ["buildkitd-0", "buildkitd-1", "buildkitd-2"],
  instanceHosts: [
    "buildkitd-0.buildkitd-instances.earthly.svc.cluster.local",
    "buildkitd-1.buildkitd-instances.earthly.svc.cluster.local",
    "buildkitd-2.buildkitd-instances.earthly.svc.cluster.local",
  ],
  earthlyVersion: "v0.8.16",
  tlsEnabled: true,
  caCertPem: "-----BEGIN CERTIFICATE-----\nQ0E=\n-----END CERTIFICATE-----\n",
  clientLabels: { "earthly-kubernetes/client-of": "buildkitd" },
};

/** An EarthlyRemoteJob's Job, ConfigMap and certificate Secret, once registered. */
export async function buildRemote(
  name: string,
  args: EarthlyRemoteJobArgs,
): Promise<BuiltJob & { config: Obj; certs: Obj; buildkitHost: string }> {
  resetRecord();
  const component = new EarthlyRemoteJob(name, args);
  await valueOf(component.jobName);
  const buildkitHost = await valueOf(component.buildkitHost);
  await settle();
  validateRecorded();
  return {
    ...jobParts(name),
    config: inputsOf(CONFIG_MAP, `${name}-config`),
    certs: inputsOf(SECRET, `${name}-certs`),
    buildkitHost,
  };
}

/** What a BuildkitdFleet registered. */
export interface BuiltFleet {
  fleet: BuildkitdFleet;
  connection: FleetConnection;
  statefulSet: Obj;
  pod: Obj;
  container: Obj;
  service: Obj;
  headless: Obj;
  policy: Obj;
  /** The TLS Secret, when the fleet has one. */
  secret?: Obj;
}

/** A BuildkitdFleet's objects, once registered; `fleetName` defaults to the resource name. */
export async function buildFleet(name: string, args: BuildkitdFleetArgs): Promise<BuiltFleet> {
  resetRecord();
  const fleet = new BuildkitdFleet(name, args);
  const connection = await valueOf(fleet.connection);
  await settle();
  validateRecorded();
  const statefulSet = inputsOf(STATEFUL_SET, name);
  const secrets = recorded.filter((r) => r.type === SECRET && r.name === `${name}-tls`);
  return {
    fleet,
    connection,
    statefulSet,
    pod: statefulSet.spec.template.spec,
    container: statefulSet.spec.template.spec.containers[0],
    service: inputsOf(SERVICE, name),
    headless: inputsOf(SERVICE, `${name}-instances`),
    policy: inputsOf(NETWORK_POLICY, `${name}-clients`),
    secret: secrets.length === 1 ? (plain(secrets[0].inputs) as Obj) : undefined,
  };
}

/** A KindCluster's kind Command inputs and its provider's inputs, once registered. */
export async function buildKind(
  name: string,
  args: KindClusterArgs,
): Promise<{ cluster: KindCluster; command: Obj; provider: Obj }> {
  resetRecord();
  const cluster = new KindCluster(name, args);
  await valueOf(cluster.kubeconfig);
  await valueOf(cluster.poolScheduling);
  await settle();
  return {
    cluster,
    command: inputsOf(COMMAND, `${name}-kind`),
    provider: inputsOf("pulumi:providers:kubernetes", `${name}-provider`),
  };
}
