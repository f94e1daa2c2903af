/**
 * Real builds on the real node: the fleet (Earthly's buildkitd, mTLS) and one remote client Job at a
 * time, `EarthlyRemoteJob` exactly as users deploy it but with the build-client image (buildctl in
 * place of the earthly CLI, test/node/buildctl-client.sh). Each run replaces the client Job with a
 * fresh one (a new pod, so a new client IP) and reads what its build printed.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { Stack } from "@pulumi/pulumi/automation";
import { BuildkitdFleet, EarthlyRemoteJob } from "../../components";
import { PersistentCache } from "../../components/fleet/objects";
import { schedulingForPool } from "../../components/kubernetes/scheduling";
import { BUILDER_NAMESPACE, BUILDER_POOL, CLIENT_NAMESPACE, FLEET_NAME } from "../../stacks/demo";
import { securedNamespace } from "../../stacks/namespaces";
import { ControlPlane } from "../engine/controlPlane";
import { FleetPems } from "../engine/certificates";
import { engineProvider } from "../engine/programs";
import { PulumiEnvironment } from "../engine/stacks";
import { NODE_NAME } from "./fixture";
import { NODE_IMAGES } from "./images";
import { finishedLog } from "./probe";

/** One client build: what differs from run to run. */
export interface ClientRun {
  /** A stage of test/node/workload/Dockerfile, as an Earthly target (`+build`, `+fail`). */
  target?: string;
  /** Pins the client to one instance, as users do; unset, the client goes through the Service. */
  cacheKey?: string;
  /** The workload's MEGABYTES build argument (how much each step hashes). */
  megabytes?: number;
  /** The TLS server name the client asks for (default: the host it dials). */
  serverName?: string;
  /** The client's certificate and key (default: the fleet CA's). */
  clientCert?: { certPem: string; keyPem: string };
}

/** What a client's build printed, parsed. */
export interface ClientResult {
  jobName: string;
  /** The client's EARTHLY_BUILDKIT_HOST. */
  host: string;
  /** buildctl's exit status. */
  status: number;
  /** Wall time of the build, from inside the client pod. */
  seconds: number;
  /** The worker ID of the daemon that answered (empty when none did). */
  worker: string;
  /** The exported artifact's text, when the build exported one. */
  artifact?: string;
  /** Workload steps that ran (printed their line); none when the cache served every step. */
  stepsRun: number[];
  /** The client's whole log. */
  log: string;
}

/** The steps' own output lines in buildctl's plain progress, e.g. `#9 0.105 workload step 2`. */
const STEP_OUTPUT = /^#\d+ \d+\.\d+ workload step (\d)$/gm;

/** Parses a client log (test/node/buildctl-client.sh); throws when the client did not get to its end. */
export function parseClientLog(jobName: string, host: string, log: string): ClientResult {
  const value = (key: string) => new RegExp(`^${key}=(.*)$`, "m").exec(log)?.[1];
  const status = value("build.status");
  const seconds = value("build.seconds");
  if (status === undefined || seconds === undefined)
    throw new Error(`the client of job/${jobName} did not finish its build; its log:\n${log}`);
  return {
    jobName,
    host,
    status: Number(status),
    seconds: Number(seconds),
    worker: value("worker") ?? "",
    artifact: value("artifact"),
    stepsRun: [...log.matchAll(STEP_OUTPUT)].map((m) => Number(m[1])),
    log,
  };
}

/** The fleet under test: its shape and its certificates. */
export interface FleetUnderTest {
  replicas: number;
  pems: FleetPems;
  persistentCache?: PersistentCache;
}

/** A deployed fleet and a way to run one client build after another against it. */
export interface BuildBench {
  /** Runs one client build in a fresh pod and returns what it printed, once its pod has finished. */
  run(client: ClientRun): Promise<ClientResult>;
  /** Each instance's worker ID, read from its cache folder. */
  workerIds(): string[];
  destroy(): Promise<void>;
}

