/**
 * The demo's build waiter script, run by /bin/sh the way the Command runs it, against a recording
 * kubectl stand-in (PATH holds only the stand-in and a few system tools); its report parser; and
 * the failure message `pulumi up` shows.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  BUILD_RESULT_COMMAND,
  BUILD_RESULT_SCRIPT,
  BuildResult,
  buildResultEnvironment,
  parseBuildResult,
} from "../stacks/buildResult";
import { LOG_TAIL_LINES, REBUILD_COMMAND, buildFailureMessage } from "../stacks/buildOutputs";
import { SHELLS, Shell, linkSystemTools } from "./support/shells";

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), "build-result-test-"));
after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

// `touch` is here so that an injected `$(touch PWNED)` WOULD work: the refusal tests could fail.
const SYS = linkSystemTools(path.join(ROOT, "sys"), [
  "cat",
  "date",
  "grep",
  "mktemp",
  "rm",
  "sed",
  "sleep",
  "tail",
  "touch",
  "ls",
]);

/**
 * The kubectl stand-in. It records its arguments, and answers: `get job/…` with the lines of
 * $STUB_CONDITIONS once it has been asked $STUB_POLLS_BEFORE_DONE times before, `get pods` with
 * $STUB_PODS (but the waiting-reasons query with $STUB_WAITING, its first $STUB_WAITING_POLLS
 * times), `logs` with $STUB_LOG; $STUB_FAIL_ON names a subcommand that fails instead, and
 * $STUB_JOB_FAILURES how many first reads of the Job fail. Every answer also writes a warning to
 * stderr, as kubectl may: it must never be taken for data.
 */
const KUBECTL = String.raw`#!/bin/sh
{ printf '@@ %s\n' "$#"; for a in "$@"; do printf '%s\n' "$a"; done; } >>"$STUB_DIR/calls"
[ "$1" = --kubeconfig ] && ls -ln "$2" >>"$STUB_DIR/kubeconfig-modes" && cat "$2" >>"$STUB_DIR/kubeconfig-seen"
case " $* " in
  *" get job/"*) what=job ;;
  *"waiting.reason"*) what=waiting ;;
  *" get pods "*) what=pods ;;
  *" logs "*) what=logs ;;
  *) echo "kubectl stand-in: unexpected arguments" >&2; exit 2 ;;
esac
if [ "$STUB_FAIL_ON" = "$what" ]; then echo "error: stand-in $what failure" >&2; echo "second line" >&2; exit 1; fi
echo "Warning: stand-in warning on stderr" >&2
case $what in
  job)
    n=$(cat "$STUB_DIR/polls" 2>/dev/null || echo 0)
    echo $((n + 1)) >"$STUB_DIR/polls"
    if [ "$n" -lt "$STUB_JOB_FAILURES" ]; then echo "error: stand-in transient failure $n" >&2; exit 1; fi
    if [ "$n" -ge "$STUB_POLLS_BEFORE_DONE" ]; then printf '%s' "$STUB_CONDITIONS"; fi ;;
  waiting)
    n=$(cat "$STUB_DIR/waitings" 2>/dev/null || echo 0)
    echo $((n + 1)) >"$STUB_DIR/waitings"
    if [ "$n" -lt "$STUB_WAITING_POLLS" ]; then printf '%s' "$STUB_WAITING"; fi ;;
  pods) printf '%s' "$STUB_PODS" ;;
  logs) printf '%s' "$STUB_LOG" ;;
esac
`;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: string[][];
  dir: string;
}

