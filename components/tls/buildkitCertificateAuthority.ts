/**
 * The mTLS material of a remote buildkitd fleet: one CA (created here, or a team's own), a server
 * certificate whose SANs cover every name a client may dial, and one client certificate per client.
 *
 * The SANs come from `fleetNames()`, the same function the fleet uses to name its Services and
 * pods, so the certificate and the fleet cannot disagree.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { fleetNameRule, fleetNames } from "../fleet/names";
import { ArgChecks, checkKnownArgs, containsUnknown } from "../validation/checks";
import { Problem, Rule, assertNoProblems } from "../validation/errors";
import {
  dnsName,
  eachOf,
  integerBetween,
  ipAddress,
  objectOf,
  oneOf,
  printableText,
  required,
  uniqueBy,
  rfc1123Label,
} from "../validation/rules";
import { requiredFields } from "../validation/checks";

/** The component's type token. */
export const BUILDKIT_CERTIFICATE_AUTHORITY_TYPE = "earthly-kubernetes:index:BuildkitCertificateAuthority";

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

/** A CA a team already has, used to sign instead of creating one. */
export interface ExistingCa {
  /** The CA certificate, PEM. It must be a CA certificate (basic constraints `CA:TRUE`). */
  certPem: pulumi.Input<string>;
  /** The CA's private key, PEM. It must match `certPem`; the component keeps it secret. */
  privateKeyPem: pulumi.Input<string>;
}

/** What the server certificate must cover: the fleet's names, plus any extra names clients dial. */
export interface ServerCertificateSpec {
  /** The fleet's name (an RFC 1035 label of at most 40 characters), as given to the fleet. */
  fleetName: string;
  /** The namespace the fleet runs in (an RFC 1123 label). */
  namespace: string;
  /** How many buildkitd instances the fleet has (1 to 100); each instance's names are covered. */
  replicas: number;
  /** The cluster DNS domain (default `cluster.local`). */
  clusterDomain?: string;
  /** Further DNS names clients dial, e.g. an external load balancer's name. Appended after the fleet's names. */
  extraDnsNames?: string[];
  /** IP addresses clients dial directly. */
  extraIpAddresses?: string[];
}

/** Arguments of {@link BuildkitCertificateAuthority}. */
export interface BuildkitCertificateAuthorityArgs {
  /** The algorithm of every key the component creates: `ECDSA_P256` (default), `RSA_2048` or `RSA_4096`. */
  keyAlgorithm?: KeyAlgorithm;
  /** The CA certificate's common name (default `earthly-buildkit-ca`). Not with `existingCa`. */
  commonName?: string;
  /** The organization (`O`) in the subject of every certificate the component issues. */
  organization?: string;
  /** Hours the CA certificate is valid (default 87600, ten years). Not with `existingCa`. */
  caValidityHours?: number;
  /** Hours the server and client certificates are valid (default 8760, one year). */
  certificateValidityHours?: number;
  /**
   * Hours before expiry from which `pulumi up` re-issues a certificate (default 720, thirty days);
   * less than `certificateValidityHours`. Re-issuing happens only when `pulumi up` runs in that window.
   */
  earlyRenewalHours?: number;
  /** A CA of the team's own PKI to sign with; then no CA key or certificate is created. */
  existingCa?: ExistingCa;
  /** The fleet the server certificate is for. */
  server: ServerCertificateSpec;
  /** Names of the client certificates to issue, each a unique RFC 1123 label (default `["earthly"]`). */
  clients?: string[];
}

/** A certificate and its private key, both PEM. */
export interface IssuedCertificate {
  /** The certificate, PEM. */
  certPem: string;
  /** The certificate's private key, PEM. */
  privateKeyPem: string;
}

/** The CA's common name when none is given. */
export const DEFAULT_CA_COMMON_NAME = "earthly-buildkit-ca";
/** The CA's validity when none is given: ten years. */
export const DEFAULT_CA_VALIDITY_HOURS = 87600;
/** The server and client certificates' validity when none is given: one year. */
export const DEFAULT_CERTIFICATE_VALIDITY_HOURS = 8760;
/** The early renewal window when none is given: thirty days. */
export const DEFAULT_EARLY_RENEWAL_HOURS = 720;
/** The client certificates issued when none are named. */
export const DEFAULT_CLIENTS: readonly string[] = ["earthly"];

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

/** Longest validity accepted anywhere: one hundred years. */
const MAX_VALIDITY_HOURS = 876_000;
/** X.509's upper bound for a common name or organization (RFC 5280, ub-common-name). */
const MAX_SUBJECT_FIELD = 64;

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

