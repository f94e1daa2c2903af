/**
 * Private Git, registries and Earthly's config file, in both modes: where each Secret lands (paths,
 * modes 0400, read-only), what the wrapper does with the files (run for real under the POSIX shells,
 * with stand-ins for ssh-agent, ssh-add and the image's entrypoint), that no credential reaches a
 * spec, a ConfigMap, an output or a log line, and the refusals.
 */
import "./support/mocks";
import { before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { SYSTEM_DIRECTORIES } from "../components/validation/rules";
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
  buildAllInOne,
  buildFleet,
  buildRemote,
  envOf,
  mountOf,
} from "./support/built";
import { Obj } from "./support/values";
import { inputsOf } from "./support/recorded";
import { RecordedResource, recorded, resetRecord, settle } from "./support/mocks";
import { auditInputs } from "./support/secretsAudit";
import { assertRefused } from "./support/refusals";
import { POD_SHELLS, SHELLS, Shell, which } from "./support/shells";
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
} from "../components/jobs/git";
import { HTTPS_HOSTS_ENV, HTTPS_SECRETS_ENV, SSH_SECRET_ENV } from "../components/pods/envNames";
import { DOCKER_CONFIG_DIR } from "../components/jobs/dockerConfig";
import { buildkitRegistriesToml } from "../components/pods/registries";
import { earthlyConfigRule, renderEarthlyConfig } from "../components/jobs/earthlyConfig";
import { gitCredentialsRule } from "../components/jobs/git";
import { readDemoConfig } from "../stacks/config";
import { readCommittedSchema, tokenOf } from "../scripts/schema";

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

test("buildkitRegistries: false is written as false (a registry's http and insecure each given either way)", () => {
  assert.equal(
    buildkitRegistriesToml({
      "a.example.com": { http: false, insecure: true },
      "b.example.com": { http: true, insecure: false },
    }),
    '[registry."a.example.com"]\n  http = false\n  insecure = true\n\n' +
      '[registry."b.example.com"]\n  http = true\n  insecure = false',
  );
});

describe("an SSH credential's key name and user: at their bounds, wrong only at the start, end or middle", () => {
  const ssh = (extra: object) =>
    gitCredentialsRule({ ssh: { ...CREDENTIALS.ssh, ...extra } } as never, "gitCredentials").map(
      (p) => p.field,
    );
  test("privateKeyKey: a Secret data key of 1-253 characters", () => {
    for (const ok of ["id_ed25519", "k", "k".repeat(253), "-._k"])
      assert.deepEqual(ssh({ privateKeyKey: ok }), [], ok);
    for (const bad of ["k".repeat(254), "/k", "k/", "k k", ""]) {
      assert.deepEqual(ssh({ privateKeyKey: bad }), ["gitCredentials.ssh.privateKeyKey"], bad);
    }
  });
  test("user: an SSH user name of 1-32 characters", () => {
    for (const ok of ["git", "_svc", "a".repeat(32), "Deploy.bot-1"])
      assert.deepEqual(ssh({ user: ok }), [], ok);
    for (const bad of ["a".repeat(33), "1git", "-git", "git!", "gi t", ""]) {
      assert.deepEqual(ssh({ user: bad }), ["gitCredentials.ssh.user"], bad);
    }
  });
});

describe("Earthly's config file: global values typed, the components' keys winning, keys checked", () => {
  test("true and false as booleans, integers (negative too) as numbers, anything else as text", () => {
    const yaml = renderEarthlyConfig({
      config: {
        global: {
          a_true: "true",
          b_false: "false",
          c_int: "42",
          d_neg: "-5",
          e_text: "True",
          f_num: "1.5",
          g: "-",
        },
      },
    });
    assert.deepEqual(YAML.parse(yaml).global, {
      a_true: true,
      b_false: false,
      c_int: 42,
      d_neg: -5,
      e_text: "True",
      f_num: "1.5",
      g: "-",
    });
  });
  test("the components' own keys win over the user's", () => {
    const yaml = renderEarthlyConfig({
      own: { buildkit_host: "tcp://fleet:8372", tls_enabled: true },
      config: { global: { buildkit_host: "tcp://elsewhere:8372", tls_enabled: "false", other: "x" } },
    });
    assert.deepEqual(YAML.parse(yaml).global, {
      buildkit_host: "tcp://fleet:8372",
      other: "x",
      tls_enabled: true,
    });
  });
  test("a global key: lower_snake_case, wrong only at its start, end or middle refused", () => {
    const rule = earthlyConfigRule("client");
    const keyOk = (key: string) => rule({ global: { [key]: "v" } }, "earthlyConfig").length === 0;
    assert.ok(keyOk("disable_analytics") && keyOk("a") && keyOk("a1_b2"));
    for (const key of ["1abc", "_abc", "Abc", "abc-", "abcD", "abc!", "ab-c", "ab c"])
      assert.ok(!keyOk(key), key);
  });
});

