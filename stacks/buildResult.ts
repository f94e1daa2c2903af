/**
 * The demo's build waiter: a script, run by a `@pulumi/command` command, that waits for the build Job
 * to finish, reads the end of its newest pod's log, and reports both. Once its inputs pass its checks
 * it exits 0 whatever the build did, so that the stack outputs (Job name, how to follow it, the log)
 * exist after a failed build too; the program then fails the deployment itself, with the log tail in
 * the error (see `buildOutputs.ts`). Inputs it refuses make it exit 1, failing that Command.
 *
 * The Command runs its `create` text as `/bin/sh -c`; the script travels in the environment, so a
 * failure message shows a one-line command, not the script. No user value is part of the script:
 * values arrive as environment variables, are re-validated, and every expansion is quoted.
 * Inside the template literal below, `\${` is a shell expansion, not a TypeScript one.
 */
import { LOWER_ALNUM, SCRIPT_PRELUDE } from "../components/kind/scripts";

/**
 * What the Command runs: the script from {@link BUILD_RESULT_SCRIPT}, passed in the environment (as
 * the kind Commands pass theirs), so a failure message quotes this line and not the script.
 */
export const BUILD_RESULT_COMMAND = 'eval "${EK_BUILD_RESULT_SCRIPT:?not set}"';

/**
 * Waits for `job/$EK_JOB_NAME` in `$EK_NAMESPACE` to be Complete or Failed (at most
 * `$EK_TIMEOUT_SECONDS`, polling every `$EK_POLL_SECONDS`; five failed reads in a row give up), or
 * until a pod of the Job has been unable to start for `$EK_START_SECONDS` (a container waiting with
 * a reason that retrying does not cure by itself: an image that cannot be pulled, a missing Secret or
 * key; the result is then `failed` with that reason, though Kubernetes retries until the Job's
 * deadline), then prints:
 *
 *     result=succeeded|failed|timeout|unknown
 *     reason=<the reason of the Job's Failed condition, e.g. BackoffLimitExceeded, or empty>
 *     pod=<the newest pod of the Job, or empty>
 *     detail=<one line: why the result or the log is incomplete, or empty>
 *     log:
 *     <the last $EK_TAIL_LINES lines of that pod's log>
 *
 * `$EK_KUBECONFIG` holds the kubeconfig's content (a secret): it goes to a private temp file,
 * never into an argument list.
 */
