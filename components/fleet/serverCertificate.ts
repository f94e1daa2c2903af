/**
 * The fleet's server certificate, in the one way `tls` gives it: issued by the fleet from an issuer
 * for exactly the names it serves, ready PEMs whose SANs must cover those names, or an existing
 * Secret the pods mount. What each way needs is checked here, and the material is made here.
 */
import * as pulumi from "@pulumi/pulumi";
import { fieldsOf, lift, registeredAfter } from "../values/inputs";
import {
  CertificateIssuer,
  DEFAULT_CERTIFICATE_VALIDITY_HOURS,
  DEFAULT_EARLY_RENEWAL_HOURS,
  KeyAlgorithm,
  SERVER_ALLOWED_USES,
  issueCertificate,
  issuerRule,
  keyAlgorithmSettings,
  subjectFor,
} from "../tls/issuer";
import { NOT_YET_KNOWN } from "../validation/checks";
import { Problem, Rule, assertNoProblems } from "../validation/errors";
import { anyValue, dnsName, eachOf, ipAddress, objectOf, rfc1123Subdomain } from "../validation/rules";
import { ServerCertificateNames } from "./names";
import { namesNotCoveredBy } from "./objects";

/** An existing Secret in the fleet's namespace with the server certificate, its key and the CA. */
export interface ExistingTlsSecret {
  /** The Secret's name, e.g. a cert-manager `Certificate`'s `secretName`. */
  name: string;
  /** The key holding the CA certificate (default `ca.crt`, as cert-manager writes it). */
  caKey?: string;
  /** The key holding the server certificate (default `tls.crt`). */
  certKey?: string;
  /** The key holding the server private key (default `tls.key`). */
  privateKeyKey?: string;
}

/**
 * The fleet's server certificate, in exactly one of three ways: issued by the fleet from an
 * `issuer` (the usual way: its SANs are then the fleet's own names), given as ready PEMs, or read by
 * the pods from an existing Secret (so no private key passes through Pulumi at all).
 */
export interface FleetTls {
  /**
   * A CA to issue the server certificate from: a `BuildkitCertificateAuthority`'s `issuer`. The fleet
   * creates the key and certificate itself (with the tls provider), covering every name it serves.
   */
  issuer?: pulumi.Input<CertificateIssuer>;
  /** Further DNS names the issued certificate covers, e.g. an external load balancer's. Only with `issuer`. */
  extraDnsNames?: string[];
  /** IP addresses the issued certificate covers, for clients that dial one. Only with `issuer`. */
  extraIpAddresses?: string[];
  /** The CA certificate (PEM) clients trust. With ready PEMs or `existingSecret`; not with `issuer`. */
  caCertPem?: pulumi.Input<string>;
  /** A ready server certificate (PEM); its SANs must cover every Service and instance name. */
  serverCertPem?: pulumi.Input<string>;
  /** The ready certificate's private key (PEM); kept a secret. */
  serverPrivateKeyPem?: pulumi.Input<string>;
  /**
   * An existing Secret the pods mount, e.g. kept by cert-manager; `caCertPem` is then still needed,
   * for the clients. Its certificate must cover the fleet's names (see the remote guide); a renewed
   * certificate takes effect when the pods restart.
   */
  existingSecret?: ExistingTlsSecret;
}

/** The keys the pods read from an existing TLS Secret. */
export function existingSecretKeys(secret: ExistingTlsSecret): { ca: string; cert: string; key: string } {
  return {
    ca: secret.caKey ?? "ca.crt",
    cert: secret.certKey ?? "tls.crt",
    key: secret.privateKeyKey ?? "tls.key",
  };
}

/** What the fleet's TLS Secret holds: the CA certificate, the server certificate and its key. */
interface TlsBundle {
  ca: string;
  cert: string;
  key: string;
}

