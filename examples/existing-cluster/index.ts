/**
 * Earthly on a cluster you already have (e.g. EKS): a CA, a remote buildkitd fleet using it for mTLS,
 * and an unprivileged client Job that builds on the fleet. Everything goes through one explicit
 * Kubernetes provider built from the kubeconfig in this stack's config, never the ambient kubeconfig.
 *
 * In your own project, `npm install earthly-kubernetes` and import from "earthly-kubernetes"; this
 * example imports the repository's sources so that it is type-checked with them.
 */
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { BuildkitCertificateAuthority, EarthlyRemoteJob, BuildkitdFleet } from "../../components";

const config = new pulumi.Config();
const builderNamespace = config.get("builderNamespace") ?? "earthly-builders";
const clientNamespace = config.get("clientNamespace") ?? "earthly-clients";
const replicas = config.getNumber("replicas") ?? 2;
const target = config.get("target") ?? "github.com/earthly/ci-example-project:main+build";
const fleetName = "buildkitd";
const clientName = "ci";

// The cluster's kubeconfig holds credentials (or an exec plugin such as `aws eks get-token`): secret.
const provider = new kubernetes.Provider("cluster", { kubeconfig: config.requireSecret("kubeconfig") });

// Pod Security Admission: the daemons need `privileged`; the clients run under `baseline`.
function namespace(name: string, level: "privileged" | "baseline"): kubernetes.core.v1.Namespace {
  const labels = {
    "pod-security.kubernetes.io/enforce": level,
    "pod-security.kubernetes.io/warn": "baseline",
    "pod-security.kubernetes.io/audit": "baseline",
  };
  return new kubernetes.core.v1.Namespace(name, { metadata: { name, labels } }, { provider });
}
const builders = namespace(builderNamespace, "privileged");
const clients = namespace(clientNamespace, "baseline");

// Pure @pulumi/tls resources: no Kubernetes provider involved. The fleet issues its own server
// certificate from this CA, for exactly the names it serves.
const ca = new BuildkitCertificateAuthority("buildkit-ca", { clients: [clientName] });

const fleet = new BuildkitdFleet(
  fleetName,
  {
    namespace: builderNamespace,
    replicas,
    tls: { issuer: ca.issuer },
    // A PersistentVolumeClaim per instance (the cluster's default StorageClass, e.g. gp3 on EKS).
    persistentCache: { size: "100Gi" },
    clientNamespaces: [clientNamespace],
  },
  { provider, dependsOn: [builders] },
);

const clientCertificate = ca.clientCertificates.apply((certificates) => certificates[clientName]);
const build = new EarthlyRemoteJob(
  "build",
  {
    namespace: clients.metadata.name,
    target,
    flags: ["--ci"],
    fleet: fleet.connection,
    // Builds of one repository go to the same instance, and find its cache warm.
    cacheKey: "github.com/earthly/ci-example-project",
    clientCertPem: clientCertificate.certPem,
    clientPrivateKeyPem: clientCertificate.privateKeyPem,
  },
  { provider },
);

export const buildkitHost = fleet.buildkitHost;
export const instanceHosts = fleet.instanceHosts;
export const jobName = build.jobName;
export const clientBuildkitHost = build.buildkitHost;
