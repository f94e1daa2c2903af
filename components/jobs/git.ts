/**
 * Private Git for the remote target a Job builds and for `GIT CLONE`: HTTPS tokens and SSH keys
 * from Kubernetes Secrets, by reference.
 *
 * What Earthly does (its `buildcontext/gitlookup.go` and config reference, v0.8): the earthly
 * binary (the client, in remote mode) turns a Git reference into a clone URL and hands it to
 * BuildKit. For a host with `auth: https` and neither `user` nor `password` in the config file, it
 * reads the credentials from a netrc file (`NETRC_CONTENT`, else the file `NETRC` names, else
 * `~/.netrc`) and puts them in the URL it sends to the daemon over the session (BuildKit keeps that
 * URL, token included, in its Git cache on the daemon's volume: see docs/git-and-registries.md). For `auth: ssh` it
 * forwards the SSH agent at `SSH_AUTH_SOCK` through the session and passes BuildKit the host keys it
 * finds in `~/.ssh/known_hosts`, `/etc/ssh/ssh_known_hosts` and its built-in GitHub/GitLab/Bitbucket
 * keys; with `strict_host_key_checking` on (the default) a host without a key is refused. So the
 * credentials must be in the earthly container (the client in remote mode), and an agent is needed.
 *
 * How the components do it, without a credential in a spec, a ConfigMap or the state: each Secret
 * is mounted read-only (mode 0400) under `/etc/earthly-kubernetes`; a small wrapper, the container's
 * command, writes the netrc file into a memory-backed `emptyDir` (umask 077) from the mounted files
 * and starts `ssh-agent` there with the key read from its file, then `exec`s the image's own
 * entrypoint with the Job's arguments. The config file says only `auth` (and the SSH user) per host.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import type { KubeEnvVar, KubeVolume, VolumeEntry } from "../pods/pod";
import { Problem, Rule } from "../validation/errors";
import { anyValue, eachOf, objectOf, rfc1123Subdomain, uniqueBy } from "../validation/rules";
import { EarthlyConfig, EarthlyGitSite, gitHostRule } from "./earthlyConfig";
import { HTTPS_HOSTS_ENV, HTTPS_SECRETS_ENV, SSH_SECRET_ENV, envNamesRefusedAs } from "../pods/envNames";

/** HTTPS credentials for one Git host, from a Secret (by default a `kubernetes.io/basic-auth` one). */
export interface GitHttpsCredential {
  /** The Git host, e.g. `github.com`. */
  host: string;
  /** The Secret in the Job's namespace holding the user name and the token or password. */
  secretName: string;
  /** The Secret's key holding the user name (default `username`; e.g. `x-access-token` for a GitHub App token). */
  usernameKey?: string;
  /** The Secret's key holding the token or password (default `password`). */
  passwordKey?: string;
}

/** Where the SSH host keys come from: a key of a Secret or of a ConfigMap (give exactly one name). */
export interface KnownHostsSource {
  /** A Secret in the Job's namespace. */
  secretName?: string;
  /** A ConfigMap in the Job's namespace (host keys are public). */
  configMapName?: string;
  /** The key holding the `known_hosts` lines (default `known_hosts`), e.g. from `ssh-keyscan`. */
  key?: string;
}

/** An SSH key for Git hosts, from a Secret (by default a `kubernetes.io/ssh-auth` one). */
export interface GitSshCredential {
  /** The Git hosts the key is for, e.g. `["github.com"]`; Earthly uses SSH for them. */
  hosts: string[];
  /** The Secret in the Job's namespace holding the private key (without a passphrase). */
  secretName: string;
  /** The Secret's key holding the private key (default `ssh-privatekey`). */
  privateKeyKey?: string;
  /** The SSH user (default `git`). */
  user?: string;
  /** The hosts' public keys. Required: host key checking stays on. */
  knownHosts: KnownHostsSource;
}

