/**
 * Pure builders for the buildkitd fleet: StatefulSet, Services, NetworkPolicy, and the checks that
 * tie the server certificate to the names clients dial.
 */
import { X509Certificate, createHash } from "node:crypto";
import type * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  EnvVar,
  KubeEnvVar,
  KubeVolume,
  KubeVolumeMount,
  VolumeChoice,
  buildContainer,
  buildPodSpec,
  toKubeVolumeSource,
} from "../pods/pod";
import { Resources, mergeResources } from "../pods/resources";
import { Problem } from "../validation/errors";
import { BUILDKIT_PORT, FleetNames } from "./names";
import { PersistentCache, fleetCacheSize, fleetScratchVolume } from "./cacheVolume";
import { concatLists, lift } from "../values/inputs";
import { pruneUndefined } from "../values/deterministic";
import {
  CLIENT_OF_LABEL,
  SKIP_AWAIT_ANNOTATION,
  recommendedLabels,
  selectorLabels,
  toLabelValue,
} from "../pods/labels";
import { Scheduling } from "../pods/scheduling";
import { BuildkitRegistry, buildkitRegistriesEnv, imagePullSecretsOf } from "../pods/registries";
import { EgressRules, egressRules } from "../pods/network";
import { withEphemeralStorage } from "../pods/storage";

/** Defaults for a buildkitd container (as in EarthBuild's own chart). */
export const BUILDKITD_DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "500m", memory: "1Gi", ephemeralStorage: "10Gi" },
  // 40Gi scratch (the default emptyDir) + 2Gi for the writable layer and logs.
  limits: { cpu: "2", memory: "4Gi", ephemeralStorage: "42Gi" },
};

/** Ephemeral storage a daemon needs beyond its node-disk cache volume: writable layer and logs. */
export const BUILDKITD_STORAGE_HEADROOM = "2Gi";

/** Where the daemon expects its TLS files (the rest of `/etc` stays the image's). */
export const DAEMON_TLS_FILES = { ca: "/etc/ca.pem", cert: "/etc/cert.pem", key: "/etc/key.pem" } as const;

/** The annotation whose change rolls the fleet when its certificates change. */
export const TLS_CHECKSUM_ANNOTATION = "earthly-kubernetes/tls-checksum";

/** A PodDisruptionBudget for the fleet, so that a node drain never takes every instance at once. */
export interface DisruptionBudget {
  /** Whether to create it (default `true`). */
  enabled?: boolean;
  /**
   * How many instances a voluntary disruption (a drain, an upgrade) may take down at once, 1 to 100
   * (default 1). An unready instance may always be evicted, so a broken pod never blocks a drain.
   */
  maxUnavailable?: number;
}

/** How the scheduler spreads the fleet's instances over nodes (a topology spread constraint). */
export interface NodeSpread {
  /** Whether to spread at all (default `true`). */
  enabled?: boolean;
  /** The node label whose values are spread over (default `kubernetes.io/hostname`: one node each). */
  topologyKey?: string;
  /** The largest allowed difference in instances between two values of the key, 1 to 100 (default 1). */
  maxSkew?: number;
  /**
   * `true` refuses to schedule an instance that would break the spread (`DoNotSchedule`); by
   * default the spread is preferred only (`ScheduleAnyway`), so a fleet larger than the pool still runs.
   */
  required?: boolean;
}

/**
 * Everything the fleet's objects are built from. Plain, but for the arguments that may be Outputs:
 * each of those is an Output only at the leaves it feeds, so a preview shows every other field.
 */
export interface FleetSpecInput {
  instance: string;
  names: FleetNames;
  namespace: string;
  replicas: number;
  version: string;
  image: string;
  earthlyTmpDir: string;
  scratchVolume?: VolumeChoice;
  persistentCache?: PersistentCache;
  cacheSizeMb?: number;
  cacheSizePct?: number;
  cniMtu?: pulumi.Input<number | undefined>;
  env?: pulumi.Input<EnvVar[] | undefined>;
  resources?: Resources;
  scheduling?: pulumi.Input<Scheduling | undefined>;
  tlsEnabled: boolean;
  /** Name of the Secret holding `ca.pem`, `cert.pem`, `key.pem`. */
  tlsSecretName: string;
  /** The Secret's keys for the CA, the certificate and the key (default `ca.pem`, `cert.pem`, `key.pem`). */
  tlsSecretKeys?: { ca: string; cert: string; key: string };
  /** The digest of the TLS material (usually not known at preview: the one leaf it feeds). */
  tlsChecksum?: pulumi.Input<string>;
  podAnnotations?: { [key: string]: string };
  sessionAffinityTimeoutSeconds: number;
  clientNamespaces: string[];
  allowedNamespaces: string[];
  allowedCidrs: string[];
  egress?: EgressRules;
  disruptionBudget?: DisruptionBudget;
  spread?: NodeSpread;
  /** Secrets for pulling the daemon image. */
  imagePullSecrets?: string[];
  /** BuildKit's registry settings (`EARTHLY_ADDITIONAL_BUILDKIT_CONFIG`). */
  buildkitRegistries?: { [host: string]: BuildkitRegistry };
  /** `false`: each daemon pod in a user namespace of its own. */
  hostUsers?: boolean;
}

