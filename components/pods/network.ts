/**
 * Where build pods may connect, as NetworkPolicies: no ingress to a build pod, DNS, the internet
 * but not the cluster's own ranges nor link-local (cloud metadata) addresses, and whatever the user
 * opens on top. A NetworkPolicy takes effect only where the cluster's CNI enforces NetworkPolicy.
 * Pure builders: plain values in, typed args out, Outputs only at the leaves an Output feeds.
 */
import type * as kubernetes from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { isIP } from "node:net";
import { Rule } from "../validation/errors";
import { booleanValue, cidr, eachOf, objectOf, rfc1123Label } from "../validation/rules";

/**
 * Where a workload's pods may connect to: an egress NetworkPolicy. Takes effect only where the CNI
 * enforces NetworkPolicy (Calico, Cilium, kind's kindnetd from v0.24, most managed clusters'
 * network-policy options); elsewhere the policy is accepted and ignored.
 */
export interface EgressRules {
  /**
   * Whether egress is restricted at all (default `true`). `false` creates no egress rules: the pods
   * may connect anywhere, the cluster's pods, Services, API server and cloud metadata included.
   */
  restrict?: boolean;
  /**
   * Whether the pods may reach the internet: every address outside `clusterCidrs` and the
   * link-local and metadata addresses. Default `true` for build pods (all-in-one and daemons, which
   * fetch sources and base images), `false` for clients (the daemons fetch; a client only talks to
   * its fleet).
   */
  internet?: boolean;
  /**
   * The cluster's own ranges (pods, Services, nodes), kept out of `internet`. Default: the private
   * ranges `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`, `100.64.0.0/10` and `fc00::/7`, which
   * cover the pod and Service ranges of kind, EKS, GKE and AKS by default. Each needs a prefix length
   * above 0. Link-local `169.254.0.0/16` and `fe80::/10` and the metadata address `fd00:ec2::254` are
   * always kept out.
   */
  clusterCidrs?: string[];
  /**
   * Blocks the pods may reach on any port even inside `clusterCidrs` or link-local, e.g. an internal
   * registry's `10.20.0.15/32` (default none).
   */
  allowedCidrs?: string[];
  /** Namespaces all of whose pods the pods may reach on any port, e.g. an in-cluster registry's (default none). */
  allowedNamespaces?: string[];
}

/** The ranges counted as the cluster's own when `clusterCidrs` is not given. */
export const DEFAULT_CLUSTER_CIDRS: readonly string[] = [
  "10.0.0.0/8",
  "172.16.0.0/12",
  "192.168.0.0/16",
  "100.64.0.0/10",
  "fc00::/7",
];

/**
 * Never reached through the internet rule: link-local (where clouds serve instance metadata and
 * credentials, `169.254.169.254`, and node-local services) and AWS's IPv6 metadata address.
 */
export const LINK_LOCAL_CIDRS: readonly string[] = ["169.254.0.0/16", "fe80::/10", "fd00:ec2::254/128"];

/** The DNS port, reached over UDP and TCP on any address (cluster DNS, or a node-local DNS cache). */
export const DNS_PORT = 53;

/** A CIDR block with a prefix length above 0: one a NetworkPolicy can keep out of `0.0.0.0/0` or `::/0`. */
export const clusterCidr: Rule<string> = (value, field) => {
  const problems = cidr(value, field);
  if (problems.length > 0) return problems;
  return Number(value.split("/")[1]) > 0
    ? []
    : [{ field, value, allowed: "a CIDR block with a prefix length above 0, such as '10.0.0.0/8'" }];
};

/** Checks an {@link EgressRules}. */
export const egressRulesRule: Rule<EgressRules> = objectOf<EgressRules>({
  restrict: booleanValue,
  internet: booleanValue,
  clusterCidrs: eachOf(clusterCidr),
  allowedCidrs: eachOf(cidr),
  allowedNamespaces: eachOf(rfc1123Label),
});