export const BUILD_RESULT_SCRIPT = `${SCRIPT_PRELUDE}# An RFC 1123 subdomain (a Job name): dot-separated labels, at most 253 characters.
is_subdomain() {
  [ "\${#1}" -le 253 ] || return 1
  case $1 in
    '' | .* | *. | *..* | -* | *- | *.-* | *-.* | *[!${LOWER_ALNUM}.-]*) return 1 ;;
  esac
}
namespace=$EK_NAMESPACE
job=$EK_JOB_NAME
tail_lines=$EK_TAIL_LINES
timeout=$EK_TIMEOUT_SECONDS
start_limit=$EK_START_SECONDS
poll=$EK_POLL_SECONDS
if ! is_label "$namespace" || [ "\${#namespace}" -gt 63 ]; then
  die "EK_NAMESPACE '$namespace' is not an RFC 1123 label"
fi
is_subdomain "$job" || die "EK_JOB_NAME '$job' is not an RFC 1123 subdomain"
is_uint "$tail_lines" || die "EK_TAIL_LINES '$tail_lines' is not a whole number of lines"
is_uint "$timeout" || die "EK_TIMEOUT_SECONDS '$timeout' is not a whole number of seconds"
is_uint "$start_limit" || die "EK_START_SECONDS '$start_limit' is not a whole number of seconds"
if ! is_uint "$poll" || [ "$poll" -eq 0 ]; then
  die "EK_POLL_SECONDS '$poll' is not a positive whole number of seconds"
fi
[ -n "$EK_KUBECONFIG" ] || die "EK_KUBECONFIG is empty: there is no kubeconfig to reach the cluster with"

result=unknown
reason=
pod=
detail=
log=
report() {
  printf 'result=%s\\nreason=%s\\npod=%s\\ndetail=%s\\nlog:\\n' "$result" "$reason" "$pod" "$detail"
  [ -z "$log" ] || printf '%s\\n' "$log"
  exit 0
}

if ! command -v kubectl >/dev/null 2>&1; then
  detail="kubectl was not found on PATH"
  report
fi
tmp=
errors=
trap '[ -z "$tmp" ] || rm -f -- "$tmp"; [ -z "$errors" ] || rm -f -- "$errors"' EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
tmp=$(mktemp "\${TMPDIR:-/tmp}/earthly-kubernetes.XXXXXX") || { detail="mktemp failed"; report; }
errors=$(mktemp "\${TMPDIR:-/tmp}/earthly-kubernetes.XXXXXX") || { detail="mktemp failed"; report; }
# printf is a shell builtin, so the secret never shows up in a process's argument list.
printf '%s\\n' "$EK_KUBECONFIG" >"$tmp" || { detail="the kubeconfig could not be written to a temporary file"; report; }
# kubectl's stderr goes apart, so a warning never mixes into what is parsed; each call is bounded.
k() { kubectl --kubeconfig "$tmp" --namespace "$namespace" --request-timeout=30s "$@" </dev/null 2>"$errors"; }
# The first line of kubectl's last error, for the detail field.
error_line() { sed -n '1p' "$errors"; }

# Waiting reasons that mean a container will not start until someone changes something.
stuck_reasons=' ErrImagePull ImagePullBackOff InvalidImageName ErrImageNeverPull CreateContainerConfigError CreateContainerError '
# The first pod and reason seen stuck, and since when (reset when none is).
stuck_pod=
stuck_reason=
stuck_since=
# Prints "POD REASON" for the first container of the Job's pods that waits for a stuck reason.
stuck_container() {
  k get pods -l "batch.kubernetes.io/job-name=$job" -o 'jsonpath={range .items[*]}{.metadata.name}{" "}{range .status.initContainerStatuses[*]}{.state.waiting.reason}{" "}{end}{range .status.containerStatuses[*]}{.state.waiting.reason}{" "}{end}{"\\n"}{end}' |
    while read -r name reasons; do
      for r in $reasons; do
        case $stuck_reasons in
          *" $r "*) printf '%s %s\\n' "$name" "$r"; exit 0 ;;
        esac
      done
    done
}

start=$(date +%s)
failures=0
while :; do
  # The conditions that hold, one per line as TYPE REASON: Complete or Failed end the wait.
  if conditions=$(k get "job/$job" -o 'jsonpath={range .status.conditions[?(@.status=="True")]}{.type}{" "}{.reason}{"\\n"}{end}'); then
    failures=0
    if printf '%s\\n' "$conditions" | grep -Eq '^Complete( |$)'; then
      result=succeeded
      break
    fi
    if failed=$(printf '%s\\n' "$conditions" | grep -E '^Failed( |$)'); then
      result=failed
      reason=\${failed#Failed}
      reason=\${reason# }
      break
    fi
    # Not finished: a pod that cannot start ends the wait once it has been stuck long enough.
    if stuck=$(stuck_container) && [ -n "$stuck" ]; then
      now=$(date +%s)
      if [ -z "$stuck_since" ]; then
        stuck_since=$now
      fi
      stuck_pod=\${stuck%% *}
      stuck_reason=\${stuck#* }
      if [ $((now - stuck_since)) -ge "$start_limit" ]; then
        result=failed
        reason=$stuck_reason
        pod=$stuck_pod
        detail="pod/$stuck_pod could not start for $((now - stuck_since)) seconds ($stuck_reason); Kubernetes retries it until the Job's deadline"
        log=
        report
      fi
    else
      stuck_since=
    fi
  else
    # A passing API error (a restart, a timeout) does not end the wait; five in a row do.
    failures=$((failures + 1))
    if [ "$failures" -ge 5 ]; then
      detail="kubectl could not read job/$job ($failures tries in a row): $(error_line)"
      report
    fi
  fi
  if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
    result=timeout
    detail="job/$job had not finished after $timeout seconds"
    break
  fi
  sleep "$poll"
done

# The newest pod is the last attempt: its log is the one that explains the result.
if ! pods=$(k get pods -l "batch.kubernetes.io/job-name=$job" --sort-by=.metadata.creationTimestamp -o 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}'); then
  detail="kubectl could not list the pods of job/$job: $(error_line)"
  report
fi
pod=$(printf '%s\\n' "$pods" | sed '/^$/d' | tail -n 1)
if [ -z "$pod" ]; then
  detail="job/$job has no pod left to read a log from"
  report
fi
if ! log=$(k logs "pod/$pod" --tail "$tail_lines" --all-containers); then
  detail="the log of pod/$pod could not be read: $(error_line)"
  log=
fi
report
`;

