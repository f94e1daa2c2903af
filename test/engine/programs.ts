/**
 * The inline programs the real-engine tier and its benchmark deploy: every Kubernetes resource goes
 * through an explicit provider for the tier's control plane, never an ambient kubeconfig.
 */
import { spawnSync } from "node:child_process";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { PulumiFn } from "@pulumi/pulumi/automation";
import {
  EarthlyAllInOneJob,
  EarthlyAllInOneJobArgs,
  EarthlyRemoteJob,
  BuildkitdFleet,
  BuildkitdFleetArgs,
  FleetConnection,
} from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { BUILDER_NAMESPACE, BUILDER_POOL, CLIENT_NAMESPACE, FLEET_NAME } from "../../stacks/demoArgs";
import { securedNamespace } from "../../stacks/namespaces";
import { BUILD_RESULT_COMMAND } from "../../stacks/buildResult";
import { RunWaiter } from "../../stacks/buildOutputs";
import { FleetPems } from "./certificates";
import { ControlPlane } from "./controlPlane";

/** The provider for the tier's control plane (its kubeconfig as a secret). */
export function engineProvider(cp: ControlPlane): kubernetes.Provider {
  return new kubernetes.Provider("engine", { kubeconfig: pulumi.secret(cp.kubeconfig) });
}

/**
 * Inside a program: an all-in-one Job named `build` on the builder pool, in a new namespace
 * enforcing `privileged`, building `+build` unless `args` say otherwise.
 */
export function allInOneOnBuilders(
  cp: ControlPlane,
  namespace: string,
  args: Partial<EarthlyAllInOneJobArgs> = {},
): EarthlyAllInOneJob {
  const k8s = { provider: engineProvider(cp) };
  const builders = securedNamespace(namespace, "privileged", k8s);
  return new EarthlyAllInOneJob(
    "build",
    {
      namespace: builders.metadata.name,
      target: "+build",
      scheduling: schedulingForPool(BUILDER_POOL),
      ...args,
    },
    k8s,
  );
}

/** What varies in {@link remoteProgram}. */
export interface RemoteProgramOptions {
  replicas: number;
  /** CA material for the fleet's bring-your-own-CA path, made for `replicas` instances. */
  pems: FleetPems;
  sessionAffinityTimeoutSeconds?: number;
}

/**
 * In a program: the demo's builder namespace (Pod Security `privileged`) and client namespace
 * (`restricted`, as in the demo), and the fleet on the builder pool with mTLS from `pems`, serving
 * the client namespace; `args` adds to or replaces the fleet's arguments.
 */
export function fleetOnBuilders(cp: ControlPlane, pems: FleetPems, args: Partial<BuildkitdFleetArgs> = {}) {
  const k8s = { provider: engineProvider(cp) };
  const builders = securedNamespace(BUILDER_NAMESPACE, "privileged", k8s);
  const clients = securedNamespace(CLIENT_NAMESPACE, "restricted", k8s);
  const fleet = new BuildkitdFleet(
    FLEET_NAME,
    {
      namespace: BUILDER_NAMESPACE,
      scheduling: schedulingForPool(BUILDER_POOL),
      tls: {
        caCertPem: pems.caCertPem,
        serverCertPem: pems.serverCertPem,
        serverPrivateKeyPem: pulumi.secret(pems.serverPrivateKeyPem),
      },
      clientNamespaces: [CLIENT_NAMESPACE],
      ...args,
    },
    { ...k8s, dependsOn: [builders] },
  );
  return { k8s, clients, fleet };
}

/**
 * The demo's remote mode on the tier: the builder and client namespaces, a fleet on the builder
 * pool with mTLS, and a client Job. Outputs the Job's name and the fleet's host.
 */
export function remoteProgram(cp: ControlPlane, options: RemoteProgramOptions): PulumiFn {
  return async () => {
    const { k8s, clients, fleet } = fleetOnBuilders(cp, options.pems, {
      replicas: options.replicas,
      sessionAffinityTimeoutSeconds: options.sessionAffinityTimeoutSeconds,
    });
    const job = new EarthlyRemoteJob(
      "build",
      {
        namespace: clients.metadata.name,
        target: "+build",
        // A build that cannot finish fails the test in minutes, not after the default half hour.
        timeoutMinutes: 5,
        fleet: fleet.connection,
        clientCertPem: options.pems.clientCertPem,
        clientPrivateKeyPem: pulumi.secret(options.pems.clientPrivateKeyPem),
      },
      k8s,
    );
    return { jobName: job.jobName, buildkitHost: fleet.buildkitHost };
  };
}

/** A one-instance demo fleet without TLS, as a client Job sees it (no fleet needs to run). */
export const PLAINTEXT_FLEET: FleetConnection = {
  fleetName: FLEET_NAME,
  namespace: BUILDER_NAMESPACE,
  buildkitHost: "tcp://buildkitd.earthly-builds.svc.cluster.local:8372",
  instanceNames: ["buildkitd-0"],
  instanceHosts: ["buildkitd-0.buildkitd-instances.earthly-builds.svc.cluster.local"],
  earthlyVersion: "v0.8.16",
  tlsEnabled: false,
  caCertPem: "",
  clientLabels: {},
};

/**
 * The demo's waiter script, run by the program itself (the tiers have no command provider), with
 * `kubectlDir` first on PATH. Like a Command about to run, it has no report in a preview.
 */
export function programWaiter(kubectlDir: string): RunWaiter {
  return (environment) => ({
    stdout: environment.apply((waiterEnv) => {
      if (pulumi.runtime.isDryRun()) return pulumi.unknown as unknown as string;
      const r = spawnSync("/bin/sh", ["-c", BUILD_RESULT_COMMAND], {
        env: { ...process.env, PATH: `${kubectlDir}:${process.env.PATH}`, ...waiterEnv },
        stdio: ["ignore", "pipe", "pipe"],
        encoding: "utf8",
      });
      if (r.status !== 0) throw new Error(`the waiter failed: ${r.stderr}`);
      return r.stdout;
    }),
  });
}
