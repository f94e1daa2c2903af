/**
 * Every limit at its boundary, both sides: the value at the bound is accepted and the value one past
 * it refused, member by member for the lists, with values wrong only at the start or only at the end
 * for the patterns. Each case names the rule it holds, so a shifted bound fails here.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { test, describe } from "node:test";
import {
  cidr,
  dnsName,
  earthlyVersion,
  imageDigest,
  imageReference,
  imageRepository,
  kindClusterName,
  labelKey,
  labelValue,
  printableText,
  required,
  rfc1035Label,
  rfc1123Label,
  rfc1123Subdomain,
} from "../components/validation/rules";
import { Rule, InvalidArgumentsError } from "../components/validation/errors";
import { toLabelValue } from "../components/pods/labels";
import { Toleration, tolerationRule } from "../components/pods/scheduling";
import { fleetNameRule, fleetNames, serverCertificateNames } from "../components/fleet/names";
import { issuerRule, subjectText } from "../components/tls/issuer";
import { earthlyConfigRule } from "../components/jobs/earthlyConfig";
import { kindConfigHash } from "../components/kind/kindConfig";
import { kindConfigInputOf, kindClusterChecks } from "../components/kind/kindCluster";
import { buildkitRegistriesRule } from "../components/pods/registries";
import { buildkitdFleetChecks, BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import { readDemoConfig } from "../stacks/config";
import {
  artifactsOutputFlags,
  exportsImagesLocally,
  lastTrueFlag,
  outputModeConflicts,
} from "../components/jobs/flags";
import { remoteCacheWarning } from "../components/jobs/remoteCache";
import {
  RESERVED_SECRET_NAMES,
  RESERVED_SECRET_PREFIXES,
  buildSecretsRule,
} from "../components/jobs/buildSecrets";
import { RESERVED_ENV } from "../components/pods/pod";
import { FLEET_CONNECTION, buildAllInOne } from "./support/built";
import { artifactsVolumeRule } from "../components/jobs/artifacts";
import { assertRefused } from "./support/refusals";
import { EarthlyAllInOneJob, allInOneJobChecks } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, remoteJobChecks } from "../components/jobs/earthlyRemoteJob";
import { certificateAuthorityChecks } from "../components/tls/buildkitCertificateAuthority";
import { nodePoolRule } from "../components/kind/pools";
import { clientSecurityRule } from "../components/pods/pod";

/** Whether `rule` accepts `value` (no problem at all). */
const accepts = <T>(rule: Rule<T>, value: T): boolean => rule(value, "f").length === 0;

/** A rule's bound: the value at it accepted, the value one past it refused. */
function bound<T>(name: string, rule: Rule<T>, atBound: T, pastBound: T): void {
  test(`${name}: at the bound accepted, one past refused`, () => {
    assert.ok(accepts(rule, atBound), `${name} refused the value at its bound: ${String(atBound)}`);
    assert.ok(
      !accepts(rule, pastBound),
      `${name} accepted the value one past its bound: ${String(pastBound)}`,
    );
  });
}

const a = (n: number) => "a".repeat(n);
/** A subdomain of exactly `n` characters, of labels of at most 63. */
const subdomainOf = (n: number): string => {
  const labels: string[] = [];
  let left = n;
  while (left > 0) {
    const take = Math.min(63, left === 64 ? 62 : left);
    labels.push(a(take));
    left -= take + 1;
  }
  const text = labels.join(".");
  assert.equal(text.length, n);
  return text;
};