/** Seconds a build pod may be unable to start (its image not pulled, a Secret missing) by default. */
export const DEFAULT_START_SECONDS = 120;

/** Arguments of {@link buildResultEnvironment}. */
export interface BuildResultEnvironmentArgs {
  /** Kubeconfig content (a secret: keep the resulting map inside a secret Output). */
  kubeconfig: string;
  /** The Job's namespace. */
  namespace: string;
  /** The Job's name. */
  jobName: string;
  /** How many lines of the log's end to keep. */
  tailLines: number;
  /** How long to wait for the Job to finish. */
  timeoutSeconds: number;
  /** How often to look (default 2). */
  pollSeconds?: number;
  /** How long a pod may be unable to start before the build counts as failed (default 120). */
  startSeconds?: number;
}

/** The environment of {@link BUILD_RESULT_COMMAND}: the script and its inputs. */
export function buildResultEnvironment(args: BuildResultEnvironmentArgs): Record<string, string> {
  return {
    EK_BUILD_RESULT_SCRIPT: BUILD_RESULT_SCRIPT,
    EK_KUBECONFIG: args.kubeconfig,
    EK_NAMESPACE: args.namespace,
    EK_JOB_NAME: args.jobName,
    EK_TAIL_LINES: String(args.tailLines),
    EK_TIMEOUT_SECONDS: String(args.timeoutSeconds),
    EK_POLL_SECONDS: String(args.pollSeconds ?? 2),
    EK_START_SECONDS: String(args.startSeconds ?? DEFAULT_START_SECONDS),
  };
}

/** How a build ended, as the waiter saw it. */
export type BuildOutcome = "succeeded" | "failed" | "timeout" | "unknown";

/** The waiter's report, parsed. */
export interface BuildResult {
  /** How the build ended; `unknown` when the cluster could not be asked. */
  result: BuildOutcome;
  /** Why Kubernetes failed the Job (its Failed condition's reason), or empty. */
  reason: string;
  /** The pod whose log was read (the Job's newest), or empty. */
  pod: string;
  /** Why the result or the log is incomplete, or empty. */
  detail: string;
  /** The end of the pod's log. */
  log: string;
}

const OUTCOMES: readonly BuildOutcome[] = ["succeeded", "failed", "timeout", "unknown"];

/** Parses the waiter's stdout; anything unexpected is an `unknown` result that says so. */
export function parseBuildResult(stdout: string): BuildResult {
  const match = /^result=(.*)\nreason=(.*)\npod=(.*)\ndetail=(.*)\nlog:\n?([\s\S]*)$/.exec(stdout);
  const result = match?.[1] as BuildOutcome | undefined;
  if (!match || result === undefined || !OUTCOMES.includes(result)) {
    return {
      result: "unknown",
      reason: "",
      pod: "",
      detail: `the build waiter printed something unexpected: ${JSON.stringify(stdout.slice(0, 200))}`,
      log: "",
    };
  }
  return { result, reason: match[2], pod: match[3], detail: match[4], log: match[5] };
}
