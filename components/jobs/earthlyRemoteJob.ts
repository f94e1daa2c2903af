import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { FleetConnectionInputs } from "../fleet/connection";
import {
  EarthlyJobArgs,
  EarthlyJobShape,
  earthlyJobChecks,
  earthlyJobObject,
  jobResources,
  sourceVolumeOf,
} from "./job";
import { EarthlyJobObject, jobPodSelector, newBuildJob, earthlyJobOutputs, warnOnFlags } from "./buildJob";
import {
  ClientSecurity,
  DEFAULT_SRC_DIR,
  EnvVar,
  VolumeChoice,
  VolumeEntry,
  clientSecurityRule,
  distinctDirectories,
  envListRule,
  restrictedPodSecurityContext,
  toKubeVolumeSource,
} from "../pods/pod";
import { Resources, resourceOrderProblems } from "../pods/resources";
import {
  EgressRules,
  NetworkPolicyObject,
  buildPodNetworkPolicy,
  egressRulesRule,
  namespaceNamed,
} from "../pods/network";
import { ephemeralStorageProblems } from "../pods/storage";
import { BUILDKIT_PORT } from "../fleet/names";
import { clientFleetFields, clientFleetRules, clientHostOf, knownFleetChoiceProblems } from "./clientFleet";
import { lift, registeredAfter } from "../values/inputs";
import { EarthlyConfig, renderEarthlyConfig } from "./earthlyConfig";
import { GitCredentials, gitSitesFor } from "./git";
import { ArtifactsLocation } from "./artifacts";
import { exportsImagesLocally, remoteImageOutputWarning, remoteOutputFlags } from "./flags";
import { remoteCacheWarning } from "./remoteCache";
import { Scheduling } from "../pods/scheduling";
import { ExtensibleChecks, checkArgs, knownProblems } from "../validation/checks";
import { PLAIN_INPUTS } from "../validation/plainInputs";
import { containsUnknown } from "../values/inputs";
import { Problem, assertNoProblems } from "../validation/errors";
import { anyValue, printableText } from "../validation/rules";
import { FleetConnection } from "../fleet/connection";
import { envNamesRefusedAs } from "../pods/envNames";

/** Arguments of {@link EarthlyRemoteJob}. */
export interface EarthlyRemoteJobArgs extends EarthlyJobArgs {
  /**
   * Namespace the Job runs in; it must exist. The pod needs no privilege and meets Pod Security
   * `restricted`: label the namespace `pod-security.kubernetes.io/enforce: restricted`.
   */
  namespace: pulumi.Input<string>;
  /** The fleet to build on: a `BuildkitdFleet`'s `connection` output. Give this or `fleets`. */
  fleet?: pulumi.Input<FleetConnection>;
  /**
   * Fleets to choose from, one per architecture (each a `BuildkitdFleet`'s `connection`, the fleet
   * made with `scheduling.architecture`): the client builds on the one on the architecture of
   * `platform`, which is then required. Give this or `fleet`.
   */
  fleets?: pulumi.Input<FleetConnection>[];
  /**
   * Pins builds with this key (e.g. the repository) to one instance, chosen by rendezvous hashing,
   * so they find a warm cache. Without it the client goes through the ClientIP-affine Service.
   */
  cacheKey?: pulumi.Input<string>;
  /** The client certificate (PEM), issued by the fleet's CA with client auth. Required with TLS. */
  clientCertPem?: pulumi.Input<string>;
  /** The client private key (PEM). Required with TLS; kept a secret. */
  clientPrivateKeyPem?: pulumi.Input<string>;
  /** Earthly release tag; defaults to the fleet's, and a different one is refused. */
  earthlyVersion?: string;
  /**
   * Extra environment, e.g. `EARTHLY_TOKEN` from a Secret (not `GLOBAL_CONFIG` or `GIT_CONFIG`: use
   * `earthlyConfig`; not `HOME`: it is the writable home volume).
   */
  env?: pulumi.Input<EnvVar[]>;
  /**
   * Requests and limits (defaults: requests 100m CPU / 256Mi / 1Gi ephemeral storage, limits 1 CPU /
   * 1Gi / 6Gi ephemeral storage). Without an ephemeral-storage limit, the default is raised to the
   * node-disk volumes plus 512Mi; a limit given below the volumes is refused.
   */
  resources?: Resources;
  /** Node selector and tolerations; none needed, the client runs on ordinary nodes. */
  scheduling?: pulumi.Input<Scheduling>;
  /**
   * The user the client runs as (default UID and GID 10001, non-root, read-only root filesystem).
   * Every capability is dropped and privilege escalation is off whatever is set here.
   */
  security?: ClientSecurity;
  /**
   * Where the client may connect (an egress NetworkPolicy; no pod may connect to it in any case).
   * Default: DNS and the fleet's port 8372 only. The daemons fetch sources and images, not the
   * client; set `internet: true` for what the client itself fetches (e.g. Earthly Cloud with
   * `EARTHLY_TOKEN`).
   */
  egress?: EgressRules;
}

