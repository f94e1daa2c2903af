/**
 * The names of a buildkitd fleet: its Services, its instances and every DNS name a client may dial.
 * The fleet uses them both to create its objects and for its server certificate's SANs, so the two
 * can never disagree.
 */
import { Rule } from "../validation/errors";
import { dnsName, rfc1035Label } from "../validation/rules";

/** Longest fleet name: keeps `<fleet>-instances` and the pods' controller-revision labels within 63. */
export const MAX_FLEET_NAME = 40;

/** A fleet name: an RFC 1035 label (Service names must start with a letter) of at most 40 characters. */
export const fleetNameRule: Rule<string> = (value, field) =>
  rfc1035Label(value, field).length === 0 && value.length <= MAX_FLEET_NAME
    ? []
    : [
        {
          field,
          value,
          allowed: `an RFC 1035 label of at most ${MAX_FLEET_NAME} characters: lower-case letters, digits or '-', starting with a letter and ending with a letter or digit`,
        },
      ];

/** The buildkitd gRPC port (Earthly uses 8371-8373; 8372 is buildkitd). */
export const BUILDKIT_PORT = 8372;

/** The default Kubernetes cluster DNS domain. */
export const DEFAULT_CLUSTER_DOMAIN = "cluster.local";

/** A cluster DNS domain: a DNS name, never a wildcard (every name of the fleet ends with it). */
export const clusterDomainRule: Rule<string> = (value, field) =>
  dnsName(value, field).length === 0 && !value.includes("*")
    ? []
    : [{ field, value, allowed: "a DNS domain such as 'cluster.local' (no wildcard)" }];

/** What identifies a fleet's names. */
export interface FleetIdentity {
  /** The fleet's name: the ClusterIP Service and the StatefulSet are called this. */
  fleetName: string;
  /** The namespace the fleet runs in. */
  namespace: string;
  /** How many buildkitd instances the fleet has. */
  replicas: number;
  /** The cluster DNS domain (default `cluster.local`). */
  clusterDomain?: string;
}

/** The names derived from a {@link FleetIdentity}. */
export interface FleetNames {
  /** The ClusterIP Service with ClientIP session affinity. */
  serviceName: string;
  /** The headless Service that gives each instance its own DNS name. */
  headlessServiceName: string;
  /** The StatefulSet. */
  statefulSetName: string;
  /** Pod names, `<statefulSet>-<ordinal>`, in ordinal order. */
  instanceNames: string[];
  /** Fully qualified DNS name of the ClusterIP Service. */
  serviceHost: string;
  /** Fully qualified DNS name of each instance, in ordinal order. */
  instanceHosts: string[];
  /** Every DNS name a client may dial: the Service's four forms and each instance's four forms. */
  dnsNames: string[];
}

/** The four forms a cluster DNS name can be dialled by: `a`, `a.b`, `a.b.svc`, `a.b.svc.<domain>`. */
function serviceForms(first: string, namespace: string, domain: string): string[] {
  return [first, `${first}.${namespace}`, `${first}.${namespace}.svc`, `${first}.${namespace}.svc.${domain}`];
}

/** Computes every name of a fleet. Pure and deterministic. */
export function fleetNames(identity: FleetIdentity): FleetNames {
  const domain = identity.clusterDomain ?? DEFAULT_CLUSTER_DOMAIN;
  const serviceName = identity.fleetName;
  const headlessServiceName = `${identity.fleetName}-instances`;
  const statefulSetName = identity.fleetName;
  const instanceNames = Array.from({ length: identity.replicas }, (_, i) => `${statefulSetName}-${i}`);
  const instanceForms = instanceNames.map((pod) =>
    serviceForms(`${pod}.${headlessServiceName}`, identity.namespace, domain),
  );
  return {
    serviceName,
    headlessServiceName,
    statefulSetName,
    instanceNames,
    serviceHost: `${serviceName}.${identity.namespace}.svc.${domain}`,
    instanceHosts: instanceForms.map((forms) => forms[3]),
    dnsNames: [...serviceForms(serviceName, identity.namespace, domain), ...instanceForms.flat()],
  };
}

/** The `BUILDKIT_HOST` value for a host name. */
export function buildkitHostUrl(host: string): string {
  return `tcp://${host}:${BUILDKIT_PORT}`;
}

/** X.509's upper bound for a common name (RFC 5280, ub-common-name). */
const MAX_COMMON_NAME = 64;

/** The names in a fleet's server certificate. */
export interface ServerCertificateNames {
  /** The subject CN: the Service's FQDN, or the fleet name when the FQDN exceeds 64 characters. */
  commonName: string;
  /** Every DNS name a client may dial, the fleet's first, then the extras; no duplicates. */
  dnsNames: string[];
  /** The IP address SANs, without duplicates. */
  ipAddresses: string[];
}

/** Keeps the first of each value (compared by `key`), in order. */
function distinct(values: readonly string[], key: (value: string) => string = (v) => v): string[] {
  const seen = new Set<string>();
  return values.filter((value) => {
    const k = key(value);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The server certificate's names: the fleet's, then extra names clients dial (a load balancer's).
 * TLS clients check the SANs only; the CN is for people reading the certificate.
 */
export function serverCertificateNames(
  fleetName: string,
  names: FleetNames,
  extraDnsNames: readonly string[] = [],
  extraIpAddresses: readonly string[] = [],
): ServerCertificateNames {
  return {
    commonName: names.serviceHost.length <= MAX_COMMON_NAME ? names.serviceHost : fleetName,
    // DNS names compare case-insensitively; keep the first spelling.
    dnsNames: distinct([...names.dnsNames, ...extraDnsNames], (n) => n.toLowerCase()),
    ipAddresses: distinct(extraIpAddresses),
  };
}
