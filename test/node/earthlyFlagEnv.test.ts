/**
 * The variables the Jobs refuse in `env` are the ones Earthly's CLI reads as flags: the committed
 * list (components/jobs/earthlyFlagEnv.ts) against the earthly module's flag definitions, from the
 * module this tier's build downloaded. Regenerate with `npx tsx scripts/earthlyFlagEnv.ts`.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { EARTHLY_FLAG_ENV } from "../../components/jobs/earthlyFlagEnv";
import { DEFAULT_EARTHLY_VERSION } from "../../components/pods/images";
import { flagEnvOf, renderFlagEnvModule } from "../../scripts/earthlyFlagEnv";
import { NODE_VERSIONS, nodeBuilds } from "./binaries";

test("the refused flag variables are exactly the ones Earthly's flag definitions read", () => {
  assert.equal(NODE_VERSIONS.earthly, DEFAULT_EARTHLY_VERSION, "the tier's earthly is the default version");
  const derived = flagEnvOf(nodeBuilds().earthlyModule);
  assert.deepEqual(EARTHLY_FLAG_ENV, derived);
  // The generator's own output, so the file is what the script writes (up to formatting).
  assert.match(renderFlagEnvModule(derived, DEFAULT_EARTHLY_VERSION), /GIT_PASSWORD: "--git-password",/);
});
