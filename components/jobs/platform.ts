/**
 * The platform a build targets (`--platform`), and what it asks of where the build runs: a daemon on
 * a node of that architecture. Nothing here sets up emulation: a build for `linux/arm64` runs on an
 * `arm64` node, the all-in-one Job's own or a fleet's.
 */
import * as pulumi from "@pulumi/pulumi";
import { Problem, Rule } from "../validation/errors";
import { oneOf } from "../validation/rules";
import { ARCH_LABEL, NODE_ARCHITECTURES, Scheduling } from "../pods/scheduling";
import { lift } from "../values/inputs";

/**
 * The platforms a build may target: Linux on each node architecture, and the variants a registry
 * names for Arm (`v6`, `v7` for 32-bit; `v8` for 64-bit).
 */
export const BUILD_PLATFORMS: readonly string[] = [
  ...NODE_ARCHITECTURES.map((arch) => `linux/${arch}`),
  "linux/arm/v6",
  "linux/arm/v7",
  "linux/arm64/v8",
];

/** Checks a platform: one of {@link BUILD_PLATFORMS}. */
export const platformRule: Rule<string> = oneOf(BUILD_PLATFORMS);

/** The node architecture (`kubernetes.io/arch`) a platform's builds run on natively. */
export function platformArchitecture(platform: string): string {
  return platform.split("/")[1];
}

/** The flag for a platform: `--platform=<platform>`, before the user's flags. */
export function platformFlags(platform: string | undefined): string[] {
  return platform === undefined ? [] : [`--platform=${platform}`];
}

/**
 * A Job's scheduling on the platform's architecture: `architecture` set to it when unset (when set,
 * it must agree: see {@link platformSchedulingProblems}). Unchanged without a platform.
 */
export function platformScheduling(
  scheduling: pulumi.Input<Scheduling> | undefined,
  platform: pulumi.Input<string> | undefined,
): pulumi.Input<Scheduling> | undefined {
  if (platform === undefined) return scheduling;
  return lift({ scheduling, platform }, ({ scheduling: s, platform: p }) => ({
    ...(s ?? {}),
    architecture: s?.architecture ?? platformArchitecture(p),
  }));
}

/**
 * A Job whose build runs in its own pod (the all-in-one Job) and targets a platform must run on a
 * node of its architecture: `scheduling` may not name another one (in `architecture` or the
 * nodeSelector's `kubernetes.io/arch`).
 */
export function platformSchedulingProblems(
  platform: string | undefined,
  scheduling: Scheduling | undefined,
): Problem[] {
  if (platform === undefined) return [];
  const arch = platformArchitecture(platform);
  const named: [string, string | undefined][] = [
    ["scheduling.architecture", scheduling?.architecture],
    [`scheduling.nodeSelector["${ARCH_LABEL}"]`, scheduling?.nodeSelector?.[ARCH_LABEL]],
  ];
  return named
    .filter(([, value]) => value !== undefined && value !== arch)
    .map(([field, value]) => ({
      field,
      value,
      allowed: `'${arch}' or unset: the build targets ${platform} and runs natively on its node (no emulation)`,
    }));
}