/** Labels a client pod must carry to reach this fleet through its NetworkPolicy. */
export function clientLabelsFor(fleetName: string): { [key: string]: string } {
  return { [CLIENT_OF_LABEL]: toLabelValue(fleetName) };
}

/** The daemon's requests and limits: the defaults, the user's, and ephemeral storage for its volume. */
export function buildkitdResources(
  input: Pick<FleetSpecInput, "resources" | "persistentCache" | "scratchVolume">,
): Resources {
  return withEphemeralStorage(
    mergeResources(BUILDKITD_DEFAULT_RESOURCES, input.resources),
    input.resources,
    input.persistentCache ? [] : [fleetScratchVolume(input)],
    BUILDKITD_STORAGE_HEADROOM,
  );
}

/** SHA-256 over the TLS material, for the pod template annotation. */
export function tlsChecksum(caCertPem: string, serverCertPem: string, serverKeyPem: string): string {
  return createHash("sha256").update(`${caCertPem}\0${serverCertPem}\0${serverKeyPem}`).digest("hex");
}

/** The names in `names` that the certificate does not cover (checked with node:crypto). */
export function namesNotCoveredBy(certificatePem: string, names: readonly string[]): string[] {
  const certificate = new X509Certificate(certificatePem);
  return names.filter((name) => certificate.checkHost(name, { subject: "never" }) === undefined);
}

/** The recommended labels of every fleet object. */
function fleetLabels(input: FleetSpecInput): { [key: string]: string } {
  return recommendedLabels({
    app: "buildkitd",
    instance: toLabelValue(input.instance),
    role: "buildkitd",
    version: toLabelValue(input.version),
  });
}

/** The labels that select the fleet's pods (stable across upgrades). */
function fleetSelector(input: FleetSpecInput): { [key: string]: string } {
  return selectorLabels("buildkitd", toLabelValue(input.instance));
}

/** A fleet object: the typed args of its resource. */
export interface FleetObject<Spec> {
  apiVersion: string;
  kind: string;
  metadata: kubernetes.types.input.meta.v1.ObjectMeta;
  spec: Spec;
}

