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
import { BUILD_RESULT_COMMAND, BuildResult, buildResultEnvironment, parseBuildResult } from "./buildResult";
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

/** How many log lines the `buildLog` output and a failure message keep. */
export const LOG_TAIL_LINES = 60;
/** Minutes the demo waits for its build. */
const BUILD_TIMEOUT_MINUTES = 30;

function namespace(name: string, level: "privileged" | "baseline", opts: pulumi.CustomResourceOptions) {
  const object = podSecurityNamespace(name, level);
  return new kubernetes.core.v1.Namespace(
    name,
    { metadata: object.metadata as kubernetes.types.input.meta.v1.ObjectMeta },
    opts,
  );
}

/** A build Job as the demo's outputs see it. */
type BuildJob = EarthlyAllInOneJob | EarthlyRemoteJob;

/** The command that follows the build's log from a terminal. */
function followCommand(cluster: KindCluster, job: BuildJob): pulumi.Output<string> {
  return pulumi.interpolate`kubectl --context ${cluster.kubeContext} --namespace ${job.namespace} logs --follow job/${job.jobName}`;
}

/** The one command that runs the build again (a new rebuild trigger replaces the Job). */
export const REBUILD_COMMAND = 'pulumi config set rebuild "$(date +%s)" && pulumi up';

/** Where a build ran, for the messages that point at it. */
export interface BuildLocation {
  kubeContext: string;
  namespace: string;
  jobName: string;
}

/**
 * The error a build that did not succeed fails `pulumi up` with: the reason first, then the end of
 * the log, then where to read all of it and how to run the build again.
 */
export function buildFailureMessage(result: BuildResult, at: BuildLocation): string {
  const kubectl = `kubectl --context ${at.kubeContext} --namespace ${at.namespace}`;
  const what = `job/${at.jobName} in namespace ${at.namespace} (context ${at.kubeContext})`;
  const headline = {
    failed: `The Earthly build failed: ${what} reached its retry limit.`,
    timeout: `The Earthly build did not finish in time: ${what}.`,
    unknown: `The Earthly build's result is unknown: ${what} could not be read.`,
    succeeded: `The Earthly build succeeded: ${what}.`,
  }[result.result];
  const lines = [headline];
  if (result.detail) lines.push(`Detail: ${result.detail}`);
  if (result.log.trim() !== "") {
    lines.push(`Last ${LOG_TAIL_LINES} lines of the log of pod/${result.pod}:`, result.log.trimEnd());
  }
  lines.push(
    `The whole log: ${kubectl} logs ${result.pod ? `pod/${result.pod}` : `job/${at.jobName}`} --all-containers`,
    `Run the build again: ${REBUILD_COMMAND}`,
  );
  return lines.join("\n");
}

/**
 * Waits for the build (the Job itself is created without the provider's wait, so that its outputs
 * exist whatever the build does), puts the end of its log into the outputs, and fails the
 * deployment with that log when the build did not succeed.
 */
function buildOutputs(cluster: KindCluster, job: BuildJob, timeoutMinutes: number) {
  const waiter = new command.local.Command(
    "build-result",
    {
      create: BUILD_RESULT_COMMAND,
      environment: pulumi
        .all([cluster.kubeconfig, job.namespace, job.jobName])
        .apply(([kubeconfig, ns, jobName]) =>
          buildResultEnvironment({
            kubeconfig,
            namespace: ns,
            jobName,
            tailLines: LOG_TAIL_LINES,
            timeoutSeconds: timeoutMinutes * 60,
          }),
        ),
      // A new Job (new name) is a new build: wait for it and read its log again.
      triggers: [job.jobName],
      // The environment holds the kubeconfig; stdout is parsed below, stderr only has our messages.
      logging: "stderr",
      addPreviousOutputInEnv: false,
    },
    { dependsOn: [job] },
  );
  // The environment carries the kubeconfig, so Pulumi treats outputs as secret; the report is not.
  const result = pulumi.unsecret(waiter.stdout).apply(parseBuildResult);
  pulumi
    .all([result, cluster.kubeContext, job.namespace, job.jobName])
    .apply(([r, kubeContext, namespace, jobName]) => {
      if (r.result !== "succeeded") {
        // An error diagnostic fails `pulumi up` after the outputs are saved, so they stay readable.
        pulumi.log.error(buildFailureMessage(r, { kubeContext, namespace, jobName }), job);
      }
    });
  return {
    jobName: job.jobName,
    followCommand: followCommand(cluster, job),
    buildResult: result.apply((r) => r.result),
    buildLog: result.apply((r) => r.log || `(no log: ${r.detail})`),
    rebuildCommand: pulumi.output(REBUILD_COMMAND),
  };
}

/** What both demo Jobs share: the demo waits for the build itself, and `rebuild` reruns it. */
function buildJobArgs(config: DemoConfig) {
  return {
    waitForCompletion: false,
    timeoutMinutes: BUILD_TIMEOUT_MINUTES,
    ...(config.rebuild !== undefined ? { rebuildTrigger: config.rebuild } : {}),
  };
}

/** Builds the demo and returns its stack outputs. */
export function demo(config: DemoConfig): { [output: string]: pulumi.Output<unknown> } {
  const cluster = new KindCluster("cluster", {
    clusterName: config.clusterName,
    workerPools: [BUILDER_POOL, GENERAL_POOL],
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
        ...buildJobArgs(config),
      },
      k8s,
    );
    return { ...common, ...buildOutputs(cluster, job, BUILD_TIMEOUT_MINUTES) };
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
      ...buildJobArgs(config),
    },
    k8s,
  );
  return {
    ...common,
    ...buildOutputs(cluster, job, BUILD_TIMEOUT_MINUTES),
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
