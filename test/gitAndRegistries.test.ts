/**
 * Private Git, registries and Earthly's config file, in both modes: where each Secret lands (paths,
 * modes 0400, read-only), what the wrapper does with the files (run for real under the POSIX shells,
 * with stand-ins for ssh-agent, ssh-add and the image's entrypoint), that no credential reaches a
 * spec, a ConfigMap, an output or a log line, and the refusals.
 */
import "./support/mocks";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import * as YAML from "yaml";
import {
  BuiltFleet,
  BuiltJob,
  CONFIG_MAP,
  FLEET_CONNECTION,
  Obj,
  buildAllInOne,
  buildFleet,
  buildRemote,
  envOf,
  inputsOf,
  mountOf,
} from "./support/built";
import { recorded } from "./support/mocks";
import { auditInputs } from "./support/secretsAudit";
import { assertRefused } from "./support/refusals";
import { SHELLS } from "./support/shells";
import { ensureShellcheck } from "./support/shellcheck";
import { EarthlyAllInOneJob, EarthlyAllInOneJobArgs } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import {
  EARTHLY_ENTRYPOINT,
  GIT_HTTPS_DIR,
  GIT_SSH_DIR,
  GIT_WRAPPER_SCRIPT,
  GitCredentials,
  HTTPS_HOSTS_ENV,
} from "../components/jobs/git";
import { DOCKER_CONFIG_DIR } from "../components/jobs/registries";
import { readDemoConfig } from "../stacks/config";

const TARGET = "github.com/acme/private:main+build";
const CERT = "-----BEGIN CERTIFICATE-----\nQ0xJRU5U\n-----END CERTIFICATE-----\n";
const KEY = "-----BEGIN PRIVATE KEY-----\nS0VZ\n-----END PRIVATE KEY-----\n";

const CREDENTIALS: GitCredentials = {
  https: [
    { host: "git.example.com", secretName: "git-token" },
    { host: "gitlab.internal", secretName: "gitlab-token", usernameKey: "user", passwordKey: "token" },
  ],
  ssh: {
    hosts: ["github.com"],
    secretName: "git-ssh",
    knownHosts: { secretName: "git-known-hosts", key: "hosts" },
  },
};

const ACCESS = {
  gitCredentials: CREDENTIALS,
  dockerConfigSecret: "registry-push",
  imagePullSecrets: ["mirror-pull"],
  earthlyConfig: { global: { disable_analytics: "true" } },
};

const aioArgs = (extra: Partial<EarthlyAllInOneJobArgs> = {}): EarthlyAllInOneJobArgs => ({
  namespace: "builds",
  target: TARGET,
  ...extra,
});
const remoteArgs = (extra: Partial<EarthlyRemoteJobArgs> = {}): EarthlyRemoteJobArgs => ({
  namespace: "ci",
  target: TARGET,
  fleet: FLEET_CONNECTION,
  clientCertPem: CERT,
  clientPrivateKeyPem: KEY,
  ...extra,
});

const volumeNamed = (pod: Obj, name: string): Obj => {
  const found = (pod.volumes as Obj[]).filter((v) => v.name === name);
  assert.equal(found.length, 1, `exactly one volume ${name}`);
  return found[0];
};

