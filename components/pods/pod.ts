/**
 * The Earthly pod and container specs the Jobs and the buildkitd fleet share, as Kubernetes objects.
 * Pure: given plain values they return plain objects, which tests validate against the Kubernetes
 * schema; an argument given as an Output stays an Output at the leaves it feeds (see ./inputs), so
 * everything else is known at preview.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { concatLists, lift } from "../values/inputs";
import { pruneUndefined } from "../values/deterministic";
import { Scheduling, requiredNodeLabels } from "./scheduling";
import { envNamesRefusedAs } from "./envNames";
import { Resources, toKubeResources } from "./resources";
import { Problem, Rule } from "../validation/errors";
import {
  allOf,
  anyValue,
  booleanValue,
  eachOf,
  envVarName,
  integerBetween,
  mountPath,
  objectOf,
  oneOf,
  quantity,
  rfc1123Subdomain,
  uniqueBy,
} from "../validation/rules";

/** A container's variable, as the typed args of `@pulumi/kubernetes` (not the package's {@link EnvVar}). */
export type KubeEnvVar = kubernetes.types.input.core.v1.EnvVar;
/** A pod's volume, as typed args. */
export type KubeVolume = kubernetes.types.input.core.v1.Volume;
/** A container's volume mount, as typed args. */
export type KubeVolumeMount = kubernetes.types.input.core.v1.VolumeMount;
/** A container, as typed args. */
export type KubeContainer = kubernetes.types.input.core.v1.Container;
/** A pod spec, as typed args. */
export type KubePodSpec = kubernetes.types.input.core.v1.PodSpec;
/** A pod's security context, as typed args. */
export type KubePodSecurityContext = kubernetes.types.input.core.v1.PodSecurityContext;

/** A pod volume and where the container mounts it. */
export interface VolumeEntry {
  volume: KubeVolume;
  mount: KubeVolumeMount;
}

/** A volume's source: a {@link KubeVolume} without its name. */
export type KubeVolumeSource = Omit<KubeVolume, "name">;

/** A reference to one key of a Secret or ConfigMap. */
export interface KeyReference {
  /** The Secret's or ConfigMap's name. */
  name: string;
  /** The key inside it. */
  key: string;
  /** Whether the pod may start when the key is missing (default false). */
  optional?: boolean;
}

/** An environment variable: a literal value, or a key of a Secret or ConfigMap. Give exactly one source. */
export interface EnvVar {
  /** The variable's name, e.g. `GLOBAL_CONFIG` or `EARTHLY_TOKEN`. */
  name: string;
  /** A literal value. */
  value?: string;
  /** Take the value from a Secret key (use this for tokens). */
  secretKeyRef?: KeyReference;
  /** Take the value from a ConfigMap key. */
  configMapKeyRef?: KeyReference;
}

/** Medium backing an `emptyDir`. */
export const StorageMedium = {
  /** The node's disk (default). */
  Disk: "",
  /** tmpfs: fast, counts against memory. */
  Memory: "Memory",
} as const;
/** Medium backing an `emptyDir`. */
export type StorageMedium = (typeof StorageMedium)[keyof typeof StorageMedium];

/** An `emptyDir` volume. */
export interface EmptyDirVolume {
  /** Upper bound on the volume's size, e.g. `50Gi`. */
  sizeLimit?: string;
  /** The medium (`""` for disk, `Memory` for tmpfs). */
  medium?: StorageMedium;
}

/** A generic ephemeral volume: a PersistentVolumeClaim created with the pod and deleted with it. */
export interface EphemeralVolume {
  /** Requested size, e.g. `50Gi`. */
  size: string;
  /** StorageClass for the claim; the cluster default when unset. */
  storageClassName?: string;
}

/** Where a volume's data lives. Give exactly one source; an `emptyDir` is used when none is given. */
export interface VolumeChoice {
  /** A scratch directory on the node, deleted with the pod (the default). */
  emptyDir?: EmptyDirVolume;
  /** A claim created and deleted with the pod; a real disk where `emptyDir` misbehaves (e.g. EBS on EKS). */
  ephemeral?: EphemeralVolume;
  /** An existing PersistentVolumeClaim, by name. */
  persistentVolumeClaimName?: string;
  /** A directory on the node (needs a namespace that allows hostPath volumes). */
  hostPath?: string;
}

/** The Earthly scratch directory used when none is given. */
export const DEFAULT_EARTHLY_TMP_DIR = "/tmp/earthly";
/** The source directory used when none is given. */
export const DEFAULT_SRC_DIR = "/workspace";

