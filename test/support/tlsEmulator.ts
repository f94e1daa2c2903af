/**
 * The tls provider, emulated with real cryptography for Pulumi mocks: keys are generated with
 * node:crypto and certificates issued with @peculiar/x509 from exactly the inputs a component
 * registered (allowed uses, CA flag, SANs, validity, signing key). Tests verify the results with
 * node:crypto's X509Certificate, never with the library that made them.
 */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";
import * as pulumi from "@pulumi/pulumi";

x509.cryptoProvider.set(crypto.webcrypto);

type WebKeyPair = crypto.webcrypto.CryptoKeyPair;
type SigningAlgorithm = crypto.webcrypto.RsaHashedImportParams | crypto.webcrypto.EcdsaParams;

export const SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
export const CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
export const PRIVATE_KEY = "tls:index/privateKey:PrivateKey";
export const SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert";
export const CERT_REQUEST = "tls:index/certRequest:CertRequest";
export const LOCALLY_SIGNED = "tls:index/locallySignedCert:LocallySignedCert";

export type Inputs = Record<string, unknown>;

/** A value as the provider sees it: secrets unwrapped. */
function plain(value: unknown): unknown {
  return pulumi.runtime.isRpcSecret(value) ? pulumi.runtime.unwrapRpcSecret(value) : value;
}

function str(inputs: Inputs, key: string): string {
  const value = plain(inputs[key]);
  if (typeof value !== "string")
    throw new Error(`emulator: ${key} must be a string, got ${JSON.stringify(value)}`);
  return value;
}

function strings(inputs: Inputs, key: string): string[] {
  const value = plain(inputs[key]);
  if (value === undefined) return [];
  if (!Array.isArray(value) || !value.every((v) => typeof v === "string")) {
    throw new Error(`emulator: ${key} must be a list of strings`);
  }
  return value;
}

function hours(inputs: Inputs, key: string): number {
  const value = plain(inputs[key]);
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new Error(`emulator: ${key} must be a positive integer`);
  }
  return value;
}

/** tls.PrivateKey: the provider's defaults are RSA 2048 and, for ECDSA, P224 (which we refuse). */
function generatePrivateKey(inputs: Inputs): Record<string, string> {
  const algorithm = str(inputs, "algorithm");
  let pair: crypto.KeyPairKeyObjectResult;
  if (algorithm === "ECDSA") {
    const curve = plain(inputs.ecdsaCurve);
    if (curve !== "P256") throw new Error(`emulator: ECDSA curve ${JSON.stringify(curve)} not emulated`);
    pair = crypto.generateKeyPairSync("ec", { namedCurve: "prime256v1" });
  } else if (algorithm === "RSA") {
    const bits = plain(inputs.rsaBits) ?? 2048;
    if (typeof bits !== "number") throw new Error("emulator: rsaBits must be a number");
    pair = crypto.generateKeyPairSync("rsa", { modulusLength: bits });
  } else {
    throw new Error(`emulator: algorithm ${algorithm} not emulated`);
  }
  // As the provider: PKCS#1 for RSA, SEC 1 for ECDSA, plus PKCS#8.
  const traditional = algorithm === "RSA" ? "pkcs1" : "sec1";
  return {
    privateKeyPem: pair.privateKey.export({ format: "pem", type: traditional }).toString(),
    privateKeyPemPkcs8: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    publicKeyPem: pair.publicKey.export({ format: "pem", type: "spki" }).toString(),
  };
}

