/**
 * The package's public API: the five components, their argument and output types, the enums their
 * arguments take, the refusal error, and the default Earthly release. Everything else under
 * components/ is internal and may change in any release; test/packaging.test.ts keeps this list
 * deliberate.
 */
export { KindCluster } from "./kind/kindCluster";
export type { KindClusterArgs } from "./kind/kindCluster";
export { IpFamily, KubeProxyMode } from "./kind/kindConfig";
export type { KindNetworking } from "./kind/kindConfig";
export type { KindNode, KindNodeRole } from "./kind/nodes";

export { BuildkitCertificateAuthority } from "./tls/buildkitCertificateAuthority";
export type {
  BuildkitCertificateAuthorityArgs,
  ExistingCa,
  IssuedCertificate,
} from "./tls/buildkitCertificateAuthority";
export { KeyAlgorithm } from "./tls/issuer";
export type { CertificateIssuer } from "./tls/issuer";

export { BuildkitdFleet } from "./fleet/buildkitdFleet";
export type { BuildkitdFleetArgs } from "./fleet/buildkitdFleet";
export type { ExistingTlsSecret, FleetTls } from "./fleet/serverCertificate";
export type { FleetConnection } from "./fleet/connection";
export type { DisruptionBudget, NodeSpread } from "./fleet/objects";
export type { PersistentCache } from "./fleet/cacheVolume";

export { EarthlyAllInOneJob } from "./jobs/earthlyAllInOneJob";
export type { EarthlyAllInOneJobArgs } from "./jobs/earthlyAllInOneJob";
export { EarthlyRemoteJob } from "./jobs/earthlyRemoteJob";
export type { EarthlyRemoteJobArgs } from "./jobs/earthlyRemoteJob";
export type { EarthlyJobArgs } from "./jobs/job";
export type { BuildSecret } from "./jobs/buildSecrets";
export type { ArtifactsLocation, ArtifactsVolume } from "./jobs/artifacts";
export type { RemoteCache } from "./jobs/remoteCache";
export type { EarthlyConfig, EarthlyGitSite } from "./jobs/earthlyConfig";
export type { GitCredentials, GitHttpsCredential, GitSshCredential, KnownHostsSource } from "./jobs/git";
export type { BuildkitRegistry } from "./pods/registries";

export { DEFAULT_EARTHLY_VERSION } from "./pods/images";
export { StorageMedium } from "./pods/pod";
export type { EgressRules } from "./pods/network";
export type {
  ClientSecurity,
  EmptyDirVolume,
  EnvVar,
  EphemeralVolume,
  KeyReference,
  VolumeChoice,
} from "./pods/pod";
export type { ComputeResources, Resources } from "./pods/resources";
export { TaintEffect, TolerationOperator } from "./pods/scheduling";
export type { Scheduling, Taint, Toleration } from "./pods/scheduling";
export type { NodePool } from "./kind/pools";

export { InvalidArgumentsError } from "./validation/errors";
export type { Problem } from "./validation/errors";