/** The component's type token. */
export const EARTHLY_REMOTE_JOB_TYPE = "earthly-kubernetes:index:EarthlyRemoteJob";

/** Defaults for the client container: it only sends the build to the fleet. */
export const CLIENT_DEFAULT_RESOURCES: Resources = {
  requests: { cpu: "100m", memory: "256Mi", ephemeralStorage: "1Gi" },
  // 4Gi workspace + 1Gi /tmp + 256Mi home + 768Mi for logs (the root filesystem is read-only).
  limits: { cpu: "1", memory: "1Gi", ephemeralStorage: "6Gi" },
};

/** Ephemeral storage the client needs beyond its volumes: its logs (the root filesystem is read-only). */
export const CLIENT_STORAGE_HEADROOM = "512Mi";

/**
 * The client's writable directories besides the workspace, each an `emptyDir` of bounded size:
 * `HOME` (Earthly creates `~/.earthly` there) and `/tmp` (where it writes the Earthfile of a
 * remote target, among others). The config directory needs none: the config file is mounted, so
 * the image's entrypoint does not generate one.
 */
export const CLIENT_HOME = "/home/earthly";
/** The variable naming it (refused in `env`: see pods/envNames.ts). */
const CLIENT_HOME_ENV = envNamesRefusedAs("client-home");
export const CLIENT_HOME_SIZE = "256Mi";
export const CLIENT_TMP = "/tmp";
export const CLIENT_TMP_SIZE = "1Gi";

/** Where the client's certificates are mounted, and the files Earthly reads there. */
export const CLIENT_CERT_DIR = "/etc/.earthly/certs";
export const CLIENT_CERT_FILES = {
  ca: "ca_cert.pem",
  cert: "earthly_cert.pem",
  key: "earthly_key.pem",
} as const;
/** Earthly's config file, a documented mount point. */
export const CLIENT_CONFIG_PATH = "/etc/.earthly/config.yml";

/** The common checks, with Earthly's config file written the client way. */
const commonChecks = earthlyJobChecks("client");