describe("names and texts: at their length bound and one past", () => {
  bound("rfc1123Label (63)", rfc1123Label, a(63), a(64));
  bound("rfc1035Label (63)", rfc1035Label, a(63), a(64));
  bound("rfc1123Subdomain (253)", rfc1123Subdomain, subdomainOf(253), subdomainOf(254));
  bound("rfc1123Subdomain label (63)", rfc1123Subdomain, `${a(63)}.b`, `${a(64)}.b`);
  bound("dnsName (253)", dnsName, subdomainOf(253), subdomainOf(254));
  bound("dnsName wildcard, counted whole (253)", dnsName, `*.${subdomainOf(251)}`, `*.${subdomainOf(252)}`);
  bound("dnsName label (63)", dnsName, `${a(63)}.b`, `${a(64)}.b`);
  bound("kindClusterName (40)", kindClusterName, a(40), a(41));
  bound("printableText (4096)", printableText, a(4096), a(4097));
  bound("imageRepository (255)", imageRepository, a(255), a(256));
  bound("labelKey name (63)", labelKey, `example.com/${a(63)}`, `example.com/${a(64)}`);
  bound("labelValue (63)", labelValue, a(63), a(64));
  bound("fleetNameRule (40)", fleetNameRule, a(40), a(41));
  bound("subjectText (64)", subjectText, a(64), a(65));
  test("toLabelValue truncates to 63", () => {
    assert.equal(toLabelValue(a(63)), a(63));
    assert.equal(toLabelValue(a(64)), a(63));
  });
  test("the server certificate's CN: the Service's name up to 64 characters, else the fleet name", () => {
    // `<fleet>.<ns>.svc.cluster.local`: 19 characters besides the two names.
    const at = fleetNames({ fleetName: "f", namespace: a(64 - 20), replicas: 1 });
    assert.equal(at.serviceHost.length, 64);
    assert.equal(serverCertificateNames("f", at).commonName, at.serviceHost);
    const past = fleetNames({ fleetName: "f", namespace: a(65 - 20), replicas: 1 });
    assert.equal(past.serviceHost.length, 65);
    assert.equal(serverCertificateNames("f", past).commonName, "f");
  });
});

