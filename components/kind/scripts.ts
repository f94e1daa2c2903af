/**
 * Shell scripts run by `@pulumi/command` `local.Command` resources (create/delete a kind cluster),
 * and helpers that build their `environment` maps.
 *
 * The Command runs its command line as `/bin/sh -c <line>`, so these are POSIX sh (dash, bash, macOS
 * sh). A failing Command quotes its whole command line before the output, so the kind Command's
 * lines are short and fixed ({@link KIND_CREATE_COMMAND}) and its scripts travel in the environment.
 * No user value is ever part of the script text: values arrive only as environment variables (and
 * stdin), every expansion is double-quoted, and each script re-validates its inputs before running
 * anything, so a value that slipped past the component's own checks is refused, never executed.
 * Inside template literals below, `\${` is a shell expansion, not a TypeScript one.
 */
import { CONFIG_HASH_LABEL } from "./kindConfig";

// Character sets are spelled out: a range such as a-z can match other letters in some locales.
export const LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789";

/** Messages, prefixed `earthly-kubernetes:` on stderr; `die` exits 1. */
const MESSAGES = `umask 077
say() { printf 'earthly-kubernetes: %s\\n' "$*" >&2; }
die() { say "$*"; exit 1; }
`;

/** Refusing a missing tool. */
const NEED = `# need TOOL ADVICE: refuse unless TOOL is on PATH.
need() {
  command -v "$1" >/dev/null 2>&1 || die "$1 was not found on PATH: $2"
}
`;

/** Name and number shapes. */
const SHAPES = `# An RFC 1123 label's shape; callers check the length.
is_label() {
  case $1 in
    '' | -* | *- | *[!${LOWER_ALNUM}-]*) return 1 ;;
  esac
}
is_uint() {
  case $1 in
    '' | *[!0123456789]*) return 1 ;;
  esac
}
`;

/** What the kind scripts share: messages, tool checks and name/number shapes. */
const COMMON = `${MESSAGES}${NEED}${SHAPES}`;

/**
 * Messages (`say`, `die`) and shapes (`is_label`, `is_uint`) for a script of the demo's that reports
 * a missing tool rather than refusing it (the build waiter).
 */
export const SCRIPT_PRELUDE = `${MESSAGES}${SHAPES}`;

/** The kind cluster name rule of `validation.kindClusterName`, again in sh. */
const CHECK_CLUSTER_NAME = `name=$KIND_CLUSTER_NAME
if ! is_label "$name" || [ "\${#name}" -gt 40 ]; then
  die "KIND_CLUSTER_NAME '$name' is not a valid kind cluster name: 1-40 lower-case letters, digits or '-', starting and ending with a letter or digit"
fi
`;

/** A private temp file, removed however the script ends (dash runs EXIT traps only on exit). */
const TEMP_FILE = `tmp=
trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
make_temp() {
  tmp=$(mktemp "\${TMPDIR:-/tmp}/earthly-kubernetes.XXXXXX")
}
`;

const KIND_ADVICE = "install kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)";
const KUBECTL_ADVICE = "install kubectl (https://kubernetes.io/docs/tasks/tools/)";

/** Lists kind's clusters; fails with kind's own error (already on stderr) when it cannot. */
const LIST_CLUSTERS = `clusters=$(kind get clusters </dev/null) ||
  die "'kind get clusters' failed (its error is above), so it is unknown whether kind cluster '$name' exists"
cluster_listed() {
  printf '%s\\n' "$clusters" | grep -Fqx -e "$name"
}
`;

/**
 * Creates the kind cluster (or recovers/adopts an existing one) and prints its kubeconfig on stdout.
 *
 * Environment: `KIND_CLUSTER_NAME`, `EK_WAIT_SECONDS`, `EK_CONFIG_HASH`, `EK_ADOPT_EXISTING`,
 * `EK_CONFIG_HASH_LABEL` (see {@link kindCreateEnvironment}); `KIND_EXPERIMENTAL_PROVIDER` picks the
 * container engine as kind does. Stdin: the kind config YAML. Stdout: only the kubeconfig (a secret).
 */
