import * as pulumi from "@pulumi/pulumi";
import {
  DEFAULT_EARTHLY_TMP_DIR,
  DEFAULT_SRC_DIR,
  KubeObject,
  Resources,
  VolumeChoice,
  cniMtuRule,
  distinctDirectories,
  toKubeVolumeSource,
  volumeChoiceRule,
} from "../kubernetes/pod";
import { EarthlyJobArgs, EarthlyJobObject, earthlyJobChecks, earthlyJobObject } from "./job";
import { concatLists, lift, registeredAfter } from "../kubernetes/inputs";
import { newBuildJob } from "./job";
import { DEFAULT_EARTHLY_VERSION, earthlyImage } from "../kubernetes/images";
import { ArgChecks, checkKnownArgs, checkedArgs } from "../validation/checks";
import { mountPath } from "../validation/rules";

/** Arguments of {@link EarthlyAllInOneJob}. */
export interface EarthlyAllInOneJobArgs extends EarthlyJobArgs {
  /**
   * Namespace the Job runs in. It must exist. The pod is privileged, so use a namespace set aside
   * for builders and labelled `pod-security.kubernetes.io/enforce: privileged`.
   */
  namespace: pulumi.Input<string>;
  /** Earthly's scratch directory: `EARTHLY_TMP_DIR` and the scratch volume's mount path (default `/tmp/earthly`). */
  earthlyTmpDir?: string;
  /** Where the scratch directory's data lives (default: an `emptyDir`). */
  scratchVolume?: VolumeChoice;
  /** Forces the MTU of buildkitd's CNI bridge (`CNI_MTU`), e.g. 1440 under Calico; 576 to 9216. */
  cniMtu?: pulumi.Input<number>;
  /** Requests and limits (defaults: requests 500m CPU / 1Gi, limits 2 CPU / 4Gi; given fields replace them). */
  resources?: Resources;
}

/** The component's type token. */
export const EARTHLY_ALL_IN_ONE_JOB_TYPE = "earthly-kubernetes:index:EarthlyAllInOneJob";

/** Defaults for the all-in-one container (a whole buildkitd runs inside it). */
export const ALL_IN_ONE_DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "500m", memory: "1Gi" },
  limits: { cpu: "2", memory: "4Gi" },
};

/** The checks of every argument, and across arguments. */
export const allInOneJobChecks: Required<ArgChecks<EarthlyAllInOneJobArgs>> = {
  rules: {
    ...earthlyJobChecks.rules,
    earthlyTmpDir: mountPath,
    scratchVolume: volumeChoiceRule,
    cniMtu: cniMtuRule,
  },
  cross: [
    ...earthlyJobChecks.cross,
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
  ],
};

/**
 * The Job object for the arguments. Pure and deterministic: the same arguments always give the same
 * object; an argument given as an Output is an Output only at the leaves it feeds.
 */
export function allInOneJobObject(instance: string, args: EarthlyAllInOneJobArgs): EarthlyJobObject {
  const tmpDir = args.earthlyTmpDir ?? DEFAULT_EARTHLY_TMP_DIR;
  return earthlyJobObject(args, {
    instance,
    role: "all-in-one",
    version: args.earthlyVersion ?? DEFAULT_EARTHLY_VERSION,
    privileged: true,
    defaultResources: ALL_IN_ONE_DEFAULT_RESOURCES,
    env: concatLists<KubeObject>([
      [{ name: "EARTHLY_TMP_DIR", value: tmpDir }],
      lift(args.cniMtu, (cniMtu): KubeObject[] =>
        cniMtu !== undefined ? [{ name: "CNI_MTU", value: String(cniMtu) }] : [],
      ),
    ]),
    volumes: [
      {
        volume: { name: "earthly-tmp", ...toKubeVolumeSource(args.scratchVolume) },
        mount: { name: "earthly-tmp", mountPath: tmpDir },
      },
    ],
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
    checkKnownArgs(component, args, allInOneJobChecks);
    super(EARTHLY_ALL_IN_ONE_JOB_TYPE, name, {}, opts);

    // Inputs not known yet are checked when they resolve: each at the leaves it feeds, and all
    // together (rules across fields included) before the Job is registered.
    const checked = checkedArgs(component, args, allInOneJobChecks);
    const object = allInOneJobObject(name, checked.fields);
    const job = newBuildJob(name, object, args.timeoutMinutes, this, registeredAfter(checked.all));
    this.jobName = job.metadata.name;
    this.namespace = job.metadata.namespace;
    this.image = pulumi.output(earthlyImage(args));
    this.registerOutputs({ jobName: this.jobName, namespace: this.namespace, image: this.image });
  }
}
