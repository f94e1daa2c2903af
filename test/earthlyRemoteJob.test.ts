/**
 * EarthlyRemoteJob under Pulumi mocks, against a plain FleetConnection of 3 instances: the client
 * Job, its Earthly config (parsed back with the yaml package) and its certificate Secret, asserted
 * field by field and validated against the Kubernetes API schema.
 */
import "./support/mocks";
import { before, describe, mock, test } from "node:test";
import assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import { recorded, resetRecord, settle, valueOf, refusedInApply } from "./support/mocks";
import { inputsOf, one } from "./support/recorded";
import { plain } from "./support/values";
import { assertRefused as assertRefusedWith } from "./support/refusals";
import { validateKubeObject } from "./support/kubeSchema";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { FleetConnection } from "../components/fleet/connection";
import { FLEET_CONNECTION } from "./support/built";
import { pickInstance } from "../components/fleet/pinning";
import { InvalidArgumentsError } from "../components/validation/errors";
import { exportsImagesLocally } from "../components/jobs/flags";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const TYPE = "earthly-kubernetes:index:EarthlyRemoteJob";
const JOB = "kubernetes:batch/v1:Job";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";
const SECRET = "kubernetes:core/v1:Secret";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

const CLIENT_CERT_PEM = "-----BEGIN CERTIFICATE-----\nY2xpZW50IGNlcnQ=\n-----END CERTIFICATE-----\n";
const CLIENT_KEY_PEM = "-----BEGIN PRIVATE KEY-----\nY2xpZW50IGtleQ==\n-----END PRIVATE KEY-----\n";

/** The shared fixture fleet (3 instances, TLS on). */
const FLEET: FleetConnection = FLEET_CONNECTION;

const TARGET = "github.com/earthly/ci-example-project:main+build";

function baseArgs(): EarthlyRemoteJobArgs {
  return {
    namespace: "ci",
    target: TARGET,
    fleet: FLEET,
    clientCertPem: CLIENT_CERT_PEM,
    clientPrivateKeyPem: pulumi.secret(CLIENT_KEY_PEM),
  };
}

function validateAllRecorded(): void {
  for (const r of recorded.filter((x) => x.type.startsWith("kubernetes:"))) {
    validateKubeObject(plain(r.inputs) as Record<string, unknown>);
  }
}

/** Constructs the Job, waits for every registration and validates every Kubernetes object. */
async function build(
  name: string,
  args: EarthlyRemoteJobArgs,
): Promise<{ component: EarthlyRemoteJob; job: Obj; config: Obj; certs: Obj; container: Obj }> {
  resetRecord();
  const component = new EarthlyRemoteJob(name, args);
  await valueOf(component.jobName);
  await settle();
  assert.deepEqual(
    recorded.map((r) => `${r.type} ${r.name}`).sort(),
    [
      `${TYPE} ${name}`,
      `${CONFIG_MAP} ${name}-config`,
      `${JOB} ${name}`,
      `${NETWORK_POLICY} ${name}-network`,
      `${SECRET} ${name}-certs`,
    ].sort(),
  );
  validateAllRecorded();
  const job = inputsOf(JOB, name);
  return {
    component,
    job,
    config: inputsOf(CONFIG_MAP, `${name}-config`),
    certs: inputsOf(SECRET, `${name}-certs`),
    container: job.spec.template.spec.containers[0],
  };
}

function envOf(container: Obj): Record<string, string> {
  return Object.fromEntries((container.env as Obj[]).map((e) => [e.name as string, e.value as string]));
}

/** The Earthly config the ConfigMap carries, parsed. */
function parsedConfig(config: Obj): Obj {
  assert.deepEqual(Object.keys(config.data), ["config.yml"]);
  return YAML.parse(config.data["config.yml"]) as Obj;
}

/** Two cache keys that rendezvous hashing puts on different instances of the fleet. */
function keysOnDifferentInstances(): [string, string] {
  const first = "github.com/earthly/earthly";
  const firstInstance = pickInstance(first, FLEET.instanceNames);
  for (let i = 0; i < 100; i++) {
    const candidate = `github.com/example/repo-${i}`;
    if (pickInstance(candidate, FLEET.instanceNames) !== firstInstance) return [first, candidate];
  }
  throw new Error("no second key found on another instance");
}