export const KIND_CREATE_SCRIPT = `${COMMON}${TEMP_FILE}${CHECK_CLUSTER_NAME}wait_seconds=$EK_WAIT_SECONDS
config_hash=$EK_CONFIG_HASH
hash_label=$EK_CONFIG_HASH_LABEL
adopt=$EK_ADOPT_EXISTING
is_uint "$wait_seconds" || die "EK_WAIT_SECONDS '$wait_seconds' is not a whole number of seconds"
case $config_hash in
  *[!0123456789abcdef]*) die "EK_CONFIG_HASH '$config_hash' is not 40 lower-case hexadecimal digits" ;;
esac
[ "\${#config_hash}" -eq 40 ] || die "EK_CONFIG_HASH '$config_hash' is not 40 lower-case hexadecimal digits"
# The key becomes part of a label selector: no ',', '=', '!' or spaces that would change its meaning.
case $hash_label in
  [${LOWER_ALNUM}]*) ;;
  *) die "EK_CONFIG_HASH_LABEL '$hash_label' is not a label key" ;;
esac
case $hash_label in
  *[!${LOWER_ALNUM}./_-]*) die "EK_CONFIG_HASH_LABEL '$hash_label' is not a label key" ;;
esac
case $adopt in
  true | false) ;;
  *) die "EK_ADOPT_EXISTING '$adopt' must be 'true' or 'false'" ;;
esac

need kind "${KIND_ADVICE}"
need kubectl "${KUBECTL_ADVICE}"
case $KIND_EXPERIMENTAL_PROVIDER in
  podman) engine=podman ;;
  nerdctl) engine=nerdctl ;;
  *) engine=docker ;;
esac
need "$engine" "kind needs a container engine: install and start Docker (or Podman with KIND_EXPERIMENTAL_PROVIDER=podman)"
# Only the engine's error is kept; its normal output would be noise.
if ! engine_error=$("$engine" info 2>&1 >/dev/null </dev/null); then
  [ -z "$engine_error" ] || printf '%s\\n' "$engine_error" >&2
  die "'$engine info' failed: the $engine daemon is not running or not reachable; start $engine and retry"
fi

${LIST_CLUSTERS}if cluster_listed; then
  make_temp || die "could not create a temporary file for the kubeconfig (mktemp failed)"
  kind get kubeconfig --name "$name" </dev/null >"$tmp" ||
    die "could not read the kubeconfig of the existing kind cluster '$name'"
  nodes_listed=true
  nodes=$(kubectl --kubeconfig "$tmp" get nodes -l "$hash_label=$config_hash" -o name </dev/null) ||
    { nodes_listed=false; nodes=; }
  if [ -n "$nodes" ]; then
    say "kind cluster '$name' already exists and carries this configuration's hash: an earlier run of this configuration created it and stopped before finishing; continuing with it"
  elif [ "$adopt" = true ]; then
    say "kind cluster '$name' already exists and is not marked as created by this configuration; adopting it because adoptExisting is set"
  elif [ "$nodes_listed" = true ]; then
    die "kind cluster '$name' already exists and was not created by this configuration, so it will not be adopted: set adoptExisting to take it over, or choose another cluster name"
  else
    die "kind cluster '$name' already exists but its nodes could not be listed (kubectl's error is above), so it cannot be confirmed as created by this configuration and will not be adopted: repair or delete it, set adoptExisting to take it over, or choose another cluster name"
  fi
else
  say "creating kind cluster '$name'"
  # kind's progress goes to stderr: stdout is reserved for the kubeconfig.
  kind create cluster --name "$name" --config - --wait "$wait_seconds"s >&2 ||
    die "'kind create cluster' failed for cluster '$name' (its error is above)"
fi
kind get kubeconfig --name "$name" </dev/null || die "could not read the kubeconfig of kind cluster '$name'"
`;

/**
 * Deletes the kind cluster; succeeds when it is already gone.
 *
 * Environment: `KIND_CLUSTER_NAME` (see {@link kindDeleteEnvironment}).
 */
export const KIND_DELETE_SCRIPT = `${COMMON}${CHECK_CLUSTER_NAME}need kind "${KIND_ADVICE}"
${LIST_CLUSTERS}if cluster_listed; then
  kind delete cluster --name "$name" </dev/null >&2 ||
    die "'kind delete cluster' failed for cluster '$name' (its error is above)"
else
  say "kind cluster '$name' is already gone; nothing to delete"
fi
`;

/**
 * The kind Command's `create`: runs {@link KIND_CREATE_SCRIPT}, which arrives in `EK_KIND_CREATE_SCRIPT`.
 * `eval` runs it in the shell the Command started, so the tests run it under dash and bash exactly so;
 * `:?` fails the command, rather than running nothing, should the script be missing.
 */
export const KIND_CREATE_COMMAND = 'eval "${EK_KIND_CREATE_SCRIPT:?not set}"';

/** The kind Command's `delete`: runs {@link KIND_DELETE_SCRIPT}, which arrives in `EK_KIND_DELETE_SCRIPT`. */
export const KIND_DELETE_COMMAND = 'eval "${EK_KIND_DELETE_SCRIPT:?not set}"';

/** Arguments of {@link kindCreateEnvironment}. */
export interface KindCreateEnvironmentArgs {
  /** The kind cluster name (a DNS label of at most 40 characters). */
  clusterName: string;
  /** Seconds `kind create cluster --wait` waits for the control plane. */
  waitSeconds: number;
  /** The configuration hash (`kindConfigHash`), also the value of the hash label on the first node. */
  configHash: string;
  /** Take over a same-named cluster this configuration did not create. */
  adoptExisting: boolean;
}

/** The environment of {@link KIND_CREATE_COMMAND}: the script and its values (none of them secret). */
export function kindCreateEnvironment(args: KindCreateEnvironmentArgs): Record<string, string> {
  return {
    KIND_CLUSTER_NAME: args.clusterName,
    EK_WAIT_SECONDS: String(args.waitSeconds),
    EK_CONFIG_HASH: args.configHash,
    EK_ADOPT_EXISTING: args.adoptExisting ? "true" : "false",
    EK_CONFIG_HASH_LABEL: CONFIG_HASH_LABEL,
    EK_KIND_CREATE_SCRIPT: KIND_CREATE_SCRIPT,
  };
}

/** The environment of {@link KIND_DELETE_COMMAND}: the script and the cluster name. */
export function kindDeleteEnvironment(clusterName: string): Record<string, string> {
  return { KIND_CLUSTER_NAME: clusterName, EK_KIND_DELETE_SCRIPT: KIND_DELETE_SCRIPT };
}