/** Deploys the fleet (and the client namespace) in one stack whose client changes at every run. */
export async function deployBuildBench(
  env: PulumiEnvironment,
  cp: ControlPlane,
  fleetSpec: FleetUnderTest,
  stackName: string,
): Promise<BuildBench> {
  const { pems } = fleetSpec;
  let client: (ClientRun & { id: number }) | undefined;
  const stack: Stack = await env.stack(stackName, async () => {
    const k8s = { provider: engineProvider(cp) };
    const builders = securedNamespace(BUILDER_NAMESPACE, "privileged", k8s);
    const clients = securedNamespace(CLIENT_NAMESPACE, "restricted", k8s);
    const fleet = new BuildkitdFleet(
      FLEET_NAME,
      {
        namespace: BUILDER_NAMESPACE,
        replicas: fleetSpec.replicas,
        imageRepository: NODE_IMAGES.buildkitdRepository,
        scheduling: schedulingForPool(BUILDER_POOL),
        persistentCache: fleetSpec.persistentCache,
        tls: {
          caCertPem: pems.caCertPem,
          serverCertPem: pems.serverCertPem,
          serverPrivateKeyPem: pulumi.secret(pems.serverPrivateKeyPem),
        },
        clientNamespaces: [CLIENT_NAMESPACE],
      },
      { ...k8s, dependsOn: [builders] },
    );
    if (!client) return {};
    const env = [
      ...(client.megabytes !== undefined
        ? [{ name: "BUILD_MEGABYTES", value: String(client.megabytes) }]
        : []),
      ...(client.serverName !== undefined ? [{ name: "BUILD_SERVER_NAME", value: client.serverName }] : []),
    ];
    const job = new EarthlyRemoteJob(
      "client",
      {
        namespace: clients.metadata.name,
        target: client.target ?? "+build",
        image: NODE_IMAGES.buildClient,
        fleet: fleet.connection,
        cacheKey: client.cacheKey,
        clientCertPem: client.clientCert?.certPem ?? pems.clientCertPem,
        clientPrivateKeyPem: pulumi.secret(client.clientCert?.keyPem ?? pems.clientPrivateKeyPem),
        // This tier waits for the pod itself (a failing build is a result here, not an error).
        waitForCompletion: false,
        backoffLimit: 0,
        rebuildTrigger: `run-${client.id}`,
        // One node: the client tolerates the builder pool's taint here.
        scheduling: { tolerations: BUILDER_POOL.taints!.map((t) => ({ ...t, operator: "Equal" })) },
        env,
      },
      k8s,
    );
    return { jobName: job.jobName, host: job.buildkitHost };
  });
  await stack.up();
  let runs = 0;
  return {
    async run(next) {
      client = { ...next, id: ++runs };
      const up = await stack.up();
      const jobName = up.outputs.jobName.value as string;
      const log = await finishedLog(cp, CLIENT_NAMESPACE, `job/${jobName}`, 300_000);
      return parseClientLog(jobName, up.outputs.host.value as string, log);
    },
    workerIds() {
      return Array.from({ length: fleetSpec.replicas }, (_, i) =>
        cp
          .kubectl([
            "exec",
            "-n",
            BUILDER_NAMESPACE,
            `${FLEET_NAME}-${i}`,
            "--",
            "sh",
            "-c",
            "cat /tmp/earthly/buildkit/*/workerid",
          ])
          .trim(),
      );
    },
    async destroy() {
      client = undefined;
      await stack.destroy();
    },
  };
}

/** The storage class of the fleet's cache claims here: no provisioner, volumes made by hand. */
export const CACHE_CLASS = "node-tier-cache";

/**
 * A local PersistentVolume on the node, at a fresh folder under `root`, reserved for the fleet's claim
 * `claim` (a claim made again later gets a volume of a new `generation`). Returns its name.
 */
export function cacheVolume(
  cp: ControlPlane,
  volume: { root: string; claim: string; generation: number },
): string {
  const name = `${volume.claim}-${volume.generation}`;
  const dir = path.join(volume.root, name);
  fs.mkdirSync(dir, { recursive: true });
  const pv = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    metadata: { name },
    spec: {
      capacity: { storage: "10Gi" },
      accessModes: ["ReadWriteOnce"],
      persistentVolumeReclaimPolicy: "Retain",
      storageClassName: CACHE_CLASS,
      claimRef: { namespace: BUILDER_NAMESPACE, name: volume.claim },
      local: { path: dir },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: [NODE_NAME] }] },
          ],
        },
      },
    },
  };
  cp.kubectl(["apply", "-f", "-"], JSON.stringify(pv));
  return name;
}
