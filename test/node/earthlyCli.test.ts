/**
 * The Earthly CLI's own builds on the real node, through the real engine: the all-in-one Job the
 * demo's way (its waiter) and the remote client on the fleet, building test/node/earthfile. The CLI
 * cannot be built from the registries here (docs/testing.md), so its image comes from you as an
 * image archive (`EARTHLY_IMAGE_ARCHIVE`, `docker save` output); without one those builds report
 * themselves skipped, saying so. The import of such an archive is tested always, with one the tier
 * makes.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as kubernetes from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { EarthlyAllInOneJob, EarthlyRemoteJob } from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { BUILDER_POOL, CLIENT_NAMESPACE } from "../../stacks/demoArgs";
import { buildOutputs } from "../../stacks/buildOutputs";
import { securedNamespace } from "../../stacks/namespaces";
import { engineBinaries } from "../engine/binaries";
import { engineProvider, programWaiter } from "../engine/programs";
import { collectingRejections } from "../support/rejections";
import { NODE_CACHE, NODE_VERSIONS, nodeBuilds } from "./binaries";
import { ONE_NODE_TOLERATIONS, fleetProgram, fleetUnderTestPems } from "./buildClient";
import { nodeFixture } from "./fixture";
import { buildkitdImage, imageArchive, probeImage } from "./images";
import { parseProbe, finishedLog } from "./probe";
import { ClaimName, claimOfVolume, nodeVolume } from "./volumes";

const node = nodeFixture();
const ARCHIVE = process.env.EARTHLY_IMAGE_ARCHIVE ?? "";
/** Why the CLI's builds are skipped (false: they run). A skip is not a pass: it says what is missing. */
const CLI_SKIP =
  ARCHIVE === ""
    ? "EARTHLY_IMAGE_ARCHIVE is not set: the earthly CLI cannot be built from the registries here, so " +
      "its builds need an earthly/earthly image archive from you, e.g. `docker save " +
      `earthly/earthly:${NODE_VERSIONS.earthly} -o earthly.tar` +
      "` then `EARTHLY_IMAGE_ARCHIVE=$PWD/earthly.tar npm run test:node`"
    : false;
const AIO_NAMESPACE = "earthly-cli";

test("an image archive as `docker save` writes it is imported under the names its manifest carries, and runs by that name", async () => {
  const { cp } = node.cluster;
  // A Docker-style short name, as an earthly/earthly archive carries.
  const reference = "archive-check/probe:1";
  const archive = imageArchive({ ...probeImage(), reference }, path.join(NODE_CACHE, "images"));
  assert.deepEqual(node.cluster.importArchive(archive), [reference]);
  const namespace = "archive-check";
  cp.kubectl(["create", "namespace", namespace]);
  const pod = {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "imported", namespace },
    spec: {
      restartPolicy: "Never",
      tolerations: ONE_NODE_TOLERATIONS,
      // No registry serves it: the pod starts only from the imported image.
      containers: [{ name: "probe", image: reference, imagePullPolicy: "IfNotPresent" }],
    },
  };
  cp.kubectl(["apply", "-f", "-"], JSON.stringify(pod));
  const report = parseProbe(await finishedLog(cp, namespace, "pod/imported"));
  assert.match(report.id, /^uid=0/);
});

test(
  "an EARTHLY_IMAGE_ARCHIVE that is not a file fails the tier, it does not skip",
  { skip: ARCHIVE === "" },
  () => {
    assert.ok(fs.statSync(ARCHIVE).isFile(), `EARTHLY_IMAGE_ARCHIVE=${ARCHIVE} is not a file`);
  },
);

/**
 * In a Pulumi program: a folder on the node as a local volume and its claim; with `earthfile`, the
 * Earthfile and busybox beside it (a Job's source volume), else empty (an artifacts claim).
 */
function claimedFolder(
  root: string,
  claim: ClaimName,
  earthfile: boolean,
  k8s: pulumi.CustomResourceOptions,
  dependsOn: pulumi.Resource[],
) {
  const dir = path.join(root, `${claim.namespace}-${claim.name}`);
  fs.mkdirSync(dir, { recursive: true });
  if (earthfile) {
    fs.copyFileSync(path.join(__dirname, "earthfile", "Earthfile"), path.join(dir, "Earthfile"));
    fs.copyFileSync("/bin/busybox", path.join(dir, "busybox"));
  }
  const volume = new kubernetes.core.v1.PersistentVolume(
    `${claim.namespace}-${claim.name}`,
    nodeVolume(`${claim.namespace}-${claim.name}`, "local", dir, claim),
    k8s,
  );
  const pvc = new kubernetes.core.v1.PersistentVolumeClaim(
    `${claim.namespace}-${claim.name}`,
    claimOfVolume(claim, `${claim.namespace}-${claim.name}`),
    { ...k8s, dependsOn: [volume, ...dependsOn] },
  );
  return { dir, pvc };
}

