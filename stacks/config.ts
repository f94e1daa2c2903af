/**
 * The demo's configuration, read from the stack and checked before anything is created: the demo's
 * own rules (its modes, its cap on replicas, the shapes of its list keys), then each component's
 * rules on the very arguments the demo will give it (`demoArgs.ts`), through the components' public
 * `argumentProblems`. Every problem is named by the config key the user typed.
 */
import * as pulumi from "@pulumi/pulumi";
import {
  BuildkitdFleet,
  DEFAULT_EARTHLY_VERSION,
  EarthlyAllInOneJob,
  EarthlyRemoteJob,
  InvalidArgumentsError,
  KindCluster,
} from "../components";
import type { BuildSecret, GitCredentials, Problem } from "../components";
import {
  BUILDER_NAMESPACE,
  CLIENT_NAMESPACE,
  DemoConfig,
  DemoMode,
  FLEET_NAME,
  allInOneJobArgs,
  clusterArgs,
  fleetArgs,
  remoteJobArgs,
} from "./demoArgs";

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
  // A number that did not parse is reported as it was typed.
  const shown = (p: Problem) => (Number.isNaN(p.value) ? { ...p, value: get(configKeyOf(p)) } : p);
  // The demo's own problems, then the components' on the keys those left alone (a `buildSecrets`
  // entry that did not parse is one problem, not also the rules' on what it became).
  const own = demoProblems(config);
  const ownKeys = new Set(own.map(configKeyOf));
  const problems = [...own, ...componentProblems(config).filter((p) => !ownKeys.has(configKeyOf(p)))]
    .map(shown)
    .sort((a, b) => keyOrder(a) - keyOrder(b));
  if (problems.length > 0) throw new InvalidArgumentsError(`stack config (${stack})`, problems);
  return config;
}

/** The config key a problem is about: its field up to the first `.`, `[` or space. */
function configKeyOf(problem: Problem): string {
  return problem.field.split(/[.[ ]/)[0];
}

/** A problem's place in the list of keys (stable: problems of one key keep their order). */
function keyOrder(problem: Problem): number {
  const index = Object.keys(KEYS_BY_MODE).indexOf(configKeyOf(problem));
  return index < 0 ? Number.MAX_SAFE_INTEGER : index;
}

/** The most fleet instances the demo makes on one machine's kind cluster. */
export const MAX_DEMO_REPLICAS = 10;

/** What the demo itself allows: its modes, its cap on replicas, the shape of each `buildSecrets` entry. */
function demoProblems(config: DemoConfig): Problem[] {
  const problems: Problem[] = [];
  if (config.mode !== "aio" && config.mode !== "remote") {
    problems.push({ field: "mode", value: config.mode, allowed: "one of 'aio', 'remote'" });
  }
  if (!Number.isInteger(config.replicas) || config.replicas < 1 || config.replicas > MAX_DEMO_REPLICAS) {
    problems.push({
      field: "replicas",
      value: config.replicas,
      allowed: `an integer from 1 to ${MAX_DEMO_REPLICAS}`,
    });
  }
  for (const secret of config.buildSecrets ?? []) {
    if (secret.secretKeyRef.name === UNPARSED_SECRET) {
      problems.push({
        field: "buildSecrets",
        value: secret.name,
        allowed: "entries NAME=secret/key, separated by commas",
      });
    }
  }
  return problems;
}

/**
 * A stand-in for what exists only once resources do (the fleet's connection, the CA's issuer and
 * certificates): the components leave an Output to be checked when it resolves, which this never
 * does, as nothing is registered with these arguments.
 */
const NOT_CREATED_YET = pulumi.output(undefined as never);

/**
 * Each component's problems with the arguments the demo will give it, in every mode (a bad value
 * is refused even for a key the mode ignores), named by config key and without repeats (several
 * components take the Earthly version and the MTU).
 */
function componentProblems(config: DemoConfig): Problem[] {
  const all = [
    ...KindCluster.argumentProblems("cluster", clusterArgs(config)),
    ...EarthlyAllInOneJob.argumentProblems(
      "build",
      allInOneJobArgs(config, BUILDER_NAMESPACE, undefined),
    ).map(asConfig(JOB_KEYS)),
    ...BuildkitdFleet.argumentProblems(FLEET_NAME, fleetArgs(config, undefined, NOT_CREATED_YET)).map(
      asConfig(FLEET_KEYS),
    ),
    ...EarthlyRemoteJob.argumentProblems(
      "build",
      remoteJobArgs(config, CLIENT_NAMESPACE, NOT_CREATED_YET, {
        certPem: NOT_CREATED_YET,
        privateKeyPem: NOT_CREATED_YET,
      }),
    ).map(asConfig(JOB_KEYS)),
  ];
  const seen = new Set<string>();
  return all.filter((p) => {
    const id = JSON.stringify([p.field, p.value, p.allowed]);
    return seen.has(id) ? false : (seen.add(id), true);
  });
}

/**
 * Where a config key lands in a component's arguments, when under another name: the argument path,
 * the key, and whether the key is one value (a problem anywhere in the path is then the key's) or a
 * list (a problem is named `key (argument path)`, so the entry shows).
 */
type KeyPlace = readonly [path: string, key: string, shape: "value" | "list"];

/** For the Jobs. */
const JOB_KEYS: readonly KeyPlace[] = [
  ["gitCredentials.ssh.knownHosts", "gitKnownHosts", "value"],
  ["gitCredentials.https", "gitHttps", "list"],
  ["gitCredentials.ssh", "gitSsh", "list"],
  ["rebuildTrigger", "rebuild", "value"],
  ["artifacts", "artifactsClaim", "value"],
  ["imagePullSecrets", "imagePullSecret", "value"],
  ["buildkitRegistries", "registryMirror", "value"],
  ["imageDigest", "earthlyImageDigest", "value"],
];

/** For the fleet, whose image is buildkitd's. */
const FLEET_KEYS: readonly KeyPlace[] = [
  ["imagePullSecrets", "imagePullSecret", "value"],
  ["buildkitRegistries", "registryMirror", "value"],
  ["imageDigest", "buildkitdImageDigest", "value"],
];

/** A component's problem named by config key; an argument no key feeds (the demo's wiring) keeps its path. */
function asConfig(places: readonly KeyPlace[]): (p: Problem) => Problem {
  return (p) => {
    const place = places.find(
      ([path]) => p.field === path || p.field.startsWith(`${path}.`) || p.field.startsWith(`${path}[`),
    );
    if (place === undefined) return p;
    const [path, key, shape] = place;
    return { ...p, field: shape === "value" || p.field === path ? key : `${key} (${p.field})` };
  };
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