/** The CA clients trust, and the bundle the fleet writes to its Secret (none for an existing one). */
export interface FleetTlsMaterial {
  caCertPem: pulumi.Output<string>;
  bundle?: pulumi.Output<TlsBundle>;
}

const ISSUER_FIELDS: readonly (keyof CertificateIssuer)[] = [
  "caCertPem",
  "caPrivateKeyPem",
  "keyAlgorithm",
  "organization",
  "certificateValidityHours",
  "earlyRenewalHours",
];

/**
 * The fleet's TLS material in the way `tls` gives it: issued here from an issuer, ready PEMs whose
 * certificate must cover every name a client dials (refused before anything is deployed), or an
 * existing Secret the pods read (then only the CA certificate passes through Pulumi).
 */
export function fleetTlsMaterial(
  parent: pulumi.Resource,
  name: string,
  component: string,
  tls: FleetTls,
  serverNames: ServerCertificateNames,
  checked: pulumi.Output<unknown>,
): FleetTlsMaterial {
  if (tls.issuer !== undefined) {
    const issuer = fieldsOf(tls.issuer, ISSUER_FIELDS);
    const issuerChecked = pulumi.output(tls.issuer).apply((resolved) => {
      assertNoProblems(component, issuerRule(resolved, "tls.issuer"));
      return true;
    });
    const leaf = issueCertificate(
      parent,
      { certPem: issuer.caCertPem, privateKeyPem: issuer.caPrivateKeyPem },
      {
        resourceName: `${name}-server`,
        key: lift(issuer.keyAlgorithm, (algorithm) =>
          keyAlgorithmSettings(algorithm ?? KeyAlgorithm.ECDSA_P256),
        ),
        subject: subjectFor(serverNames.commonName, issuer.organization),
        dnsNames: serverNames.dnsNames,
        ipAddresses: serverNames.ipAddresses,
        allowedUses: SERVER_ALLOWED_USES,
        validityHours: lift(issuer.certificateValidityHours, (h) => h ?? DEFAULT_CERTIFICATE_VALIDITY_HOURS),
        earlyRenewalHours: lift(issuer.earlyRenewalHours, (h) => h ?? DEFAULT_EARLY_RENEWAL_HOURS),
      },
      // Nothing is issued for a refused fleet, nor from an issuer that is not a CA with its key.
      registeredAfter(pulumi.all([checked, issuerChecked])),
    );
    // A CA certificate is public, even when it came inside the (secret) issuer.
    const caCertPem = pulumi.unsecret(pulumi.output(issuer.caCertPem));
    return {
      caCertPem,
      bundle: pulumi
        .all([caCertPem, leaf.certPem, leaf.privateKeyPem])
        .apply(([ca, cert, key]) => ({ ca, cert, key })),
    };
  }
  const caCertPem = pulumi.output(tls.caCertPem ?? "");
  if (tls.existingSecret !== undefined) return { caCertPem };
  // The server certificate must cover every name a client dials; refuse it before it is deployed.
  const bundle = pulumi
    .all([caCertPem, tls.serverCertPem ?? "", tls.serverPrivateKeyPem ?? ""])
    .apply(([ca, cert, key]) => {
      const missing = namesNotCoveredBy(cert, serverNames.dnsNames);
      assertNoProblems(
        component,
        missing.length === 0
          ? []
          : [
              {
                field: "tls.serverCertPem",
                value: `a certificate whose SANs miss ${missing.join(", ")}`,
                allowed: "a server certificate whose SANs cover every Service and instance name",
              },
            ],
      );
      return { ca, cert, key };
    });
  return { caCertPem, bundle };
}

/** A Secret data key: letters, digits, `-`, `_` or `.`. */
const secretDataKey: Rule<string> = (value, field) =>
  typeof value === "string" && /^[-._a-zA-Z0-9]{1,253}$/.test(value)
    ? []
    : [{ field, value, allowed: "a Secret data key: letters, digits, '-', '_' or '.'" }];