function assertRefused(make: () => unknown, field: string, got: string, allowed: RegExp): Promise<void> {
  return assertRefusedWith(make, [{ field, got, allowed }]);
}

const CLIENT_LABELS = {
  "earthly-kubernetes/client-of": "buildkitd",
  "app.kubernetes.io/name": "earthly",
  "app.kubernetes.io/instance": "client",
  "app.kubernetes.io/component": "client",
  "app.kubernetes.io/version": "v0.8.16",
  "app.kubernetes.io/part-of": "earthly",
  "app.kubernetes.io/managed-by": "pulumi",
};

describe("a client without a cache key", () => {
  let built: Awaited<ReturnType<typeof build>>;

  before(async () => {
    built = await build("client", {
      ...baseArgs(),
      earthlyConfig: { global: { disable_analytics: "true", conversion_parallelism: "4" } },
    });
  });

  test("Job: unprivileged earthly container, NO_BUILDKIT=1, EARTHLY_BUILDKIT_HOST = the fleet's Service", async () => {
    const { job, container } = built;
    assert.equal(job.apiVersion, "batch/v1");
    assert.equal(job.kind, "Job");
    assert.equal(job.metadata.namespace, "ci");
    assert.equal(container.name, "earthly");
    assert.equal(container.image, "earthly/earthly:v0.8.16");
    // No flag sets the output mode: --no-output (the client has no Docker, and keeps no file).
    assert.deepEqual(container.args, ["--no-output", TARGET]);
    assert.deepEqual(container.securityContext, {
      privileged: false,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ["ALL"] },
      readOnlyRootFilesystem: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    assert.deepEqual(container.env, [
      { name: "NO_BUILDKIT", value: "1" },
      { name: "EARTHLY_BUILDKIT_HOST", value: "tcp://buildkitd.earthly.svc.cluster.local:8372" },
      { name: "HOME", value: "/home/earthly" },
      { name: "SRC_DIR", value: "/workspace" },
    ]);
    assert.equal(container.workingDir, "/workspace");
    assert.equal(
      await valueOf(built.component.buildkitHost),
      "tcp://buildkitd.earthly.svc.cluster.local:8372",
    );
  });

  test("Job: config at /etc/.earthly/config.yml by subPath, certificates at /etc/.earthly/certs", () => {
    const { job, container, config, certs } = built;
    assert.deepEqual(container.volumeMounts, [
      { name: "workspace", mountPath: "/workspace" },
      { name: "earthly-home", mountPath: "/home/earthly" },
      { name: "tmp", mountPath: "/tmp" },
      {
        name: "earthly-config",
        mountPath: "/etc/.earthly/config.yml",
        subPath: "config.yml",
        readOnly: true,
      },
      { name: "earthly-certs", mountPath: "/etc/.earthly/certs", readOnly: true },
    ]);
    // The volumes name the objects the component created (auto-named by the mocked provider).
    assert.deepEqual(job.spec.template.spec.volumes, [
      { name: "workspace", emptyDir: { sizeLimit: "4Gi" } },
      { name: "earthly-home", emptyDir: { sizeLimit: "256Mi" } },
      { name: "tmp", emptyDir: { sizeLimit: "1Gi" } },
      { name: "earthly-config", configMap: { name: "client-config-abc123" } },
      { name: "earthly-certs", secret: { secretName: "client-certs-abc123", defaultMode: 0o400 } },
    ]);
    assert.equal(config.metadata.namespace, "ci");
    assert.equal(certs.metadata.namespace, "ci");
  });

  test("Job: pod labels carry the fleet's client labels; no scheduling constraints by default", () => {
    const { job } = built;
    const pod = job.spec.template;
    assert.deepEqual(pod.metadata.labels, CLIENT_LABELS);
    assert.equal(
      pod.metadata.labels["earthly-kubernetes/client-of"],
      FLEET.clientLabels["earthly-kubernetes/client-of"],
    );
    assert.deepEqual(job.metadata.labels, CLIENT_LABELS);
    assert.equal("tolerations" in pod.spec, false);
    assert.equal("nodeSelector" in pod.spec, false);
    assert.equal(pod.spec.automountServiceAccountToken, false);
    assert.equal(pod.spec.restartPolicy, "Never");
    assert.equal(job.spec.backoffLimit, 1);
  });

  test("ConfigMap: Earthly's config with absolute TLS paths plus the earthlyConfig extras, typed, and nothing else", () => {
    assert.deepEqual(parsedConfig(built.config), {
      global: {
        conversion_parallelism: 4,
        disable_analytics: true,
        buildkit_host: "tcp://buildkitd.earthly.svc.cluster.local:8372",
        tls_enabled: true,
        tlsca: "/etc/.earthly/certs/ca_cert.pem",
        tlscert: "/etc/.earthly/certs/earthly_cert.pem",
        tlskey: "/etc/.earthly/certs/earthly_key.pem",
      },
    });
  });

  test("Secret: the CA, the client certificate and key, as a secret", () => {
    const raw = one(SECRET, "client-certs").inputs;
    assert.equal(pulumi.runtime.isRpcSecret(raw.stringData), true);
    assert.equal(built.certs.type, "Opaque");
    assert.deepEqual(built.certs.stringData, {
      "ca_cert.pem": FLEET.caCertPem,
      "earthly_cert.pem": CLIENT_CERT_PEM,
      "earthly_key.pem": CLIENT_KEY_PEM,
    });
  });

  test("the Job and the ConfigMap are not secret and do not hold the key", () => {
    for (const r of recorded.filter((x) => x.type === JOB || x.type === CONFIG_MAP)) {
      for (const value of Object.values(r.inputs)) assert.equal(pulumi.runtime.isRpcSecret(value), false);
      assert.equal(JSON.stringify(r.inputs).includes("PRIVATE KEY"), false, `${r.type} holds the key`);
    }
  });

  test("outputs: jobName and namespace", async () => {
    assert.equal(await valueOf(built.component.jobName), "client-abc123");
    assert.equal(await valueOf(built.component.namespace), "ci");
  });
});

describe("a client pinned by cache key", () => {
  const [keyA, keyB] = keysOnDifferentInstances();

  for (const [label, key] of [
    ["first key", keyA],
    ["second key", keyB],
  ] as const) {
    test(`${label}: EARTHLY_BUILDKIT_HOST and the config's buildkit_host are the instance pickInstance chooses`, async () => {
      const name = label === "first key" ? "pinned-a" : "pinned-b";
      const { component, container, config } = await build(name, { ...baseArgs(), cacheKey: key });
      const instance = pickInstance(key, FLEET.instanceNames);
      const host = `tcp://${FLEET.instanceHosts[FLEET.instanceNames.indexOf(instance)]}:8372`;
      assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, host);
      assert.ok(
        FLEET.instanceHosts.map((h) => `tcp://${h}:8372`).includes(host),
        "the pinned host is one of the fleet's instance hosts",
      );
      assert.notEqual(host, FLEET.buildkitHost);
      assert.equal(parsedConfig(config).global.buildkit_host, host);
      assert.equal(await valueOf(component.buildkitHost), host);
    });
  }

  test("the two keys land on different instances", () => {
    assert.notEqual(pickInstance(keyA, FLEET.instanceNames), pickInstance(keyB, FLEET.instanceNames));
  });
});

