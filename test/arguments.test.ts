/**
 * Every argument of every component, exercised with a non-default value, asserting where the value
 * lands: an environment variable, a mount, a spec field, the kind configuration, Earthly's config
 * file, a Secret. An argument typed `Input` (not `plain` in the schema) is given as an Output too.
 *
 * The first test reads the components' inputs from the schema Pulumi's analyzer infers from the
 * source (as the plugin host serves it) and fails when an input has no case here, when an Input has
 * no Output case, or when a case names an input the schema does not have: a new argument cannot go
 * untested by accident.
 */
import * as pulumi from "@pulumi/pulumi";
import * as YAML from "yaml";
import * as crypto from "node:crypto";
import "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  BuiltFleet,
  BuiltJob,
  CONFIG_MAP,
  FLEET_CONNECTION,
  JOB,
  SECRET,
  buildAllInOne,
  buildFleet,
  buildKind,
  buildRemote,
  envOf,
  mountOf,
  timeoutsOf,
} from "./support/built";
import { Obj, plain } from "./support/values";
import { inputsOf, one } from "./support/recorded";
import { recorded, resetRecord, settle, valueOf } from "./support/mocks";
import { testCa } from "./support/tlsEmulator";
import { fleetNames } from "../components/fleet/names";
import {
  BuildkitCertificateAuthority,
  BuildkitCertificateAuthorityArgs,
} from "../components/tls/buildkitCertificateAuthority";
import { CertificateIssuer } from "../components/tls/issuer";
import { PackageSchema, componentProvider } from "../scripts/schema";
import { EarthlyAllInOneJobArgs } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleetArgs } from "../components/fleet/buildkitdFleet";
import { KindClusterArgs } from "../components/kind/kindCluster";
import { FleetConnection } from "../components/fleet/connection";

/** An issuer from a CA made outside the components (resolved once the CA is made). */
const TEST_ISSUER: pulumi.Output<CertificateIssuer> = pulumi.output(
  testCa().then((ca) => ({ caCertPem: ca.certPem, caPrivateKeyPem: ca.keyPem })),
);

// ---------------------------------------------------------------------------------------------
// The table's shape.
// ---------------------------------------------------------------------------------------------

/** One non-default value of one input, and where it must land. */
interface Case<A, B> {
  /** The input exercised (its name in the schema). */
  input: keyof A & string;
  /** The value, in words, for the test's title. */
  title: string;
  /** The arguments over the component's base ones; `input` among them. */
  args: Partial<A>;
  /** The input is an `Input`: run the case again with its value given as an Output. */
  alsoAsOutput?: boolean;
  /** Asserts where the value landed. */
  check: (built: B) => void | Promise<void>;
}

/** A component: how to build it, its required arguments, and its cases. */
interface Table<A, B> {
  component: string;
  base: A;
  build: (name: string, args: A) => Promise<B>;
  cases: Case<A, B>[];
}

/** A case with its types erased, ready to run. */
interface Runnable {
  component: string;
  input: string;
  title: string;
  alsoAsOutput: boolean;
  run: (resourceName: string, asOutput: boolean) => Promise<void>;
}

function runnable<A, B>(table: Table<A, B>): Runnable[] {
  return table.cases.map((c) => ({
    component: table.component,
    input: c.input,
    title: c.title,
    alsoAsOutput: c.alsoAsOutput === true,
    run: async (resourceName, asOutput) => {
      const args = { ...table.base, ...c.args } as A;
      if (asOutput) (args as Record<string, unknown>)[c.input] = pulumi.output(args[c.input]);
      await c.check(await table.build(resourceName, args));
    },
  }));
}

// ---------------------------------------------------------------------------------------------
// The two Earthly Jobs: the arguments they share.
// ---------------------------------------------------------------------------------------------

const TARGET = "+build";
const SCHEDULING = {
  nodeSelector: { "earthly-kubernetes/pool": "builders" },
  tolerations: [
    { key: "earthly.dev/builder", operator: "Equal" as const, value: "true", effect: "NoSchedule" as const },
  ],
};
// The ephemeral-storage limit covers the node-disk volumes (a smaller one is refused).
const FULL_RESOURCES = {
  requests: { cpu: "1", memory: "2Gi", ephemeralStorage: "12Gi" },
  limits: { cpu: "3", memory: "6Gi", ephemeralStorage: "64Gi" },
};
const KUBE_FULL_RESOURCES = {
  requests: { cpu: "1", memory: "2Gi", "ephemeral-storage": "12Gi" },
  limits: { cpu: "3", memory: "6Gi", "ephemeral-storage": "64Gi" },
};
const DIGEST = `sha256:${"0123456789abcdef".repeat(4)}`;
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const DNS_EGRESS = {
  ports: [
    { protocol: "UDP", port: 53 },
    { protocol: "TCP", port: 53 },
  ],
};
const USER_ENV = [
  { name: "EARTHLY_TOKEN", secretKeyRef: { name: "earthly", key: "token" } },
  { name: "EARTHLY_ORG", configMapKeyRef: { name: "earthly", key: "org", optional: true } },
  { name: "FORCE_COLOR", value: "1" },
];
const KUBE_USER_ENV = [
  { name: "EARTHLY_TOKEN", valueFrom: { secretKeyRef: { name: "earthly", key: "token" } } },
  { name: "EARTHLY_ORG", valueFrom: { configMapKeyRef: { name: "earthly", key: "org", optional: true } } },
  { name: "FORCE_COLOR", value: "1" },
];

/**
 * The cases of the pod arguments every workload takes (both Jobs and the fleet): user env after the
 * package's variables, resources, and scheduling, asserted on the built container and pod.
 */
function podCases<A, B extends { container: Obj; pod: Obj }>(): Case<A, B>[] {
  const cases: Case<
    { env?: unknown; resources?: unknown; scheduling?: unknown },
    { container: Obj; pod: Obj }
  >[] = [
    {
      input: "env",
      title: "a Secret key, a ConfigMap key and a literal, after the package's variables",
      args: { env: USER_ENV },
      alsoAsOutput: true,
      check: ({ container }) => assert.deepEqual((container.env as Obj[]).slice(-3), KUBE_USER_ENV),
    },
    {
      input: "resources",
      title: "every request and limit",
      args: { resources: FULL_RESOURCES },
      check: ({ container }) => assert.deepEqual(container.resources, KUBE_FULL_RESOURCES),
    },
    {
      input: "scheduling",
      title: "a pool's nodeSelector and toleration",
      args: { scheduling: SCHEDULING },
      alsoAsOutput: true,
      check: ({ pod }) => {
        assert.deepEqual(pod.nodeSelector, SCHEDULING.nodeSelector);
        assert.deepEqual(pod.tolerations, SCHEDULING.tolerations);
      },
    },
  ];
  return cases as unknown as Case<A, B>[];
}

/**
 * The cases of the arguments both Jobs take; `jobName` finds the Job's registration (timeouts);
 * `outputFlags` are what the Job adds before the target when the flags leave the output mode unset.
 */
