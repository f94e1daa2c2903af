/**
 * Our registry inputs for real, on the real node: a registry in the test cluster (htpasswd auth,
 * plain HTTP), the fleet's `buildkitRegistries` (the registry as `http`, and as the mirror of
 * docker.io), and the client's `dockerConfigSecret`, whose credentials the daemon asks the client for
 * over the build's session. A remote client has no Docker to load an image into: it ships images by
 * pushing them, which is what is proven here (and what docs/remote.md documents).
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BuildBench, ClientResult, cacheKeyFor, deployBuildBench, namesOf } from "./buildClient";
import { nodeFixture } from "./fixture";
import { REGISTRY_HOST, TestRegistry, deployRegistry } from "./registry";

const node = nodeFixture();
/** A cache key pinned to instance `i`: each case says which daemon it runs on. */
const keyFor = (i: number) => cacheKeyFor("registry-project", i, namesOf(2));
const BASE_REPOSITORY = "node-tier/base";
const logOf = (r: ClientResult) => `job/${r.jobName} on ${r.host}:\n${r.log}`;

describe("registry inputs for real", () => {
  let bench: BuildBench | undefined;
  let registry: TestRegistry | undefined;
  const got = () => {
    assert.ok(bench && registry, "the registry and the fleet were deployed in before()");
    return { bench, registry };
  };

  before(async () => {
    registry = await deployRegistry(node.cluster);
    bench = await deployBuildBench(
      node,
      {
        replicas: 2,
        buildkitRegistries: {
          [REGISTRY_HOST]: { http: true },
          // No internet here: docker.io images can only come from the mirror.
          "docker.io": { mirrors: [REGISTRY_HOST] },
        },
      },
      "registry",
    );
  });

  after(async () => {
    await bench?.destroy();
  });

  test("push: with the client's dockerConfigSecret the image lands in the registry; without it the registry refuses", async () => {
    const { bench, registry } = got();
    const pushed = await bench.run({
      target: "+shell",
      cacheKey: keyFor(0),
      push: `${REGISTRY_HOST}/${BASE_REPOSITORY}:1`,
      dockerConfigJson: registry.dockerConfigJson,
    });
    assert.equal(pushed.status, 0, logOf(pushed));
    assert.match(
      pushed.log,
      new RegExp(`pushing manifest for ${REGISTRY_HOST}/${BASE_REPOSITORY}:1`),
      logOf(pushed),
    );
    assert.deepEqual(await registry.tags(BASE_REPOSITORY), ["1"]);

    const refused = await bench.run({
      target: "+shell",
      cacheKey: keyFor(0),
      push: `${REGISTRY_HOST}/${BASE_REPOSITORY}:2`,
    });
    assert.notEqual(refused.status, 0, logOf(refused));
    assert.match(refused.log, /401 Unauthorized|unauthorized/, logOf(refused));
    assert.deepEqual(await registry.tags(BASE_REPOSITORY), ["1"], "nothing new in the registry");
  });

  test("FROM the registry: pulled with the client's credentials, refused without them", async () => {
    const { bench, registry } = got();
    const base = `${REGISTRY_HOST}/${BASE_REPOSITORY}:1`;
    const pulled = await bench.run({
      target: "+pulled",
      cacheKey: keyFor(1),
      base,
      dockerConfigJson: registry.dockerConfigJson,
    });
    assert.equal(pulled.status, 0, logOf(pulled));
    assert.match(pulled.log, new RegExp(`\\[from-base 1/2\\] FROM ${base}`), logOf(pulled));
    assert.match(pulled.log, /^#\d+ \d+\.\d+ workload from base$/m, logOf(pulled));
    assert.match(pulled.artifact ?? "", /^BusyBox v/, logOf(pulled));

    // The other instance: nothing of the image is in its cache.
    const refused = await bench.run({ target: "+pulled", cacheKey: keyFor(0), base });
    assert.notEqual(refused.status, 0, logOf(refused));
    assert.match(refused.log, /401 Unauthorized|unauthorized/, logOf(refused));
  });

  test("mirrors: docker.io mirrored to the registry serves `FROM node-tier/base:1` (no internet here)", async () => {
    const { bench, registry } = got();
    const before = registry.log().split("\n").length;
    const mirrored = await bench.run({
      target: "+pulled",
      cacheKey: keyFor(0),
      base: `${BASE_REPOSITORY}:1`,
      dockerConfigJson: registry.dockerConfigJson,
    });
    assert.equal(mirrored.status, 0, logOf(mirrored));
    assert.match(mirrored.log, /FROM docker\.io\/node-tier\/base:1/, logOf(mirrored));
    const served = registry
      .log()
      .split("\n")
      .slice(before - 1)
      .join("\n");
    // The daemon asked the mirror for docker.io's image (`ns=docker.io`), with the client's credentials.
    assert.match(
      served,
      new RegExp(`"(HEAD|GET) /v2/${BASE_REPOSITORY}/manifests/1\\?ns=docker\\.io HTTP/1\\.1" 200 `),
      served,
    );
    assert.match(served, /authorized request" auth\.user\.name=builder/, served);
  });
});
