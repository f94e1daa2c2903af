import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_EARTHLY_TMP_DIR,
  DEFAULT_SRC_DIR,
  EnvVar,
  KubeObject,
  Resources,
  VolumeChoice,
  argsRule,
  buildContainer,
  buildJob,
  buildPodSpec,
  cniMtuRule,
  distinctDirectories,
  envListRule,
  mergeResources,
  resourcesRule,
  toKubeVolumeSource,
  volumeChoiceRule,
} from "./lib/earthlyPod";
import { DEFAULT_EARTHLY_VERSION, earthlyImage, recommendedLabels, toLabelValue } from "./lib/labels";
import { Scheduling, schedulingRule } from "./lib/scheduling";
import {
  ArgRules,
  Problem,
  checkKnownArgs,
  checkResolvedArgs,
  earthlyVersion,
  imageReference,
  imageRepository,
  integerBetween,
  labelMap,
  mountPath,
  printableText,
  rfc1123Label,
} from "./lib/validation";

/** Arguments of {@link EarthlyAllInOneJob}. */
export interface EarthlyAllInOneJobArgs {
  /**
   * Namespace the Job runs in. It must exist. The pod is privileged, so use a namespace set aside
   * for builders and labelled `pod-security.kubernetes.io/enforce: privileged`.
   */
  namespace: pulumi.Input<string>;
  /** The Earthly target to build, e.g. `github.com/earthly/ci-example-project:main+build` or `+build`. */
  target: pulumi.Input<string>;
  /** Earthly flags placed before the target, e.g. `--ci` or `--push`. Passed as arguments, never through a shell. */
  flags?: pulumi.Input<string[]>;
  /** Earthly release tag, e.g. `v0.8.16` (the default). Not together with `image`. */
  earthlyVersion?: string;
  /** Image repository, e.g. `earthly/earthly` (default), `earthbuild/earthbuild` or a private mirror. */
  imageRepository?: string;
  /** A full image reference for a custom runner image; replaces `imageRepository` and `earthlyVersion`. */
  image?: string;
  /** Earthly's scratch directory: `EARTHLY_TMP_DIR` and the scratch volume's mount path (default `/tmp/earthly`). */
  earthlyTmpDir?: string;
  /** Where the scratch directory's data lives (default: an `emptyDir`). */
  scratchVolume?: VolumeChoice;
  /** Source directory: the container's working directory and `SRC_DIR` (default `/workspace`). */
  srcDir?: string;
  /** The volume mounted at `srcDir` (default: an empty `emptyDir`, enough for remote targets). */
  sourceVolume?: VolumeChoice;
  /** Forces the MTU of buildkitd's CNI bridge (`CNI_MTU`), e.g. 1440 under Calico; 576 to 9216. */
  cniMtu?: pulumi.Input<number>;
  /** Extra environment, e.g. `GLOBAL_CONFIG`, or `EARTHLY_TOKEN` from a Secret. */
  env?: pulumi.Input<EnvVar[]>;
  /** Node selector and tolerations, e.g. a `KindCluster` pool's scheduling. */
  scheduling?: pulumi.Input<Scheduling>;
  /** Requests and limits (defaults: requests 500m CPU / 1Gi, limits 2 CPU / 4Gi; given fields replace them). */
  resources?: Resources;
  /** Retries before the Job is failed (default 1). */
  backoffLimit?: number;
  /**
   * Seconds after which Kubernetes deletes the finished Job. Unset by default: a Job deleted behind
   * Pulumi's back is re-created, and so re-run, by the next `pulumi up`.
   */
  ttlSecondsAfterFinished?: number;
  /** Seconds the Job may run before Kubernetes stops it. */
  activeDeadlineSeconds?: number;
  /** Minutes `pulumi up` waits for the build to finish (default 30). */
  timeoutMinutes?: number;
  /** Extra labels for the Job and its pod. */
  labels?: { [key: string]: string };
}

/** The component's type token. */
export const EARTHLY_ALL_IN_ONE_JOB_TYPE = "earthly-kubernetes:index:EarthlyAllInOneJob";

/** Defaults for the all-in-one container (a whole buildkitd runs inside it). */
export const ALL_IN_ONE_DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "500m", memory: "1Gi" },
  limits: { cpu: "2", memory: "4Gi" },
};

/** Validation rules for each argument. */
export const allInOneJobRules: Partial<ArgRules<EarthlyAllInOneJobArgs>> = {
  namespace: rfc1123Label,
  target: printableText,
  flags: argsRule,
  earthlyVersion,
  imageRepository,
  image: imageReference,
  earthlyTmpDir: mountPath,
  scratchVolume: volumeChoiceRule,
  srcDir: mountPath,
  sourceVolume: volumeChoiceRule,
  cniMtu: cniMtuRule,
  env: envListRule,
  scheduling: schedulingRule,
  resources: resourcesRule,
  backoffLimit: integerBetween(0, 100),
  ttlSecondsAfterFinished: integerBetween(0, 31_536_000),
  activeDeadlineSeconds: integerBetween(1, 31_536_000),
  timeoutMinutes: integerBetween(1, 1440),
  labels: labelMap,
};

