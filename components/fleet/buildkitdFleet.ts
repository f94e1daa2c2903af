import { X509Certificate } from "node:crypto";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_BUILDKITD_IMAGE_REPOSITORY, DEFAULT_EARTHLY_VERSION, imageFor } from "../pods/images";
import { lift, recordFields, registeredAfter } from "../values/inputs";
import { EgressRules, egressRulesRule } from "../pods/network";
import {
  DEFAULT_EARTHLY_TMP_DIR,
  EnvVar,
  VolumeChoice,
  cniMtuRule,
  envListRule,
  volumeChoiceRule,
  envClaimConflicts,
} from "../pods/pod";
import { Resources, resourcesRule, resourceOrderProblems } from "../pods/resources";
import { Scheduling, schedulingRule } from "../pods/scheduling";
import {
  BuildkitRegistry,
  buildkitRegistriesClaim,
  buildkitRegistriesRule,
  imagePullSecretsRule,
} from "../pods/registries";
import { ephemeralStorageProblems } from "../pods/storage";
import { ExtensibleChecks, ArgRules, checkArgs, requiredFields, knownProblems } from "../validation/checks";
import { PLAIN_INPUTS } from "../validation/plainInputs";
import { Problem } from "../validation/errors";
import {
  booleanValue,
  cidr,
  eachOf,
  earthlyVersion,
  imageDigest,
  imageRepository,
  integerBetween,
  labelKey,
  labelMap,
  mountPath,
  objectOf,
  rfc1123Label,
} from "../validation/rules";
import { FleetConnection } from "./connection";
import {
  DEFAULT_CLUSTER_DOMAIN,
  buildkitHostUrl,
  clusterDomainRule,
  fleetNameRule,
  fleetNames,
  serverCertificateNames,
} from "./names";
import {
  DisruptionBudget,
  FleetSpecInput,
  NodeSpread,
  buildkitdDisruptionBudget,
  BUILDKITD_DEFAULT_RESOURCES,
  buildkitdEgressPolicy,
  buildkitdHeadlessService,
  buildkitdNetworkPolicy,
  buildkitdResources,
  buildkitdService,
  buildkitdStatefulSet,
  clientLabelsFor,
  tlsChecksum,
  unreachableFleetProblems,
} from "./objects";
import {
  FleetTls,
  existingSecretKeys,
  fleetTlsMaterial,
  fleetTlsRule,
  tlsProblems,
} from "./serverCertificate";
import {
  PersistentCache,
  cacheClaimNames,
  cacheVolumeConflicts,
  fleetCacheSizeProblems,
  fleetScratchVolume,
  persistentCacheRule,
} from "./cacheVolume";

/** Arguments of {@link BuildkitdFleet}. */
export interface BuildkitdFleetArgs {
  /** The namespace the fleet runs in; it must exist and allow privileged pods. */
  namespace: string;
  /** The fleet's name: Service and StatefulSet name (an RFC 1035 label of at most 40; default: the resource name). */
  fleetName?: string;
  /** How many buildkitd instances (default 1, at least 1). Each keeps its own cache. */
  replicas?: number;
  /** Earthly release tag for the daemons, e.g. `v0.8.16` (default); clients must use the same. */
  earthlyVersion?: string;
  /** Daemon image repository: `earthly/buildkitd` (default), `earthbuild/buildkitd` or a private mirror. */
  imageRepository?: string;
  /** The cluster DNS domain (default `cluster.local`). */
  clusterDomain?: string;
  /**
   * The server certificate: `{ issuer: ca.issuer }` from a `BuildkitCertificateAuthority`, ready
   * PEMs, or an existing Secret. Required unless `insecureDisableTls`.
   */
  tls?: FleetTls;
  /**
   * Runs the daemons WITHOUT mTLS. buildkitd executes arbitrary code for whoever reaches it: only for
   * throw-away clusters. Off by default.
   */
  insecureDisableTls?: boolean;
  /** The daemon's scratch and cache directory, `EARTHLY_TMP_DIR` (default `/tmp/earthly`). */
  earthlyTmpDir?: string;
  /**
   * Where the cache lives when not persistent (default: an `emptyDir` of at most 40Gi; an `emptyDir`
   * given without `sizeLimit` gets 40Gi too). Not with `persistentCache`.
   */
  scratchVolume?: VolumeChoice;
  /** A PersistentVolumeClaim per instance, so a rollout or node restart keeps the cache. */
  persistentCache?: PersistentCache;
  /** `CACHE_SIZE_MB`; by default 80% of the cache volume's size when that size is known; at most that size. */
  cacheSizeMb?: number;
  /** `CACHE_SIZE_PCT`: the cache's share of the volume, 1 to 100. */
  cacheSizePct?: number;
  /** Forces the MTU of buildkitd's CNI bridge (`CNI_MTU`); 576 to 9216. */
  cniMtu?: pulumi.Input<number>;
  /** Extra environment for the daemons, e.g. `BUILDKIT_SESSION_TIMEOUT`. */
  env?: pulumi.Input<EnvVar[]>;
  /**
   * Requests and limits (defaults: requests 500m CPU / 1Gi / 10Gi ephemeral storage, limits 2 CPU /
   * 4Gi / 42Gi ephemeral storage). Without an ephemeral-storage limit, the default is raised to an
   * `emptyDir` cache's size plus 2Gi; a limit given below that cache's size is refused.
   */
  resources?: Resources;
  /** Node selector and tolerations, e.g. a `KindCluster` builder pool's scheduling. */
  scheduling?: pulumi.Input<Scheduling>;
  /** Seconds a client IP stays on one instance through the Service (default 600, 1 to 86400); longer than a build. */
  sessionAffinityTimeoutSeconds?: number;
  /** Namespaces whose pods labelled as this fleet's clients may connect (default: the fleet's namespace). */
  clientNamespaces?: string[];
  /** Namespaces all of whose pods may connect (default none). */
  allowedNamespaces?: string[];
  /** CIDR blocks that may connect (default none). */
  allowedCidrs?: string[];
  /** Annotations for the daemon pods, e.g. for a service mesh. */
  podAnnotations?: { [key: string]: string };