describe("options", () => {
  test("scheduling, labels, flags, imageRepository and env are passed through", async () => {
    const { job, container } = await build("options", {
      ...baseArgs(),
      flags: ["--ci"],
      imageRepository: "earthbuild/earthbuild",
      labels: { team: "platform" },
      scheduling: {
        nodeSelector: { "kubernetes.io/os": "linux" },
        tolerations: [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }],
      },
      env: [{ name: "EARTHLY_TOKEN", secretKeyRef: { name: "earthly", key: "token" } }],
    });
    assert.equal(container.image, "earthbuild/earthbuild:v0.8.16");
    assert.deepEqual(container.args, ["--ci", TARGET]);
    assert.deepEqual(container.env[4], {
      name: "EARTHLY_TOKEN",
      valueFrom: { secretKeyRef: { name: "earthly", key: "token" } },
    });
    const pod = job.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/os": "linux" });
    assert.deepEqual(pod.tolerations, [{ key: "dedicated", operator: "Exists", effect: "NoSchedule" }]);
    assert.equal(job.spec.template.metadata.labels.team, "platform");
    assert.equal(job.spec.template.metadata.labels["earthly-kubernetes/client-of"], "buildkitd");
  });

  test("a fleet without TLS: tls_enabled false, no TLS paths, no certificate mount", async () => {
    const fleet: FleetConnection = { ...FLEET, tlsEnabled: false, caCertPem: "" };
    const { job, container, config, certs } = await build("plain", {
      namespace: "ci",
      target: TARGET,
      fleet,
    });
    assert.deepEqual(parsedConfig(config), {
      global: { buildkit_host: "tcp://buildkitd.earthly.svc.cluster.local:8372", tls_enabled: false },
    });
    assert.deepEqual(
      (container.volumeMounts as Obj[]).map((m) => m.mountPath),
      ["/workspace", "/home/earthly", "/tmp", "/etc/.earthly/config.yml"],
    );
    assert.deepEqual(
      (job.spec.template.spec.volumes as Obj[]).map((v) => v.name),
      ["workspace", "earthly-home", "tmp", "earthly-config"],
    );
    assert.deepEqual(certs.stringData, {});
  });
});

