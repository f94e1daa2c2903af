import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { FleetConnection, registerConnectionFields } from "./connection";
import {
  DEFAULT_EARTHLY_TMP_DIR,
  EnvVar,
  Resources,
  VolumeChoice,
  cniMtuRule,
  envListRule,
  resourcesRule,
  volumeChoiceRule,
} from "../kubernetes/pod";
import { DEFAULT_CLUSTER_DOMAIN, buildkitHostUrl, fleetNameRule, fleetNames } from "./names";
import {
  FleetSpecInput,
  PersistentCache,
  buildkitdHeadlessService,
  buildkitdNetworkPolicy,
  buildkitdService,
  buildkitdStatefulSet,
  clientLabelsFor,
  namesNotCoveredBy,
  tlsChecksum,
} from "./objects";
import { DEFAULT_BUILDKITD_IMAGE_REPOSITORY, DEFAULT_EARTHLY_VERSION, imageFor } from "../kubernetes/images";
import { registeredAfter } from "../kubernetes/inputs";
import { Scheduling, schedulingRule } from "../kubernetes/scheduling";
import { ArgChecks, ArgRules, checkKnownArgs, checkedArgs } from "../validation/checks";
import { requiredFields } from "../validation/checks";
import {
  cidr,
  dnsName,
  eachOf,
  earthlyVersion,
  imageRepository,
  integerBetween,
  labelMap,
  mountPath,
  objectOf,
  quantity,
  rfc1123Label,
  rfc1123Subdomain,
} from "../validation/rules";
import { assertNoProblems } from "../validation/errors";

/** The fleet's TLS material: the CA and the server certificate and key every instance shares. */
export interface FleetTls {
  /** The CA certificate (PEM) clients are issued from. */
  caCertPem: pulumi.Input<string>;
  /** The server certificate (PEM); its SANs must cover every Service and instance name. */
  serverCertPem: pulumi.Input<string>;
  /** The server private key (PEM); kept a secret. */
  serverPrivateKeyPem: pulumi.Input<string>;
}

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
  /** The TLS material, e.g. from a `BuildkitCertificateAuthority`. Required unless `insecureDisableTls`. */
  tls?: FleetTls;
  /**
   * Runs the daemons WITHOUT mTLS. buildkitd executes arbitrary code for whoever reaches it: only for
   * throw-away clusters. Off by default.
   */
  insecureDisableTls?: boolean;
  /** The daemon's scratch and cache directory, `EARTHLY_TMP_DIR` (default `/tmp/earthly`). */
  earthlyTmpDir?: string;
  /** Where the cache lives when not persistent (default: an `emptyDir`). Not with `persistentCache`. */
  scratchVolume?: VolumeChoice;
  /** A PersistentVolumeClaim per instance, so a rollout or node restart keeps the cache. */
  persistentCache?: PersistentCache;
  /** `CACHE_SIZE_MB`; by default 80% of the cache volume's size when that size is known. */
  cacheSizeMb?: number;
  /** `CACHE_SIZE_PCT`: the cache's share of the volume, 1 to 100. */
  cacheSizePct?: number;
  /** Forces the MTU of buildkitd's CNI bridge (`CNI_MTU`); 576 to 9216. */
  cniMtu?: pulumi.Input<number>;
  /** Extra environment for the daemons, e.g. `BUILDKIT_SESSION_TIMEOUT`. */
  env?: pulumi.Input<EnvVar[]>;
  /** Requests and limits (defaults: requests 500m CPU / 1Gi, limits 2 CPU / 4Gi). */
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
}

/** The component's type token. */
export const BUILDKITD_FLEET_TYPE = "earthly-kubernetes:index:BuildkitdFleet";
/** The token before the component was renamed (0.1.0); an alias, so existing stacks keep their fleet. */
export const FORMER_FLEET_TYPE = "earthly-kubernetes:index:RemoteBuildkitd";

const persistentCacheRule = objectOf<PersistentCache>({ size: quantity, storageClassName: rfc1123Subdomain });

/** Validation rules for each argument. */
const buildkitdFleetRules: Partial<ArgRules<BuildkitdFleetArgs>> = {
  namespace: rfc1123Label,
  fleetName: fleetNameRule,
  replicas: integerBetween(1, 100),
  earthlyVersion,
  imageRepository,
  clusterDomain: dnsName,
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
};