describe("earthlyConfig: the keys the components own and the Git site keys refused, member by member", () => {
  // Literal copies: a key dropped from the components' tables, or its reason changed, fails here.
  const OWNED: [key: string, client: string, allInOne: string][] = [
    [
      "buildkit_host",
      "set from the fleet connection (and cacheKey)",
      "set by the image's entrypoint to its embedded buildkitd",
    ],
    ["tls_enabled", "set from the fleet", "set by the image's entrypoint"],
    ["tlsca", "the mounted client certificates", "set by the image's entrypoint"],
    ["tlscert", "the mounted client certificates", "set by the image's entrypoint"],
    ["tlskey", "the mounted client certificates", "set by the image's entrypoint"],
    ["tlsca_key", "the mounted client certificates", "set by the image's entrypoint"],
    ["buildkitd_tlscert", "the fleet's TLS", "set by the image's entrypoint"],
    ["buildkitd_tlskey", "the fleet's TLS", "set by the image's entrypoint"],
    ["cache_size_mb", "the fleet's cacheSizeMb", "cacheSizeMb (CACHE_SIZE_MB)"],
    ["cache_size_pct", "the fleet's cacheSizePct", "cacheSizePct (CACHE_SIZE_PCT)"],
    ["cni_mtu", "the fleet's cniMtu", "cniMtu (CNI_MTU)"],
    [
      "buildkit_additional_config",
      "the fleet's buildkitRegistries",
      "buildkitRegistries (EARTHLY_ADDITIONAL_BUILDKIT_CONFIG)",
    ],
    ["buildkit_additional_args", "the fleet's arguments", "nothing: Earthly does not start buildkitd here"],
    ["buildkit_image", "the fleet's imageRepository", "nothing: Earthly does not start buildkitd here"],
  ];
  for (const [key, client, allInOne] of OWNED)
    for (const [mode, reason] of [
      ["client", client],
      ["all-in-one", allInOne],
    ] as const)
      test(`global.${key} in the ${mode} Job: refused, saying what sets it`, () => {
        assert.deepEqual(earthlyConfigRule(mode)({ global: { [key]: "v" } }, "earthlyConfig"), [
          {
            field: `earthlyConfig.global.${key}`,
            value: "v",
            allowed: `a key the components do not own; ${key} is ${reason}`,
          },
        ]);
      });
  test("top level: only global and git; another key refused by name, an undefined one ignored", () => {
    for (const mode of ["client", "all-in-one"] as const) {
      const rule = earthlyConfigRule(mode);
      assert.deepEqual(rule({ global: {}, gits: {} } as never, "earthlyConfig"), [
        { field: "earthlyConfig.gits", value: "gits", allowed: "global or git" },
      ]);
      assert.deepEqual(rule({ global: {}, git: {}, other: undefined } as never, "earthlyConfig"), []);
    }
  });
  test("a key beside an owned one is the user's (no key is owned by its prefix)", () => {
    for (const key of ["buildkit_hosts", "tls", "cache_size", "cni_mtu_x", "my_tlsca"])
      assert.deepEqual(earthlyConfigRule("client")({ global: { [key]: "v" } }, "earthlyConfig"), [], key);
  });
  // Earthly's site keys, a literal copy: each accepted alone, and all of them named when one is not.
  const SITE_KEYS: [key: string, value: unknown][] = [
    ["auth", "ssh"],
    ["user", "git"],
    ["port", 2222],
    ["prefix", "ssh://"],
    ["pattern", "git.example.com/([^/]+)/([^/]+)"],
    ["substitute", "git@git.example.com:$1/$2.git"],
    ["suffix", ".git"],
  ];
  test("each of Earthly's git site keys is accepted; an unknown key is refused naming all of them", () => {
    const rule = earthlyConfigRule("all-in-one");
    for (const [key, value] of SITE_KEYS)
      assert.deepEqual(rule({ git: { "git.example.com": { [key]: value } } }, "earthlyConfig"), [], key);
    assert.deepEqual(
      Object.keys(readCommittedSchema().types[tokenOf("EarthlyGitSite")].properties ?? {}).sort(),
      SITE_KEYS.map(([key]) => key).sort(),
    );
    assert.deepEqual(rule({ git: { "git.example.com": { path: "/x" } } } as never, "earthlyConfig"), [
      {
        field: 'earthlyConfig.git["git.example.com"].path',
        value: "/x",
        allowed: `one of the keys ${SITE_KEYS.map(([key]) => key).join(", ")}`,
      },
    ]);
  });
  const REFUSED_SITE: [key: string, reason: string][] = [
    ["password", "nothing: give passwords and tokens by Secret with gitCredentials.https"],
    ["serverkey", "nothing: give known hosts by Secret or ConfigMap with gitCredentials.ssh.knownHosts"],
    ["strict_host_key_checking", "nothing: host key checking stays on"],
    ["ssh_command", "nothing: the SSH command is Earthly's, with host key checking on"],
  ];
  for (const [key, reason] of REFUSED_SITE)
    test(`git site key ${key}: refused with its reason, its value kept out of the message`, () => {
      const site = { auth: "https", [key]: "secret-value" };
      assert.deepEqual(
        earthlyConfigRule("all-in-one")({ git: { "git.example.com": site } }, "earthlyConfig"),
        [{ field: `earthlyConfig.git["git.example.com"].${key}`, value: "(given)", allowed: reason }],
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

describe("srcDir can meet none of the Jobs' own mounts", () => {
  // sourcePath refuses srcDir in or under a system directory (the rule's own list); the two mounts
  // outside them have a distinctDirectories rule of their own. A new mount elsewhere fails here.
  const GUARDED = new Set(["/home/earthly", "/tmp/earthly"]);
  for (const [label, make] of [
    [
      "all-in-one",
      () => buildAllInOne("mounts-aio", aioArgs({ ...ACCESS, artifacts: { claimName: "out" } })),
    ],
    [
      "remote client",
      () => buildRemote("mounts-client", remoteArgs({ ...ACCESS, artifacts: { claimName: "out" } })),
    ],
  ] as const) {
    test(`${label}: every mount but the source and artifacts is under a system directory or guarded`, async () => {
      const { container } = await make();
      const paths = (container.volumeMounts as Obj[])
        .filter((m) => m.name !== "workspace" && m.name !== "artifacts")
        .map((m) => m.mountPath as string);
      assert.ok(paths.length >= 5, JSON.stringify(paths));
      for (const p of paths) {
        const covered =
          GUARDED.has(p) || SYSTEM_DIRECTORIES.some((dir) => p === dir || p.startsWith(`${dir}/`));
        assert.ok(
          covered,
          `${p}: a mount srcDir could meet; give it a rule (distinctDirectories) and list it here`,
        );
      }
    });
  }
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
  test("the audit is able to fail: a key deliberately given in plain text is found", async () => {
    resetRecord();
    const leaky = new EarthlyAllInOneJob(
      "audit-leak",
      aioArgs({
        ...ACCESS,
        env: [{ name: "PLANTED", value: "-----BEGIN OPENSSH PRIVATE KEY-----\nUExBTlRFRA==\n" }],
      }),
    );
    await new Promise((resolve) => leaky.jobName.apply(resolve));
    await settle();
    const findings = credentialFindings(recorded, []);
    resetRecord();
    assert.equal(findings.length, 2, findings.join("\n"));
    assert.match(
      findings[0],
      /^kubernetes:batch\/v1:Job::audit-leak\.spec\.template\.spec\.containers\[0\]\.env\[\d+\]\.value$/,
    );
    assert.equal(findings[1], "BEGIN OPENSSH PRIVATE KEY");
  });

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
    assert.deepEqual(credentialFindings(recorded, outputs), []);
    const all = JSON.stringify([recorded.map((r) => r.inputs), outputs]);
    // The only Secret the components create is the client's certificates (a Pulumi secret).
    assert.deepEqual(
      recorded.filter((r) => r.type === "kubernetes:core/v1:Secret").map((r) => r.name),
      ["audit-remote-certs"],
    );
    assert.match(all, /"secretName":"git-token"/);
  });
});

/** What a wrapper run may change: a mounted file's content (`null`: missing), the variables, the tools. */
interface WrapperOptions {
  hosts: string;
  ssh: boolean;
  /** Replaces mounted files, by path under the temporary root (`git-https/1/password`, `git-ssh/key`). */
  files?: { [file: string]: string | null };
  /** Replaces `EARTHLY_KUBERNETES_GIT_HTTPS_SECRETS`. */
  secrets?: string;
  /** The system's ssh-agent and ssh-add instead of stand-ins (the test stops the agent). */
  realSsh?: boolean;
}

const DEFAULT_WRAPPER_SECRETS = "git-token/username/password gitlab-token/user/token";

/**
 * What the audit finds in recorded inputs and outputs: key material outside a Pulumi secret (by
 * path), a netrc line, a Docker `auths` entry, an OpenSSH private key. The wrapper's text holds the
 * netrc line's format, `machine %s`, never a line.
 */
function credentialFindings(resources: readonly RecordedResource[], outputs: readonly unknown[]): string[] {
  const all = JSON.stringify([resources.map((r) => r.inputs), outputs]);
  return [
    ...auditInputs(resources).leaks,
    ...(all.match(/machine (?!%s)[^ "\\]+|"auths"|BEGIN OPENSSH PRIVATE KEY/g) ?? []),
  ];
}

/** Runs the wrapper under `shell` against files in a temporary root, with stand-in programs. */
function runWrapper(
  shell: Shell,
  opts: WrapperOptions,
): { status: number | null; stdout: string; stderr: string; root: string } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "git-wrapper-"));
  const httpsDir = path.join(root, "git-https");
  const sshDir = path.join(root, "git-ssh");
  const bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  const files: { [file: string]: string | null } = {
    "git-https/0/username": "x-access-token\n",
    "git-https/0/password": "ghp_SECRETTOKEN0\n",
    "git-https/1/username": "builder",
    "git-https/1/password": "glpat-SECRETTOKEN1",
    ...(opts.ssh ? { "git-ssh/key": "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEY\n" } : {}),
    ...(opts.files ?? {}),
  };
  for (const [file, content] of Object.entries(files)) {
    if (content === null) continue;
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content, { mode: 0o400 });
  }
  const stub = (name: string, body: string) =>
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  if (opts.realSsh) {
    // The real agent, its output kept so that the test can stop it by its process id.
    stub("ssh-agent", `"${which("ssh-agent")}" "$@" > "${root}/agent-out"`);
    stub(
      "entrypoint",
      `"${which("ssh-add")}" -l > "${root}/agent-keys"; printf '%s\\n' "$@" > "${root}/entrypoint-args"`,
    );
  } else {
    stub(
      "ssh-agent",
      `printf '%s\\n' "$*" > "${root}/agent-args"; : > "$2"; echo "SSH_AGENT_PID=42; export SSH_AGENT_PID;"`,
    );
    stub("ssh-add", `printf '%s\\n' "$*" > "${root}/add-args"; cat > "${root}/add-stdin"`);
    stub("entrypoint", `printf '%s\\n' "$@" > "${root}/entrypoint-args"; echo "building"`);
  }
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
      // Short: a Unix socket's path has at most 107 bytes.
      SSH_AUTH_SOCK: path.join(root, "a.sock"),
      [HTTPS_HOSTS_ENV]: opts.hosts,
      [HTTPS_SECRETS_ENV]: opts.secrets ?? DEFAULT_WRAPPER_SECRETS,
      [SSH_SECRET_ENV]: "git-ssh/ssh-privatekey",
    },
  });
  if (opts.realSsh) {
    const pid = /SSH_AGENT_PID=(\d+)/.exec(readIfExists(path.join(root, "agent-out")) ?? "");
    if (pid) process.kill(Number(pid[1]));
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, root };
}