/** A PEM private key as a WebCrypto key pair, with the algorithm it signs with. */
async function webKeys(pem: string): Promise<{ keys: WebKeyPair; signing: SigningAlgorithm }> {
  const privateKey = crypto.createPrivateKey(pem);
  const publicKey = crypto.createPublicKey(privateKey);
  let algorithm: crypto.webcrypto.RsaHashedImportParams | crypto.webcrypto.EcKeyImportParams;
  let signing: SigningAlgorithm;
  if (privateKey.asymmetricKeyType === "ec") {
    if (privateKey.asymmetricKeyDetails?.namedCurve !== "prime256v1") throw new Error("emulator: only P-256");
    algorithm = { name: "ECDSA", namedCurve: "P-256" };
    signing = { name: "ECDSA", hash: "SHA-256" };
  } else if (privateKey.asymmetricKeyType === "rsa") {
    algorithm = { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
    signing = algorithm;
  } else {
    throw new Error(`emulator: key type ${privateKey.asymmetricKeyType} not emulated`);
  }
  const subtle = crypto.webcrypto.subtle;
  return {
    keys: {
      privateKey: await subtle.importKey(
        "pkcs8",
        privateKey.export({ format: "der", type: "pkcs8" }),
        algorithm,
        true,
        ["sign"],
      ),
      publicKey: await subtle.importKey(
        "spki",
        publicKey.export({ format: "der", type: "spki" }),
        algorithm,
        true,
        ["verify"],
      ),
    },
    signing,
  };
}

/** The subject block of the tls resources; fields we do not emulate are refused, not ignored. */
function subjectName(inputs: Inputs): x509.JsonName {
  const subject = (plain(inputs.subject) ?? {}) as Record<string, unknown>;
  const name: x509.JsonName = [];
  for (const [key, value] of Object.entries(subject)) {
    if (key === "commonName") name.push({ CN: [String(value)] });
    else if (key === "organization") name.push({ O: [String(value)] });
    else throw new Error(`emulator: subject.${key} not emulated`);
  }
  return name;
}

/** allowedUses -> KeyUsage bits (names as in RFC 5280). */
const KEY_USAGES: Record<string, keyof typeof x509.KeyUsageFlags> = {
  digital_signature: "digitalSignature",
  key_encipherment: "keyEncipherment",
  cert_signing: "keyCertSign",
  crl_signing: "cRLSign",
};
const EXTENDED_KEY_USAGES: Record<string, string> = { server_auth: SERVER_AUTH, client_auth: CLIENT_AUTH };

/** The extensions the provider derives from `allowedUses`, `isCaCertificate` and the SANs. */
function extensions(inputs: Inputs, sans: x509.JsonGeneralName[]): x509.Extension[] {
  let usage = 0;
  const extended: string[] = [];
  for (const use of strings(inputs, "allowedUses")) {
    if (use in KEY_USAGES) usage |= x509.KeyUsageFlags[KEY_USAGES[use]];
    else if (use in EXTENDED_KEY_USAGES) extended.push(EXTENDED_KEY_USAGES[use]);
    else throw new Error(`emulator: allowed use ${use} not emulated (or misspelt)`);
  }
  const list: x509.Extension[] = [
    new x509.BasicConstraintsExtension(plain(inputs.isCaCertificate) === true, undefined, true),
  ];
  if (usage !== 0) list.push(new x509.KeyUsagesExtension(usage, true));
  if (extended.length > 0) list.push(new x509.ExtendedKeyUsageExtension(extended));
  if (sans.length > 0) list.push(new x509.SubjectAlternativeNameExtension(sans));
  return list;
}

function requestedNames(inputs: Inputs): x509.JsonGeneralName[] {
  return [
    ...strings(inputs, "dnsNames").map((value) => ({ type: "dns" as const, value })),
    ...strings(inputs, "ipAddresses").map((value) => ({ type: "ip" as const, value })),
  ];
}

function validity(inputs: Inputs): { notBefore: Date; notAfter: Date } {
  const notBefore = new Date(Math.floor(Date.now() / 1000) * 1000);
  return {
    notBefore,
    notAfter: new Date(notBefore.getTime() + hours(inputs, "validityPeriodHours") * 3_600_000),
  };
}

async function selfSignedCert(inputs: Inputs): Promise<Record<string, string>> {
  const { keys, signing } = await webKeys(str(inputs, "privateKeyPem"));
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: subjectName(inputs),
    keys,
    signingAlgorithm: signing,
    ...validity(inputs),
    extensions: extensions(inputs, requestedNames(inputs)),
  });
  return { certPem: cert.toString("pem") };
}

