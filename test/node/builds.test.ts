/**
 * Real builds through the fleet on a real node, through the real Pulumi engine: Earthly's buildkitd
 * behind the fleet's mTLS and `persistentCache` on pre-created local PersistentVolumes, and remote
 * client Jobs (`EarthlyRemoteJob`, buildctl from the daemon's own BuildKit fork in place of the
 * earthly CLI) building test/node/workload/Dockerfile. Everything asserted comes from the build's
 * own output.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BUILDER_NAMESPACE, FLEET_NAME } from "../../stacks/demoArgs";
import { ControlPlane, waitFor } from "../engine/controlPlane";
import { fleetPems } from "../engine/certificates";
import {
  BuildBench,
  CACHE_CLASS,
  ClientResult,
  cacheClaimOf,
  cacheKeyFor,
  deployBuildBench,
  namesOf,
} from "./buildClient";
import { nodeFixture } from "./fixture";

const node = nodeFixture();
const REPLICAS = 2;
const NAMES = namesOf(REPLICAS);
const claimOf = (i: number) => cacheClaimOf(i, NAMES);
const keyFor = (i: number) => cacheKeyFor("node-tier-project", i, NAMES);
const ARTIFACT = /^workload result [0-9a-f]{16} after 16 MiB per step$/;

/** Waits until instance `i`'s pod is Ready (its own `nc -z` probe). */
async function instanceReady(cp: ControlPlane, i: number): Promise<void> {
  const pod = NAMES.instanceNames[i];
  await waitFor(
    `${pod} Ready`,
    240_000,
    () => {
      const r = cp.tryKubectl([
        "get",
        "pod",
        "-n",
        BUILDER_NAMESPACE,
        pod,
        "-o",
        'jsonpath={.metadata.deletionTimestamp}/{.status.conditions[?(@.type=="Ready")].status}',
      ]);
      return r.status === 0 && r.stdout === "/True";
    },
    [],
  );
}

/** The lines of a client log that show steps running. */
const stepLines = (log: string) =>
  log
    .split("\n")
    .filter((l) => /workload step \d/.test(l))
    .slice(0, 4);

/** The assertion message: the client's whole log. */
const logOf = (r: ClientResult) => `job/${r.jobName} on ${r.host}:\n${r.log}`;