/** The checks of every argument, and across arguments. */
export const buildkitdFleetChecks: Required<ArgChecks<BuildkitdFleetArgs>> = {
  rules: buildkitdFleetRules,
  cross: [
    requiredFields<BuildkitdFleetArgs>({ namespace: "a namespace" }),
    // Presence only: the TLS material is usually Outputs, yet whether it is given is known now.
    {
      reads: ["insecureDisableTls"],
      check: ({ insecureDisableTls, tls }) =>
        insecureDisableTls === true
          ? tls !== undefined
            ? [{ field: "tls", value: "(given)", allowed: "no tls together with insecureDisableTls" }]
            : []
          : (["caCertPem", "serverCertPem", "serverPrivateKeyPem"] as const)
              .filter((key) => !tls?.[key])
              .map((key) => ({
                field: `tls.${key}`,
                value: undefined,
                allowed:
                  "a PEM value (mTLS is on by default; set insecureDisableTls only for throw-away clusters)",
              })),
    },
    {
      reads: ["persistentCache", "scratchVolume"],
      check: ({ persistentCache, scratchVolume }) => [
        ...(persistentCache && scratchVolume
          ? [{ field: "scratchVolume", value: scratchVolume, allowed: "not together with persistentCache" }]
          : []),
        ...(scratchVolume?.persistentVolumeClaimName
          ? [
              {
                field: "scratchVolume.persistentVolumeClaimName",
                value: scratchVolume.persistentVolumeClaimName,
                allowed:
                  "nothing: instances cannot share one claim; use persistentCache for a claim per instance",
              },
            ]
          : []),
      ],
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
  /** The labels a client pod needs to pass the NetworkPolicy. */
  public readonly clientLabels: pulumi.Output<{ [key: string]: string }>;
  /** Everything a client needs; pass it to `EarthlyRemoteJob.fleet`. */
  public readonly connection: pulumi.Output<FleetConnection>;

  constructor(name: string, args: BuildkitdFleetArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `BuildkitdFleet "${name}"`;
    const fleetName = args.fleetName ?? name;
    checkKnownArgs(component, { ...args, fleetName }, buildkitdFleetChecks);
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
    const tlsSecretName = `${fleetName}-tls`;

    // The server certificate must cover every name a client dials; refuse it before it is deployed.
    const tls = tlsEnabled ? args.tls : undefined;
    const tlsMaterial = tls
      ? pulumi.all([tls.caCertPem, tls.serverCertPem, tls.serverPrivateKeyPem]).apply(([ca, cert, key]) => {
          const missing = namesNotCoveredBy(cert, names.dnsNames);
          assertNoProblems(
            component,
            missing.length === 0
              ? []
              : [
                  {
                    field: "tls.serverCertPem",
                    value: `a certificate whose SANs miss ${missing.join(", ")}`,
                    allowed: "a server certificate whose SANs cover every Service and instance name",
                  },
                ],
          );
          return { ca, cert, key };
        })
      : undefined;

    // A digest of the material, not the material: safe to show in diffs, and it rolls the pods.
    const checksum = tlsMaterial
      ? pulumi.unsecret(tlsMaterial.apply((m) => tlsChecksum(m.ca, m.cert, m.key)))
      : undefined;

    // The arguments that may be Outputs are checked once they resolve, and each feeds only its own
    // leaves of the objects: names, labels, ports, selectors, probes and volumes stay known at
    // preview, and the TLS material (unknown until the certificate authority exists, and secret)
    // reaches only the Secret and, as a digest, the pods' checksum annotation.
    const { fields: checked, all } = checkedArgs(component, { ...args, fleetName }, buildkitdFleetChecks);
    const secret = tlsMaterial
      ? new kubernetes.core.v1.Secret(
          `${name}-tls`,
          {
            metadata: { name: tlsSecretName, namespace: args.namespace },
            type: "Opaque",
            stringData: pulumi.secret(
              tlsMaterial.apply((m) => ({ "ca.pem": m.ca, "cert.pem": m.cert, "key.pem": m.key })),
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
      image: imageFor(args.imageRepository ?? DEFAULT_BUILDKITD_IMAGE_REPOSITORY, version),
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
      tlsChecksum: checksum,
      podAnnotations: args.podAnnotations,
      sessionAffinityTimeoutSeconds: args.sessionAffinityTimeoutSeconds ?? 600,
      clientNamespaces: args.clientNamespaces ?? [args.namespace],
      allowedNamespaces: args.allowedNamespaces ?? [],
      allowedCidrs: args.allowedCidrs ?? [],
    };

    // No object is registered until the arguments are checked and the certificate covers the names.
    const checkedAll = pulumi.all([all, tlsMaterial ?? pulumi.output(undefined)]);
    const child = { parent: this, dependsOn: registeredAfter(checkedAll) };
    const statefulSet = buildkitdStatefulSet(input);
    const service = buildkitdService(input);
    const headless = buildkitdHeadlessService(input);
    const policy = buildkitdNetworkPolicy(input);

    new kubernetes.networking.v1.NetworkPolicy(
      `${name}-clients`,
      { metadata: policy.metadata, spec: policy.spec },
      child,
    );
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
        dependsOn: registeredAfter(checkedAll, headlessService, ...(secret ? [secret] : [])),
      },
    );

    const ready = pulumi.all([daemons.metadata.name, clusterService.metadata.name]);
    this.serviceName = ready.apply(() => names.serviceName);
    this.buildkitHost = ready.apply(() => buildkitHostUrl(names.serviceHost));
    this.instanceHosts = ready.apply(() => names.instanceHosts.map(buildkitHostUrl));
    // The CA certificate is public: taken from its own input, not from the (secret) bundle with the key.
    this.caCertPem = tls ? pulumi.output(tls.caCertPem) : pulumi.output("");
    this.clientLabels = pulumi.output(clientLabelsFor(names.serviceName));
    this.connection = pulumi.all([ready, this.caCertPem]).apply(([, ca]) => ({
      fleetName,
      namespace: args.namespace,
      buildkitHost: buildkitHostUrl(names.serviceHost),
      instanceNames: names.instanceNames,
      instanceHosts: names.instanceHosts,
      earthlyVersion: version,
      tlsEnabled,
      caCertPem: ca,
      clientLabels: clientLabelsFor(names.serviceName),
    }));
    // A client Job reads the connection field by field: the CA is its own leaf, the rest is known
    // (and public) at preview; every field but the CA still waits for the fleet to be ready.
    registerConnectionFields(this.connection, {
      fleetName,
      namespace: args.namespace,
      buildkitHost: this.buildkitHost,
      instanceNames: names.instanceNames,
      instanceHosts: ready.apply(() => names.instanceHosts),
      earthlyVersion: version,
      tlsEnabled,
      caCertPem: this.caCertPem,
      clientLabels: clientLabelsFor(names.serviceName),
    });
    this.registerOutputs({
      buildkitHost: this.buildkitHost,
      instanceHosts: this.instanceHosts,
      caCertPem: this.caCertPem,
      serviceName: this.serviceName,
      clientLabels: this.clientLabels,
      connection: this.connection,
    });
  }
}
