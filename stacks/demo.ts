/**
 * The demo program: a kind cluster with a tainted builder pool, and an Earthly build in it, either
 * all-in-one (stack `aio`) or on a remote buildkitd fleet over mTLS (stack `remote`).
 */
import * as command from "@pulumi/command";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  BuildkitCertificateAuthority,
  EarthlyAllInOneJob,
  EarthlyRemoteJob,
  KindCluster,
  NodePool,
  RemoteBuildkitd,
  TaintEffect,
  podSecurityNamespace,
} from "../components";
import { JOB_LOGS_SCRIPT, jobLogsEnvironment } from "../components/lib/kindScripts";
import { DemoConfig } from "./config";

/** The demo's builder pool: labelled and tainted so only build pods land there. */
export const BUILDER_POOL: NodePool = {
  name: "builders",
  labels: { "earthly.dev/role": "builder" },
  taints: [{ key: "earthly.dev/builder", value: "true", effect: TaintEffect.NoSchedule }],
};

/** Where privileged builders run, and where unprivileged clients run. */
export const BUILDER_NAMESPACE = "earthly-builds";
export const CLIENT_NAMESPACE = "earthly-clients";
/** The remote fleet's name, and the client certificate the demo issues. */
export const FLEET_NAME = "buildkitd";
export const CLIENT_NAME = "earthly";

/** How many log lines the `buildLog` output keeps. */
const LOG_TAIL_LINES = 60;

function namespace(name: string, level: "privileged" | "baseline", opts: pulumi.CustomResourceOptions) {
  const object = podSecurityNamespace(name, level);
  return new kubernetes.core.v1.Namespace(
    name,
    { metadata: object.metadata as kubernetes.types.input.meta.v1.ObjectMeta },
    opts,
  );
}

/** Reads the tail of a finished Job's log into a stack output. */
function jobLog(
  name: string,
  cluster: KindCluster,
  job: { jobName: pulumi.Output<string>; namespace: pulumi.Output<string> },
  dependsOn: pulumi.Resource[],
): pulumi.Output<string> {
  const log = new command.local.Command(
    name,
    {
      create: JOB_LOGS_SCRIPT,
      environment: pulumi
        .all([cluster.kubeconfig, job.namespace, job.jobName])
        .apply(([kubeconfig, ns, jobName]) =>
          jobLogsEnvironment({ kubeconfig, namespace: ns, jobName, tailLines: LOG_TAIL_LINES }),
        ),
      // A new Job (new name) is a new build: read its log again.
      triggers: [job.jobName],
      logging: "none",
    },
    { dependsOn },
  );
  // The environment carries the kubeconfig, so Pulumi treats outputs as secret; the log is not.
  return pulumi.unsecret(log.stdout);
}

/** The command that follows the build's log from a terminal. */
function followCommand(
  cluster: KindCluster,
  job: { jobName: pulumi.Output<string>; namespace: pulumi.Output<string> },
) {
  return pulumi.interpolate`kubectl --context ${cluster.kubeContext} --namespace ${job.namespace} logs --follow job/${job.jobName}`;
}

/** A build Job's stack outputs: its name, how to follow it, and the end of its log. */
function jobOutputs(cluster: KindCluster, job: EarthlyAllInOneJob | EarthlyRemoteJob) {
  return {
    jobName: job.jobName,
    followCommand: followCommand(cluster, job),
    buildLog: jobLog("build-log", cluster, job, [job]),
  };
}

/** Builds the demo and returns its stack outputs. */
export function demo(config: DemoConfig): { [output: string]: pulumi.Output<unknown> } {
  const cluster = new KindCluster("cluster", {
    clusterName: config.clusterName,
    workerPools: [BUILDER_POOL],
  });
  const k8s = { provider: cluster.provider };
  const builders = namespace(BUILDER_NAMESPACE, "privileged", k8s);
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
        cniMtu: config.cniMtu,
        scheduling: builderScheduling,
      },
      k8s,
    );
    return { ...common, ...jobOutputs(cluster, job) };
  }

  const clients = namespace(CLIENT_NAMESPACE, "baseline", k8s);
  const ca = new BuildkitCertificateAuthority("buildkit-ca", {
    server: { fleetName: FLEET_NAME, namespace: BUILDER_NAMESPACE, replicas: config.replicas },
    clients: [CLIENT_NAME],
  });
  const fleet = new RemoteBuildkitd(
    FLEET_NAME,
    {
      namespace: BUILDER_NAMESPACE,
      replicas: config.replicas,
      earthlyVersion: config.earthlyVersion,
      cniMtu: config.cniMtu,
      scheduling: builderScheduling,
      sessionAffinityTimeoutSeconds: config.sessionAffinityTimeoutSeconds,
      tls: {
        caCertPem: ca.caCertPem,
        serverCertPem: ca.serverCertPem,
        serverPrivateKeyPem: ca.serverPrivateKeyPem,
      },
      clientNamespaces: [CLIENT_NAMESPACE],
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
      clientCertPem: clientCertificate.certPem,
      clientPrivateKeyPem: clientCertificate.privateKeyPem,
    },
    k8s,
  );
  return {
    ...common,
    ...jobOutputs(cluster, job),
    buildkitHost: fleet.buildkitHost,
    instanceHosts: fleet.instanceHosts,
    caCertPem: fleet.caCertPem,
    clientCertPem: pulumi.secret(clientCertificate.certPem),
    clientPrivateKeyPem: pulumi.secret(clientCertificate.privateKeyPem),
    laptopSetup: laptopSetup(cluster, fleet),
  };
}

/**
 * How a developer uses the fleet from a laptop: Earthly treats localhost as local and would start
 * its own daemon, so the fleet's DNS name is pointed at 127.0.0.1 and reached via port-forward.
 */
function laptopSetup(cluster: KindCluster, fleet: RemoteBuildkitd): pulumi.Output<string> {
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
