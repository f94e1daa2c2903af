/**
 * Real builds on the real node: the fleet (Earthly's buildkitd, mTLS) and one remote client Job at a
 * time, `EarthlyRemoteJob` exactly as users deploy it but with the build-client image (buildctl in
 * place of the earthly CLI, test/node/buildctl-client.sh). Each run replaces the client Job with a
 * fresh one (a new pod, so a new client IP) and reads what its build printed.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { Stack } from "@pulumi/pulumi/automation";
import { BuildkitdFleetArgs, EarthlyRemoteJob } from "../../components";
import { BuildkitRegistry, PersistentCache } from "../../components";
import { cacheClaimNames } from "../../components/fleet/cacheVolume";
import { FleetNames, fleetNames } from "../../components/fleet/names";
import { pickInstance } from "../../components/fleet/pinning";
import { Toleration, TolerationOperator } from "../../components/pods/scheduling";
import { BUILDER_NAMESPACE, BUILDER_POOL, CLIENT_NAMESPACE, FLEET_NAME } from "../../stacks/demoArgs";
import { ControlPlane } from "../engine/controlPlane";
import { FleetPems, fleetPems } from "../engine/certificates";
import { fleetOnBuilders } from "../engine/programs";
import { NODE_VERSIONS, nodeBuilds } from "./binaries";
import { NodeFixture } from "./fixture";
import { NODE_IMAGES, buildClientImage, buildkitdImage } from "./images";
import { finishedLog } from "./probe";
import { nodeVolume } from "./volumes";

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
  /** The workload's BASE build argument: the image the `pulled` stage starts `FROM`. */
  base?: string;
  /** Push the built stage to this image name instead of exporting its files. */
  push?: string;
  /** Tries to reach the daemon, a second apart (default the client's: 60, as Earthly waits 60 s). */
  connectTries?: number;
  /**
   * A Docker config (`.dockerconfigjson`) for the client: made a `kubernetes.io/dockerconfigjson`
   * Secret and given as `dockerConfigSecret`, as users give registry credentials.
   */
  dockerConfigJson?: string;
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
  /** The tries the client made to reach the daemon (it stops at the first answer). */
  connectTries: number;
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
    connectTries: Number(value("connect.tries")),
    artifact: value("artifact"),
    stepsRun: [...log.matchAll(STEP_OUTPUT)].map((m) => Number(m[1])),
    log,
  };
}

/** The fleet under test (the demo's fleet name and namespace, certificates made for it). */
export interface FleetUnderTest {
  replicas: number;
  /** The cache claims are bound to local volumes the bench makes (and removes). */
  persistentCache?: PersistentCache;
  buildkitRegistries?: { [host: string]: BuildkitRegistry };
  /** Any other arguments of the fleet (its scratch volume, cache size, MTU, ...). */
  more?: Partial<BuildkitdFleetArgs>;
}

/** The names of a fleet under test of `replicas` instances. */
export function namesOf(replicas: number): FleetNames {
  return fleetNames({ fleetName: FLEET_NAME, namespace: BUILDER_NAMESPACE, replicas });
}

/** A cache key the component pins to instance `i` (found by its own rendezvous hashing). */
export function cacheKeyFor(project: string, i: number, names: FleetNames): string {
  for (let n = 0; ; n++) {
    const key = `${project}-${n}`;
    if (pickInstance(key, names.instanceNames) === names.instanceNames[i]) return key;
  }
}

/**
 * The claim the StatefulSet makes for instance `i`, by the component's own naming (the fleet's
 * `cacheClaims` output): the local volumes below are bound to these names before the StatefulSet
 * exists, so a build served from its claim proves the names are the controller's.
 */
export function cacheClaimOf(i: number, names: FleetNames): string {
  return cacheClaimNames(names.instanceNames, true)[i];
}

/** A deployed fleet and a way to run one client build after another against it. */
export interface BuildBench {
  names: FleetNames;
  /** Runs one client build in a fresh pod and returns what it printed, once its pod has finished. */
  run(client: ClientRun): Promise<ClientResult>;
  /** Each instance's worker ID, read from its cache folder. */
  workerIds(): string[];
  /** A new, empty local volume for claim `claim` (made again after it was deleted). */
  newCacheVolume(claim: string): void;
  destroy(): Promise<void>;
}

/** The CA material of the fleet under test (made fresh). */
export function fleetUnderTestPems(replicas: number): Promise<FleetPems> {
  return fleetPems({ fleetName: FLEET_NAME, namespace: BUILDER_NAMESPACE, replicas });
}

/**
 * In a Pulumi program: the demo's builder and client namespaces and the fleet (Earthly's buildkitd
 * image, mTLS with `pems`) on the builder pool, serving the client namespace.
 */
export function fleetProgram(cp: ControlPlane, fleetSpec: FleetUnderTest, pems: FleetPems) {
  return fleetOnBuilders(cp, pems, {
    replicas: fleetSpec.replicas,
    imageRepository: NODE_IMAGES.buildkitdRepository,
    persistentCache: fleetSpec.persistentCache,
    buildkitRegistries: fleetSpec.buildkitRegistries,
    ...fleetSpec.more,
  });
}

