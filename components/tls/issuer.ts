/**
 * How a certificate is issued from a CA: the key algorithms, the key usages of each kind of
 * certificate, and the issuer a `BuildkitCertificateAuthority` hands to a `BuildkitdFleet`, so the
 * fleet issues its own server certificate for exactly the names it serves.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { Problem, Rule } from "../validation/errors";
import { anyValue, integerBetween, objectOf, oneOf, printableText } from "../validation/rules";
import { isUnknown } from "../values/inputs";

/** The algorithm of every private key the component creates. */
export const KeyAlgorithm = {
  /** ECDSA on the NIST P-256 curve (the default): small, fast, accepted by Go's TLS stack. */
  ECDSA_P256: "ECDSA_P256",
  /** RSA with a 2048-bit modulus. */
  RSA_2048: "RSA_2048",
  /** RSA with a 4096-bit modulus. */
  RSA_4096: "RSA_4096",
} as const;
/** The algorithm of every private key the component creates. */
export type KeyAlgorithm = (typeof KeyAlgorithm)[keyof typeof KeyAlgorithm];

/**
 * A CA that issues certificates, with the settings every certificate it issues follows: a
 * `BuildkitCertificateAuthority`'s `issuer` output. A fleet given one issues its own server
 * certificate, whose SANs are then the fleet's own names.
 */
export interface CertificateIssuer {
  /** The CA certificate, PEM. */
  caCertPem: string;
  /** The CA's private key, PEM; kept a secret. */
  caPrivateKeyPem: string;
  /** The algorithm of the keys it creates (default `ECDSA_P256`). */
  keyAlgorithm?: KeyAlgorithm;
  /** The organization (`O`) in the subject of the certificates it issues. */
  organization?: string;
  /** Hours the certificates it issues are valid (default 8760, one year). */
  certificateValidityHours?: number;
  /** Hours before expiry from which `pulumi up --refresh` re-issues a certificate (default 720). */
  earlyRenewalHours?: number;
}

/** The validity of issued certificates when none is given: one year. */
export const DEFAULT_CERTIFICATE_VALIDITY_HOURS = 8760;
/** The early renewal window when none is given: thirty days. */
export const DEFAULT_EARLY_RENEWAL_HOURS = 720;
/** Longest validity accepted anywhere: one hundred years. */
export const MAX_VALIDITY_HOURS = 876_000;
/** X.509's upper bound for a common name or organization (RFC 5280, ub-common-name). */
export const MAX_SUBJECT_FIELD = 64;

/** Key usages of the CA certificate (tls provider spelling). */
export const CA_ALLOWED_USES: readonly string[] = ["cert_signing", "crl_signing", "digital_signature"];
/** Key usages of the server certificate. */
export const SERVER_ALLOWED_USES: readonly string[] = [
  "server_auth",
  "digital_signature",
  "key_encipherment",
];
/** Key usages of each client certificate. */
export const CLIENT_ALLOWED_USES: readonly string[] = [
  "client_auth",
  "digital_signature",
  "key_encipherment",
];

/** The `tls.PrivateKey` inputs for a key algorithm. */
export interface PrivateKeySettings {
  /** `ECDSA` or `RSA`. */
  algorithm: string;
  /** The curve, for ECDSA. */
  ecdsaCurve?: string;
  /** The modulus size, for RSA. */
  rsaBits?: number;
}

/** Maps a {@link KeyAlgorithm} to `tls.PrivateKey` inputs (only the fields that apply are set). */
export function keyAlgorithmSettings(algorithm: KeyAlgorithm): PrivateKeySettings {
  switch (algorithm) {
    case KeyAlgorithm.ECDSA_P256:
      return { algorithm: "ECDSA", ecdsaCurve: "P256" };
    case KeyAlgorithm.RSA_2048:
      return { algorithm: "RSA", rsaBits: 2048 };
    case KeyAlgorithm.RSA_4096:
      return { algorithm: "RSA", rsaBits: 4096 };
    default:
      throw new Error(`unknown key algorithm ${JSON.stringify(algorithm)}`);
  }
}

/** A subject field (CN or O): printable, within X.509's 64 characters. */
export const subjectText: Rule<string> = (value, field) =>
  printableText(value, field).length === 0 && value.length <= MAX_SUBJECT_FIELD
    ? []
    : [{ field, value, allowed: `1-${MAX_SUBJECT_FIELD} characters without control characters` }];

/** Stands in for key material in problems, so an error never prints a private key. */
const REDACTED = "(private key, not shown)";

/**
 * Checks a CA given as PEMs: the certificate parses and is a CA, and the key parses and belongs to
 * it. `certField` and `keyField` name the two fields in the problems.
 */
export function caPemProblems(
  certPem: unknown,
  keyPem: unknown,
  certField: string,
  keyField: string,
): Problem[] {
  let cert: X509Certificate | undefined;
  const problems: Problem[] = [];
  try {
    cert = new X509Certificate(certPem as string);
  } catch {
    // A key pasted into the wrong field must not end up in the message.
    const shown = typeof certPem === "string" && certPem.includes("PRIVATE KEY") ? REDACTED : certPem;
    problems.push({ field: certField, value: shown, allowed: "a PEM X.509 certificate" });
  }
  if (cert && !cert.ca) {
    problems.push({
      field: certField,
      value: cert.subject,
      allowed: "a CA certificate (basic constraints CA:TRUE)",
    });
  }
  try {
    const key = createPrivateKey(keyPem as string);
    if (cert && !cert.checkPrivateKey(key)) {
      problems.push({
        field: keyField,
        value: REDACTED,
        allowed: `the private key of the CA certificate '${cert.subject}'`,
      });
    }
  } catch {
    problems.push({ field: keyField, value: REDACTED, allowed: "a PEM private key" });
  }
  return problems;
}

