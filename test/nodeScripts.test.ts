/**
 * The node tier's in-pod scripts against recording stand-ins, under every POSIX shell here: the
 * probe's DNS retries and the build client's wait for its daemon. Not under busybox ash, their
 * shell in the pod: it runs its own applets (`sleep`, `nslookup`) before any on PATH, so no stand-in
 * can take their place there; the node tier runs them under it for real. Both wait because an instance's DNS record, or the instance, can come a moment
 * after the pod that needs it; each wait is tried at its bound and one past it. `sleep` is a stand-in,
 * so no test waits.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { SHELLS, linkSystemTools } from "./support/shells";

const ROOT = fs.mkdtempSync(path.join(os.tmpdir(), "node-scripts-test-"));
after(() => fs.rmSync(ROOT, { recursive: true, force: true }));

const SYS_DIR = linkSystemTools(path.join(ROOT, "sys"), [
  "awk",
  "cat",
  "cut",
  "env",
  "head",
  "hostname",
  "id",
  "sed",
  "sort",
  "stat",
  "tr",
]);

const RECORD = `{ printf '@@ %s %s\\n' "$(basename "$0")" "$#"; for a in "$@"; do printf '%s\\n' "$a"; done; } >>"$STUB_DIR/log"`;
// Each stand-in counts its calls of one kind in a file, and fails the first STUB_FAILS of them.
const COUNT = `n=$(cat "$STUB_DIR/count" 2>/dev/null || echo 0); n=$((n + 1)); echo "$n" >"$STUB_DIR/count"`;
const STUBS: Record<string, string> = {
  sleep: "",
  basename: 'echo "${1##*/}"',
  buildctl: String.raw`case " $* " in
  *" debug workers "*)
    ${COUNT}
    if [ "$n" -le "$STUB_FAILS" ]; then echo "error: dial tcp: lookup buildkitd: no such host (try $n)" >&2; exit 1; fi
    printf 'ID\tPLATFORMS\nw0rker1d\tlinux/amd64\n' ;;
  *" build "*) echo "#1 stand-in build"; exit 0 ;;
  *) exit 2 ;;
esac`,
  // busybox's nslookup: the server first, then the answer after "Name:" (or no answer).
  nslookup: String.raw`${COUNT}
printf 'Server:\t\t10.96.0.10\nAddress:\t10.96.0.10:53\n\n'
if [ "$n" -le "$STUB_FAILS" ]; then printf "** server can't find %s: NXDOMAIN\n" "$1"; exit 1; fi
printf 'Name:\t%s\nAddress: 10.244.1.7\n' "$1"`,
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The stand-ins' calls, in order: the tool, then its arguments. */
  calls: string[][];
}

