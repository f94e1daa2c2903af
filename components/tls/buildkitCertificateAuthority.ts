/**
 * The mTLS CA of a remote buildkitd fleet: one CA (created here, or a team's own) and one client
 * certificate per client. The fleet issues its own server certificate from the CA's `issuer`, for
 * exactly the names it serves, so the CA needs to know nothing about the fleet.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { isUnknown, recordFields } from "../values/inputs";
import { ExtensibleChecks, checkArgs, knownProblems } from "../validation/checks";
import { PLAIN_INPUTS } from "../validation/plainInputs";
import { Problem, Rule, assertNoProblems } from "../validation/errors";
import { eachOf, integerBetween, oneOf, rfc1123Label, uniqueBy } from "../validation/rules";
import {
  CA_ALLOWED_USES,
  CLIENT_ALLOWED_USES,
  CertificateIssuer,
  DEFAULT_CERTIFICATE_VALIDITY_HOURS,
  DEFAULT_EARLY_RENEWAL_HOURS,
  KeyAlgorithm,
  MAX_VALIDITY_HOURS,
  PrivateKeySettings,
  Signer,
  caPemProblems,
  issueCertificate,
  keyAlgorithmSettings,
  subjectFor,
  subjectText,
} from "./issuer";

/** The component's type token. */
export const BUILDKIT_CERTIFICATE_AUTHORITY_TYPE = "earthly-kubernetes:index:BuildkitCertificateAuthority";

/** A CA a team already has, used to sign instead of creating one. */
export interface ExistingCa {
  /** The CA certificate, PEM. It must be a CA certificate (basic constraints `CA:TRUE`). */
  certPem: pulumi.Input<string>;
  /** The CA's private key, PEM. It must match `certPem`; the component keeps it secret. */
  privateKeyPem: pulumi.Input<string>;
}