/** Credentials for private Git repositories (the remote target, `IMPORT`, `GIT CLONE`). */
export interface GitCredentials {
  /** HTTPS tokens or passwords, one per host. */
  https?: GitHttpsCredential[];
  /** One SSH key for the listed hosts. */
  ssh?: GitSshCredential;
}

/** Where the Secrets are mounted (read-only) and where the wrapper writes (a memory `emptyDir`). */
export const GIT_MOUNT_ROOT = "/etc/earthly-kubernetes";
export const GIT_HTTPS_DIR = `${GIT_MOUNT_ROOT}/git-https`;
export const GIT_SSH_DIR = `${GIT_MOUNT_ROOT}/git-ssh`;
export const KNOWN_HOSTS_PATH = "/etc/ssh/ssh_known_hosts";
export const GIT_RUNTIME_DIR = "/run/earthly-kubernetes";
export const NETRC_PATH = `${GIT_RUNTIME_DIR}/netrc`;
export const SSH_AGENT_SOCKET = `${GIT_RUNTIME_DIR}/ssh-agent.sock`;
/** The `earthly/earthly` image's entrypoint, which the wrapper runs last. */
export const EARTHLY_ENTRYPOINT = "/usr/bin/earthly-entrypoint.sh";
/** Mode of every mounted credential file. */
export const CREDENTIAL_FILE_MODE = 0o400;

/** Variables Earthly or the wrapper read for Git credentials: not in `env` together with `gitCredentials`. */
export const GIT_CREDENTIAL_ENV: readonly string[] = envNamesRefusedAs("claimed", "gitCredentials");

/**
 * The wrapper: POSIX sh (dash, bash, busybox ash: the image's `/bin/sh`), no user value in its text
 * (hosts and the Secrets' names come from variables, values from the mounted files, read by `cat`
 * into a variable and written by the `printf` builtin, so no value is in a process's arguments).
 * It checks each host and Secret name again, refuses a value a netrc line cannot hold (empty,
 * several lines, whitespace, `#`) naming the Secret and key, never the value (exit 65), and says
 * which Secret holds a key `ssh-add` refuses. OpenSSH refuses a key whose last line has no newline,
 * so the key gets one more (an empty line after the key is accepted).
 */