  // Least privilege and bounded resources.

  /**
   * Pins the daemon image to this digest (`sha256:<64 hex>`): the image becomes
   * `<imageRepository>:<earthlyVersion>@<digest>`. The daemons are privileged, so what they run
   * should not change when a tag is re-pushed.
   */
  imageDigest?: string;
  /**
   * Where the daemons may connect (a NetworkPolicy `<fleet>-egress`). Default: DNS and the internet
   * (sources, base images), not the cluster's private ranges nor link-local metadata addresses;
   * `allowedCidrs` / `allowedNamespaces` open an internal registry.
   */
  egress?: EgressRules;
  /** The PodDisruptionBudget `<fleet>` (default: created, at most 1 instance down at a time). */
  disruptionBudget?: DisruptionBudget;
  /** How instances spread over nodes (default: preferred, one per `kubernetes.io/hostname`). */
  spread?: NodeSpread;
  /** Secrets the kubelet uses to pull the daemon image from a private registry or mirror. */
  imagePullSecrets?: string[];
  /**
   * `false` runs the pod in a user namespace of its own: root in the container, and the privileged daemon's capabilities, maps to an
   * unprivileged user on the node, so a container escape is not root there. Needs what Kubernetes
   * needs for it (stable in 1.36): a runtime that supports it (containerd 2.0 or later, or CRI-O),
   * Linux 6.3 or later, and volumes on filesystems with idmapped mounts (ext4, xfs, btrfs, tmpfs,
   * overlayfs; not NFS). A kubelet whose runtime lacks it refuses the pod ("runtime does not support
   * user namespaces"). Default: unset, the node's user namespace (see docs/security.md).
   */
  hostUsers?: boolean;
  /**
   * BuildKit's registry settings, per registry host: `mirrors` to pull from, `http`, `insecure`
   * (`[registry."<host>"]` in `buildkitd.toml`, through the image's `EARTHLY_ADDITIONAL_BUILDKIT_CONFIG`),
   * e.g. `{ "docker.io": { mirrors: ["mirror.example.com"] } }`. Registry credentials stay with the clients.
   */
  buildkitRegistries?: { [host: string]: BuildkitRegistry };
}

/** The component's type token. */
export const BUILDKITD_FLEET_TYPE = "earthly-kubernetes:index:BuildkitdFleet";
/** The token before the component was renamed (0.1.0); an alias, so existing stacks keep their fleet. */
export const FORMER_FLEET_TYPE = "earthly-kubernetes:index:RemoteBuildkitd";

