import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { artifactsOutputFlags } from "./flags";
import {
  DEFAULT_EARTHLY_TMP_DIR,
  DEFAULT_SRC_DIR,
  KubeEnvVar,
  VolumeChoice,
  cniMtuRule,
  distinctDirectories,
  toKubeVolumeSource,
  volumeChoiceRule,
  envClaimConflicts,
} from "../pods/pod";
import { Resources, resourceOrderProblems } from "../pods/resources";
import {
  EarthlyJobArgs,
  EarthlyJobShape,
  earthlyJobChecks,
  earthlyJobObject,
  jobResources,
  sourceVolumeOf,
} from "./job";
import { EarthlyJobObject, jobPodSelector, newBuildJob, earthlyJobOutputs, warnOnFlags } from "./buildJob";
import { remoteCacheWarning } from "./remoteCache";
import { platformScheduling, platformSchedulingProblems } from "./platform";
import { EgressRules, NetworkPolicyObject, buildPodNetworkPolicy, egressRulesRule } from "../pods/network";
import {
  DEFAULT_SCRATCH_SIZE,
  cacheSizeProblems,
  effectiveCacheSize,
  ephemeralStorageProblems,
  volumeSize,
  withDefaultSize,
} from "../pods/storage";
import { concatLists, lift, registeredAfter } from "../values/inputs";
import { earthlyConfigVolume, needsConfigFile, renderEarthlyConfig } from "./earthlyConfig";
import { gitSitesFor } from "./git";
import {
  BuildkitRegistry,
  buildkitRegistriesEnv,
  buildkitRegistriesClaim,
  buildkitRegistriesRule,
} from "../pods/registries";
import { ArtifactsLocation } from "./artifacts";
import { DEFAULT_EARTHLY_VERSION, earthlyImage } from "../pods/images";
import { ExtensibleChecks, checkArgs, knownProblems } from "../validation/checks";
import { PLAIN_INPUTS } from "../validation/plainInputs";
import { Problem } from "../validation/errors";
import { integerBetween, mountPath } from "../validation/rules";

/** Arguments of {@link EarthlyAllInOneJob}. */
export interface EarthlyAllInOneJobArgs extends EarthlyJobArgs {
  /**
   * Namespace the Job runs in. It must exist. The pod is privileged, so use a namespace set aside
   * for builders and labelled `pod-security.kubernetes.io/enforce: privileged`.
   */
  namespace: pulumi.Input<string>;
  /** Earthly's scratch directory: `EARTHLY_TMP_DIR` and the scratch volume's mount path (default `/tmp/earthly`). */
  earthlyTmpDir?: string;
  /**
   * Where the scratch directory's data lives: buildkitd's cache and build layers (default: an
   * `emptyDir` of at most 40Gi; an `emptyDir` given without `sizeLimit` gets 40Gi too).
   */
  scratchVolume?: VolumeChoice;
  /** Forces the MTU of buildkitd's CNI bridge (`CNI_MTU`), e.g. 1440 under Calico; 576 to 9216. */
  cniMtu?: pulumi.Input<number>;
  /**
   * Requests and limits (defaults: requests 500m CPU / 1Gi / 10Gi ephemeral storage, limits 2 CPU /
   * 4Gi / 46Gi ephemeral storage; given fields replace them). Without an ephemeral-storage limit, the
   * default is raised to the node-disk volumes plus 2Gi; a limit given below the volumes is refused.
   */
  resources?: Resources;
  /**
   * `CACHE_SIZE_MB` of the embedded buildkitd. Default: 80% of the scratch volume's size when it is
   * known (an `emptyDir`'s `sizeLimit` or an ephemeral claim's size); at most that size.
   */
  cacheSizeMb?: number;
  /** `CACHE_SIZE_PCT`: the cache's share of the scratch volume, 1 to 100 (instead of the derived `cacheSizeMb`). */
  cacheSizePct?: number;
  /**
   * Where the build may connect (an egress NetworkPolicy; no pod may connect to it in any case).
   * Default: DNS and the internet, not the cluster's private ranges nor link-local metadata addresses.
   */
  egress?: EgressRules;
  /**
   * BuildKit's registry settings, per registry host: `mirrors` to pull from, `http`, `insecure`
   * (`[registry."<host>"]` in `buildkitd.toml`, through `EARTHLY_ADDITIONAL_BUILDKIT_CONFIG`), e.g.
   * `{ "docker.io": { mirrors: ["mirror.example.com"] } }`.
   */
  buildkitRegistries?: { [host: string]: BuildkitRegistry };
}