describe("the Earthly CLI's builds (EARTHLY_IMAGE_ARCHIVE)", { skip: CLI_SKIP }, () => {
  let earthlyImage = "";
  let root = "";
  before(() => {
    const tags = node.cluster.importArchive(ARCHIVE);
    earthlyImage = tags.find((t) => /earthly/.test(t)) ?? tags[0];
    node.cluster.importImage(buildkitdImage(nodeBuilds(), NODE_VERSIONS.earthly));
    root = fs.mkdtempSync(path.join(os.tmpdir(), "node-tier-earthfile-"));
  });
  after(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  /** The all-in-one Job on the builder pool, the demo's way (its waiter decides `up`). */
  async function allInOne(stackName: string, target: string) {
    const { cp } = node.cluster;
    let dir = "";
    const stack = await node.env.stack(stackName, async () => {
      const k8s = { provider: engineProvider(cp) };
      const namespace = securedNamespace(AIO_NAMESPACE, "privileged", k8s);
      const source = claimedFolder(root, { namespace: AIO_NAMESPACE, name: stackName }, true, k8s, [
        namespace,
      ]);
      dir = source.dir;
      const job = new EarthlyAllInOneJob(
        "build",
        {
          namespace: AIO_NAMESPACE,
          target,
          image: earthlyImage,
          scheduling: schedulingForPool(BUILDER_POOL),
          sourceVolume: { persistentVolumeClaimName: stackName },
          waitForCompletion: false,
        },
        { ...k8s, dependsOn: [source.pvc] },
      );
      return buildOutputs({ kubeconfig: pulumi.secret(cp.kubeconfig), kubeContext: "node" }, job, {
        timeoutMinutes: 10,
        pollSeconds: 2,
        runWaiter: programWaiter(path.dirname(engineBinaries().kubectl)),
      });
    });
    return { stack, dir: () => dir };
  }

  test("all-in-one, the demo's way: +build runs its RUN steps and SAVE ARTIFACT AS LOCAL writes to the source volume", async () => {
    const { stack, dir } = await allInOne("aio-build", "+build");
    try {
      const up = await stack.up();
      assert.equal(up.outputs.buildResult.value, "succeeded");
      assert.equal(fs.readFileSync(path.join(dir(), "out", "two.txt"), "utf8"), "one\ntwo\n");
    } finally {
      await stack.destroy();
    }
  });

  test("all-in-one, the demo's way: +fail fails `up` with the failing step's own log lines", async () => {
    const { stack } = await allInOne("aio-fail", "+fail");
    try {
      let message = "";
      await collectingRejections(async () => {
        await assert.rejects(stack.up(), (e: Error) => {
          message = e.message;
          return true;
        });
      });
      assert.match(
        message,
        /The Earthly build failed: job\/build-[0-9a-z]+ in namespace earthly-cli/,
        message,
      );
      assert.match(message, /earthfile about to fail/, message);
      assert.match(message, /exit code:? 3/i, message);
    } finally {
      await stack.destroy();
    }
  });

  test("remote: +build on the fleet over mTLS; under --ci the artifact lands on the artifacts claim", async () => {
    const { cp } = node.cluster;
    const pems = await fleetUnderTestPems(1);
    let dirs = { source: "", artifacts: "" };
    const stack = await node.env.stack("remote-cli", async () => {
      const { k8s, clients, fleet } = fleetProgram(cp, { replicas: 1 }, pems);
      const source = claimedFolder(root, { namespace: CLIENT_NAMESPACE, name: "source" }, true, k8s, [
        clients,
      ]);
      const artifacts = claimedFolder(root, { namespace: CLIENT_NAMESPACE, name: "artifacts" }, false, k8s, [
        clients,
      ]);
      dirs = { source: source.dir, artifacts: artifacts.dir };
      const job = new EarthlyRemoteJob(
        "build",
        {
          namespace: CLIENT_NAMESPACE,
          target: "+build",
          flags: ["--ci"],
          image: earthlyImage,
          fleet: fleet.connection,
          clientCertPem: pems.clientCertPem,
          clientPrivateKeyPem: pulumi.secret(pems.clientPrivateKeyPem),
          sourceVolume: { persistentVolumeClaimName: "source" },
          artifacts: { claimName: "artifacts" },
          scheduling: { tolerations: ONE_NODE_TOLERATIONS },
          timeoutMinutes: 10,
        },
        { ...k8s, dependsOn: [source.pvc, artifacts.pvc] },
      );
      return { jobName: job.jobName };
    });
    try {
      const up = await stack.up();
      const log = cp.kubectl(["logs", "-n", CLIENT_NAMESPACE, `job/${up.outputs.jobName.value}`]);
      assert.match(log, /earthfile step 2/, log);
      assert.equal(fs.readFileSync(path.join(dirs.artifacts, "two.txt"), "utf8"), "one\ntwo\n", log);
    } finally {
      await stack.destroy();
    }
  });
});