describe("patterns: wrong only at the start, only at the end", () => {
  const cases: [string, Rule<string>, string, string, string][] = [
    ["earthlyVersion", earthlyVersion, "v0.8.16", "xv0.8.16", "v0.8.16+"],
    ["cidr", cidr, "10.0.0.0/8", "x10.0.0.0/8", "10.0.0.0/8x"],
    ["dnsName wildcard first only", dnsName, "*.example.com", "-*.example.com", "a.*.example.com"],
    ["rfc1035Label", rfc1035Label, "a-b", "1ab", "ab-"],
    ["labelKey name", labelKey, "example.com/a_b.c-d", "example.com/-ab", "example.com/ab_"],
    ["labelKey without prefix", labelKey, "ab", ".ab", "ab."],
    ["labelValue", labelValue, "a_b.c-d", "_ab", "ab-"],
    [
      "imageDigest",
      imageDigest,
      `sha256:${"a".repeat(64)}`,
      `xsha256:${"a".repeat(64)}`,
      `sha256:${"a".repeat(64)}x`,
    ],
  ];
  for (const [name, rule, good, badStart, badEnd] of cases) {
    test(`${name}: ${JSON.stringify(good)} accepted; ${JSON.stringify(badStart)} and ${JSON.stringify(badEnd)} refused`, () => {
      assert.ok(accepts(rule, good));
      assert.ok(!accepts(rule, badStart), badStart);
      assert.ok(!accepts(rule, badEnd), badEnd);
    });
  }
  test("a registry mirror's path: wrong only at its start, only at its end, only in its middle", () => {
    const mirror = (m: string) => accepts(buildkitRegistriesRule, { "docker.io": { mirrors: [m] } });
    assert.ok(mirror("mirror.example.com/hub"));
    assert.ok(mirror("mirror.example.com/docker-hub/v2_x.y"));
    assert.ok(!mirror("mirror.example.com/_hub"));
    assert.ok(!mirror("mirror.example.com/-hub"));
    assert.ok(!mirror("mirror.example.com/hub?"));
    assert.ok(!mirror("mirror.example.com/hub/A"));
    assert.ok(!mirror("mirror.example.com/h ub"));
    // Not a string (from another language or JavaScript): refused as such, not a TypeError.
    for (const notText of [5000, null, { host: "m" }])
      assert.deepEqual(buildkitRegistriesRule({ "docker.io": { mirrors: [notText as never] } }, "f"), [
        { field: 'f["docker.io"].mirrors[0]', value: notText, allowed: "a mirror host" },
      ]);
  });
  test("a registry host: wrong only at its start or end; its port 1 to 5 digits", () => {
    const host = (h: string) => accepts(buildkitRegistriesRule, { [h]: { http: true } });
    assert.ok(host("registry.example.com"));
    assert.ok(!host("-registry.example.com"));
    assert.ok(!host("registry.example.com-"));
    assert.ok(host("reg:5"));
    assert.ok(host("reg:12345"));
    assert.ok(!host("reg:123456"));
    assert.ok(!host("reg:"));
    assert.ok(!host("reg:5x"));
  });
  test("label keys and values: wrong only in the middle refused", () => {
    assert.ok(!accepts(labelKey, "example.com/a b"));
    assert.ok(!accepts(labelKey, "a!b"));
    assert.ok(!accepts(labelValue, "a b"));
    assert.ok(!accepts(labelValue, "a/b"));
  });
  test("an image reference: a tag of 128 characters accepted, 129 refused; junk after a tag or a digest refused", () => {
    const digest = `sha256:${"a".repeat(64)}`;
    assert.ok(accepts(imageReference, `earthly/earthly:${"t".repeat(128)}`));
    assert.ok(!accepts(imageReference, `earthly/earthly:${"t".repeat(129)}`));
    assert.ok(!accepts(imageReference, "earthly/earthly:v0.8.16!"));
    assert.ok(!accepts(imageReference, "earthly/earthly:v0.8.16 "));
    assert.ok(accepts(imageReference, `earthly/earthly@${digest}`));
    assert.ok(accepts(imageReference, `earthly/earthly:v0.8.16@${digest}`));
    assert.ok(!accepts(imageReference, `earthly/earthly@${digest}x`));
    assert.ok(!accepts(imageReference, `earthly/earthly@${digest}a`));
  });
  test("an image digest: 64 hex digits accepted, 63 and 65 refused, upper case and other algorithms refused", () => {
    assert.ok(accepts(imageDigest, `sha256:${"0f".repeat(32)}`));
    assert.ok(!accepts(imageDigest, `sha256:${"f".repeat(63)}`));
    assert.ok(!accepts(imageDigest, `sha256:${"f".repeat(65)}`));
    assert.ok(!accepts(imageDigest, `sha256:${"F".repeat(64)}`));
    assert.ok(!accepts(imageDigest, `sha512:${"f".repeat(64)}`));
    assert.ok(!accepts(imageDigest, `sha256:${"f".repeat(31)}g${"f".repeat(32)}`));
  });
  test("cidr prefix bits: /32 and /128 accepted, /33 and /129 refused", () => {
    assert.ok(accepts(cidr, "10.0.0.1/32"));
    assert.ok(!accepts(cidr, "10.0.0.1/33"));
    assert.ok(accepts(cidr, "fd00::/128"));
    assert.ok(!accepts(cidr, "fd00::/129"));
  });
});