describe("real builds through the fleet", () => {
  let bench: BuildBench | undefined;
  const got = (): BuildBench => {
    assert.ok(bench, "the fleet was deployed in before()");
    return bench;
  };

  before(async () => {
    bench = await deployBuildBench(
      node,
      { replicas: REPLICAS, persistentCache: { size: "4Gi", storageClassName: CACHE_CLASS } },
      "builds",
    );
  });

  after(async () => {
    await bench?.destroy();
  });

  test("through the fleet's Service, over mTLS: every step runs, the artifact comes back", async (t) => {
    const r = await got().run({});
    // The real build's own lines, in the tier's output: the evidence a reader can quote.
    t.diagnostic(`cold build on ${r.worker}: ${r.seconds} s; ${stepLines(r.log).join(" | ")}`);
    assert.equal(r.host, `tcp://${NAMES.serviceHost}:8372`);
    assert.equal(r.status, 0, logOf(r));
    assert.ok(got().workerIds().includes(r.worker), `worker ${r.worker} is one of the fleet's: ${logOf(r)}`);
    assert.deepEqual(r.stepsRun, [1, 2, 3, 4], logOf(r));
    assert.match(r.log, /^#\d+ \[work 1\/5\] RUN echo "workload step 1"/m, logOf(r));
    assert.match(r.log, /^#\d+ DONE \d+\.\d+s$/m, logOf(r));
    assert.match(r.artifact ?? "", ARTIFACT, logOf(r));
  });

  test("pinned by cacheKey to each instance's own name: the daemon of that name answers; a repeat there is all cache", async (t) => {
    const ids = got().workerIds();
    assert.equal(new Set(ids).size, REPLICAS, `each instance has its own worker: ${ids.join(", ")}`);
    for (let i = 0; i < REPLICAS; i++) {
      const first = await got().run({ cacheKey: keyFor(i) });
      assert.equal(first.host, `tcp://${NAMES.instanceHosts[i]}:8372`);
      assert.equal(first.status, 0, logOf(first));
      assert.equal(first.worker, ids[i], logOf(first));
      const repeat = await got().run({ cacheKey: keyFor(i) });
      assert.equal(repeat.status, 0, logOf(repeat));
      assert.equal(repeat.worker, ids[i], logOf(repeat));
      assert.deepEqual(repeat.stepsRun, [], `no step ran again: ${logOf(repeat)}`);
      assert.match(repeat.log, /^#\d+ CACHED$/m, logOf(repeat));
      t.diagnostic(
        `instance ${i}: first ${first.seconds} s, repeat ${repeat.seconds} s (${repeat.log.match(/^#\d+ CACHED$/gm)?.length} steps CACHED)`,
      );
      assert.equal(repeat.artifact, first.artifact);
    }
  });

  test("a failing step fails the client's build with the step's exit code", async () => {
    const r = await got().run({ target: "+fail", cacheKey: keyFor(0) });
    assert.notEqual(r.status, 0, logOf(r));
    assert.match(r.log, /^#\d+ \d+\.\d+ workload about to fail$/m, logOf(r));
    assert.match(r.log, /did not complete successfully: exit code: 3/, logOf(r));
    assert.equal(r.artifact, undefined);
  });

  test("refused: a client certificate from another CA, and a server name outside the server certificate", async () => {
    // Certificates of another CA, made for the same names.
    const foreign = await fleetPems({
      fleetName: FLEET_NAME,
      namespace: BUILDER_NAMESPACE,
      replicas: REPLICAS,
    });
    // Refused on every try (three, not the 60 a client waits for a daemon that is not there yet).
    const stranger = await got().run({
      cacheKey: keyFor(0),
      clientCert: { certPem: foreign.clientCertPem, keyPem: foreign.clientPrivateKeyPem },
      connectTries: 3,
    });
    assert.notEqual(stranger.status, 0, logOf(stranger));
    assert.equal(stranger.worker, "", `no daemon answered: ${logOf(stranger)}`);
    assert.equal(stranger.connectTries, 3, logOf(stranger));
    assert.deepEqual(stranger.stepsRun, []);
    // Under TLS 1.3 the client's handshake ends before the daemon checks its certificate: the
    // daemon's alert ("unknown certificate authority") or, when the client writes first, a closed
    // connection. The daemon's own verdict is asserted in fleet.test.ts.
    assert.match(
      stranger.log,
      /Unavailable: .*(remote error: tls: unknown certificate authority|write: broken pipe|connection reset by peer)/,
      logOf(stranger),
    );

    const wrongName = await got().run({
      cacheKey: keyFor(0),
      serverName: "not-the-fleet.example.com",
      connectTries: 3,
    });
    assert.notEqual(wrongName.status, 0, logOf(wrongName));
    assert.equal(wrongName.worker, "", logOf(wrongName));
    assert.equal(wrongName.connectTries, 3, logOf(wrongName));
    assert.match(
      wrongName.log,
      /certificate is valid for .*not not-the-fleet\.example\.com/,
      logOf(wrongName),
    );
  });

  test("persistentCache: after the daemon's pod is recreated its claim serves the build from cache; after the claim is gone the build is cold", async () => {
    const { cp } = node.cluster;
    const key = keyFor(0);
    const warm = await got().run({ cacheKey: key });
    assert.deepEqual(warm.stepsRun, [], `warm before the restart: ${logOf(warm)}`);
    const before = got().workerIds()[0];

    cp.kubectl(["delete", "pod", "-n", BUILDER_NAMESPACE, NAMES.instanceNames[0], "--wait=true"]);
    await instanceReady(cp, 0);
    const restarted = await got().run({ cacheKey: key });
    assert.equal(restarted.status, 0, logOf(restarted));
    assert.equal(restarted.worker, before, "the same worker state, from the claim");
    assert.deepEqual(restarted.stepsRun, [], `served from the claim after the restart: ${logOf(restarted)}`);
    assert.equal(restarted.artifact, warm.artifact);

    // The claim goes (its protection holds it until the pod is gone), the pod with it; the
    // StatefulSet makes a new claim, bound to a new, empty volume.
    const claimUid = () =>
      cp.tryKubectl(["get", "pvc", "-n", BUILDER_NAMESPACE, claimOf(0), "-o", "jsonpath={.metadata.uid}"])
        .stdout;
    const oldClaim = claimUid();
    cp.kubectl(["delete", "pvc", "-n", BUILDER_NAMESPACE, claimOf(0), "--wait=false"]);
    cp.kubectl(["delete", "pod", "-n", BUILDER_NAMESPACE, NAMES.instanceNames[0], "--wait=true"]);
    await waitFor(`${claimOf(0)} deleted`, 120_000, () => claimUid() !== oldClaim, []);
    got().newCacheVolume(claimOf(0));
    await instanceReady(cp, 0);
    const fresh = await got().run({ cacheKey: key });
    assert.equal(fresh.status, 0, logOf(fresh));
    assert.notEqual(fresh.worker, before, "a new worker state on the new claim");
    assert.deepEqual(fresh.stepsRun, [1, 2, 3, 4], `cold again: ${logOf(fresh)}`);
    assert.equal(fresh.artifact, warm.artifact, "the same inputs give the same result");
  });
});
