/**
 * Build secrets, artifacts and `WITH DOCKER` in production (the production guide's sections 3-6), on the rendered objects of both Jobs (and the
 * fleet for `WITH DOCKER`): build secrets from Secrets by reference, artifacts out to a claim the
 * user names, and what `WITH DOCKER` needs. Arguments' single values are in arguments.test.ts and
 * their defaults in defaults.test.ts; this file checks how they combine, what is refused, and that
 * no secret value reaches a spec, an output or a log line.
 */
import "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import {
  BuiltJob,
  FLEET_CONNECTION,
  JOB,
  NETWORK_POLICY,
  buildAllInOne,
  buildFleet,
  buildRemote,
  envOf,
  mountOf,
} from "./support/built";
import { Obj, plain } from "./support/values";
import { inputsOf } from "./support/recorded";
import { recorded, refusedInApply, resetRecord, settle, valueOf } from "./support/mocks";
import { assertRefused } from "./support/refusals";
import { auditInputs } from "./support/secretsAudit";
import { EarthlyAllInOneJob, EarthlyAllInOneJobArgs } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { BuildSecret } from "../components/jobs/buildSecrets";
import { OUTPUT_MODE_ENV } from "../components/jobs/flags";
import { InvalidArgumentsError } from "../components/validation/errors";

const TARGET = "github.com/acme/app:main+release";
/** A value no rendered object may hold: it lives only in the user's Secret. */
const SENTINEL = "s3ntinel-Value-0f-a-build-secret";
const SECRETS: BuildSecret[] = [
  { name: "NPM_TOKEN", secretKeyRef: { name: "build-secrets", key: "npm-token" } },
  { name: "SIGNING_KEY", secretKeyRef: { name: "build-secrets", key: "signing-key" } },
];
const CLAIM = "build-artifacts";

type Mode = "all-in-one" | "remote";
const MODES: Mode[] = ["all-in-one", "remote"];

const aioArgs = (extra: Partial<EarthlyAllInOneJobArgs>): EarthlyAllInOneJobArgs => ({
  namespace: "builds",
  target: TARGET,
  ...extra,
});
const remoteArgs = (extra: Partial<EarthlyRemoteJobArgs>): EarthlyRemoteJobArgs => ({
  namespace: "ci",
  target: TARGET,
  fleet: FLEET_CONNECTION,
  clientCertPem: "cert",
  clientPrivateKeyPem: "key",
  ...extra,
});

/** Builds the Job of a mode with the extra arguments. */
function build(mode: Mode, name: string, extra: Partial<EarthlyAllInOneJobArgs>): Promise<BuiltJob> {
  return mode === "all-in-one"
    ? buildAllInOne(name, aioArgs(extra))
    : buildRemote(name, remoteArgs(extra as Partial<EarthlyRemoteJobArgs>));
}

/** Constructs the component of a mode (for refusals and outputs). */
function construct(mode: Mode, name: string, extra: Partial<EarthlyAllInOneJobArgs>) {
  return mode === "all-in-one"
    ? new EarthlyAllInOneJob(name, aioArgs(extra))
    : new EarthlyRemoteJob(name, remoteArgs(extra as Partial<EarthlyRemoteJobArgs>));
}

/** Paths at which the sentinel appears outside a Pulumi secret. */
function pathsOutsideSecrets(value: unknown, at: string): string[] {
  if (pulumi.runtime.isRpcSecret(value)) return [];
  if (typeof value === "string") return value.includes(SENTINEL) ? [at] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => pathsOutsideSecrets(v, `${at}[${i}]`));
  if (value !== null && typeof value === "object") {
    return Object.entries(value).flatMap(([k, v]) => pathsOutsideSecrets(v, `${at}.${k}`));
  }
  return [];
}

const componentName = (mode: Mode, name: string) =>
  `${mode === "all-in-one" ? "EarthlyAllInOneJob" : "EarthlyRemoteJob"} "${name}"`;

// ---------------------------------------------------------------------------------------------
// Item 3: build secrets.
// ---------------------------------------------------------------------------------------------