describe("numbers: each integer argument at both its bounds", () => {
  /** The problems of `rules[key]` for `value`, as the component checks it. */
  const numberBound =
    <A>(rules: { [K in keyof A]?: Rule<never> }, key: keyof A) =>
    (value: number) =>
      accepts(rules[key] as unknown as Rule<number>, value);
  const cases: [string, (v: number) => boolean, number, number][] = [
    ["fleet replicas", numberBound(buildkitdFleetChecks.rules, "replicas"), 1, 100],
    ["fleet cacheSizePct", numberBound(buildkitdFleetChecks.rules, "cacheSizePct"), 1, 100],
    [
      "fleet sessionAffinityTimeoutSeconds",
      numberBound(buildkitdFleetChecks.rules, "sessionAffinityTimeoutSeconds"),
      1,
      86400,
    ],
    ["kind waitSeconds", numberBound(kindClusterChecks.rules, "waitSeconds"), 0, 3600],
    ["fleet cacheSizeMb", numberBound(buildkitdFleetChecks.rules, "cacheSizeMb"), 1, 100_000_000],
    ["fleet cniMtu", numberBound(buildkitdFleetChecks.rules, "cniMtu"), 576, 9216],
    ["all-in-one cacheSizeMb", numberBound(allInOneJobChecks.rules, "cacheSizeMb"), 1, 100_000_000],
    ["all-in-one cacheSizePct", numberBound(allInOneJobChecks.rules, "cacheSizePct"), 1, 100],
    ["all-in-one cniMtu", numberBound(allInOneJobChecks.rules, "cniMtu"), 576, 9216],
    // The Job settings both Jobs share, checked in each.
    ...(
      [
        ["all-in-one", allInOneJobChecks.rules],
        ["client", remoteJobChecks.rules],
      ] as const
    ).flatMap(([job, rules]): [string, (v: number) => boolean, number, number][] => [
      [`${job} backoffLimit`, numberBound(rules, "backoffLimit"), 0, 100],
      [`${job} ttlSecondsAfterFinished`, numberBound(rules, "ttlSecondsAfterFinished"), 0, 31_536_000],
      [`${job} activeDeadlineSeconds`, numberBound(rules, "activeDeadlineSeconds"), 1, 31_536_000],
      [`${job} timeoutMinutes`, numberBound(rules, "timeoutMinutes"), 1, 1440],
    ]),
    ["CA caValidityHours", numberBound(certificateAuthorityChecks.rules, "caValidityHours"), 1, 876_000],
    [
      "CA certificateValidityHours",
      numberBound(certificateAuthorityChecks.rules, "certificateValidityHours"),
      1,
      876_000,
    ],
    ["CA earlyRenewalHours", numberBound(certificateAuthorityChecks.rules, "earlyRenewalHours"), 0, 876_000],
    ["kind pool nodes", (n) => accepts(nodePoolRule, { name: "builders", nodes: n }), 1, 20],
    ["client runAsUser", (n) => accepts(clientSecurityRule, { runAsUser: n }), 1, 2 ** 31 - 1],
    ["client runAsGroup", (n) => accepts(clientSecurityRule, { runAsGroup: n }), 1, 2 ** 31 - 1],
  ];
  for (const [name, ok, min, max] of cases) {
    test(`${name}: ${min} and ${max} accepted, ${min - 1} and ${max + 1} refused`, () => {
      assert.ok(ok(min) && ok(max), `${name} refused a bound`);
      assert.ok(!ok(min - 1) && !ok(max + 1), `${name} accepted one past a bound`);
    });
  }
  test("fleet disruptionBudget.maxUnavailable and spread.maxSkew: 1 and 100 accepted, 0 and 101 refused", () => {
    const pdb = (n: number) => accepts(buildkitdFleetChecks.rules.disruptionBudget, { maxUnavailable: n });
    const skew = (n: number) => accepts(buildkitdFleetChecks.rules.spread, { maxSkew: n });
    for (const check of [pdb, skew]) {
      assert.ok(check(1) && check(100));
      assert.ok(!check(0) && !check(101));
    }
  });
  test("kind networking.apiServerPort: 1 and 65535 accepted, 0 and 65536 refused", () => {
    const port = (n: number) => accepts(kindClusterChecks.rules.networking!, { apiServerPort: n });
    assert.ok(port(1) && port(65535));
    assert.ok(!port(0) && !port(65536));
  });
  test("an issuer's certificateValidityHours from 1, earlyRenewalHours from 0", () => {
    const fieldProblems = (settings: object, field: string) =>
      issuerRule({ caCertPem: "", caPrivateKeyPem: "", ...settings } as never, "issuer").filter(
        (p) => p.field === `issuer.${field}`,
      );
    assert.deepEqual(fieldProblems({ certificateValidityHours: 1 }, "certificateValidityHours"), []);
    assert.equal(fieldProblems({ certificateValidityHours: 0 }, "certificateValidityHours").length, 1);
    assert.deepEqual(fieldProblems({ earlyRenewalHours: 0 }, "earlyRenewalHours"), []);
    assert.equal(fieldProblems({ earlyRenewalHours: -1 }, "earlyRenewalHours").length, 1);
  });
  test("a Git site's port: 1 and 65535 accepted, 0 and 65536 refused; auth: ssh, https and auto each accepted", () => {
    const site = (s: object) => accepts(earthlyConfigRule("all-in-one"), { git: { "git.example.com": s } });
    assert.ok(site({ port: 1 }) && site({ port: 65535 }));
    assert.ok(!site({ port: 0 }) && !site({ port: 65536 }));
    for (const auth of ["ssh", "https", "auto"]) assert.ok(site({ auth }), auth);
    assert.ok(!site({ auth: "token" }));
  });
  test("the demo's replicas: 1 and 10 accepted, 0 and 11 refused; sessionAffinityTimeoutSeconds 1 accepted, 0 refused", () => {
    const demo = (config: { [key: string]: string }) => {
      try {
        readDemoConfig((key) => config[key], "remote");
        return true;
      } catch (e) {
        if (e instanceof InvalidArgumentsError) return false;
        throw e;
      }
    };
    assert.ok(demo({ replicas: "1" }) && demo({ replicas: "10" }));
    assert.ok(!demo({ replicas: "0" }) && !demo({ replicas: "11" }));
    assert.ok(demo({ sessionAffinityTimeoutSeconds: "1" }));
    assert.ok(!demo({ sessionAffinityTimeoutSeconds: "0" }));
  });
  test("the kind config's hash is 40 hex characters", () => {
    assert.match(kindConfigHash(kindConfigInputOf({ clusterName: "c" })), /^[0-9a-f]{40}$/);
  });
});

