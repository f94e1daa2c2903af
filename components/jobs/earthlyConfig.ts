/**
 * Earthly's own config file (`/etc/.earthly/config.yml`): the `global` settings and the per-host
 * `git` settings a user gives (`earthlyConfig`), merged with what the components set themselves.
 *
 * The `earthly/earthly` entrypoint generates the file from `GLOBAL_CONFIG` / `GIT_CONFIG` only when
 * it is missing; the components mount it instead (a ConfigMap), so there is one way to set it and
 * the file is visible in the cluster. Credentials never go into it: Git tokens reach Earthly through
 * a netrc file and SSH keys through an agent (see `git.ts`).
 */
import type * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import type { VolumeEntry } from "../pods/pod";
import { sortedByKey } from "../values/deterministic";
import { Problem, Rule } from "../validation/errors";
import { dnsName, integerBetween, oneOf, printableText } from "../validation/rules";
import { envNamesRefusedAs } from "../pods/envNames";

/** Earthly's settings for the Git repositories of one host (its config file's `git.<host>`). */
export interface EarthlyGitSite {
  /** `ssh`, `https` or `auto` (Earthly's default: SSH when an agent with a key is there, else HTTPS). */
  auth?: string;
  /** The user for SSH (e.g. `git`) or HTTPS. Not for a host with HTTPS credentials: they carry their own. */
  user?: string;
  /** A non-standard port, e.g. `2222`. */
  port?: number;
  /** Where repositories live on the server, e.g. `/var/git/`. */
  prefix?: string;
  /** A regular expression matching the host's Earthly references (default `<host>/([^/]+)/([^/]+)`). */
  pattern?: string;
  /** A regular-expression substitution giving the URL to clone, e.g. `git@host:$1/$2.git`. */
  substitute?: string;
  /** The repository suffix (default `.git`). */
  suffix?: string;
}

/**
 * Earthly's config file, besides what the components set. Passwords, tokens and keys are refused
 * here: give them by Secret with `gitCredentials`.
 */
export interface EarthlyConfig {
  /**
   * `global` settings, e.g. `{ disable_analytics: "true", conversion_parallelism: "4" }`; `true`,
   * `false` and integers are written as YAML booleans and numbers. The keys the components own
   * (`buildkit_host`, the TLS paths, the cache size, BuildKit's start-up settings) are refused.
   */
  global?: { [key: string]: string };
  /** Per-host Git settings, e.g. `{ "git.example.com": { auth: "ssh", port: 2222 } }`. */
  git?: { [host: string]: EarthlyGitSite };
}

/** Which Job renders the file: the keys it owns differ. */
export type EarthlyConfigMode = "all-in-one" | "client";

/** Where the config file is mounted (a documented mount point of the `earthly/earthly` image). */
export const EARTHLY_CONFIG_PATH = "/etc/.earthly/config.yml";

/**
 * `global` keys the components set themselves or that Earthly ignores in these pods, and what to
 * use instead. Earthly applies the cache size and BuildKit's start-up settings only when it starts
 * buildkitd itself (with Docker), which it never does here.
 */
const OWNED_GLOBAL_KEYS: { [key: string]: { [mode in EarthlyConfigMode]: string } } = {
  buildkit_host: {
    client: "set from the fleet connection (and cacheKey)",
    "all-in-one": "set by the image's entrypoint to its embedded buildkitd",
  },
  tls_enabled: { client: "set from the fleet", "all-in-one": "set by the image's entrypoint" },
  tlsca: { client: "the mounted client certificates", "all-in-one": "set by the image's entrypoint" },
  tlscert: { client: "the mounted client certificates", "all-in-one": "set by the image's entrypoint" },
  tlskey: { client: "the mounted client certificates", "all-in-one": "set by the image's entrypoint" },
  tlsca_key: { client: "the mounted client certificates", "all-in-one": "set by the image's entrypoint" },
  buildkitd_tlscert: { client: "the fleet's TLS", "all-in-one": "set by the image's entrypoint" },
  buildkitd_tlskey: { client: "the fleet's TLS", "all-in-one": "set by the image's entrypoint" },
  cache_size_mb: { client: "the fleet's cacheSizeMb", "all-in-one": "cacheSizeMb (CACHE_SIZE_MB)" },
  cache_size_pct: { client: "the fleet's cacheSizePct", "all-in-one": "cacheSizePct (CACHE_SIZE_PCT)" },
  cni_mtu: { client: "the fleet's cniMtu", "all-in-one": "cniMtu (CNI_MTU)" },
  buildkit_additional_config: {
    client: "the fleet's buildkitRegistries",
    "all-in-one": "buildkitRegistries (EARTHLY_ADDITIONAL_BUILDKIT_CONFIG)",
  },
  buildkit_additional_args: {
    client: "the fleet's arguments",
    "all-in-one": "nothing: Earthly does not start buildkitd here",
  },
  buildkit_image: {
    client: "the fleet's imageRepository",
    "all-in-one": "nothing: Earthly does not start buildkitd here",
  },
};