/** The buildkitd StatefulSet. */
export function buildkitdStatefulSet(
  input: FleetSpecInput,
): FleetObject<kubernetes.types.input.apps.v1.StatefulSetSpec> {
  const labels = fleetLabels(input);
  const selector = fleetSelector(input);
  const cache = fleetCacheSize(input);
  const env = concatLists<KubeEnvVar>([
    [
      { name: "BUILDKIT_TCP_TRANSPORT_ENABLED", value: "true" },
      { name: "BUILDKIT_TLS_ENABLED", value: String(input.tlsEnabled) },
      { name: "EARTHLY_TMP_DIR", value: input.earthlyTmpDir },
      ...(cache.cacheSizeMb !== undefined
        ? [{ name: "CACHE_SIZE_MB", value: String(cache.cacheSizeMb) }]
        : []),
      ...(cache.cacheSizePct !== undefined
        ? [{ name: "CACHE_SIZE_PCT", value: String(cache.cacheSizePct) }]
        : []),
      ...buildkitRegistriesEnv(input.buildkitRegistries),
    ],
    lift(input.cniMtu, (cniMtu): KubeEnvVar[] =>
      cniMtu !== undefined ? [{ name: "CNI_MTU", value: String(cniMtu) }] : [],
    ),
  ]);
  const tlsMounts = input.tlsEnabled
    ? (["ca", "cert", "key"] as const).map((file): KubeVolumeMount => ({
        name: "tls",
        mountPath: DAEMON_TLS_FILES[file],
        subPath: input.tlsSecretKeys?.[file] ?? `${file}.pem`,
        readOnly: true,
      }))
    : [];
  // Checked from inside the pod (busybox `nc` in the Alpine-based image), not by the kubelet over the
  // network: some NetworkPolicy engines (kindnetd in kind v0.24-v0.27, some k3s and Cilium set-ups)
  // filter the kubelet's probes, and the clients' policy admits only the clients to this port.
  const probe: kubernetes.types.input.core.v1.Probe = {
    exec: { command: ["nc", "-z", "127.0.0.1", String(BUILDKIT_PORT)] },
    timeoutSeconds: 3,
  };
  const container = buildContainer({
    name: "buildkitd",
    image: input.image,
    env,
    extraEnv: input.env,
    resources: buildkitdResources(input),
    privileged: true,
    ports: [{ name: "tcp-buildkitd", containerPort: BUILDKIT_PORT, protocol: "TCP" }],
    readinessProbe: { ...probe, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...probe, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
    volumeMounts: [{ name: "earthly-tmp", mountPath: input.earthlyTmpDir }, ...tlsMounts],
  });
  const volumes: KubeVolume[] = [
    ...(input.persistentCache
      ? []
      : [{ name: "earthly-tmp", ...toKubeVolumeSource(fleetScratchVolume(input)) }]),
    ...(input.tlsEnabled
      ? [{ name: "tls", secret: { secretName: input.tlsSecretName, defaultMode: 0o400 } }]
      : []),
  ];
  const annotations = {
    ...(input.podAnnotations ?? {}),
    ...(input.tlsChecksum ? { [TLS_CHECKSUM_ANNOTATION]: input.tlsChecksum } : {}),
  };
  return {
    apiVersion: "apps/v1",
    kind: "StatefulSet",
    metadata: { name: input.names.statefulSetName, namespace: input.namespace, labels },
    spec: pruneUndefined<kubernetes.types.input.apps.v1.StatefulSetSpec>({
      serviceName: input.names.headlessServiceName,
      replicas: input.replicas,
      // Instances are independent caches: start and replace them in parallel.
      podManagementPolicy: "Parallel",
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate" },
      template: {
        metadata: pruneUndefined<kubernetes.types.input.meta.v1.ObjectMeta>({
          labels,
          annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
        }),
        spec: buildPodSpec({
          restartPolicy: "Always",
          containers: [container],
          volumes,
          scheduling: input.scheduling,
          terminationGracePeriodSeconds: 60,
          topologySpreadConstraints: spreadConstraints(input),
          imagePullSecrets: imagePullSecretsOf(input.imagePullSecrets),
          hostUsers: input.hostUsers,
        }),
      },
      volumeClaimTemplates: input.persistentCache
        ? [
            {
              metadata: { name: "earthly-tmp" },
              spec: pruneUndefined<kubernetes.types.input.core.v1.PersistentVolumeClaimSpec>({
                accessModes: ["ReadWriteOnce"],
                storageClassName: input.persistentCache.storageClassName,
                resources: { requests: { storage: input.persistentCache.size } },
              }),
            },
          ]
        : undefined,
      // Keep caches when scaling in (a scale-out finds them warm); drop them with the fleet.
      persistentVolumeClaimRetentionPolicy: input.persistentCache
        ? { whenDeleted: "Delete", whenScaled: "Retain" }
        : undefined,
    }),
  };
}

/** The spread of the instances over nodes: preferred by default, one per node where there are enough. */
function spreadConstraints(input: FleetSpecInput): kubernetes.types.input.core.v1.TopologySpreadConstraint[] {
  const spread = input.spread;
  if (spread?.enabled === false) return [];
  return [
    {
      maxSkew: spread?.maxSkew ?? 1,
      topologyKey: spread?.topologyKey ?? DEFAULT_SPREAD_TOPOLOGY_KEY,
      whenUnsatisfiable: spread?.required === true ? "DoNotSchedule" : "ScheduleAnyway",
      labelSelector: { matchLabels: fleetSelector(input) },
    },
  ];
}

/** The node label instances are spread over by default: the node's name, so one instance per node. */
export const DEFAULT_SPREAD_TOPOLOGY_KEY = "kubernetes.io/hostname";

/**
 * The fleet's PodDisruptionBudget (undefined when disabled): at most `maxUnavailable` (default 1)
 * instances down through voluntary disruptions; unready instances may always be evicted.
 */
export function buildkitdDisruptionBudget(
  input: FleetSpecInput,
): FleetObject<kubernetes.types.input.policy.v1.PodDisruptionBudgetSpec> | undefined {
  if (input.disruptionBudget?.enabled === false) return undefined;
  return {
    apiVersion: "policy/v1",
    kind: "PodDisruptionBudget",
    metadata: { name: input.names.statefulSetName, namespace: input.namespace, labels: fleetLabels(input) },
    spec: {
      maxUnavailable: input.disruptionBudget?.maxUnavailable ?? 1,
      selector: { matchLabels: fleetSelector(input) },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    },
  };
}

/**
 * The daemons' egress: DNS and the internet (sources, base images), not the cluster's private
 * ranges nor link-local metadata addresses, plus what `egress` opens. Undefined with `restrict: false`.
 * Their ingress is the clients' policy ({@link buildkitdNetworkPolicy}).
 */
export function buildkitdEgressPolicy(
  input: FleetSpecInput,
): FleetObject<kubernetes.types.input.networking.v1.NetworkPolicySpec> | undefined {
  if (input.egress?.restrict === false) return undefined;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${input.names.serviceName}-egress`, namespace: input.namespace },
    spec: {
      podSelector: { matchLabels: fleetSelector(input) },
      policyTypes: ["Egress"],
      egress: egressRules(input.egress, true),
    },
  };
}

function servicePorts(): kubernetes.types.input.core.v1.ServicePort[] {
  // The `tcp-` name makes service meshes such as Istio treat buildkitd's gRPC as plain TCP.
  return [{ name: "tcp-buildkitd", port: BUILDKIT_PORT, targetPort: BUILDKIT_PORT, protocol: "TCP" }];
}

/** The ClusterIP Service: ClientIP affinity keeps one build on one instance. */
export function buildkitdService(
  input: FleetSpecInput,
): FleetObject<kubernetes.types.input.core.v1.ServiceSpec> {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: input.names.serviceName,
      namespace: input.namespace,
      labels: fleetLabels(input),
      // The StatefulSet's readiness, which Pulumi awaits, is what says the fleet serves. The provider's
      // own Service await only polls for endpoints and took 10 s of a 12 s deploy on the engine tier.
      annotations: { [SKIP_AWAIT_ANNOTATION]: "true" },
    },
    spec: {
      type: "ClusterIP",
      selector: fleetSelector(input),
      ports: servicePorts(),
      sessionAffinity: "ClientIP",
      sessionAffinityConfig: { clientIP: { timeoutSeconds: input.sessionAffinityTimeoutSeconds } },
    },
  };
}

/** The headless Service that gives each instance a stable DNS name. */
export function buildkitdHeadlessService(
  input: FleetSpecInput,
): FleetObject<kubernetes.types.input.core.v1.ServiceSpec> {
  const service = buildkitdService(input);
  return {
    ...service,
    metadata: {
      name: input.names.headlessServiceName,
      namespace: input.namespace,
      labels: fleetLabels(input),
    },
    spec: {
      clusterIP: "None",
      selector: fleetSelector(input),
      ports: servicePorts(),
      publishNotReadyAddresses: false,
    },
  };
}

/** A fleet no one may reach: `clientNamespaces` emptied with no `allowedNamespaces` or `allowedCidrs`. */
export function unreachableFleetProblems(args: {
  clientNamespaces?: string[];
  allowedNamespaces?: string[];
  allowedCidrs?: string[];
}): Problem[] {
  const { clientNamespaces, allowedNamespaces, allowedCidrs } = args;
  return clientNamespaces?.length === 0 &&
    (allowedNamespaces ?? []).length === 0 &&
    (allowedCidrs ?? []).length === 0
    ? [
        {
          field: "clientNamespaces",
          value: clientNamespaces,
          allowed:
            "at least one namespace, unless allowedNamespaces or allowedCidrs lists who may connect (a fleet no one may reach builds nothing)",
        },
      ]
    : [];
}

/**
 * Admits buildkitd's port only from this fleet's labelled clients in the listed namespaces, plus
 * whole namespaces and CIDRs the user lists. Everything else is denied ingress.
 */
export function buildkitdNetworkPolicy(
  input: FleetSpecInput,
): FleetObject<kubernetes.types.input.networking.v1.NetworkPolicySpec> {
  const clientLabels = clientLabelsFor(input.names.serviceName);
  const byNamespace = (ns: string) => ({ matchLabels: { "kubernetes.io/metadata.name": ns } });
  const from = [
    ...input.clientNamespaces.map((ns) => ({
      namespaceSelector: byNamespace(ns),
      podSelector: { matchLabels: clientLabels },
    })),
    ...input.allowedNamespaces.map((ns) => ({ namespaceSelector: byNamespace(ns) })),
    ...input.allowedCidrs.map((block) => ({ ipBlock: { cidr: block } })),
  ];
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: `${input.names.serviceName}-clients`, namespace: input.namespace },
    spec: {
      podSelector: { matchLabels: fleetSelector(input) },
      policyTypes: ["Ingress"],
      // An empty `from` would admit every source: with no one listed, no rule (deny all).
      ingress: from.length > 0 ? [{ from, ports: [{ protocol: "TCP", port: BUILDKIT_PORT }] }] : [],
    },
  };
}
