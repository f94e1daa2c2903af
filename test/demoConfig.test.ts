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
  [{ replicas: "0" }, /invalid replicas: got 0; allowed: an integer from 1 to 10$/],
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

// Each key and the modes that read it, a literal copy: a key read in a mode is never warned about
// there, and one not read is, naming the modes that do.
const KEY_MODES: [key: string, modes: readonly ("aio" | "remote")[]][] = [
  ...["mode", "clusterName", "earthlyVersion", "target", "cniMtu", "rebuild", "earthlyImageDigest"].map(
    (key) => [key, ["aio", "remote"]] as [string, ("aio" | "remote")[]],
  ),
  ["buildkitdImageDigest", ["remote"]],
  ...["buildSecrets", "artifactsClaim", "gitHttps", "gitSsh", "gitKnownHosts", "dockerConfigSecret"].map(
    (key) => [key, ["aio", "remote"]] as [string, ("aio" | "remote")[]],
  ),
  ["imagePullSecret", ["aio", "remote"]],
  ["registryMirror", ["aio", "remote"]],
  ["replicas", ["remote"]],
  ["cacheKey", ["remote"]],
  ["sessionAffinityTimeoutSeconds", ["remote"]],
];
for (const [key, modes] of KEY_MODES)
  test(`config key ${key}: read in ${modes.join(" and ")}, warned about in any other mode`, () => {
    for (const mode of ["aio", "remote"] as const) {
      const warnings = unreadConfigWarnings([`p:${key}`], "p", mode);
      assert.deepEqual(
        warnings,
        modes.includes(mode)
          ? []
          : [
              `stack config key 'p:${key}' is ignored in mode '${mode}'; it is read in mode '${modes.join("', '")}'`,
            ],
        mode,
      );
    }
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

// Each key the components check under another argument name, one by one (a literal table, so a
// place dropped from config.ts fails): the refusal names the key the user typed.
const renamed: [string, Record<string, string>, RegExp][] = [
  [
    "earthlyImageDigest",
    { earthlyImageDigest: "sha256:ab" },
    /^.*invalid earthlyImageDigest: got "sha256:ab"; allowed: an image digest/,
  ],
  [
    "buildkitdImageDigest",
    { buildkitdImageDigest: "sha256:ab" },
    /invalid buildkitdImageDigest: got "sha256:ab"; allowed: an image digest/,
  ],
  ["rebuild", { rebuild: "a\u0007b" }, /invalid rebuild: got "a\\u0007b"; allowed: a non-empty string/],
  [
    "artifactsClaim",
    { artifactsClaim: "Out_" },
    /invalid artifactsClaim: got "Out_"; allowed: an RFC 1123 subdomain/,
  ],
  [
    "imagePullSecret",
    { imagePullSecret: "Pull_" },
    /invalid imagePullSecret: got "Pull_"; allowed: an RFC 1123 subdomain/,
  ],
  [
    "registryMirror",
    { registryMirror: "https://mirror.gcr.io" },
    /invalid registryMirror: got "https:\/\/mirror.gcr.io"/,
  ],
  [
    "gitKnownHosts",
    { gitSsh: "github.com=git-ssh", gitKnownHosts: "Known_" },
    /invalid gitKnownHosts: got "Known_"/,
  ],
  [
    "gitHttps",
    { gitHttps: "github.com=Token_" },
    /invalid gitHttps \(gitCredentials\.https\[0\]\.secretName\): got "Token_"/,
  ],
  [
    "gitSsh",
    { gitSsh: "github.com=Ssh_", gitKnownHosts: "kh" },
    /invalid gitSsh \(gitCredentials\.ssh\.secretName\): got "Ssh_"/,
  ],
  ["cacheKey", { cacheKey: "a\nb" }, /invalid cacheKey: got "a\\nb"/],
  ["dockerConfigSecret", { dockerConfigSecret: "Docker_" }, /invalid dockerConfigSecret: got "Docker_"/],
];
for (const [key, values, message] of renamed) {
  test(`a bad ${key} is refused by the components' rules, named by its key, in both modes`, () => {
    for (const stack of ["aio", "remote"]) {
      assert.throws(
        () => readDemoConfig(from(values), stack),
        (e: Error) => {
          assert.match(e.message, message);
          assert.equal(e.message.split("\n").length, 1, e.message);
          return true;
        },
      );
    }
  });
}

test("problems come once each (three components take earthlyVersion and cniMtu), in the order of the keys", () => {
  assert.throws(
    () =>
      readDemoConfig(from({ replicas: "11", cniMtu: "575", earthlyVersion: "latest", mode: "x" }), "remote"),
    (e: Error) => {
      assert.deepEqual(
        e.message.split("\n").map((line) => line.replace(/: got .*/, "")),
        [
          "stack config (remote): invalid mode",
          "stack config (remote): invalid earthlyVersion",
          "stack config (remote): invalid cniMtu",
          "stack config (remote): invalid replicas",
        ],
      );
      return true;
    },
  );
  // The demo's cap on replicas at its bound and one past.
  assert.equal(readDemoConfig(from({ replicas: "10" }), "remote").replicas, 10);
  assert.throws(
    () => readDemoConfig(from({ replicas: "11" }), "remote"),
    /invalid replicas: got 11; allowed: an integer from 1 to 10$/,
  );
});

test("numbers as typed: a negative one is a number refused by its rule, a word is shown as given", () => {
  assert.throws(() => readDemoConfig(from({ cniMtu: "-5" }), "aio"), /invalid cniMtu: got -5; allowed: /);
  assert.throws(
    () => readDemoConfig(from({ replicas: "-1" }), "remote"),
    /invalid replicas: got -1; allowed: an integer from 1 to 10$/,
  );
  assert.throws(
    () => readDemoConfig(from({ replicas: "two" }), "remote"),
    /invalid replicas: got "two"; allowed: an integer from 1 to 10$/,
  );
  // What JavaScript would read as a number but is not a decimal integer as typed.
  for (const typed of ["0x3", "1e1", "3.", "3.0", "+3"]) {
    assert.throws(
      () => readDemoConfig(from({ replicas: typed }), "remote"),
      new RegExp(
        `invalid replicas: got "${typed.replace(/[.+]/g, "\\$&")}"; allowed: an integer from 1 to 10$`,
      ),
      typed,
    );
  }
});
