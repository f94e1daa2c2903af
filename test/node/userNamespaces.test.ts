/**
 * `hostUsers: false` on a real node whose runtime has no user namespaces (Debian's containerd 1.6):
 * what a platform team sees before and after deploying. The Node object says it (no runtime handler
 * reports `features.userNamespaces`); the API server accepts the Job (the engine tier shows that for
 * all three workloads); the kubelet then refuses the pod's sandbox with its reason, and nothing runs.
 * A build in a user namespace needs containerd 2.0 or later and is unverified in a real container.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { DEMO_SCRATCH } from "../../stacks/demoArgs";
import { allInOneOnBuilders } from "../engine/programs";
import { NODE_NAME, nodeFixture } from "./fixture";
import { NODE_IMAGES, probeImage } from "./images";

const node = nodeFixture();
const NAMESPACE = "userns-node";

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

test("hostUsers false where the runtime lacks user namespaces: the node says so, the kubelet refuses the sandbox with its reason", async (t) => {
  const { cp } = node.cluster;
  // Before deploying: the node's runtime handlers, as `kubectl get node` shows them.
  const nodeStatus = (JSON.parse(cp.kubectl(["get", "node", NODE_NAME, "-o", "json"])) as Obj).status;
  t.diagnostic(`node ${NODE_NAME} runtimeHandlers: ${JSON.stringify(nodeStatus.runtimeHandlers ?? null)}`);
  const handlers = (nodeStatus.runtimeHandlers ?? []) as Obj[];
  assert.equal(
    handlers.some((h) => h.features?.userNamespaces === true),
    false,
    "this node's runtime reports user namespaces: the test's premise no longer holds",
  );

  node.cluster.importImage(probeImage());
  const stack = await node.env.stack("userns", async () => {
    const job = allInOneOnBuilders(cp, NAMESPACE, {
      image: NODE_IMAGES.probe,
      target: "+probe",
      scratchVolume: DEMO_SCRATCH,
      hostUsers: false,
      waitForCompletion: false,
    });
    return { jobName: job.jobName as pulumi.Output<string> };
  });
  try {
    const up = await stack.up();
    const jobName = up.outputs.jobName.value as string;
    // The kubelet's refusal, as an event on the pod (it retries; the first one is enough).
    let refusal: Obj | undefined;
    for (let i = 0; i < 60 && refusal === undefined; i++) {
      const events = JSON.parse(
        cp.kubectl([
          "get",
          "events",
          "-n",
          NAMESPACE,
          "--field-selector",
          "reason=FailedCreatePodSandBox",
          "-o",
          "json",
        ]),
      ) as Obj;
      refusal = (events.items as Obj[]).find((e) => String(e.involvedObject?.name).startsWith(jobName));
      if (refusal === undefined) await new Promise((r) => setTimeout(r, 1000));
    }
    assert.ok(refusal, "no FailedCreatePodSandBox event within 60 s");
    t.diagnostic(`kubelet: ${refusal.reason}: ${refusal.message}`);
    assert.match(
      refusal.message,
      /can't set `spec.hostUsers: false`, runtime does not support user namespaces/,
    );
    // Nothing ran: the pod is still waiting for its sandbox, on the builder node.
    const pod = (
      JSON.parse(
        cp.kubectl(["get", "pods", "-n", NAMESPACE, "-l", `job-name=${jobName}`, "-o", "json"]),
      ) as Obj
    ).items[0] as Obj;
    assert.equal(pod.spec.hostUsers, false);
    assert.equal(pod.spec.nodeName, NODE_NAME);
    assert.equal(pod.status.phase, "Pending");
  } finally {
    await stack.destroy();
  }
});
