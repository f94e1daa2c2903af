import * as command from "@pulumi/command";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  IpFamily,
  KindConfigInput,
  KindNetworking,
  KubeProxyMode,
  kindConfigHash,
  renderKindConfig,
} from "./kindConfig";
import { kindNodes } from "./nodes";
import {
  KIND_CREATE_COMMAND,
  KIND_DELETE_COMMAND,
  kindCreateEnvironment,
  kindDeleteEnvironment,
} from "./scripts";
import { Scheduling, TaintEffect } from "../pods/scheduling";
import { NodePool, kindNodeLabelsRule, nodePoolRule, nodesAccepting, schedulingForPool } from "./pools";
import { ArgChecks, checkArgs, knownProblems } from "../validation/checks";
import { PLAIN_INPUTS } from "../validation/plainInputs";
import { Problem, Rule } from "../validation/errors";
import {
  booleanValue,
  allOf,
  cidr,
  eachOf,
  imageReference,
  integerBetween,
  ipAddress,
  kindClusterName,
  objectOf,
  oneOf,
  uniqueBy,
} from "../validation/rules";
import { requiredFields } from "../validation/checks";

/** Arguments of {@link KindCluster}. */
export interface KindClusterArgs {
  /** The kind cluster's name (1-40 lower-case letters, digits or '-'); the kube context is `kind-<name>`. */
  clusterName: string;
  /** Node image for every node, e.g. `kindest/node:v1.31.0`; kind's default when unset. */
  nodeImage?: string;
  /** Extra labels for the control-plane node; not the kubelet's own (see `NodePool.labels`). */
  controlPlaneLabels?: { [key: string]: string };
  /**
   * Worker pools besides the control plane, each with labels and taints. A pool for privileged
   * builds is typically tainted `NoSchedule` so only build pods, which tolerate it, land there.
   * kind keeps the control plane's `node-role.kubernetes.io/control-plane:NoSchedule` taint whenever
   * the cluster has workers (it removes it only from a one-node cluster), so keep one pool without
   * `NoSchedule`/`NoExecute` taints for ordinary pods; without one, the component warns.
   */
  workerPools?: NodePool[];
  /** Seconds `kind create cluster --wait` waits for the control plane (default 120). */
  waitSeconds?: number;
  /** Passed through to kind's `networking` section, e.g. `disableDefaultCNI` for Calico users. */
  networking?: KindNetworking;
  /**
   * Take over a cluster of this name that this component did not create, and delete it on destroy.
   * Off by default: an existing cluster is refused rather than adopted and later deleted.
   */
  adoptExisting?: boolean;
}

/** Each cluster's Kubernetes provider (see {@link KindCluster.provider}). */
const providers = new WeakMap<KindCluster, kubernetes.Provider>();

/** The component's type token. */
export const KIND_CLUSTER_TYPE = "earthly-kubernetes:index:KindCluster";

const networkingRule: Rule<KindNetworking> = objectOf<KindNetworking>({
  disableDefaultCNI: booleanValue,
  podSubnet: cidr,
  serviceSubnet: cidr,
  apiServerAddress: ipAddress,
  apiServerPort: integerBetween(1, 65535),
  kubeProxyMode: oneOf(Object.values(KubeProxyMode)),
  ipFamily: oneOf(Object.values(IpFamily)),
});

/** The checks of every argument. */
export const kindClusterChecks: ArgChecks<KindClusterArgs> = {
  rules: {
    adoptExisting: booleanValue,
    clusterName: kindClusterName,
    nodeImage: imageReference,
    controlPlaneLabels: kindNodeLabelsRule,
    workerPools: allOf(
      eachOf(nodePoolRule),
      uniqueBy((p) => p.name, "a pool name not already used"),
    ),
    waitSeconds: integerBetween(0, 3600),
    networking: networkingRule,
  },
  cross: [requiredFields<KindClusterArgs>({ clusterName: "a kind cluster name" })],
  // The cluster's config is a Command's stdin and its name in the Command's triggers: all plain.
  plain: { inputs: PLAIN_INPUTS.KindCluster },
};

/** The kind configuration input for the component's arguments. */
export function kindConfigInputOf(args: KindClusterArgs): KindConfigInput {
  return {
    nodeImage: args.nodeImage,
    controlPlaneLabels: args.controlPlaneLabels,
    workerPools: args.workerPools ?? [],
    networking: args.networking,
  };
}

