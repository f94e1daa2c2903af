/**
 * The demo's `artifacts` output, in each mode: there with `artifactsClaim` (where the build's files
 * land). Each mode's demo runs here with the claim; demoAio and demoRemote run it without (and
 * assert there is no such output).
 */
import { SUCCEEDED_BUILD_REPORT, mockDemoCommands, settle, valueOf } from "./support/mocks";
import assert from "node:assert/strict";
import { test } from "node:test";
import { stackConfigGetter } from "./support/stackConfig";
import { readDemoConfig } from "../stacks/config";
import { demo } from "../stacks/demo";

mockDemoCommands(SUCCEEDED_BUILD_REPORT);

for (const mode of ["aio", "remote"]) {
  test(`the ${mode} demo: artifactsClaim gives an artifacts output naming the claim`, async () => {
    const fromFile = stackConfigGetter(mode);
    const withClaim = demo(readDemoConfig((key) => (key === "artifactsClaim" ? "out" : fromFile(key)), mode));
    assert.ok("artifacts" in withClaim, Object.keys(withClaim).join(", "));
    assert.deepEqual(await valueOf(withClaim.artifacts), {
      claimName: "out",
      subPath: "",
      directory: "out",
      mountPath: "/workspace/out",
    });
    await settle();
  });
}
