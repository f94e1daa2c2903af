import assert from "node:assert/strict";
import { test } from "node:test";
import { DEFAULT_TARGET, readDemoConfig, unreadConfigWarnings } from "../stacks/config";

const from = (values: Record<string, string>) => (key: string) => values[key];

test("defaults follow the stack: aio and remote", () => {
  assert.deepEqual(readDemoConfig(from({}), "aio"), {
    mode: "aio",
    clusterName: "earthlydemo-aio",
    earthlyVersion: "v0.8.16",
    target: DEFAULT_TARGET,
    cniMtu: undefined,
    replicas: 2,
    cacheKey: undefined,
    sessionAffinityTimeoutSeconds: 600,
    rebuild: undefined,
    earthlyImageDigest: undefined,
    buildkitdImageDigest: undefined,
  });
  assert.equal(readDemoConfig(from({}), "remote").mode, "remote");
  assert.equal(readDemoConfig(from({}), "remote").clusterName, "earthlydemo-remote");
});

test("given values are parsed", () => {
  const config = readDemoConfig(
    from({ mode: "remote", cniMtu: "1440", replicas: "3", clusterName: "x1", rebuild: "2" }),
    "dev",
  );
  assert.equal(config.rebuild, "2");
  assert.equal(config.cniMtu, 1440);
  assert.equal(config.replicas, 3);
  assert.equal(config.clusterName, "x1");
});

const bad: [Record<string, string>, RegExp][] = [
  [{ clusterName: "Bad_Name" }, /invalid clusterName: got "Bad_Name"; allowed: a kind cluster name/],
  [{ clusterName: "$(touch /tmp/pwned)" }, /invalid clusterName: got "\$\(touch \/tmp\/pwned\)"/],
  [{ cniMtu: "70000" }, /invalid cniMtu: got 70000; allowed: an integer from 576 to 9216/],
  [{ cniMtu: "15OO" }, /invalid cniMtu: got "15OO"/],
  [{ mode: "hybrid" }, /invalid mode: got "hybrid"; allowed: one of 'aio', 'remote'/],
  [{ earthlyVersion: "latest" }, /invalid earthlyVersion: got "latest"/],
  [{ replicas: "0" }, /invalid replicas: got 0; allowed: an integer from 1 to 10/],
  [{ target: "+build\nrm -rf /" }, /invalid target/],
  [{ sessionAffinityTimeoutSeconds: "86401" }, /invalid sessionAffinityTimeoutSeconds: got 86401/],
  [
    { earthlyImageDigest: "sha256:abc" },
    /invalid earthlyImageDigest: got "sha256:abc"; allowed: an image digest/,
  ],
];
for (const [values, message] of bad) {
  test(`refuses ${JSON.stringify(values)}`, () => {
    assert.throws(() => readDemoConfig(from(values), "aio"), message);
  });
}

test("config keys the demo will not read are named: a typo, another project's keys left alone, a key the mode ignores", () => {
  const keys = [
    "earthly-kubernetes-demo:replica",
    "earthly-kubernetes-demo:target",
    "earthly-kubernetes-demo:cacheKey",
    "other-project:replica",
  ];
  assert.deepEqual(unreadConfigWarnings(keys, "earthly-kubernetes-demo", "aio"), [
    "stack config key 'earthly-kubernetes-demo:cacheKey' is ignored in mode 'aio'; it is read in mode 'remote'",
    "stack config key 'earthly-kubernetes-demo:replica' is not one the demo reads, so it is ignored; the keys are: mode, clusterName, earthlyVersion, target, cniMtu, rebuild, earthlyImageDigest, buildkitdImageDigest, buildSecrets, artifactsClaim, gitHttps, gitSsh, gitKnownHosts, dockerConfigSecret, imagePullSecret, registryMirror, replicas, cacheKey, sessionAffinityTimeoutSeconds",
  ]);
  assert.deepEqual(unreadConfigWarnings(keys.slice(1, 3), "earthly-kubernetes-demo", "remote"), []);
});

test("buildSecrets and artifactsClaim: parsed into the Jobs' arguments, bad entries refused as typed", () => {
  const config = readDemoConfig(
    from({
      buildSecrets: "NPM_TOKEN=build-secrets/npm-token, SIGNING_KEY=signing/key.pem",
      artifactsClaim: "out",
    }),
    "aio",
  );
  assert.deepEqual(config.buildSecrets, [
    { name: "NPM_TOKEN", secretKeyRef: { name: "build-secrets", key: "npm-token" } },
    { name: "SIGNING_KEY", secretKeyRef: { name: "signing", key: "key.pem" } },
  ]);
  assert.equal(config.artifactsClaim, "out");
  assert.throws(
    () => readDemoConfig(from({ buildSecrets: "NPM_TOKEN" }), "aio"),
    /invalid buildSecrets: got "NPM_TOKEN"; allowed: entries NAME=secret\/key/,
  );
  assert.throws(
    () => readDemoConfig(from({ buildSecrets: "EARTHLY_TOKEN=s/k" }), "aio"),
    /invalid buildSecrets\[0\]\.name: got "EARTHLY_TOKEN"/,
  );
  assert.throws(
    () => readDemoConfig(from({ artifactsClaim: "Out_" }), "aio"),
    /invalid artifactsClaim: got "Out_"/,
  );
});