/** The keys a {@link EarthlyGitSite} may hold (Earthly's own names). */
const GIT_SITE_KEYS = ["auth", "user", "port", "prefix", "pattern", "substitute", "suffix"] as const;

/** Site keys that would carry a credential or switch off host key checking, and why they are refused. */
const REFUSED_GIT_SITE_KEYS: { [key: string]: string } = {
  password: "nothing: give passwords and tokens by Secret with gitCredentials.https",
  serverkey: "nothing: give known hosts by Secret or ConfigMap with gitCredentials.ssh.knownHosts",
  strict_host_key_checking: "nothing: host key checking stays on",
  ssh_command: "nothing: the SSH command is Earthly's, with host key checking on",
};

/** A Git host as Earthly's config names it: a DNS name. */
export const gitHostRule: Rule<string> = (value, field) =>
  dnsName(value, field).length === 0 && !value.includes("*")
    ? []
    : [{ field, value, allowed: "a Git host name such as 'github.com' (no scheme, port or path)" }];

/** One word without whitespace (a user name). */
const singleWord: Rule<string> = (value, field) =>
  printableText(value, field).length === 0 && !/\s/.test(value)
    ? []
    : [{ field, value, allowed: "a name without whitespace or control characters" }];

function gitSiteRule(value: EarthlyGitSite, field: string): Problem[] {
  if (value === null || typeof value !== "object") return [{ field, value, allowed: "an object" }];
  const fields = value as { [key: string]: unknown };
  const unknown = Object.keys(fields)
    .filter((k) => fields[k] !== undefined && !(GIT_SITE_KEYS as readonly string[]).includes(k))
    .map((k) => ({
      field: `${field}.${k}`,
      value: k in REFUSED_GIT_SITE_KEYS ? "(given)" : fields[k],
      allowed: REFUSED_GIT_SITE_KEYS[k] ?? `one of the keys ${GIT_SITE_KEYS.join(", ")}`,
    }));
  const checks: [keyof EarthlyGitSite, Rule<never>][] = [
    ["auth", oneOf(["ssh", "https", "auto"]) as Rule<never>],
    ["user", singleWord as Rule<never>],
    ["port", integerBetween(1, 65535) as Rule<never>],
    ["prefix", printableText as Rule<never>],
    ["pattern", printableText as Rule<never>],
    ["substitute", printableText as Rule<never>],
    ["suffix", printableText as Rule<never>],
  ];
  return [
    ...unknown,
    ...checks.flatMap(([key, rule]) =>
      value[key] === undefined ? [] : (rule as Rule<unknown>)(value[key], `${field}.${key}`),
    ),
  ];
}

