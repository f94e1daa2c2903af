/**
 * The demo's configuration, read from the stack and checked by the same validation layer as the
 * components, so a bad value stops the preview before anything is created.
 */
import { Problem, Rule, assertNoProblems } from "../components/validation/errors";
import {
  earthlyVersion as earthlyVersionRule,
  imageDigest,
  integerBetween,
  kindClusterName,
  oneOf,
  printableText,
} from "../components/validation/rules";
import { cniMtuRule } from "../components/pods/pod";
import { DEFAULT_EARTHLY_VERSION } from "../components/pods/images";
import { BuildSecret, buildSecretsRule } from "../components/jobs/buildSecrets";
import { rfc1123Subdomain } from "../components/validation/rules";
import { GitCredentials, gitCredentialsRule } from "../components/jobs/git";
import { registryHostRule } from "../components/pods/registries";

/** How the demo builds. */
export type DemoMode = "aio" | "remote";

/** The demo's settings after defaults. */
export interface DemoConfig {
  mode: DemoMode;
  clusterName: string;
  earthlyVersion: string;
  target: string;
  cniMtu?: number;
  replicas: number;
  cacheKey?: string;
  sessionAffinityTimeoutSeconds: number;
  /** Any text; a new value runs the build again (see `REBUILD_COMMAND` in demo.ts). */
  rebuild?: string;
  /** Pins the `earthly/earthly` image (all-in-one and client) to this digest, `sha256:<64 hex>`. */
  earthlyImageDigest?: string;
  /** Pins the fleet's `earthly/buildkitd` image to this digest, `sha256:<64 hex>`. */
  buildkitdImageDigest?: string;
  /** Build secrets from Secrets in the build's namespace: `NAME=secret/key[,NAME=secret/key...]`. */
  buildSecrets?: BuildSecret[];
  /** An existing PersistentVolumeClaim in the build's namespace for the build's local outputs. */
  artifactsClaim?: string;
  /**
   * Private Git from Secrets you create (docs/git-and-registries.md): `gitHttps` is
   * `host=secret[,host=secret...]` (basic-auth Secrets), `gitSsh` is `host[+host...]=secret` (an
   * ssh-auth Secret) with `gitKnownHosts`, a ConfigMap holding `known_hosts`.
   */
  gitCredentials?: GitCredentials;
  /** A `kubernetes.io/dockerconfigjson` Secret in the build's namespace, for `--push` and private bases. */
  dockerConfigSecret?: string;
  /** A pull Secret for the Earthly images (a private mirror), on every workload. */
  imagePullSecret?: string;
  /** A Docker Hub mirror for BuildKit (the all-in-one's or the fleet's), e.g. `mirror.gcr.io`. */
  registryMirror?: string;
}

/** The demo's Git keys as `gitCredentials`; an entry of another shape is kept so the rules refuse it. */
export function parseGitCredentials(get: ConfigGetter): GitCredentials | undefined {
  const https = get("gitHttps");
  const ssh = get("gitSsh");
  if (https === undefined && ssh === undefined) return undefined;
  const pair = (entry: string) => /^\s*([^=\s]+)=([^=\s]+)\s*$/.exec(entry) ?? [entry, entry, ""];
  const knownHosts = get("gitKnownHosts");
  return {
    ...(https !== undefined
      ? { https: https.split(",").map((e) => ({ host: pair(e)[1], secretName: pair(e)[2] })) }
      : {}),
    ...(ssh !== undefined
      ? {
          ssh: {
            hosts: pair(ssh)[1].split("+"),
            secretName: pair(ssh)[2],
            knownHosts: (knownHosts !== undefined ? { configMapName: knownHosts } : undefined) as never,
          },
        }
      : {}),
  };
}

/** A `buildSecrets` entry that is not `NAME=secret/key`, kept as typed so the refusal shows it. */
const UNPARSED_SECRET = "unparsed";

/** Parses `NAME=secret/key,...`; an entry of another shape becomes one the rules refuse, named as typed. */
export function parseBuildSecrets(raw: string | undefined): BuildSecret[] | undefined {
  if (raw === undefined) return undefined;
  return raw.split(",").map((entry) => {
    const match = /^\s*([^=\s]+)=([^/\s]+)\/([^\s]+)\s*$/.exec(entry);
    return match
      ? { name: match[1], secretKeyRef: { name: match[2], key: match[3] } }
      : { name: entry, secretKeyRef: { name: UNPARSED_SECRET, key: "" } };
  });
}

/** The example the upstream Kubernetes guide builds. */
export const DEFAULT_TARGET = "github.com/earthly/ci-example-project:main+build";

/** Reads one raw value by key; `undefined` when unset. Mirrors `pulumi.Config#get`. */
export type ConfigGetter = (key: string) => string | undefined;

function integer(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  return /^-?\d+$/.test(raw.trim()) ? Number(raw) : Number.NaN;
}