/** The same rendering assertions for either Job. */
function assertCredentialPieces(built: BuiltJob, configYaml: string): void {
  const { pod, container } = built;
  // The wrapper runs the image's entrypoint with the Job's arguments.
  assert.deepEqual(container.command, ["/bin/sh", "-c", GIT_WRAPPER_SCRIPT, "earthly-kubernetes-git"]);
  assert.equal((container.args as string[]).at(-1), TARGET);
  const env = envOf(container);
  assert.equal(env.NETRC, "/run/earthly-kubernetes/netrc");
  assert.equal(env[HTTPS_HOSTS_ENV], "git.example.com gitlab.internal");
  assert.equal(env.SSH_AUTH_SOCK, "/run/earthly-kubernetes/ssh-agent.sock");
  assert.equal(env.DOCKER_CONFIG, DOCKER_CONFIG_DIR);
  // Every credential is a Secret volume, by name, mode 0400, mounted read-only.
  const secrets: [string, string, string, Obj[]][] = [
    [
      "git-https-0",
      "git-token",
      `${GIT_HTTPS_DIR}/0`,
      [
        { key: "username", path: "username" },
        { key: "password", path: "password" },
      ],
    ],
    [
      "git-https-1",
      "gitlab-token",
      `${GIT_HTTPS_DIR}/1`,
      [
        { key: "user", path: "username" },
        { key: "token", path: "password" },
      ],
    ],
    ["git-ssh", "git-ssh", GIT_SSH_DIR, [{ key: "ssh-privatekey", path: "key" }]],
    [
      "docker-config",
      "registry-push",
      DOCKER_CONFIG_DIR,
      [{ key: ".dockerconfigjson", path: "config.json" }],
    ],
  ];
  for (const [volume, secretName, mountPath, items] of secrets) {
    assert.deepEqual(volumeNamed(pod, volume).secret, { secretName, items, defaultMode: 0o400 });
    assert.deepEqual(mountOf(container, volume), { name: volume, mountPath, readOnly: true });
  }
  assert.deepEqual(volumeNamed(pod, "git-known-hosts").secret, {
    secretName: "git-known-hosts",
    items: [{ key: "hosts", path: "ssh_known_hosts" }],
    defaultMode: 0o400,
  });
  assert.deepEqual(mountOf(container, "git-known-hosts"), {
    name: "git-known-hosts",
    mountPath: "/etc/ssh/ssh_known_hosts",
    subPath: "ssh_known_hosts",
    readOnly: true,
  });
  // The netrc file and the agent's socket live in memory, in the pod only.
  assert.deepEqual(volumeNamed(pod, "git-runtime").emptyDir, { medium: "Memory", sizeLimit: "1Mi" });
  assert.deepEqual(pod.imagePullSecrets, [{ name: "mirror-pull" }]);
  // Earthly's config names the way per host, never a credential.
  const config = YAML.parse(configYaml);
  assert.deepEqual(config.git, {
    "git.example.com": { auth: "https" },
    "github.com": { auth: "ssh", user: "git" },
    "gitlab.internal": { auth: "https" },
  });
  assert.equal(config.global.disable_analytics, true);
  assert.doesNotMatch(configYaml, /password|serverkey|strict_host_key_checking/);
}

describe("all-in-one with every Git and registry setting", () => {
  let built: BuiltJob;
  let configYaml: string;
  before(async () => {
    built = await buildAllInOne(
      "aio-private",
      aioArgs({ ...ACCESS, buildkitRegistries: { "docker.io": { mirrors: ["mirror.example.com"] } } }),
    );
    configYaml = inputsOf(CONFIG_MAP, "aio-private-config").data["config.yml"];
  });

  test("credentials from Secrets at fixed paths, mode 0400, read-only; the config file mounted", () => {
    assertCredentialPieces(built, configYaml);
    assert.deepEqual(mountOf(built.container, "earthly-config"), {
      name: "earthly-config",
      mountPath: "/etc/.earthly/config.yml",
      subPath: "config.yml",
      readOnly: true,
    });
    // The all-in-one owns no global key: the entrypoint points Earthly at its embedded buildkitd.
    assert.deepEqual(Object.keys(YAML.parse(configYaml).global), ["disable_analytics"]);
  });

  test("the mirror reaches the embedded buildkitd through EARTHLY_ADDITIONAL_BUILDKIT_CONFIG", () => {
    assert.equal(
      envOf(built.container).EARTHLY_ADDITIONAL_BUILDKIT_CONFIG,
      '[registry."docker.io"]\n  mirrors = ["mirror.example.com"]\n',
    );
  });
});

