/**
 * Runs the real kind/kubectl shell scripts under every available POSIX shell, against recording
 * stand-ins for `kind`, `kubectl` and the container engines. The kind scripts run as KindCluster
 * passes them: the short command line as `sh -c`, the script itself in the environment. PATH holds only the stand-ins and a
 * directory of links to a few system utilities, so no real kind/kubectl/docker can be reached.
 */
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CONFIG_HASH_LABEL } from "../components/kind/kindConfig";
import {
  KIND_CREATE_COMMAND,
  KIND_CREATE_SCRIPT,
  KIND_DELETE_COMMAND,
  KIND_DELETE_SCRIPT,
  kindCreateEnvironment,
  kindDeleteEnvironment,
} from "../components/kind/scripts";
import { BUILD_RESULT_COMMAND, BUILD_RESULT_SCRIPT } from "../stacks/buildResult";
import { SHELLS, Shell, linkSystemTools } from "./support/shells";
import { ensureShellcheck } from "./support/shellcheck";

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), "kind-scripts-test-"));
after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

// The only system programs the scripts and stand-ins may reach. `touch` is here so that an injected
// `$(touch PWNED)` WOULD work: the hostile-value tests could not fail otherwise.
const SYS_DIR = linkSystemTools(path.join(ROOT, "sys"), ["cat", "grep", "mktemp", "rm", "ls", "touch"]);

// ---------------------------------------------------------------------------------------------
// Recording stand-ins. Each call appends "@@ TOOL ARGC" and then one line per argument to
// $STUB_LOG; knobs in the environment decide how the stand-in behaves.
// ---------------------------------------------------------------------------------------------

type Stub = "kind" | "kubectl" | "docker" | "podman" | "nerdctl";

function stubBody(tool: Stub): string {
  switch (tool) {
    case "kind":
      return String.raw`case "$1 $2" in
  "get clusters")
    if [ -n "$STUB_KIND_GET_CLUSTERS_FAIL" ]; then echo "ERROR: failed to list clusters: stand-in failure" >&2; exit 1; fi
    if [ -z "$STUB_CLUSTERS" ]; then echo "No kind clusters found." >&2; else printf '%s\n' "$STUB_CLUSTERS"; fi ;;
  "get kubeconfig")
    printf '%s' "$STUB_KUBECONFIG" ;;
  "create cluster")
    cat >"$STUB_DIR/kind-create-stdin"
    echo "Creating cluster (stand-in stdout)"
    exit "$STUB_KIND_CREATE_EXIT" ;;
  "delete cluster")
    echo "Deleting cluster (stand-in stdout)"
    exit "$STUB_KIND_DELETE_EXIT" ;;
  *) echo "kind stand-in: unexpected arguments" >&2; exit 2 ;;
esac`;
    case "kubectl":
      return String.raw`if [ "$1" = --kubeconfig ]; then
  cat "$2" >>"$STUB_DIR/kubeconfig-seen"
  ls -ln "$2" >>"$STUB_DIR/kubeconfig-modes"
fi
if [ -n "$STUB_KUBECTL_FAIL" ]; then echo "error: stand-in kubectl failure" >&2; exit 1; fi
case " $* " in
  *" get nodes "*) if [ -n "$STUB_LABELLED_NODE" ]; then printf 'node/%s\n' "$STUB_LABELLED_NODE"; fi ;;
  *) echo "kubectl stand-in: unexpected arguments" >&2; exit 2 ;;
esac`;
    default:
      return String.raw`[ "$1" = info ] || exit 2
echo "Client: stand-in"
if [ -n "$STUB_ENGINE_DOWN" ]; then echo "Cannot connect to the stand-in daemon. Is the daemon running?" >&2; exit 1; fi
echo "Server: stand-in"`;
  }
}

function writeStub(binDir: string, tool: Stub): void {
  const record = `{\n  printf '@@ ${tool} %s\\n' "$#"\n  for a in "$@"; do printf '%s\\n' "$a"; done\n} >>"$STUB_LOG"`;
  fs.writeFileSync(path.join(binDir, tool), `#!/bin/sh\n${record}\n${stubBody(tool)}\n`, { mode: 0o755 });
}

interface Call {
  tool: string;
  args: string[];
}