/** The names in the server certificate. */
export interface ServerCertificateNames {
  /** The subject CN: the Service's FQDN, or the fleet name when the FQDN exceeds X.509's 64 characters. */
  commonName: string;
  /** Every DNS name a client may dial, fleet names first, then the extras; no duplicates. */
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

/** The server certificate's names for a spec. Pure and deterministic. */
export function serverCertificateNames(spec: ServerCertificateSpec): ServerCertificateNames {
  const names = fleetNames({
    fleetName: spec.fleetName,
    namespace: spec.namespace,
    replicas: spec.replicas,
    clusterDomain: spec.clusterDomain,
  });
  return {
    commonName: names.serviceHost.length <= MAX_SUBJECT_FIELD ? names.serviceHost : spec.fleetName,
    // DNS names compare case-insensitively; keep the first spelling.
    dnsNames: distinct([...names.dnsNames, ...(spec.extraDnsNames ?? [])], (n) => n.toLowerCase()),
    ipAddresses: distinct(spec.extraIpAddresses ?? []),
  };
}

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

const subjectText: Rule<string> = (value, field) =>
  printableText(value, field).length === 0 && value.length <= MAX_SUBJECT_FIELD
    ? []
    : [{ field, value, allowed: `1-${MAX_SUBJECT_FIELD} characters without control characters` }];

const clusterDomainRule: Rule<string> = (value, field) =>
  dnsName(value, field).length === 0 && !value.startsWith("*")
    ? []
    : [{ field, value, allowed: "a DNS domain such as 'cluster.local' (no wildcard)" }];

/** Checks the server spec; the three identifying fields are required. */
export const serverSpecRule: Rule<ServerCertificateSpec> = (value, field) => {
  const shape = objectOf<ServerCertificateSpec>({
    fleetName: fleetNameRule,
    namespace: rfc1123Label,
    replicas: integerBetween(1, 100),
    clusterDomain: clusterDomainRule,
    extraDnsNames: eachOf(dnsName),
    extraIpAddresses: eachOf(ipAddress),
  })(value, field);
  if (value === null || typeof value !== "object") return shape;
  return [
    ...required(`${field}.fleetName`, value.fleetName, "the fleet's name"),
    ...required(`${field}.namespace`, value.namespace, "the fleet's namespace"),
    ...required(`${field}.replicas`, value.replicas, "the fleet's number of instances"),
    ...shape,
  ];
};

/** Checks client names: RFC 1123 labels, each named once. */
export const clientNamesRule: Rule<string[]> = (value, field) => {
  const labels = eachOf(rfc1123Label)(value, field);
  if (!Array.isArray(value)) return labels;
  return [
    ...labels,
    ...uniqueBy((client: string) => client, "a client name not already listed (names are unique)")(
      value,
      field,
    ),
  ];
};

/** Stands in for key material in problems, so an error never prints a private key. */
const REDACTED = "(private key, not shown)";

/**
 * Checks a resolved existing CA: the certificate parses and is a CA, and the key parses and
 * belongs to it. Runs on literal PEMs in the constructor and again once Outputs resolve.
 */
export const existingCaRule: Rule<pulumi.Unwrap<ExistingCa>> = (value, field) => {
  if (value === null || typeof value !== "object") return [{ field, value, allowed: "an object" }];
  let cert: X509Certificate | undefined;
  const problems: Problem[] = [];
  try {
    cert = new X509Certificate(value.certPem);
  } catch {
    // A key pasted into the wrong field must not end up in the message.
    const shown =
      typeof value.certPem === "string" && value.certPem.includes("PRIVATE KEY") ? REDACTED : value.certPem;
    problems.push({ field: `${field}.certPem`, value: shown, allowed: "a PEM X.509 certificate" });
  }
  if (cert && !cert.ca) {
    problems.push({
      field: `${field}.certPem`,
      value: cert.subject,
      allowed: "a CA certificate (basic constraints CA:TRUE)",
    });
  }
  try {
    const key = createPrivateKey(value.privateKeyPem);
    if (cert && !cert.checkPrivateKey(key)) {
      problems.push({
        field: `${field}.privateKeyPem`,
        value: REDACTED,
        allowed: `the private key of the CA certificate '${cert.subject}'`,
      });
    }
  } catch {
    problems.push({ field: `${field}.privateKeyPem`, value: REDACTED, allowed: "a PEM private key" });
  }
  return problems;
};

/** The checks of every argument, and across arguments. */
export const certificateAuthorityChecks: Required<ArgChecks<BuildkitCertificateAuthorityArgs>> = {
  rules: {
    keyAlgorithm: oneOf(Object.values(KeyAlgorithm)),
    commonName: subjectText,
    organization: subjectText,
    caValidityHours: integerBetween(1, MAX_VALIDITY_HOURS),
    certificateValidityHours: integerBetween(1, MAX_VALIDITY_HOURS),
    earlyRenewalHours: integerBetween(0, MAX_VALIDITY_HOURS),
    existingCa: existingCaRule,
    server: serverSpecRule,
    clients: clientNamesRule,
  },
  cross: [
    requiredFields<BuildkitCertificateAuthorityArgs>({ server: "the fleet the server certificate is for" }),
    {
      reads: ["certificateValidityHours", "earlyRenewalHours"],
      check: (args) => {
        const validity = args.certificateValidityHours ?? DEFAULT_CERTIFICATE_VALIDITY_HOURS;
        const early = args.earlyRenewalHours ?? DEFAULT_EARLY_RENEWAL_HOURS;
        return early >= validity
          ? [
              {
                field: "earlyRenewalHours",
                value: early,
                allowed: `fewer hours than certificateValidityHours (${validity})`,
              },
            ]
          : [];
      },
    },
    // `existingCa` is only tested for presence: its PEMs may still be Outputs.
    {
      reads: ["commonName", "caValidityHours", "certificateValidityHours"],
      check: (args) => {
        if (args.existingCa !== undefined) {
          return (["commonName", "caValidityHours"] as const)
            .filter((field) => args[field] !== undefined)
            .map((field) => ({
              field,
              value: args[field],
              allowed: "nothing when existingCa is given (it is the CA's)",
            }));
        }
        const validity = args.certificateValidityHours ?? DEFAULT_CERTIFICATE_VALIDITY_HOURS;
        const caValidity = args.caValidityHours ?? DEFAULT_CA_VALIDITY_HOURS;
        // A leaf outliving its CA would stop verifying when the CA expires.
        return validity > caValidity
          ? [
              {
                field: "certificateValidityHours",
                value: validity,
                allowed: `at most caValidityHours (${caValidity})`,
              },
            ]
          : [];
      },
    },
  ],
};

/** Everything but `existingCa` is used to decide which resources exist, so it must be known now. */
function plainArgsKnown(args: BuildkitCertificateAuthorityArgs): Problem[] {
  return Object.entries(args).flatMap(([field, value]) =>
    containsUnknown(value)
      ? [
          {
            field,
            value: "an Output or Promise",
            allowed: "a plain value, known when the component is created",
          },
        ]
      : [],
  );
}

/** Runs every check that can run on the arguments as given; throws an InvalidArgumentsError. */
export function validateCertificateAuthorityArgs(
  component: string,
  args: BuildkitCertificateAuthorityArgs,
): void {
  // existingCa may be an Output; nothing else may.
  assertNoProblems(component, plainArgsKnown({ ...args, existingCa: undefined }));
  checkKnownArgs(component, args, certificateAuthorityChecks);
}

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

/** The CA a certificate is signed with. */
interface Signer {
  certPem: pulumi.Output<string>;
  privateKeyPem: pulumi.Output<string>;
}

/** What one leaf certificate needs. */
interface LeafSpec {
  resourceName: string;
  key: PrivateKeySettings;
  subject: tls.types.input.CertRequestSubject;
  dnsNames?: string[];
  ipAddresses?: string[];
  allowedUses: readonly string[];
  validityHours: number;
  earlyRenewalHours: number;
}

/** A key, a CSR and the certificate the CA signs for it. */
function issueCertificate(parent: pulumi.Resource, ca: Signer, spec: LeafSpec): Signer {
  const key = new tls.PrivateKey(`${spec.resourceName}-key`, { ...spec.key }, { parent });
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
    { parent },
  );
  const cert = new tls.LocallySignedCert(
    `${spec.resourceName}-cert`,
    {
      certRequestPem: request.certRequestPem,
      caCertPem: ca.certPem,
      caPrivateKeyPem: ca.privateKeyPem,
      allowedUses: [...spec.allowedUses],
      validityPeriodHours: spec.validityHours,
      earlyRenewalHours: spec.earlyRenewalHours,
    },
    { parent },
  );
  return { certPem: cert.certPem, privateKeyPem };
}