/** Parses and checks the demo's configuration; throws naming every bad key, its value and what is allowed. */
export function readDemoConfig(get: ConfigGetter, stack: string): DemoConfig {
  const mode = (get("mode") ?? (stack === "remote" ? "remote" : "aio")) as DemoMode;
  const config: DemoConfig = {
    mode,
    clusterName: get("clusterName") ?? `earthlydemo-${mode}`,
    earthlyVersion: get("earthlyVersion") ?? DEFAULT_EARTHLY_VERSION,
    target: get("target") ?? DEFAULT_TARGET,
    cniMtu: integer(get("cniMtu")),
    replicas: integer(get("replicas")) ?? 2,
    cacheKey: get("cacheKey"),
    sessionAffinityTimeoutSeconds: integer(get("sessionAffinityTimeoutSeconds")) ?? 600,
    rebuild: get("rebuild"),
    earthlyImageDigest: get("earthlyImageDigest"),
    buildkitdImageDigest: get("buildkitdImageDigest"),
    // Set only when given, so the defaults stay exactly as they were.
    ...(get("buildSecrets") !== undefined ? { buildSecrets: parseBuildSecrets(get("buildSecrets")) } : {}),
    ...(get("artifactsClaim") !== undefined ? { artifactsClaim: get("artifactsClaim") } : {}),
    ...(parseGitCredentials(get) !== undefined ? { gitCredentials: parseGitCredentials(get) } : {}),
    ...(get("dockerConfigSecret") !== undefined ? { dockerConfigSecret: get("dockerConfigSecret") } : {}),
    ...(get("imagePullSecret") !== undefined ? { imagePullSecret: get("imagePullSecret") } : {}),
    ...(get("registryMirror") !== undefined ? { registryMirror: get("registryMirror") } : {}),
  };
  const rules: { [K in keyof DemoConfig]?: Rule<NonNullable<DemoConfig[K]>> } = {
    mode: oneOf<DemoMode>(["aio", "remote"]),
    clusterName: kindClusterName,
    earthlyVersion: earthlyVersionRule,
    target: printableText,
    cniMtu: cniMtuRule,
    replicas: integerBetween(1, 10),
    cacheKey: printableText,
    sessionAffinityTimeoutSeconds: integerBetween(1, 86400),
    rebuild: printableText,
    earthlyImageDigest: imageDigest,
    buildkitdImageDigest: imageDigest,
    buildSecrets: (value, key) =>
      value.some((s) => s.secretKeyRef.name === UNPARSED_SECRET)
        ? value
            .filter((s) => s.secretKeyRef.name === UNPARSED_SECRET)
            .map((s) => ({
              field: key,
              value: s.name,
              allowed: "entries NAME=secret/key, separated by commas",
            }))
        : buildSecretsRule(value, key),
    artifactsClaim: rfc1123Subdomain,
    gitCredentials: gitCredentialsRule,
    dockerConfigSecret: rfc1123Subdomain,
    imagePullSecret: rfc1123Subdomain,
    registryMirror: registryHostRule,
  };
  const problems: Problem[] = (Object.entries(rules) as [keyof DemoConfig, Rule<unknown>][]).flatMap(
    ([key, rule]) => {
      const value = config[key];
      // A number that did not parse is reported as it was typed.
      const shown = (p: Problem) => (Number.isNaN(p.value) ? { ...p, value: get(key) } : p);
      return value === undefined ? [] : rule(value, key).map(shown);
    },
  );
  assertNoProblems(`stack config (${stack})`, problems);
  return config;
}

/** The keys the demo reads, and the modes that use each. */
const KEYS_BY_MODE: { [key: string]: readonly DemoMode[] } = {
  mode: ["aio", "remote"],
  clusterName: ["aio", "remote"],
  earthlyVersion: ["aio", "remote"],
  target: ["aio", "remote"],
  cniMtu: ["aio", "remote"],
  rebuild: ["aio", "remote"],
  earthlyImageDigest: ["aio", "remote"],
  buildkitdImageDigest: ["remote"],
  buildSecrets: ["aio", "remote"],
  artifactsClaim: ["aio", "remote"],
  gitHttps: ["aio", "remote"],
  gitSsh: ["aio", "remote"],
  gitKnownHosts: ["aio", "remote"],
  dockerConfigSecret: ["aio", "remote"],
  imagePullSecret: ["aio", "remote"],
  registryMirror: ["aio", "remote"],
  replicas: ["remote"],
  cacheKey: ["remote"],
  sessionAffinityTimeoutSeconds: ["remote"],
};

/**
 * Warnings for the stack's config keys in the demo's namespace (`<project>:<key>`) that the demo will
 * not read: unknown keys (a typo such as `replica`) and keys the stack's mode ignores.
 */
export function unreadConfigWarnings(allKeys: readonly string[], project: string, mode: DemoMode): string[] {
  const known = Object.keys(KEYS_BY_MODE).join(", ");
  return allKeys
    .filter((full) => full.startsWith(`${project}:`))
    .map((full) => full.slice(project.length + 1))
    .sort()
    .flatMap((key) => {
      const modes = KEYS_BY_MODE[key];
      if (modes === undefined) {
        return [
          `stack config key '${project}:${key}' is not one the demo reads, so it is ignored; the keys are: ${known}`,
        ];
      }
      return modes.includes(mode)
        ? []
        : [
            `stack config key '${project}:${key}' is ignored in mode '${mode}'; it is read in mode '${modes.join("', '")}'`,
          ];
    });
}