describe("remote client with every Git and registry setting", () => {
  let built: Awaited<ReturnType<typeof buildRemote>>;
  before(async () => {
    built = await buildRemote("remote-private", remoteArgs(ACCESS));
  });

  test("the client Job carries the credentials (it sends them to the daemon over the session)", () => {
    assertCredentialPieces(built, built.config.data["config.yml"]);
  });

  test("the components' own keys stay, merged with the user's", () => {
    const global = YAML.parse(built.config.data["config.yml"]).global;
    assert.equal(global.buildkit_host, "tcp://buildkitd.earthly.svc.cluster.local:8372");
    assert.equal(global.tlsca, "/etc/.earthly/certs/ca_cert.pem");
    assert.equal(global.disable_analytics, true);
  });

  test("the wrapper keeps the restricted container: no privilege, read-only root, its files in volumes", () => {
    assert.equal(built.container.securityContext.readOnlyRootFilesystem, true);
    assert.equal(built.container.securityContext.allowPrivilegeEscalation, false);
    assert.equal(built.pod.securityContext.runAsNonRoot, true);
  });
});

describe("fleet with a pull secret and registry settings", () => {
  let built: BuiltFleet;
  before(async () => {
    built = await buildFleet("private-fleet", {
      namespace: "earthly",
      insecureDisableTls: true,
      imagePullSecrets: ["mirror-pull"],
      buildkitRegistries: {
        "docker.io": { mirrors: ["mirror.example.com/hub", "mirror2.example.com"] },
        "registry.internal:5000": { http: true },
      },
    });
  });

  test("imagePullSecrets on the daemon pods; the registries in the variable the image's entrypoint reads", () => {
    assert.deepEqual(built.pod.imagePullSecrets, [{ name: "mirror-pull" }]);
    assert.equal(
      envOf(built.container).EARTHLY_ADDITIONAL_BUILDKIT_CONFIG,
      '[registry."docker.io"]\n  mirrors = ["mirror.example.com/hub", "mirror2.example.com"]\n\n' +
        '[registry."registry.internal:5000"]\n  http = true\n',
    );
  });
});

describe("no credential anywhere in what Pulumi holds", () => {
  test("every recorded input and output of both Jobs and the fleet: only Secret names", async () => {
    const aio = new EarthlyAllInOneJob("audit-aio", aioArgs(ACCESS));
    const remote = new EarthlyRemoteJob("audit-remote", remoteArgs(ACCESS));
    const fleet = new BuildkitdFleet("audit-fleet", {
      namespace: "earthly",
      insecureDisableTls: true,
      imagePullSecrets: ["mirror-pull"],
    });
    const outputs = await Promise.all(
      [aio.jobName, remote.jobName, remote.buildkitHost, fleet.buildkitHost].map(
        (o) => new Promise((resolve) => o.apply(resolve)),
      ),
    );
    const audit = auditInputs(recorded);
    assert.deepEqual(audit.leaks, []);
    // The inputs name the Secrets and never hold a value: no netrc line, no key, no Docker auth.
    const all = JSON.stringify([recorded.map((r) => r.inputs), outputs]);
    // (The wrapper's text holds the netrc line's format, `machine %s`, never a line.)
    assert.doesNotMatch(all, /machine (?!%s)|"auths"|BEGIN OPENSSH PRIVATE KEY/);
    // The only Secret the components create is the client's certificates (a Pulumi secret).
    assert.deepEqual(
      recorded.filter((r) => r.type === "kubernetes:core/v1:Secret").map((r) => r.name),
      ["audit-remote-certs"],
    );
    assert.match(all, /"secretName":"git-token"/);
  });
});

