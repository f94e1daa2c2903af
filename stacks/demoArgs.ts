/**
 * The arguments the demo gives each component, built from its configuration in one place: the
 * program passes them with the cluster's and the CA's real outputs, and the configuration check
 * (`config.ts`) passes them with stand-ins first, so the components' own rules judge exactly what
 * will be deployed before anything is created.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BuildkitdFleetArgs,
  CertificateIssuer,
  EarthlyAllInOneJobArgs,
  EarthlyRemoteJobArgs,
  FleetConnection,
  KindClusterArgs,
  NodePool,
  Scheduling,
  TaintEffect,
} from "../components";
import type { BuildSecret, GitCredentials } from "../components";

/** How the demo builds. */
export type DemoMode = "aio" | "remote";

/** The demo's settings after defaults. */
export interface DemoConfig {
  mode: DemoMode;
  clusterName: string;
  earthlyVersion: string;
  target: string;
  cniMtu?: number;
  replicas: number;
  cacheKey?: string;
  sessionAffinityTimeoutSeconds: number;
  /** Any text; a new value runs the build again (see `REBUILD_COMMAND` in demo.ts). */
  rebuild?: string;
  /** Pins the `earthly/earthly` image (all-in-one and client) to this digest, `sha256:<64 hex>`. */
  earthlyImageDigest?: string;
  /** Pins the fleet's `earthly/buildkitd` image to this digest, `sha256:<64 hex>`. */
  buildkitdImageDigest?: string;
  /** Build secrets from Secrets in the build's namespace: `NAME=secret/key[,NAME=secret/key...]`. */
  buildSecrets?: BuildSecret[];
  /** An existing PersistentVolumeClaim in the build's namespace for the build's local outputs. */
  artifactsClaim?: string;
  /**
   * Private Git from Secrets you create (docs/git-and-registries.md): `gitHttps` is
   * `host=secret[,host=secret...]` (basic-auth Secrets), `gitSsh` is `host[+host...]=secret` (an
   * ssh-auth Secret) with `gitKnownHosts`, a ConfigMap holding `known_hosts`.
   */
  gitCredentials?: GitCredentials;
  /** A `kubernetes.io/dockerconfigjson` Secret in the build's namespace, for `--push` and private bases. */
  dockerConfigSecret?: string;
  /** A pull Secret for the Earthly images (a private mirror), on every workload. */
  imagePullSecret?: string;
  /** A Docker Hub mirror for BuildKit (the all-in-one's or the fleet's), e.g. `mirror.gcr.io`. */
  registryMirror?: string;
}

/** The demo's builder pool: labelled and tainted so only build pods land there. */
export const BUILDER_POOL: NodePool = {
  name: "builders",
  labels: { "earthly.dev/role": "builder" },
  taints: [{ key: "earthly.dev/builder", value: "true", effect: TaintEffect.NoSchedule }],
};

/**
 * The demo's ordinary pool, untainted: kind keeps the control plane tainted once a cluster has
 * workers, so without it an ordinary pod (the remote client Job) would find no node.
 */
export const GENERAL_POOL: NodePool = {
  name: "general",
  labels: { "earthly.dev/role": "general" },
};

/** Where privileged builders run, and where unprivileged clients run. */
export const BUILDER_NAMESPACE = "earthly-builds";
export const CLIENT_NAMESPACE = "earthly-clients";
/** The remote fleet's name, and the client certificate the demo issues. */
export const FLEET_NAME = "buildkitd";
export const CLIENT_NAME = "earthly";

/**
 * The demo's build caches: 10Gi of node disk (buildkitd's cache stops at 80% of it), since a kind node
 * on a laptop or CI runner rarely has the 40Gi the components default to for a real builder.
 */
export const DEMO_SCRATCH = { emptyDir: { sizeLimit: "10Gi" } };

/** Minutes a demo build may run: Kubernetes stops it then (the Job fails with DeadlineExceeded). */
export const BUILD_TIMEOUT_MINUTES = 30;

