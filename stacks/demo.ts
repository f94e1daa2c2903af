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
  BuildkitdFleet,
} from "../components";
import { securedNamespace } from "./namespaces";
import { buildOutputs } from "./buildOutputs";
import {
  BUILDER_NAMESPACE,
  BUILDER_POOL,
  BUILD_TIMEOUT_MINUTES,
  CLIENT_NAME,
  CLIENT_NAMESPACE,
  DemoConfig,
  FLEET_NAME,
  allInOneJobArgs,
  clusterArgs,
  fleetArgs,
  remoteJobArgs,
} from "./demoArgs";

/** Minutes the demo waits: a little longer, so a build that runs out of time is reported as failed. */
const BUILD_WAIT_MINUTES = BUILD_TIMEOUT_MINUTES + 1;

/** Builds the demo and returns its stack outputs. */
export function demo(config: DemoConfig): { [output: string]: pulumi.Output<unknown> } {
  const cluster = new KindCluster("cluster", clusterArgs(config));
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
      allInOneJobArgs(config, builders.metadata.name, builderScheduling),
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
  const fleet = new BuildkitdFleet(FLEET_NAME, fleetArgs(config, builderScheduling, ca.issuer), {
    ...k8s,
    dependsOn: [builders],
  });
  const clientCertificate = ca.clientCertificates.apply((certs) => certs[CLIENT_NAME]);
  const job = new EarthlyRemoteJob(
    "build",
    remoteJobArgs(config, clients.metadata.name, fleet.connection, {
      certPem: clientCertificate.certPem,
      privateKeyPem: clientCertificate.privateKeyPem,
    }),
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