/** The subject of a certificate: CN, and O when an organization is given. */
function subjectFor(
  commonName: string,
  organization: string | undefined,
): tls.types.input.CertRequestSubject {
  return organization === undefined ? { commonName } : { commonName, organization };
}

/**
 * The mTLS material of a remote buildkitd fleet: a CA (or the team's own), a server certificate
 * covering every name of the fleet (its Service and each instance, in all four DNS forms), and client
 * certificates. buildkitd wants the CA, server certificate and key at `/etc/ca.pem`, `/etc/cert.pem`
 * and `/etc/key.pem`; an Earthly client wants the CA and its certificate and key under
 * `/etc/.earthly/certs`.
 */
export class BuildkitCertificateAuthority extends pulumi.ComponentResource {
  /** The CA certificate, PEM: what buildkitd and clients trust. */
  public readonly caCertPem: pulumi.Output<string>;
  /** The server certificate, PEM, for buildkitd's `/etc/cert.pem`. */
  public readonly serverCertPem: pulumi.Output<string>;
  /** The server certificate's private key, PEM (secret), for buildkitd's `/etc/key.pem`. */
  public readonly serverPrivateKeyPem: pulumi.Output<string>;
  /** The DNS names the server certificate covers, in order. */
  public readonly serverDnsNames: pulumi.Output<string[]>;
  /** The client certificates and keys by client name (secret). */
  public readonly clientCertificates: pulumi.Output<{ [name: string]: IssuedCertificate }>;