export const GIT_WRAPPER_SCRIPT = `set -euf
umask 077
nl='
'
tab=$(printf '\\t')
cr=$(printf '\\r')
refuse() {
  echo "earthly-kubernetes: $1" >&2
  exit "$2"
}
checked_name() {
  case "$1" in
    *[!A-Za-z0-9._-]* | "") refuse "invalid Secret name or key in $2" 64 ;;
  esac
}
netrc_word() {
  case "$1" in
    "") why="is empty" ;;
    *"$nl"*) why="has more than one line" ;;
    *" "* | *"$tab"* | *"$cr"*) why="contains whitespace" ;;
    *"#"*) why="contains '#'" ;;
    *) return 0 ;;
  esac
  refuse "the $2 $why: a netrc entry needs one word without whitespace or '#'" 65
}
write_netrc() {
  : > "$NETRC"
  i=0
  for host in $${HTTPS_HOSTS_ENV}; do
    case "$host" in
      *[!A-Za-z0-9.-]* | "" | -* | .*) refuse "invalid Git host in ${HTTPS_HOSTS_ENV}" 64 ;;
    esac
    [ "$#" -gt 0 ] || refuse "${HTTPS_SECRETS_ENV} names fewer Secrets than ${HTTPS_HOSTS_ENV} hosts" 64
    secret=\${1%%/*}
    keys=\${1#*/}
    user_key=\${keys%%/*}
    password_key=\${keys#*/}
    shift
    for name in "$secret" "$user_key" "$password_key"; do checked_name "$name" "${HTTPS_SECRETS_ENV}"; done
    dir="${GIT_HTTPS_DIR}/$i"
    login=$(cat "$dir/username") || refuse "cannot read key $user_key of Secret $secret" 66
    password=$(cat "$dir/password") || refuse "cannot read key $password_key of Secret $secret" 66
    netrc_word "$login" "user name in key $user_key of Secret $secret (Git host $host)"
    netrc_word "$password" "password in key $password_key of Secret $secret (Git host $host)"
    printf 'machine %s login %s password %s\\n' "$host" "$login" "$password" >> "$NETRC"
    i=$((i + 1))
  done
  [ "$#" -eq 0 ] || refuse "${HTTPS_SECRETS_ENV} names more Secrets than ${HTTPS_HOSTS_ENV} hosts" 64
}
if [ -n "\${${HTTPS_HOSTS_ENV}:-}" ]; then
  # One argument per Secret (globbing is off).
  # shellcheck disable=SC2086
  write_netrc \${${HTTPS_SECRETS_ENV}:-}
fi
if [ -f "${GIT_SSH_DIR}/key" ]; then
  ssh_secret=\${${SSH_SECRET_ENV}:-unknown/unknown}
  checked_name "\${ssh_secret%%/*}" "${SSH_SECRET_ENV}"
  checked_name "\${ssh_secret#*/}" "${SSH_SECRET_ENV}"
  ssh-agent -a "$SSH_AUTH_SOCK" > /dev/null
  if ! { cat "${GIT_SSH_DIR}/key"; echo; } | ssh-add -q -; then
    refuse "ssh-add refused the private key in key \${ssh_secret#*/} of Secret \${ssh_secret%%/*}: it must be an OpenSSH or PEM private key without a passphrase" 65
  fi
fi
exec ${EARTHLY_ENTRYPOINT} "$@"
`;

/** A Secret or ConfigMap data key. */
const dataKey: Rule<string> = (value, field) =>
  typeof value === "string" && /^[-._a-zA-Z0-9]{1,253}$/.test(value)
    ? []
    : [{ field, value, allowed: "a Secret or ConfigMap key: 1-253 of [-._a-zA-Z0-9]" }];

/** A required field's presence. */
function present(value: unknown, field: string, what: string): Problem[] {
  return value === undefined || value === null || value === "" ? [{ field, value, allowed: what }] : [];
}

const httpsRule: Rule<GitHttpsCredential> = (value, field) => [
  ...present(value.host, `${field}.host`, "a Git host such as 'github.com'"),
  ...present(value.secretName, `${field}.secretName`, "the name of a Secret with the user name and token"),
  ...objectOf<GitHttpsCredential>({
    host: gitHostRule,
    secretName: rfc1123Subdomain,
    usernameKey: dataKey,
    passwordKey: dataKey,
  })(value, field),
];

const knownHostsRule: Rule<KnownHostsSource> = (value, field) => {
  const names = [value.secretName, value.configMapName].filter((n) => n !== undefined && n !== "");
  return [
    ...(names.length === 1
      ? []
      : [{ field, value, allowed: "exactly one of secretName or configMapName holding known_hosts lines" }]),
    ...objectOf<KnownHostsSource>({
      secretName: rfc1123Subdomain,
      configMapName: rfc1123Subdomain,
      key: dataKey,
    })(value, field),
  ];
};

const sshRule: Rule<GitSshCredential> = (value, field) => [
  ...present(value.secretName, `${field}.secretName`, "the name of a Secret with the private key"),
  ...(Array.isArray(value.hosts) && value.hosts.length > 0
    ? []
    : [
        {
          field: `${field}.hosts`,
          value: value.hosts,
          allowed: "at least one Git host such as 'github.com'",
        },
      ]),
  ...(value.knownHosts === undefined || value.knownHosts === null
    ? [
        {
          field: `${field}.knownHosts`,
          value: value.knownHosts,
          allowed:
            "the hosts' public keys (a Secret or ConfigMap with known_hosts lines): host key checking stays on",
        },
      ]
    : knownHostsRule(value.knownHosts, `${field}.knownHosts`)),
  ...objectOf<GitSshCredential>({
    // Checked above, with what it must hold.
    knownHosts: anyValue,
    hosts: eachOf(gitHostRule),
    secretName: rfc1123Subdomain,
    privateKeyKey: dataKey,
    user: (v, f) =>
      typeof v === "string" && /^[a-z_][a-z0-9_.-]{0,31}$/i.test(v)
        ? []
        : [{ field: f, value: v, allowed: "an SSH user name such as 'git'" }],
  })(value, field),
];