/** The component's type token. */
export const EARTHLY_ALL_IN_ONE_JOB_TYPE = "earthly-kubernetes:index:EarthlyAllInOneJob";

/** Defaults for the all-in-one container (a whole buildkitd runs inside it). */
export const ALL_IN_ONE_DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "500m", memory: "1Gi", ephemeralStorage: "10Gi" },
  // 40Gi scratch + 4Gi workspace + 2Gi for the writable layer (buildkitd's log) and logs.
  limits: { cpu: "2", memory: "4Gi", ephemeralStorage: "46Gi" },
};

/** Ephemeral storage the all-in-one container needs beyond its volumes: buildkitd's log and the container's. */
export const ALL_IN_ONE_STORAGE_HEADROOM = "2Gi";

/** The common checks, with Earthly's config file written the all-in-one way. */
const commonChecks = earthlyJobChecks("all-in-one");

/** The checks of every argument, and across arguments. */
export const allInOneJobChecks: ExtensibleChecks<EarthlyAllInOneJobArgs> = {
  rules: {
    ...commonChecks.rules,
    earthlyTmpDir: mountPath,
    scratchVolume: volumeChoiceRule,
    cniMtu: cniMtuRule,
    cacheSizeMb: integerBetween(1, 100_000_000),
    cacheSizePct: integerBetween(1, 100),
    egress: egressRulesRule,
    buildkitRegistries: buildkitRegistriesRule,
  },
  plain: { inputs: PLAIN_INPUTS.EarthlyAllInOneJob },
  cross: [
    ...commonChecks.cross,
    {
      reads: ["resources"],
      check: (args) => resourceOrderProblems(ALL_IN_ONE_DEFAULT_RESOURCES, args.resources),
    },
    {
      reads: ["platform", "scheduling"],
      check: (args) => platformSchedulingProblems(args.platform, args.scheduling),
    },
    {
      reads: ["buildkitRegistries", "env"],
      check: (args) => envClaimConflicts(args.env, [buildkitRegistriesClaim(args.buildkitRegistries)]),
    },
    {
      reads: ["earthlyTmpDir", "srcDir"],
      check: (args) =>
        distinctDirectories(
          "earthlyTmpDir",
          args.earthlyTmpDir ?? DEFAULT_EARTHLY_TMP_DIR,
          "srcDir",
          args.srcDir ?? DEFAULT_SRC_DIR,
        ),
    },
    {
      reads: ["cacheSizeMb", "scratchVolume"],
      check: (args) =>
        cacheSizeProblems(args.cacheSizeMb, "scratchVolume", volumeSize(scratchVolumeOf(args))),
    },
    {
      reads: ["resources", "scratchVolume", "sourceVolume"],
      check: (args) =>
        ephemeralStorageProblems(
          args.resources,
          [
            { field: "sourceVolume", choice: sourceVolumeOf(args) },
            { field: "scratchVolume", choice: scratchVolumeOf(args) },
          ],
          jobResources(args, allInOneShape(args)),
        ),
    },
  ],
};

/** The scratch volume in force: the one given, or an `emptyDir`, sized by default. */
export function scratchVolumeOf(args: Pick<EarthlyAllInOneJobArgs, "scratchVolume">): VolumeChoice {
  return withDefaultSize(args.scratchVolume, DEFAULT_SCRATCH_SIZE);
}

/** The all-in-one shape's storage parts: its defaults and the scratch volume. */
function allInOneShape(
  args: Pick<EarthlyAllInOneJobArgs, "scratchVolume">,
): Pick<EarthlyJobShape, "defaultResources" | "storageHeadroom" | "volumes"> {
  return {
    defaultResources: ALL_IN_ONE_DEFAULT_RESOURCES,
    storageHeadroom: ALL_IN_ONE_STORAGE_HEADROOM,
    volumes: [scratchVolumeEntry(args, DEFAULT_EARTHLY_TMP_DIR)],
  };
}

function scratchVolumeEntry(
  args: Pick<EarthlyAllInOneJobArgs, "scratchVolume">,
  tmpDir: string,
): EarthlyJobShape["volumes"][number] {
  const choice = scratchVolumeOf(args);
  return {
    volume: { name: "earthly-tmp", ...toKubeVolumeSource(choice) },
    mount: { name: "earthly-tmp", mountPath: tmpDir },
    choice,
  };
}

/**
 * The Job object for the arguments. Pure and deterministic: the same arguments always give the same
 * object; an argument given as an Output is an Output only at the leaves it feeds.
 */