describe("refused arguments", () => {
  test("an earthlyVersion other than the fleet's (names both versions)", async () => {
    await assertRefused(
      () => new EarthlyRemoteJob("old", { ...baseArgs(), earthlyVersion: "v0.8.15" }),
      "earthlyVersion",
      '"v0.8.15"',
      /the fleet's version v0\.8\.16/,
    );
  });

  test("a version mismatch with a fleet Output (the usual case) is refused in the apply", async () => {
    resetRecord();
    const { error: jobError, rejections } = await refusedInApply(
      () =>
        new EarthlyRemoteJob("old-output", {
          ...baseArgs(),
          fleet: pulumi.output(FLEET),
          earthlyVersion: "v0.8.15",
        }).jobName,
    );
    const assertTheProblem = (reason: unknown) => {
      assert.ok(
        reason instanceof InvalidArgumentsError,
        `expected InvalidArgumentsError, got ${String(reason)}`,
      );
      assert.match(
        reason.message,
        /EarthlyRemoteJob "old-output": invalid earthlyVersion: got "v0\.8\.15"; allowed: the fleet's version v0\.8\.16/,
      );
    };
    assertTheProblem(jobError);
    assert.ok(rejections.length > 0);
    for (const reason of rejections) assertTheProblem(reason);
    assert.deepEqual(
      recorded.map((r) => r.type),
      [TYPE],
    );
  });

  test("image together with earthlyVersion", async () => {
    await assertRefused(
      () =>
        new EarthlyRemoteJob("img", {
          ...baseArgs(),
          image: "registry.example.com/runner:1.0",
          earthlyVersion: "v0.8.16",
        }),
      "image",
      '"registry.example.com/runner:1.0"',
      /either image \(with its own tag or digest\), or earthlyVersion\/imageRepository\/imageDigest/,
    );
  });

  test("GLOBAL_CONFIG in env", async () => {
    await assertRefused(
      () => new EarthlyRemoteJob("gc", { ...baseArgs(), env: [{ name: "GLOBAL_CONFIG", value: "{}" }] }),
      "env.name",
      '"GLOBAL_CONFIG"',
      /not GLOBAL_CONFIG here: use earthlyConfig\.global/,
    );
  });

  test("earthlyConfig overriding tls_enabled", async () => {
    await assertRefused(
      () =>
        new EarthlyRemoteJob("tls-off", {
          ...baseArgs(),
          earthlyConfig: { global: { tls_enabled: "false" } },
        }),
      "earthlyConfig.global.tls_enabled",
      '"false"',
      /a key the components do not own; tls_enabled is set from the fleet/,
    );
  });

  test("a TLS fleet without a client certificate fails in the apply; no Job is created", async () => {
    resetRecord();
    const args = { ...baseArgs() };
    delete args.clientCertPem;
    const { error: jobError, rejections } = await refusedInApply(
      () => new EarthlyRemoteJob("no-cert", args).jobName,
    );
    const assertTheProblem = (reason: unknown) => {
      assert.ok(
        reason instanceof InvalidArgumentsError,
        `expected InvalidArgumentsError, got ${String(reason)}`,
      );
      assert.match(
        reason.message,
        /EarthlyRemoteJob "no-cert": invalid clientCertPem: got nothing; allowed: a PEM value: the fleet requires mTLS/,
      );
      assert.deepEqual(
        reason.problems.map((p) => p.field),
        ["clientCertPem"],
      );
    };
    assertTheProblem(jobError);
    assert.ok(rejections.length > 0);
    for (const reason of rejections) assertTheProblem(reason);
    // The ConfigMap and the NetworkPolicy do not depend on the certificate; the Secret and the Job
    // never reach the cluster.
    assert.deepEqual(
      recorded.map((r) => r.type),
      [TYPE, CONFIG_MAP, NETWORK_POLICY],
    );
  });
});