/** Checks a resolved issuer: its settings, then its CA certificate and key. */
export const issuerRule: Rule<pulumi.Unwrap<CertificateIssuer>> = (value, field) => {
  const settings = objectOf<CertificateIssuer>({
    // The PEMs are checked together below.
    caCertPem: anyValue,
    caPrivateKeyPem: anyValue,
    keyAlgorithm: oneOf(Object.values(KeyAlgorithm)),
    organization: subjectText,
    certificateValidityHours: integerBetween(1, MAX_VALIDITY_HOURS),
    earlyRenewalHours: integerBetween(0, MAX_VALIDITY_HOURS),
  })(value, field);
  if (value === null || typeof value !== "object") return settings;
  return [
    ...settings,
    ...caPemProblems(
      value.caCertPem,
      value.caPrivateKeyPem,
      `${field}.caCertPem`,
      `${field}.caPrivateKeyPem`,
    ),
  ];
};

/** The subject of a certificate: CN, and O when an organization is given. */
export function subjectFor(
  commonName: string,
  organization: pulumi.Input<string | undefined>,
): pulumi.Input<tls.types.input.CertRequestSubject> {
  // Known organizations stay known leaves; one given as an Output becomes the subject's only unknown.
  if (organization === undefined) return { commonName };
  return isUnknown(organization)
    ? pulumi
        .output(organization)
        .apply((o) => (o === undefined ? { commonName } : { commonName, organization: o }))
    : { commonName, organization };
}

/** A CA that signs: its certificate and its (secret) key. */
export interface Signer {
  certPem: pulumi.Input<string>;
  privateKeyPem: pulumi.Input<string>;
}

/** What one leaf certificate needs. */
export interface LeafSpec {
  /** The prefix of the three resources' names. */
  resourceName: string;
  key: pulumi.Input<PrivateKeySettings>;
  subject: pulumi.Input<tls.types.input.CertRequestSubject>;
  dnsNames?: string[];
  ipAddresses?: string[];
  allowedUses: readonly string[];
  validityHours: pulumi.Input<number>;
  earlyRenewalHours: pulumi.Input<number>;
}

/** A certificate and its key, as issued: the key is a secret. */
export interface IssuedLeaf {
  certPem: pulumi.Output<string>;
  privateKeyPem: pulumi.Output<string>;
}

/** A key, a CSR and the certificate the CA signs for it, all children of `parent`. */
export function issueCertificate(
  parent: pulumi.Resource,
  ca: Signer,
  spec: LeafSpec,
  dependsOn?: pulumi.Input<pulumi.Input<pulumi.Resource>[]>,
): IssuedLeaf {
  const opts = { parent, ...(dependsOn ? { dependsOn } : {}) };
  const key = new tls.PrivateKey(
    `${spec.resourceName}-key`,
    {
      algorithm: pulumi.unsecret(pulumi.output(spec.key)).algorithm,
      ...keyShape(spec.key),
    },
    opts,
  );
  const privateKeyPem = pulumi.secret(key.privateKeyPem);
  const request = new tls.CertRequest(
    `${spec.resourceName}-csr`,
    {
      privateKeyPem,
      subject: spec.subject,
      // Omitted rather than empty, so the provider never sees a diff between [] and null.
      ...(spec.dnsNames && spec.dnsNames.length > 0 ? { dnsNames: spec.dnsNames } : {}),
      ...(spec.ipAddresses && spec.ipAddresses.length > 0 ? { ipAddresses: spec.ipAddresses } : {}),
    },
    opts,
  );
  const cert = new tls.LocallySignedCert(
    `${spec.resourceName}-cert`,
    {
      certRequestPem: request.certRequestPem,
      caCertPem: ca.certPem,
      caPrivateKeyPem: pulumi.secret(ca.privateKeyPem),
      allowedUses: [...spec.allowedUses],
      validityPeriodHours: spec.validityHours,
      earlyRenewalHours: spec.earlyRenewalHours,
    },
    opts,
  );
  return { certPem: cert.certPem, privateKeyPem };
}

/** The curve or modulus fields of a key's settings, known when the settings are. */
function keyShape(key: pulumi.Input<PrivateKeySettings>): {
  ecdsaCurve?: pulumi.Input<string>;
  rsaBits?: pulumi.Input<number>;
} {
  if (!isUnknown(key)) {
    return {
      ...(key.ecdsaCurve !== undefined ? { ecdsaCurve: key.ecdsaCurve } : {}),
      ...(key.rsaBits !== undefined ? { rsaBits: key.rsaBits } : {}),
    };
  }
  // A key's shape is no secret, though it may come from a secret issuer: a secret field that
  // resolves to undefined would reach the provider as a secret null; a public one is left unset, as
  // an absent one is.
  const resolved = pulumi.unsecret(pulumi.output(key));
  return {
    ecdsaCurve: resolved.apply((k) => k.ecdsaCurve) as pulumi.Output<string>,
    rsaBits: resolved.apply((k) => k.rsaBits) as pulumi.Output<number>,
  };
}
