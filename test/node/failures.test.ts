/**
 * Builds whose pod cannot start, on a real node: the image is not there. A real kubelet reports
 * ErrImagePull / ImagePullBackOff, which kwok never does; `pulumi up` must fail soon, saying why.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { allInOneOnBuilders } from "../engine/programs";
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