/** The warning for a cluster in which no node accepts a pod that tolerates nothing. */
export function noUntaintedNodeWarning(
  name: string,
  clusterName: string,
  pools: readonly NodePool[],
): string {
  const repelling = (p: NodePool) =>
    (p.taints ?? [])
      .filter((t) => t.effect !== TaintEffect.PreferNoSchedule)
      .map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`);
  const tainted = pools.map((p) => `${p.name} (${repelling(p).join(", ")})`).join(", ");
  return (
    `KindCluster "${name}": no node of kind cluster '${clusterName}' accepts a pod that tolerates no taint, ` +
    `so such pods (e.g. an unprivileged client Job) stay Pending. Every worker pool is tainted: ${tainted}; ` +
    `and kind keeps node-role.kubernetes.io/control-plane:NoSchedule on the control plane whenever the cluster ` +
    `has workers. Add a worker pool without NoSchedule/NoExecute taints, e.g. { name: "general" }.`
  );
}

/**
 * A local kind cluster, created and deleted with `kind` through `@pulumi/command`, with worker pools
 * whose labels and taints keep privileged builds apart. Exposes the kubeconfig (a secret) and a
 * ready Kubernetes provider.
 */
export class KindCluster extends pulumi.ComponentResource {
  /** The cluster's name. */
  public readonly clusterName: pulumi.Output<string>;
  /** The kube context kind adds to your kubeconfig: `kind-<name>`. */
  public readonly kubeContext: pulumi.Output<string>;
  /** The cluster's kubeconfig (external address), as a secret: it holds a client key. */
  public readonly kubeconfig: pulumi.Output<string>;
  /**
   * A Kubernetes provider for this cluster. A getter, so it stays out of the multi-language schema
   * (the analyzer cannot reference a provider type); other languages build one from `kubeconfig`.
   */
  public get provider(): kubernetes.Provider {
    const provider = providers.get(this);
    if (provider === undefined) throw new Error("KindCluster: the provider is not created yet");
    return provider;
  }
  /** Each worker pool's scheduling (nodeSelector + tolerations), by pool name. */
  public readonly poolScheduling: pulumi.Output<{ [pool: string]: Scheduling }>;
  /**
   * The nodes (by name, e.g. `<cluster>-worker2`) that accept a pod tolerating no taint: those
   * without a `NoSchedule` or `NoExecute` taint. Empty when every worker pool is tainted, since kind
   * then keeps the control plane tainted too.
   */
  public readonly untaintedNodes: pulumi.Output<string[]>;

  /**
   * What the constructor would refuse in these arguments, among the values known now (an Output is
   * checked when it resolves), without registering anything: for checking a configuration before
   * creating any resource. Empty when the known values pass.
   */
  public static argumentProblems(_name: string, args: KindClusterArgs): Problem[] {
    return knownProblems(args, kindClusterChecks);
  }

  constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything here is a plain value: check it all before any resource exists.
    checkArgs(`KindCluster "${name}"`, args, kindClusterChecks);
    super(KIND_CLUSTER_TYPE, name, {}, opts);

    const configInput = kindConfigInputOf(args);
    const configHash = kindConfigHash(configInput);
    const cluster = new command.local.Command(
      `${name}-kind`,
      {
        // Short fixed command lines: a failure quotes the command line, then the script's reason.
        create: KIND_CREATE_COMMAND,
        delete: KIND_DELETE_COMMAND,
        // One environment serves both commands: the scripts and their (non-secret) values.
        environment: {
          ...kindCreateEnvironment({
            clusterName: args.clusterName,
            waitSeconds: args.waitSeconds ?? 120,
            configHash,
            adoptExisting: args.adoptExisting ?? false,
          }),
          ...kindDeleteEnvironment(args.clusterName),
        },
        stdin: renderKindConfig(configInput),
        // A new configuration is a new cluster; other changes (e.g. waitSeconds) re-run the
        // idempotent create script, which finds its own cluster and prints the kubeconfig again.
        triggers: [args.clusterName, configHash],
        // The kubeconfig is on stdout: never log it, and never hand it to the next run of the
        // scripts (the provider would put the previous stdout in PULUMI_COMMAND_STDOUT).
        logging: "stderr",
        addPreviousOutputInEnv: false,
      },
      {
        parent: this,
        additionalSecretOutputs: ["stdout"],
        // Same name, same host ports: the old cluster must go before the new one is made.
        deleteBeforeReplace: true,
      },
    );

    this.clusterName = pulumi.output(args.clusterName);
    this.kubeContext = pulumi.output(`kind-${args.clusterName}`);
    this.kubeconfig = pulumi.secret(cluster.stdout);
    const provider = new kubernetes.Provider(
      `${name}-provider`,
      {
        kubeconfig: this.kubeconfig,
        // A cluster someone deleted by hand must not block `pulumi destroy`.
        deleteUnreachable: true,
        // A new cluster (new command id) replaces the provider, and so everything deployed with it.
        clusterIdentifier: cluster.id,
      },
      { parent: this },
    );
    providers.set(this, provider);
    const pools = args.workerPools ?? [];
    this.poolScheduling = pulumi.output(Object.fromEntries(pools.map((p) => [p.name, schedulingForPool(p)])));
    const untainted = nodesAccepting({}, kindNodes(args.clusterName, configInput)).map((n) => n.name);
    this.untaintedNodes = pulumi.output(untainted);
    if (untainted.length === 0) {
      void pulumi.log.warn(noUntaintedNodeWarning(name, args.clusterName, pools), this);
    }
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeContext: this.kubeContext,
      kubeconfig: this.kubeconfig,
      poolScheduling: this.poolScheduling,
      untaintedNodes: this.untaintedNodes,
    });
  }
}