function commonJobCases<A extends EarthlyAllInOneJobArgs | EarthlyRemoteJobArgs>(
  jobName: () => string,
  outputFlags: string[],
): Case<A, BuiltJob>[] {
  const cases: Case<EarthlyAllInOneJobArgs | EarthlyRemoteJobArgs, BuiltJob>[] = [
    {
      input: "namespace",
      title: "ns-two",
      args: { namespace: "ns-two" },
      alsoAsOutput: true,
      check: ({ job }) => assert.equal(job.metadata.namespace, "ns-two"),
    },
    {
      input: "target",
      title: "a remote target",
      args: { target: "github.com/acme/app:main+release" },
      alsoAsOutput: true,
      check: ({ container }) =>
        assert.deepEqual(container.args, [...outputFlags, "github.com/acme/app:main+release"]),
    },
    {
      input: "flags",
      title: "--ci --push, before the target",
      args: { flags: ["--ci", "--push"] },
      alsoAsOutput: true,
      check: ({ container }) => assert.deepEqual(container.args, ["--ci", "--push", TARGET]),
    },
    {
      input: "imageRepository",
      title: "earthbuild/earthbuild",
      args: { imageRepository: "earthbuild/earthbuild" },
      check: ({ container }) => assert.equal(container.image, "earthbuild/earthbuild:v0.8.16"),
    },
    {
      input: "image",
      title: "a custom runner image, labelled version custom",
      args: { image: "registry.example.com/ci/runner:1.2" },
      check: ({ container, job }) => {
        assert.equal(container.image, "registry.example.com/ci/runner:1.2");
        assert.equal(job.spec.template.metadata.labels["app.kubernetes.io/version"], "custom");
      },
    },
    {
      input: "srcDir",
      title: "/src: SRC_DIR, working directory and the workspace mount",
      args: { srcDir: "/src" },
      check: ({ container }) => {
        assert.equal(envOf(container).SRC_DIR, "/src");
        assert.equal(container.workingDir, "/src");
        assert.deepEqual(mountOf(container, "workspace"), { name: "workspace", mountPath: "/src" });
      },
    },
    {
      input: "sourceVolume",
      title: "an existing claim",
      args: { sourceVolume: { persistentVolumeClaimName: "sources" } },
      check: ({ pod }) =>
        assert.deepEqual(
          (pod.volumes as Obj[]).find((v) => v.name === "workspace"),
          { name: "workspace", persistentVolumeClaim: { claimName: "sources" } },
        ),
    },
    ...podCases<EarthlyAllInOneJobArgs | EarthlyRemoteJobArgs, BuiltJob>(),
    {
      input: "backoffLimit",
      title: "4",
      args: { backoffLimit: 4 },
      check: ({ job }) => assert.equal(job.spec.backoffLimit, 4),
    },
    {
      input: "backoffLimit",
      title: "0 (no retry), not the default",
      args: { backoffLimit: 0 },
      check: ({ job }) => assert.equal(job.spec.backoffLimit, 0),
    },
    {
      input: "ttlSecondsAfterFinished",
      title: "3600",
      args: { ttlSecondsAfterFinished: 3600 },
      check: ({ job }) => assert.equal(job.spec.ttlSecondsAfterFinished, 3600),
    },
    {
      input: "ttlSecondsAfterFinished",
      title: "0 (delete at once), not unset",
      args: { ttlSecondsAfterFinished: 0 },
      check: ({ job }) => assert.equal(job.spec.ttlSecondsAfterFinished, 0),
    },
    {
      input: "activeDeadlineSeconds",
      title: "5400",
      args: { activeDeadlineSeconds: 5400 },
      check: ({ job }) => assert.equal(job.spec.activeDeadlineSeconds, 5400),
    },
    {
      input: "timeoutMinutes",
      title: "90: the Job's create and update timeouts",
      args: { timeoutMinutes: 90 },
      check: ({ job }) => {
        assert.deepEqual(timeoutsOf(JOB, jobName()), { create: "90m", update: "90m", delete: "" });
        // Kubernetes ends the Job when Pulumi stops waiting (the provider's clock restarts on every
        // pod change, so it would never stop waiting for a pod stuck in ImagePullBackOff).
        assert.equal(job.spec.activeDeadlineSeconds, 5400);
      },
    },
    {
      input: "timeoutMinutes",
      title: "90 with activeDeadlineSeconds 600: the deadline given is kept",
      args: { timeoutMinutes: 90, activeDeadlineSeconds: 600 },
      check: ({ job }) => assert.equal(job.spec.activeDeadlineSeconds, 600),
    },
    {
      input: "waitForCompletion",
      title: "false: the skipAwait annotation on the Job, and no deadline from timeoutMinutes",
      args: { waitForCompletion: false, timeoutMinutes: 90 },
      check: ({ job }) => {
        assert.deepEqual(job.metadata.annotations, { "pulumi.com/skipAwait": "true" });
        assert.equal("activeDeadlineSeconds" in job.spec, false);
      },
    },
    {
      input: "rebuildTrigger",
      title: "a date: the pod template's annotation",
      args: { rebuildTrigger: "2026-11-28" },
      alsoAsOutput: true,
      check: ({ job }) =>
        assert.deepEqual(job.spec.template.metadata.annotations, {
          "earthly-kubernetes/rebuild-trigger": "2026-11-28",
        }),
    },
    {
      input: "imageDigest",
      title: "a digest: the image pinned by it, the version label unchanged",
      args: { imageDigest: DIGEST },
      check: ({ container, job }) => {
        assert.equal(container.image, `${container.image.split("@")[0]}@${DIGEST}`);
        assert.match(container.image, /^earthly\/earthly:v0\.8\.\d+@sha256:/);
        assert.equal(
          job.metadata.labels["app.kubernetes.io/version"],
          container.image.split(":")[1].split("@")[0],
        );
      },
    },
    {
      input: "labels",
      title: "team=platform on the Job and its pod",
      args: { labels: { team: "platform" } },
      check: ({ job }) => {
        assert.equal(job.metadata.labels.team, "platform");
        assert.equal(job.spec.template.metadata.labels.team, "platform");
      },
    },
    {
      input: "buildSecrets",
      title: "two Secret keys: variables from secretKeyRef, --secret NAME flags before the user's",
      args: {
        flags: ["--ci"],
        buildSecrets: [
          { name: "NPM_TOKEN", secretKeyRef: { name: "build-secrets", key: "npm" } },
          { name: "signing_key", secretKeyRef: { name: "signing", key: "key.pem", optional: true } },
        ],
      },
      check: ({ container }) => {
        assert.deepEqual(container.args, [
          "--secret",
          "NPM_TOKEN",
          "--secret",
          "signing_key",
          "--ci",
          TARGET,
        ]);
        assert.deepEqual(
          (container.env as Obj[]).filter((e) => e.name === "NPM_TOKEN" || e.name === "signing_key"),
          [
            { name: "NPM_TOKEN", valueFrom: { secretKeyRef: { name: "build-secrets", key: "npm" } } },
            {
              name: "signing_key",
              valueFrom: { secretKeyRef: { name: "signing", key: "key.pem", optional: true } },
            },
          ],
        );
      },
    },
    {
      input: "artifacts",
      title: "a claim, a subPath and a directory: mounted under srcDir",
      args: { artifacts: { claimName: "build-out", subPath: "nightly", directory: "dist/bin" } },
      check: ({ pod, container }) => {
        assert.deepEqual(
          (pod.volumes as Obj[]).find((v) => v.name === "artifacts"),
          { name: "artifacts", persistentVolumeClaim: { claimName: "build-out" } },
        );
        assert.deepEqual(mountOf(container, "artifacts"), {
          name: "artifacts",
          mountPath: "/workspace/dist/bin",
          subPath: "nightly",
        });
      },
    },
    {
      input: "earthlyConfig",
      title: "a global setting and a Git site: in the mounted config file, typed",
      args: {
        earthlyConfig: {
          global: { disable_analytics: "true", conversion_parallelism: "4" },
          git: { "git.example.com": { auth: "ssh", user: "git", port: 2222 } },
        },
      },
      check: ({ container }) => {
        const config = YAML.parse(inputsOf(CONFIG_MAP, `${jobName()}-config`).data["config.yml"]);
        assert.equal(config.global.disable_analytics, true);
        assert.equal(config.global.conversion_parallelism, 4);
        assert.deepEqual(config.git, { "git.example.com": { auth: "ssh", port: 2222, user: "git" } });
        assert.deepEqual(mountOf(container, "earthly-config"), {
          name: "earthly-config",
          mountPath: "/etc/.earthly/config.yml",
          subPath: "config.yml",
          readOnly: true,
        });
      },
    },
    {
      input: "gitCredentials",
      title: "an HTTPS token and an SSH key: Secrets mounted 0400, the wrapper, auth per host",
      args: {
        gitCredentials: {
          https: [{ host: "git.example.com", secretName: "git-token" }],
          ssh: {
            hosts: ["github.com"],
            secretName: "git-ssh",
            knownHosts: { configMapName: "known-hosts" },
          },
        },
      },
      check: ({ pod, container }) => {
        assert.deepEqual((container.command as string[]).slice(0, 2), ["/bin/sh", "-c"]);
        assert.equal(envOf(container).NETRC, "/run/earthly-kubernetes/netrc");
        assert.equal(envOf(container).SSH_AUTH_SOCK, "/run/earthly-kubernetes/ssh-agent.sock");
        const volume = (name: string) => (pod.volumes as Obj[]).find((v) => v.name === name);
        assert.equal(volume("git-https-0")?.secret.secretName, "git-token");
        assert.equal(volume("git-https-0")?.secret.defaultMode, 0o400);
        assert.equal(volume("git-ssh")?.secret.secretName, "git-ssh");
        assert.equal(volume("git-known-hosts")?.configMap.name, "known-hosts");
        assert.equal(mountOf(container, "git-known-hosts").mountPath, "/etc/ssh/ssh_known_hosts");
        const config = YAML.parse(inputsOf(CONFIG_MAP, `${jobName()}-config`).data["config.yml"]);
        assert.deepEqual(config.git, {
          "git.example.com": { auth: "https" },
          "github.com": { auth: "ssh", user: "git" },
        });
      },
    },
    {
      input: "remoteCache",
      title: "an image, max: --remote-cache=<image> and --max-remote-cache before the user's flags",
      args: {
        remoteCache: { image: "registry.example.com/acme/app-cache:main", max: true },
        flags: ["--push"],
      },
      check: ({ container }) => {
        const args = container.args as string[];
        assert.deepEqual(args.slice(0, 3), [
          "--remote-cache=registry.example.com/acme/app-cache:main",
          "--max-remote-cache",
          "--push",
        ]);
      },
    },
    {
      input: "hostUsers",
      title: "false: the pod in a user namespace of its own (hostUsers: false in the pod spec)",
      args: { hostUsers: false },
      check: ({ pod }) => assert.equal(pod.hostUsers, false),
    },
    {
      input: "imagePullSecrets",
      title: "two Secrets: the pod's imagePullSecrets",
      args: { imagePullSecrets: ["mirror-pull", "backup-pull"] },
      check: ({ pod }) =>
        assert.deepEqual(pod.imagePullSecrets, [{ name: "mirror-pull" }, { name: "backup-pull" }]),
    },
    {
      input: "dockerConfigSecret",
      title: "a dockerconfigjson Secret: config.json in DOCKER_CONFIG, read-only, 0400",
      args: { dockerConfigSecret: "registry-push" },
      check: ({ pod, container }) => {
        assert.equal(envOf(container).DOCKER_CONFIG, "/etc/earthly-kubernetes/docker");
        assert.deepEqual(
          (pod.volumes as Obj[]).find((v) => v.name === "docker-config"),
          {
            name: "docker-config",
            secret: {
              secretName: "registry-push",
              items: [{ key: ".dockerconfigjson", path: "config.json" }],
              defaultMode: 0o400,
            },
          },
        );
        assert.deepEqual(mountOf(container, "docker-config"), {
          name: "docker-config",
          mountPath: "/etc/earthly-kubernetes/docker",
          readOnly: true,
        });
      },
    },
  ];
  return cases as Case<A, BuiltJob>[];
}