type NetworkPolicyPeer = kubernetes.types.input.networking.v1.NetworkPolicyPeer;
type NetworkPolicyEgressRule = kubernetes.types.input.networking.v1.NetworkPolicyEgressRule;
type NetworkPolicySpec = kubernetes.types.input.networking.v1.NetworkPolicySpec;

/** The `namespaceSelector` that picks one namespace by name. */
export function namespaceNamed(namespace: pulumi.Input<string>): NetworkPolicyPeer["namespaceSelector"] {
  return { matchLabels: { "kubernetes.io/metadata.name": namespace } };
}

/** `0.0.0.0/0` and `::/0`, each except the excluded blocks of its own family. */
export function internetPeers(clusterCidrs: readonly string[]): NetworkPolicyPeer[] {
  const excluded = [...clusterCidrs, ...LINK_LOCAL_CIDRS];
  const family = (block: string) => isIP(block.split("/")[0]);
  return [
    { ipBlock: { cidr: "0.0.0.0/0", except: excluded.filter((b) => family(b) === 4) } },
    { ipBlock: { cidr: "::/0", except: excluded.filter((b) => family(b) === 6) } },
  ];
}

/** DNS over UDP and TCP, to any address. */
export function dnsEgressRule(): NetworkPolicyEgressRule {
  return {
    ports: [
      { protocol: "UDP", port: DNS_PORT },
      { protocol: "TCP", port: DNS_PORT },
    ],
  };
}

/**
 * The egress rules for the user's choices: DNS, the internet when `internet` (default
 * `internetByDefault`), `required` (e.g. a client's fleet), then the allowed blocks and namespaces.
 */
export function egressRules(
  rules: EgressRules | undefined,
  internetByDefault: boolean,
  required: readonly NetworkPolicyEgressRule[] = [],
): NetworkPolicyEgressRule[] {
  const internet = rules?.internet ?? internetByDefault;
  const allowed: NetworkPolicyPeer[] = [
    ...(rules?.allowedCidrs ?? []).map((block) => ({ ipBlock: { cidr: block } })),
    ...(rules?.allowedNamespaces ?? []).map((ns) => ({ namespaceSelector: namespaceNamed(ns) })),
  ];
  return [
    dnsEgressRule(),
    ...(internet ? [{ to: internetPeers(rules?.clusterCidrs ?? DEFAULT_CLUSTER_CIDRS) }] : []),
    ...required,
    ...(allowed.length > 0 ? [{ to: allowed }] : []),
  ];
}

/** A NetworkPolicy's typed args: metadata and spec. */
export interface NetworkPolicyObject {
  apiVersion: "networking.k8s.io/v1";
  kind: "NetworkPolicy";
  metadata: kubernetes.types.input.meta.v1.ObjectMeta;
  spec: NetworkPolicySpec;
}

/**
 * The policy of a build pod: no ingress at all, and, unless `restrict: false`, egress only as
 * {@link egressRules} allows. `name` unset leaves the name to Pulumi's auto-naming.
 */
export function buildPodNetworkPolicy(input: {
  name?: string;
  namespace: pulumi.Input<string>;
  labels?: pulumi.Input<{ [key: string]: string }>;
  podSelector: pulumi.Input<{ [key: string]: string }>;
  egress: EgressRules | undefined;
  internetByDefault: boolean;
  requiredEgress?: readonly NetworkPolicyEgressRule[];
}): NetworkPolicyObject {
  const restrict = input.egress?.restrict ?? true;
  const metadata: kubernetes.types.input.meta.v1.ObjectMeta = { namespace: input.namespace };
  if (input.name !== undefined) metadata.name = input.name;
  if (input.labels !== undefined) metadata.labels = input.labels;
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata,
    spec: restrict
      ? {
          podSelector: { matchLabels: input.podSelector },
          // Ingress listed with no rule: nothing may connect to a build pod.
          policyTypes: ["Ingress", "Egress"],
          egress: egressRules(input.egress, input.internetByDefault, input.requiredEgress),
        }
      : {
          podSelector: { matchLabels: input.podSelector },
          policyTypes: ["Ingress"],
        },
  };
}