/** Parses the stand-ins' log; an argument split by a newline would break the ARGC framing. */
function readCalls(logPath: string): Call[] {
  if (!fs.existsSync(logPath)) return [];
  const lines = fs.readFileSync(logPath, "utf8").split("\n");
  assert.equal(lines.pop(), "", "the log ends with a newline");
  const calls: Call[] = [];
  for (let i = 0; i < lines.length;) {
    const header = /^@@ (\S+) (\d+)$/.exec(lines[i]);
    assert.ok(header, `expected a call header at log line ${i}: ${JSON.stringify(lines[i])}`);
    const argc = Number(header[2]);
    calls.push({ tool: header[1], args: lines.slice(i + 1, i + 1 + argc) });
    i += 1 + argc;
  }
  return calls;
}

const KUBECONFIG =
  "apiVersion: v1\nkind: Config\nclusters:\n- name: kind-demo\n  cluster:\n    server: https://127.0.0.1:41234\n";
const HASH = "0123456789abcdef0123456789abcdef01234567";
const CONFIG_YAML =
  "kind: Cluster\napiVersion: kind.x-k8s.io/v1alpha4\n" +
  "# passes through untouched: $(touch PWNED) `touch PWNED` 'q' \"dq\" \\ ; ü\ttab\n" +
  "nodes:\n- role: control-plane\n  labels:\n    earthly-kubernetes/kind-config: " +
  HASH +
  "\n- role: worker";

interface RunOptions {
  stubs?: readonly Stub[];
  env?: Record<string, string>;
  stdin?: string;
}

interface RunResult {
  status: number | null;
  stdout: string;
  stderr: string;
  calls: Call[];
  dir: string;
  tmpDir: string;
  workDir: string;
}

function run(shell: Shell, script: string, options: RunOptions = {}): RunResult {
  const dir = fs.mkdtempSync(path.join(ROOT, "run-"));
  const bin = path.join(dir, "bin");
  const tmpDir = path.join(dir, "tmp");
  const workDir = path.join(dir, "work");
  for (const d of [bin, tmpDir, workDir]) fs.mkdirSync(d);
  for (const tool of options.stubs ?? ["kind", "kubectl", "docker"]) writeStub(bin, tool);
  const logPath = path.join(dir, "calls.log");
  // Stdin comes from a file, as a refused run exits without reading it (a pipe would give EPIPE).
  const stdinPath = path.join(dir, "stdin");
  fs.writeFileSync(stdinPath, options.stdin ?? "");
  const stdinFd = fs.openSync(stdinPath, "r");
  const result = spawnSync(shell.path, ["-c", script], {
    argv0: shell.argv0,
    cwd: workDir,
    encoding: "utf8",
    stdio: [stdinFd, "pipe", "pipe"],
    timeout: 30_000,
    env: {
      PATH: `${bin}:${SYS_DIR}`,
      HOME: workDir,
      TMPDIR: tmpDir,
      STUB_LOG: logPath,
      STUB_DIR: dir,
      STUB_CLUSTERS: "",
      STUB_KUBECONFIG: KUBECONFIG,
      STUB_KIND_CREATE_EXIT: "0",
      STUB_KIND_DELETE_EXIT: "0",
      ...options.env,
    },
  });
  fs.closeSync(stdinFd);
  assert.equal(result.error, undefined, `the shell ran: ${String(result.error)}`);
  return {
    status: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    calls: readCalls(logPath),
    dir,
    tmpDir,
    workDir,
  };
}

function createEnv(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ...kindCreateEnvironment({
      clusterName: "demo",
      waitSeconds: 120,
      configHash: HASH,
      adoptExisting: false,
    }),
    ...overrides,
  };
}

const GET_CLUSTERS: Call = { tool: "kind", args: ["get", "clusters"] };
const DOCKER_INFO: Call = { tool: "docker", args: ["info"] };
const kubeconfigCall = (name: string): Call => ({
  tool: "kind",
  args: ["get", "kubeconfig", "--name", name],
});
const createCall = (name: string): Call => ({
  tool: "kind",
  args: ["create", "cluster", "--name", name, "--config", "-", "--wait", "120s"],
});
const labelledNodesCall = (kubeconfigPath: string): Call => ({
  tool: "kubectl",
  args: ["--kubeconfig", kubeconfigPath, "get", "nodes", "-l", `${CONFIG_HASH_LABEL}=${HASH}`, "-o", "name"],
});