/** Validation rules for each argument. */
const buildkitdFleetRules: ArgRules<BuildkitdFleetArgs> = {
  namespace: rfc1123Label,
  fleetName: fleetNameRule,
  replicas: integerBetween(1, 100),
  earthlyVersion,
  imageRepository,
  clusterDomain: clusterDomainRule,
  tls: fleetTlsRule,
  insecureDisableTls: booleanValue,
  earthlyTmpDir: mountPath,
  scratchVolume: volumeChoiceRule,
  persistentCache: persistentCacheRule,
  cacheSizeMb: integerBetween(1, 100_000_000),
  cacheSizePct: integerBetween(1, 100),
  cniMtu: cniMtuRule,
  env: envListRule,
  resources: resourcesRule,
  scheduling: schedulingRule,
  sessionAffinityTimeoutSeconds: integerBetween(1, 86400),
  clientNamespaces: eachOf(rfc1123Label),
  allowedNamespaces: eachOf(rfc1123Label),
  allowedCidrs: eachOf(cidr),
  podAnnotations: (value, field) =>
    Object.keys(value).flatMap((k) => labelMap({ [k]: "" }, field).filter((p) => p.field.endsWith("key"))),
  imageDigest,
  egress: egressRulesRule,
  disruptionBudget: objectOf<DisruptionBudget>({
    enabled: booleanValue,
    maxUnavailable: integerBetween(1, 100),
  }),
  spread: objectOf<NodeSpread>({
    enabled: booleanValue,
    topologyKey: labelKey,
    maxSkew: integerBetween(1, 100),
    required: booleanValue,
  }),
  imagePullSecrets: imagePullSecretsRule,
  buildkitRegistries: buildkitRegistriesRule,
  hostUsers: booleanValue,
};

/** The checks of every argument, and across arguments. */
export const buildkitdFleetChecks: ExtensibleChecks<BuildkitdFleetArgs> = {
  rules: buildkitdFleetRules,
  plain: { inputs: PLAIN_INPUTS.BuildkitdFleet },
  cross: [
    requiredFields<BuildkitdFleetArgs>({ namespace: "a namespace" }),
    {
      reads: ["resources"],
      check: (args) => resourceOrderProblems(BUILDKITD_DEFAULT_RESOURCES, args.resources),
    },
    {
      reads: ["buildkitRegistries", "env"],
      check: (args) => envClaimConflicts(args.env, [buildkitRegistriesClaim(args.buildkitRegistries)]),
    },
    {
      reads: ["clientNamespaces", "allowedNamespaces", "allowedCidrs"],
      check: (args) => unreachableFleetProblems(args),
    },
    // Presence only: the TLS material is usually Outputs, yet which of it is given is known now.
    {
      reads: ["insecureDisableTls"],
      check: ({ insecureDisableTls, tls }) => tlsProblems(insecureDisableTls, tls),
    },
    { reads: ["persistentCache", "scratchVolume"], check: cacheVolumeConflicts },
    { reads: ["cacheSizeMb", "persistentCache", "scratchVolume"], check: fleetCacheSizeProblems },
    {
      reads: ["resources", "persistentCache", "scratchVolume"],
      check: (args) =>
        ephemeralStorageProblems(
          args.resources,
          args.persistentCache ? [] : [{ field: "scratchVolume", choice: fleetScratchVolume(args) }],
          buildkitdResources(args),
        ),
    },
  ],
};

/**
 * A fleet of remote buildkitd daemons (`earthly/buildkitd`): a StatefulSet of privileged instances
 * with mTLS from one shared CA, a ClusterIP Service with ClientIP session affinity, a headless
 * Service naming each instance, and a NetworkPolicy admitting only this fleet's clients.
 */
export class BuildkitdFleet extends pulumi.ComponentResource {
  /** `tcp://<service>.<namespace>.svc.<domain>:8372`. */
  public readonly buildkitHost: pulumi.Output<string>;
  /** `tcp://<instance FQDN>:8372` for each instance, in ordinal order. */
  public readonly instanceHosts: pulumi.Output<string[]>;
  /** The CA certificate clients must trust (empty without TLS). */
  public readonly caCertPem: pulumi.Output<string>;
  /** The ClusterIP Service's name. */
  public readonly serviceName: pulumi.Output<string>;
  /** The DNS names a server certificate must cover, in order (with an issuer: the ones it does cover). */
  public readonly serverDnsNames: pulumi.Output<string[]>;
  /**
   * When the server certificate expires (ISO 8601), for an alert: re-issue it before then (see the
   * remote guide on renewal). Empty with `existingSecret` (the certificate is not seen) or without TLS.
   */
  public readonly serverCertificateNotAfter: pulumi.Output<string>;
  /** The labels a client pod needs to pass the NetworkPolicy. */
  public readonly clientLabels: pulumi.Output<{ [key: string]: string }>;
  /**
   * The instances' cache claims with `persistentCache` (`earthly-tmp-<fleet>-<i>`), e.g. for an alert
   * on their use (`kubelet_volume_stats_used_bytes`); empty without.
   */
  public readonly cacheClaims: pulumi.Output<string[]>;
  /** Everything a client needs; pass it to `EarthlyRemoteJob.fleet`. */
  public readonly connection: pulumi.Output<FleetConnection>;