/** The rule for `earthlyConfig` in a Job of the given mode. */
export function earthlyConfigRule(mode: EarthlyConfigMode): Rule<EarthlyConfig> {
  return (value, field) => {
    if (value === null || typeof value !== "object") return [{ field, value, allowed: "an object" }];
    const extra = Object.keys(value).filter(
      (k) => k !== "global" && k !== "git" && (value as { [k: string]: unknown })[k] !== undefined,
    );
    const global = value.global ?? {};
    const git = value.git ?? {};
    return [
      ...extra.map((k) => ({ field: `${field}.${k}`, value: k, allowed: "global or git" })),
      ...Object.entries(global).flatMap(([key, setting]): Problem[] => {
        const at = `${field}.global.${key}`;
        if (key in OWNED_GLOBAL_KEYS) {
          return [
            {
              field: at,
              value: setting,
              allowed: `a key the components do not own; ${key} is ${OWNED_GLOBAL_KEYS[key][mode]}`,
            },
          ];
        }
        if (!/^[a-z][a-z0-9_]*$/.test(key)) {
          return [{ field: at, value: key, allowed: "a lower_snake_case key of Earthly's global settings" }];
        }
        return typeof setting === "string"
          ? printableText(setting, at)
          : [{ field: at, value: setting, allowed: "a string" }];
      }),
      ...Object.entries(git).flatMap(([host, site]) => [
        ...gitHostRule(host, `${field}.git key`),
        ...gitSiteRule(site, `${field}.git[${JSON.stringify(host)}]`),
      ]),
    ];
  };
}

/** A `global` value as YAML: `true`/`false` as booleans and integers as numbers, else the string. */
function typedValue(value: string): string | number | boolean {
  if (value === "true" || value === "false") return value === "true";
  if (/^-?\d{1,15}$/.test(value)) return Number(value);
  return value;
}

/**
 * Earthly's config file: the user's `global` settings and the components' own (the components'
 * win, though the rule refuses a clash first), and the `git` sites from the user merged with those
 * the credentials need. Deterministic: keys are sorted.
 */
export function renderEarthlyConfig(input: {
  own?: { [key: string]: string | boolean };
  config?: EarthlyConfig;
  gitSites?: { [host: string]: EarthlyGitSite };
}): string {
  const userGlobal = Object.fromEntries(
    Object.entries(input.config?.global ?? {}).map(([k, v]) => [k, typedValue(v)]),
  );
  const global = sortedByKey({ ...userGlobal, ...(input.own ?? {}) });
  const hosts = new Set([...Object.keys(input.config?.git ?? {}), ...Object.keys(input.gitSites ?? {})]);
  const git = sortedByKey(
    Object.fromEntries(
      [...hosts].map((host) => [
        host,
        sortedByKey({ ...(input.config?.git?.[host] ?? {}), ...(input.gitSites?.[host] ?? {}) }),
      ]),
    ),
  );
  return YAML.stringify({
    ...(Object.keys(global).length > 0 ? { global } : {}),
    ...(Object.keys(git).length > 0 ? { git } : {}),
  });
}

/** Variables the image's entrypoint turns into the config file: refused, `earthlyConfig` is the one way. */
export const CONFIG_ENV: readonly string[] = envNamesRefusedAs("config");

/** `GLOBAL_CONFIG` or `GIT_CONFIG` in `env`. */
export function configEnvConflicts(env: readonly { name: string }[] | undefined): Problem[] {
  return (env ?? [])
    .filter((e) => CONFIG_ENV.includes(e.name))
    .map((e) => ({
      field: "env.name",
      value: e.name,
      allowed: `not ${e.name}: use earthlyConfig.${e.name === "GIT_CONFIG" ? "git" : "global"} (a mounted config file makes the entrypoint ignore ${e.name})`,
    }));
}

/** Whether an all-in-one Job needs a config file of its own: settings or Git credentials given. */
export function needsConfigFile(args: { earthlyConfig?: EarthlyConfig; gitCredentials?: unknown }): boolean {
  return args.earthlyConfig !== undefined || args.gitCredentials !== undefined;
}

/** The config file mounted read-only from a ConfigMap's `config.yml`, at {@link EARTHLY_CONFIG_PATH}. */
export function earthlyConfigVolume(configMapName: pulumi.Input<string>): VolumeEntry {
  return {
    volume: { name: "earthly-config", configMap: { name: configMapName } },
    mount: { name: "earthly-config", mountPath: EARTHLY_CONFIG_PATH, subPath: "config.yml", readOnly: true },
  };
}
