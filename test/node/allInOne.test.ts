/**
 * The all-in-one Job on a real node, through the real Pulumi engine: its pod as the component renders
 * it, run by a real kubelet with the probe image in place of earthly/earthly (given through the
 * component's `image` input), reporting what it sees from inside.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DEMO_SCRATCH } from "../../stacks/demoArgs";
import { allInOneOnBuilders } from "../engine/programs";
import { NODE_NAME, nodeFixture } from "./fixture";
import { NODE_IMAGES, probeImage } from "./images";
import { ProbeReport, probeReport } from "./probe";

const node = nodeFixture();

/** CAP_SYS_ADMIN, bit 21 of a capability mask. */
const CAP_SYS_ADMIN = 1n << 21n;

interface RenderedContainer {
  env: { name: string; value?: string }[];
  workingDir: string;
  args: string[];
}

test("all-in-one Job: privileged on the builder node, EARTHLY_TMP_DIR writable, SRC_DIR and workingDir, env as rendered", async () => {
  const { cp } = node.cluster;
  node.cluster.importImage(probeImage());
  const stack = await node.env.stack("aio", async () => {
    const job = allInOneOnBuilders(cp, "aio-node", {
      image: NODE_IMAGES.probe,
      target: "+probe",
      flags: ["--ci"],
      cniMtu: 1400,
      scratchVolume: DEMO_SCRATCH,
      timeoutMinutes: 3,
      env: [{ name: "PROBE_WRITE", value: "/tmp/earthly /workspace" }],
    });
    return { jobName: job.jobName as pulumi.Output<string> };
  });
  try {
    const up = await stack.up();
    const jobName = up.outputs.jobName.value as string;
    const report: ProbeReport = await probeReport(cp, "aio-node", `job/${jobName}`);
    const pod = JSON.parse(
      cp.kubectl(["get", "pods", "-n", "aio-node", "-l", `job-name=${jobName}`, "-o", "json"]),
    ).items[0];
    assert.equal(pod.spec.nodeName, NODE_NAME, "scheduled onto the builder pool's real node");
    assert.equal(pod.status.phase, "Succeeded");

    // Privileged for real: the container's effective capabilities hold CAP_SYS_ADMIN.
    assert.ok((BigInt(`0x${report.capeff}`) & CAP_SYS_ADMIN) !== 0n, `CapEff ${report.capeff}`);
    assert.match(report.id, /^uid=0\(root\)/);
    assert.equal(report["write./tmp/earthly"], "ok");
    assert.equal(report["write./workspace"], "ok");
    assert.equal(report.cwd, "/workspace");
    assert.equal(report.args, "--ci +probe");
    assert.equal(report["env.EARTHLY_TMP_DIR"], "/tmp/earthly");
    assert.equal(report["env.SRC_DIR"], "/workspace");
    assert.equal(report["env.CNI_MTU"], "1400");

    // Every variable the component set with a value reached the process unchanged.
    const job = JSON.parse(cp.kubectl(["get", "job", "-n", "aio-node", jobName, "-o", "json"]));
    const container: RenderedContainer = job.spec.template.spec.containers[0];
    assert.equal(container.workingDir, report.cwd);
    const rendered = container.env.filter((e) => e.value !== undefined);
    assert.ok(rendered.length >= 4, JSON.stringify(container.env));
    for (const e of rendered) assert.equal(report[`env.${e.name}`], e.value, `env ${e.name}`);
  } finally {
    await stack.destroy();
  }
});