let runs = 0;
function runWaiter(
  shell: Shell,
  overrides: { [key: string]: string } = {},
  stub: { [key: string]: string } = {},
  withKubectl = true,
): Run {
  const dir = path.join(ROOT, `run-${runs++}`);
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  if (withKubectl) fs.writeFileSync(path.join(bin, "kubectl"), KUBECTL, { mode: 0o755 });
  const env = {
    PATH: `${bin}:${SYS}`,
    TMPDIR: dir,
    STUB_DIR: dir,
    STUB_POLLS_BEFORE_DONE: "0",
    STUB_JOB_FAILURES: "0",
    STUB_CONDITIONS: "SuccessCriteriaMet CompletionsReached\nComplete CompletionsReached\n",
    STUB_PODS: "build-abc-old\nbuild-abc-new\n",
    STUB_WAITING: "",
    STUB_WAITING_POLLS: "1000",
    STUB_LOG: "+build | step 1\n+build | done\n",
    ...stub,
    ...buildResultEnvironment({
      kubeconfig: "apiVersion: v1\nkind: Config # SECRET-MARKER",
      namespace: "earthly-builds",
      jobName: "build-abc",
      tailLines: 60,
      timeoutSeconds: 30,
      pollSeconds: 1,
    }),
    ...overrides,
  };
  // Exactly what the Command runs: `/bin/sh -c <create>` with the environment.
  const r = spawnSync(shell.path, ["-c", BUILD_RESULT_COMMAND], {
    env,
    argv0: shell.argv0,
    // No stdin: bash sources ~/.bashrc when its stdin is a socket (as Node's pipes are), as under rshd.
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    timeout: 30_000,
  });
  const log = path.join(dir, "calls");
  const calls = fs.existsSync(log)
    ? fs
        .readFileSync(log, "utf8")
        .split(/^@@ \d+\n/m)
        .slice(1)
        .map((c) => c.replace(/\n$/, "").split("\n"))
    : [];
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls, dir };
}