/** The kind cluster: the builder pool and the general pool. */
export function clusterArgs(config: DemoConfig): KindClusterArgs {
  return { clusterName: config.clusterName, workerPools: [BUILDER_POOL, GENERAL_POOL] };
}

/** What both demo Jobs share: the demo waits for the build itself, and `rebuild` reruns it. */
function buildJobArgs(config: DemoConfig) {
  return {
    waitForCompletion: false,
    // A build the demo stops waiting for must not go on running unseen.
    activeDeadlineSeconds: BUILD_TIMEOUT_MINUTES * 60,
    ...(config.rebuild !== undefined ? { rebuildTrigger: config.rebuild } : {}),
    // Production features, against Secrets and a claim the user creates (docs/production.md).
    ...(config.buildSecrets !== undefined ? { buildSecrets: config.buildSecrets } : {}),
    ...(config.artifactsClaim !== undefined ? { artifacts: { claimName: config.artifactsClaim } } : {}),
    // Private Git and registries, against Secrets the user creates (docs/git-and-registries.md).
    ...(config.gitCredentials !== undefined ? { gitCredentials: config.gitCredentials } : {}),
    ...(config.dockerConfigSecret !== undefined ? { dockerConfigSecret: config.dockerConfigSecret } : {}),
    ...pullSecretArgs(config),
  };
}

/** The pull secret for the Earthly images, on every workload. */
function pullSecretArgs(config: DemoConfig) {
  return config.imagePullSecret !== undefined ? { imagePullSecrets: [config.imagePullSecret] } : {};
}

/** BuildKit's Docker Hub mirror, for the daemon that pulls (the all-in-one's or the fleet's). */
function mirrorArgs(config: DemoConfig) {
  return config.registryMirror !== undefined
    ? { buildkitRegistries: { "docker.io": { mirrors: [config.registryMirror] } } }
    : {};
}

/** The all-in-one build, in the builders' namespace and pool. */
export function allInOneJobArgs(
  config: DemoConfig,
  namespace: pulumi.Input<string>,
  scheduling: pulumi.Input<Scheduling> | undefined,
): EarthlyAllInOneJobArgs {
  return {
    namespace,
    target: config.target,
    earthlyVersion: config.earthlyVersion,
    imageDigest: config.earthlyImageDigest,
    cniMtu: config.cniMtu,
    scheduling,
    scratchVolume: DEMO_SCRATCH,
    ...buildJobArgs(config),
    ...mirrorArgs(config),
  };
}

/** The fleet, in the builders' namespace and pool, issuing its certificate from the demo's CA. */
export function fleetArgs(
  config: DemoConfig,
  scheduling: pulumi.Input<Scheduling> | undefined,
  issuer: pulumi.Input<CertificateIssuer>,
): BuildkitdFleetArgs {
  return {
    namespace: BUILDER_NAMESPACE,
    replicas: config.replicas,
    earthlyVersion: config.earthlyVersion,
    cniMtu: config.cniMtu,
    scheduling,
    scratchVolume: DEMO_SCRATCH,
    sessionAffinityTimeoutSeconds: config.sessionAffinityTimeoutSeconds,
    // The fleet issues its own server certificate from the CA, for exactly the names it serves.
    tls: { issuer },
    clientNamespaces: [CLIENT_NAMESPACE],
    imageDigest: config.buildkitdImageDigest,
    ...pullSecretArgs(config),
    ...mirrorArgs(config),
  };
}

/** The unprivileged client, in the clients' namespace, on the fleet with the demo's certificate. */
export function remoteJobArgs(
  config: DemoConfig,
  namespace: pulumi.Input<string>,
  fleet: pulumi.Input<FleetConnection>,
  clientCertificate: { certPem: pulumi.Input<string>; privateKeyPem: pulumi.Input<string> },
): EarthlyRemoteJobArgs {
  return {
    namespace,
    target: config.target,
    fleet,
    cacheKey: config.cacheKey,
    imageDigest: config.earthlyImageDigest,
    clientCertPem: clientCertificate.certPem,
    clientPrivateKeyPem: clientCertificate.privateKeyPem,
    ...buildJobArgs(config),
  };
}
