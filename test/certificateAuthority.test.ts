/**
 * BuildkitCertificateAuthority, and the server certificate a BuildkitdFleet issues from its `issuer`,
 * under Pulumi mocks, with the tls provider emulated for real: keys are
 * generated with node:crypto and certificates are issued with @peculiar/x509 from exactly the inputs
 * the component registered (allowed uses, CA flag, SANs, validity, signing key). The results are
 * then verified with node:crypto's X509Certificate (and a real mTLS handshake), never with the
 * library that made them, so a wrong input shows up as a certificate that does not verify.
 */
import { RecordedResource, recorded, refusedInApply, settledValue as valueOf } from "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import type { AddressInfo } from "node:net";
import * as tls from "node:tls";
import * as pulumi from "@pulumi/pulumi";
import type { MockMonitor } from "@pulumi/pulumi/runtime/mocks";
import { BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import { fleetNames, serverCertificateNames } from "../components/fleet/names";
import * as mod from "../components/tls/buildkitCertificateAuthority";
import {
  KeyAlgorithm,
  caPemProblems,
  issueCertificate,
  keyAlgorithmSettings,
  subjectFor,
} from "../components/tls/issuer";
import { InvalidArgumentsError } from "../components/validation/errors";
import {
  CERT_REQUEST,
  CLIENT_AUTH,
  Inputs,
  LOCALLY_SIGNED,
  PRIVATE_KEY,
  SELF_SIGNED,
  SERVER_AUTH,
  testCa,
} from "./support/tlsEmulator";
import { plain } from "./support/values";

const TYPE = "earthly-kubernetes:index:BuildkitCertificateAuthority";
const FLEET_TYPE = "earthly-kubernetes:index:BuildkitdFleet";

// ---------------------------------------------------------------------------------------------
// Mocks and helpers.
// ---------------------------------------------------------------------------------------------

/** Everything a component registered: itself and every child (children are named `<name>-...`). */
function recordsOf(name: string): RecordedResource[] {
  return recorded.filter((r) => r.name === name || r.name.startsWith(`${name}-`));
}

function record(name: string): RecordedResource {
  const found = recorded.filter((r) => r.name === name);
  assert.equal(found.length, 1, `exactly one resource named ${name}`);
  return found[0];
}

/** Where a PEM came from: the resource and output that produced it, or `<given>` for test input. */
function origin(pem: string): string {
  for (const r of recorded) {
    for (const [key, value] of Object.entries(r.state ?? {})) if (value === pem) return `${r.name}.${key}`;
  }
  return "given";
}

/**
 * A resource's inputs with every PEM replaced by `<from ...>` (and secrets marked), so inputs can be
 * compared exactly while the key material is random.
 */
function describedInputs(inputs: Inputs): Inputs {
  return Object.fromEntries(
    Object.entries(inputs).map(([key, value]) => {
      const secret = pulumi.runtime.isRpcSecret(value);
      const inner = plain(value);
      const shown =
        typeof inner === "string" && inner.startsWith("-----BEGIN") ? `<from ${origin(inner)}>` : inner;
      return [key, secret ? { secret: shown } : shown];
    }),
  );
}

function hex(): string {
  return crypto.randomBytes(3).toString("hex");
}

/** The four forms of a cluster name, written out here rather than taken from fleetNames(). */
function fourForms(first: string, namespace: string, domain = "cluster.local"): string[] {
  return [first, `${first}.${namespace}`, `${first}.${namespace}.svc`, `${first}.${namespace}.svc.${domain}`];
}

/** The fleet a test issues a server certificate for. */
interface FleetSpec {
  fleetName: string;
  namespace: string;
  replicas: number;
  clusterDomain?: string;
  extraDnsNames?: string[];
  extraIpAddresses?: string[];
}

/**
 * A fleet (resource `<caName>-fleet`) issuing its server certificate from the CA's `issuer`, and the
 * PEMs its TLS Secret holds once the fleet is ready.
 */
async function fleetServer(
  caName: string,
  ca: mod.BuildkitCertificateAuthority,
  spec: FleetSpec,
): Promise<{ fleet: BuildkitdFleet; cert: string; key: string; ca: string }> {
  const { extraDnsNames, extraIpAddresses, ...identity } = spec;
  const fleet = new BuildkitdFleet(`${caName}-fleet`, {
    ...identity,
    tls: { issuer: ca.issuer, extraDnsNames, extraIpAddresses },
  });
  await valueOf(fleet.connection);
  const data = plain(record(`${caName}-fleet-tls`).inputs.stringData) as { [key: string]: string };
  return { fleet, cert: data["cert.pem"], key: data["key.pem"], ca: data["ca.pem"] };
}

// ---------------------------------------------------------------------------------------------
// Pure parts.
// ---------------------------------------------------------------------------------------------

describe("pure parts", () => {
  test("keyAlgorithmSettings maps every algorithm to tls.PrivateKey inputs", () => {
    assert.deepEqual(keyAlgorithmSettings("ECDSA_P256"), { algorithm: "ECDSA", ecdsaCurve: "P256" });
    assert.deepEqual(keyAlgorithmSettings("RSA_2048"), { algorithm: "RSA", rsaBits: 2048 });
    assert.deepEqual(keyAlgorithmSettings("RSA_4096"), { algorithm: "RSA", rsaBits: 4096 });
    assert.deepEqual(Object.values(KeyAlgorithm), ["ECDSA_P256", "RSA_2048", "RSA_4096"]);
    assert.throws(() => keyAlgorithmSettings("DSA" as KeyAlgorithm), /DSA/);
  });

  test("serverCertificateNames lists the fleet's names, then the extras, without duplicates", () => {
    const names = serverCertificateNames(
      "bk",
      fleetNames({ fleetName: "bk", namespace: "ci", replicas: 2 }),
      ["buildkit.example.com", "BK.ci", "bk-1.bk-instances", "buildkit.example.com"],
      ["10.0.0.1", "fd00::1", "10.0.0.1"],
    );
    assert.deepEqual(names, {
      commonName: "bk.ci.svc.cluster.local",
      dnsNames: [
        "bk",
        "bk.ci",
        "bk.ci.svc",
        "bk.ci.svc.cluster.local",
        "bk-0.bk-instances",
        "bk-0.bk-instances.ci",
        "bk-0.bk-instances.ci.svc",
        "bk-0.bk-instances.ci.svc.cluster.local",
        "bk-1.bk-instances",
        "bk-1.bk-instances.ci",
        "bk-1.bk-instances.ci.svc",
        "bk-1.bk-instances.ci.svc.cluster.local",
        "buildkit.example.com",
      ],
      ipAddresses: ["10.0.0.1", "fd00::1"],
    });
  });

  test("serverCertificateNames honours the cluster domain and keeps the CN within 64 characters", () => {
    const custom = serverCertificateNames(
      "bk",
      fleetNames({ fleetName: "bk", namespace: "ci", replicas: 1, clusterDomain: "k8s.internal" }),
    );
    assert.equal(custom.commonName, "bk.ci.svc.k8s.internal");
    assert.equal(custom.dnsNames.length, 8);
    assert.ok(custom.dnsNames.every((n) => !n.includes("cluster.local")));
    const long = serverCertificateNames(
      "buildkitd",
      fleetNames({ fleetName: "buildkitd", namespace: "n".repeat(60), replicas: 1 }),
    );
    assert.equal(long.commonName, "buildkitd");
    assert.ok(long.dnsNames.includes(`buildkitd.${"n".repeat(60)}.svc.cluster.local`));
  });

  test("existingCaRule refuses a non-CA certificate and a key of another certificate, never printing the key", async () => {
    const ca = await makeExternalCa("team-ca", true);
    const other = await makeExternalCa("other-ca", true);
    const leaf = await makeExternalCa("not-a-ca", false);
    assert.deepEqual(mod.existingCaRule({ certPem: ca.certPem, privateKeyPem: ca.keyPem }, "existingCa"), []);
    const mismatch = mod.existingCaRule({ certPem: ca.certPem, privateKeyPem: other.keyPem }, "existingCa");
    assert.deepEqual(
      mismatch.map((p) => p.field),
      ["existingCa.privateKeyPem"],
    );
    assert.ok(!JSON.stringify(mismatch).includes("PRIVATE KEY"));
    const notCa = mod.existingCaRule({ certPem: leaf.certPem, privateKeyPem: leaf.keyPem }, "existingCa");
    assert.deepEqual(
      notCa.map((p) => p.allowed),
      ["a CA certificate (basic constraints CA:TRUE)"],
    );
    const swapped = mod.existingCaRule({ certPem: ca.keyPem, privateKeyPem: ca.certPem }, "existingCa");
    assert.deepEqual(
      swapped.map((p) => p.field),
      ["existingCa.certPem", "existingCa.privateKeyPem"],
    );
    assert.ok(!JSON.stringify(swapped).includes("PRIVATE KEY"), "a key in the wrong field is not printed");
  });
});

test("a private key of any PEM kind pasted as the certificate is not printed", () => {
  const ec = crypto.generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
  const ed = crypto.generateKeyPairSync("ed25519").privateKey;
  const rsa = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey;
  const pems = {
    "PKCS#8 (EC)": ec.export({ format: "pem", type: "pkcs8" }).toString(),
    "SEC1 (EC)": ec.export({ format: "pem", type: "sec1" }).toString(),
    "PKCS#8 (Ed25519)": ed.export({ format: "pem", type: "pkcs8" }).toString(),
    "PKCS#1 (RSA)": rsa.export({ format: "pem", type: "pkcs1" }).toString(),
  };
  for (const [kind, pem] of Object.entries(pems)) {
    const problems = caPemProblems(pem, undefined, "c", "k");
    assert.equal(problems[0].field, "c", kind);
    assert.equal(problems[0].value, "(private key, not shown)", kind);
    assert.ok(!JSON.stringify(problems).includes("PRIVATE KEY"), kind);
  }
});

/** A CA (or, with `isCa` false, a plain self-signed certificate) made outside the component, RSA. */
const makeExternalCa = (commonName: string, isCa: boolean) => testCa(commonName, isCa, true);

// ---------------------------------------------------------------------------------------------
// The component: exact inputs, and the certificates verified.
// ---------------------------------------------------------------------------------------------

const CASES: { algorithm: KeyAlgorithm; replicas: number }[] = [
  { algorithm: "ECDSA_P256", replicas: 2 },
  { algorithm: "ECDSA_P256", replicas: 3 },
  { algorithm: "RSA_2048", replicas: 2 },
  { algorithm: "RSA_2048", replicas: 3 },
];

describe("certificates", () => {
  for (const { algorithm, replicas } of CASES) {
    test(`${algorithm}, ${replicas} replicas: exact inputs, and the certificates verify`, async (t) => {
      const name = `ca-${algorithm.toLowerCase().replace("_", "")}-${replicas}`;
      const ca = new mod.BuildkitCertificateAuthority(name, {
        keyAlgorithm: algorithm,
        organization: "Example Builds",
        clients: ["earthly", "ci-runner"],
      });
      const issued = await fleetServer(name, ca, {
        fleetName: "buildkitd",
        namespace: "earthly",
        replicas,
        extraDnsNames: ["buildkit.example.com", "buildkitd.earthly"],
        extraIpAddresses: ["10.0.0.10", "fd00::10"],
      });
      const [caPem, dnsNames, clients] = await Promise.all([
        valueOf(ca.caCertPem),
        valueOf(issued.fleet.serverDnsNames),
        valueOf(ca.clientCertificates),
      ]);
      const [serverPem, serverKey] = [issued.cert, issued.key];
      assert.equal(issued.ca, caPem, "the fleet's Secret holds the issuer's CA");

      // What was registered, in order, with which inputs and under which parent.
      const key =
        algorithm === "ECDSA_P256"
          ? { algorithm: "ECDSA", ecdsaCurve: "P256" }
          : { algorithm: "RSA", rsaBits: 2048 };
      const expectedNames = [
        ...fourForms("buildkitd", "earthly"),
        ...Array.from({ length: replicas }, (_, i) =>
          fourForms(`buildkitd-${i}.buildkitd-instances`, "earthly"),
        ).flat(),
        "buildkit.example.com",
      ];
      const leaf = (kind: string, subject: Inputs, uses: string[], names?: Inputs) => [
        { type: PRIVATE_KEY, name: `${name}-${kind}-key`, inputs: key },
        {
          type: CERT_REQUEST,
          name: `${name}-${kind}-csr`,
          inputs: {
            privateKeyPem: { secret: `<from ${name}-${kind}-key.privateKeyPem>` },
            subject,
            ...names,
          },
        },
        {
          type: LOCALLY_SIGNED,
          name: `${name}-${kind}-cert`,
          inputs: {
            certRequestPem: `<from ${name}-${kind}-csr.certRequestPem>`,
            caCertPem: `<from ${name}-ca-cert.certPem>`,
            caPrivateKeyPem: { secret: `<from ${name}-ca-key.privateKeyPem>` },
            allowedUses: uses,
            validityPeriodHours: 8760,
            earlyRenewalHours: 720,
          },
        },
      ];
      const expected = [
        { type: TYPE, name, inputs: {} },
        { type: PRIVATE_KEY, name: `${name}-ca-key`, inputs: key },
        {
          type: SELF_SIGNED,
          name: `${name}-ca-cert`,
          inputs: {
            privateKeyPem: { secret: `<from ${name}-ca-key.privateKeyPem>` },
            subject: { commonName: "earthly-buildkit-ca", organization: "Example Builds" },
            isCaCertificate: true,
            allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
            validityPeriodHours: 87600,
            earlyRenewalHours: 720,
          },
        },
        ...leaf(
          "fleet-server",
          { commonName: "buildkitd.earthly.svc.cluster.local", organization: "Example Builds" },
          ["server_auth", "digital_signature", "key_encipherment"],
          { dnsNames: expectedNames, ipAddresses: ["10.0.0.10", "fd00::10"] },
        ),
        ...leaf("client-earthly", { commonName: "earthly", organization: "Example Builds" }, [
          "client_auth",
          "digital_signature",
          "key_encipherment",
        ]),
        ...leaf("client-ci-runner", { commonName: "ci-runner", organization: "Example Builds" }, [
          "client_auth",
          "digital_signature",
          "key_encipherment",
        ]),
      ];
      const actual = recordsOf(name)
        .filter((r) => r.type === TYPE || r.type.startsWith("tls:"))
        .map((r) => ({
          type: r.type,
          name: r.name,
          inputs: describedInputs(r.inputs),
        }));
      const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
      assert.deepEqual([...actual].sort(byName), [...expected].sort(byName));
      assertParents(name);
      assert.deepEqual(dnsNames, expectedNames);

      // Secrets: keys are, certificates and names are not.
      assert.equal(await pulumi.isSecret(ca.issuer), true);
      assert.equal(await pulumi.isSecret(ca.clientCertificates), true);
      assert.equal(await pulumi.isSecret(ca.caCertPem), false);
      assert.equal(await pulumi.isSecret(issued.fleet.caCertPem), false);
      assert.equal(await pulumi.isSecret(issued.fleet.serverDnsNames), false);
      assert.ok(
        pulumi.runtime.isRpcSecret(record(`${name}-fleet-tls`).inputs.stringData),
        "the Secret's data",
      );
      for (const visible of [caPem, serverPem, JSON.stringify(dnsNames)])
        assert.ok(!visible.includes("PRIVATE KEY"));

      // The CA.
      const caCert = new crypto.X509Certificate(caPem);
      assert.equal(caCert.ca, true);
      assert.equal(caCert.checkIssued(caCert), true);
      assert.equal(caCert.verify(caCert.publicKey), true);
      assert.match(caCert.subject, /CN=earthly-buildkit-ca/);
      assertValidityHours(caCert, 87600);

      // The server certificate.
      const server = new crypto.X509Certificate(serverPem);
      assert.equal(server.checkIssued(caCert), true);
      assert.equal(server.verify(caCert.publicKey), true);
      assert.equal(server.ca, false);
      assert.equal(server.checkPrivateKey(crypto.createPrivateKey(serverKey)), true);
      assert.equal(server.publicKey.asymmetricKeyType, algorithm === "ECDSA_P256" ? "ec" : "rsa");
      assert.ok(server.keyUsage.includes(SERVER_AUTH), "server certificate has serverAuth");
      assert.ok(!server.keyUsage.includes(CLIENT_AUTH), "server certificate lacks clientAuth");
      assert.match(server.subject, /CN=buildkitd\.earthly\.svc\.cluster\.local/);
      assertValidityHours(server, 8760);

      const dialled = [
        ...fourForms("buildkitd", "earthly"),
        ...Array.from({ length: replicas }, (_, i) =>
          fourForms(`buildkitd-${i}.buildkitd-instances`, "earthly"),
        ).flat(),
        "buildkit.example.com",
      ];
      for (const host of dialled) {
        assert.equal(server.checkHost(host, { subject: "never" }), host, `certificate covers ${host}`);
      }
      const notCovered = [
        "other.earthly.svc.cluster.local",
        "buildkitd.other.svc.cluster.local",
        `buildkitd-${replicas}.buildkitd-instances.earthly.svc.cluster.local`,
        "buildkitd.earthly.svc.example.org",
        "example.com",
      ];
      for (const host of notCovered) {
        assert.equal(
          server.checkHost(host, { subject: "never" }),
          undefined,
          `certificate must not cover ${host}`,
        );
      }
      for (const ip of ["10.0.0.10", "fd00::10"]) {
        assert.equal(server.checkIP(ip), ip);
      }
      assert.equal(server.checkIP("10.0.0.11"), undefined);

      // The client certificates.
      assert.deepEqual(Object.keys(clients), ["earthly", "ci-runner"]);
      for (const [client, issued] of Object.entries(clients)) {
        const cert = new crypto.X509Certificate(issued.certPem);
        assert.equal(cert.checkIssued(caCert), true);
        assert.equal(cert.verify(caCert.publicKey), true);
        assert.equal(cert.ca, false);
        assert.equal(cert.checkPrivateKey(crypto.createPrivateKey(issued.privateKeyPem)), true);
        assert.ok(cert.keyUsage.includes(CLIENT_AUTH), `${client} has clientAuth`);
        assert.ok(!cert.keyUsage.includes(SERVER_AUTH), `${client} lacks serverAuth`);
        assert.match(cert.subject, new RegExp(`CN=${client}`));
        assert.equal(cert.subjectAltName, undefined);
        assertValidityHours(cert, 8760);
      }
      t.diagnostic(`${algorithm}/${replicas}: ${dialled.length} names covered, ${notCovered.length} refused`);
    });
  }
});

/** Every child's URN carries its component's type as its parent type: the CA's, or the fleet's. */
function assertParents(name: string): void {
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const urns = [...monitor.resources.keys()];
  for (const r of recordsOf(name).filter((x) => x.type === TYPE || x.type.startsWith("tls:"))) {
    const owner = r.name.startsWith(`${name}-fleet-`) ? FLEET_TYPE : TYPE;
    const parentType = r.type === TYPE ? "" : `${owner}$`;
    const urn = urns.find((u) => u.endsWith(`::${r.name}`));
    assert.ok(urn, `URN of ${r.name}`);
    assert.equal(urn.split("::")[2], `${parentType}${r.type}`, `parent of ${r.name}`);
  }
}

function assertValidityHours(cert: crypto.X509Certificate, expected: number): void {
  const seconds = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / 1000;
  assert.equal(seconds, expected * 3600, `validity of ${cert.subject}`);
}

// ---------------------------------------------------------------------------------------------
// A real mTLS handshake (OpenSSL enforces names and key purposes on both sides).
// ---------------------------------------------------------------------------------------------

interface Side {
  key: string;
  cert: string;
}

/** What each side of a handshake saw: undefined on both when it succeeded and data flowed. */
interface Outcome {
  client?: string;
  server?: string;
}

/** Connects a client to a server, both on loopback, the client asking for `servername`. */
async function handshake(
  ca: string,
  server: Side,
  client: Side | undefined,
  servername: string,
  requireClientCert = false,
): Promise<Outcome> {
  const outcome: Outcome = {};
  // What rejectUnauthorized does, done by hand so the server's reason can be read; with
  // `requireClientCert`, done by OpenSSL, as buildkitd does (RequireAndVerifyClientCert).
  const listener = tls.createServer(
    { ...server, ca, requestCert: true, rejectUnauthorized: requireClientCert },
    (socket) => {
      if (socket.authorized) socket.end("ok");
      else {
        outcome.server = String(socket.authorizationError);
        socket.destroy();
      }
    },
  );
  listener.on("tlsClientError", (err) => (outcome.server ??= err.message));
  await new Promise<void>((resolve) => listener.listen(0, "127.0.0.1", resolve));
  const { port } = listener.address() as AddressInfo;
  try {
    outcome.client = await new Promise<string | undefined>((resolve) => {
      const socket = tls.connect({ host: "127.0.0.1", port, servername, ca, ...(client ?? {}) });
      let data = "";
      socket.on("data", (chunk) => (data += chunk));
      socket.on("end", () => resolve(data === "ok" ? undefined : "no data"));
      socket.on("error", (err) => resolve(err.message));
    });
    // The server's reason may arrive just after the client's hang-up.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return outcome;
  } finally {
    await new Promise((resolve) => listener.close(resolve));
  }
}

describe("mTLS handshake", () => {
  for (const algorithm of ["ECDSA_P256", "RSA_2048"] as const) {
    test(`${algorithm}: client and server authenticate each other; wrong names and purposes fail`, async () => {
      const name = `hs-${algorithm.toLowerCase().replace("_", "")}`;
      const ca = new mod.BuildkitCertificateAuthority(name, { keyAlgorithm: algorithm });
      const { cert, key } = await fleetServer(name, ca, { fleetName: "bk", namespace: "ci", replicas: 2 });
      const [caPem, clients] = await Promise.all([valueOf(ca.caCertPem), valueOf(ca.clientCertificates)]);
      const server = { cert, key };
      const client = { cert: clients.earthly.certPem, key: clients.earthly.privateKeyPem };
      for (const host of ["bk.ci.svc.cluster.local", "bk-1.bk-instances.ci", "bk"]) {
        assert.deepEqual(
          await handshake(caPem, server, client, host),
          { client: undefined },
          `handshake as ${host}`,
        );
      }
      const wrongName = await handshake(caPem, server, client, "bk-2.bk-instances.ci");
      assert.match(wrongName.client ?? "", /altnames/, "an instance past the last is not covered");
      // A server that requires a client certificate sends a client without one TLS 1.3's
      // "certificate required" alert (116), and reports the missing certificate: no other failure.
      const anonymous = await handshake(caPem, server, undefined, "bk", true);
      assert.match(anonymous.client ?? "", /alert certificate required/);
      assert.match(anonymous.server ?? "", /peer did not return a certificate/);
      assert.deepEqual(await handshake(caPem, server, client, "bk", true), { client: undefined });
      // The client certificate cannot serve, nor the server certificate authenticate a client.
      const clientServing = await handshake(caPem, client, client, "bk");
      assert.match(clientServing.client ?? "", /purpose/);
      const serverAsClient = await handshake(caPem, server, server, "bk");
      assert.equal(serverAsClient.server, "INVALID_PURPOSE");
    });
  }
});

// ---------------------------------------------------------------------------------------------
// Defaults, existing CA, determinism.
// ---------------------------------------------------------------------------------------------

describe("modes", () => {
  test("defaults: ECDSA P-256, one client called earthly, 10y CA, 1y certificates, 30d renewal", async () => {
    const name = `defaults-${hex()}`;
    const ca = new mod.BuildkitCertificateAuthority(name, {});
    await fleetServer(name, ca, { fleetName: "buildkitd", namespace: "earthly", replicas: 1 });
    const clients = await valueOf(ca.clientCertificates);
    assert.deepEqual(await valueOf(ca.issuer.apply((i) => ({ ...i, caCertPem: "", caPrivateKeyPem: "" }))), {
      caCertPem: "",
      caPrivateKeyPem: "",
      keyAlgorithm: "ECDSA_P256",
      certificateValidityHours: 8760,
      earlyRenewalHours: 720,
    });
    assert.deepEqual(Object.keys(clients), ["earthly"]);
    const records = recordsOf(name);
    assert.deepEqual(
      records.filter((r) => r.type === PRIVATE_KEY).map((r) => r.inputs),
      [1, 2, 3].map(() => ({ algorithm: "ECDSA", ecdsaCurve: "P256" })),
    );
    const caCert = record(`${name}-ca-cert`).inputs;
    assert.deepEqual(caCert.subject, { commonName: "earthly-buildkit-ca" });
    assert.equal(caCert.validityPeriodHours, 87600);
    assert.equal(caCert.earlyRenewalHours, 720);
    const csr = record(`${name}-fleet-server-csr`).inputs;
    assert.equal(csr.ipAddresses, undefined, "no empty IP list");
    assert.deepEqual(csr.dnsNames, [
      ...fourForms("buildkitd", "earthly"),
      ...fourForms("buildkitd-0.buildkitd-instances", "earthly"),
    ]);
    assert.equal(record(`${name}-client-earthly-cert`).inputs.validityPeriodHours, 8760);
    const caPem = new crypto.X509Certificate(await valueOf(ca.caCertPem));
    const client = new crypto.X509Certificate(clients.earthly.certPem);
    assert.equal(client.checkIssued(caPem), true);
  });

  test("custom validity, names and domain reach the resources", async () => {
    const name = `custom-${hex()}`;
    const ca = new mod.BuildkitCertificateAuthority(name, {
      keyAlgorithm: "RSA_2048",
      commonName: "Team Buildkit CA",
      caValidityHours: 20000,
      certificateValidityHours: 2000,
      earlyRenewalHours: 100,
      organization: "Team",
      clients: [],
    });
    const issued = await fleetServer(name, ca, {
      fleetName: "bk",
      namespace: "ci",
      replicas: 1,
      clusterDomain: "k8s.internal",
    });
    const server = new crypto.X509Certificate(issued.cert);
    assert.deepEqual(await valueOf(ca.clientCertificates), {});
    assert.equal(
      recordsOf(name).filter((r) => r.type === LOCALLY_SIGNED).length,
      1,
      "no client certificates",
    );
    assert.deepEqual(record(`${name}-ca-cert`).inputs.subject, {
      commonName: "Team Buildkit CA",
      organization: "Team",
    });
    // The issuer carries the CA's settings to the fleet's certificate.
    assert.deepEqual(record(`${name}-fleet-server-key`).inputs, { algorithm: "RSA", rsaBits: 2048 });
    assert.deepEqual(record(`${name}-fleet-server-csr`).inputs.subject, {
      commonName: "bk.ci.svc.k8s.internal",
      organization: "Team",
    });
    assert.match(server.subject, /O=Team/);
    assert.equal(record(`${name}-ca-cert`).inputs.validityPeriodHours, 20000);
    assert.equal(record(`${name}-ca-cert`).inputs.earlyRenewalHours, 100);
    assert.equal(record(`${name}-fleet-server-cert`).inputs.validityPeriodHours, 2000);
    assert.equal(record(`${name}-fleet-server-cert`).inputs.earlyRenewalHours, 100);
    assertValidityHours(server, 2000);
    assert.equal(server.checkHost("bk.ci.svc.k8s.internal", { subject: "never" }), "bk.ci.svc.k8s.internal");
    assert.equal(server.checkHost("bk.ci.svc.cluster.local", { subject: "never" }), undefined);
  });

  // The third form is what another language sends when a field of a plain object is secret: the
  // whole object as one secret Output (the one plain argument a component takes that way).
  for (const form of ["literal PEMs", "key as a secret Output", "whole as a secret Output"] as const) {
    test(`existingCa (${form}): no CA is created, the team's CA signs`, async () => {
      const team = await makeExternalCa("Team PKI Root", true);
      const name = `existing-${form.split(" ")[0]}-${form.split(" ")[1]}-${hex()}`;
      const existingCa =
        form === "literal PEMs"
          ? { certPem: team.certPem, privateKeyPem: team.keyPem }
          : form === "key as a secret Output"
            ? { certPem: team.certPem, privateKeyPem: pulumi.secret(team.keyPem) }
            : (pulumi.secret({ certPem: team.certPem, privateKeyPem: team.keyPem }) as never);
      const ca = new mod.BuildkitCertificateAuthority(name, { existingCa });
      const { cert: serverPem } = await fleetServer(name, ca, {
        fleetName: "buildkitd",
        namespace: "earthly",
        replicas: 2,
      });
      const [caPem, clients] = await Promise.all([valueOf(ca.caCertPem), valueOf(ca.clientCertificates)]);
      assert.equal(caPem, team.certPem);
      assert.equal(await pulumi.isSecret(ca.caCertPem), false);
      const records = recordsOf(name).filter((r) => r.type.startsWith("tls:"));
      assert.ok(!records.some((r) => r.type === SELF_SIGNED), "no self-signed CA");
      assert.ok(!records.some((r) => r.name === `${name}-ca-key`), "no CA key");
      assert.equal(records.filter((r) => r.type === PRIVATE_KEY).length, 2, "server and client keys only");
      for (const r of records.filter((x) => x.type === LOCALLY_SIGNED)) {
        assert.equal(plain(r.inputs.caCertPem), team.certPem);
        assert.ok(
          pulumi.runtime.isRpcSecret(r.inputs.caPrivateKeyPem),
          "the given CA key is passed as a secret",
        );
        assert.equal(plain(r.inputs.caPrivateKeyPem), team.keyPem);
      }
      const root = new crypto.X509Certificate(team.certPem);
      for (const pem of [serverPem, clients.earthly.certPem]) {
        const cert = new crypto.X509Certificate(pem);
        assert.equal(cert.checkIssued(root), true);
        assert.equal(cert.verify(root.publicKey), true);
      }
      assertParents(name);
    });
  }

  test("existingCa whose key arrives later as an Output: checked once resolved, nothing is signed", async () => {
    const team = await makeExternalCa("Team PKI Root", true);
    const other = await makeExternalCa("Other", true);
    const name = `existing-mismatch-${hex()}`;
    // Every resource and output fed by the refused key rejects too; under mocks those rejections
    // are unhandled (the engine would report them), so they are collected and checked as well.
    let ca: mod.BuildkitCertificateAuthority | undefined;
    const { error, rejections: stray } = await refusedInApply(() => {
      ca = new mod.BuildkitCertificateAuthority(name, {
        existingCa: { certPem: team.certPem, privateKeyPem: pulumi.secret(other.keyPem) },
      });
      return ca.clientCertificates;
    });
    assert.ok(error instanceof InvalidArgumentsError, String(error));
    assert.match(error.message, /invalid existingCa\.privateKeyPem: got "\(private key, not shown\)"/);
    assert.ok(!error.message.includes("PRIVATE KEY"));
    assert.ok(ca);
    await assert.rejects(valueOf(ca.issuer), InvalidArgumentsError);
    for (const reason of stray) {
      assert.match(String(reason), /invalid existingCa\.privateKeyPem/);
      assert.ok(!String(reason).includes("PRIVATE KEY"));
    }
    assert.deepEqual(
      recordsOf(name).filter((r) => r.type === LOCALLY_SIGNED),
      [],
      "nothing signed with the wrong key",
    );
  });

  test("deterministic: the same arguments register the same resources with the same inputs", async () => {
    const args: mod.BuildkitCertificateAuthorityArgs = { organization: "Team", clients: ["zeta", "alpha"] };
    const shapes: unknown[] = [];
    for (const name of [`det-a-${hex()}`, `det-b-${hex()}`]) {
      await valueOf(new mod.BuildkitCertificateAuthority(name, args).clientCertificates);
      shapes.push(
        recordsOf(name).map((r) => ({
          type: r.type,
          name: r.name.slice(name.length),
          inputs: JSON.parse(JSON.stringify(describedInputs(r.inputs)).split(name).join("<name>")),
        })),
      );
    }
    const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
    assert.deepEqual(
      (shapes[0] as { name: string }[]).sort(byName),
      (shapes[1] as { name: string }[]).sort(byName),
    );
    // The component, the CA's key and certificate, and three resources for each of two clients.
    assert.equal((shapes[0] as unknown[]).length, 1 + 2 + 2 * 3);
    assert.ok(JSON.stringify(shapes[0]).includes('"commonName":"zeta","organization":"Team"'));
  });
});

// ---------------------------------------------------------------------------------------------
// Bad arguments: an InvalidArgumentsError naming field and value, and nothing recorded.
// ---------------------------------------------------------------------------------------------

describe("bad arguments", () => {
  const cases: { title: string; args: Record<string, unknown>; field: string; value: string }[] = [
    {
      title: "earlyRenewalHours equal to the validity",
      args: { earlyRenewalHours: 8760 },
      field: "earlyRenewalHours",
      value: "8760",
    },
    {
      title: "earlyRenewalHours above a custom validity",
      args: { certificateValidityHours: 100, earlyRenewalHours: 200 },
      field: "earlyRenewalHours",
      value: "200",
    },
    {
      title: "certificates outliving the CA",
      args: { caValidityHours: 1000, certificateValidityHours: 2000 },
      field: "certificateValidityHours",
      value: "2000",
    },
    {
      title: "a negative validity",
      args: { certificateValidityHours: -1 },
      field: "certificateValidityHours",
      value: "-1",
    },
    {
      title: "duplicate client names",
      args: { clients: ["earthly", "ci", "earthly"] },
      field: "clients[2]",
      value: '"earthly"',
    },
    {
      title: "an upper-case client name",
      args: { clients: ["CI"] },
      field: "clients[0]",
      value: '"CI"',
    },
    {
      title: "a bad keyAlgorithm",
      args: { keyAlgorithm: "DSA" },
      field: "keyAlgorithm",
      value: '"DSA"',
    },
    {
      title: "a common name over 64 characters",
      args: { commonName: "c".repeat(65) },
      field: "commonName",
      value: `"${"c".repeat(65)}"`,
    },
    {
      title: "an Output where a plain value is needed",
      args: { organization: pulumi.output("Team") },
      field: "organization",
      value: '"an Output or Promise"',
    },
    {
      title: "the server argument of 0.1.0 previews",
      args: { server: { fleetName: "bk", namespace: "ci", replicas: 1 } },
      field: "server",
      value: '{"fleetName":"bk","namespace":"ci","replicas":1}',
    },
  ];
  for (const c of cases) {
    test(c.title, async () => {
      const name = `bad-${hex()}`;
      assert.throws(
        () =>
          new mod.BuildkitCertificateAuthority(
            name,
            c.args as unknown as mod.BuildkitCertificateAuthorityArgs,
          ),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentsError, String(err));
          const line = err.message.split("\n").find((l) => l.includes(`invalid ${c.field}:`));
          assert.ok(line, `message names ${c.field}: ${err.message}`);
          assert.ok(line.startsWith(`BuildkitCertificateAuthority "${name}"`), err.message);
          assert.ok(line.includes(`got ${c.value};`), `message names the value ${c.value}: ${line}`);
          assert.match(line, /allowed: \S/);
          return true;
        },
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(recordsOf(name), [], "nothing registered");
    });
  }

  test("an existing CA whose key is not the certificate's: refused, key not printed, nothing registered", async () => {
    const team = await makeExternalCa("Team PKI Root", true);
    const other = await makeExternalCa("Other", true);
    for (const [title, args] of [
      ["mismatched key", { existingCa: { certPem: team.certPem, privateKeyPem: other.keyPem } }],
      [
        "with a CA validity",
        { caValidityHours: 100, existingCa: { certPem: team.certPem, privateKeyPem: team.keyPem } },
      ],
    ] as const) {
      const name = `bad-ca-${hex()}`;
      assert.throws(
        () => new mod.BuildkitCertificateAuthority(name, args),
        (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentsError, title);
          assert.match(err.message, /invalid (existingCa\.privateKeyPem|caValidityHours)/);
          assert.ok(!err.message.includes("PRIVATE KEY"), "no key material in the message");
          return true;
        },
      );
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(recordsOf(name), []);
    }
  });
});