for (const shell of SHELLS)
  describe(`the build waiter script under ${shell.label}`, () => {
    test("the Command runs a one-line command; the script travels in the environment", () => {
      assert.ok(BUILD_RESULT_COMMAND.length < 80);
      assert.equal(
        buildResultEnvironment({
          kubeconfig: "k",
          namespace: "n",
          jobName: "j",
          tailLines: 1,
          timeoutSeconds: 1,
        }).EK_BUILD_RESULT_SCRIPT,
        BUILD_RESULT_SCRIPT,
      );
    });

    test("a completed Job: succeeded, the newest pod's log tail, kubeconfig in a private file removed afterwards", () => {
      const r = runWaiter(shell);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        r.stdout,
        "result=succeeded\nreason=\npod=build-abc-new\ndetail=\nlog:\n+build | step 1\n+build | done\n",
      );
      const logs = r.calls.find((c) => c.includes("logs"));
      assert.deepEqual(logs?.slice(2), [
        "--namespace",
        "earthly-builds",
        "--request-timeout=30s",
        "logs",
        "pod/build-abc-new",
        "--tail",
        "60",
        "--all-containers",
      ]);
      const pods = r.calls.find((c) => c.includes("pods"));
      assert.ok(pods?.includes("batch.kubernetes.io/job-name=build-abc"));
      const modes = fs.readFileSync(path.join(r.dir, "kubeconfig-modes"), "utf8").trim().split("\n");
      for (const mode of modes) assert.match(mode, /^-rw------- /);
      assert.match(fs.readFileSync(path.join(r.dir, "kubeconfig-seen"), "utf8"), /SECRET-MARKER/);
      assert.deepEqual(
        fs.readdirSync(r.dir).filter((f) => f.startsWith("earthly-kubernetes.")),
        [],
      );
      assert.equal(r.stdout.includes("SECRET-MARKER"), false);
    });

    test("a Job that fails after two polls: failed, with the Failed condition's reason and its log", () => {
      const r = runWaiter(
        shell,
        {},
        {
          STUB_POLLS_BEFORE_DONE: "2",
          STUB_CONDITIONS: "FailureTarget BackoffLimitExceeded\nFailed BackoffLimitExceeded\n",
        },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(parseBuildResult(r.stdout), {
        result: "failed",
        reason: "BackoffLimitExceeded",
        pod: "build-abc-new",
        detail: "",
        log: "+build | step 1\n+build | done\n",
      });
      assert.equal(r.calls.filter((c) => c.some((a) => a === "job/build-abc")).length, 3);
    });

    test("a condition named like Complete but not equal to it does not end the wait", () => {
      const r = runWaiter(
        shell,
        { EK_TIMEOUT_SECONDS: "1" },
        { STUB_CONDITIONS: "NotComplete x\nFailedish y\nFailureTarget BackoffLimitExceeded\n" },
      );
      assert.equal(parseBuildResult(r.stdout).result, "timeout");
    });

    test("a Job that never finishes: timeout, saying after how long", () => {
      const r = runWaiter(shell, { EK_TIMEOUT_SECONDS: "1" }, { STUB_POLLS_BEFORE_DONE: "1000" });
      const result = parseBuildResult(r.stdout);
      assert.equal(result.result, "timeout");
      assert.equal(result.detail, "job/build-abc had not finished after 1 seconds");
    });

    test("kubectl cannot read the Job five times in a row: unknown, with the first line of its error", () => {
      const r = runWaiter(shell, {}, { STUB_FAIL_ON: "job" });
      assert.equal(r.status, 0);
      assert.deepEqual(parseBuildResult(r.stdout), {
        result: "unknown",
        reason: "",
        pod: "",
        detail: "kubectl could not read job/build-abc (5 tries in a row): error: stand-in job failure",
        log: "",
      });
      assert.equal(r.calls.length, 5);
    });

    test("a passing API error does not end the wait: four failed reads, then the result", () => {
      const r = runWaiter(shell, {}, { STUB_JOB_FAILURES: "4" });
      assert.equal(parseBuildResult(r.stdout).result, "succeeded", r.stdout);
    });

    test("the log cannot be read: the result stands, the detail says why", () => {
      const r = runWaiter(shell, {}, { STUB_FAIL_ON: "logs", STUB_CONDITIONS: "Failed DeadlineExceeded\n" });
      const result = parseBuildResult(r.stdout);
      assert.equal(result.result, "failed");
      assert.equal(
        result.detail,
        "the log of pod/build-abc-new could not be read: error: stand-in logs failure",
      );
      assert.equal(result.log, "");
    });

    test("no pod left (e.g. deleted by a TTL): the result stands, the detail says so", () => {
      const r = runWaiter(shell, {}, { STUB_PODS: "" });
      assert.deepEqual(parseBuildResult(r.stdout), {
        result: "succeeded",
        reason: "",
        pod: "",
        detail: "job/build-abc has no pod left to read a log from",
        log: "",
      });
    });

    // A pod that cannot start: the Job never fails by itself before its deadline.
    const NEVER_DONE = { STUB_POLLS_BEFORE_DONE: "1000" };
    test("a pod stuck in ImagePullBackOff for EK_START_SECONDS: failed with that reason and why, no log read", () => {
      const r = runWaiter(
        shell,
        { EK_START_SECONDS: "1", EK_TIMEOUT_SECONDS: "20" },
        { ...NEVER_DONE, STUB_WAITING: "build-abc-x ImagePullBackOff \n" },
      );
      const result = parseBuildResult(r.stdout);
      assert.equal(result.result, "failed", r.stdout);
      assert.equal(result.reason, "ImagePullBackOff");
      assert.equal(result.pod, "build-abc-x");
      assert.match(
        result.detail,
        /^pod\/build-abc-x could not start for [12] seconds \(ImagePullBackOff\); Kubernetes retries/,
      );
      assert.equal(result.log, "");
      assert.equal(
        r.calls.some((c) => c.includes("logs")),
        false,
      );
    });

    // Member by member, from a literal copy of the script's list; an init container's reason counts.
    for (const reason of [
      "ErrImagePull",
      "ImagePullBackOff",
      "InvalidImageName",
      "ErrImageNeverPull",
      "CreateContainerConfigError",
      "CreateContainerError",
    ]) {
      test(`stuck reason ${reason}, in an init container: failed at once with EK_START_SECONDS=0 (the bound)`, () => {
        assert.ok(BUILD_RESULT_SCRIPT.includes(` ${reason} `));
        const r = runWaiter(
          shell,
          { EK_START_SECONDS: "0" },
          { ...NEVER_DONE, STUB_WAITING: `build-abc-old \nbuild-abc-new ${reason} PodInitializing \n` },
        );
        const result = parseBuildResult(r.stdout);
        assert.deepEqual([result.result, result.reason, result.pod], ["failed", reason, "build-abc-new"]);
      });
    }

    test("waiting reasons a pod passes through (ContainerCreating, PodInitializing) never end the wait", () => {
      const r = runWaiter(
        shell,
        { EK_START_SECONDS: "0", EK_TIMEOUT_SECONDS: "1" },
        { ...NEVER_DONE, STUB_WAITING: "build-abc-x ContainerCreating \nbuild-abc-y PodInitializing \n" },
      );
      assert.equal(parseBuildResult(r.stdout).result, "timeout");
    });

    test("stuck once, then starting, with EK_START_SECONDS=1 (bound + 1): not failed; the build goes on to succeed", () => {
      const r = runWaiter(
        shell,
        { EK_START_SECONDS: "1" },
        { STUB_POLLS_BEFORE_DONE: "3", STUB_WAITING_POLLS: "1", STUB_WAITING: "build-abc-x ErrImagePull \n" },
      );
      assert.equal(parseBuildResult(r.stdout).result, "succeeded", r.stdout);
    });

    test("stuck at the first look only, with EK_START_SECONDS=0 (the bound): failed at that look, not later", () => {
      const r = runWaiter(
        shell,
        { EK_START_SECONDS: "0", EK_TIMEOUT_SECONDS: "2" },
        { ...NEVER_DONE, STUB_WAITING_POLLS: "1", STUB_WAITING: "build-abc-x ErrImagePull \n" },
      );
      assert.deepEqual(
        [parseBuildResult(r.stdout).result, parseBuildResult(r.stdout).reason],
        ["failed", "ErrImagePull"],
      );
    });

    test("a stuck spell that clears before the limit stops the clock: the Job's own result decides", () => {
      const r = runWaiter(
        shell,
        { EK_START_SECONDS: "2", EK_TIMEOUT_SECONDS: "3" },
        { ...NEVER_DONE, STUB_WAITING_POLLS: "1", STUB_WAITING: "build-abc-x ErrImagePull \n" },
      );
      assert.equal(parseBuildResult(r.stdout).result, "timeout", r.stdout);
    });

    test("a Job name of 253 characters (the bound) is waited for", () => {
      const job = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
      assert.equal(job.length, 253);
      const r = runWaiter(shell, { EK_JOB_NAME: job, EK_TIMEOUT_SECONDS: "1" }, NEVER_DONE);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(parseBuildResult(r.stdout).result, "timeout");
    });

    test("kubectl missing: unknown, saying so", () => {
      const r = runWaiter(shell, {}, {}, false);
      assert.deepEqual(parseBuildResult(r.stdout).detail, "kubectl was not found on PATH");
    });

    for (const [key, value] of [
      ["EK_NAMESPACE", "x; touch PWNED"],
      ["EK_NAMESPACE", "$(touch PWNED)"],
      ["EK_NAMESPACE", "-n"],
      ["EK_JOB_NAME", "job/../x"],
      ["EK_JOB_NAME", "a`touch PWNED`"],
      ["EK_JOB_NAME", ""],
      ["EK_JOB_NAME", "build-.x"],
      ["EK_JOB_NAME", "build.-x"],
      ["EK_JOB_NAME", `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(62)}`],
      ["EK_TAIL_LINES", "10; touch PWNED"],
      ["EK_TIMEOUT_SECONDS", "-1"],
      ["EK_POLL_SECONDS", "0"],
      ["EK_START_SECONDS", "-1"],
      ["EK_START_SECONDS", "1; touch PWNED"],
      ["EK_KUBECONFIG", ""],
    ]) {
      test(`refuses ${key}=${JSON.stringify(value)} before calling kubectl`, () => {
        const r = runWaiter(shell, { [key]: value });
        assert.equal(r.status, 1);
        assert.match(r.stderr, new RegExp(`^earthly-kubernetes: ${key} `));
        assert.deepEqual(r.calls, []);
        assert.equal(fs.existsSync(path.join(r.dir, "PWNED")), false);
      });
    }
  });

