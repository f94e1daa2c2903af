/**
 * The demo program: a kind cluster with a tainted builder pool, and an Earthly build in it, either
 * all-in-one (stack `aio`) or on a remote buildkitd fleet over mTLS (stack `remote`).
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BuildkitCertificateAuthority,
  EarthlyAllInOneJob,
  EarthlyRemoteJob,
  KindCluster,
  NodePool,
  BuildkitdFleet,
  TaintEffect,
} from "../components";
import { securedNamespace } from "./namespaces";
import { buildOutputs } from "./buildOutputs";
import { DemoConfig } from "./config";

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
const BUILD_TIMEOUT_MINUTES = 30;
/** Minutes the demo waits: a little longer, so a build that runs out of time is reported as failed. */
const BUILD_WAIT_MINUTES = BUILD_TIMEOUT_MINUTES + 1;

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
    ...registryArgs(config),
  };
}

/** The pull secret (every workload) and the Docker Hub mirror (the all-in-one's or the fleet's BuildKit). */
function registryArgs(config: DemoConfig) {
  return config.imagePullSecret !== undefined ? { imagePullSecrets: [config.imagePullSecret] } : {};
}

/** BuildKit's Docker Hub mirror, for the daemon that pulls (the all-in-one's or the fleet's). */
function mirrorArgs(config: DemoConfig) {
  return config.registryMirror !== undefined
    ? { buildkitRegistries: { "docker.io": { mirrors: [config.registryMirror] } } }
    : {};
}

/** Builds the demo and returns its stack outputs. */
export function demo(config: DemoConfig): { [output: string]: pulumi.Output<unknown> } {
  const cluster = new KindCluster("cluster", {
    clusterName: config.clusterName,
    workerPools: [BUILDER_POOL, GENERAL_POOL],
  });
  const k8s = { provider: cluster.provider };
  const builders = securedNamespace(BUILDER_NAMESPACE, "privileged", k8s);
  const builderScheduling = cluster.poolScheduling.apply((pools) => pools[BUILDER_POOL.name]);
  const common = {
    clusterName: cluster.clusterName,
    kubeContext: cluster.kubeContext,
    kubeconfig: cluster.kubeconfig,
  };

  if (config.mode === "aio") {
    const job = new EarthlyAllInOneJob(
      "build",
      {
        namespace: builders.metadata.name,
        target: config.target,
        earthlyVersion: config.earthlyVersion,
        imageDigest: config.earthlyImageDigest,
        cniMtu: config.cniMtu,
        scheduling: builderScheduling,
        scratchVolume: DEMO_SCRATCH,
        ...buildJobArgs(config),
        ...mirrorArgs(config),
      },
      k8s,
    );
    return {
      ...common,
      ...buildOutputs(cluster, job, { timeoutMinutes: BUILD_WAIT_MINUTES }),
      ...(config.artifactsClaim !== undefined ? { artifacts: job.artifacts } : {}),
    };
  }

  // The client needs no privilege: its namespace enforces Pod Security `restricted`.
  const clients = securedNamespace(CLIENT_NAMESPACE, "restricted", k8s);
  const ca = new BuildkitCertificateAuthority("buildkit-ca", { clients: [CLIENT_NAME] });
  const fleet = new BuildkitdFleet(
    FLEET_NAME,
    {
      namespace: BUILDER_NAMESPACE,
      replicas: config.replicas,
      earthlyVersion: config.earthlyVersion,
      cniMtu: config.cniMtu,
      scheduling: builderScheduling,
      scratchVolume: DEMO_SCRATCH,
      sessionAffinityTimeoutSeconds: config.sessionAffinityTimeoutSeconds,
      // The fleet issues its own server certificate from the CA, for exactly the names it serves.
      tls: { issuer: ca.issuer },
      clientNamespaces: [CLIENT_NAMESPACE],
      imageDigest: config.buildkitdImageDigest,
      ...registryArgs(config),
      ...mirrorArgs(config),
    },
    { ...k8s, dependsOn: [builders] },
  );
  const clientCertificate = ca.clientCertificates.apply((certs) => certs[CLIENT_NAME]);
  const job = new EarthlyRemoteJob(
    "build",
    {
      namespace: clients.metadata.name,
      target: config.target,
      fleet: fleet.connection,
      cacheKey: config.cacheKey,
      imageDigest: config.earthlyImageDigest,
      clientCertPem: clientCertificate.certPem,
      clientPrivateKeyPem: clientCertificate.privateKeyPem,
      ...buildJobArgs(config),
    },
    k8s,
  );
  return {
    ...common,
    ...buildOutputs(cluster, job, { timeoutMinutes: BUILD_WAIT_MINUTES }),
    buildkitHost: fleet.buildkitHost,
    instanceHosts: fleet.instanceHosts,
    caCertPem: fleet.caCertPem,
    clientCertPem: pulumi.secret(clientCertificate.certPem),
    clientPrivateKeyPem: pulumi.secret(clientCertificate.privateKeyPem),
    laptopSetup: laptopSetup(cluster, fleet),
    ...(config.artifactsClaim !== undefined ? { artifacts: job.artifacts } : {}),
  };
}

/**
 * How a developer uses the fleet from a laptop: Earthly treats localhost as local and would start
 * its own daemon, so the fleet's DNS name is pointed at 127.0.0.1 and reached via port-forward.
 */
function laptopSetup(cluster: KindCluster, fleet: BuildkitdFleet): pulumi.Output<string> {
  return pulumi.interpolate`# 1. Forward the fleet's port (keep it running):
kubectl --context ${cluster.kubeContext} --namespace ${BUILDER_NAMESPACE} port-forward service/${fleet.serviceName} 8372:8372
# 2. Make the certificate's name resolve to the forward (Earthly treats localhost as local):
echo "127.0.0.1 ${fleet.buildkitHost.apply((h) => new URL(h).hostname)}" | sudo tee -a /etc/hosts
# 3. Save the certificates:
mkdir -p ~/.earthly/certs
pulumi stack output caCertPem > ~/.earthly/certs/ca_cert.pem
pulumi stack output --show-secrets clientCertPem > ~/.earthly/certs/earthly_cert.pem
pulumi stack output --show-secrets clientPrivateKeyPem > ~/.earthly/certs/earthly_key.pem
chmod 600 ~/.earthly/certs/earthly_key.pem
# 4. Add to ~/.earthly/config.yml:
global:
  buildkit_host: ${fleet.buildkitHost}
  tls_enabled: true
  tlsca: certs/ca_cert.pem
  tlscert: certs/earthly_cert.pem
  tlskey: certs/earthly_key.pem
`;
}