export const keyReferenceRule: Rule<KeyReference> = (value, field) => [
  ...rfc1123Subdomain(value.name, `${field}.name`),
  // The API's rule for a key (IsConfigMapKey): 1-253 of [-._a-zA-Z0-9], and not `.` or `..`.
  ...(typeof value.key === "string" && /^[-._a-zA-Z0-9]{1,253}$/.test(value.key) && !/^\.\.?$/.test(value.key)
    ? []
    : [
        {
          field: `${field}.key`,
          value: value.key,
          allowed: "a Secret/ConfigMap key: 1-253 of [-._a-zA-Z0-9], not '.' or '..'",
        },
      ]),
];

/** Environment variables this package sets itself; users may not override them, or mounts would disagree. */
export const RESERVED_ENV: readonly string[] = envNamesRefusedAs("reserved");

export const envVarRule: Rule<EnvVar> = (value, field) => {
  const sources = [value.value, value.secretKeyRef, value.configMapKeyRef].filter((s) => s !== undefined);
  return [
    ...envVarName(value.name, `${field}.name`),
    ...(RESERVED_ENV.includes(value.name)
      ? [
          {
            field: `${field}.name`,
            value: value.name,
            allowed: `a name other than ${RESERVED_ENV.join(", ")}, which are set from dedicated arguments`,
          },
        ]
      : []),
    ...(sources.length === 1
      ? []
      : [{ field, value, allowed: "exactly one of value, secretKeyRef or configMapKeyRef" }]),
    // The name and value are checked above.
    ...objectOf<EnvVar>({
      name: anyValue,
      value: anyValue,
      secretKeyRef: keyReferenceRule,
      configMapKeyRef: keyReferenceRule,
    })(value, field),
  ];
};

export const envListRule: Rule<EnvVar[]> = allOf(
  eachOf(envVarRule),
  uniqueBy((e) => e.name, "a variable name not already listed"),
);

export const volumeChoiceRule: Rule<VolumeChoice> = (value, field) => {
  const given = [value.emptyDir, value.ephemeral, value.persistentVolumeClaimName, value.hostPath].filter(
    (s) => s !== undefined,
  );
  return [
    ...(given.length <= 1
      ? []
      : [
          {
            field,
            value,
            allowed: "at most one of emptyDir, ephemeral, persistentVolumeClaimName or hostPath",
          },
        ]),
    ...objectOf<VolumeChoice>({
      emptyDir: objectOf<EmptyDirVolume>({
        sizeLimit: quantity,
        medium: oneOf(Object.values(StorageMedium)),
      }),
      ephemeral: (v, f) => [
        ...quantity(v.size, `${f}.size`),
        ...(v.storageClassName === undefined
          ? []
          : rfc1123Subdomain(v.storageClassName, `${f}.storageClassName`)),
      ],
      persistentVolumeClaimName: rfc1123Subdomain,
      hostPath: mountPath,
    })(value, field),
  ];
};

/** The Linux interface MTU range we accept for `CNI_MTU`. */
export const cniMtuRule: Rule<number> = integerBetween(576, 9216);

/** Checks that the scratch and source directories are distinct and not nested in each other. */
export function distinctDirectories(
  scratchField: string,
  scratch: string,
  srcField: string,
  src: string,
): Problem[] {
  const nested = (a: string, b: string) => a === b || a.startsWith(`${b}/`);
  return nested(scratch, src) || nested(src, scratch)
    ? [
        {
          field: `${scratchField}/${srcField}`,
          value: [scratch, src],
          allowed: "two distinct directories, neither inside the other",
        },
      ]
    : [];
}

/** The Kubernetes env list for user variables. */
export function toKubeEnv(env: readonly EnvVar[]): KubeEnvVar[] {
  return env.map((e): KubeEnvVar =>
    e.secretKeyRef
      ? {
          name: e.name,
          valueFrom: {
            secretKeyRef: pruneUndefined<kubernetes.types.input.core.v1.SecretKeySelector>({
              ...e.secretKeyRef,
            }),
          },
        }
      : e.configMapKeyRef
        ? {
            name: e.name,
            valueFrom: {
              configMapKeyRef: pruneUndefined<kubernetes.types.input.core.v1.ConfigMapKeySelector>({
                ...e.configMapKeyRef,
              }),
            },
          }
        : { name: e.name, value: e.value ?? "" },
  );
}

