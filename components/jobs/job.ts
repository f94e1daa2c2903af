/**
 * What the two Earthly Jobs (all-in-one and remote client) have in common: their arguments, the
 * rules for them, and the Job object around an Earthly container.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_SRC_DIR,
  EnvVar,
  KubeEnvVar,
  KubePodSecurityContext,
  VolumeChoice,
  VolumeEntry,
  buildContainer,
  buildPodSpec,
  envListRule,
  toKubeVolumeSource,
  volumeChoiceRule,
  envClaimConflicts,
  RESERVED_ENV,
} from "../pods/pod";
import { Resources, mergeResources, resourcesRule } from "../pods/resources";
import { DEFAULT_SOURCE_SIZE, withDefaultSize, withEphemeralStorage } from "../pods/storage";
import { concatLists, lift } from "../values/inputs";
import { SKIP_AWAIT_ANNOTATION, WorkloadRole, recommendedLabels, toLabelValue } from "../pods/labels";
import { earthlyImage } from "../pods/images";
import { Scheduling, schedulingRule } from "../pods/scheduling";
import { ExtensibleChecks } from "../validation/checks";
import {
  booleanValue,
  earthlyVersion,
  imageDigest,
  imageReference,
  imageRepository,
  integerBetween,
  labelMap,
  sourcePath,
  printableText,
  rfc1123Label,
  rfc1123Subdomain,
} from "../validation/rules";
import { requiredFields } from "../validation/checks";
import { BuildSecret, buildSecretEnv, buildSecretFlags, buildSecretsRule } from "./buildSecrets";
import {
  ArtifactsVolume,
  artifactsSourceConflict,
  artifactsVolumeEntry,
  artifactsVolumeRule,
} from "./artifacts";
import { envNamesRefusedAs } from "../pods/envNames";
import { EarthlyConfig, EarthlyConfigMode, configEnvConflicts, earthlyConfigRule } from "./earthlyConfig";
import {
  GitCredentials,
  GIT_CREDENTIAL_ENV,
  gitCredentialConflicts,
  gitCredentialsImageConflict,
  gitCredentialsRule,
} from "./git";
import { imagePullSecretsRule } from "../pods/registries";
import { accessPieces } from "./access";
import { RemoteCache, remoteCacheFlags, remoteCacheRule } from "./remoteCache";
import { platformFlags, platformRule } from "./platform";
import { DEFAULT_JOB_TIMEOUT_MINUTES, EarthlyJobObject, buildJob } from "./buildJob";
import {
  OUTPUT_MODE_ENV,
  earthlyFlagsRule,
  earthlyTargetRule,
  flagEnvConflicts,
  outputModeConflicts,
} from "./flags";

/** Arguments both Earthly Jobs take. */
export interface EarthlyJobArgs {
  /** Namespace the Job runs in; it must exist. */
  namespace: pulumi.Input<string>;
  /**
   * The Earthly target to build, e.g. `github.com/earthly/ci-example-project:main+build` or `+build`.
   * `$(` is refused: Kubernetes would expand `$(VAR)` in the container's arguments.
   */
  target: pulumi.Input<string>;
  /**
   * Earthly flags placed before the target, e.g. `--ci` or `--push`. Passed as arguments, never
   * through a shell. The arguments are in the pod spec and every process list, so flags carrying a
   * credential or replacing what the components mount are refused: `--secret NAME=value` (use
   * `buildSecrets`; `--secret NAME` alone is accepted), `--git-password` (use `gitCredentials`),
   * `--config` (use `earthlyConfig`), `--ssh-auth-sock`, and the flags typed inputs own
   * (`--platform`, `--remote-cache`, `--max-remote-cache`); so is `$(`, which Kubernetes would expand.
   * `EarthlyRemoteJob` adds `--no-output` when neither these flags (`--ci`, `--no-output`,
   * `--output`, `--image`, `--artifact`) nor `artifacts` set the output mode: its client has no
   * Docker to take an image back, so images leave by `SAVE IMAGE --push` with `--push`; it warns at
   * preview when outputs are on.
   */
  flags?: pulumi.Input<string[]>;
  /** Earthly release tag (default `v0.8.16`). Not together with `image`. */
  earthlyVersion?: string;
  /** Image repository: `earthly/earthly` (default), `earthbuild/earthbuild` or a private mirror. */
  imageRepository?: string;
  /**
   * A full image reference for a custom runner image, with a tag, a digest or both
   * (`repo:tag@sha256:<64 hex>` pins it); replaces `imageRepository`, `earthlyVersion` and `imageDigest`.
   * Not together with `gitCredentials`, whose wrapper runs the `earthly/earthly` image's entrypoint.
   */
  image?: string;
  /**
   * Pins the image to this digest (`sha256:<64 hex>`): the reference becomes
   * `<imageRepository>:<earthlyVersion>@<digest>`, so a re-pushed tag cannot change what runs.
   */
  imageDigest?: string;
  /**
   * Source directory: the container's working directory and `SRC_DIR` (default `/workspace`). Not a
   * system directory nor under one (`/usr/src`, `/etc/x`, `/tmp/x` are refused).
   */
  srcDir?: string;
  /**
   * The volume mounted at `srcDir` (default: an `emptyDir` of at most 4Gi, enough for remote targets
   * and the artifacts a build saves locally; an `emptyDir` given without `sizeLimit` gets 4Gi too).
   */
  sourceVolume?: VolumeChoice;
  /** Extra environment, e.g. `EARTHLY_TOKEN` from a Secret (not `GLOBAL_CONFIG` or `GIT_CONFIG`: use `earthlyConfig`). */
  env?: pulumi.Input<EnvVar[]>;
  /**
   * Requests and limits; fields given replace the defaults one by one. Without an ephemeral-storage
   * limit, the default is raised to cover the node-disk `emptyDir` volumes; a limit given below
   * them is refused.
   */
  resources?: Resources;
  /** Node selector and tolerations, e.g. a `KindCluster` pool's scheduling. */
  scheduling?: pulumi.Input<Scheduling>;
  /**
   * The platform the build targets, e.g. `linux/arm64` (`--platform`; `linux/<arch>` for amd64,
   * arm64, arm, ppc64le, s390x, and `linux/arm/v6`, `linux/arm/v7`, `linux/arm64/v8`). Builds run
   * natively, never emulated: the all-in-one Job runs on a node of that architecture; the remote
   * client picks the fleet of that architecture among `fleets` (or checks its `fleet`'s).
   * Default: the daemon's own platform. `--platform` in `flags` is refused for it.
   */
  platform?: pulumi.Input<string>;
  /** Retries before the Job is failed (default 1). */
  backoffLimit?: number;
  /**
   * Seconds after which Kubernetes deletes the finished Job. Unset by default, so the Job and its log
   * stay until Pulumi deletes them. A Job deleted behind Pulumi's back (by this setting or by hand)
   * goes unnoticed by a plain `pulumi up`, which reports it unchanged; `pulumi up --refresh` finds it
   * gone and creates it again, which runs the build again.
   */
  ttlSecondsAfterFinished?: number;
  /**
   * Seconds the Job may run before Kubernetes stops it (its pod too, also one that never started).
   * Default: `timeoutMinutes` × 60 when `pulumi up` waits for the build, unset when it does not.
   */
  activeDeadlineSeconds?: number;
  /**
   * Minutes `pulumi up` waits for the build to finish (default 30). Unless `activeDeadlineSeconds`
   * says otherwise, Kubernetes fails the Job (`DeadlineExceeded`) at the same moment: the provider's
   * own wait restarts its clock at every change of the pod, so a pod stuck in `ImagePullBackOff`
   * would keep `pulumi up` waiting for ever.
   */
  timeoutMinutes?: number;
  /**
   * Whether `pulumi up` waits for the build and fails when it fails (default `true`). With `false`
   * the Job is created and `pulumi up` moves on (annotation `pulumi.com/skipAwait`); follow the
   * build with `kubectl logs --follow job/<jobName>` or a waiter of your own.
   */
  waitForCompletion?: boolean;
  /**
   * Any text; changing it runs the build again. It is an annotation of the Job's pod template, which
   * Kubernetes does not let change in place, so a new value replaces the Job (new name, new build).
   * The usual way to rebuild after a failed build, or to rebuild a moving target such as a branch.
   */
  rebuildTrigger?: pulumi.Input<string>;
  /** Extra labels for the Job and its pod. */
  labels?: { [key: string]: string };
  /**
   * Build secrets (`RUN --secret NAME`), each from a key of a Secret in the Job's namespace. Each
   * becomes a variable `NAME` filled from the Secret (`valueFrom.secretKeyRef`) and the flag
   * `--secret NAME`, so the value appears in no pod spec, argument or Pulumi state. In remote mode
   * the client reads them and sends them to the daemon for the build.
   */
  buildSecrets?: BuildSecret[];
  /**
   * An existing PersistentVolumeClaim for the build's local outputs (`SAVE ARTIFACT ... AS LOCAL`,
   * `earthly --artifact`), mounted at `directory` (default `out`) inside the working directory;
   * the Job's `artifacts` output says where. Without it, outputs land in the source volume.
   */
  artifacts?: ArtifactsVolume;
  /**
   * Earthly's registry cache (`--remote-cache`, and `--max-remote-cache` with `max`): a cache image
   * every build reads and builds run with `--push` write, with the Job's registry credentials
   * (`dockerConfigSecret`). Shared by every daemon and cluster that can reach the registry, where a
   * fleet's `persistentCache` is one instance's. `--remote-cache` in `flags` is refused for it.
   */
  remoteCache?: RemoteCache;
  /**
   * Earthly's config file (`/etc/.earthly/config.yml`, mounted from a ConfigMap): `global` settings
   * and per-host `git` settings, merged with what the component sets itself. The keys the component
   * owns (the BuildKit host, TLS, the cache size) and credentials are refused.
   */
  earthlyConfig?: EarthlyConfig;
  /**
   * Private Git repositories (the remote target, `IMPORT`, `GIT CLONE`): HTTPS tokens and an SSH key
   * from Secrets in the Job's namespace, by name. They are mounted read-only (mode 0400); a wrapper
   * writes a netrc file and starts an SSH agent in a memory volume, then runs the image's entrypoint.
   * An SSH key needs `knownHosts`: host key checking stays on. Not together with `image` (the wrapper
   * runs the `earthly/earthly` image's own entrypoint, `/usr/bin/earthly-entrypoint.sh`).
   */
  gitCredentials?: GitCredentials;
  /** Secrets the kubelet uses to pull the Earthly image from a private registry or mirror. */
  imagePullSecrets?: string[];
  /**
   * `false` runs the pod in a user namespace of its own: root in the container (and, in the all-in-one Job, the privileged daemon's capabilities) maps to an
   * unprivileged user on the node, so a container escape is not root there. Needs what Kubernetes
   * needs for it (stable in 1.36): a runtime that supports it (containerd 2.0 or later, or CRI-O),
   * Linux 6.3 or later, and volumes on filesystems with idmapped mounts (ext4, xfs, btrfs, tmpfs,
   * overlayfs; not NFS). A kubelet whose runtime lacks it refuses the pod ("runtime does not support
   * user namespaces"). Default: unset, the node's user namespace (see docs/security.md).
   */
  hostUsers?: boolean;
  /**
   * A `kubernetes.io/dockerconfigjson` Secret in the Job's namespace with the credentials of the
   * registries the build pulls from and pushes to (`--push`, `SAVE IMAGE --push`). Its
   * `.dockerconfigjson` is mounted read-only (mode 0400) as `config.json` in `DOCKER_CONFIG`, where
   * Earthly reads Docker credentials; in remote mode the client answers the daemon's requests for them.
   */
  dockerConfigSecret?: string;
}