test("issueCertificate: empty DNS and IP lists are left out of the request (no [] against null diff); given ones are kept", async () => {
  const parent = new pulumi.ComponentResource("test:index:Leaves", "leaves");
  const ca = await testCa();
  const leaf = (resourceName: string, dnsNames: string[], ipAddresses: string[]) =>
    issueCertificate(
      parent,
      { certPem: ca.certPem, privateKeyPem: ca.keyPem },
      {
        resourceName,
        key: keyAlgorithmSettings(KeyAlgorithm.ECDSA_P256),
        subject: { commonName: resourceName },
        dnsNames,
        ipAddresses,
        allowedUses: ["digital_signature", "server_auth"],
        validityHours: 24,
        earlyRenewalHours: 1,
      },
    );
  await valueOf(leaf("empty-lists", [], []).certPem);
  await valueOf(leaf("given-lists", ["a.example.com"], ["10.0.0.1"]).certPem);
  const request = (name: string) => plain(record(`${name}-csr`).inputs) as Inputs;
  assert.equal("dnsNames" in request("empty-lists"), false);
  assert.equal("ipAddresses" in request("empty-lists"), false);
  assert.deepEqual(request("given-lists").dnsNames, ["a.example.com"]);
  assert.deepEqual(request("given-lists").ipAddresses, ["10.0.0.1"]);
});

// A fleet's issuer may give its organization as an Output (an issuer's fields are Inputs); one that
// resolves to nothing must still leave the common name in the subject.
test("subjectFor: CN alone, CN and O, and an organization given as an Output, set or not", async () => {
  assert.deepEqual(subjectFor("bk", undefined), { commonName: "bk" });
  assert.deepEqual(subjectFor("bk", "Team"), { commonName: "bk", organization: "Team" });
  const late = subjectFor("bk", pulumi.output("Team"));
  assert.ok(pulumi.Output.isInstance(late));
  assert.deepEqual(await valueOf(late as pulumi.Output<unknown>), { commonName: "bk", organization: "Team" });
  const none = subjectFor("bk", pulumi.output<string | undefined>(undefined));
  assert.deepEqual(await valueOf(none as pulumi.Output<unknown>), { commonName: "bk" });
  const promised = subjectFor("ca", Promise.resolve<string | undefined>(undefined));
  assert.deepEqual(await valueOf(promised as pulumi.Output<unknown>), { commonName: "ca" });
});