/** Arguments of {@link BuildkitCertificateAuthority}. */
export interface BuildkitCertificateAuthorityArgs {
  /** The algorithm of every key created from this CA: `ECDSA_P256` (default), `RSA_2048` or `RSA_4096`. */
  keyAlgorithm?: KeyAlgorithm;
  /** The CA certificate's common name (default `earthly-buildkit-ca`). Not with `existingCa`. */
  commonName?: string;
  /** The organization (`O`) in the subject of every certificate issued from this CA. */
  organization?: string;
  /** Hours the CA certificate is valid (default 87600, ten years). Not with `existingCa`. */
  caValidityHours?: number;
  /** Hours the server and client certificates are valid (default 8760, one year). */
  certificateValidityHours?: number;
  /**
   * Hours before expiry from which a certificate is re-issued (default 720, thirty days); less than
   * `certificateValidityHours`. Re-issuing needs `pulumi up --refresh` in that window: a plain `up`
   * does not read the certificate's state.
   */
  earlyRenewalHours?: number;
  /** A CA of the team's own PKI to sign with; then no CA key or certificate is created. */
  existingCa?: ExistingCa;
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
/** The client certificates issued when none are named. */
export const DEFAULT_CLIENTS: readonly string[] = ["earthly"];

// ---------------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------------

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

/** Checks a resolved existing CA: the certificate is a CA's, and the key is its key. */
export const existingCaRule: Rule<pulumi.Unwrap<ExistingCa>> = (value, field) =>
  value === null || typeof value !== "object"
    ? [{ field, value, allowed: "an object" }]
    : caPemProblems(value.certPem, value.privateKeyPem, `${field}.certPem`, `${field}.privateKeyPem`);

/** The checks of every argument, and across arguments. */
export const certificateAuthorityChecks: ExtensibleChecks<BuildkitCertificateAuthorityArgs> = {
  rules: {
    keyAlgorithm: oneOf(Object.values(KeyAlgorithm)),
    commonName: subjectText,
    organization: subjectText,
    caValidityHours: integerBetween(1, MAX_VALIDITY_HOURS),
    certificateValidityHours: integerBetween(1, MAX_VALIDITY_HOURS),
    earlyRenewalHours: integerBetween(0, MAX_VALIDITY_HOURS),
    existingCa: existingCaRule,
    clients: clientNamesRule,
  },
  cross: [
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
  // Every argument but the CA decides which resources exist; the CA's PEMs may arrive later.
  plain: { inputs: PLAIN_INPUTS.BuildkitCertificateAuthority, except: ["existingCa"] },
};

// ---------------------------------------------------------------------------------------------
// Resources
// ---------------------------------------------------------------------------------------------

/**
 * The mTLS CA of a remote buildkitd fleet: a CA (or the team's own) and client certificates, plus
 * the `issuer` a `BuildkitdFleet` issues its server certificate from. An Earthly client wants the
 * CA and its certificate and key under `/etc/.earthly/certs`.
 */
export class BuildkitCertificateAuthority extends pulumi.ComponentResource {
  /** The CA certificate, PEM: what buildkitd and clients trust. */
  public readonly caCertPem: pulumi.Output<string>;
  /**
   * The CA with the settings of this component, for `BuildkitdFleet`'s `tls.issuer`: the fleet issues
   * its own server certificate from it. Secret (it holds the CA's key).
   */
  public readonly issuer: pulumi.Output<CertificateIssuer>;
  /** The client certificates and keys by client name (secret). */
  public readonly clientCertificates: pulumi.Output<{ [name: string]: IssuedCertificate }>;

  /**
   * What the constructor would refuse in these arguments, among the values known now (an Output is
   * checked when it resolves), without registering anything: for checking a configuration before
   * creating any resource. Empty when the known values pass.
   */
  public static argumentProblems(_name: string, args: BuildkitCertificateAuthorityArgs): Problem[] {
    return knownProblems(args, certificateAuthorityChecks);
  }

  constructor(name: string, args: BuildkitCertificateAuthorityArgs, opts?: pulumi.ComponentResourceOptions) {
    const component = `BuildkitCertificateAuthority "${name}"`;
    // Before super(): bad literal arguments must not register anything, not even this component.
    checkArgs(component, args, certificateAuthorityChecks);
    super(BUILDKIT_CERTIFICATE_AUTHORITY_TYPE, name, {}, opts);

    const keyAlgorithm = args.keyAlgorithm ?? KeyAlgorithm.ECDSA_P256;
    const key = keyAlgorithmSettings(keyAlgorithm);
    const validityHours = args.certificateValidityHours ?? DEFAULT_CERTIFICATE_VALIDITY_HOURS;
    const earlyRenewalHours = args.earlyRenewalHours ?? DEFAULT_EARLY_RENEWAL_HOURS;
    const ca = args.existingCa
      ? existingSigner(component, args.existingCa)
      : createCa(this, name, key, args, earlyRenewalHours);

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
    const issuerFields = {
      caCertPem: ca.certPem,
      caPrivateKeyPem: ca.privateKeyPem,
      keyAlgorithm,
      ...(args.organization !== undefined ? { organization: args.organization } : {}),
      certificateValidityHours: validityHours,
      earlyRenewalHours,
    };
    this.issuer = pulumi.secret(pulumi.output(issuerFields) as pulumi.Output<CertificateIssuer>);
    // A fleet reads the issuer field by field: the settings stay known at preview, the CA certificate public.
    recordFields(this.issuer, issuerFields);
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
      issuer: this.issuer,
      clientCertificates: this.clientCertificates,
    });
  }
}

/** A CA with its key, both as Outputs (the key secret). */
interface CaSigner extends Signer {
  certPem: pulumi.Output<string>;
  privateKeyPem: pulumi.Output<string>;
}

/** A new CA: a key and a self-signed CA certificate. */
function createCa(
  parent: pulumi.Resource,
  name: string,
  key: PrivateKeySettings,
  args: BuildkitCertificateAuthorityArgs,
  earlyRenewalHours: number,
): CaSigner {
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
function existingSigner(component: string, existing: pulumi.Input<ExistingCa>): CaSigner {
  // From another language the whole object arrives as one Output when any field is secret.
  const resolved = pulumi.output(existing);
  // Taken apart when possible, so a secret key does not make the (public) certificate secret too;
  // taken out of the secret when it came whole, as the key made the whole object secret.
  const certPem = isUnknown(existing)
    ? pulumi.unsecret(resolved.apply((ca) => ca.certPem))
    : pulumi.output(existing.certPem);
  const privateKeyPem = pulumi.secret(
    resolved.apply((ca) => {
      assertNoProblems(component, existingCaRule(ca, "existingCa"));
      return ca.privateKeyPem;
    }),
  );
  return { certPem, privateKeyPem };
}