/** The client Jobs' tolerations here: one node, so they tolerate the builder pool's taint. */
export const ONE_NODE_TOLERATIONS: Toleration[] = BUILDER_POOL.taints!.map((t) => ({
  ...t,
  operator: TolerationOperator.Equal,
}));

/**
 * Deploys the fleet (and the client namespace) in one stack whose client changes at every run, after
 * importing Earthly's buildkitd and the build client's images and, for `persistentCache`, making a
 * local volume for every instance's claim.
 */
export async function deployBuildBench(
  node: NodeFixture,
  fleetSpec: FleetUnderTest,
  stackName: string,
): Promise<BuildBench> {
  const { cp, importImage } = node.cluster;
  const builds = nodeBuilds();
  importImage(buildkitdImage(builds, NODE_VERSIONS.earthly));
  importImage(buildClientImage(builds));
  const names = namesOf(fleetSpec.replicas);
  const pems = await fleetUnderTestPems(fleetSpec.replicas);
  const volumes = fs.mkdtempSync(path.join(os.tmpdir(), "node-tier-cache-"));
  const generations = new Map<string, number>();
  const newCacheVolume = (claim: string) => {
    const generation = generations.get(claim) ?? 0;
    generations.set(claim, generation + 1);
    cacheVolume(cp, { root: volumes, claim, generation });
  };
  if (fleetSpec.persistentCache)
    for (let i = 0; i < fleetSpec.replicas; i++) newCacheVolume(cacheClaimOf(i, names));
  let client: (ClientRun & { id: number }) | undefined;
  const stack: Stack = await node.env.stack(stackName, async () => {
    const { k8s, clients, fleet } = fleetProgram(cp, fleetSpec, pems);
    if (!client) return {};
    const env = [
      ...(client.megabytes !== undefined
        ? [{ name: "BUILD_MEGABYTES", value: String(client.megabytes) }]
        : []),
      ...(client.serverName !== undefined ? [{ name: "BUILD_SERVER_NAME", value: client.serverName }] : []),
      ...(client.base !== undefined ? [{ name: "BUILD_BASE", value: client.base }] : []),
      ...(client.push !== undefined ? [{ name: "BUILD_PUSH", value: client.push }] : []),
      ...(client.connectTries !== undefined
        ? [{ name: "BUILD_CONNECT_TRIES", value: String(client.connectTries) }]
        : []),
    ];
    const credentials =
      client.dockerConfigJson === undefined
        ? undefined
        : new kubernetes.core.v1.Secret(
            "registry-credentials",
            {
              metadata: { name: "registry-credentials", namespace: clients.metadata.name },
              type: "kubernetes.io/dockerconfigjson",
              stringData: { ".dockerconfigjson": pulumi.secret(client.dockerConfigJson) },
            },
            k8s,
          );
    const job = new EarthlyRemoteJob(
      "client",
      {
        namespace: clients.metadata.name,
        target: client.target ?? "+build",
        image: NODE_IMAGES.buildClient,
        fleet: fleet.connection,
        cacheKey: client.cacheKey,
        dockerConfigSecret: credentials ? "registry-credentials" : undefined,
        clientCertPem: client.clientCert?.certPem ?? pems.clientCertPem,
        clientPrivateKeyPem: pulumi.secret(client.clientCert?.keyPem ?? pems.clientPrivateKeyPem),
        // This tier waits for the pod itself (a failing build is a result here, not an error).
        waitForCompletion: false,
        backoffLimit: 0,
        rebuildTrigger: `run-${client.id}`,
        scheduling: { tolerations: ONE_NODE_TOLERATIONS },
        env,
      },
      { ...k8s, dependsOn: credentials ? [credentials] : [] },
    );
    return { jobName: job.jobName, host: job.buildkitHost };
  });
  await stack.up();
  let runs = 0;
  return {
    names,
    newCacheVolume,
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
      try {
        await stack.destroy();
      } finally {
        fs.rmSync(volumes, { recursive: true, force: true });
      }
    },
  };
}

/** The storage class of the fleet's cache claims here: no provisioner, volumes made by hand. */
export const CACHE_CLASS = "node-tier-cache";

/**
 * A local PersistentVolume on the node, at a fresh folder under `root`, reserved for the fleet's claim
 * `claim` (a claim made again later gets a volume of a new `generation`). Returns its name.
 */
function cacheVolume(cp: ControlPlane, volume: { root: string; claim: string; generation: number }): string {
  const name = `${volume.claim}-${volume.generation}`;
  const dir = path.join(volume.root, name);
  fs.mkdirSync(dir, { recursive: true });
  const pv = {
    apiVersion: "v1",
    kind: "PersistentVolume",
    ...nodeVolume(
      name,
      "local",
      dir,
      { namespace: BUILDER_NAMESPACE, name: volume.claim },
      {
        storageClassName: CACHE_CLASS,
        capacity: "10Gi",
      },
    ),
  };
  cp.kubectl(["apply", "-f", "-"], JSON.stringify(pv));
  return name;
}