/** The rule for `gitCredentials`. */
export const gitCredentialsRule: Rule<GitCredentials> = (value, field) => {
  if (value === null || typeof value !== "object") return [{ field, value, allowed: "an object" }];
  const https = value.https ?? [];
  const sshHosts = value.ssh?.hosts ?? [];
  return [
    ...eachOf(httpsRule)(https, `${field}.https`),
    ...uniqueBy<GitHttpsCredential>((c) => c.host, "one credential per host")(https, `${field}.https`),
    ...(value.ssh !== undefined ? sshRule(value.ssh, `${field}.ssh`) : []),
    ...https
      .filter((c) => sshHosts.includes(c.host))
      .map((c) => ({
        field: `${field}.https`,
        value: c.host,
        allowed: "a host not also in gitCredentials.ssh.hosts: Earthly uses one way per host",
      })),
  ];
};

/** The `git` sites the credentials need in Earthly's config: `auth`, and the user for SSH. */
export function gitSitesFor(credentials: GitCredentials | undefined): { [host: string]: EarthlyGitSite } {
  return Object.fromEntries([
    ...(credentials?.https ?? []).map((c) => [c.host, { auth: "https" }]),
    ...(credentials?.ssh?.hosts ?? []).map((host) => [
      host,
      { auth: "ssh", user: credentials?.ssh?.user ?? "git" },
    ]),
  ]);
}

/** Settings in `earthlyConfig.git` or `env` that conflict with the credentials. */
export function gitCredentialConflicts(
  credentials: GitCredentials | undefined,
  config: EarthlyConfig | undefined,
): Problem[] {
  if (credentials === undefined) return [];
  const sites = gitSitesFor(credentials);
  const configured = config?.git ?? {};
  return [
    ...Object.entries(sites).flatMap(([host, needed]): Problem[] => {
      const given = configured[host];
      if (given === undefined) return [];
      const field = `earthlyConfig.git[${JSON.stringify(host)}]`;
      return [
        // Earthly's GetCloneURL returns the rewritten URL before it adds any credential.
        ...(["pattern", "substitute"] as const)
          .filter((key) => given[key] !== undefined)
          .map((key) => ({
            field: `${field}.${key}`,
            value: given[key],
            allowed: `nothing for ${host}, a host in gitCredentials: Earthly takes a rewritten URL as it is and adds no credential to it`,
          })),
        ...(given.auth !== undefined && given.auth !== needed.auth
          ? [
              {
                field: `${field}.auth`,
                value: given.auth,
                allowed: `${needed.auth}, as gitCredentials gives it`,
              },
            ]
          : []),
        ...(given.user !== undefined
          ? [
              {
                field: `${field}.user`,
                value: given.user,
                allowed:
                  needed.auth === "https"
                    ? "nothing: the user comes from the Secret (a user in the config turns off the netrc lookup)"
                    : "nothing: set gitCredentials.ssh.user",
              },
            ]
          : []),
      ];
    }),
  ];
}