/** Runs the wrapper under `shell` against files in a temporary root, with stand-in programs. */
function runWrapper(
  shell: (typeof SHELLS)[number],
  opts: { hosts: string; ssh: boolean },
): { status: number | null; stdout: string; stderr: string; root: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "git-wrapper-"));
  const httpsDir = path.join(root, "git-https");
  const sshDir = path.join(root, "git-ssh");
  const bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  const files: [string, string][] = [
    [`${httpsDir}/0/username`, "x-access-token\n"],
    [`${httpsDir}/0/password`, "ghp_SECRETTOKEN0\n"],
    [`${httpsDir}/1/username`, "builder"],
    [`${httpsDir}/1/password`, "glpat-SECRETTOKEN1"],
  ];
  if (opts.ssh) files.push([`${sshDir}/key`, "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEY\n"]);
  for (const [file, content] of files) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content, { mode: 0o400 });
  }
  const stub = (name: string, body: string) =>
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  stub(
    "ssh-agent",
    `printf '%s\\n' "$*" > "${root}/agent-args"; : > "$2"; echo "SSH_AGENT_PID=42; export SSH_AGENT_PID;"`,
  );
  stub("ssh-add", `printf '%s\\n' "$*" > "${root}/add-args"; cat > "${root}/add-stdin"`);
  stub("entrypoint", `printf '%s\\n' "$@" > "${root}/entrypoint-args"; echo "building"`);
  const script = GIT_WRAPPER_SCRIPT.split(GIT_HTTPS_DIR)
    .join(httpsDir)
    .split(GIT_SSH_DIR)
    .join(sshDir)
    .split(EARTHLY_ENTRYPOINT)
    .join(path.join(bin, "entrypoint"));
  const r = spawnSync(shell.path, ["-c", script, "earthly-kubernetes-git", "--ci", TARGET], {
    encoding: "utf8",
    argv0: shell.argv0,
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      NETRC: path.join(root, "netrc"),
      SSH_AUTH_SOCK: path.join(root, "agent.sock"),
      [HTTPS_HOSTS_ENV]: opts.hosts,
    },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, root };
}

describe("the wrapper, run", () => {
  for (const shell of SHELLS) {
    test(`${shell.label}: a netrc of mode 0600 from the files, the key to ssh-add on stdin, the entrypoint with the arguments, nothing secret logged`, () => {
      const r = runWrapper(shell, { hosts: "git.example.com gitlab.internal", ssh: true });
      assert.equal(r.status, 0, r.stderr);
      const netrc = path.join(r.root, "netrc");
      assert.equal(
        fs.readFileSync(netrc, "utf8"),
        "machine git.example.com login x-access-token password ghp_SECRETTOKEN0\n" +
          "machine gitlab.internal login builder password glpat-SECRETTOKEN1\n",
      );
      assert.equal(fs.statSync(netrc).mode & 0o777, 0o600);
      assert.equal(
        fs.readFileSync(path.join(r.root, "agent-args"), "utf8"),
        `-a ${path.join(r.root, "agent.sock")}\n`,
      );
      assert.equal(fs.readFileSync(path.join(r.root, "add-args"), "utf8"), "-q -\n");
      assert.match(fs.readFileSync(path.join(r.root, "add-stdin"), "utf8"), /SECRETKEY/);
      assert.equal(fs.readFileSync(path.join(r.root, "entrypoint-args"), "utf8"), `--ci\n${TARGET}\n`);
      assert.equal(r.stdout, "building\n");
      assert.doesNotMatch(r.stdout + r.stderr, /SECRET|SSH_AGENT_PID/);
    });
  }

  test("without an SSH key no agent starts; a host that is not a host name stops the wrapper", () => {
    const shell = SHELLS[0];
    const ok = runWrapper(shell, { hosts: "git.example.com", ssh: false });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(fs.existsSync(path.join(ok.root, "agent-args")), false);
    const bad = runWrapper(shell, { hosts: "git.example.com -oProxyCommand=x", ssh: false });
    assert.equal(bad.status, 64);
    assert.match(bad.stderr, /invalid Git host/);
    assert.equal(fs.existsSync(path.join(bad.root, "entrypoint-args")), false);
  });

  test("shellcheck passes on the wrapper", () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "git-wrapper-lint-")), "wrapper.sh");
    fs.writeFileSync(file, `#!/bin/sh\n${GIT_WRAPPER_SCRIPT}`);
    const r = spawnSync(ensureShellcheck(), ["--shell=sh", file], { encoding: "utf8" });
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});

