/**
 * The remote mode on a real node, through the real Pulumi engine: the fleet's StatefulSet running
 * Earthly's buildkitd (the image laid out as Earthly's, from registry-served parts) with mTLS, and
 * the remote client Job's pod with the probe image in place of earthly/earthly, reporting what it
 * sees from inside: its user, its read-only root, its certificates, the fleet's names and ports.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { EarthlyRemoteJob } from "../../components";
import { fleetNames } from "../../components/fleet/names";
import { CLIENT_CERT_DIR, CLIENT_CERT_FILES } from "../../components/jobs/earthlyRemoteJob";
import { BUILDER_NAMESPACE, CLIENT_NAMESPACE, DEMO_SCRATCH, FLEET_NAME } from "../../stacks/demoArgs";
import { FleetPems, fleetPems } from "../engine/certificates";
import { NODE_VERSIONS, nodeBuilds } from "./binaries";
import { ONE_NODE_TOLERATIONS, fleetProgram } from "./buildClient";
import { NODE_NAME, nodeFixture } from "./fixture";
import { NODE_IMAGES, buildkitdImage, probeImage } from "./images";
import { ProbeReport, probeReport } from "./probe";

const node = nodeFixture();
const REPLICAS = 2;
const CACHE_SIZE_MB = 3072;
const CNI_MTU = 1400;
const IDENTITY = { fleetName: FLEET_NAME, namespace: BUILDER_NAMESPACE, replicas: REPLICAS };
/** The names the fleet serves, as the component derives them. */
const NAMES = fleetNames(IDENTITY);

interface Deployed {
  pems: FleetPems;
  jobName: string;
  buildkitHost: string;
  instanceHosts: string[];
  clientHost: string;
}

/** Writes `text` to `dir/name` (owner-only) and returns the path. */
function write(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text, { mode: 0o600 });
  return f;
}