/** The pod-template annotation carrying {@link EarthlyJobArgs.rebuildTrigger}. */
export const REBUILD_TRIGGER_ANNOTATION = "earthly-kubernetes/rebuild-trigger";

/**
 * The checks of the common arguments, for a kind of Job whose Earthly config file is written in
 * `configMode` (what `earthlyConfig` may hold depends on it: see {@link earthlyConfigRule}). A new
 * kind of Job names its mode here rather than inheriting another kind's.
 */
export function earthlyJobChecks(configMode: EarthlyConfigMode): ExtensibleChecks<EarthlyJobArgs> {
  return {
    rules: {
      namespace: rfc1123Label,
      target: earthlyTargetRule,
      flags: earthlyFlagsRule,
      earthlyVersion,
      imageRepository,
      image: imageReference,
      imageDigest,
      srcDir: sourcePath,
      sourceVolume: volumeChoiceRule,
      env: envListRule,
      resources: resourcesRule,
      scheduling: schedulingRule,
      backoffLimit: integerBetween(0, 100),
      ttlSecondsAfterFinished: integerBetween(0, 31_536_000),
      activeDeadlineSeconds: integerBetween(1, 31_536_000),
      timeoutMinutes: integerBetween(1, 1440),
      waitForCompletion: booleanValue,
      rebuildTrigger: printableText,
      labels: labelMap,
      buildSecrets: buildSecretsRule,
      artifacts: artifactsVolumeRule,
      earthlyConfig: earthlyConfigRule(configMode),
      gitCredentials: gitCredentialsRule,
      imagePullSecrets: imagePullSecretsRule,
      dockerConfigSecret: rfc1123Subdomain,
      hostUsers: booleanValue,
      remoteCache: remoteCacheRule,
      platform: platformRule,
    },
    cross: [
      {
        reads: ["gitCredentials", "earthlyConfig"],
        check: (args) => gitCredentialConflicts(args.gitCredentials, args.earthlyConfig),
      },
      {
        reads: ["env", "gitCredentials", "dockerConfigSecret", "buildSecrets"],
        check: (args) =>
          envClaimConflicts(args.env, [
            { by: "gitCredentials", names: args.gitCredentials ? GIT_CREDENTIAL_ENV : [] },
            {
              by: "dockerConfigSecret",
              names: args.dockerConfigSecret ? envNamesRefusedAs("claimed", "dockerConfigSecret") : [],
            },
            { by: "buildSecrets", names: (args.buildSecrets ?? []).map((secret) => secret.name) },
          ]),
      },
      { reads: ["env"], check: (args) => configEnvConflicts(args.env) },
      { reads: ["flags", "artifacts", "env"], check: (args) => outputModeConflicts(args) },
      {
        reads: ["env", "gitCredentials"],
        check: (args) =>
          flagEnvConflicts(args.env, [
            ...RESERVED_ENV,
            ...Object.keys(OUTPUT_MODE_ENV),
            // With gitCredentials, its own claim on these names says what to do.
            ...(args.gitCredentials ? GIT_CREDENTIAL_ENV : []),
          ]),
      },
      {
        reads: ["artifacts", "sourceVolume"],
        check: (args) =>
          artifactsSourceConflict(args.artifacts, args.sourceVolume?.persistentVolumeClaimName),
      },
      requiredFields<EarthlyJobArgs>({ target: "an Earthly target", namespace: "a namespace" }),
      {
        reads: ["gitCredentials", "image"],
        check: (args) => gitCredentialsImageConflict(args.gitCredentials, args.image),
      },
      {
        reads: ["image", "earthlyVersion", "imageRepository", "imageDigest"],
        check: (args) =>
          args.image !== undefined &&
          (args.earthlyVersion !== undefined ||
            args.imageRepository !== undefined ||
            args.imageDigest !== undefined)
            ? [
                {
                  field: "image",
                  value: args.image,
                  allowed:
                    "either image (with its own tag or digest), or earthlyVersion/imageRepository/imageDigest, not both",
                },
              ]
            : [],
      },
    ],
  };
}