let runs = 0;
function runScript(
  shell: (typeof SHELLS)[number],
  script: string,
  args: string[],
  env: Record<string, string>,
): Run {
  const dir = path.join(ROOT, `run-${(runs += 1)}`);
  const bin = path.join(dir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  for (const [tool, body] of Object.entries(STUBS)) {
    fs.writeFileSync(path.join(bin, tool), `#!/bin/sh\n${tool === "basename" ? "" : RECORD}\n${body}\n`, {
      mode: 0o755,
    });
  }
  const r = spawnSync(shell.path, [script, ...args], {
    argv0: shell.argv0,
    encoding: "utf8",
    env: { PATH: `${bin}:${SYS_DIR}`, STUB_DIR: dir, STUB_FAILS: "0", ...env },
  });
  const log = fs.existsSync(path.join(dir, "log")) ? fs.readFileSync(path.join(dir, "log"), "utf8") : "";
  const calls: string[][] = [];
  const lines = log.split("\n");
  for (let i = 0; i < lines.length - 1;) {
    const [, tool, argc] = /^@@ (\S+) (\d+)$/.exec(lines[i]) ?? assert.fail(`bad log line ${lines[i]}`);
    calls.push([tool, ...lines.slice(i + 1, i + 1 + Number(argc))]);
    i += 1 + Number(argc);
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, calls };
}

const value = (out: string, key: string) =>
  new RegExp(`^${key.replace(/\./g, "\\.")}=(.*)$`, "m").exec(out)?.[1];
const sleeps = (run: Run) => run.calls.filter(([tool]) => tool === "sleep");

for (const shell of SHELLS) {
  describe(`probe.sh under ${shell.label}: a name tried until it resolves`, () => {
    const host = "buildkitd-1.buildkitd-instances.ns.svc.cluster.local";
    const probe = (fails: number, tries?: number) =>
      runScript(shell, "test/node/probe.sh", [], {
        PROBE_RESOLVE: host,
        STUB_FAILS: String(fails),
        ...(tries === undefined ? {} : { PROBE_RESOLVE_TRIES: String(tries) }),
      });

    test("resolved at once: the answer's address (not the server's), one try, no wait", () => {
      const r = probe(0);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(value(r.stdout, `resolve.${host}`), "10.244.1.7");
      assert.equal(value(r.stdout, `resolveTries.${host}`), "1");
      assert.deepEqual(sleeps(r), []);
      assert.deepEqual(r.calls, [["nslookup", host]]);
    });

    test("PROBE_RESOLVE_TRIES 3: resolved on the third try (the bound), after two waits of a second", () => {
      const r = probe(2, 3);
      assert.equal(value(r.stdout, `resolve.${host}`), "10.244.1.7");
      assert.equal(value(r.stdout, `resolveTries.${host}`), "3");
      assert.deepEqual(sleeps(r), [
        ["sleep", "1"],
        ["sleep", "1"],
      ]);
    });

    test("PROBE_RESOLVE_TRIES 3, no answer in 3: reported as fail after 3 tries, and the probe goes on", () => {
      const r = probe(3, 3);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(value(r.stdout, `resolve.${host}`), "fail");
      assert.equal(value(r.stdout, `resolveTries.${host}`), "3");
      assert.equal(sleeps(r).length, 2);
      assert.ok(r.stdout.endsWith("probe=end\n"), r.stdout);
    });

    // The defaults are the script's own numbers, not a shell's: tried under the first shell alone.
    if (shell === SHELLS[0])
      test("by default 30 tries: the 30th answers, a 31st is not made", () => {
        assert.equal(value(probe(29).stdout, `resolveTries.${host}`), "30");
        const r = probe(30);
        assert.equal(value(r.stdout, `resolve.${host}`), "fail");
        assert.equal(r.calls.filter(([tool]) => tool === "nslookup").length, 30);
      });
  });

  describe(`buildctl-client.sh under ${shell.label}: the daemon waited for, as Earthly's CLI waits`, () => {
    const config = path.join(ROOT, "config.yml");
    fs.writeFileSync(config, "global:\n  tlsca: /ca.pem\n  tlscert: '/cert.pem'\n  tlskey: \"/key.pem\"\n");
    const host = "tcp://buildkitd.ns.svc.cluster.local:8372";
    const client = (fails: number, tries?: number) =>
      runScript(shell, "test/node/buildctl-client.sh", ["--ci", "+work"], {
        BUILD_CONFIG: config,
        EARTHLY_BUILDKIT_HOST: host,
        STUB_FAILS: String(fails),
        ...(tries === undefined ? {} : { BUILD_CONNECT_TRIES: String(tries) }),
      });
    const dial = [
      "buildctl",
      "--addr",
      host,
      "--tlsservername",
      "buildkitd.ns.svc.cluster.local",
      "--tlscacert",
      "/ca.pem",
      "--tlscert",
      "/cert.pem",
      "--tlskey",
      "/key.pem",
    ];

    test("answered at once: one try, its worker, then the build with the config's certificates", () => {
      const r = client(0);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(value(r.stdout, "connect.tries"), "1");
      assert.equal(value(r.stdout, "worker"), "w0rker1d");
      assert.equal(value(r.stdout, "build.status"), "0");
      assert.deepEqual(r.calls[0], [...dial, "debug", "workers"]);
      assert.deepEqual(r.calls[1].slice(0, dial.length + 1), [...dial, "build"]);
      assert.ok(r.calls[1].includes("target=work"), r.calls[1].join(" "));
      assert.equal(r.calls.length, 2);
    });

    test("BUILD_CONNECT_TRIES 3: answered on the third try (the bound) after two waits, then built", () => {
      const r = client(2, 3);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(value(r.stdout, "connect.tries"), "3");
      assert.equal(value(r.stdout, "worker"), "w0rker1d");
      assert.deepEqual(sleeps(r), [
        ["sleep", "1"],
        ["sleep", "1"],
      ]);
      assert.equal(r.calls.at(-1)?.[dial.length], "build");
    });

    test("BUILD_CONNECT_TRIES 3, no answer in 3: exit 3 naming the host, the tries and the last error; no build", () => {
      const r = client(3, 3);
      assert.equal(r.status, 3);
      assert.match(
        r.stderr,
        /client: no daemon answered at tcp:\/\/buildkitd\.ns\.svc\.cluster\.local:8372 in 3 tries/,
      );
      assert.match(r.stderr, /the last: error: dial tcp: lookup buildkitd: no such host \(try 3\)/);
      assert.equal(value(r.stdout, "connect.tries"), "3");
      assert.equal(value(r.stdout, "build.status"), "3");
      assert.equal(value(r.stdout, "worker"), undefined);
      assert.ok(!r.calls.some((call) => call.includes("build")));
      assert.equal(sleeps(r).length, 2);
    });

    // As above: the default, under the first shell alone.
    if (shell === SHELLS[0])
      test("by default 60 tries (Earthly's 60 s): the 60th answers, a 61st is not made", () => {
        assert.equal(value(client(59).stdout, "connect.tries"), "60");
        const r = client(60);
        assert.equal(r.status, 3);
        assert.equal(r.calls.filter((call) => call.includes("workers")).length, 60);
      });
  });
}
