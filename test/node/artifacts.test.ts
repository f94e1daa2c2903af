/**
 * The artifacts claim on a real node: whether the remote client (UID/GID 10001, read-only root) can
 * write the claim its outputs land on. A `local` PersistentVolume gets the pod's fsGroup from the
 * kubelet, so the client writes it; a `hostPath` one does not, as docs/production.md warns. No
 * provisioner runs here: the volumes are made by hand, each bound to its claim by name.
 */
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { test } from "node:test";
import * as kubernetes from "@pulumi/kubernetes";
import { EarthlyRemoteJob } from "../../components";
import { securedNamespace } from "../../stacks/namespaces";
import { PLAINTEXT_FLEET, engineProvider } from "../engine/programs";
import { nodeFixture } from "./fixture";
import { NODE_IMAGES, probeImage } from "./images";
import { probeReport } from "./probe";
import { claimOfVolume, nodeVolume } from "./volumes";

const node = nodeFixture();
const NAMESPACE = "artifacts";
test("artifacts claim: a local volume is writable by the client's UID 10001 through fsGroup; a hostPath one is not", async () => {
  const { cp } = node.cluster;
  node.cluster.importImage(probeImage());
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "node-tier-volumes-"));
  const dirs = { local: path.join(root, "local"), hostPath: path.join(root, "hostpath") };
  for (const dir of Object.values(dirs)) fs.mkdirSync(dir, { mode: 0o755 });
  const stack = await node.env.stack("artifacts", async () => {
    const k8s = { provider: engineProvider(cp) };
    const ns = securedNamespace(NAMESPACE, "restricted", k8s);
    const jobs = Object.fromEntries(
      (["local", "hostPath"] as const).map((kind) => {
        const claim = `out-${kind.toLowerCase()}`;
        const at = { namespace: NAMESPACE, name: claim };
        const pv = nodeVolume(`${claim}-pv`, kind, dirs[kind], at);
        const pvc = claimOfVolume(at, `${claim}-pv`);
        const volume = new kubernetes.core.v1.PersistentVolume(`${claim}-pv`, pv, k8s);
        const claimed = new kubernetes.core.v1.PersistentVolumeClaim(claim, pvc, {
          ...k8s,
          dependsOn: [ns, volume],
        });
        const job = new EarthlyRemoteJob(
          claim,
          {
            namespace: ns.metadata.name,
            target: "+probe",
            image: NODE_IMAGES.probe,
            // A fleet nobody dials: the probe only writes, it builds nothing.
            fleet: PLAINTEXT_FLEET,
            timeoutMinutes: 2,
            artifacts: { claimName: claim },
            scheduling: { tolerations: [{ operator: "Exists" }] },
            env: [{ name: "PROBE_WRITE", value: "/workspace/out" }],
          },
          { ...k8s, dependsOn: [claimed] },
        );
        return [kind, job.jobName];
      }),
    );
    return jobs;
  });
  try {
    const up = await stack.up();
    const local = await probeReport(cp, NAMESPACE, `job/${up.outputs.local.value}`);
    const hostPath = await probeReport(cp, NAMESPACE, `job/${up.outputs.hostPath.value}`);
    assert.match(local.id, /^uid=10001 /);
    assert.equal(local["write./workspace/out"], "ok", local.raw);
    // On the node: the file is the client's, in a folder the kubelet gave the pod's group.
    const written = fs.statSync(path.join(dirs.local, ".probe-write"));
    assert.equal(written.uid, 10001);
    assert.equal(fs.statSync(dirs.local).gid, 10001);
    assert.equal(hostPath["write./workspace/out"], "fail", hostPath.raw);
    assert.equal(fs.statSync(dirs.hostPath).gid, 0, "the kubelet leaves a hostPath volume's owner alone");
  } finally {
    await stack.destroy();
    fs.rmSync(root, { recursive: true, force: true });
  }
});