/** buildctl (Earthly's fork, built for the tier) against one daemon, from the host. */
function buildctl(address: string, tls?: { pems: FleetPems; serverName: string; dir: string }) {
  const args = ["--addr", address, "--timeout", "20"];
  if (tls) {
    const file = (name: string, text: string) => write(tls.dir, name, text);
    args.push(
      "--tlsservername",
      tls.serverName,
      "--tlscacert",
      file("ca.pem", tls.pems.caCertPem),
      "--tlscert",
      file("cert.pem", tls.pems.clientCertPem),
      "--tlskey",
      file("key.pem", tls.pems.clientPrivateKeyPem),
    );
  }
  const r = spawnSync(nodeBuilds().buildctl, [...args, "debug", "workers"], {
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

describe("remote mode on a real node", () => {
  let deployed: Deployed | undefined;
  let destroy: (() => Promise<void>) | undefined;
  const got = (): Deployed => {
    assert.ok(deployed, "the fleet and client were deployed in before()");
    return deployed;
  };

  before(async () => {
    const builds = nodeBuilds();
    node.cluster.importImage(buildkitdImage(builds, NODE_VERSIONS.earthly));
    node.cluster.importImage(probeImage());
    const pems = await fleetPems(IDENTITY);
    const { cp } = node.cluster;
    const stack = await node.env.stack("remote", async () => {
      const { k8s, clients, fleet } = fleetProgram(
        cp,
        {
          replicas: REPLICAS,
          more: { scratchVolume: DEMO_SCRATCH, cacheSizeMb: CACHE_SIZE_MB, cniMtu: CNI_MTU },
        },
        pems,
      );
      const certFiles = Object.values(CLIENT_CERT_FILES).map((f) => `${CLIENT_CERT_DIR}/${f}`);
      const job = new EarthlyRemoteJob(
        "build",
        {
          namespace: clients.metadata.name,
          target: "+probe",
          image: NODE_IMAGES.probe,
          timeoutMinutes: 3,
          fleet: fleet.connection,
          clientCertPem: pems.clientCertPem,
          clientPrivateKeyPem: pulumi.secret(pems.clientPrivateKeyPem),
          // One node: the client tolerates the builder pool's taint here. On a cluster it runs on
          // ordinary nodes (the demo's general pool).
          scheduling: { tolerations: ONE_NODE_TOLERATIONS },
          env: [
            { name: "PROBE_WRITE", value: "/ /etc /tmp /workspace /home/earthly" },
            { name: "PROBE_READ", value: certFiles.join(" ") },
            { name: "PROBE_RESOLVE", value: [NAMES.serviceHost, ...NAMES.instanceHosts].join(" ") },
            {
              name: "PROBE_CONNECT",
              value: [NAMES.serviceHost, ...NAMES.instanceHosts].map((h) => `${h}:8372`).join(" "),
            },
          ],
        },
        k8s,
      );
      return {
        jobName: job.jobName,
        buildkitHost: fleet.buildkitHost,
        clientHost: job.buildkitHost,
        instanceHosts: fleet.connection.apply((c) => c.instanceHosts),
      };
    });
    destroy = async () => void (await stack.destroy());
    const up = await stack.up();
    deployed = {
      pems,
      jobName: up.outputs.jobName.value as string,
      buildkitHost: up.outputs.buildkitHost.value as string,
      clientHost: up.outputs.clientHost.value as string,
      instanceHosts: up.outputs.instanceHosts.value as string[],
    };
  });

  after(async () => {
    await destroy?.();
  });

  test("fleet: every instance Ready by its own probe, on the builder node, running Earthly's buildkitd", () => {
    const { cp } = node.cluster;
    const pods = JSON.parse(cp.kubectl(["get", "pods", "-n", BUILDER_NAMESPACE, "-o", "json"])).items;
    assert.equal(pods.length, REPLICAS);
    for (const pod of pods) {
      assert.equal(pod.spec.nodeName, NODE_NAME);
      const ready = pod.status.conditions.find((c: { type: string }) => c.type === "Ready");
      assert.equal(ready.status, "True", JSON.stringify(pod.status));
      const log = cp.kubectl(["logs", "-n", BUILDER_NAMESPACE, pod.metadata.name]);
      assert.match(log, /running server on \[::\]:8372/, log);
      const version = cp.kubectl([
        "exec",
        "-n",
        BUILDER_NAMESPACE,
        pod.metadata.name,
        "--",
        "buildkitd",
        "--version",
      ]);
      assert.equal(version.trim(), "buildkitd github.com/earthly/buildkit v0.8.16 531b303aa8ec");
    }
  });

  test("fleet: mTLS on: our client certificate gets a BuildKit answer, no TLS or another CA's certificate is refused", async () => {
    const { cp } = node.cluster;
    const { pems, instanceHosts } = got();
    const ip = cp.kubectl([
      "get",
      "pod",
      "-n",
      BUILDER_NAMESPACE,
      `${FLEET_NAME}-0`,
      "-o",
      "jsonpath={.status.podIP}",
    ]);
    const address = `tcp://${ip}:8372`;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-buildctl-"));
    try {
      const ours = buildctl(address, { pems, serverName: instanceHosts[0], dir });
      assert.equal(ours.status, 0, ours.out);
      assert.match(ours.out, /^ID\s+PLATFORMS/m, ours.out);
      assert.match(ours.out, /linux\/amd64/, ours.out);

      // Without TLS, the daemon never speaks HTTP/2 to the client.
      const plain = buildctl(address);
      assert.notEqual(plain.status, 0, plain.out);
      assert.match(plain.out, /error reading server preface/, plain.out);

      // The daemon's own verdict, as its TLS alert (buildctl sees only a closed connection under
      // TLS 1.3): a certificate from another CA, and none at all.
      const foreign = await fleetPems(IDENTITY);
      const alert = (cert?: { certPem: string; keyPem: string }) => {
        const args = ["s_client", "-connect", `${ip}:8372`, "-servername", instanceHosts[0]];
        args.push("-CAfile", write(dir, "ca.pem", pems.caCertPem));
        if (cert)
          args.push("-cert", write(dir, "c.pem", cert.certPem), "-key", write(dir, "k.pem", cert.keyPem));
        // The alert arrives after the handshake, on the first read: keep stdin open a moment.
        const r = spawnSync("sh", ["-c", 'sleep 1 | openssl "$@"', "sh", ...args], {
          encoding: "utf8",
          timeout: 30_000,
        });
        return `${r.stdout}${r.stderr}`;
      };
      assert.match(
        alert({ certPem: foreign.clientCertPem, keyPem: foreign.clientPrivateKeyPem }),
        /alert unknown ca/,
      );
      assert.match(alert(), /alert certificate required/);
      const refused = buildctl(address, {
        pems: { ...foreign, caCertPem: pems.caCertPem },
        serverName: instanceHosts[0],
        dir,
      });
      assert.notEqual(refused.status, 0, refused.out);
      assert.doesNotMatch(refused.out, /PLATFORMS/);

      const wrongName = buildctl(address, { pems, serverName: "not-the-fleet.example.com", dir });
      assert.notEqual(wrongName.status, 0, wrongName.out);
      assert.match(
        wrongName.out,
        /certificate is valid for .*not not-the-fleet\.example\.com/,
        wrongName.out,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("fleet: CACHE_SIZE_MB and CNI_MTU reach the daemon's rendered configuration", () => {
    const { cp } = node.cluster;
    const set = JSON.parse(
      cp.kubectl(["get", "statefulset", "-n", BUILDER_NAMESPACE, FLEET_NAME, "-o", "json"]),
    );
    const env: { name: string; value?: string }[] = set.spec.template.spec.containers[0].env;
    const cacheMb = env.find((e) => e.name === "CACHE_SIZE_MB")?.value;
    assert.equal(cacheMb, String(CACHE_SIZE_MB));
    for (let i = 0; i < REPLICAS; i++) {
      const exec = (file: string) =>
        cp.kubectl(["exec", "-n", BUILDER_NAMESPACE, `${FLEET_NAME}-${i}`, "--", "cat", file]);
      const toml = exec("/etc/buildkitd.toml");
      assert.match(toml, new RegExp(`gckeepstorage = ${CACHE_SIZE_MB}\\b`), toml);
      assert.match(toml, new RegExp(`keepBytes = ${CACHE_SIZE_MB * 1024 * 1024}\\b`), toml);
      assert.match(toml, /\[grpc\.tls\]/, toml);
      const cni = JSON.parse(exec("/etc/cni/cni-conf.json"));
      assert.equal(cni.mtu, CNI_MTU);
    }
  });

  test("remote client: UID 10001, read-only root, 0400 certificates readable, fleet names resolved and reached, EARTHLY_BUILDKIT_HOST", async (t) => {
    const { cp } = node.cluster;
    const { jobName, buildkitHost, instanceHosts, clientHost } = got();
    const report: ProbeReport = await probeReport(cp, CLIENT_NAMESPACE, `job/${jobName}`);
    assert.match(report.id, /^uid=10001 gid=10001 groups=10001/);
    assert.equal(report["write./"], "fail", "the root filesystem is read-only");
    assert.equal(report["write./etc"], "fail");
    for (const writable of ["/tmp", "/workspace", "/home/earthly"])
      assert.equal(report[`write.${writable}`], "ok");
    assert.equal(report.capeff, "0000000000000000");
    for (const f of Object.values(CLIENT_CERT_FILES)) {
      assert.equal(report[`read.${CLIENT_CERT_DIR}/${f}`], "ok", f);
      // defaultMode 0400, and fsGroup gives the group (the client's GID) read.
      assert.match(report[`mode.${CLIENT_CERT_DIR}/${f}`], /^4[04]0 0:10001$/, f);
    }
    assert.equal(report.args, "--no-output +probe", "no flags: the client turns outputs off");
    assert.equal(report["env.NO_BUILDKIT"], "1");
    assert.equal(report["env.EARTHLY_BUILDKIT_HOST"], clientHost);
    assert.equal(report["env.BUILDKIT_HOST"], undefined);
    const service = new URL(buildkitHost);
    assert.match(
      report[`resolve.${service.hostname}`],
      /^10\.96\./,
      "the Service's ClusterIP, through CoreDNS",
    );
    assert.equal(report[`connect.${service.host}`], "ok", "through kube-proxy to a daemon");
    for (const host of instanceHosts) {
      // An instance's record can follow the client's start by a moment (the probe tries again).
      t.diagnostic(`${host}: resolved on try ${report[`resolveTries.${host}`]}`);
      assert.match(report[`resolve.${host}`], /^10\.244\.0\./, `${host}: the instance's pod IP`);
      assert.equal(report[`connect.${host}:8372`], "ok", host);
    }
  });
});