describe("lists, member by member: a literal copy here, so a member dropped from the code fails", () => {
  test("Go's words for false (--flag=WORD): each turns --ci off; the true words keep it on", () => {
    for (const word of ["0", "f", "F", "false", "FALSE", "False"]) {
      assert.equal(lastTrueFlag([`--ci=${word}`], "ci"), -1, word);
      assert.equal(exportsImagesLocally([`--ci=${word}`]), true, `outputs stay on with --ci=${word}`);
    }
    for (const word of ["1", "t", "T", "true", "TRUE", "True"]) {
      assert.equal(lastTrueFlag([`--ci=${word}`], "ci"), 0, word);
      assert.equal(exportsImagesLocally([`--ci=${word}`]), false, word);
    }
  });
  test("names a build secret may not take: each refused, and the list is exactly this one", () => {
    const literal = [
      ...RESERVED_ENV,
      ...["HOME", "PATH", "USER", "TMPDIR", "GLOBAL_CONFIG", "GIT_CONFIG", "NO_DOCKER", "DOCKER_HOST"],
      ...["DOCKER_CONFIG", "SSH_AUTH_SOCK", "NETRC", "NETRC_CONTENT", "FORCE_COLOR", "NO_COLOR"],
      ...["LD_PRELOAD", "LD_LIBRARY_PATH", "BASH_ENV", "ENV", "SHELLOPTS", "IFS", "PS4"],
      ...["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"],
      ...["SSL_CERT_FILE", "SSL_CERT_DIR"],
    ];
    assert.deepEqual([...RESERVED_SECRET_NAMES].sort(), [...literal].sort());
    for (const name of literal) {
      const problems = buildSecretsRule([{ name, secretKeyRef: { name: "s", key: "k" } }], "buildSecrets");
      assert.ok(
        problems.some((p) => p.field === "buildSecrets[0].name" && p.value === name),
        `${name} accepted as a build secret name`,
      );
    }
    assert.deepEqual(
      buildSecretsRule([{ name: "NPM_TOKEN", secretKeyRef: { name: "s", key: "k" } }], "b"),
      [],
    );
  });
  test("prefixes a build secret may not start with: each refused, at the start only", () => {
    const prefixes = ["EARTHLY_", "EARTH_", "BUILDKIT_", "GIT_"];
    assert.deepEqual([...RESERVED_SECRET_PREFIXES].sort(), [...prefixes].sort());
    const ref = { name: "s", key: "k" };
    for (const prefix of prefixes) {
      const problems = buildSecretsRule([{ name: `${prefix}TOKEN`, secretKeyRef: ref }], "buildSecrets");
      assert.deepEqual(
        problems.map((p) => [p.field, p.value]),
        [["buildSecrets[0].name", `${prefix}TOKEN`]],
        prefix,
      );
      assert.match(problems[0].allowed, new RegExp(`not starting with ${prefixes.join(", ")}`));
      // The same letters later in the name are the user's.
      assert.deepEqual(buildSecretsRule([{ name: `MY_${prefix}TOKEN`, secretKeyRef: ref }], "b"), [], prefix);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Version tags with junk before or after a valid one (wrong only at the start, only at the end)
// ---------------------------------------------------------------------------------------------

const JUNK_VERSIONS = [
  "v0.8.16 ",
  "v0.8.16\n",
  "v0.8.16;rm -rf /",
  "v0.8.16:latest",
  `v0.8.16@sha256:${"a".repeat(64)}`,
  "v0.8.16/../other",
  "v0.8.16+build.1",
  "v0.8.16.1",
  "v0.8.16-",
  "v0.8.16-rc.1 junk",
  "v0.8.16-rc.1$(id)",
  " v0.8.16",
  "xv0.8.16",
  "latest-v0.8.16",
  "0.8.16",
  "V0.8.16",
  "v0.8",
];

test("a flag is an argument that starts with a dash: the same text later in an argument is not one", () => {
  assert.equal(lastTrueFlag(["--ci"], "ci"), 0);
  assert.equal(lastTrueFlag(["-ci"], "ci"), 0);
  assert.equal(lastTrueFlag(["x--ci"], "ci"), -1);
  assert.equal(lastTrueFlag(["+build--ci"], "ci"), -1);
});

// lastTrueFlag gives an index: a flag found first is at 0, one "found" test off by one would miss it.
// Each use, with its flag first and with the same flag after another.
test("a flag given first counts as given, in every use of lastTrueFlag", () => {
  const cache = { image: "registry.example/cache:main" };
  for (const [flags, after] of [
    [["--push"], ["--ci", "--push"]],
    [["--push=true"], ["--ci", "--push=true"]],
  ]) {
    assert.equal(remoteCacheWarning("C", cache, flags), undefined, flags.join(" "));
    assert.equal(remoteCacheWarning("C", cache, after), undefined, after.join(" "));
  }
  assert.match(remoteCacheWarning("C", cache, ["--ci"]) ?? "", /read but not written/);
  for (const flags of [["--no-output"], ["--ci", "--no-output"]]) {
    const problems = outputModeConflicts({ flags, artifacts: { claimName: "out" } });
    assert.deepEqual(
      problems.map((p) => [p.field, p.value]),
      [[`flags[${flags.length - 1}]`, "--no-output"]],
    );
  }
  assert.deepEqual(artifactsOutputFlags(["--output", "--ci"], true), []);
  assert.deepEqual(artifactsOutputFlags(["--ci", "--output"], true), []);
  assert.deepEqual(artifactsOutputFlags(["--ci"], true), ["--output"]);
  // Outputs on (true) or off (false), with the deciding flag first.
  for (const [flags, exported] of [
    [["--output", "--ci"], true],
    [["--image", "--ci"], true],
    [["--artifact", "+t/out", "--output"], false],
    [["--ci"], false],
    [["--no-output"], false],
    [["--push", "--no-output"], false],
  ] as const) {
    assert.equal(exportsImagesLocally(flags), exported, flags.join(" "));
  }
});

describe("version strings with junk after (or before) a valid tag are refused", () => {
  test("the earthlyVersion rule accepts release tags and refuses each junk variant", () => {
    for (const good of ["v0.8.16", "v0.8.17-rc.1", "v1.0.0", "v0.8.16-alpha-2"]) {
      assert.deepEqual(
        earthlyVersion(good, "earthlyVersion"),
        [],
        `${JSON.stringify(good)} is a release tag`,
      );
    }
    for (const bad of JUNK_VERSIONS) {
      assert.equal(
        earthlyVersion(bad, "earthlyVersion").length,
        1,
        `${JSON.stringify(bad)} must be refused as an Earthly version`,
      );
    }
  });

  for (const bad of ["v0.8.16;rm -rf /", "v0.8.16 ", "xv0.8.16"]) {
    test(`every component refuses ${JSON.stringify(bad)} before registering anything`, async () => {
      const expected = [
        { field: "earthlyVersion", got: JSON.stringify(bad), allowed: /an Earthly release tag/ },
      ];
      await assertRefused(
        () => new EarthlyAllInOneJob("v-aio", { namespace: "builds", target: "+build", earthlyVersion: bad }),
        expected,
      );
      await assertRefused(
        () =>
          new EarthlyRemoteJob("v-remote", {
            namespace: "ci",
            target: "+build",
            fleet: FLEET_CONNECTION,
            earthlyVersion: bad,
          }),
        expected,
      );
      await assertRefused(
        () =>
          new BuildkitdFleet("v-fleet", {
            namespace: "earthly",
            insecureDisableTls: true,
            earthlyVersion: bad,
          }),
        expected,
      );
    });
  }
});

// ---------------------------------------------------------------------------------------------
// A required name in the Common Name only does not count: TLS clients read the SANs.
// ---------------------------------------------------------------------------------------------

describe("artifacts paths (subPath, directory): bounds, anchors and middles, field by field", () => {
  for (const field of ["subPath", "directory"] as const) {
    const accepted = (value: string) =>
      artifactsVolumeRule({ claimName: "outputs", [field]: value }, "artifacts").length === 0;
    test(`${field}: 253 characters accepted, 254 refused`, () => {
      assert.ok(accepted(a(253)));
      assert.ok(!accepted(a(254)));
    });
    test(`${field}: 'a/b' accepted; wrong only at the start, only at the end, only in the middle refused`, () => {
      assert.ok(accepted("a/b"));
      for (const bad of ["/a/b", "a/b/", "a//b", "a/../b", "a/./b", "a:b", "a\tb", ".", "..", "../a"]) {
        assert.ok(!accepted(bad), `${field} accepted ${JSON.stringify(bad)}`);
      }
    });
  }
});

describe("ephemeral storage and the cache size against the volumes, at the bound and one past", () => {
  const aio = { namespace: "builds", target: "+build", scratchVolume: { emptyDir: { sizeLimit: "1Gi" } } };
  test("a request equal to the limit in force accepted, one MiB over refused (7Gi = 7168Mi)", () => {
    const limits = { ephemeralStorage: "7Gi" };
    assert.deepEqual(
      EarthlyAllInOneJob.argumentProblems("j", {
        ...aio,
        resources: { limits, requests: { ephemeralStorage: "7168Mi" } },
      }),
      [],
    );
    assert.deepEqual(
      EarthlyAllInOneJob.argumentProblems("j", {
        ...aio,
        resources: { limits, requests: { ephemeralStorage: "7169Mi" } },
      }).map((p) => p.field),
      // Both rules say it: the limit below its request, and the request above the limit in force.
      ["resources.limits.ephemeralStorage", "resources.requests.ephemeralStorage"],
    );
  });
  test("a limit below the default request takes the request down to it (10Gi by default, 7Gi here)", async () => {
    const { container } = await buildAllInOne("eph-request", {
      ...aio,
      resources: { limits: { ephemeralStorage: "7Gi" } },
    });
    assert.equal(container.resources.requests["ephemeral-storage"], "7Gi");
    assert.equal(container.resources.limits["ephemeral-storage"], "7Gi");
  });
  test("a limit equal to what the node-disk volumes hold accepted, one MiB under refused (1Gi scratch + 4Gi source)", () => {
    const at = (limit: string) =>
      EarthlyAllInOneJob.argumentProblems("j", {
        ...aio,
        resources: { limits: { ephemeralStorage: limit }, requests: { ephemeralStorage: "1Gi" } },
      }).map((p) => p.field);
    assert.deepEqual(at("5Gi"), []);
    assert.deepEqual(at("5119Mi"), ["resources.limits.ephemeralStorage"]);
    // One byte under (5Gi is 5368709120 bytes).
    assert.deepEqual(at("5368709119"), ["resources.limits.ephemeralStorage"]);
  });
  for (const [what, cache] of [
    ["persistentCache 1Gi", { persistentCache: { size: "1Gi" } }],
    ["scratchVolume emptyDir 1Gi", { scratchVolume: { emptyDir: { sizeLimit: "1Gi" } } }],
  ] as const) {
    test(`cacheSizeMb with ${what}: 1024 accepted, 1025 refused`, () => {
      const at = (cacheSizeMb: number) =>
        BuildkitdFleet.argumentProblems("f", {
          namespace: "ns",
          insecureDisableTls: true,
          ...cache,
          cacheSizeMb,
        }).map((p) => p.field);
      assert.deepEqual(at(1024), []);
      assert.deepEqual(at(1025), ["cacheSizeMb"]);
      // The volume it is measured against is named: the claim template's size, or the scratch volume.
      const [problem] = BuildkitdFleet.argumentProblems("f", {
        namespace: "ns",
        insecureDisableTls: true,
        ...cache,
        cacheSizeMb: 1025,
      });
      assert.match(
        problem.allowed,
        new RegExp(
          `^at most 1024, the size in MiB of ${"persistentCache" in cache ? "persistentCache\\.size" : "scratchVolume"} \\(1Gi\\)`,
        ),
      );
    });
  }
});

describe("a toleration's own rules", () => {
  const fields = (t: Toleration) => tolerationRule(t, "t").map((p) => p.field);
  test("tolerationSeconds: 0 and 2^31-1 accepted, -1 and 2^31 refused", () => {
    for (const seconds of [0, 2 ** 31 - 1])
      assert.deepEqual(
        fields({ key: "k", effect: "NoExecute", tolerationSeconds: seconds }),
        [],
        String(seconds),
      );
    for (const seconds of [-1, 2 ** 31])
      assert.deepEqual(fields({ key: "k", effect: "NoExecute", tolerationSeconds: seconds }), [
        "t.tolerationSeconds",
      ]);
  });
  test("tolerationSeconds only with effect NoExecute: each other effect, and none, refused", () => {
    for (const effect of ["NoSchedule", "PreferNoSchedule", undefined] as const)
      assert.deepEqual(fields({ key: "k", effect, tolerationSeconds: 60 }), ["t.tolerationSeconds"], effect);
    assert.deepEqual(fields({ key: "k", effect: "NoExecute" }), []);
  });
  test("Exists carries no value; an empty key (or none) needs Exists, as Kubernetes has it", () => {
    assert.deepEqual(fields({ key: "k", operator: "Exists", value: "v" }), ["t.value"]);
    assert.deepEqual(fields({ key: "k", operator: "Exists" }), []);
    assert.deepEqual(fields({ key: "k", operator: "Equal", value: "v" }), []);
    for (const key of [undefined, ""]) {
      assert.deepEqual(fields({ key, operator: "Equal" }), ["t.operator"], String(key));
      assert.deepEqual(fields({ key, operator: "Exists" }), [], String(key));
    }
  });
});

test("required: nothing, null and the empty string are missing; any other value, even 0, false or a space, is given", () => {
  for (const missing of [undefined, null, ""])
    assert.deepEqual(required("f", missing, "a thing"), [{ field: "f", value: missing, allowed: "a thing" }]);
  for (const given of [0, false, " ", "x", [], {}]) assert.deepEqual(required("f", given, "a thing"), []);
});

test("imageRepository: every part of the pattern (host, port, each path component and its separators) at its edges", () => {
  const accepted = [
    "a",
    "ab",
    "a.b",
    "a.bc",
    "a__b",
    "a---b",
    "earthly/earthly",
    "reg/x/y",
    "Registry.Example.com/x",
    "r:1/x",
    "r:12/x",
    "localhost:12345/x",
    "registry.example.com:5000/mirror/earthly",
    "ab.c/x",
    "a.b-c/x",
    "x/ab",
    "x/a.b",
    "x/a__b",
    "x/a---b",
    // A third part and on: the pattern's repeated path component, with each separator.
    "x/y/a.b",
    "x/y/a.bc",
    "x/y/a_b",
    "x/y/a__b",
    "x/y/a--b",
  ];
  const refused = [
    "-a/x",
    "a-/x",
    "x/-a",
    "/a",
    "a/b/",
    "a:/x",
    "a:123456/x",
    "a/B",
    "a..b",
    "a___b",
    "a/b_",
    "a/_b",
    "x/a..b",
    "x/a_",
    "x/a-.b",
    "x/y/a..b",
    "x/y/a_",
  ];
  for (const value of accepted) assert.deepEqual(imageRepository(value, "f"), [], value);
  for (const value of refused) assert.equal(imageRepository(value, "f").length, 1, value);
});