/** Refuses `gitCredentials` with a custom `image`: the wrapper runs the `earthly/earthly` entrypoint. */
export function gitCredentialsImageConflict(
  credentials: GitCredentials | undefined,
  image: string | undefined,
): Problem[] {
  return credentials !== undefined && image !== undefined
    ? [
        {
          field: "gitCredentials/image",
          value: image,
          allowed: `gitCredentials with the earthly/earthly image (imageRepository, earthlyVersion, imageDigest) only: its wrapper runs that image's ${EARTHLY_ENTRYPOINT}, which a custom image need not have`,
        },
      ]
    : [];
}

/** What the credentials add to the Earthly container: variables, volumes and the wrapper command. */
export interface GitPodPieces {
  env: KubeEnvVar[];
  volumes: VolumeEntry[];
  /** The container's command (the wrapper), or undefined without credentials. */
  command?: string[];
}

/** The pod pieces for the credentials (none without them). */
export function gitPodPieces(credentials: GitCredentials | undefined): GitPodPieces {
  const https = credentials?.https ?? [];
  const ssh = credentials?.ssh;
  if (https.length === 0 && ssh === undefined) return { env: [], volumes: [] };
  const secretVolume = (
    name: string,
    secretName: string,
    items: kubernetes.types.input.core.v1.KeyToPath[],
  ): KubeVolume => ({
    name,
    secret: { secretName, items, defaultMode: CREDENTIAL_FILE_MODE },
  });
  const volumes: GitPodPieces["volumes"] = [
    {
      volume: { name: "git-runtime", emptyDir: { medium: "Memory", sizeLimit: "1Mi" } },
      mount: { name: "git-runtime", mountPath: GIT_RUNTIME_DIR },
    },
    ...https.map((c, i): VolumeEntry => ({
      volume: secretVolume(`git-https-${i}`, c.secretName, [
        { key: c.usernameKey ?? "username", path: "username" },
        { key: c.passwordKey ?? "password", path: "password" },
      ]),
      mount: { name: `git-https-${i}`, mountPath: `${GIT_HTTPS_DIR}/${i}`, readOnly: true },
    })),
    ...(ssh
      ? [
          {
            volume: secretVolume("git-ssh", ssh.secretName, [
              { key: ssh.privateKeyKey ?? "ssh-privatekey", path: "key" },
            ]),
            mount: { name: "git-ssh", mountPath: GIT_SSH_DIR, readOnly: true },
          },
          {
            volume: ssh.knownHosts.configMapName
              ? {
                  name: "git-known-hosts",
                  configMap: {
                    name: ssh.knownHosts.configMapName,
                    items: [{ key: ssh.knownHosts.key ?? "known_hosts", path: "ssh_known_hosts" }],
                    defaultMode: CREDENTIAL_FILE_MODE,
                  },
                }
              : secretVolume("git-known-hosts", ssh.knownHosts.secretName ?? "", [
                  { key: ssh.knownHosts.key ?? "known_hosts", path: "ssh_known_hosts" },
                ]),
            mount: {
              name: "git-known-hosts",
              mountPath: KNOWN_HOSTS_PATH,
              subPath: "ssh_known_hosts",
              readOnly: true,
            },
          },
        ]
      : []),
  ];
  return {
    env: [
      ...(https.length > 0
        ? [
            { name: "NETRC", value: NETRC_PATH },
            { name: HTTPS_HOSTS_ENV, value: https.map((c) => c.host).join(" ") },
            {
              name: HTTPS_SECRETS_ENV,
              value: https
                .map((c) => `${c.secretName}/${c.usernameKey ?? "username"}/${c.passwordKey ?? "password"}`)
                .join(" "),
            },
          ]
        : []),
      ...(ssh
        ? [
            { name: "SSH_AUTH_SOCK", value: SSH_AGENT_SOCKET },
            { name: SSH_SECRET_ENV, value: `${ssh.secretName}/${ssh.privateKeyKey ?? "ssh-privatekey"}` },
          ]
        : []),
    ],
    volumes,
    command: ["/bin/sh", "-c", GIT_WRAPPER_SCRIPT, "earthly-kubernetes-git"],
  };
}