/** The parts in which the two Jobs differ; an Output is a leaf of the objects, the rest stays known. */
export interface EarthlyJobShape {
  /** The component instance (resource name). */
  instance: string;
  role: WorkloadRole;
  /** The Earthly version in force (the client takes its fleet's). */
  version: pulumi.Input<string>;
  privileged: boolean;
  defaultResources: Resources;
  /** Ephemeral storage the container needs beyond its node-disk volumes: writable layer and logs. */
  storageHeadroom: string;
  /** The pod's security context (the unprivileged client's user and group). */
  podSecurityContext?: KubePodSecurityContext;
  /** For an unprivileged container: a read-only root filesystem. */
  readOnlyRootFilesystem?: boolean;
  /** Variables set by the package, before `SRC_DIR` and the user's. */
  env: readonly KubeEnvVar[] | pulumi.Output<readonly KubeEnvVar[]>;
  /**
   * The flags this kind of Job adds to the user's for its outputs, from the user's flags and
   * whether `artifacts` is set (see `artifactsOutputFlags`, `remoteOutputFlags`).
   */
  outputFlags: (flags: readonly string[] | undefined, artifacts: boolean) => string[];
  /** Labels the pod needs besides the recommended ones (e.g. the fleet's client label). */
  extraLabels?: pulumi.Input<{ [key: string]: string }>;
  /**
   * Volumes besides the workspace, each with where it is mounted, and, for a volume that may take
   * node disk, its choice (its size then counts towards the container's ephemeral storage).
   */
  volumes: readonly (VolumeEntry & { choice?: VolumeChoice })[];
}