export function allInOneJobObject(
  instance: string,
  args: EarthlyAllInOneJobArgs,
  mounted: { configMapName?: pulumi.Input<string> } = {},
): EarthlyJobObject {
  const tmpDir = args.earthlyTmpDir ?? DEFAULT_EARTHLY_TMP_DIR;
  const cache = effectiveCacheSize(args, volumeSize(scratchVolumeOf(args)));
  // The build runs on this pod's node: on the platform's architecture, when the build targets one.
  const placed = { ...args, scheduling: platformScheduling(args.scheduling, args.platform) };
  return earthlyJobObject(placed, {
    instance,
    role: "all-in-one",
    version: args.earthlyVersion ?? DEFAULT_EARTHLY_VERSION,
    privileged: true,
    outputFlags: artifactsOutputFlags,
    ...allInOneShape(args),
    env: concatLists<KubeEnvVar>([
      [
        { name: "EARTHLY_TMP_DIR", value: tmpDir },
        ...(cache.cacheSizeMb !== undefined
          ? [{ name: "CACHE_SIZE_MB", value: String(cache.cacheSizeMb) }]
          : []),
        ...(cache.cacheSizePct !== undefined
          ? [{ name: "CACHE_SIZE_PCT", value: String(cache.cacheSizePct) }]
          : []),
      ],
      buildkitRegistriesEnv(args.buildkitRegistries),
      lift(args.cniMtu, (cniMtu): KubeEnvVar[] =>
        cniMtu !== undefined ? [{ name: "CNI_MTU", value: String(cniMtu) }] : [],
      ),
    ]),
    volumes: [
      scratchVolumeEntry(args, tmpDir),
      ...(mounted.configMapName !== undefined ? [earthlyConfigVolume(mounted.configMapName)] : []),
    ],
  });
}

/**
 * The all-in-one pod's NetworkPolicy: no ingress; egress to DNS and the internet unless `egress`
 * says otherwise. Auto-named; selects the Job's pods by their instance and role labels.
 */
export function allInOneNetworkPolicy(instance: string, args: EarthlyAllInOneJobArgs): NetworkPolicyObject {
  return buildPodNetworkPolicy({
    namespace: args.namespace,
    podSelector: jobPodSelector(instance, "all-in-one"),
    egress: args.egress,
    internetByDefault: true,
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
  /**
   * Where the build's local outputs land: the `artifacts` claim, the directory inside it, and the
   * path in the build pod. Unset without `artifacts` (outputs then stay in the source volume).
   */
  public readonly artifacts: pulumi.Output<ArtifactsLocation | undefined>;

  /**
   * What the constructor would refuse in these arguments, among the values known now (an Output is
   * checked when it resolves), without registering anything: for checking a configuration before
   * creating any resource. Empty when the known values pass.
   */
  public static argumentProblems(_name: string, args: EarthlyAllInOneJobArgs): Problem[] {
    return knownProblems(args, allInOneJobChecks);
  }

  constructor(name: string, args: EarthlyAllInOneJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `EarthlyAllInOneJob "${name}"`;
    // Known values are checked before anything, even this component, is registered; inputs not
    // known yet when they resolve: each at the leaves it feeds, and all together before the Job.
    const checked = checkArgs(component, args, allInOneJobChecks);
    super(EARTHLY_ALL_IN_ONE_JOB_TYPE, name, {}, opts);

    // Earthly's config file, when there is anything to put in it (else the entrypoint writes an empty one).
    const config = needsConfigFile(args)
      ? new kubernetes.core.v1.ConfigMap(
          `${name}-config`,
          {
            metadata: { namespace: checked.fields.namespace },
            data: {
              "config.yml": renderEarthlyConfig({
                config: args.earthlyConfig,
                gitSites: gitSitesFor(args.gitCredentials),
              }),
            },
          },
          { parent: this, dependsOn: registeredAfter(checked.all) },
        )
      : undefined;
    const object = allInOneJobObject(name, checked.fields, { configMapName: config?.metadata.name });
    const job = newBuildJob(
      name,
      this,
      {
        job: object,
        policy: allInOneNetworkPolicy(name, checked.fields),
        timeoutMinutes: args.timeoutMinutes,
      },
      checked.all,
    );
    warnOnFlags(this, args.flags, [(flags) => remoteCacheWarning(component, args.remoteCache, flags)]);
    const outputs = earthlyJobOutputs(job, args);
    ({ jobName: this.jobName, namespace: this.namespace, artifacts: this.artifacts } = outputs);
    this.image = pulumi.output(earthlyImage(args));
    this.registerOutputs({ ...outputs, image: this.image });
  }
}