/** The --kubeconfig path the script gave kubectl; it must be a private file that no longer exists. */
function assertKubeconfigTempRemoved(r: RunResult, expectedContent: string): string {
  const kubectl = r.calls.find((c) => c.tool === "kubectl");
  assert.ok(kubectl, "kubectl was called");
  assert.equal(kubectl.args[0], "--kubeconfig");
  const tmpPath = kubectl.args[1];
  assert.ok(tmpPath.startsWith(`${r.tmpDir}/earthly-kubernetes.`), `temp file under TMPDIR: ${tmpPath}`);
  assert.equal(fs.existsSync(tmpPath), false, "the kubeconfig temp file was removed");
  assert.deepEqual(fs.readdirSync(r.tmpDir), [], "nothing left in TMPDIR");
  assert.equal(fs.readFileSync(path.join(r.dir, "kubeconfig-seen"), "utf8"), expectedContent);
  assert.match(fs.readFileSync(path.join(r.dir, "kubeconfig-modes"), "utf8"), /^-rw------- /);
  return tmpPath;
}

function assertNoMarker(r: RunResult, value: string): void {
  assert.equal(
    fs.existsSync(path.join(r.workDir, "PWNED")),
    false,
    `injection ran for ${JSON.stringify(value)}`,
  );
}

const HOSTILE_VALUES = [
  "",
  "bad name",
  "a'b",
  'a"b',
  "$(touch PWNED)",
  "a$(touch PWNED)b",
  "`touch PWNED`",
  "a;touch PWNED",
  "a && touch PWNED",
  "a|touch PWNED",
  "a\ntouch PWNED",
  "demo\n",
  "-h",
  "--help",
  "-demo",
  "demo-",
  "Demo",
  "de*",
  "a\tb",
  "dämo",
  "a/b",
  "$HOME",
];

test("harness: only the stand-ins are reachable, and an unsafe script does trip the marker", () => {
  const r = run(SHELLS[0], 'command -v kubectl || echo "no kubectl"; command -v docker || echo "no docker"', {
    stubs: [],
  });
  assert.equal(r.stdout, "no kubectl\nno docker\n");
  // Control: if the scripts ever pasted a value into code, the marker check would catch it.
  const unsafe = run(SHELLS[0], 'eval "x=$KIND_CLUSTER_NAME"', {
    env: { KIND_CLUSTER_NAME: "$(touch PWNED)" },
  });
  assert.equal(fs.existsSync(path.join(unsafe.workDir, "PWNED")), true);
});

test("the env helpers build exactly the documented maps, in a fixed key order", () => {
  const create = kindCreateEnvironment({
    clusterName: "earthlydemo-aio",
    waitSeconds: 300,
    configHash: HASH,
    adoptExisting: true,
  });
  assert.deepEqual(Object.entries(create), [
    ["KIND_CLUSTER_NAME", "earthlydemo-aio"],
    ["EK_WAIT_SECONDS", "300"],
    ["EK_CONFIG_HASH", HASH],
    ["EK_ADOPT_EXISTING", "true"],
    ["EK_CONFIG_HASH_LABEL", "earthly-kubernetes/kind-config"],
    ["EK_KIND_CREATE_SCRIPT", KIND_CREATE_SCRIPT],
  ]);
  assert.equal(
    kindCreateEnvironment({ clusterName: "x", waitSeconds: 0, configHash: HASH, adoptExisting: false })
      .EK_ADOPT_EXISTING,
    "false",
  );
  assert.deepEqual(Object.entries(kindDeleteEnvironment("earthlydemo-aio")), [
    ["KIND_CLUSTER_NAME", "earthlydemo-aio"],
    ["EK_KIND_DELETE_SCRIPT", KIND_DELETE_SCRIPT],
  ]);
});