describe("refused at construction", () => {
  const aio = (extra: Partial<EarthlyAllInOneJobArgs>) => () => new EarthlyAllInOneJob("bad", aioArgs(extra));
  const client = (extra: Partial<EarthlyRemoteJobArgs>) => () =>
    new EarthlyRemoteJob("bad", remoteArgs(extra));

  test("an HTTPS credential without a Secret name", () =>
    assertRefused(aio({ gitCredentials: { https: [{ host: "github.com" } as never] } }), [
      { field: "gitCredentials.https[0].secretName", got: "nothing", allowed: /the name of a Secret/ },
    ]));

  test("an SSH key without known_hosts", () =>
    assertRefused(client({ gitCredentials: { ssh: { hosts: ["github.com"], secretName: "k" } as never } }), [
      { field: "gitCredentials.ssh.knownHosts", got: "nothing", allowed: /host key checking stays on/ },
    ]));

  test("known_hosts from both a Secret and a ConfigMap", () =>
    assertRefused(
      aio({
        gitCredentials: {
          ssh: {
            hosts: ["github.com"],
            secretName: "k",
            knownHosts: { secretName: "a", configMapName: "b" },
          },
        },
      }),
      [{ field: "gitCredentials.ssh.knownHosts", got: '{"secretName":"a","configMapName":"b"}' }],
    ));

  test("one host by HTTPS and by SSH", () =>
    assertRefused(
      aio({
        gitCredentials: {
          https: [{ host: "github.com", secretName: "t" }],
          ssh: { hosts: ["github.com"], secretName: "k", knownHosts: { configMapName: "h" } },
        },
      }),
      [{ field: "gitCredentials.https", got: '"github.com"', allowed: /one way per host/ }],
    ));

  test("earthlyConfig.git giving another auth, or a user, for a host with credentials", () =>
    assertRefused(
      client({
        gitCredentials: { https: [{ host: "github.com", secretName: "t" }] },
        earthlyConfig: { git: { "github.com": { auth: "ssh", user: "me" } } },
      }),
      [
        {
          field: 'earthlyConfig.git["github.com"].auth',
          got: '"ssh"',
          allowed: /https, as gitCredentials gives it/,
        },
        { field: 'earthlyConfig.git["github.com"].user', got: '"me"', allowed: /turns off the netrc lookup/ },
      ],
    ));

  test("a password in earthlyConfig.git is refused without echoing it", () =>
    assertRefused(aio({ earthlyConfig: { git: { "github.com": { password: "hunter2" } as never } } }), [
      {
        field: 'earthlyConfig.git["github.com"].password',
        got: '"(given)"',
        allowed: /gitCredentials\.https/,
      },
    ]));

  test("keys the components own, named with what to use instead", async () => {
    await assertRefused(aio({ earthlyConfig: { global: { cache_size_mb: "1000" } } }), [
      { field: "earthlyConfig.global.cache_size_mb", got: '"1000"', allowed: /cache_size_mb is cacheSizeMb/ },
    ]);
    await assertRefused(client({ earthlyConfig: { global: { buildkit_host: "tcp://x:8372" } } }), [
      {
        field: "earthlyConfig.global.buildkit_host",
        got: '"tcp://x:8372"',
        allowed: /set from the fleet connection/,
      },
    ]);
    await assertRefused(aio({ earthlyConfig: { global: { buildkit_additional_config: "x" } } }), [
      { field: "earthlyConfig.global.buildkit_additional_config", got: '"x"', allowed: /buildkitRegistries/ },
    ]);
  });

  test("variables the features set, given in env as well", async () => {
    await assertRefused(
      aio({
        gitCredentials: { https: [{ host: "github.com", secretName: "t" }] },
        env: [{ name: "NETRC", value: "/x" }],
      }),
      [{ field: "env.name", got: '"NETRC"', allowed: /together with gitCredentials/ }],
    );
    await assertRefused(
      client({ dockerConfigSecret: "push", env: [{ name: "DOCKER_CONFIG", value: "/x" }] }),
      [{ field: "env.name", got: '"DOCKER_CONFIG"', allowed: /dockerConfigSecret/ }],
    );
    await assertRefused(aio({ env: [{ name: "GIT_CONFIG", value: "{}" }] }), [
      { field: "env.name", got: '"GIT_CONFIG"', allowed: /use earthlyConfig\.git/ },
    ]);
    await assertRefused(
      aio({
        buildkitRegistries: { "docker.io": { mirrors: ["m.example.com"] } },
        env: [{ name: "EARTHLY_ADDITIONAL_BUILDKIT_CONFIG", value: "" }],
      }),
      [{ field: "env.name", got: '"EARTHLY_ADDITIONAL_BUILDKIT_CONFIG"', allowed: /buildkitRegistries/ }],
    );
  });

  test("bad names: a pull secret, a registry host, a mirror, an empty registry entry", async () => {
    await assertRefused(aio({ imagePullSecrets: ["Not_A_Name"] }), [
      { field: "imagePullSecrets[0]", got: '"Not_A_Name"' },
    ]);
    await assertRefused(
      () =>
        new BuildkitdFleet("bad-fleet", {
          namespace: "earthly",
          insecureDisableTls: true,
          buildkitRegistries: { "https://docker.io": { mirrors: ["m"] }, "reg.example.com": {} },
        }),
      [
        { field: "buildkitRegistries key", got: '"https://docker.io"' },
        { field: 'buildkitRegistries["reg.example.com"]', got: "{}", allowed: /at least one of mirrors/ },
      ],
    );
    await assertRefused(aio({ dockerConfigSecret: "" }), [{ field: "dockerConfigSecret", got: '""' }]);
  });
});

