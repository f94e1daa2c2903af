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
} from "./lib/kindConfig";
import { KIND_CREATE_SCRIPT, KIND_DELETE_SCRIPT, kindCreateEnvironment } from "./lib/kindScripts";
import { NodePool, Scheduling, nodePoolRule, schedulingForPool } from "./lib/scheduling";
import {
  ArgChecks,
  Rule,
  allOf,
  checkKnownArgs,
  cidr,
  eachOf,
  imageReference,
  integerBetween,
  ipAddress,
  kindClusterName,
  labelMap,
  objectOf,
  oneOf,
  requiredFields,
  uniqueBy,
} from "./lib/validation";

/** Arguments of {@link KindCluster}. */
export interface KindClusterArgs {
  /** The kind cluster's name (1-40 lower-case letters, digits or '-'); the kube context is `kind-<name>`. */
  clusterName: string;
  /** Node image for every node, e.g. `kindest/node:v1.31.0`; kind's default when unset. */
  nodeImage?: string;
  /** Extra labels for the control-plane node. */
  controlPlaneLabels?: { [key: string]: string };
  /**
   * Worker pools besides the control plane, each with labels and taints. A pool for privileged
   * builds is typically tainted `NoSchedule` so only build pods, which tolerate it, land there.
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
    clusterName: kindClusterName,
    nodeImage: imageReference,
    controlPlaneLabels: labelMap,
    workerPools: allOf(
      eachOf(nodePoolRule),
      uniqueBy((p) => p.name, "a pool name not already used"),
    ),
    waitSeconds: integerBetween(0, 3600),
    networking: networkingRule,
  },
  cross: [requiredFields<KindClusterArgs>({ clusterName: "a kind cluster name" })],
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

  constructor(name: string, args: KindClusterArgs, opts?: pulumi.ComponentResourceOptions) {
    // Everything here is a plain value: check it all before any resource exists.
    checkKnownArgs(`KindCluster "${name}"`, args, kindClusterChecks);
    super(KIND_CLUSTER_TYPE, name, {}, opts);

    const configInput = kindConfigInputOf(args);
    const configHash = kindConfigHash(configInput);
    const cluster = new command.local.Command(
      `${name}-kind`,
      {
        create: KIND_CREATE_SCRIPT,
        delete: KIND_DELETE_SCRIPT,
        environment: kindCreateEnvironment({
          clusterName: args.clusterName,
          waitSeconds: args.waitSeconds ?? 120,
          configHash,
          adoptExisting: args.adoptExisting ?? false,
        }),
        stdin: renderKindConfig(configInput),
        // A new configuration is a new cluster; other changes (e.g. waitSeconds) re-run the
        // idempotent create script, which finds its own cluster and prints the kubeconfig again.
        triggers: [args.clusterName, configHash],
        // The kubeconfig is on stdout: never log it.
        logging: "stderr",
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
    this.registerOutputs({
      clusterName: this.clusterName,
      kubeContext: this.kubeContext,
      kubeconfig: this.kubeconfig,
      poolScheduling: this.poolScheduling,
    });
  }
}