test("shellcheck finds nothing in the kind scripts, the demo's build waiter and their command lines (as sh, dash and bash)", () => {
  // Never skipped: shellcheck comes from PATH or is installed into the cache, else this fails saying why.
  const shellcheck = ensureShellcheck();
  const dir = fs.mkdtempSync(path.join(ROOT, "shellcheck-"));
  const scripts = {
    create: KIND_CREATE_SCRIPT,
    delete: KIND_DELETE_SCRIPT,
    "build-result": BUILD_RESULT_SCRIPT,
    "build-result-command": BUILD_RESULT_COMMAND,
    "create-command": KIND_CREATE_COMMAND,
    "delete-command": KIND_DELETE_COMMAND,
  };
  for (const [name, text] of Object.entries(scripts)) {
    const file = path.join(dir, `${name}.sh`);
    fs.writeFileSync(file, text);
    for (const dialect of ["sh", "dash", "bash"]) {
      const r = spawnSync(shellcheck, ["-s", dialect, file], { encoding: "utf8" });
      assert.equal(r.status, 0, `shellcheck -s ${dialect} ${name}: ${r.stdout}${r.stderr}`);
    }
  }
});

test("shellcheck finds nothing in the repository's own bash scripts (CI, the tiers' builds, this install)", () => {
  const shellcheck = ensureShellcheck();
  const repo = path.resolve(__dirname, "..");
  const scripts = [
    ".ci/run",
    "test/engine/build-engine.sh",
    "test/node/build-node.sh",
    "test/support/cached-build.sh",
    "test/support/ensure-shellcheck.sh",
  ];
  for (const script of scripts) {
    // -x follows `source` into the shared script (its `source=` path is relative to the repository).
    const r = spawnSync(shellcheck, ["-x", "-s", "bash", script], { cwd: repo, encoding: "utf8" });
    assert.equal(r.status, 0, `shellcheck ${script}: ${r.stdout}${r.stderr}`);
  }
  // The node tier's probe and build client run under busybox sh inside their images.
  for (const script of ["test/node/probe.sh", "test/node/buildctl-client.sh"]) {
    for (const dialect of ["sh", "dash"]) {
      const r = spawnSync(shellcheck, ["-s", dialect, script], { cwd: repo, encoding: "utf8" });
      assert.equal(r.status, 0, `shellcheck -s ${dialect} ${script}: ${r.stdout}${r.stderr}`);
    }
  }
});

/**
 * The error a failed local.Command reports, as pulumi-command's `run` words it (`"%w: running %q:\n%s"`):
 * the exit status, the quoted command line, then the command's stdout and stderr as they came. The
 * environment is not part of it. JSON quoting stands in for Go's %q (the same for this ASCII text).
 */
function commandFailureText(commandLine: string, r: RunResult): string {
  return `exit status ${r.status}: running ${JSON.stringify(commandLine)}:\n${r.stdout}${r.stderr}`;
}

test("the kind command lines are short and fixed; without its script a command fails, it does not do nothing", () => {
  for (const line of [KIND_CREATE_COMMAND, KIND_DELETE_COMMAND]) {
    assert.ok(line.length < 200, `${line.length} characters: ${line}`);
    assert.doesNotMatch(line, /\n/);
  }
  for (const line of [KIND_CREATE_COMMAND, KIND_DELETE_COMMAND]) {
    const r = run(SHELLS[0], line, { env: { KIND_CLUSTER_NAME: "demo", STUB_CLUSTERS: "demo" } });
    assert.notEqual(r.status, 0, line);
    assert.match(r.stderr, /EK_KIND_(CREATE|DELETE)_SCRIPT.*not set/);
    assert.deepEqual(r.calls, []);
  }
});

test("a refused create fails with the reason right after the one-line command, not after the script", () => {
  const r = run(SHELLS[0], KIND_CREATE_COMMAND, {
    env: createEnv({ STUB_CLUSTERS: "demo" }),
    stdin: CONFIG_YAML,
  });
  assert.equal(r.status, 1);
  const reason = r.stderr.split("\n").find((line) => line.startsWith("earthly-kubernetes:"));
  assert.ok(reason, r.stderr);
  assert.match(
    reason,
    /^earthly-kubernetes: kind cluster 'demo' already exists and was not created by this configuration/,
  );
  const [header, first] = commandFailureText(KIND_CREATE_COMMAND, r).split("\n");
  assert.ok(header.length < 200, header);
  assert.equal(first, reason, "the output begins with the reason");
  assert.doesNotMatch(commandFailureText(KIND_CREATE_COMMAND, r), /umask 077|need kind/, "no script text");
  // The test can fail: with the script as the command line, the reason came after some 4 KB of it.
  const before = commandFailureText(KIND_CREATE_SCRIPT, r);
  assert.ok(before.indexOf(reason) > 3000, `${before.indexOf(reason)}`);
});