describe("the demo's keys", () => {
  const read = (values: { [key: string]: string }) => () => readDemoConfig((key) => values[key], "aio");

  test("gitHttps, gitSsh with gitKnownHosts, dockerConfigSecret, imagePullSecret, registryMirror", () => {
    const config = read({
      gitHttps: "github.com=git-token,gitlab.com=gitlab-token",
      gitSsh: "git.example.com+git.example.org=git-ssh",
      gitKnownHosts: "git-known-hosts",
      dockerConfigSecret: "registry",
      imagePullSecret: "pull",
      registryMirror: "mirror.gcr.io",
    })();
    assert.deepEqual(config.gitCredentials, {
      https: [
        { host: "github.com", secretName: "git-token" },
        { host: "gitlab.com", secretName: "gitlab-token" },
      ],
      ssh: {
        hosts: ["git.example.com", "git.example.org"],
        secretName: "git-ssh",
        knownHosts: { configMapName: "git-known-hosts" },
      },
    });
    assert.equal(config.dockerConfigSecret, "registry");
    assert.equal(config.imagePullSecret, "pull");
    assert.equal(config.registryMirror, "mirror.gcr.io");
  });

  test("gitSsh without gitKnownHosts, and a gitHttps entry without a Secret, are refused", () => {
    assert.throws(read({ gitSsh: "github.com=git-ssh" }), /gitCredentials\.ssh\.knownHosts/);
    assert.throws(read({ gitHttps: "github.com" }), /gitCredentials\.https\[0\]\.secretName/);
  });
});