for (const mode of MODES) {
  describe(`build secrets, ${mode}`, () => {
    test("each secret: a variable from its Secret key and --secret NAME, before the user's flags", async () => {
      const { container } = await build(mode, `secrets-${mode}`, {
        buildSecrets: SECRETS,
        flags: ["--ci", "--push"],
      });
      assert.deepEqual(container.args, [
        "--secret",
        "NPM_TOKEN",
        "--secret",
        "SIGNING_KEY",
        "--ci",
        "--push",
        TARGET,
      ]);
      const env = container.env as Obj[];
      assert.deepEqual(
        env.filter((e) => e.name === "NPM_TOKEN" || e.name === "SIGNING_KEY"),
        [
          { name: "NPM_TOKEN", valueFrom: { secretKeyRef: { name: "build-secrets", key: "npm-token" } } },
          { name: "SIGNING_KEY", valueFrom: { secretKeyRef: { name: "build-secrets", key: "signing-key" } } },
        ],
      );
      // A reference, never a value; never EARTHLY_SECRETS (one value holding them all); no NAME=value flag.
      for (const e of env.filter((x) => x.name === "NPM_TOKEN" || x.name === "SIGNING_KEY")) {
        assert.equal("value" in e, false);
      }
      assert.equal(envOf(container).EARTHLY_SECRETS, undefined);
      assert.equal(
        (container.args as string[]).some((a) => a.includes("=")),
        false,
      );
    });

    test("no secret value in any spec, output or state: only the user's own Secret holds it, as a secret", async () => {
      resetRecord();
      // The user's Secret, as docs/production.md creates it with kubectl; here in the same program.
      const userSecret = new kubernetes.core.v1.Secret("build-secrets", {
        metadata: { name: "build-secrets", namespace: mode === "all-in-one" ? "builds" : "ci" },
        stringData: pulumi.secret({ "npm-token": SENTINEL, "signing-key": `${SENTINEL}-2` }),
      });
      const component = construct(mode, `audit-${mode}`, { buildSecrets: SECRETS });
      await valueOf(component.jobName);
      await valueOf(userSecret.metadata.name);
      await settle();
      const holders = recorded.filter((r) => JSON.stringify(plain(r.inputs)).includes(SENTINEL));
      assert.deepEqual(
        holders.map((r) => `${r.type}::${r.name}`),
        ["kubernetes:core/v1:Secret::build-secrets"],
      );
      // Inside that one, only within a Pulumi secret: encrypted in the state.
      assert.deepEqual(pathsOutsideSecrets(holders[0].inputs, "inputs"), []);
      // The components' outputs hold none of it either.
      const outputs: { [name: string]: pulumi.Output<unknown> } = {
        jobName: component.jobName,
        namespace: component.namespace,
        artifacts: component.artifacts,
      };
      for (const [name, output] of Object.entries(outputs)) {
        assert.equal(JSON.stringify((await valueOf(output)) ?? null).includes(SENTINEL), false, name);
      }
      assert.deepEqual(auditInputs(recorded).leaks, []);
    });

    test("refused: a name that is no variable name, a repeated name, names the components or Earthly own", async () => {
      const ref = { name: "s", key: "k" };
      await assertRefused(
        () =>
          construct(mode, "bad-secrets", {
            buildSecrets: [
              { name: "npm-token", secretKeyRef: ref },
              { name: "1TOKEN", secretKeyRef: ref },
              { name: "TOKEN", secretKeyRef: ref },
              { name: "TOKEN", secretKeyRef: ref },
              { name: "SRC_DIR", secretKeyRef: ref },
              { name: "HOME", secretKeyRef: ref },
              { name: "EARTHLY_TOKEN", secretKeyRef: ref },
              { name: "BUILDKIT_HOST", secretKeyRef: ref },
            ],
          }),
        [
          { field: "buildSecrets[0].name", got: '"npm-token"', allowed: /an environment variable name/ },
          { field: "buildSecrets[1].name", got: '"1TOKEN"' },
          { field: "buildSecrets[4].name", got: '"SRC_DIR"', allowed: /the components or Earthly use those/ },
          { field: "buildSecrets[5].name", got: '"HOME"' },
          { field: "buildSecrets[6].name", got: '"EARTHLY_TOKEN"', allowed: /not starting with EARTHLY_/ },
          { field: "buildSecrets[7].name", got: '"BUILDKIT_HOST"' },
          { field: "buildSecrets[3]", got: '"TOKEN"', allowed: /a secret name not already listed/ },
        ],
      );
    });

    test("refused: names the loader, the shells, the proxies, the TLS roots or Earthly's netrc read", async () => {
      const ref = { name: "s", key: "k" };
      const names = [
        "NETRC_CONTENT",
        "LD_PRELOAD",
        "LD_LIBRARY_PATH",
        "BASH_ENV",
        "ENV",
        "SHELLOPTS",
        "IFS",
        "PS4",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "NO_PROXY",
        "http_proxy",
        "https_proxy",
        "no_proxy",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
      ];
      await assertRefused(
        () =>
          construct(mode, "reserved-secrets", {
            buildSecrets: names.map((name) => ({ name, secretKeyRef: ref })),
          }),
        names.map((name, i) => ({
          field: `buildSecrets[${i}].name`,
          got: JSON.stringify(name),
          allowed: /the components or Earthly use those/,
        })),
      );
    });

    test("refused: flags carrying a value into the pod spec or replacing what is mounted; $( in flags or target", async () => {
      // A secret by name alone is accepted (buildSecrets is the way to fill it).
      construct(mode, "secret-by-name", { flags: ["--secret", "NPM_TOKEN", "-s", "OTHER", "--ci"] });
      await settle();
      await assertRefused(
        () =>
          construct(mode, "bad-flags", {
            target: "+build-$(HOME)",
            flags: [
              "--secret",
              "NPM_TOKEN=s3cr3t",
              "--secret=TOKEN=s3cr3t",
              "-s",
              "A=s3cr3t",
              "-secret=B=s3cr3t",
              "--git-password=s3cr3t",
              "--git-password",
              "--config=/tmp/config.yml",
              "-ssh-auth-sock",
              "/tmp/agent.sock",
              "--build-arg=A=$(NPM_TOKEN)",
            ],
          }),
        [
          { field: "target", got: '"+build-$(HOME)"', allowed: /Kubernetes expands \$\(VAR\)/ },
          {
            field: "flags[1]",
            got: '"NPM_TOKEN=(given)"',
            allowed: /a secret by name only .*use buildSecrets/,
          },
          { field: "flags[2]", got: '"--secret=TOKEN=(given)"' },
          { field: "flags[4]", got: '"A=(given)"' },
          { field: "flags[5]", got: '"-secret=B=(given)"' },
          { field: "flags[6]", got: '"--git-password=(given)"', allowed: /gitCredentials\.https/ },
          { field: "flags[7]", got: '"--git-password"' },
          { field: "flags[8]", got: '"--config=(given)"', allowed: /mounted from earthlyConfig/ },
          { field: "flags[9]", got: '"-ssh-auth-sock"', allowed: /the SSH agent/ },
          { field: "flags[11]", got: '"--build-arg=A=$(NPM_TOKEN)"', allowed: /Kubernetes expands/ },
        ],
      );
    });

    test("refused on resolution: flags given as an Output with a secret's value; no Job registered", async () => {
      resetRecord();
      const { error } = await refusedInApply(
        () =>
          construct(mode, "late-flags", { flags: pulumi.output(["--secret", "NPM_TOKEN=s3cr3t"]) }).jobName,
      );
      assert.ok(error instanceof InvalidArgumentsError);
      assert.match(error.message, /invalid flags\[1\]: got "NPM_TOKEN=\(given\)"/);
      assert.doesNotMatch(error.message, /s3cr3t/);
      assert.equal(
        recorded.some((r) => r.type === JOB),
        false,
      );
    });

    test("refused: a Secret reference without a valid name or key, or missing", async () => {
      await assertRefused(
        () =>
          construct(mode, "bad-refs", {
            buildSecrets: [
              { name: "A", secretKeyRef: { name: "Not_A_Name", key: "k" } },
              { name: "B", secretKeyRef: { name: "s", key: "a key" } },
              { name: "C" } as BuildSecret,
            ],
          }),
        [
          { field: "buildSecrets[0].secretKeyRef.name", got: '"Not_A_Name"' },
          { field: "buildSecrets[1].secretKeyRef.key", got: '"a key"' },
          { field: "buildSecrets[2].secretKeyRef", got: "nothing", allowed: /a Secret name and key/ },
        ],
      );
    });

    test("refused: a secret whose name is also set in env", async () => {
      await assertRefused(
        () =>
          construct(mode, "secret-and-env", {
            buildSecrets: [SECRETS[0]],
            env: [{ name: "NPM_TOKEN", value: "visible" }],
          }),
        [
          {
            field: "env.name",
            got: '"NPM_TOKEN"',
            allowed: /together with buildSecrets, which sets or reads them/,
          },
        ],
      );
    });

    test("refused on resolution: env given as an Output that sets a secret's name; no Job registered", async () => {
      resetRecord();
      const { error } = await refusedInApply(
        () =>
          construct(mode, "late-env", {
            buildSecrets: [SECRETS[0]],
            env: pulumi.output([{ name: "NPM_TOKEN", value: "visible" }]),
          }).jobName,
      );
      assert.ok(error instanceof InvalidArgumentsError);
      assert.match(
        error.message,
        new RegExp(
          `^${componentName(mode, "late-env")}: invalid env\\.name: got "NPM_TOKEN"; allowed: .*together with buildSecrets`,
        ),
      );
      assert.equal(
        recorded.some((r) => r.type === JOB),
        false,
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Item 4: artifacts out.
// ---------------------------------------------------------------------------------------------

for (const mode of MODES) {
  describe(`artifacts, ${mode}`, () => {
    test("the claim is mounted writable at <srcDir>/out, the working directory Earthly writes under", async () => {
      const { pod, container } = await build(mode, `artifacts-${mode}`, { artifacts: { claimName: CLAIM } });
      assert.equal(container.workingDir, "/workspace");
      assert.deepEqual(
        (pod.volumes as Obj[]).find((v) => v.name === "artifacts"),
        { name: "artifacts", persistentVolumeClaim: { claimName: CLAIM } },
      );
      const mount = mountOf(container, "artifacts");
      // Exactly this: writable (no readOnly), the claim's root.
      assert.deepEqual(mount, { name: "artifacts", mountPath: "/workspace/out" });
      // The workspace stays where it was: .tmp-earthly-out is written there, then outputs copied over.
      assert.deepEqual(mountOf(container, "workspace"), { name: "workspace", mountPath: "/workspace" });
    });

    // `--ci` implies `--no-output`: SAVE ARTIFACT ... AS LOCAL would write nothing, and say nothing.
    const FLAG_CASES: { title: string; flags?: string[]; artifacts: boolean; args: string[] }[] = [
      { title: "artifacts, no flags: as given", artifacts: true, args: [TARGET] },
      {
        title: "artifacts with --ci: --output added",
        flags: ["--ci"],
        artifacts: true,
        args: ["--ci", "--output", TARGET],
      },
      {
        title: "artifacts with -ci (one dash): --output added",
        flags: ["-ci"],
        artifacts: true,
        args: ["-ci", "--output", TARGET],
      },
      {
        title: "artifacts with --ci=true: --output added",
        flags: ["--ci=true"],
        artifacts: true,
        args: ["--ci=true", "--output", TARGET],
      },
      {
        title: "artifacts with --ci=false: as given",
        flags: ["--ci=false"],
        artifacts: true,
        args: ["--ci=false", TARGET],
      },
      {
        title: "artifacts with --ci --output: not doubled",
        flags: ["--ci", "--output"],
        artifacts: true,
        args: ["--ci", "--output", TARGET],
      },
      {
        // The first place: an index 0 is a flag found (a check for "found" as above 0 would miss it).
        title: "artifacts with --output first, then --ci: not doubled",
        flags: ["--output", "--ci"],
        artifacts: true,
        args: ["--output", "--ci", TARGET],
      },
      {
        title: "artifacts with --ci --output=false: --output added",
        flags: ["--ci", "--output=false"],
        artifacts: true,
        args: ["--ci", "--output=false", "--output", TARGET],
      },
      {
        title: "artifacts with --push --ci: --output added after the user's flags",
        flags: ["--push", "--ci"],
        artifacts: true,
        args: ["--push", "--ci", "--output", TARGET],
      },
      {
        title: "no artifacts with --ci: as given",
        flags: ["--ci"],
        artifacts: false,
        args: ["--ci", TARGET],
      },
      {
        title: "no artifacts with --no-output: as given",
        flags: ["--no-output"],
        artifacts: false,
        args: ["--no-output", TARGET],
      },
    ];
    for (const c of FLAG_CASES) {
      test(`flags: ${c.title}`, async () => {
        const { container } = await build(mode, `flags-${mode}`, {
          ...(c.flags ? { flags: c.flags } : {}),
          ...(c.artifacts ? { artifacts: { claimName: CLAIM } } : {}),
        });
        assert.deepEqual(container.args, c.args);
      });
    }

    test("refused: --no-output with artifacts, naming the flag and both fields; the output-mode variables in env", async () => {
      for (const flags of [["--no-output"], ["--push", "-no-output=true"]]) {
        await assertRefused(
          () => construct(mode, "no-output", { flags, artifacts: { claimName: CLAIM } }),
          [
            {
              field: `flags[${flags.length - 1}]`,
              got: JSON.stringify(flags[flags.length - 1]),
              allowed: /together with artifacts/,
            },
          ],
        );
      }
      // Member by member, from a literal copy of the list the code uses.
      const literal = { EARTHLY_CI: "--ci", EARTHLY_OUTPUT: "--output", EARTHLY_NO_OUTPUT: "--no-output" };
      assert.deepEqual(OUTPUT_MODE_ENV, literal);
      for (const [name, flag] of Object.entries(literal)) {
        await assertRefused(
          () => construct(mode, "output-env", { env: [{ name, value: "true" }] }),
          [{ field: "env.name", got: JSON.stringify(name), allowed: new RegExp(`give ${flag} in flags`) }],
        );
      }
    });

    test("the artifacts output says where: claim, subPath, directory and the path in the pod", async () => {
      resetRecord();
      const component = construct(mode, `artifacts-output-${mode}`, {
        srcDir: "/src",
        artifacts: { claimName: CLAIM, subPath: "nightly/42", directory: "dist" },
      });
      assert.deepEqual(await valueOf(component.artifacts), {
        claimName: CLAIM,
        subPath: "nightly/42",
        directory: "dist",
        mountPath: "/src/dist",
      });
      await settle();
      const container = inputsOf(JOB, `artifacts-output-${mode}`).spec.template.spec.containers[0] as Obj;
      assert.deepEqual(mountOf(container, "artifacts"), {
        name: "artifacts",
        mountPath: "/src/dist",
        subPath: "nightly/42",
      });
    });

    test("refused: a directory or subPath leaving its parent, Earthly's own directory, a bad claim name, the source claim", async () => {
      await assertRefused(
        () => construct(mode, "bad-artifacts", { artifacts: { claimName: "Out", directory: "../etc" } }),
        [
          { field: "artifacts.claimName", got: '"Out"' },
          { field: "artifacts.directory", got: '"../etc"', allowed: /without '\.\.'/ },
        ],
      );
      await assertRefused(
        () => construct(mode, "bad-artifacts", { artifacts: { claimName: CLAIM, directory: "/abs" } }),
        [{ field: "artifacts.directory", got: '"/abs"' }],
      );
      await assertRefused(
        () =>
          construct(mode, "bad-artifacts", {
            artifacts: { claimName: CLAIM, directory: ".tmp-earthly-out/x" },
          }),
        [{ field: "artifacts.directory", got: '".tmp-earthly-out/x"', allowed: /not Earthly's/ }],
      );
      await assertRefused(
        () => construct(mode, "bad-artifacts", { artifacts: { claimName: CLAIM, subPath: "a/../../b" } }),
        [{ field: "artifacts.subPath", got: '"a/../../b"' }],
      );
      await assertRefused(
        () => construct(mode, "bad-artifacts", { artifacts: {} as { claimName: string } }),
        [{ field: "artifacts.claimName", got: "nothing" }],
      );
      await assertRefused(
        () =>
          construct(mode, "bad-artifacts", {
            sourceVolume: { persistentVolumeClaimName: CLAIM },
            artifacts: { claimName: CLAIM },
          }),
        [{ field: "artifacts.claimName", got: `"${CLAIM}"`, allowed: /a claim other than sourceVolume's/ }],
      );
    });
  });
}

test("remote client: the claim is written as UID/GID 10001, made writable by fsGroup, root filesystem still read-only", async () => {
  const { pod, container } = await build("remote", "artifacts-client", { artifacts: { claimName: CLAIM } });
  assert.equal(pod.securityContext.runAsUser, 10001);
  assert.equal(pod.securityContext.fsGroup, 10001);
  assert.equal(container.securityContext.readOnlyRootFilesystem, true);
  assert.notEqual(mountOf(container, "artifacts").readOnly, true);
});

// ---------------------------------------------------------------------------------------------
// Item 5: WITH DOCKER. Earthly runs its Docker daemon inside a BuildKit RUN in BuildKit's insecure
// security mode, so only the pod running buildkitd needs privilege; nothing in the specs may take
// any of it away, and no extra daemon or socket is involved.
// ---------------------------------------------------------------------------------------------

/** Asserts a container and pod keep what a privileged buildkitd needs to run dockerd in a RUN. */
function assertBuildkitCanRunDocker(pod: Obj, container: Obj, scratchPath: string): void {
  // The whole privileged context and nothing narrowing it: no capability drop, no seccomp or
  // AppArmor profile, no read-only root, no user namespace, no other runtime.
  assert.deepEqual(container.securityContext, { privileged: true });
  assert.equal(pod.hostUsers, undefined);
  assert.equal(pod.runtimeClassName, undefined);
  assert.equal(pod.securityContext?.seccompProfile, undefined);
  assert.equal(pod.securityContext?.appArmorProfile, undefined);
  // dockerd's data lives in BuildKit's scratch directory, on its own volume.
  assert.ok((container.volumeMounts as Obj[]).some((m) => m.mountPath === scratchPath));
  // No host Docker: neither a socket mount nor DOCKER_HOST.
  assert.equal(
    (pod.volumes as Obj[]).some((v) => v.hostPath !== undefined),
    false,
  );
  assert.equal(envOf(container).DOCKER_HOST, undefined);
}

test("WITH DOCKER, all-in-one: the one container is privileged and runs buildkitd; nothing removes it", async () => {
  const { job, pod, container } = await build("all-in-one", "docker-aio", {});
  assertBuildkitCanRunDocker(pod, container, "/tmp/earthly");
  assert.equal(envOf(container).NO_BUILDKIT, undefined);
  assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, undefined);
  assert.equal(envOf(container).BUILDKIT_HOST, undefined);
  assert.equal(job.spec.template.metadata.annotations, undefined);
});

test("WITH DOCKER, fleet: every daemon is privileged; nothing removes it", async () => {
  const { pod, container, statefulSet } = await buildFleet("docker-fleet", {
    namespace: "earthly",
    insecureDisableTls: true,
  });
  assertBuildkitCanRunDocker(pod, container, "/tmp/earthly");
  const annotations = (statefulSet.spec.template.metadata.annotations ?? {}) as Obj;
  assert.equal(
    Object.keys(annotations).some((k) => k.includes("apparmor")),
    false,
  );
});

test("WITH DOCKER, remote client: needs nothing; it only sends the build to the fleet, whose daemon runs dockerd", async () => {
  const { pod, container } = await build("remote", "docker-client", {});
  assert.equal(envOf(container).NO_BUILDKIT, "1");
  assert.match(envOf(container).EARTHLY_BUILDKIT_HOST, /^tcp:\/\/buildkitd/);
  assert.equal(container.securityContext.privileged, false);
  assert.deepEqual(container.securityContext.capabilities, { drop: ["ALL"] });
  assert.equal(
    (pod.volumes as Obj[]).some((v) => v.hostPath !== undefined),
    false,
  );
  assert.equal(envOf(container).DOCKER_HOST, undefined);
});

test("WITH DOCKER's pulls leave from the buildkitd pod: the egress policy selects the all-in-one pod and the daemons", async () => {
  // All-in-one: the Job's own policy selects its pod, so `egress` governs dockerd's pulls too.
  const { job } = await build("all-in-one", "docker-egress", {
    egress: { internet: false, allowedCidrs: ["10.20.0.15/32"] },
  });
  const policy = inputsOf(NETWORK_POLICY, "docker-egress-network");
  const podLabels = job.spec.template.metadata.labels as Record<string, string>;
  for (const [k, v] of Object.entries(policy.spec.podSelector.matchLabels as Record<string, string>)) {
    assert.equal(podLabels[k], v, `the policy selects the build pod by ${k}`);
  }
  assert.deepEqual(policy.spec.policyTypes, ["Ingress", "Egress"]);
  assert.equal(JSON.stringify(policy.spec.egress).includes("0.0.0.0/0"), false);

  // Remote: the daemons' egress policy selects the daemon pods, where dockerd runs.
  const fleet = await buildFleet("docker-egress-fleet", { namespace: "earthly", insecureDisableTls: true });
  const fleetPolicy = inputsOf(NETWORK_POLICY, "docker-egress-fleet-egress");
  const daemonLabels = fleet.statefulSet.spec.template.metadata.labels as Record<string, string>;
  for (const [k, v] of Object.entries(fleetPolicy.spec.podSelector.matchLabels as Record<string, string>)) {
    assert.equal(daemonLabels[k], v, `the fleet's egress policy selects the daemons by ${k}`);
  }
  assert.ok((fleetPolicy.spec.policyTypes as string[]).includes("Egress"));
});