// ---------------------------------------------------------------------------------------------
// EarthlyAllInOneJob.
// ---------------------------------------------------------------------------------------------

let lastResourceName = "";
/** Builds through `build`, remembering the resource name (for the registrations it made). */
function remembering<A, B>(build: (name: string, args: A) => Promise<B>) {
  return (name: string, args: A): Promise<B> => {
    lastResourceName = name;
    return build(name, args);
  };
}

const allInOne: Table<EarthlyAllInOneJobArgs, BuiltJob> = {
  component: "EarthlyAllInOneJob",
  base: { namespace: "builds", target: TARGET },
  build: remembering(buildAllInOne),
  cases: [
    ...commonJobCases<EarthlyAllInOneJobArgs>(() => lastResourceName, []),
    {
      input: "platform",
      title: "linux/arm64: --platform first, and the pod on arm64 nodes beside the given selector",
      args: { platform: "linux/arm64", scheduling: SCHEDULING, flags: ["--ci"] },
      alsoAsOutput: true,
      check: ({ container, pod }) => {
        assert.deepEqual(container.args, ["--platform=linux/arm64", "--ci", TARGET]);
        assert.deepEqual(pod.nodeSelector, { ...SCHEDULING.nodeSelector, "kubernetes.io/arch": "arm64" });
      },
    },
    {
      input: "buildkitRegistries",
      title: "a mirror for docker.io and an insecure HTTP registry: EARTHLY_ADDITIONAL_BUILDKIT_CONFIG",
      args: {
        buildkitRegistries: {
          "docker.io": { mirrors: ["mirror.example.com:5000"] },
          "registry.internal:5000": { http: true, insecure: true },
        },
      },
      check: ({ container }) =>
        assert.equal(
          envOf(container).EARTHLY_ADDITIONAL_BUILDKIT_CONFIG,
          '[registry."docker.io"]\n  mirrors = ["mirror.example.com:5000"]\n\n' +
            '[registry."registry.internal:5000"]\n  http = true\n  insecure = true\n',
        ),
    },
    {
      input: "earthlyVersion",
      title: "v0.8.15: the image tag and the version label",
      args: { earthlyVersion: "v0.8.15" },
      check: ({ container, job }) => {
        assert.equal(container.image, "earthly/earthly:v0.8.15");
        assert.equal(job.metadata.labels["app.kubernetes.io/version"], "v0.8.15");
      },
    },
    {
      input: "earthlyTmpDir",
      title: "/scratch: EARTHLY_TMP_DIR and the scratch mount",
      args: { earthlyTmpDir: "/scratch" },
      check: ({ container }) => {
        assert.equal(envOf(container).EARTHLY_TMP_DIR, "/scratch");
        assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: "/scratch" });
      },
    },
    {
      input: "scratchVolume",
      title: "a tmpfs emptyDir with a size limit",
      args: { scratchVolume: { emptyDir: { medium: "Memory", sizeLimit: "8Gi" } } },
      check: ({ pod }) =>
        assert.deepEqual(
          (pod.volumes as Obj[]).find((v) => v.name === "earthly-tmp"),
          { name: "earthly-tmp", emptyDir: { sizeLimit: "8Gi", medium: "Memory" } },
        ),
    },
    {
      input: "scratchVolume",
      title: "a hostPath",
      args: { scratchVolume: { hostPath: "/mnt/earthly" } },
      check: ({ pod }) =>
        assert.deepEqual(
          (pod.volumes as Obj[]).find((v) => v.name === "earthly-tmp"),
          { name: "earthly-tmp", hostPath: { path: "/mnt/earthly", type: "DirectoryOrCreate" } },
        ),
    },
    {
      input: "cniMtu",
      title: "1440: CNI_MTU",
      args: { cniMtu: 1440 },
      alsoAsOutput: true,
      check: ({ container }) => assert.equal(envOf(container).CNI_MTU, "1440"),
    },
    {
      input: "cacheSizeMb",
      title: "10000: CACHE_SIZE_MB instead of 80% of the scratch volume",
      args: { cacheSizeMb: 10000 },
      check: ({ container }) => assert.equal(envOf(container).CACHE_SIZE_MB, "10000"),
    },
    {
      input: "cacheSizePct",
      title: "50: CACHE_SIZE_PCT, and no derived CACHE_SIZE_MB",
      args: { cacheSizePct: 50 },
      check: ({ container }) => {
        assert.equal(envOf(container).CACHE_SIZE_PCT, "50");
        assert.equal(envOf(container).CACHE_SIZE_MB, undefined);
      },
    },
    {
      input: "egress",
      title: "no internet, one internal registry: the Job's NetworkPolicy",
      args: { egress: { internet: false, allowedCidrs: ["10.20.0.15/32"] } },
      check: () =>
        assert.deepEqual(inputsOf(NETWORK_POLICY, `${lastResourceName}-network`).spec.egress, [
          DNS_EGRESS,
          { to: [{ ipBlock: { cidr: "10.20.0.15/32" } }] },
        ]),
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// EarthlyRemoteJob.
// ---------------------------------------------------------------------------------------------

type BuiltRemote = BuiltJob & { config: Obj; certs: Obj; buildkitHost: string };

const OTHER_FLEET: FleetConnection = {
  fleetName: "other",
  namespace: "builds",
  buildkitHost: "tcp://other.builds.svc.cluster.local:8372",
  instanceNames: ["other-0"],
  instanceHosts: ["other-0.other-instances.builds.svc.cluster.local"],
  earthlyVersion: "v0.8.16",
  tlsEnabled: false,
  caCertPem: "",
  clientLabels: { "earthly-kubernetes/client-of": "other" },
};

const remote: Table<EarthlyRemoteJobArgs, BuiltRemote> = {
  component: "EarthlyRemoteJob",
  base: {
    namespace: "ci",
    target: TARGET,
    fleet: FLEET_CONNECTION,
    clientCertPem: "client certificate",
    clientPrivateKeyPem: "client key",
  },
  build: remembering(buildRemote),
  cases: [
    ...commonJobCases<EarthlyRemoteJobArgs>(() => lastResourceName, ["--no-output"]),
    {
      input: "fleet",
      title: "another fleet, without TLS: its host, its client label, no certificates",
      args: { fleet: OTHER_FLEET },
      alsoAsOutput: true,
      check: ({ container, job, config, buildkitHost }) => {
        assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, "tcp://other.builds.svc.cluster.local:8372");
        assert.equal(buildkitHost, "tcp://other.builds.svc.cluster.local:8372");
        assert.equal(job.spec.template.metadata.labels["earthly-kubernetes/client-of"], "other");
        assert.deepEqual(YAML.parse(config.data["config.yml"]), {
          global: { buildkit_host: "tcp://other.builds.svc.cluster.local:8372", tls_enabled: false },
        });
        const mounts = (container.volumeMounts as Obj[]).map((m) => m.name);
        assert.ok(mounts.includes("earthly-config"));
        assert.equal(mounts.includes("earthly-certs"), false, "no certificates for a fleet without TLS");
      },
    },
    {
      input: "fleets",
      title: "two fleets of different architectures: the one of the platform's, its host and label",
      args: {
        fleet: undefined,
        fleets: [
          { ...FLEET_CONNECTION, architecture: "amd64" },
          { ...OTHER_FLEET, architecture: "arm64" },
        ],
        platform: "linux/arm64",
      },
      check: ({ container, job, buildkitHost }) => {
        assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, "tcp://other.builds.svc.cluster.local:8372");
        assert.equal(buildkitHost, "tcp://other.builds.svc.cluster.local:8372");
        assert.equal(job.spec.template.metadata.labels["earthly-kubernetes/client-of"], "other");
      },
    },
    {
      input: "platform",
      title:
        "linux/amd64 among two fleets: the amd64 one, --platform first, the client's own selector untouched",
      args: {
        fleet: undefined,
        fleets: [
          { ...OTHER_FLEET, architecture: "arm64" },
          { ...FLEET_CONNECTION, architecture: "amd64" },
        ],
        platform: "linux/amd64",
      },
      alsoAsOutput: true,
      check: ({ container, pod, buildkitHost }) => {
        assert.equal(buildkitHost, FLEET_CONNECTION.buildkitHost);
        assert.deepEqual((container.args as string[]).slice(0, 1), ["--platform=linux/amd64"]);
        assert.equal(pod.nodeSelector, undefined);
      },
    },
    {
      input: "cacheKey",
      title: "a repository pinned to buildkitd-2: EARTHLY_BUILDKIT_HOST, the config and the output",
      args: { cacheKey: "github.com/earthly/earthly" },
      alsoAsOutput: true,
      check: ({ container, config, buildkitHost }) => {
        const host = "tcp://buildkitd-2.buildkitd-instances.earthly.svc.cluster.local:8372";
        assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, host);
        assert.equal(YAML.parse(config.data["config.yml"]).global.buildkit_host, host);
        assert.equal(buildkitHost, host);
      },
    },
    {
      input: "clientCertPem",
      title: "the certificate, in the Secret as earthly_cert.pem",
      args: { clientCertPem: "another certificate" },
      alsoAsOutput: true,
      check: ({ certs }) => assert.equal(certs.stringData["earthly_cert.pem"], "another certificate"),
    },
    {
      input: "clientPrivateKeyPem",
      title: "the key, in the Secret as earthly_key.pem, kept secret",
      args: { clientPrivateKeyPem: "another key" },
      alsoAsOutput: true,
      check: ({ certs }) => {
        assert.equal(certs.stringData["earthly_key.pem"], "another key");
        assert.equal(
          pulumi.runtime.isRpcSecret(one(SECRET, `${lastResourceName}-certs`).inputs.stringData),
          true,
        );
      },
    },
    {
      input: "earthlyVersion",
      title: "v0.8.19 with a fleet of v0.8.19: the image tag",
      args: { earthlyVersion: "v0.8.19", fleet: { ...FLEET_CONNECTION, earthlyVersion: "v0.8.19" } },
      check: ({ container }) => assert.equal(container.image, "earthly/earthly:v0.8.19"),
    },
    {
      input: "security",
      title: "UID 2000, GID 3000, a writable root: the pod's and the container's contexts",
      args: { security: { runAsUser: 2000, runAsGroup: 3000, readOnlyRootFilesystem: false } },
      check: ({ pod, container }) => {
        assert.deepEqual(
          [pod.securityContext.runAsUser, pod.securityContext.runAsGroup, pod.securityContext.fsGroup],
          [2000, 3000, 3000],
        );
        assert.equal(container.securityContext.readOnlyRootFilesystem, false);
      },
    },
    {
      input: "egress",
      title: "the internet too: the Job's NetworkPolicy",
      args: { egress: { internet: true } },
      check: () => {
        const egress = inputsOf(NETWORK_POLICY, `${lastResourceName}-network`).spec.egress as Obj[];
        assert.equal(egress.length, 3);
        assert.deepEqual(
          (egress[1].to as Obj[]).map((peer) => peer.ipBlock.cidr),
          ["0.0.0.0/0", "::/0"],
        );
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// BuildkitdFleet.
// ---------------------------------------------------------------------------------------------

const fleet: Table<BuildkitdFleetArgs, BuiltFleet> = {
  component: "BuildkitdFleet",
  base: { namespace: "earthly", fleetName: "buildkitd", insecureDisableTls: true },
  build: remembering(buildFleet),
  cases: [
    {
      input: "buildkitRegistries",
      title: "a mirror for docker.io and an insecure HTTP registry: EARTHLY_ADDITIONAL_BUILDKIT_CONFIG",
      args: {
        buildkitRegistries: {
          "docker.io": { mirrors: ["mirror.example.com:5000"] },
          "registry.internal:5000": { http: true, insecure: true },
        },
      },
      check: ({ container }) =>
        assert.equal(
          envOf(container).EARTHLY_ADDITIONAL_BUILDKIT_CONFIG,
          '[registry."docker.io"]\n  mirrors = ["mirror.example.com:5000"]\n\n' +
            '[registry."registry.internal:5000"]\n  http = true\n  insecure = true\n',
        ),
    },
    {
      input: "hostUsers",
      title: "false: each daemon pod in a user namespace of its own (hostUsers: false in the template)",
      args: { hostUsers: false },
      check: ({ pod }) => assert.equal(pod.hostUsers, false),
    },
    {
      input: "imagePullSecrets",
      title: "one Secret: the daemon pods' imagePullSecrets",
      args: { imagePullSecrets: ["mirror-pull"] },
      check: ({ pod }) => assert.deepEqual(pod.imagePullSecrets, [{ name: "mirror-pull" }]),
    },
    {
      input: "namespace",
      title: "builders: every object, the connection, the default client namespace",
      args: { namespace: "builders" },
      check: ({ statefulSet, service, headless, policy, connection }) => {
        for (const object of [statefulSet, service, headless, policy])
          assert.equal(object.metadata.namespace, "builders");
        assert.equal(connection.namespace, "builders");
        assert.equal(connection.buildkitHost, "tcp://buildkitd.builders.svc.cluster.local:8372");
        assert.deepEqual(policy.spec.ingress[0].from[0].namespaceSelector, {
          matchLabels: { "kubernetes.io/metadata.name": "builders" },
        });
      },
    },
    {
      input: "fleetName",
      title: "bk: the StatefulSet, both Services, the NetworkPolicy, the client label",
      args: { fleetName: "bk" },
      check: ({ statefulSet, service, headless, policy, connection }) => {
        assert.equal(statefulSet.metadata.name, "bk");
        assert.equal(statefulSet.spec.serviceName, "bk-instances");
        assert.equal(service.metadata.name, "bk");
        assert.equal(headless.metadata.name, "bk-instances");
        assert.equal(policy.metadata.name, "bk-clients");
        assert.deepEqual(connection.clientLabels, { "earthly-kubernetes/client-of": "bk" });
        assert.deepEqual(connection.instanceNames, ["bk-0"]);
      },
    },
    {
      input: "replicas",
      title: "3: the StatefulSet and the instances a client may pin to",
      args: { replicas: 3 },
      check: ({ statefulSet, connection }) => {
        assert.equal(statefulSet.spec.replicas, 3);
        assert.deepEqual(connection.instanceNames, ["buildkitd-0", "buildkitd-1", "buildkitd-2"]);
      },
    },
    {
      input: "earthlyVersion",
      title: "v0.8.19: the image, the version label, the connection",
      args: { earthlyVersion: "v0.8.19" },
      check: ({ container, statefulSet, connection }) => {
        assert.equal(container.image, "earthly/buildkitd:v0.8.19");
        assert.equal(statefulSet.metadata.labels["app.kubernetes.io/version"], "v0.8.19");
        assert.equal(connection.earthlyVersion, "v0.8.19");
      },
    },
    {
      input: "imageRepository",
      title: "earthbuild/buildkitd",
      args: { imageRepository: "earthbuild/buildkitd" },
      check: ({ container }) => assert.equal(container.image, "earthbuild/buildkitd:v0.8.16"),
    },
    {
      input: "clusterDomain",
      title: "k8s.internal: the hosts clients dial",
      args: { clusterDomain: "k8s.internal" },
      check: ({ connection }) => {
        assert.equal(connection.buildkitHost, "tcp://buildkitd.earthly.svc.k8s.internal:8372");
        assert.deepEqual(connection.instanceHosts, [
          "buildkitd-0.buildkitd-instances.earthly.svc.k8s.internal",
        ]);
      },
    },
    {
      input: "insecureDisableTls",
      title: "true: BUILDKIT_TLS_ENABLED=false, no TLS Secret or mount, an empty CA",
      args: { insecureDisableTls: true },
      check: ({ container, pod, secret, connection }) => {
        assert.equal(envOf(container).BUILDKIT_TLS_ENABLED, "false");
        assert.deepEqual(
          (container.volumeMounts as Obj[]).map((m) => m.name),
          ["earthly-tmp"],
        );
        assert.deepEqual(
          (pod.volumes as Obj[]).map((v) => v.name),
          ["earthly-tmp"],
        );
        assert.equal(secret, undefined);
        assert.equal(connection.tlsEnabled, false);
        assert.equal(connection.caCertPem, "");
      },
    },
    {
      input: "earthlyTmpDir",
      title: "/cache: EARTHLY_TMP_DIR and the cache mount",
      args: { earthlyTmpDir: "/cache" },
      check: ({ container }) => {
        assert.equal(envOf(container).EARTHLY_TMP_DIR, "/cache");
        assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: "/cache" });
      },
    },
    {
      input: "scratchVolume",
      title: "an ephemeral claim of 20Gi: the volume, and CACHE_SIZE_MB from its size",
      args: { scratchVolume: { ephemeral: { size: "20Gi" } } },
      check: ({ pod, container }) => {
        assert.deepEqual(
          (pod.volumes as Obj[]).find((v) => v.name === "earthly-tmp"),
          {
            name: "earthly-tmp",
            ephemeral: {
              volumeClaimTemplate: {
                spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } },
              },
            },
          },
        );
        assert.equal(envOf(container).CACHE_SIZE_MB, "16384");
      },
    },
    {
      input: "persistentCache",
      title: "40Gi of class fast: one claim per instance, kept on scale-in, CACHE_SIZE_MB from its size",
      args: { persistentCache: { size: "40Gi", storageClassName: "fast" } },
      check: ({ statefulSet, container, pod }) => {
        assert.deepEqual(statefulSet.spec.volumeClaimTemplates, [
          {
            metadata: { name: "earthly-tmp" },
            spec: {
              accessModes: ["ReadWriteOnce"],
              storageClassName: "fast",
              resources: { requests: { storage: "40Gi" } },
            },
          },
        ]);
        assert.deepEqual(statefulSet.spec.persistentVolumeClaimRetentionPolicy, {
          whenDeleted: "Delete",
          whenScaled: "Retain",
        });
        assert.equal(
          (pod.volumes as Obj[] | undefined)?.find((v) => v.name === "earthly-tmp"),
          undefined,
        );
        assert.equal(envOf(container).CACHE_SIZE_MB, "32768");
      },
    },
    {
      input: "cacheSizeMb",
      title: "5000: CACHE_SIZE_MB",
      args: { cacheSizeMb: 5000 },
      check: ({ container }) => assert.equal(envOf(container).CACHE_SIZE_MB, "5000"),
    },
    {
      input: "cacheSizePct",
      title: "60: CACHE_SIZE_PCT",
      args: { cacheSizePct: 60 },
      check: ({ container }) => assert.equal(envOf(container).CACHE_SIZE_PCT, "60"),
    },
    {
      input: "cniMtu",
      title: "1440: CNI_MTU",
      args: { cniMtu: 1440 },
      alsoAsOutput: true,
      check: ({ container }) => assert.equal(envOf(container).CNI_MTU, "1440"),
    },
    ...podCases<BuildkitdFleetArgs, BuiltFleet>(),
    {
      input: "sessionAffinityTimeoutSeconds",
      title: "1800: the Service's ClientIP timeout",
      args: { sessionAffinityTimeoutSeconds: 1800 },
      check: ({ service }) =>
        assert.deepEqual(service.spec.sessionAffinityConfig, { clientIP: { timeoutSeconds: 1800 } }),
    },
    {
      input: "clientNamespaces",
      title: "ci and jobs: labelled clients from each",
      args: { clientNamespaces: ["ci", "jobs"] },
      check: ({ policy }) =>
        assert.deepEqual(
          (policy.spec.ingress[0].from as Obj[]).map((f) => [
            f.namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
            f.podSelector.matchLabels,
          ]),
          [
            ["ci", { "earthly-kubernetes/client-of": "buildkitd" }],
            ["jobs", { "earthly-kubernetes/client-of": "buildkitd" }],
          ],
        ),
    },
    {
      input: "allowedNamespaces",
      title: "monitoring: every pod of it",
      args: { allowedNamespaces: ["monitoring"] },
      check: ({ policy }) =>
        assert.deepEqual(policy.spec.ingress[0].from.slice(1), [
          { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } },
        ]),
    },
    {
      input: "allowedCidrs",
      title: "an IPv4 and an IPv6 block",
      args: { allowedCidrs: ["10.20.0.0/16", "fd00::/8"] },
      check: ({ policy }) =>
        assert.deepEqual(policy.spec.ingress[0].from.slice(1), [
          { ipBlock: { cidr: "10.20.0.0/16" } },
          { ipBlock: { cidr: "fd00::/8" } },
        ]),
    },
    {
      input: "podAnnotations",
      title: "a mesh annotation on the pod template",
      args: { podAnnotations: { "sidecar.istio.io/inject": "false" } },
      check: ({ statefulSet }) =>
        assert.deepEqual(statefulSet.spec.template.metadata.annotations, {
          "sidecar.istio.io/inject": "false",
        }),
    },
    {
      input: "imageDigest",
      title: "a digest: the daemon image pinned by it",
      args: { imageDigest: DIGEST },
      check: ({ container }) => assert.equal(container.image, `earthly/buildkitd:v0.8.16@${DIGEST}`),
    },
    {
      input: "egress",
      title: "a registry namespace: the daemons' egress NetworkPolicy",
      args: { egress: { allowedNamespaces: ["registry"] } },
      check: () => {
        const egress = inputsOf(NETWORK_POLICY, `${lastResourceName}-egress`).spec.egress as Obj[];
        assert.deepEqual(egress[egress.length - 1], {
          to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "registry" } } }],
        });
      },
    },
    {
      input: "disruptionBudget",
      title: "maxUnavailable 2: the PodDisruptionBudget",
      args: { disruptionBudget: { maxUnavailable: 2 } },
      check: () =>
        assert.equal(
          inputsOf("kubernetes:policy/v1:PodDisruptionBudget", `${lastResourceName}-budget`).spec
            .maxUnavailable,
          2,
        ),
    },
    {
      input: "spread",
      title: "required over zones: the topology spread constraint",
      args: { spread: { topologyKey: "topology.kubernetes.io/zone", required: true } },
      check: ({ pod }) =>
        assert.deepEqual(
          (pod.topologySpreadConstraints as Obj[]).map((c) => [c.topologyKey, c.whenUnsatisfiable]),
          [["topology.kubernetes.io/zone", "DoNotSchedule"]],
        ),
    },
    {
      input: "tls",
      title:
        "an issuer and an extra name: the fleet's own certificate covers every instance and lb.example.com",
      args: {
        insecureDisableTls: false,
        tls: { issuer: TEST_ISSUER, extraDnsNames: ["lb.example.com"], extraIpAddresses: ["10.1.2.3"] },
      },
      check: async ({ secret, container, connection }) => {
        assert.ok(secret, "the fleet writes its TLS Secret");
        const cert = new crypto.X509Certificate(secret.stringData["cert.pem"]);
        const ca = (await valueOf(TEST_ISSUER)).caCertPem;
        assert.equal(cert.checkIssued(new crypto.X509Certificate(ca)), true);
        for (const name of [
          ...fleetNames({ fleetName: "buildkitd", namespace: "earthly", replicas: 1 }).dnsNames,
          "lb.example.com",
        ])
          assert.equal(cert.checkHost(name, { subject: "never" }), name);
        assert.equal(cert.checkIP("10.1.2.3"), "10.1.2.3");
        assert.equal(connection.caCertPem, ca);
        assert.ok(container.env.some((e: Obj) => e.name === "BUILDKIT_TLS_ENABLED" && e.value === "true"));
      },
    },
    {
      input: "tls",
      title: "an existing Secret: mounted by its keys, no Secret written",
      args: {
        insecureDisableTls: false,
        tls: {
          caCertPem: "-----BEGIN CERTIFICATE-----\n",
          existingSecret: { name: "cm-tls", certKey: "crt" },
        },
      },
      check: ({ secret, pod, container, connection }) => {
        assert.equal(secret, undefined);
        assert.deepEqual(pod.volumes.find((v: Obj) => v.name === "tls").secret, {
          secretName: "cm-tls",
          defaultMode: 0o400,
        });
        assert.deepEqual(
          container.volumeMounts.filter((m: Obj) => m.name === "tls").map((m: Obj) => m.subPath),
          ["ca.crt", "crt", "tls.key"],
        );
        assert.equal(connection.caCertPem, "-----BEGIN CERTIFICATE-----\n");
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// KindCluster.
// ---------------------------------------------------------------------------------------------

type BuiltKind = Awaited<ReturnType<typeof buildKind>>;

/** The kind configuration the Command hands `kind create cluster`, parsed. */
function kindConfig(built: BuiltKind): Obj {
  return YAML.parse(built.command.stdin) as Obj;
}

const kind: Table<KindClusterArgs, BuiltKind> = {
  component: "KindCluster",
  base: { clusterName: "args" },
  build: buildKind,
  cases: [
    {
      input: "clusterName",
      title: "other: the scripts' KIND_CLUSTER_NAME, the triggers and the kube context",
      args: { clusterName: "other" },
      check: async ({ command, cluster }) => {
        assert.equal(command.environment.KIND_CLUSTER_NAME, "other");
        assert.equal(command.triggers[0], "other");
        assert.equal(await valueOf(cluster.kubeContext), "kind-other");
      },
    },
    {
      input: "nodeImage",
      title: "kindest/node:v1.31.0 on every node",
      args: { nodeImage: "kindest/node:v1.31.0", workerPools: [{ name: "general" }] },
      check: (built) =>
        assert.deepEqual(
          (kindConfig(built).nodes as Obj[]).map((n) => n.image),
          ["kindest/node:v1.31.0", "kindest/node:v1.31.0"],
        ),
    },
    {
      input: "controlPlaneLabels",
      title: "ingress-ready=true on the control plane",
      args: { controlPlaneLabels: { "ingress-ready": "true" } },
      check: (built) => assert.equal(kindConfig(built).nodes[0].labels["ingress-ready"], "true"),
    },
    {
      input: "workerPools",
      title:
        "two tainted builders and a general pool: workers, labels, the taint patch, each pool's scheduling",
      args: {
        workerPools: [
          {
            name: "builders",
            nodes: 2,
            labels: { "earthly.dev/role": "builder" },
            taints: [{ key: "earthly.dev/builder", value: "true", effect: "NoSchedule" }],
          },
          { name: "general" },
        ],
      },
      check: async (built) => {
        const nodes = kindConfig(built).nodes as Obj[];
        assert.equal(nodes.length, 4);
        assert.deepEqual(nodes[3], { role: "worker", labels: { "earthly-kubernetes/pool": "general" } });
        const workers = nodes.slice(1, 3);
        for (const worker of workers) {
          assert.deepEqual(worker.labels, {
            "earthly-kubernetes/pool": "builders",
            "earthly.dev/role": "builder",
          });
          assert.deepEqual(YAML.parse(worker.kubeadmConfigPatches[0]).nodeRegistration.taints, [
            { key: "earthly.dev/builder", value: "true", effect: "NoSchedule" },
          ]);
        }
        assert.deepEqual(await valueOf(built.cluster.poolScheduling), {
          builders: {
            nodeSelector: { "earthly-kubernetes/pool": "builders" },
            tolerations: [
              { key: "earthly.dev/builder", operator: "Equal", value: "true", effect: "NoSchedule" },
            ],
          },
          general: { nodeSelector: { "earthly-kubernetes/pool": "general" }, tolerations: [] },
        });
      },
    },
    {
      input: "waitSeconds",
      title: "300: EK_WAIT_SECONDS",
      args: { waitSeconds: 300 },
      check: ({ command }) => assert.equal(command.environment.EK_WAIT_SECONDS, "300"),
    },
    {
      input: "networking",
      title: "every field, in kind's networking section",
      args: {
        networking: {
          disableDefaultCNI: true,
          podSubnet: "192.168.0.0/16",
          serviceSubnet: "10.96.0.0/16",
          apiServerAddress: "127.0.0.1",
          apiServerPort: 6443,
          kubeProxyMode: "ipvs",
          ipFamily: "dual",
        },
      },
      check: (built) =>
        assert.deepEqual(kindConfig(built).networking, {
          disableDefaultCNI: true,
          podSubnet: "192.168.0.0/16",
          serviceSubnet: "10.96.0.0/16",
          apiServerAddress: "127.0.0.1",
          apiServerPort: 6443,
          kubeProxyMode: "ipvs",
          ipFamily: "dual",
        }),
    },
    {
      input: "adoptExisting",
      title: "true: EK_ADOPT_EXISTING",
      args: { adoptExisting: true },
      check: ({ command }) => assert.equal(command.environment.EK_ADOPT_EXISTING, "true"),
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// BuildkitCertificateAuthority: what it registers, and the issuer it hands a fleet.
// ---------------------------------------------------------------------------------------------

interface BuiltCa {
  issuer: CertificateIssuer;
  clients: { [name: string]: { certPem: string; privateKeyPem: string } };
  /** The inputs of each tls resource, by resource name, secrets unwrapped. */
  tls: { [name: string]: Obj };
}

async function buildCa(name: string, args: BuildkitCertificateAuthorityArgs): Promise<BuiltCa> {
  resetRecord();
  const ca = new BuildkitCertificateAuthority(name, args);
  const [issuer, clients] = await Promise.all([valueOf(ca.issuer), valueOf(ca.clientCertificates)]);
  await settle();
  const tls = Object.fromEntries(
    recorded
      .filter((r) => r.type.startsWith("tls:"))
      .map((r) => [r.name.slice(name.length + 1), plain(r.inputs) as Obj]),
  );
  return { issuer, clients, tls };
}

const certificateAuthority: Table<BuildkitCertificateAuthorityArgs, BuiltCa> = {
  component: "BuildkitCertificateAuthority",
  base: {},
  build: buildCa,
  cases: [
    {
      input: "keyAlgorithm",
      title: "RSA_2048: every key, and the issuer's",
      args: { keyAlgorithm: "RSA_2048" },
      check: ({ tls, issuer, clients }) => {
        assert.deepEqual(tls["ca-key"], { algorithm: "RSA", rsaBits: 2048 });
        assert.deepEqual(tls["client-earthly-key"], { algorithm: "RSA", rsaBits: 2048 });
        assert.equal(issuer.keyAlgorithm, "RSA_2048");
        assert.equal(new crypto.X509Certificate(clients.earthly.certPem).publicKey.asymmetricKeyType, "rsa");
      },
    },
    {
      input: "commonName",
      title: "Team Buildkit CA: the CA certificate's subject",
      args: { commonName: "Team Buildkit CA" },
      check: ({ tls, issuer }) => {
        assert.deepEqual(tls["ca-cert"].subject, { commonName: "Team Buildkit CA" });
        assert.match(new crypto.X509Certificate(issuer.caCertPem).subject, /CN=Team Buildkit CA/);
      },
    },
    {
      input: "organization",
      title: "Example Builds: O of the CA, of each client, and of what the issuer issues",
      args: { organization: "Example Builds" },
      check: ({ tls, issuer, clients }) => {
        assert.deepEqual(tls["ca-cert"].subject, {
          commonName: "earthly-buildkit-ca",
          organization: "Example Builds",
        });
        assert.deepEqual(tls["client-earthly-csr"].subject, {
          commonName: "earthly",
          organization: "Example Builds",
        });
        assert.equal(issuer.organization, "Example Builds");
        assert.match(new crypto.X509Certificate(clients.earthly.certPem).subject, /O=Example Builds/);
      },
    },
    {
      input: "caValidityHours",
      title: "20000: the CA certificate only",
      args: { caValidityHours: 20000 },
      check: ({ tls }) => {
        assert.equal(tls["ca-cert"].validityPeriodHours, 20000);
        assert.equal(tls["client-earthly-cert"].validityPeriodHours, 8760);
      },
    },
    {
      input: "certificateValidityHours",
      title: "2000: each client certificate and the issuer",
      args: { certificateValidityHours: 2000 },
      check: ({ tls, issuer }) => {
        assert.equal(tls["client-earthly-cert"].validityPeriodHours, 2000);
        assert.equal(tls["ca-cert"].validityPeriodHours, 87600);
        assert.equal(issuer.certificateValidityHours, 2000);
      },
    },
    {
      input: "earlyRenewalHours",
      title: "100: the CA, each client certificate and the issuer",
      args: { earlyRenewalHours: 100 },
      check: ({ tls, issuer }) => {
        assert.equal(tls["ca-cert"].earlyRenewalHours, 100);
        assert.equal(tls["client-earthly-cert"].earlyRenewalHours, 100);
        assert.equal(issuer.earlyRenewalHours, 100);
      },
    },
    {
      input: "existingCa",
      title: "a team's CA: no CA created, it signs the clients and is the issuer",
      args: {
        existingCa: {
          certPem: TEST_ISSUER.apply((i) => i.caCertPem),
          privateKeyPem: TEST_ISSUER.apply((i) => i.caPrivateKeyPem),
        },
      },
      check: async ({ tls, issuer }) => {
        const team = await valueOf(TEST_ISSUER);
        assert.equal(tls["ca-key"], undefined);
        assert.equal(tls["ca-cert"], undefined);
        assert.equal(tls["client-earthly-cert"].caCertPem, team.caCertPem);
        assert.equal(tls["client-earthly-cert"].caPrivateKeyPem, team.caPrivateKeyPem);
        assert.equal(issuer.caCertPem, team.caCertPem);
      },
    },
    {
      input: "clients",
      title: "ci and dev: one certificate each, named after the client",
      args: { clients: ["ci", "dev"] },
      check: ({ tls, clients }) => {
        assert.deepEqual(Object.keys(clients), ["ci", "dev"]);
        assert.deepEqual(tls["client-dev-csr"].subject, { commonName: "dev" });
        assert.equal(tls["client-earthly-key"], undefined);
        assert.match(new crypto.X509Certificate(clients.ci.certPem).subject, /CN=ci/);
      },
    },
  ],
};

// ---------------------------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------------------------

const RUNNABLE: Runnable[] = [
  ...runnable(allInOne),
  ...runnable(remote),
  ...runnable(fleet),
  ...runnable(kind),
  ...runnable(certificateAuthority),
];

test("every input in the schema has a non-default case, and every Input a case as an Output", async () => {
  const schema = JSON.parse(await componentProvider().getSchema()) as PackageSchema;
  const problems: string[] = [];
  const components = new Set<string>();
  for (const [token, resource] of Object.entries(schema.resources)) {
    const component = token.split(":")[2];
    components.add(component);
    const inputs = resource.inputProperties;
    for (const [input, property] of Object.entries(inputs)) {
      const cases = RUNNABLE.filter((c) => c.component === component && c.input === input);
      if (cases.length === 0) {
        problems.push(`${component}.${input}: no case with a non-default value`);
      } else if (property.plain !== true && !cases.some((c) => c.alsoAsOutput)) {
        problems.push(`${component}.${input}: an Input, but no case gives it as an Output`);
      }
    }
    for (const c of RUNNABLE.filter((x) => x.component === component && !(x.input in inputs)))
      problems.push(`${component}.${c.input}: a case for an input the schema does not have`);
  }
  for (const component of new Set(RUNNABLE.map((c) => c.component)))
    if (!components.has(component)) problems.push(`${component}: not a component of the schema`);
  assert.deepEqual(problems, []);
});

for (const [i, c] of RUNNABLE.entries()) {
  const resourceName = `args-${i}`;
  test(`${c.component}.${c.input}: ${c.title}`, () => c.run(resourceName, false));
  if (c.alsoAsOutput) {
    test(`${c.component}.${c.input} as an Output: ${c.title}`, () => c.run(`${resourceName}-output`, true));
  }
}

// ---------------------------------------------------------------------------------------------
// Values that must agree across places: EARTHLY_TMP_DIR and the scratch mount, CNI_MTU on every workload, a partial resources override
// ---------------------------------------------------------------------------------------------

const TMP_DIR = "/scratch/earthly-tmp";
const NAMESPACE = "earthly";

/** The pod volume of a name, or undefined. */
function volumeOf(pod: Obj, name: string): Obj | undefined {
  return (pod.volumes as Obj[] | undefined)?.find((v) => v.name === name);
}

/** Nothing is mounted at the default scratch directory. */
function assertNothingAtDefaultTmpDir(container: Obj): void {
  assert.deepEqual(
    (container.volumeMounts as Obj[]).filter((m) => m.mountPath === "/tmp/earthly"),
    [],
    "a volume is mounted at the default /tmp/earthly although EARTHLY_TMP_DIR says otherwise",
  );
}

// ---------------------------------------------------------------------------------------------
// The scratch / cache volume follows EARTHLY_TMP_DIR.
// ---------------------------------------------------------------------------------------------

describe("a non-default earthlyTmpDir: EARTHLY_TMP_DIR and the scratch volume's mount agree", () => {
  test("all-in-one, default emptyDir scratch", async () => {
    const { pod, container } = await buildAllInOne("tmp-aio", {
      namespace: "builds",
      target: "+build",
      earthlyTmpDir: TMP_DIR,
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: TMP_DIR });
    assert.deepEqual(volumeOf(pod, "earthly-tmp"), { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } });
    assertNothingAtDefaultTmpDir(container);
  });

  test("all-in-one, an ephemeral scratch volume", async () => {
    const { pod, container } = await buildAllInOne("tmp-aio-eph", {
      namespace: "builds",
      target: "+build",
      earthlyTmpDir: TMP_DIR,
      scratchVolume: { ephemeral: { size: "40Gi", storageClassName: "fast" } },
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: TMP_DIR });
    assert.deepEqual(volumeOf(pod, "earthly-tmp"), {
      name: "earthly-tmp",
      ephemeral: {
        volumeClaimTemplate: {
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "fast",
            resources: { requests: { storage: "40Gi" } },
          },
        },
      },
    });
    assertNothingAtDefaultTmpDir(container);
  });

  test("fleet without a persistent cache: an emptyDir at the directory", async () => {
    const { pod, container, statefulSet } = await buildFleet("tmp-fleet", {
      namespace: NAMESPACE,
      insecureDisableTls: true,
      earthlyTmpDir: TMP_DIR,
      scratchVolume: { emptyDir: { sizeLimit: "30Gi" } },
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: TMP_DIR });
    assert.deepEqual(volumeOf(pod, "earthly-tmp"), { name: "earthly-tmp", emptyDir: { sizeLimit: "30Gi" } });
    assert.equal(statefulSet.spec.volumeClaimTemplates, undefined);
    assertNothingAtDefaultTmpDir(container);
  });

  test("fleet with a persistent cache: the claim template's volume at the directory", async () => {
    const { pod, container, statefulSet } = await buildFleet("tmp-fleet-pvc", {
      namespace: NAMESPACE,
      insecureDisableTls: true,
      earthlyTmpDir: TMP_DIR,
      persistentCache: { size: "80Gi" },
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    const claims = statefulSet.spec.volumeClaimTemplates as Obj[];
    assert.equal(claims.length, 1);
    assert.deepEqual(mountOf(container, claims[0].metadata.name), {
      name: "earthly-tmp",
      mountPath: TMP_DIR,
    });
    // The claim provides the volume: no pod volume of that name competes with it.
    assert.equal(volumeOf(pod, "earthly-tmp"), undefined);
    assertNothingAtDefaultTmpDir(container);
  });
});

// ---------------------------------------------------------------------------------------------
// The fleet passes cniMtu on.
// ---------------------------------------------------------------------------------------------

describe("the fleet passes a given cniMtu on as CNI_MTU", () => {
  for (const [label, cniMtu] of [
    ["a plain number", 1440],
    ["an Output", pulumi.output(8950)],
  ] as const) {
    test(label, async () => {
      const { container } = await buildFleet(`mtu-${typeof cniMtu === "number" ? "plain" : "output"}`, {
        namespace: NAMESPACE,
        insecureDisableTls: true,
        cniMtu,
      });
      const expected = typeof cniMtu === "number" ? "1440" : "8950";
      assert.deepEqual(
        (container.env as Obj[]).filter((e) => e.name === "CNI_MTU"),
        [{ name: "CNI_MTU", value: expected }],
      );
    });
  }

  test("the all-in-one Job too", async () => {
    const { container } = await buildAllInOne("mtu-aio", {
      namespace: "builds",
      target: "+build",
      cniMtu: pulumi.output(1380),
    });
    assert.equal(envOf(container).CNI_MTU, "1380");
  });
});

// ---------------------------------------------------------------------------------------------
// A partial `resources` override keeps every other default.
// ---------------------------------------------------------------------------------------------

describe("a partial resources override replaces only the fields it gives", () => {
  // The defaults themselves are asserted as literals in defaults.test.ts; here each component's own
  // defaults, as it applies them without `resources`, must survive every field not given. (An
  // ephemeral-storage limit below the node-disk volumes is refused: 60Gi covers each default.)
  const override = { requests: { cpu: "750m" }, limits: { memory: "6Gi", ephemeralStorage: "60Gi" } };

  /** Asserts `given` is `defaults` with the override's fields replaced, and that something was kept. */
  function assertOverrideKeepsDefaults(defaults: Obj, given: Obj): void {
    assert.ok(defaults.requests.memory && defaults.limits.cpu, "the defaults hold fields the override keeps");
    assert.deepEqual(given, {
      requests: { ...defaults.requests, cpu: "750m" },
      limits: { ...defaults.limits, memory: "6Gi", "ephemeral-storage": "60Gi" },
    });
  }

  test("all-in-one", async () => {
    const args = { namespace: "builds", target: "+build" };
    const defaults = (await buildAllInOne("res-aio-default", args)).container.resources;
    const { container } = await buildAllInOne("res-aio", { ...args, resources: override });
    assertOverrideKeepsDefaults(defaults, container.resources);
  });

  test("remote client", async () => {
    const args = {
      namespace: "ci",
      target: "+build",
      fleet: FLEET_CONNECTION,
      clientCertPem: "cert",
      clientPrivateKeyPem: "key",
    };
    const defaults = (await buildRemote("res-remote-default", args)).container.resources;
    const { container } = await buildRemote("res-remote", { ...args, resources: override });
    assertOverrideKeepsDefaults(defaults, container.resources);
  });

  test("fleet", async () => {
    const args = { namespace: NAMESPACE, insecureDisableTls: true };
    const defaults = (await buildFleet("res-fleet-default", args)).container.resources;
    const { container } = await buildFleet("res-fleet", { ...args, resources: override });
    assertOverrideKeepsDefaults(defaults, container.resources);
  });

  test("only limits given: the requests stay the defaults", async () => {
    const args = { namespace: "builds", target: "+build" };
    const defaults = (await buildAllInOne("res-limits-default", args)).container.resources;
    const { container } = await buildAllInOne("res-limits", { ...args, resources: { limits: { cpu: "4" } } });
    assert.deepEqual(container.resources, {
      requests: defaults.requests,
      limits: { ...defaults.limits, cpu: "4" },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Version tags with junk around a valid tag are refused.
// ---------------------------------------------------------------------------------------------