/** Rules across arguments. */
export function allInOneJobCombinedRules(args: pulumi.Unwrap<EarthlyAllInOneJobArgs>): Problem[] {
  return [
    ...(args.target === undefined
      ? [{ field: "target", value: undefined, allowed: "an Earthly target" }]
      : []),
    ...(args.namespace === undefined
      ? [{ field: "namespace", value: undefined, allowed: "a namespace" }]
      : []),
    ...(args.image !== undefined && (args.earthlyVersion !== undefined || args.imageRepository !== undefined)
      ? [
          {
            field: "image",
            value: args.image,
            allowed: "either image, or earthlyVersion/imageRepository, not both",
          },
        ]
      : []),
    ...distinctDirectories(
      "earthlyTmpDir",
      args.earthlyTmpDir ?? DEFAULT_EARTHLY_TMP_DIR,
      "srcDir",
      args.srcDir ?? DEFAULT_SRC_DIR,
    ),
  ];
}

/**
 * The Job object for resolved arguments. Pure and deterministic: the same arguments always give
 * the same object.
 */
export function allInOneJobObject(instance: string, args: pulumi.Unwrap<EarthlyAllInOneJobArgs>): KubeObject {
  const version = args.earthlyVersion ?? DEFAULT_EARTHLY_VERSION;
  const image = earthlyImage(args);
  const tmpDir = args.earthlyTmpDir ?? DEFAULT_EARTHLY_TMP_DIR;
  const srcDir = args.srcDir ?? DEFAULT_SRC_DIR;
  const labels = {
    ...(args.labels ?? {}),
    ...recommendedLabels({
      app: "earthly",
      instance: toLabelValue(instance),
      role: "all-in-one",
      version: toLabelValue(args.image ? "custom" : version),
    }),
  };
  const container = buildContainer({
    name: "earthly",
    image,
    args: [...(args.flags ?? []), args.target],
    env: [
      { name: "EARTHLY_TMP_DIR", value: tmpDir },
      { name: "SRC_DIR", value: srcDir },
      ...(args.cniMtu !== undefined ? [{ name: "CNI_MTU", value: String(args.cniMtu) }] : []),
    ],
    extraEnv: args.env,
    resources: mergeResources(ALL_IN_ONE_DEFAULT_RESOURCES, args.resources),
    privileged: true,
    workingDir: srcDir,
    volumeMounts: [
      { name: "earthly-tmp", mountPath: tmpDir },
      { name: "workspace", mountPath: srcDir },
    ],
  });
  return buildJob({
    namespace: args.namespace,
    labels,
    backoffLimit: args.backoffLimit ?? 1,
    ttlSecondsAfterFinished: args.ttlSecondsAfterFinished,
    activeDeadlineSeconds: args.activeDeadlineSeconds,
    podSpec: buildPodSpec({
      restartPolicy: "Never",
      containers: [container],
      volumes: [
        { name: "earthly-tmp", ...toKubeVolumeSource(args.scratchVolume) },
        { name: "workspace", ...toKubeVolumeSource(args.sourceVolume) },
      ],
      scheduling: args.scheduling,
    }),
  });
}

/**
 * An Earthly build in one privileged pod: the `earthly/earthly` image with its embedded buildkitd
 * (Earthly's recommended mode on Kubernetes). `pulumi up` waits for the build and fails if it fails.
 * Works with any Kubernetes provider passed in the resource options.
 */
export class EarthlyAllInOneJob extends pulumi.ComponentResource {
  /** The Job's name (auto-named from the resource name). */
  public readonly jobName: pulumi.Output<string>;
  /** The namespace the Job runs in. */
  public readonly namespace: pulumi.Output<string>;
  /** The image the Job runs. */
  public readonly image: pulumi.Output<string>;

  constructor(name: string, args: EarthlyAllInOneJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `EarthlyAllInOneJob "${name}"`;
    // Known values are checked before anything, even this component, is registered.
    checkKnownArgs(component, args, allInOneJobRules, allInOneJobCombinedRules);
    super(EARTHLY_ALL_IN_ONE_JOB_TYPE, name, {}, opts);

    const object = pulumi.output(args).apply((resolved) => {
      checkResolvedArgs(component, resolved, allInOneJobRules, allInOneJobCombinedRules);
      return allInOneJobObject(name, resolved);
    });
    const timeout = `${args.timeoutMinutes ?? 30}m`;
    const job = new kubernetes.batch.v1.Job(
      name,
      {
        metadata: object.apply((o) => o.metadata as kubernetes.types.input.meta.v1.ObjectMeta),
        spec: object.apply((o) => o.spec as kubernetes.types.input.batch.v1.JobSpec),
      },
      { parent: this, customTimeouts: { create: timeout, update: timeout } },
    );

    this.jobName = job.metadata.name;
    this.namespace = job.metadata.namespace;
    this.image = pulumi.output(earthlyImage(args));
    this.registerOutputs({ jobName: this.jobName, namespace: this.namespace, image: this.image });
  }
}