  /**
   * What the constructor would refuse in these arguments, among the values known now (an Output is
   * checked when it resolves), without registering anything: for checking a configuration before
   * creating any resource. Empty when the known values pass.
   */
  public static argumentProblems(name: string, args: BuildkitdFleetArgs): Problem[] {
    return knownProblems({ ...args, fleetName: args.fleetName ?? name }, buildkitdFleetChecks);
  }

  constructor(name: string, args: BuildkitdFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `BuildkitdFleet "${name}"`;
    const fleetName = args.fleetName ?? name;
    const { fields: checked, all } = checkArgs(component, { ...args, fleetName }, buildkitdFleetChecks);
    super(
      BUILDKITD_FLEET_TYPE,
      name,
      {},
      {
        ...opts,
        aliases: [{ type: FORMER_FLEET_TYPE }, ...(opts?.aliases ?? [])],
      },
    );

    const replicas = args.replicas ?? 1;
    const version = args.earthlyVersion ?? DEFAULT_EARTHLY_VERSION;
    const names = fleetNames({
      fleetName,
      namespace: args.namespace,
      replicas,
      clusterDomain: args.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN,
    });
    const tlsEnabled = args.insecureDisableTls !== true;
    const tls = tlsEnabled ? args.tls : undefined;

    // The arguments that may be Outputs are checked once they resolve, and each feeds only its own
    // leaves of the objects: names, labels, ports, selectors, probes and volumes stay known at
    // preview, and the TLS material (unknown until the certificate exists, and secret) reaches only
    // the Secret and, as a digest, the pods' checksum annotation.
    const serverNames = serverCertificateNames(fleetName, names, tls?.extraDnsNames, tls?.extraIpAddresses);
    const material = tls ? fleetTlsMaterial(this, name, component, tls, serverNames, all) : undefined;
    const tlsSecretName = tls?.existingSecret?.name ?? `${fleetName}-tls`;

    // A digest of the material, not the material: safe to show in diffs, and it rolls the pods.
    const checksum = material?.bundle
      ? pulumi.unsecret(material.bundle.apply((m) => tlsChecksum(m.ca, m.cert, m.key)))
      : undefined;
    const secret = material?.bundle
      ? new kubernetes.core.v1.Secret(
          `${name}-tls`,
          {
            metadata: { name: tlsSecretName, namespace: args.namespace },
            type: "Opaque",
            stringData: pulumi.secret(
              material.bundle.apply((m) => ({ "ca.pem": m.ca, "cert.pem": m.cert, "key.pem": m.key })),
            ),
          },
          // Not before every argument passed its checks: no key reaches a cluster for a refused fleet.
          { parent: this, dependsOn: registeredAfter(all) },
        )
      : undefined;
    const input: FleetSpecInput = {
      instance: name,
      names,
      namespace: args.namespace,
      replicas,
      version,
      image: imageFor(args.imageRepository ?? DEFAULT_BUILDKITD_IMAGE_REPOSITORY, version, args.imageDigest),
      earthlyTmpDir: args.earthlyTmpDir ?? DEFAULT_EARTHLY_TMP_DIR,
      scratchVolume: args.scratchVolume,
      persistentCache: args.persistentCache,
      cacheSizeMb: args.cacheSizeMb,
      cacheSizePct: args.cacheSizePct,
      cniMtu: checked.cniMtu,
      env: checked.env,
      resources: args.resources,
      scheduling: checked.scheduling,
      tlsEnabled,
      tlsSecretName,
      tlsSecretKeys: tls?.existingSecret ? existingSecretKeys(tls.existingSecret) : undefined,
      tlsChecksum: checksum,
      podAnnotations: args.podAnnotations,
      sessionAffinityTimeoutSeconds: args.sessionAffinityTimeoutSeconds ?? 600,
      clientNamespaces: args.clientNamespaces ?? [args.namespace],
      allowedNamespaces: args.allowedNamespaces ?? [],
      allowedCidrs: args.allowedCidrs ?? [],
      egress: args.egress,
      disruptionBudget: args.disruptionBudget,
      spread: args.spread,
      imagePullSecrets: args.imagePullSecrets,
      buildkitRegistries: args.buildkitRegistries,
      hostUsers: args.hostUsers,
    };

    // No object is registered until the arguments are checked and the certificate covers the names.
    const checkedAll = pulumi.all([all, material?.bundle ?? pulumi.output(undefined)]);
    const child = { parent: this, dependsOn: registeredAfter(checkedAll) };
    const statefulSet = buildkitdStatefulSet(input);
    const service = buildkitdService(input);
    const headless = buildkitdHeadlessService(input);
    const policy = buildkitdNetworkPolicy(input);
    const egress = buildkitdEgressPolicy(input);
    const budget = buildkitdDisruptionBudget(input);

    new kubernetes.networking.v1.NetworkPolicy(
      `${name}-clients`,
      { metadata: policy.metadata, spec: policy.spec },
      child,
    );
    // Created before the daemons, so no instance runs without its egress rules.
    const egressPolicy = egress
      ? new kubernetes.networking.v1.NetworkPolicy(
          `${name}-egress`,
          { metadata: egress.metadata, spec: egress.spec },
          child,
        )
      : undefined;
    if (budget) {
      new kubernetes.policy.v1.PodDisruptionBudget(
        `${name}-budget`,
        { metadata: budget.metadata, spec: budget.spec },
        child,
      );
    }
    const headlessService = new kubernetes.core.v1.Service(
      `${name}-instances`,
      { metadata: headless.metadata, spec: headless.spec },
      child,
    );
    const clusterService = new kubernetes.core.v1.Service(
      name,
      { metadata: service.metadata, spec: service.spec },
      child,
    );
    // Pulumi waits for the StatefulSet's instances to be ready, so clients start against a live fleet.
    const daemons = new kubernetes.apps.v1.StatefulSet(
      name,
      { metadata: statefulSet.metadata, spec: statefulSet.spec },
      {
        parent: this,
        dependsOn: registeredAfter(
          checkedAll,
          headlessService,
          ...(secret ? [secret] : []),
          ...(egressPolicy ? [egressPolicy] : []),
        ),
      },
    );

    const ready = pulumi.all([daemons.metadata.name, clusterService.metadata.name]);
    this.serviceName = ready.apply(() => names.serviceName);
    this.buildkitHost = ready.apply(() => buildkitHostUrl(names.serviceHost));
    this.instanceHosts = ready.apply(() => names.instanceHosts.map(buildkitHostUrl));
    // The CA certificate is public: taken from its own input, not from the (secret) bundle with the key.
    this.caCertPem = material ? material.caCertPem : pulumi.output("");
    this.serverDnsNames = pulumi.output(serverNames.dnsNames);
    // A date is public, though the bundle it is read from holds the key.
    this.serverCertificateNotAfter = material?.bundle
      ? pulumi.unsecret(
          material.bundle.apply((m) => new Date(new X509Certificate(m.cert).validTo).toISOString()),
        )
      : pulumi.output("");
    this.clientLabels = pulumi.output(clientLabelsFor(names.serviceName));
    this.cacheClaims = ready.apply(() =>
      cacheClaimNames(names.instanceNames, args.persistentCache !== undefined),
    );
    const architecture = lift(checked.scheduling, (s) => s?.architecture);
    this.connection = pulumi.all([ready, this.caCertPem, architecture]).apply(([, ca, arch]) => ({
      fleetName,
      namespace: args.namespace,
      buildkitHost: buildkitHostUrl(names.serviceHost),
      instanceNames: names.instanceNames,
      instanceHosts: names.instanceHosts,
      earthlyVersion: version,
      tlsEnabled,
      caCertPem: ca,
      clientLabels: clientLabelsFor(names.serviceName),
      ...(arch !== undefined ? { architecture: arch } : {}),
    }));
    // A client Job reads the connection field by field: the CA is its own leaf, the rest is known
    // (and public) at preview; every field but the CA still waits for the fleet to be ready.
    recordFields(this.connection, {
      fleetName,
      namespace: args.namespace,
      buildkitHost: this.buildkitHost,
      instanceNames: names.instanceNames,
      instanceHosts: ready.apply(() => names.instanceHosts),
      earthlyVersion: version,
      tlsEnabled,
      caCertPem: this.caCertPem,
      clientLabels: clientLabelsFor(names.serviceName),
      architecture,
    });
    this.registerOutputs({
      buildkitHost: this.buildkitHost,
      instanceHosts: this.instanceHosts,
      caCertPem: this.caCertPem,
      serviceName: this.serviceName,
      serverDnsNames: this.serverDnsNames,
      serverCertificateNotAfter: this.serverCertificateNotAfter,
      clientLabels: this.clientLabels,
      cacheClaims: this.cacheClaims,
      connection: this.connection,
    });
  }
}