  constructor(name: string, args: BuildkitCertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `BuildkitCertificateAuthority "${name}"`;
    // Before super(): bad literal arguments must not register anything, not even this component.
    validateCertificateAuthorityArgs(component, args);
    super(BUILDKIT_CERTIFICATE_AUTHORITY_TYPE, name, {}, opts);

    const key = keyAlgorithmSettings(args.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256);
    const validityHours = args.certificateValidityHours ?? DEFAULT_CERTIFICATE_VALIDITY_HOURS;
    const earlyRenewalHours = args.earlyRenewalHours ?? DEFAULT_EARLY_RENEWAL_HOURS;
    const ca = args.existingCa
      ? existingSigner(component, args.existingCa)
      : createCa(this, name, key, args, earlyRenewalHours);

    const names = serverCertificateNames(args.server);
    const server = issueCertificate(this, ca, {
      resourceName: `${name}-server`,
      key,
      subject: subjectFor(names.commonName, args.organization),
      dnsNames: names.dnsNames,
      ipAddresses: names.ipAddresses,
      allowedUses: SERVER_ALLOWED_USES,
      validityHours,
      earlyRenewalHours,
    });
    const clients = (args.clients ?? DEFAULT_CLIENTS).map(
      (client) =>
        [
          client,
          issueCertificate(this, ca, {
            resourceName: `${name}-client-${client}`,
            key,
            subject: subjectFor(client, args.organization),
            allowedUses: CLIENT_ALLOWED_USES,
            validityHours,
            earlyRenewalHours,
          }),
        ] as const,
    );

    this.caCertPem = ca.certPem;
    this.serverCertPem = server.certPem;
    this.serverPrivateKeyPem = pulumi.secret(server.privateKeyPem);
    this.serverDnsNames = pulumi.output(names.dnsNames);
    this.clientCertificates = pulumi.secret(
      pulumi.all(
        Object.fromEntries(
          clients.map(([client, issued]) => [
            client,
            pulumi
              .all([issued.certPem, issued.privateKeyPem])
              .apply(([certPem, privateKeyPem]): IssuedCertificate => ({ certPem, privateKeyPem })),
          ]),
        ),
      ),
    );
    this.registerOutputs({
      caCertPem: this.caCertPem,
      serverCertPem: this.serverCertPem,
      serverPrivateKeyPem: this.serverPrivateKeyPem,
      serverDnsNames: this.serverDnsNames,
      clientCertificates: this.clientCertificates,
    });
  }
}

/** A new CA: a key and a self-signed CA certificate. */
function createCa(
  parent: pulumi.Resource,
  name: string,
  key: PrivateKeySettings,
  args: BuildkitCertificateAuthorityArgs,
  earlyRenewalHours: number,
): Signer {
  const caKey = new tls.PrivateKey(`${name}-ca-key`, { ...key }, { parent });
  const privateKeyPem = pulumi.secret(caKey.privateKeyPem);
  const cert = new tls.SelfSignedCert(
    `${name}-ca-cert`,
    {
      privateKeyPem,
      subject: subjectFor(args.commonName ?? DEFAULT_CA_COMMON_NAME, args.organization),
      isCaCertificate: true,
      allowedUses: [...CA_ALLOWED_USES],
      validityPeriodHours: args.caValidityHours ?? DEFAULT_CA_VALIDITY_HOURS,
      earlyRenewalHours,
    },
    { parent },
  );
  return { certPem: cert.certPem, privateKeyPem };
}

/** The team's CA; its key only reaches the signers after it is checked against the certificate. */
function existingSigner(component: string, existing: pulumi.Input<ExistingCa>): Signer {
  // From another language the whole object arrives as one Output when any field is secret.
  const resolved = pulumi.output(existing);
  // Taken apart when possible, so a secret key does not make the (public) certificate secret too.
  const certPem =
    pulumi.Output.isInstance(existing) || existing instanceof Promise
      ? resolved.apply((ca) => ca.certPem)
      : pulumi.output(existing.certPem);
  const privateKeyPem = pulumi.secret(
    resolved.apply((ca) => {
      assertNoProblems(component, existingCaRule(ca, "existingCa"));
      return ca.privateKeyPem;
    }),
  );
  return { certPem, privateKeyPem };
}