for (const shell of SHELLS) {
  describe(`KIND_CREATE_COMMAND (KIND_CREATE_SCRIPT) under ${shell.label}`, () => {
    test("creates the cluster: exact argv, config on stdin byte for byte, only the kubeconfig on stdout", () => {
      const r = run(shell, KIND_CREATE_COMMAND, { env: createEnv(), stdin: CONFIG_YAML });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, KUBECONFIG);
      assert.deepEqual(r.calls, [DOCKER_INFO, GET_CLUSTERS, createCall("demo"), kubeconfigCall("demo")]);
      assert.deepEqual(
        fs.readFileSync(path.join(r.dir, "kind-create-stdin")),
        Buffer.from(CONFIG_YAML, "utf8"),
      );
      assert.match(r.stderr, /creating kind cluster 'demo'/);
      assert.match(r.stderr, /Creating cluster \(stand-in stdout\)/, "kind's stdout went to stderr");
      assert.doesNotMatch(r.stderr, /Server: stand-in/, "docker info's normal output is dropped");
      assert.deepEqual(fs.readdirSync(r.tmpDir), []);
      assertNoMarker(r, CONFIG_YAML);
    });

    for (const [missing, stubs, message] of [
      [
        "kind",
        ["kubectl", "docker"],
        /kind was not found on PATH: install kind \(https:\/\/kind\.sigs\.k8s\.io/,
      ],
      [
        "kubectl",
        ["kind", "docker"],
        /kubectl was not found on PATH: install kubectl \(https:\/\/kubernetes\.io/,
      ],
      [
        "docker",
        ["kind", "kubectl"],
        /docker was not found on PATH: kind needs a container engine: install and start Docker/,
      ],
    ] as const) {
      test(`refuses when ${missing} is missing, before running anything`, () => {
        const r = run(shell, KIND_CREATE_COMMAND, { env: createEnv(), stubs, stdin: CONFIG_YAML });
        assert.equal(r.status, 1);
        assert.match(r.stderr, message);
        assert.equal(r.stdout, "");
        assert.deepEqual(r.calls, []);
      });
    }

    test("refuses when the docker daemon is down, passing on docker's error", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_ENGINE_DOWN: "1" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Cannot connect to the stand-in daemon/);
      assert.match(
        r.stderr,
        /'docker info' failed: the docker daemon is not running or not reachable; start docker and retry/,
      );
      assert.equal(r.stdout, "");
      assert.deepEqual(r.calls, [DOCKER_INFO]);
    });

    test("uses podman when KIND_EXPERIMENTAL_PROVIDER=podman", () => {
      const env = createEnv({ KIND_EXPERIMENTAL_PROVIDER: "podman" });
      const ok = run(shell, KIND_CREATE_COMMAND, {
        env,
        stubs: ["kind", "kubectl", "podman"],
        stdin: CONFIG_YAML,
      });
      assert.equal(ok.status, 0, ok.stderr);
      assert.equal(ok.stdout, KUBECONFIG);
      assert.deepEqual(ok.calls, [
        { tool: "podman", args: ["info"] },
        GET_CLUSTERS,
        createCall("demo"),
        kubeconfigCall("demo"),
      ]);

      const missing = run(shell, KIND_CREATE_COMMAND, { env, stdin: CONFIG_YAML });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /podman was not found on PATH/);
      assert.deepEqual(missing.calls, [], "docker is not consulted instead");

      const down = run(shell, KIND_CREATE_COMMAND, {
        env: { ...env, STUB_ENGINE_DOWN: "1" },
        stubs: ["kind", "kubectl", "podman"],
        stdin: CONFIG_YAML,
      });
      assert.equal(down.status, 1);
      assert.match(down.stderr, /'podman info' failed: the podman daemon is not running/);
      assert.deepEqual(down.calls, [{ tool: "podman", args: ["info"] }]);
    });

    test("uses nerdctl when KIND_EXPERIMENTAL_PROVIDER=nerdctl", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ KIND_EXPERIMENTAL_PROVIDER: "nerdctl" }),
        stubs: ["kind", "kubectl", "nerdctl"],
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.calls[0], { tool: "nerdctl", args: ["info"] });
    });

    test("fails with kind's error when 'kind get clusters' fails", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_KIND_GET_CLUSTERS_FAIL: "1" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /ERROR: failed to list clusters: stand-in failure/);
      assert.match(r.stderr, /'kind get clusters' failed \(its error is above\)/);
      assert.equal(r.stdout, "");
      assert.deepEqual(r.calls, [DOCKER_INFO, GET_CLUSTERS]);
    });

    test("fails, printing nothing on stdout, when 'kind create cluster' fails", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_KIND_CREATE_EXIT: "3" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /'kind create cluster' failed for cluster 'demo'/);
      assert.equal(r.stdout, "");
      assert.deepEqual(r.calls, [DOCKER_INFO, GET_CLUSTERS, createCall("demo")]);
    });

    test("refuses a same-named cluster it did not create (no adopt): no create, no delete", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "other\ndemo" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 1);
      assert.match(
        r.stderr,
        /kind cluster 'demo' already exists and was not created by this configuration, so it will not be adopted: set adoptExisting to take it over, or choose another cluster name/,
      );
      assert.equal(r.stdout, "");
      const tmpPath = assertKubeconfigTempRemoved(r, KUBECONFIG);
      assert.deepEqual(r.calls, [
        DOCKER_INFO,
        GET_CLUSTERS,
        kubeconfigCall("demo"),
        labelledNodesCall(tmpPath),
      ]);
    });

    test("adopts a same-named cluster when EK_ADOPT_EXISTING=true, without creating", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "demo", EK_ADOPT_EXISTING: "true" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, KUBECONFIG);
      assert.match(r.stderr, /adopting it because adoptExisting is set/);
      const tmpPath = assertKubeconfigTempRemoved(r, KUBECONFIG);
      assert.deepEqual(r.calls, [
        DOCKER_INFO,
        GET_CLUSTERS,
        kubeconfigCall("demo"),
        labelledNodesCall(tmpPath),
        kubeconfigCall("demo"),
      ]);
    });

    test("crash recovery: a cluster whose node carries this configuration's hash is reused, not recreated", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "demo", STUB_LABELLED_NODE: "demo-control-plane" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, KUBECONFIG);
      assert.match(
        r.stderr,
        /kind cluster 'demo' already exists and carries this configuration's hash: an earlier run of this configuration created it and stopped before finishing; continuing with it/,
      );
      const tmpPath = assertKubeconfigTempRemoved(r, KUBECONFIG);
      assert.deepEqual(r.calls, [
        DOCKER_INFO,
        GET_CLUSTERS,
        kubeconfigCall("demo"),
        labelledNodesCall(tmpPath),
        kubeconfigCall("demo"),
      ]);
    });

    test("when the existing cluster's nodes cannot be listed: refused without adopt, adopted with it", () => {
      const refused = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "demo", STUB_KUBECTL_FAIL: "1" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(refused.status, 1);
      assert.match(refused.stderr, /error: stand-in kubectl failure/);
      assert.match(refused.stderr, /already exists but its nodes could not be listed .* will not be adopted/);
      assert.equal(refused.stdout, "");
      assertKubeconfigTempRemoved(refused, KUBECONFIG);
      assert.equal(refused.calls.length, 4);

      const adopted = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "demo", STUB_KUBECTL_FAIL: "1", EK_ADOPT_EXISTING: "true" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(adopted.status, 0, adopted.stderr);
      assert.equal(adopted.stdout, KUBECONFIG);
      assert.equal(
        adopted.calls.some((c) => c.args[0] === "create"),
        false,
      );
    });

    test("similar names do not count as the cluster existing (exact line match)", () => {
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "demo-2\ndem\nmy-demo\ndemox", STUB_LABELLED_NODE: "x" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.calls, [DOCKER_INFO, GET_CLUSTERS, createCall("demo"), kubeconfigCall("demo")]);

      const prefix = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ KIND_CLUSTER_NAME: "dem", STUB_CLUSTERS: "demo" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(prefix.status, 0, prefix.stderr);
      assert.deepEqual(prefix.calls, [DOCKER_INFO, GET_CLUSTERS, createCall("dem"), kubeconfigCall("dem")]);
    });

    test("refuses hostile cluster names before running anything", () => {
      for (const value of [...HOSTILE_VALUES, "a".repeat(41), "a.b"]) {
        const r = run(shell, KIND_CREATE_COMMAND, {
          env: createEnv({ KIND_CLUSTER_NAME: value }),
          stdin: CONFIG_YAML,
        });
        assert.equal(r.status, 1, JSON.stringify(value));
        assert.match(
          r.stderr,
          /is not a valid kind cluster name: 1-40 lower-case letters/,
          JSON.stringify(value),
        );
        assert.equal(r.stdout, "");
        assert.deepEqual(r.calls, [], JSON.stringify(value));
        assertNoMarker(r, value);
      }
    });

    test("refuses hostile wait, hash, adopt and label values before running anything", () => {
      const cases: [string, string, RegExp][] = [
        ["EK_WAIT_SECONDS", "120s", /EK_WAIT_SECONDS .* is not a whole number of seconds/s],
        ["EK_WAIT_SECONDS", "-1", /EK_WAIT_SECONDS/],
        ["EK_WAIT_SECONDS", "", /EK_WAIT_SECONDS/],
        ["EK_WAIT_SECONDS", "1 2", /EK_WAIT_SECONDS/],
        ["EK_WAIT_SECONDS", "1;touch PWNED", /EK_WAIT_SECONDS/],
        ["EK_WAIT_SECONDS", "$(touch PWNED)", /EK_WAIT_SECONDS/],
        ["EK_WAIT_SECONDS", "1.5", /EK_WAIT_SECONDS/],
        ["EK_CONFIG_HASH", HASH.slice(1), /EK_CONFIG_HASH .* is not 40 lower-case hexadecimal digits/s],
        ["EK_CONFIG_HASH", `${HASH}0`, /EK_CONFIG_HASH/],
        ["EK_CONFIG_HASH", HASH.toUpperCase(), /EK_CONFIG_HASH/],
        ["EK_CONFIG_HASH", `${HASH.slice(2)},x`, /EK_CONFIG_HASH/],
        ["EK_CONFIG_HASH", "$(touch PWNED)", /EK_CONFIG_HASH/],
        ["EK_ADOPT_EXISTING", "yes", /EK_ADOPT_EXISTING .* must be 'true' or 'false'/s],
        ["EK_ADOPT_EXISTING", "TRUE", /EK_ADOPT_EXISTING/],
        ["EK_ADOPT_EXISTING", "true;touch PWNED", /EK_ADOPT_EXISTING/],
        ["EK_ADOPT_EXISTING", "", /EK_ADOPT_EXISTING/],
        ["EK_CONFIG_HASH_LABEL", "a,b", /EK_CONFIG_HASH_LABEL .* is not a label key/s],
        ["EK_CONFIG_HASH_LABEL", "a=b", /EK_CONFIG_HASH_LABEL/],
        ["EK_CONFIG_HASH_LABEL", "!a", /EK_CONFIG_HASH_LABEL/],
        ["EK_CONFIG_HASH_LABEL", "-l", /EK_CONFIG_HASH_LABEL/],
        ["EK_CONFIG_HASH_LABEL", "a b", /EK_CONFIG_HASH_LABEL/],
        ["EK_CONFIG_HASH_LABEL", "", /EK_CONFIG_HASH_LABEL/],
        ["EK_CONFIG_HASH_LABEL", "$(touch PWNED)", /EK_CONFIG_HASH_LABEL/],
      ];
      for (const [key, value, message] of cases) {
        const r = run(shell, KIND_CREATE_COMMAND, { env: createEnv({ [key]: value }), stdin: CONFIG_YAML });
        const what = `${key}=${JSON.stringify(value)}`;
        assert.equal(r.status, 1, what);
        assert.match(r.stderr, message, what);
        assert.deepEqual(r.calls, [], what);
        assertNoMarker(r, value);
      }
    });

    test("a valid value reaches the tools as exactly one argument, even with an odd TMPDIR", () => {
      const name = "a".repeat(39) + "1";
      const r = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ KIND_CLUSTER_NAME: name, STUB_CLUSTERS: name, EK_ADOPT_EXISTING: "true" }),
        stdin: CONFIG_YAML,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.calls[2], kubeconfigCall(name));

      // A TMPDIR with spaces, quotes and a command substitution still yields one --kubeconfig argument.
      const oddTmp = fs.mkdtempSync(path.join(ROOT, "odd-")) + "/tmp dir 'q' $(touch PWNED)";
      fs.mkdirSync(oddTmp);
      const odd = run(shell, KIND_CREATE_COMMAND, {
        env: createEnv({ STUB_CLUSTERS: "demo", STUB_LABELLED_NODE: "demo-control-plane", TMPDIR: oddTmp }),
        stdin: CONFIG_YAML,
      });
      assert.equal(odd.status, 0, odd.stderr);
      const kubectl = odd.calls[3];
      assert.equal(kubectl.args.length, 8);
      assert.ok(kubectl.args[1].startsWith(`${oddTmp}/earthly-kubernetes.`), kubectl.args[1]);
      assert.equal(kubectl.args[5], `${CONFIG_HASH_LABEL}=${HASH}`);
      assert.equal(fs.existsSync(kubectl.args[1]), false);
      assert.deepEqual(fs.readdirSync(oddTmp), []);
      assertNoMarker(odd, oddTmp);
    });
  });

  describe(`KIND_DELETE_COMMAND (KIND_DELETE_SCRIPT) under ${shell.label}`, () => {
    test("deletes an existing cluster, kind's output on stderr", () => {
      const r = run(shell, KIND_DELETE_COMMAND, {
        env: { ...kindDeleteEnvironment("demo"), STUB_CLUSTERS: "x\ndemo" },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.deepEqual(r.calls, [
        GET_CLUSTERS,
        { tool: "kind", args: ["delete", "cluster", "--name", "demo"] },
      ]);
      assert.equal(r.stdout, "");
      assert.match(r.stderr, /Deleting cluster \(stand-in stdout\)/);
    });

    test("succeeds without deleting when the cluster is already gone (similar names ignored)", () => {
      const r = run(shell, KIND_DELETE_COMMAND, {
        env: { ...kindDeleteEnvironment("demo"), STUB_CLUSTERS: "demo-2\ndem\nxdemo" },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /kind cluster 'demo' is already gone; nothing to delete/);
      assert.deepEqual(r.calls, [GET_CLUSTERS]);
    });

    test("fails when kind is missing, when listing fails, and when the delete fails", () => {
      const missing = run(shell, KIND_DELETE_COMMAND, {
        env: kindDeleteEnvironment("demo"),
        stubs: ["kubectl"],
      });
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /kind was not found on PATH: install kind/);
      assert.deepEqual(missing.calls, []);

      const listing = run(shell, KIND_DELETE_COMMAND, {
        env: { ...kindDeleteEnvironment("demo"), STUB_KIND_GET_CLUSTERS_FAIL: "1" },
      });
      assert.equal(listing.status, 1);
      assert.match(listing.stderr, /ERROR: failed to list clusters/);
      assert.deepEqual(listing.calls, [GET_CLUSTERS]);

      const failing = run(shell, KIND_DELETE_COMMAND, {
        env: { ...kindDeleteEnvironment("demo"), STUB_CLUSTERS: "demo", STUB_KIND_DELETE_EXIT: "1" },
      });
      assert.equal(failing.status, 1);
      assert.match(failing.stderr, /'kind delete cluster' failed for cluster 'demo'/);
    });

    test("refuses hostile cluster names before running anything", () => {
      for (const value of [...HOSTILE_VALUES, "a".repeat(41)]) {
        const r = run(shell, KIND_DELETE_COMMAND, {
          env: { ...kindDeleteEnvironment(value), STUB_CLUSTERS: value },
        });
        assert.equal(r.status, 1, JSON.stringify(value));
        assert.match(r.stderr, /is not a valid kind cluster name/, JSON.stringify(value));
        assert.deepEqual(r.calls, [], JSON.stringify(value));
        assertNoMarker(r, value);
      }
    });
  });
}
