/**
 * A CA and a server certificate it issues, with exactly the Common Name and DNS SANs asked for (no
 * SAN extension when none are asked for), made by the tls provider's emulator: for tests that hand
 * a fleet ready PEMs.
 */
import { testCa, testServerCertificate } from "./tlsEmulator";

/** PEMs: the CA certificate, the server certificate and the server's private key. */
export interface ServerPems {
  caCertPem: string;
  certPem: string;
  keyPem: string;
}

/** A new CA, and a server certificate for `commonName` and `dnsNames` issued by it. */
export async function serverCertificate(
  commonName: string,
  dnsNames: readonly string[],
): Promise<ServerPems> {
  const ca = await testCa();
  const server = await testServerCertificate(ca, dnsNames, commonName);
  return { caCertPem: ca.certPem, certPem: server.certPem, keyPem: server.keyPem };
}
