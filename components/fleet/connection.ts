/**
 * How a client Job reads a fleet connection field by field, so that the fleet's CA (unknown at
 * preview until the certificate authority exists, secret when read from a Secret) reaches only the
 * objects that carry it, and everything else about the fleet stays known and public.
 */
import * as pulumi from "@pulumi/pulumi";
import { InputFields, fieldsOf, recordedFieldsOf } from "../values/inputs";

/** Everything a client needs to reach a fleet. */
export interface FleetConnection {
  /** The fleet's name. */
  fleetName: string;
  /** The fleet's namespace. */
  namespace: string;
  /** `tcp://<service FQDN>:8372`: the ClientIP-affine Service. */
  buildkitHost: string;
  /** Instance (pod) names, in ordinal order; used to pin a cache key to an instance. */
  instanceNames: string[];
  /** Each instance's FQDN behind the headless Service, in the same order. */
  instanceHosts: string[];
  /** The Earthly version the daemons run; clients must use the same. */
  earthlyVersion: string;
  /** Whether the daemons require mTLS. */
  tlsEnabled: boolean;
  /** The CA certificate (PEM) the server certificate chains to; empty without TLS. */
  caCertPem: string;
  /** Labels a client pod must carry to pass the fleet's NetworkPolicy. */
  clientLabels: { [key: string]: string };
  /**
   * The architecture of the fleet's nodes (its `scheduling.architecture`), so a client targeting a
   * platform picks the fleet that builds it natively; unset when the daemons may run on any.
   */
  architecture?: string;
}

/** A fleet connection whose fields may each be an Input. */
export type FleetConnectionInputs = InputFields<FleetConnection>;

export const CONNECTION_FIELDS: readonly (keyof FleetConnection)[] = [
  "fleetName",
  "namespace",
  "buildkitHost",
  "instanceNames",
  "instanceHosts",
  "earthlyVersion",
  "tlsEnabled",
  "caCertPem",
  "clientLabels",
  "architecture",
];

/**
 * The fields of a fleet connection: a fleet's own `connection` field by field; a plain connection as
 * it is; any other Output each field read from it (known, and secret, as that Output is).
 */
export function connectionFieldsOf(fleet: pulumi.Input<FleetConnection>): FleetConnectionInputs {
  return fieldsOf(fleet, CONNECTION_FIELDS);
}

/** The fields of a connection known without waiting for it: a fleet's own, or a plain one's. */
export function recordedConnectionFields(
  fleet: pulumi.Input<FleetConnection>,
): FleetConnectionInputs | undefined {
  return recordedFieldsOf(fleet);
}