/** The workspace volume in force: the one given, or an `emptyDir`, sized by default. */
export function sourceVolumeOf(args: Pick<EarthlyJobArgs, "sourceVolume">): VolumeChoice {
  return withDefaultSize(args.sourceVolume, DEFAULT_SOURCE_SIZE);
}

/** The requests and limits in force for the common arguments and the Job's shape. */
export function jobResources(
  args: Pick<EarthlyJobArgs, "resources" | "sourceVolume">,
  shape: Pick<EarthlyJobShape, "defaultResources" | "storageHeadroom" | "volumes">,
): Resources {
  const volumes = [sourceVolumeOf(args), ...shape.volumes.flatMap((v) => (v.choice ? [v.choice] : []))];
  return withEphemeralStorage(
    mergeResources(shape.defaultResources, args.resources),
    args.resources,
    volumes,
    shape.storageHeadroom,
  );
}

/**
 * The Job object for the common arguments and the Job's shape. Pure and deterministic; an argument
 * given as an Output is an Output only at the leaves it feeds (arguments, variables, scheduling...).
 */
export function earthlyJobObject(args: EarthlyJobArgs, shape: EarthlyJobShape): EarthlyJobObject {
  const srcDir = args.srcDir ?? DEFAULT_SRC_DIR;
  const labels = lift({ extra: shape.extraLabels, version: shape.version }, ({ extra, version }) => ({
    ...(args.labels ?? {}),
    ...(extra ?? {}),
    ...recommendedLabels({
      app: "earthly",
      instance: toLabelValue(shape.instance),
      role: shape.role,
      version: toLabelValue(args.image ? "custom" : version),
    }),
  }));
  const access = accessPieces(args);
  const container = buildContainer({
    name: "earthly",
    command: access.command,
    image: lift(shape.version, (version) =>
      earthlyImage({ ...args, earthlyVersion: args.image ? undefined : version }),
    ),
    args: lift(
      { flags: args.flags, target: args.target, platform: args.platform },
      ({ flags, target, platform }) => [
        ...buildSecretFlags(args.buildSecrets),
        ...platformFlags(platform),
        ...remoteCacheFlags(args.remoteCache),
        ...(flags ?? []),
        ...shape.outputFlags(flags, args.artifacts !== undefined),
        target,
      ],
    ),
    env: concatLists<KubeEnvVar>([
      shape.env,
      [{ name: "SRC_DIR", value: srcDir }, ...buildSecretEnv(args.buildSecrets), ...access.env],
    ]),
    extraEnv: args.env,
    resources: jobResources(args, shape),
    privileged: shape.privileged,
    readOnlyRootFilesystem: shape.readOnlyRootFilesystem,
    workingDir: srcDir,
    volumeMounts: [
      { name: "workspace", mountPath: srcDir },
      ...shape.volumes.map((v) => v.mount),
      ...artifactsVolumeEntry(args.artifacts, srcDir).map((v) => v.mount),
      ...access.volumes.map((v) => v.mount),
    ],
  });
  const job = buildJob({
    namespace: args.namespace,
    labels,
    annotations: args.waitForCompletion === false ? { [SKIP_AWAIT_ANNOTATION]: "true" } : undefined,
    templateAnnotations: lift(args.rebuildTrigger, (trigger) =>
      trigger !== undefined ? { [REBUILD_TRIGGER_ANNOTATION]: trigger } : undefined,
    ),
    backoffLimit: args.backoffLimit ?? 1,
    ttlSecondsAfterFinished: args.ttlSecondsAfterFinished,
    activeDeadlineSeconds:
      args.activeDeadlineSeconds ??
      (args.waitForCompletion === false
        ? undefined
        : (args.timeoutMinutes ?? DEFAULT_JOB_TIMEOUT_MINUTES) * 60),
    podSpec: buildPodSpec({
      restartPolicy: "Never",
      containers: [container],
      volumes: [
        { name: "workspace", ...toKubeVolumeSource(sourceVolumeOf(args)) },
        ...shape.volumes.map((v) => v.volume),
        ...artifactsVolumeEntry(args.artifacts, srcDir).map((v) => v.volume),
        ...access.volumes.map((v) => v.volume),
      ],
      scheduling: args.scheduling,
      securityContext: shape.podSecurityContext,
      imagePullSecrets: access.imagePullSecrets,
      hostUsers: args.hostUsers,
    }),
  });
  return job;
}