const existingSecretRule = objectOf<ExistingTlsSecret>({
  name: rfc1123Subdomain,
  caKey: secretDataKey,
  certKey: secretDataKey,
  privateKeyKey: secretDataKey,
});

/** Whether a field of `tls` is given. */
function given(tls: FleetTls, key: keyof FleetTls): boolean {
  const value = tls[key];
  return value !== undefined && value !== null && value !== "";
}

/** The shape of `tls`: which way the certificate is given is checked across fields, the material once it resolves. */
export const fleetTlsRule: Rule<FleetTls> = objectOf<FleetTls>({
  issuer: anyValue,
  extraDnsNames: anyValue,
  extraIpAddresses: anyValue,
  caCertPem: anyValue,
  serverCertPem: anyValue,
  serverPrivateKeyPem: anyValue,
  existingSecret: anyValue,
});

/** Which way the server certificate is given, and what each way needs (presence only: see the caller). */
export function tlsProblems(insecureDisableTls: boolean | undefined, tls: FleetTls | undefined): Problem[] {
  if (insecureDisableTls === true) {
    return tls !== undefined
      ? [{ field: "tls", value: "(given)", allowed: "no tls together with insecureDisableTls" }]
      : [];
  }
  if (tls === undefined || tls === null) {
    return [
      {
        field: "tls",
        value: undefined,
        allowed:
          "the server certificate: tls.issuer (a BuildkitCertificateAuthority's issuer), ready PEMs or tls.existingSecret (mTLS is on by default; set insecureDisableTls only for throw-away clusters)",
      },
    ];
  }
  // Given as one Output (from another language): checked once it resolves.
  if ((tls as unknown) === NOT_YET_KNOWN) return [];
  const ways = [
    given(tls, "issuer") ? "tls.issuer" : undefined,
    given(tls, "serverCertPem") || given(tls, "serverPrivateKeyPem") ? "tls.serverCertPem" : undefined,
    given(tls, "existingSecret") ? "tls.existingSecret" : undefined,
  ].filter((way): way is string => way !== undefined);
  if (ways.length !== 1) {
    return [
      {
        field: "tls",
        value: ways.length === 0 ? "none of them" : ways.join(" and "),
        allowed:
          "exactly one of tls.issuer, tls.serverCertPem with tls.serverPrivateKeyPem, or tls.existingSecret",
      },
    ];
  }
  const missing = (field: keyof FleetTls, what: string): Problem[] =>
    given(tls, field) ? [] : [{ field: `tls.${field}`, value: undefined, allowed: what }];
  const caForClients = "the CA certificate (PEM) clients trust";
  if (ways[0] === "tls.issuer") {
    return [
      ...(given(tls, "caCertPem")
        ? [
            {
              field: "tls.caCertPem",
              value: "(given)",
              allowed: "nothing with tls.issuer: the issuer's CA is used",
            },
          ]
        : []),
      ...eachOf(dnsName)(tls.extraDnsNames ?? [], "tls.extraDnsNames"),
      ...eachOf(ipAddress)(tls.extraIpAddresses ?? [], "tls.extraIpAddresses"),
    ];
  }
  const extras = (["extraDnsNames", "extraIpAddresses"] as const)
    .filter((field) => given(tls, field))
    .map((field) => ({
      field: `tls.${field}`,
      value: tls[field],
      allowed: "only with tls.issuer (a ready certificate's names are its own)",
    }));
  if (ways[0] === "tls.existingSecret") {
    return [
      ...extras,
      ...missing("caCertPem", `${caForClients}, which signed the Secret's certificate`),
      ...existingSecretRule(tls.existingSecret as ExistingTlsSecret, "tls.existingSecret"),
    ];
  }
  return [
    ...extras,
    ...missing("caCertPem", caForClients),
    ...missing("serverCertPem", "a PEM certificate"),
    ...missing("serverPrivateKeyPem", "the certificate's PEM private key"),
  ];
}
