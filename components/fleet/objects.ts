/**
 * Pure builders for the buildkitd fleet: StatefulSet, Services, NetworkPolicy, and the checks that
 * tie the server certificate to the names clients dial.
 */
import { X509Certificate, createHash } from "node:crypto";
import type * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  EnvVar,
  KubeObject,
  Resources,
  VolumeChoice,
  buildContainer,
  buildPodSpec,
  mergeResources,
  toKubeVolumeSource,
} from "../kubernetes/pod";
import { BUILDKIT_PORT, FleetNames } from "./names";
import { concatLists, lift } from "../kubernetes/inputs";
import { pruneUndefined } from "../kubernetes/objects";
import {
  CLIENT_OF_LABEL,
  SKIP_AWAIT_ANNOTATION,
  recommendedLabels,
  selectorLabels,
  toLabelValue,
} from "../kubernetes/labels";
import { Scheduling } from "../kubernetes/scheduling";

/** Defaults for a buildkitd container (as in EarthBuild's own chart). */
export const BUILDKITD_DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "500m", memory: "1Gi" },
  limits: { cpu: "2", memory: "4Gi" },
};

/** Share of a cache volume buildkitd may fill; the rest is headroom for metadata and layers in flight. */
export const CACHE_SHARE_OF_VOLUME = 0.8;

/** Where the daemon expects its TLS files (the rest of `/etc` stays the image's). */
export const DAEMON_TLS_FILES = { ca: "/etc/ca.pem", cert: "/etc/cert.pem", key: "/etc/key.pem" } as const;

/** The annotation whose change rolls the fleet when its certificates change. */
export const TLS_CHECKSUM_ANNOTATION = "earthly-kubernetes/tls-checksum";

const BINARY_SUFFIX: { [suffix: string]: number } = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
};
const DECIMAL_SUFFIX: { [suffix: string]: number } = { "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15 };

/** A Kubernetes storage quantity in bytes, or undefined when it is not a plain size. */
export function quantityToBytes(quantity: string): number | undefined {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/.exec(quantity);
  if (!match) return undefined;
  const unit = match[2] ?? "";
  return Number(match[1]) * (BINARY_SUFFIX[unit] ?? DECIMAL_SUFFIX[unit]);
}

/** `CACHE_SIZE_MB` for a cache volume of the given size: {@link CACHE_SHARE_OF_VOLUME} of it, in MiB. */
export function cacheSizeMbFor(volumeSize: string): number | undefined {
  const bytes = quantityToBytes(volumeSize);
  return bytes === undefined ? undefined : Math.floor((bytes / 2 ** 20) * CACHE_SHARE_OF_VOLUME);
}

/** A per-instance PersistentVolumeClaim for the cache. */
export interface PersistentCache {
  /** Size of each instance's claim, e.g. `50Gi`. */
  size: string;
  /** StorageClass for the claims; the cluster default when unset. */
  storageClassName?: string;
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
  /** The digest of the TLS material (usually not known at preview: the one leaf it feeds). */
  tlsChecksum?: pulumi.Input<string>;
  podAnnotations?: { [key: string]: string };
  sessionAffinityTimeoutSeconds: number;
  clientNamespaces: string[];
  allowedNamespaces: string[];
  allowedCidrs: string[];
}

/** Labels a client pod must carry to reach this fleet through its NetworkPolicy. */
export function clientLabelsFor(fleetName: string): { [key: string]: string } {
  return { [CLIENT_OF_LABEL]: toLabelValue(fleetName) };
}

/** The cache size the daemon is told: explicit values first, else derived from the volume size. */
export function effectiveCacheSize(
  input: Pick<FleetSpecInput, "cacheSizeMb" | "cacheSizePct" | "persistentCache" | "scratchVolume">,
): {
  cacheSizeMb?: number;
  cacheSizePct?: number;
} {
  if (input.cacheSizeMb !== undefined || input.cacheSizePct !== undefined) {
    return pruneUndefined({ cacheSizeMb: input.cacheSizeMb, cacheSizePct: input.cacheSizePct });
  }
  const size =
    input.persistentCache?.size ??
    input.scratchVolume?.ephemeral?.size ??
    input.scratchVolume?.emptyDir?.sizeLimit;
  const derived = size === undefined ? undefined : cacheSizeMbFor(size);
  return derived === undefined ? {} : { cacheSizeMb: derived };
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
  const cache = effectiveCacheSize(input);
  const env = concatLists<KubeObject>([
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
    ],
    lift(input.cniMtu, (cniMtu): KubeObject[] =>
      cniMtu !== undefined ? [{ name: "CNI_MTU", value: String(cniMtu) }] : [],
    ),
  ]);
  const tlsMounts = input.tlsEnabled
    ? (["ca", "cert", "key"] as const).map((file) => ({
        name: "tls",
        mountPath: DAEMON_TLS_FILES[file],
        subPath: `${file}.pem`,
        readOnly: true,
      }))
    : [];
  const probe = { tcpSocket: { port: BUILDKIT_PORT } };
  const container = buildContainer({
    name: "buildkitd",
    image: input.image,
    env,
    extraEnv: input.env,
    resources: mergeResources(BUILDKITD_DEFAULT_RESOURCES, input.resources),
    privileged: true,
    ports: [{ name: "tcp-buildkitd", containerPort: BUILDKIT_PORT, protocol: "TCP" }],
    readinessProbe: { ...probe, initialDelaySeconds: 5, periodSeconds: 5, failureThreshold: 3 },
    livenessProbe: { ...probe, initialDelaySeconds: 30, periodSeconds: 20, failureThreshold: 6 },
    volumeMounts: [{ name: "earthly-tmp", mountPath: input.earthlyTmpDir }, ...tlsMounts],
  });
  const volumes: KubeObject[] = [
    ...(input.persistentCache ? [] : [{ name: "earthly-tmp", ...toKubeVolumeSource(input.scratchVolume) }]),
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
        metadata: pruneUndefined({
          labels,
          annotations: Object.keys(annotations).length > 0 ? annotations : undefined,
        }),
        spec: buildPodSpec({
          restartPolicy: "Always",
          containers: [container],
          volumes,
          scheduling: input.scheduling,
          terminationGracePeriodSeconds: 60,
        }) as unknown as kubernetes.types.input.core.v1.PodSpec,
      },
      volumeClaimTemplates: input.persistentCache
        ? [
            {
              metadata: { name: "earthly-tmp" },
              spec: pruneUndefined({
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
      ingress: [{ from, ports: [{ protocol: "TCP", port: BUILDKIT_PORT }] }],
    },
  };
}