test("each kubectl jsonpath template is on one line, its newline escape reaching kubectl as backslash-n", () => {
  // A raw newline inside a template makes kubectl print nothing useful; the stand-in cannot see it.
  const lines = BUILD_RESULT_SCRIPT.split("\n").filter((l) => l.includes("jsonpath="));
  assert.equal(lines.length, 3);
  for (const line of lines) assert.match(line, /-o 'jsonpath=[^'\n]*'/, line);
  assert.ok(
    BUILD_RESULT_SCRIPT.includes(
      `-o 'jsonpath={range .items[*]}{.metadata.name}{" "}{range .status.initContainerStatuses[*]}{.state.waiting.reason}{" "}{end}{range .status.containerStatuses[*]}{.state.waiting.reason}{" "}{end}{"\\n"}{end}'`,
    ),
  );
});

describe("the waiter's report", () => {
  test("parses every field; an empty log is empty", () => {
    assert.deepEqual(parseBuildResult("result=timeout\nreason=\npod=p-1\ndetail=too slow\nlog:\n"), {
      result: "timeout",
      reason: "",
      pod: "p-1",
      detail: "too slow",
      log: "",
    });
  });

  test("anything else is an unknown result that quotes it", () => {
    for (const text of [
      "",
      "result=maybe\nreason=\npod=\ndetail=\nlog:\n",
      "result=failed\npod=\ndetail=\nlog:\n",
      "garbage",
      // A well-formed report after other lines is not the waiter's report.
      "noise\nresult=succeeded\nreason=\npod=p\ndetail=\nlog:\n",
      "xresult=succeeded\nreason=\npod=p\ndetail=\nlog:\n",
    ]) {
      const r = parseBuildResult(text);
      assert.equal(r.result, "unknown");
      assert.match(r.detail, /^the build waiter printed something unexpected: /);
    }
  });
});

