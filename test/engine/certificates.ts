/**
 * CA material for the real-engine tier, which has no tls provider: a CA, a fleet server certificate
 * whose SANs are the component's own `serverCertificateNames`, and a client certificate, made with
 * node:crypto keys and @peculiar/x509 (the bring-your-own-CA path of the fleet).
 */
import "reflect-metadata";
import * as crypto from "node:crypto";
import * as x509 from "@peculiar/x509";
import { FleetIdentity, fleetNames, serverCertificateNames } from "../../components/fleet/names";

x509.cryptoProvider.set(crypto.webcrypto);

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256" } as const;
const SIGNING = { name: "ECDSA", hash: "SHA-256" } as const;
const HOUR = 3600 * 1000;

/** PEMs for a fleet and one client. */
export interface FleetPems {
  caCertPem: string;
  serverCertPem: string;
  serverPrivateKeyPem: string;
  clientCertPem: string;
  clientPrivateKeyPem: string;
}

async function keyPair(): Promise<crypto.webcrypto.CryptoKeyPair> {
  return crypto.webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
}

async function pkcs8Pem(key: crypto.webcrypto.CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.webcrypto.subtle.exportKey("pkcs8", key));
  return crypto
    .createPrivateKey({ key: der, format: "der", type: "pkcs8" })
    .export({ type: "pkcs8", format: "pem" })
    .toString();
}

/** A CA, a server certificate for `server`, and a client certificate named `client`. */
export async function fleetPems(server: FleetIdentity, client = "earthly"): Promise<FleetPems> {
  const notBefore = new Date(Date.now() - HOUR);
  const notAfter = new Date(Date.now() + 24 * HOUR);
  const caKeys = await keyPair();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=engine-tier-ca",
    keys: caKeys,
    signingAlgorithm: SIGNING,
    notBefore,
    notAfter,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
    ],
  });
  const issue = async (cn: string, usage: string, sans: x509.JsonGeneralName[]) => {
    const keys = await keyPair();
    const cert = await x509.X509CertificateGenerator.create({
      subject: `CN=${cn}`,
      issuer: ca.subject,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: SIGNING,
      notBefore,
      notAfter,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
          true,
        ),
        new x509.ExtendedKeyUsageExtension([usage]),
        ...(sans.length > 0 ? [new x509.SubjectAlternativeNameExtension(sans)] : []),
      ],
    });
    return { certPem: cert.toString("pem"), keyPem: await pkcs8Pem(keys.privateKey) };
  };
  const names = serverCertificateNames(server.fleetName, fleetNames(server));
  const serverCert = await issue(names.commonName, "1.3.6.1.5.5.7.3.1", [
    ...names.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...names.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ]);
  const clientCert = await issue(client, "1.3.6.1.5.5.7.3.2", []);
  return {
    caCertPem: ca.toString("pem"),
    serverCertPem: serverCert.certPem,
    serverPrivateKeyPem: serverCert.keyPem,
    clientCertPem: clientCert.certPem,
    clientPrivateKeyPem: clientCert.keyPem,
  };
}