describe("outputs: --no-output by default, and a warning when images would be exported to the client's Docker", () => {
  /** The container's args and the warnings a component with these flags and artifacts logs. */
  async function built(name: string, flags: EarthlyRemoteJobArgs["flags"], artifacts = false) {
    const warn = mock.method(pulumi.log, "warn", () => Promise.resolve());
    try {
      const { component, container } = await build(name, {
        ...baseArgs(),
        flags,
        ...(artifacts ? { artifacts: { claimName: "outputs" } } : {}),
      });
      await settle();
      const warnings = warn.mock.calls.map((c) => {
        const [message, resource] = c.arguments as unknown as [string, unknown];
        assert.equal(resource, component, "the warning is on the component");
        return message;
      });
      return { args: container.args as string[], warnings };
    } finally {
      warn.mock.restore();
    }
  }

  // [label, flags, artifacts, what the component adds before the target, whether it warns]
  const cases: [string, string[] | undefined, boolean, string[], boolean][] = [
    ["no flags", undefined, false, ["--no-output"], false],
    ["empty flags", [], false, ["--no-output"], false],
    [
      "--push (it does not stop the export; --no-output does not stop the push)",
      ["--push"],
      false,
      ["--no-output"],
      false,
    ],
    ["--ci", ["--ci"], false, [], false],
    ["-ci (one dash)", ["-ci"], false, [], false],
    ["--ci --push", ["--ci", "--push"], false, [], false],
    ["--no-output", ["--no-output"], false, [], false],
    ["--ci=false", ["--ci=false"], false, [], true],
    ["--ci then --ci=false", ["--ci", "--ci=false"], false, [], true],
    ["--ci --output", ["--ci", "--output"], false, [], true],
    ["--output=false (outputs on all the same without --ci)", ["--output=false"], false, [], true],
    ["--ci --output=false", ["--ci", "--output=false"], false, [], false],
    ["--ci --image", ["--ci", "--image"], false, [], true],
    // Each flag that sets the output mode, alone: the mode is the user's, no --no-output added.
    ["--output alone", ["--output"], false, [], true],
    ["--image alone", ["--image"], false, [], true],
    ["--artifact (one artifact, never an image)", ["--artifact"], false, [], false],
    ["artifacts without flags", undefined, true, [], true],
    ["artifacts with --ci (they add --output)", ["--ci"], true, ["--output"], true],
    ["artifacts with --ci --push", ["--ci", "--push"], true, ["--output"], true],
  ];
  cases.forEach(([label, flags, artifacts, added, warned], i) => {
    test(`${label}: adds [${added.join(" ")}], ${warned ? "a warning" : "no warning"}`, async () => {
      const { args, warnings } = await built(`w-${i}`, flags, artifacts);
      assert.deepEqual(args, [...(flags ?? []), ...added, TARGET]);
      assert.equal(exportsImagesLocally(args.slice(0, -1)), warned);
      if (!warned) return assert.deepEqual(warnings, []);
      assert.equal(warnings.length, 1, warnings.join("\n"));
      assert.ok(warnings[0].startsWith(`EarthlyRemoteJob "w-${i}": `), warnings[0]);
      assert.match(warnings[0], /a SAVE IMAGE with a name is exported to the client's Docker/);
      assert.match(warnings[0], /SAVE IMAGE --push and the --push flag/);
      assert.match(
        warnings[0],
        artifacts ? /artifacts need Earthly's outputs on/ : /the flags turn Earthly's outputs on/,
      );
    });
  });

  test("flags given as an Output: the same rule once they resolve", async () => {
    const later = pulumi.output(
      new Promise<string[]>((resolve) => setTimeout(() => resolve(["--output"]), 10)),
    );
    const { args, warnings } = await built("w-later", later);
    assert.deepEqual(args, ["--output", TARGET]);
    assert.equal(warnings.length, 1);
  });
});