/** The Kubernetes volume source for a {@link VolumeChoice}. */
export function toKubeVolumeSource(choice: VolumeChoice | undefined): KubeVolumeSource {
  if (choice?.persistentVolumeClaimName) {
    return { persistentVolumeClaim: { claimName: choice.persistentVolumeClaimName } };
  }
  if (choice?.hostPath) return { hostPath: { path: choice.hostPath, type: "DirectoryOrCreate" } };
  if (choice?.ephemeral) {
    return {
      ephemeral: {
        volumeClaimTemplate: {
          spec: pruneUndefined<kubernetes.types.input.core.v1.PersistentVolumeClaimSpec>({
            accessModes: ["ReadWriteOnce"],
            storageClassName: choice.ephemeral.storageClassName,
            resources: { requests: { storage: choice.ephemeral.size } },
          }),
        },
      },
    };
  }
  return {
    emptyDir: pruneUndefined<kubernetes.types.input.core.v1.EmptyDirVolumeSource>({
      sizeLimit: choice?.emptyDir?.sizeLimit,
      medium: choice?.emptyDir?.medium || undefined,
    }),
  };
}

/** What the shared container builder needs. */
export interface ContainerInput {
  /** Container name. */
  name: string;
  image: pulumi.Input<string>;
  /** Replaces the image's entrypoint (e.g. a wrapper that runs it last); unset keeps the image's. */
  command?: readonly string[];
  /** Arguments to the image's entrypoint. */
  args?: pulumi.Input<readonly string[]>;
  /** Variables set by the package, first, in this order (a list given as an Output is one leaf). */
  env: readonly KubeEnvVar[] | pulumi.Output<readonly KubeEnvVar[]>;
  /** User variables, after ours. */
  extraEnv?: pulumi.Input<readonly EnvVar[] | undefined>;
  resources: Resources;
  /**
   * Privileged (buildkitd needs it), else the Pod Security `restricted` container context: no
   * privilege escalation, every capability dropped, the runtime's default seccomp profile.
   */
  privileged: boolean;
  /** For an unprivileged container: a read-only root filesystem (default true). */
  readOnlyRootFilesystem?: boolean;
  workingDir?: string;
  volumeMounts: readonly KubeVolumeMount[];
  ports?: readonly kubernetes.types.input.core.v1.ContainerPort[];
  readinessProbe?: kubernetes.types.input.core.v1.Probe;
  livenessProbe?: kubernetes.types.input.core.v1.Probe;
}

/** A container with the security context that matches its privilege. */
export function buildContainer(input: ContainerInput): KubeContainer {
  const securityContext: kubernetes.types.input.core.v1.SecurityContext = input.privileged
    ? // buildkitd needs the full privileged context (the image checks for CAP_SYS_ADMIN).
      { privileged: true }
    : {
        privileged: false,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ["ALL"] },
        readOnlyRootFilesystem: input.readOnlyRootFilesystem ?? true,
        seccompProfile: { type: "RuntimeDefault" },
      };
  return pruneUndefined<KubeContainer>({
    name: input.name,
    image: input.image,
    imagePullPolicy: "IfNotPresent",
    command: input.command ? [...input.command] : undefined,
    args: lift(input.args, (args) => (args && args.length > 0 ? [...args] : undefined)),
    workingDir: input.workingDir,
    env: concatLists<KubeEnvVar>([input.env, lift(input.extraEnv, (extra) => toKubeEnv(extra ?? []))]),
    ports: input.ports ? [...input.ports] : undefined,
    readinessProbe: input.readinessProbe,
    livenessProbe: input.livenessProbe,
    resources: toKubeResources(input.resources),
    securityContext,
    volumeMounts: [...input.volumeMounts],
  });
}