/** The checks of every argument, and across arguments (including the version match with the fleet). */
export const remoteJobChecks: ExtensibleChecks<EarthlyRemoteJobArgs> = {
  rules: {
    ...commonChecks.rules,
    cacheKey: printableText,
    // The connections and the client certificate are checked across fields and against the fleet.
    fleet: anyValue,
    fleets: anyValue,
    clientCertPem: anyValue,
    clientPrivateKeyPem: anyValue,
    env: (value, field) => [
      ...envListRule(value, field),
      ...value
        .filter((e) => e.name === "GLOBAL_CONFIG" || CLIENT_HOME_ENV.includes(e.name))
        .map((e) => ({
          field: `${field}.name`,
          value: e.name,
          allowed:
            e.name !== "GLOBAL_CONFIG"
              ? `not HOME: it is ${CLIENT_HOME}, the client's writable home volume`
              : "not GLOBAL_CONFIG here: use earthlyConfig.global",
        })),
    ],
    security: clientSecurityRule,
    egress: egressRulesRule,
  },
  plain: { inputs: PLAIN_INPUTS.EarthlyRemoteJob },
  cross: [
    ...commonChecks.cross,
    {
      reads: ["resources"],
      check: (args) => resourceOrderProblems(CLIENT_DEFAULT_RESOURCES, args.resources),
    },
    {
      reads: ["srcDir"],
      check: (args) => distinctDirectories("srcDir", args.srcDir ?? DEFAULT_SRC_DIR, "home", CLIENT_HOME),
    },
    {
      reads: ["resources", "sourceVolume"],
      check: (args) =>
        ephemeralStorageProblems(
          args.resources,
          [
            { field: "sourceVolume", choice: sourceVolumeOf(args) },
            ...CLIENT_SCRATCH.map((v) => ({ field: v.mount.mountPath as string, choice: v.choice })),
          ],
          jobResources(args, clientShape(args.security)),
        ),
    },
    ...clientFleetRules<EarthlyRemoteJobArgs>(),
  ],
  knownParts: knownFleetChoiceProblems,
};

/** The client's home and temporary volumes (see {@link CLIENT_HOME}). */
const CLIENT_SCRATCH: readonly (VolumeEntry & { choice: VolumeChoice })[] = [
  { name: "earthly-home", path: CLIENT_HOME, size: CLIENT_HOME_SIZE },
  { name: "tmp", path: CLIENT_TMP, size: CLIENT_TMP_SIZE },
].map(({ name, path, size }): VolumeEntry & { choice: VolumeChoice } => {
  const choice: VolumeChoice = { emptyDir: { sizeLimit: size } };
  return { volume: { name, ...toKubeVolumeSource(choice) }, mount: { name, mountPath: path }, choice };
});

/** The client shape's storage and security parts. */
function clientShape(
  security: ClientSecurity | undefined,
): Pick<
  EarthlyJobShape,
  "defaultResources" | "storageHeadroom" | "volumes" | "podSecurityContext" | "readOnlyRootFilesystem"
> {
  return {
    defaultResources: CLIENT_DEFAULT_RESOURCES,
    storageHeadroom: CLIENT_STORAGE_HEADROOM,
    volumes: CLIENT_SCRATCH,
    podSecurityContext: restrictedPodSecurityContext(security),
    readOnlyRootFilesystem: security?.readOnlyRootFilesystem ?? true,
  };
}

/** The labels of every fleet's daemon pods: a client may reach port 8372 of these in its fleet's namespace. */
export const DAEMON_POD_LABELS = {
  "app.kubernetes.io/name": "buildkitd",
  "app.kubernetes.io/part-of": "earthly",
} as const;

/**
 * The client pod's NetworkPolicy: no ingress; egress to DNS and to the daemons' port in the fleet's
 * namespace, plus what `egress` opens. Auto-named; selects the Job's pods by instance and role.
 */
export function clientNetworkPolicy(
  instance: string,
  args: Pick<EarthlyRemoteJobArgs, "namespace" | "egress">,
  fleetNamespace: pulumi.Input<string>,
): NetworkPolicyObject {
  return buildPodNetworkPolicy({
    namespace: args.namespace,
    podSelector: jobPodSelector(instance, "client"),
    egress: args.egress,
    internetByDefault: false,
    requiredEgress: [
      {
        to: [
          {
            namespaceSelector: namespaceNamed(fleetNamespace),
            podSelector: { matchLabels: { ...DAEMON_POD_LABELS } },
          },
        ],
        ports: [{ protocol: "TCP", port: BUILDKIT_PORT }],
      },
    ],
  });
}

/**
 * Earthly's client configuration file, with absolute TLS paths so nothing depends on the config dir,
 * merged with `earthlyConfig` and the Git sites the credentials need.
 */
