/**
 * Private Git, registry credentials, pull secrets and BuildKit mirrors on the real engine: the
 * referenced Secrets (of the standard types `kubernetes.io/basic-auth`, `ssh-auth` and
 * `dockerconfigjson`, made with kubectl, outside Pulumi) are present; the API server accepts both
 * Jobs and the fleet as rendered, the client under Pod Security `restricted` without a warning; and
 * no credential value reaches the stack's state.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildkitdFleet, EarthlyAllInOneJob, EarthlyRemoteJob } from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { BUILDER_POOL, GENERAL_POOL } from "../../stacks/demoArgs";
import { createNamespaces as createSecuredNamespaces, dryRunPod } from "./admission";
import { engineFixture } from "./fixture";
import { engineProvider } from "./programs";

const BUILDERS = "git-builders";
const CLIENTS = "git-clients";
const TOKEN = "ghp_ENGINEtokenVALUE";
const SSH_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nRU5HSU5Fa2V5\n-----END OPENSSH PRIVATE KEY-----\n";
const DOCKER_AUTH = Buffer.from("robot:ENGINEregistryPASSWORD").toString("base64");

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const engine = engineFixture("gitreg", [BUILDER_POOL, GENERAL_POOL]);

/** The Secrets and the ConfigMap a platform team creates in a namespace, by hand. */
function createCredentials(namespace: string): void {
  const objects = [
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "git-token", namespace },
      type: "kubernetes.io/basic-auth",
      stringData: { username: "x-access-token", password: TOKEN },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "git-ssh", namespace },
      type: "kubernetes.io/ssh-auth",
      stringData: { "ssh-privatekey": SSH_KEY },
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "git-known-hosts", namespace },
      data: { known_hosts: "git.example.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample\n" },
    },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "registry", namespace },
      type: "kubernetes.io/dockerconfigjson",
      stringData: {
        ".dockerconfigjson": JSON.stringify({ auths: { "registry.example.com": { auth: DOCKER_AUTH } } }),
      },
    },
  ];
  engine.cp.kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
}

const ACCESS = {
  gitCredentials: {
    https: [{ host: "github.com", secretName: "git-token" }],
    ssh: {
      hosts: ["git.example.com"],
      secretName: "git-ssh",
      knownHosts: { configMapName: "git-known-hosts" },
    },
  },
  dockerConfigSecret: "registry",
  imagePullSecrets: ["registry"],
  earthlyConfig: { global: { disable_analytics: "true" } },
};

/**
 * The namespaces and the Secrets, made at the start of the test rather than in a file-level
 * `before` hook: Node 20 does not wait for the fixture's async hook before running a second one.
 */
function createNamespaces(): void {
  createSecuredNamespaces(
    engine.cp,
    [
      [BUILDERS, "privileged"],
      [CLIENTS, "restricted"],
    ],
    { warn: true },
  );
  for (const ns of [BUILDERS, CLIENTS]) createCredentials(ns);
}

function json(args: string[]): Obj {
  return JSON.parse(engine.cp.kubectl([...args, "-o", "json"])) as Obj;
}

/** Server-side dry run of a pod with a Job's pod spec: the API server's admission, warnings included. */
const admitted = (namespace: string, spec: Obj) => dryRunPod(engine.cp, namespace, spec);

test("both Jobs and the fleet with every Git and registry setting: accepted, admitted, nothing secret in the state", async () => {
  createNamespaces();
  const s = await engine.env.stack("gitreg", async () => {
    const k8s = { provider: engineProvider(engine.cp) };
    const fleet = new BuildkitdFleet(
      "buildkitd",
      {
        namespace: BUILDERS,
        insecureDisableTls: true,
        scheduling: schedulingForPool(BUILDER_POOL),
        clientNamespaces: [CLIENTS],
        imagePullSecrets: ["registry"],
        buildkitRegistries: {
          "docker.io": { mirrors: ["mirror.example.com"] },
          "registry.internal:5000": { http: true, insecure: true },
        },
      },
      k8s,
    );
    const aio = new EarthlyAllInOneJob(
      "aio",
      {
        namespace: BUILDERS,
        target: "github.com/acme/private:main+build",
        scheduling: schedulingForPool(BUILDER_POOL),
        waitForCompletion: false,
        buildkitRegistries: { "docker.io": { mirrors: ["mirror.example.com"] } },
        ...ACCESS,
      },
      k8s,
    );
    const client = new EarthlyRemoteJob(
      "client",
      {
        namespace: CLIENTS,
        target: "github.com/acme/private:main+build",
        fleet: fleet.connection,
        timeoutMinutes: 5,
        ...ACCESS,
      },
      k8s,
    );
    return { aioJob: aio.jobName, clientJob: client.jobName };
  });
  const up = await s.up();

  // The client Job ran (its pod admitted under `restricted`), and a pod of its spec draws no warning.
  const clientJob = json(["--namespace", CLIENTS, "get", `job/${String(up.outputs.clientJob.value)}`]);
  assert.equal(clientJob.status.succeeded, 1);
  const clientSpec = clientJob.spec.template.spec;
  const clientCheck = admitted(CLIENTS, clientSpec);
  assert.equal(clientCheck.status, 0, clientCheck.stderr);
  assert.doesNotMatch(clientCheck.stderr, /PodSecurity|[Ww]arning/);

  // As stored by the API server: modes 0400 (256), the pull secret, the wrapper, no value.
  for (const spec of [
    clientSpec,
    json(["--namespace", BUILDERS, "get", `job/${String(up.outputs.aioJob.value)}`]).spec.template.spec,
  ]) {
    const volumes = Object.fromEntries((spec.volumes as Obj[]).map((v) => [v.name, v]));
    for (const name of ["git-https-0", "git-ssh", "docker-config"]) {
      assert.equal(volumes[name].secret.defaultMode, 256, name);
    }
    assert.equal(volumes["git-known-hosts"].configMap.name, "git-known-hosts");
    assert.deepEqual(spec.imagePullSecrets, [{ name: "registry" }]);
    assert.equal(spec.containers[0].command[0], "/bin/sh");
  }
  const aioCheck = admitted(
    BUILDERS,
    json(["--namespace", BUILDERS, "get", `job/${String(up.outputs.aioJob.value)}`]).spec.template.spec,
  );
  assert.equal(aioCheck.status, 0, aioCheck.stderr);

  const statefulSet = json(["--namespace", BUILDERS, "get", "statefulset/buildkitd"]);
  assert.deepEqual(statefulSet.spec.template.spec.imagePullSecrets, [{ name: "registry" }]);
  const extra = (statefulSet.spec.template.spec.containers[0].env as Obj[]).find(
    (e) => e.name === "EARTHLY_ADDITIONAL_BUILDKIT_CONFIG",
  );
  assert.match(
    extra?.value ?? "",
    /\[registry\."registry\.internal:5000"\]\n {2}http = true\n {2}insecure = true/,
  );

  // The state names the Secrets and holds none of their values.
  const state = JSON.stringify((await s.exportStack()).deployment);
  assert.match(state, /git-token/);
  for (const value of [TOKEN, "RU5HSU5Fa2V5", DOCKER_AUTH, "ENGINEregistryPASSWORD"]) {
    assert.equal(state.includes(value), false, `the state holds ${value}`);
  }
  await s.destroy();
});
