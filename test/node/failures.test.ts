/**
 * Builds whose pod cannot start, on a real node: the image is not there. A real kubelet reports
 * ErrImagePull / ImagePullBackOff, which kwok never does; `pulumi up` must fail soon, saying why,
 * both the components' default way (the provider waits) and the demo's (its waiter script).
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { buildOutputs } from "../../stacks/buildOutputs";
import { engineBinaries } from "../engine/binaries";
import { allInOneOnBuilders, programWaiter } from "../engine/programs";
import { collectingRejections } from "../support/rejections";
import { nodeFixture } from "./fixture";

const node = nodeFixture();
/** An image no registry here serves (the node tier has none), so the kubelet cannot pull it. */
const MISSING_IMAGE = "localhost/node-tier/missing:1";

test("an awaited all-in-one Job whose image cannot be pulled fails `up` within two minutes with the pod's reason", async (t) => {
  const { cp } = node.cluster;
  const stack = await node.env.stack("missing-image", async () => {
    allInOneOnBuilders(cp, "missing-image", { image: MISSING_IMAGE, timeoutMinutes: 1 });
    return {};
  });
  try {
    const start = Date.now();
    let message = "";
    await assert.rejects(stack.up(), (e: Error) => {
      message = e.message;
      return true;
    });
    const seconds = (Date.now() - start) / 1000;
    t.diagnostic(`up failed after ${seconds.toFixed(0)} s: ${message.split("\n").slice(-12).join(" | ")}`);
    assert.ok(seconds < 150, `up took ${seconds} s`);
    assert.match(message, /ErrImagePull|ImagePullBackOff/, message);
    assert.ok(message.includes(MISSING_IMAGE), message);
  } finally {
    await stack.destroy();
  }
});

test("the demo's way (its waiter): a build whose image cannot be pulled fails `up` within two minutes, saying which pod and why", async (t) => {
  const { cp } = node.cluster;
  const stack = await node.env.stack("missing-image-demo", async () => {
    const job = allInOneOnBuilders(cp, "missing-image-demo", {
      image: MISSING_IMAGE,
      waitForCompletion: false,
    });
    // Exactly the demo's outputs and failure (stacks/buildOutputs.ts), with a 30 s start limit.
    return buildOutputs({ kubeconfig: pulumi.secret(cp.kubeconfig), kubeContext: "node" }, job, {
      timeoutMinutes: 10,
      pollSeconds: 2,
      startSeconds: 30,
      runWaiter: programWaiter(path.dirname(engineBinaries().kubectl)),
    });
  });
  try {
    const start = Date.now();
    let message = "";
    // The RunError also surfaces as unhandled rejections in this process, which hosts the program.
    await collectingRejections(async () => {
      await assert.rejects(stack.up(), (e: Error) => {
        message = e.message;
        return true;
      });
    });
    const seconds = (Date.now() - start) / 1000;
    t.diagnostic(
      `up failed after ${seconds.toFixed(0)} s: ${message
        .split("\n")
        .filter((l) => /Earthly build|Detail/.test(l))
        .join(" | ")}`,
    );
    assert.ok(seconds < 120, `up took ${seconds} s`);
    assert.match(
      message,
      /The Earthly build failed: job\/build-[0-9a-z]+ in namespace missing-image-demo \(context node\) failed \((ErrImagePull|ImagePullBackOff)\)\./,
    );
    assert.match(message, /Detail: pod\/build-[0-9a-z]+-[0-9a-z]+ could not start for \d+ seconds/);
    const outputs = await stack.outputs();
    assert.equal(outputs.buildResult.value, "failed");
  } finally {
    await stack.destroy();
  }
});