describe("the failure message", () => {
  const at = { kubeContext: "kind-earthlydemo-aio", namespace: "earthly-builds", jobName: "build-abc" };
  const failed: BuildResult = {
    result: "failed",
    reason: "BackoffLimitExceeded",
    pod: "build-abc-xyz",
    detail: "",
    log: "+build | ERROR: boom\n",
  };

  test("starts with the reason, then the log tail, where to read all of it (with --context) and how to rebuild", () => {
    assert.equal(
      buildFailureMessage(failed, at),
      [
        "The Earthly build failed: job/build-abc in namespace earthly-builds (context kind-earthlydemo-aio) failed (BackoffLimitExceeded).",
        `Last ${LOG_TAIL_LINES} lines of the log of pod/build-abc-xyz:`,
        "+build | ERROR: boom",
        "The whole log: kubectl --context kind-earthlydemo-aio --namespace earthly-builds logs pod/build-abc-xyz --all-containers",
        `Run the build again: ${REBUILD_COMMAND}`,
      ].join("\n"),
    );
  });

  test("without a log it gives the detail, points at the Job, and offers to wait again without rebuilding", () => {
    const message = buildFailureMessage(
      { result: "unknown", reason: "", pod: "", detail: "kubectl could not read job/build-abc: x", log: "" },
      { ...at, waitAgainCommand: "pulumi up --replace 'urn:waiter'" },
    );
    assert.match(message, /^The Earthly build's result is unknown: /);
    assert.match(message, /\nDetail: kubectl could not read job\/build-abc: x\n/);
    assert.match(message, /logs job\/build-abc --all-containers\n/);
    assert.match(
      message,
      /\nWait for this build again: pulumi up --replace 'urn:waiter'\nRun the build again: /,
    );
  });

  test("a log of blank lines only (a pod that printed nothing but newlines) is left out, like no log", () => {
    for (const log of ["\n", "\n  \n\t\n"]) {
      const message = buildFailureMessage({ ...failed, log }, at);
      assert.doesNotMatch(message, /Last \d+ lines/, JSON.stringify(log));
      assert.equal(message, buildFailureMessage({ ...failed, log: "" }, at));
    }
  });

  test("a source volume the build cannot write: the hint, after the log, only then", () => {
    const denied = "Error: unable to create dir .tmp-earthly-out: mkdir .tmp-earthly-out: permission denied";
    const message = buildFailureMessage({ ...failed, log: `${denied}\n` }, at);
    assert.match(
      message,
      new RegExp(`${denied.replace(/\./g, "\\.")}\nHint: the build's user cannot write its source volume`),
    );
    assert.match(message, /sourceVolume claim must be writable by the pod's user/);
    // Only Earthly's own words bring the hint: another permission error, or the directory alone, do not.
    for (const log of [
      "mkdir /cache: permission denied\n",
      "unable to create dir .tmp-earthly-out: no space left on device\n",
    ]) {
      assert.doesNotMatch(buildFailureMessage({ ...failed, log }, at), /Hint:/);
    }
  });

  test("a failed build is not offered a second wait, only a rebuild", () => {
    const message = buildFailureMessage(failed, {
      ...at,
      waitAgainCommand: "pulumi up --replace 'urn:waiter'",
    });
    assert.doesNotMatch(message, /Wait for this build again/);
  });
});