export function earthlyClientConfig(
  buildkitHost: string,
  tlsEnabled: boolean,
  config: EarthlyConfig = {},
  gitCredentials?: GitCredentials,
): string {
  const own: { [key: string]: string | boolean } = {
    buildkit_host: buildkitHost,
    tls_enabled: tlsEnabled,
    ...(tlsEnabled
      ? {
          tlsca: `${CLIENT_CERT_DIR}/${CLIENT_CERT_FILES.ca}`,
          tlscert: `${CLIENT_CERT_DIR}/${CLIENT_CERT_FILES.cert}`,
          tlskey: `${CLIENT_CERT_DIR}/${CLIENT_CERT_FILES.key}`,
        }
      : {}),
  };
  return renderEarthlyConfig({ own, config, gitSites: gitSitesFor(gitCredentials) });
}

/**
 * The client Job for the arguments and the fleet's fields; `mounted` names the objects mounted into
 * it. An argument or field given as an Output is an Output only at the leaves it feeds (the fleet's
 * CA feeds none: it is in the Secret `certSecretName` names).
 */
export function remoteJobObject(
  instance: string,
  args: EarthlyRemoteJobArgs,
  fleet: FleetConnectionInputs,
  mounted: { configMapName: pulumi.Input<string>; certSecretName: pulumi.Input<string> },
): EarthlyJobObject {
  const certs: VolumeEntry = {
    volume: { name: "earthly-certs", secret: { secretName: mounted.certSecretName, defaultMode: 0o400 } },
    mount: { name: "earthly-certs", mountPath: CLIENT_CERT_DIR, readOnly: true },
  };
  const object = (withCerts: boolean) =>
    earthlyJobObject(args, {
      instance,
      role: "client",
      version: args.earthlyVersion ?? fleet.earthlyVersion,
      privileged: false,
      outputFlags: remoteOutputFlags,
      ...clientShape(args.security),
      env: [
        // NO_BUILDKIT keeps the entrypoint from ever starting a daemon here; it also stops the
        // entrypoint exporting BUILDKIT_HOST to the CLI, so the address goes straight to the CLI's
        // own variable (its --buildkit-host): without Docker or Podman, the CLI ignores the
        // config file's buildkit_host (earthly/earthly#2978).
        { name: "NO_BUILDKIT", value: "1" },
        { name: "EARTHLY_BUILDKIT_HOST", value: clientHostOf(fleet, args.cacheKey) },
        { name: "HOME", value: CLIENT_HOME },
      ],
      extraLabels: fleet.clientLabels,
      volumes: [
        ...CLIENT_SCRATCH,
        {
          volume: { name: "earthly-config", configMap: { name: mounted.configMapName } },
          mount: {
            name: "earthly-config",
            mountPath: CLIENT_CONFIG_PATH,
            subPath: "config.yml",
            readOnly: true,
          },
        },
        ...(withCerts ? [certs] : []),
      ],
    });
  // Whether the fleet uses TLS decides the certificate volume; it is known unless the whole
  // connection is an Output not known yet, and then the Job's spec waits for it.
  if (!containsUnknown(fleet.tlsEnabled)) return object(fleet.tlsEnabled as boolean);
  const tlsEnabled = pulumi.output(fleet.tlsEnabled);
  return {
    ...object(true),
    spec: tlsEnabled.apply((enabled) => pulumi.output(object(enabled).spec)),
  };
}

/**
 * An unprivileged Earthly client Job that builds on a `BuildkitdFleet` fleet over mTLS
 * (`NO_BUILDKIT=1`, `EARTHLY_BUILDKIT_HOST` from the fleet), optionally pinned to one instance by a cache key.
 */
export class EarthlyRemoteJob extends pulumi.ComponentResource {
  /** The Job's name (auto-named from the resource name). */
  public readonly jobName: pulumi.Output<string>;
  /** The namespace the Job runs in. */
  public readonly namespace: pulumi.Output<string>;
  /** The address the client dials (its `EARTHLY_BUILDKIT_HOST`). */
  public readonly buildkitHost: pulumi.Output<string>;
  /**
   * Where the build's local outputs land: the `artifacts` claim, the directory inside it, and the
   * path in the build pod. Unset without `artifacts` (outputs then stay in the source volume).
   */
  public readonly artifacts: pulumi.Output<ArtifactsLocation | undefined>;