/** A pod spec for build pods: no service account token, no service links, our scheduling. */
export function buildPodSpec(input: {
  containers: readonly KubeContainer[];
  volumes: readonly KubeVolume[] | pulumi.Output<readonly KubeVolume[]>;
  scheduling?: pulumi.Input<Scheduling | undefined>;
  restartPolicy: "Never" | "Always";
  terminationGracePeriodSeconds?: number;
  /** The pod's security context (an unprivileged pod's user, group and seccomp profile). */
  securityContext?: KubePodSecurityContext;
  /** How the scheduler spreads the workload's pods, e.g. across nodes. */
  topologySpreadConstraints?: readonly kubernetes.types.input.core.v1.TopologySpreadConstraint[];
  /** Secrets the kubelet uses to pull the images (`[{ name }]`). */
  imagePullSecrets?: readonly kubernetes.types.input.core.v1.LocalObjectReference[];
  /** `false`: the pod gets a user namespace of its own. Unset or `true`: the node's (Kubernetes' default). */
  hostUsers?: boolean;
}): KubePodSpec {
  return pruneUndefined<KubePodSpec>({
    restartPolicy: input.restartPolicy,
    // Build pods never talk to the Kubernetes API: no token to steal from an arbitrary-code machine.
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    terminationGracePeriodSeconds: input.terminationGracePeriodSeconds,
    securityContext: input.securityContext,
    // Written only when false, so a spec without the option is the one it always was.
    hostUsers: input.hostUsers === false ? false : undefined,
    nodeSelector: lift(input.scheduling, (scheduling) => {
      const nodeSelector = requiredNodeLabels(scheduling);
      return Object.keys(nodeSelector).length > 0 ? nodeSelector : undefined;
    }),
    tolerations: lift(input.scheduling, (scheduling) => {
      const tolerations = scheduling?.tolerations;
      return tolerations && tolerations.length > 0
        ? tolerations.map((t) => pruneUndefined<kubernetes.types.input.core.v1.Toleration>({ ...t }))
        : undefined;
    }),
    topologySpreadConstraints:
      input.topologySpreadConstraints && input.topologySpreadConstraints.length > 0
        ? [...input.topologySpreadConstraints]
        : undefined,
    imagePullSecrets:
      input.imagePullSecrets && input.imagePullSecrets.length > 0 ? [...input.imagePullSecrets] : undefined,
    containers: [...input.containers],
    volumes: concatLists<KubeVolume>([input.volumes]),
  });
}

/**
 * The user and group an unprivileged Earthly client runs as. The `earthly/earthly` image defines no
 * user (it runs as root unless told otherwise) and needs none: any non-root UID works once `HOME`,
 * `/tmp` and the working directory are writable volumes.
 */
export interface ClientSecurity {
  /** The UID (default 10001); not 0, the pod runs with `runAsNonRoot`. */
  runAsUser?: number;
  /**
   * The primary GID, also the pod's `fsGroup`, which makes mounted Secrets group-readable (default
   * 10001); not 0, which would hand every mounted volume to the root group.
   */
  runAsGroup?: number;
  /**
   * A read-only root filesystem (default `true`); Earthly writes only to its volumes. Set `false` only
   * for a custom runner image that writes elsewhere.
   */
  readOnlyRootFilesystem?: boolean;
}

/** The client's UID and GID when none is given: non-root, above the range distributions give to users. */
export const DEFAULT_CLIENT_UID = 10001;
export const DEFAULT_CLIENT_GID = 10001;

/** Checks a {@link ClientSecurity}. */
export const clientSecurityRule: Rule<ClientSecurity> = objectOf<ClientSecurity>({
  runAsUser: integerBetween(1, 2 ** 31 - 1),
  runAsGroup: (value, field) =>
    integerBetween(1, 2 ** 31 - 1)(value, field).map((p) => ({
      ...p,
      allowed: `${p.allowed}: not 0, since it is also the pod's fsGroup, which would give every mounted volume to the root group`,
    })),
  readOnlyRootFilesystem: booleanValue,
});

/** The Pod Security `restricted` pod context for a {@link ClientSecurity}. */
export function restrictedPodSecurityContext(user: ClientSecurity | undefined): KubePodSecurityContext {
  const group = user?.runAsGroup ?? DEFAULT_CLIENT_GID;
  return {
    runAsNonRoot: true,
    runAsUser: user?.runAsUser ?? DEFAULT_CLIENT_UID,
    runAsGroup: group,
    fsGroup: group,
    seccompProfile: { type: "RuntimeDefault" },
  };
}

/** Variables a feature of a component sets or reads, named after the argument that turns it on. */
export interface EnvClaim {
  /** The argument, e.g. `dockerConfigSecret`. */
  by: string;
  /** The variables it sets or reads (none when the argument is not given). */
  names: readonly string[];
}

/**
 * A variable in the user's `env` that a feature given in the arguments sets or reads: one of the two
 * would be lost, or would silently change what the feature does. One rule for every feature.
 */
export function envClaimConflicts(
  env: readonly { name: string }[] | undefined,
  claims: readonly EnvClaim[],
): Problem[] {
  return (env ?? []).flatMap((e) =>
    claims
      .filter((claim) => claim.names.includes(e.name))
      .map((claim) => ({
        field: "env.name",
        value: e.name,
        allowed: `a name other than ${claim.names.join(", ")} together with ${claim.by}, which sets or reads them`,
      })),
  );
}