function readIfExists(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
}

/** Values a netrc line cannot hold, each with the reason the wrapper gives. */
const BAD_NETRC_VALUES: [string, string, RegExp][] = [
  ["empty", "", /is empty/],
  ["only newlines", "\n\n", /is empty/],
  ["a space", "glpat SECRET", /contains whitespace/],
  ["a tab", "glpat\tSECRET", /contains whitespace/],
  ["a carriage return", "glpat-SECRET\r\n", /contains whitespace/],
  ["a '#'", "glpat#SECRET", /contains '#'/],
  ["two lines", "glpat-SECRET\nmachine evil.example.com login a password b\n", /more than one line/],
];

describe("the wrapper, run", () => {
  for (const shell of POD_SHELLS) {
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
        `-a ${path.join(r.root, "a.sock")}\n`,
      );
      assert.equal(fs.readFileSync(path.join(r.root, "add-args"), "utf8"), "-q -\n");
      assert.match(fs.readFileSync(path.join(r.root, "add-stdin"), "utf8"), /SECRETKEY/);
      assert.equal(fs.readFileSync(path.join(r.root, "entrypoint-args"), "utf8"), `--ci\n${TARGET}\n`);
      assert.equal(r.stdout, "building\n");
      assert.doesNotMatch(r.stdout + r.stderr, /SECRET|SSH_AGENT_PID/);
    });

    test(`${shell.label}: a value a netrc line cannot hold stops the wrapper (exit 65), naming the Secret and key, never the value`, () => {
      for (const [what, value, reason] of BAD_NETRC_VALUES) {
        const r = runWrapper(shell, {
          hosts: "git.example.com gitlab.internal",
          ssh: false,
          files: { "git-https/1/password": value },
        });
        assert.equal(r.status, 65, `${what}: ${r.stderr}`);
        assert.match(r.stderr, reason, what);
        assert.match(
          r.stderr,
          /password in key token of Secret gitlab-token \(Git host gitlab\.internal\)/,
          what,
        );
        assert.doesNotMatch(r.stderr + r.stdout, /SECRET|glpat|evil/, what);
        assert.equal(fs.existsSync(path.join(r.root, "entrypoint-args")), false, what);
      }
      const user = runWrapper(shell, {
        hosts: "git.example.com",
        ssh: false,
        files: { "git-https/0/username": "x access" },
      });
      assert.equal(user.status, 65, user.stderr);
      assert.match(
        user.stderr,
        /user name in key username of Secret git-token \(Git host git\.example\.com\) contains whitespace/,
      );
      assert.doesNotMatch(user.stderr, /x access/);
    });

    test(`${shell.label}: a missing file, or a Secrets list that does not match the hosts, stops the wrapper`, () => {
      const missing = runWrapper(shell, {
        hosts: "git.example.com gitlab.internal",
        ssh: false,
        files: { "git-https/1/password": null },
      });
      assert.equal(missing.status, 66, missing.stderr);
      assert.match(missing.stderr, /cannot read key token of Secret gitlab-token/);
      assert.equal(fs.existsSync(path.join(missing.root, "entrypoint-args")), false);
      const fewer = runWrapper(shell, {
        hosts: "git.example.com gitlab.internal",
        ssh: false,
        secrets: "git-token/username/password",
      });
      assert.equal(fewer.status, 64, fewer.stderr);
      const more = runWrapper(shell, { hosts: "git.example.com", ssh: false });
      assert.equal(more.status, 64, more.stderr);
      const bad = runWrapper(shell, {
        hosts: "git.example.com",
        ssh: false,
        secrets: "git-token/user$(x)/password",
      });
      assert.equal(bad.status, 64, bad.stderr);
      assert.match(bad.stderr, /invalid Secret name or key/);
    });

    test(`${shell.label}: a key without a final newline reaches ssh-add with one`, () => {
      const r = runWrapper(shell, {
        hosts: "",
        ssh: true,
        files: {
          "git-ssh/key": "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEY\n-----END OPENSSH PRIVATE KEY-----",
        },
      });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(
        fs.readFileSync(path.join(r.root, "add-stdin"), "utf8"),
        "-----BEGIN OPENSSH PRIVATE KEY-----\nSECRETKEY\n-----END OPENSSH PRIVATE KEY-----\n",
      );
    });
  }

  const realSsh = which("ssh-agent") && which("ssh-add") && which("ssh-keygen");
  test(
    "with OpenSSH's own agent: a key without its final newline loads; a bad key stops the wrapper naming its Secret",
    { skip: realSsh ? false : "no ssh-agent, ssh-add and ssh-keygen on PATH" },
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "git-wrapper-key-"));
      const keygen = spawnSync(
        "ssh-keygen",
        ["-q", "-t", "ed25519", "-N", "", "-C", "wrapper-test", "-f", path.join(dir, "k")],
        { encoding: "utf8" },
      );
      assert.equal(keygen.status, 0, keygen.stderr);
      const key = fs.readFileSync(path.join(dir, "k"), "utf8").replace(/\n+$/, "");
      for (const shell of POD_SHELLS) {
        const r = runWrapper(shell, { hosts: "", ssh: true, realSsh: true, files: { "git-ssh/key": key } });
        assert.equal(r.status, 0, `${shell.label}: ${r.stderr}`);
        assert.match(
          fs.readFileSync(path.join(r.root, "agent-keys"), "utf8"),
          /wrapper-test \(ED25519\)/,
          shell.label,
        );
      }
      const bad = runWrapper(POD_SHELLS[0], {
        hosts: "",
        ssh: true,
        realSsh: true,
        files: { "git-ssh/key": "not a SECRET key\n" },
      });
      assert.equal(bad.status, 65, bad.stderr);
      assert.match(bad.stderr, /ssh-add refused the private key in key ssh-privatekey of Secret git-ssh/);
      assert.doesNotMatch(bad.stderr, /SECRET/);
      assert.equal(fs.existsSync(path.join(bad.root, "entrypoint-args")), false);
    },
  );

  test("without an SSH key no agent starts; a host that is not a host name stops the wrapper", () => {
    const shell = SHELLS[0];
    const ok = runWrapper(shell, {
      hosts: "git.example.com",
      ssh: false,
      secrets: "git-token/username/password",
    });
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
      client({
        gitCredentials: {
          ssh: { hosts: ["github.com"], secretName: "k", knownHosts: { configMapName: "h" } },
        },
        env: [{ name: "NETRC_CONTENT", secretKeyRef: { name: "n", key: "netrc" } }],
      }),
      [{ field: "env.name", got: '"NETRC_CONTENT"', allowed: /together with gitCredentials/ }],
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

  test("a URL rewrite (pattern, substitute) for a host with credentials: Earthly would add none", () =>
    assertRefused(
      client({
        gitCredentials: {
          https: [{ host: "github.com", secretName: "t" }],
          ssh: { hosts: ["git.example.com"], secretName: "k", knownHosts: { configMapName: "h" } },
        },
        earthlyConfig: {
          git: {
            "github.com": { pattern: "github.com/([^/]+)/([^/]+)", substitute: "https://mirror/$1/$2" },
            "git.example.com": { pattern: "git.example.com/(.+)" },
            "other.example.com": { pattern: "other.example.com/(.+)", substitute: "https://o/$1" },
          },
        },
      }),
      [
        {
          field: 'earthlyConfig.git["github.com"].pattern',
          got: '"github.com/([^/]+)/([^/]+)"',
          allowed: /nothing for github\.com, a host in gitCredentials: .*adds no credential/,
        },
        { field: 'earthlyConfig.git["github.com"].substitute', got: '"https://mirror/$1/$2"' },
        {
          field: 'earthlyConfig.git["git.example.com"].pattern',
          got: '"git.example.com/(.+)"',
          allowed: /nothing for git\.example\.com/,
        },
      ],
    ));

  test("gitCredentials with a custom image: the wrapper runs the earthly/earthly entrypoint", async () => {
    await assertRefused(
      aio({
        gitCredentials: { https: [{ host: "github.com", secretName: "t" }] },
        image: "registry.example.com/runner:1",
      }),
      [
        {
          field: "gitCredentials/image",
          got: '"registry.example.com/runner:1"',
          allowed: /earthly-entrypoint\.sh/,
        },
      ],
    );
    // The earthly/earthly image from a mirror is fine.
    new EarthlyAllInOneJob(
      "mirror-image",
      aioArgs({
        gitCredentials: { https: [{ host: "github.com", secretName: "t" }] },
        imageRepository: "mirror.example.com/earthly/earthly",
      }),
    );
    await settle();
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
    assert.throws(
      read({ gitSsh: "github.com=git-ssh" }),
      /invalid gitKnownHosts: got nothing; allowed: the hosts. public keys/,
    );
    assert.throws(
      read({ gitSsh: "git_hub=git-ssh", gitKnownHosts: "kh" }),
      /invalid gitSsh \(gitCredentials\.ssh\.hosts\[0\]\): got "git_hub"/,
    );
    assert.throws(read({ gitHttps: "github.com" }), /gitCredentials\.https\[0\]\.secretName/);
  });
  test("a gitHttps entry is host=secret alone: spaces around are fine, anything before or after is refused", () => {
    assert.doesNotThrow(read({ gitHttps: " github.com=git-token , gitlab.com=gl " }));
    for (const entry of [
      "junk github.com=git-token",
      "github.com=git-token junk",
      "github.com=git-token=x",
    ]) {
      assert.throws(read({ gitHttps: entry }), /invalid gitHttps \(gitCredentials\.https\[0\]/, entry);
    }
  });
});
