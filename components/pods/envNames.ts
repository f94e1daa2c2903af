/**
 * The one registry of environment names: per kind of workload, what the components set, what Earthly's
 * image or CLI reads that an argument owns, and so what a user's `env` may not hold, and why. The
 * checks read their lists from here (`RESERVED_ENV`, `CONFIG_ENV`, `OUTPUT_MODE_ENV`,
 * `GIT_CREDENTIAL_ENV`, ...), and `npm run docs` renders it into docs/api.md. Earthly's own flag
 * variables (56 in v0.8.16) are generated apart, in jobs/earthlyFlagEnv.ts, and refused as well.
 */

/** Which check refuses a name, and so when. */
export type EnvRefusal =
  /** Always: the component sets it (or replaced it with another variable). */
  | "reserved"
  /** Always, in the client: its home is a volume of its own. */
  | "client-home"
  /** Always, in the Jobs: the entrypoint would write Earthly's config from it; `earthlyConfig` is the way. */
  | "config"
  /** Always, in the Jobs: it switches Earthly's output mode, which `flags` decide. */
  | "output-mode"
  /** When the argument `owner` is given: the feature sets or reads it. */
  | "claimed";

/**
 * Kinds of workload, by what they run: a workload is of one or more (the all-in-one Job is an Earthly
 * Job and a BuildKit daemon; the remote client an Earthly Job and a fleet client; the fleet's pods
 * BuildKit daemons and fleet servers). A new kind of Job is covered by what it is, not by its name.
 */
export type WorkloadKind = "Earthly Jobs" | "BuildKit daemons" | "fleet clients" | "fleet servers";

/** One environment name. */
export interface EnvName {
  name: string;
  /** The kinds of workload whose `env` refuses it. */
  workloads: readonly WorkloadKind[];
  refusal: EnvRefusal;
  /** For a claimed name, the argument that owns it; for the others, what sets or reads it. */
  owner: string;
  /** Why, in a few words (the documentation's). */
  why: string;
}

const ALL: readonly WorkloadKind[] = ["Earthly Jobs", "BuildKit daemons"];
const JOBS: readonly WorkloadKind[] = ["Earthly Jobs"];
const DAEMONS: readonly WorkloadKind[] = ["BuildKit daemons"];
const CLIENTS: readonly WorkloadKind[] = ["fleet clients"];
const SERVERS: readonly WorkloadKind[] = ["fleet servers"];

/** The variable listing the Git HTTPS hosts, in the order of their mounted directories. */
export const HTTPS_HOSTS_ENV = "EARTHLY_KUBERNETES_GIT_HTTPS_HOSTS";
/**
 * The variable listing, in the same order, where each host's credentials come from
 * (`secretName/usernameKey/passwordKey`), for the Git wrapper's messages: names, never values.
 */
export const HTTPS_SECRETS_ENV = "EARTHLY_KUBERNETES_GIT_HTTPS_SECRETS";
/** The variable naming the SSH key's Secret and key (`secretName/key`), for the Git wrapper's messages. */
export const SSH_SECRET_ENV = "EARTHLY_KUBERNETES_GIT_SSH_SECRET";
/** The variable the `earthly/buildkitd` entrypoint appends to `buildkitd.toml`. */
export const ADDITIONAL_BUILDKIT_CONFIG_ENV = "EARTHLY_ADDITIONAL_BUILDKIT_CONFIG";

const reserved = (name: string, workloads: readonly WorkloadKind[], owner: string, why: string): EnvName => ({
  name,
  workloads: ALL,
  refusal: "reserved",
  owner: workloads.length > 0 ? `${owner} (set on ${workloads.join(", ")})` : owner,
  why,
});
const claimed = (names: readonly string[], workloads: readonly WorkloadKind[], owner: string, why: string) =>
  names.map((name): EnvName => ({ name, workloads, refusal: "claimed", owner, why }));

export const ENV_NAMES: readonly EnvName[] = [
  reserved(
    "EARTHLY_TMP_DIR",
    DAEMONS,
    "earthlyTmpDir",
    "BuildKit's state and cache directory, a mounted volume",
  ),
  reserved("SRC_DIR", JOBS, "srcDir", "the working directory, a mounted volume"),
  reserved("CNI_MTU", DAEMONS, "cniMtu", "the MTU of the build steps' network"),
  reserved("NO_BUILDKIT", CLIENTS, "the remote client", "keeps an unprivileged pod from starting a daemon"),
  reserved(
    "BUILDKIT_HOST",
    [],
    "the fleet",
    "ignored by Earthly's entrypoint under NO_BUILDKIT; the fleet's address goes in EARTHLY_BUILDKIT_HOST",
  ),
  reserved(
    "EARTHLY_BUILDKIT_HOST",
    CLIENTS,
    "the fleet (or cacheKey)",
    "the address of the fleet or of the pinned instance",
  ),
  reserved("BUILDKIT_TCP_TRANSPORT_ENABLED", SERVERS, "the fleet", "the daemon listens on TCP port 8372"),
  reserved("BUILDKIT_TLS_ENABLED", SERVERS, "tls", "mTLS on, with the mounted certificates"),
  reserved("CACHE_SIZE_MB", DAEMONS, "cacheSizeMb", "the cache size, derived from the cache volume's"),
  reserved("CACHE_SIZE_PCT", DAEMONS, "cacheSizePct", "the cache size as a share of the disk"),
  {
    name: "HOME",
    workloads: CLIENTS,
    refusal: "client-home",
    owner: "the remote client",
    why: "the client's writable home volume",
  },
  ...(["GLOBAL_CONFIG", "GIT_CONFIG"] as const).map((name): EnvName => ({
    name,
    workloads: JOBS,
    refusal: "config",
    owner: `earthlyConfig.${name === "GIT_CONFIG" ? "git" : "global"}`,
    why: "the entrypoint writes Earthly's config from it, and ignores it when the config file is mounted",
  })),
  ...(
    [
      ["EARTHLY_CI", "--ci"],
      ["EARTHLY_OUTPUT", "--output"],
      ["EARTHLY_NO_OUTPUT", "--no-output"],
    ] as const
  ).map(([name, flag]): EnvName => ({
    name,
    workloads: JOBS,
    refusal: "output-mode",
    owner: flag,
    why: "the output mode, which flags decide (and with it whether artifacts are written)",
  })),
  ...claimed(
    [
      "NETRC",
      "NETRC_CONTENT",
      "SSH_AUTH_SOCK",
      "EARTHLY_SSH_AUTH_SOCK",
      "GIT_USERNAME",
      "GIT_PASSWORD",
      HTTPS_HOSTS_ENV,
      HTTPS_SECRETS_ENV,
      SSH_SECRET_ENV,
    ],
    JOBS,
    "gitCredentials",
    "Earthly or the credentials' wrapper reads them for Git",
  ),
  ...claimed(["DOCKER_CONFIG"], JOBS, "dockerConfigSecret", "where Earthly reads registry credentials"),
  ...claimed([ADDITIONAL_BUILDKIT_CONFIG_ENV], DAEMONS, "buildkitRegistries", "appended to buildkitd.toml"),
];

/** The names of the entries `refusal` refuses (and, for claimed names, that `owner` claims). */
export function envNamesRefusedAs(refusal: EnvRefusal, owner?: string): string[] {
  return ENV_NAMES.filter((e) => e.refusal === refusal && (owner === undefined || e.owner === owner)).map(
    (e) => e.name,
  );
}