async function certRequest(inputs: Inputs): Promise<Record<string, string>> {
  const { keys, signing } = await webKeys(str(inputs, "privateKeyPem"));
  const sans = requestedNames(inputs);
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(inputs),
    keys,
    signingAlgorithm: signing,
    extensions: sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : [],
  });
  return { certRequestPem: request.toString("pem") };
}

/** As the provider: subject and SANs from the CSR; uses, CA flag and validity from the inputs. */
async function locallySignedCert(inputs: Inputs): Promise<Record<string, string>> {
  const request = new x509.Pkcs10CertificateRequest(str(inputs, "certRequestPem"));
  if (!(await request.verify())) throw new Error("emulator: the CSR's signature does not verify");
  const caCertPem = str(inputs, "caCertPem");
  const caKeyPem = str(inputs, "caPrivateKeyPem");
  // Go's x509.CreateCertificate refuses a signing key that does not match the parent certificate.
  if (!new crypto.X509Certificate(caCertPem).checkPrivateKey(crypto.createPrivateKey(caKeyPem))) {
    throw new Error("emulator: caPrivateKeyPem does not match caCertPem");
  }
  const ca = new x509.X509Certificate(caCertPem);
  const { keys, signing } = await webKeys(caKeyPem);
  const san = request.getExtension("2.5.29.17");
  const sans = san instanceof x509.SubjectAlternativeNameExtension ? san.names.toJSON() : [];
  const cert = await x509.X509CertificateGenerator.create({
    subject: request.subjectName,
    issuer: ca.subjectName,
    publicKey: request.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: signing,
    ...validity(inputs),
    extensions: extensions(inputs, sans),
  });
  return { certPem: cert.toString("pem") };
}

/** The outputs the tls provider would return for a resource of this type (empty for other types). */
export async function emulateTls(type: string, inputs: Inputs): Promise<Record<string, string>> {
  switch (type) {
    case PRIVATE_KEY:
      return generatePrivateKey(inputs);
    case SELF_SIGNED:
      return selfSignedCert(inputs);
    case CERT_REQUEST:
      return certRequest(inputs);
    case LOCALLY_SIGNED:
      return locallySignedCert(inputs);
    default:
      return {};
  }
}

/** A certificate and its key, PEM, made outside any component. */
export interface TestPem {
  certPem: string;
  keyPem: string;
}

/** A self-signed CA (with `isCa` false, a plain self-signed certificate), ECDSA P-256 unless told. */
export async function testCa(
  commonName = "earthly-kubernetes test CA",
  isCa = true,
  rsa = false,
): Promise<TestPem> {
  const key = await emulateTls(
    PRIVATE_KEY,
    rsa ? { algorithm: "RSA", rsaBits: 2048 } : { algorithm: "ECDSA", ecdsaCurve: "P256" },
  );
  const { certPem } = await emulateTls(SELF_SIGNED, {
    privateKeyPem: key.privateKeyPem,
    subject: { commonName },
    isCaCertificate: isCa,
    allowedUses: isCa ? ["cert_signing", "crl_signing"] : ["digital_signature"],
    validityPeriodHours: 1000,
  });
  return { certPem, keyPem: key.privateKeyPem };
}

/** A server certificate issued by `ca` whose SANs are exactly `dnsNames`, with `commonName` as CN. */
export async function testServerCertificate(
  ca: TestPem,
  dnsNames: readonly string[],
  commonName = "buildkitd",
): Promise<TestPem> {
  const key = await emulateTls(PRIVATE_KEY, { algorithm: "ECDSA", ecdsaCurve: "P256" });
  const { certRequestPem } = await emulateTls(CERT_REQUEST, {
    privateKeyPem: key.privateKeyPem,
    subject: { commonName },
    ...(dnsNames.length > 0 ? { dnsNames: [...dnsNames] } : {}),
  });
  const { certPem } = await emulateTls(LOCALLY_SIGNED, {
    certRequestPem,
    caCertPem: ca.certPem,
    caPrivateKeyPem: ca.keyPem,
    allowedUses: ["server_auth", "digital_signature", "key_encipherment"],
    validityPeriodHours: 48,
  });
  return { certPem, keyPem: key.privateKeyPem };
}
