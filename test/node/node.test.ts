/**
 * The real node itself: a pod scheduled onto the builder pool's node by the real scheduler, started
 * by a real kubelet through containerd and runc, with its network from the bridge CNI, its DNS from
 * CoreDNS and its log read back through the API server.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { nodeFixture } from "./fixture";
import { probeImage, NODE_IMAGES } from "./images";
import { probeReport } from "./probe";

const node = nodeFixture();

test("a probe pod runs on the real node: privileged where asked, on the pod network, with cluster DNS", async () => {
  const { cp } = node.cluster;
  node.cluster.importImage(probeImage());
  cp.kubectl(["create", "namespace", "smoke"]);
  cp.kubectl(
    ["apply", "-f", "-"],
    JSON.stringify({
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "probe", namespace: "smoke" },
      spec: {
        restartPolicy: "Never",
        tolerations: [{ operator: "Exists" }],
        containers: [
          {
            name: "probe",
            image: NODE_IMAGES.probe,
            imagePullPolicy: "Never",
            args: ["hello", "node"],
            env: [{ name: "PROBE_RESOLVE", value: "kubernetes.default.svc.cluster.local" }],
          },
        ],
      },
    }),
  );
  const report = await probeReport(cp, "smoke", "pod/probe");
  assert.equal(report.args, "hello node");
  assert.match(report.id, /^uid=0\(root\)/);
  assert.equal(report["resolve.kubernetes.default.svc.cluster.local"], "10.96.0.1");
  assert.match(report["env.HOSTNAME"] ?? report.hostname, /^probe$/);
});