  /**
   * What the constructor would refuse in these arguments, among the values known now (an Output is
   * checked when it resolves), without registering anything: for checking a configuration before
   * creating any resource. Empty when the known values pass.
   */
  public static argumentProblems(_name: string, args: EarthlyRemoteJobArgs): Problem[] {
    return knownProblems(args, remoteJobChecks);
  }

  constructor(name: string, args: EarthlyRemoteJobArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `EarthlyRemoteJob "${name}"`;
    const { fields: checked, all: resolved } = checkArgs(component, args, remoteJobChecks);
    super(EARTHLY_REMOTE_JOB_TYPE, name, {}, opts);

    // Certificates and key stay out of every spec: only the Secret below holds them. The fleet is
    // read field by field, so that its CA (unknown until the certificate authority exists, or a
    // secret) reaches that Secret alone, and the ConfigMap and Job show at preview.
    const { clientCertPem, clientPrivateKeyPem } = args;
    const fleet = clientFleetFields(args);
    // Nothing is registered until every argument is checked (an unknown one is checked on deploy).
    const child = { parent: this, dependsOn: registeredAfter(resolved) };
    const host = clientHostOf(fleet, checked.cacheKey);
    const config = new kubernetes.core.v1.ConfigMap(
      `${name}-config`,
      {
        metadata: { namespace: checked.namespace },
        data: {
          "config.yml": lift({ host, tlsEnabled: fleet.tlsEnabled }, (c) =>
            earthlyClientConfig(c.host, c.tlsEnabled, args.earthlyConfig, args.gitCredentials),
          ),
        },
      },
      child,
    );
    const certs = new kubernetes.core.v1.Secret(
      `${name}-certs`,
      {
        metadata: { namespace: checked.namespace },
        type: "Opaque",
        stringData: pulumi.secret(
          pulumi
            .all([fleet.tlsEnabled, fleet.caCertPem, clientCertPem, clientPrivateKeyPem])
            .apply(([tlsEnabled, ca, cert, key]): { [file: string]: string } => {
              // Checked here, where the certificate is known, rather than in the (non-secret) spec.
              assertNoProblems(
                component,
                (["clientCertPem", "clientPrivateKeyPem"] as const)
                  .filter((field) => tlsEnabled && !(field === "clientCertPem" ? cert : key))
                  .map((field) => ({
                    field,
                    value: undefined,
                    allowed: "a PEM value: the fleet requires mTLS",
                  })),
              );
              return tlsEnabled
                ? {
                    [CLIENT_CERT_FILES.ca]: ca,
                    [CLIENT_CERT_FILES.cert]: cert ?? "",
                    [CLIENT_CERT_FILES.key]: key ?? "",
                  }
                : {};
            }),
        ),
      },
      child,
    );
    const object = remoteJobObject(name, checked, fleet, {
      configMapName: config.metadata.name,
      certSecretName: certs.metadata.name,
    });
    const job = newBuildJob(
      name,
      this,
      {
        job: object,
        policy: clientNetworkPolicy(name, checked, fleet.namespace),
        timeoutMinutes: args.timeoutMinutes,
      },
      resolved,
    );
    const artifacts = args.artifacts !== undefined;
    warnOnFlags(this, args.flags, [
      (flags) =>
        exportsImagesLocally([...(flags ?? []), ...remoteOutputFlags(flags, artifacts)])
          ? remoteImageOutputWarning(component, artifacts)
          : undefined,
      (flags) => remoteCacheWarning(component, args.remoteCache, flags),
    ]);
    const outputs = earthlyJobOutputs(job, args);
    ({ jobName: this.jobName, namespace: this.namespace, artifacts: this.artifacts } = outputs);
    this.buildkitHost = pulumi.all([resolved, host]).apply(([, checkedHost]) => checkedHost);
    this.registerOutputs({ ...outputs, buildkitHost: this.buildkitHost });
  }
}
