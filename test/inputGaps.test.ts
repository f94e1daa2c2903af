/**
 * Ways around rules the components already had, found by hostile inputs: a target that is a flag,
 * a Secret key that is a path step. Each refused at construction, with nothing registered.
 */
import { settle } from "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { earthlyTargetRule } from "../components/jobs/flags";
import { SYSTEM_DIRECTORIES, sourcePath } from "../components/validation/rules";
import { EARTHLY_FLAG_ENV } from "../components/jobs/earthlyFlagEnv";
import { RESERVED_ENV, keyReferenceRule } from "../components/pods/pod";
import { EarthlyAllInOneJob } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob } from "../components/jobs/earthlyRemoteJob";
import { assertRefused } from "./support/refusals";
import { FLEET_CONNECTION } from "./support/built";

describe("target: never a flag", () => {
  for (const target of ["-x", "--secret=A=b", "--config=/tmp/c.yml", "-"]) {
    test(`refuses ${JSON.stringify(target)} (wrong only at its start)`, () => {
      const problems = earthlyTargetRule(target, "target");
      assert.deepEqual(
        problems.map((p) => p.field),
        ["target"],
      );
      assert.match(problems[0].allowed, /no leading '-'/);
    });
  }
  for (const target of ["+build-x", "+build-", "github.com/a/b-c:main+t", "./sub-dir+build"]) {
    test(`accepts ${JSON.stringify(target)} (a '-' in the middle or at the end)`, () =>
      assert.deepEqual(earthlyTargetRule(target, "target"), []));
  }
  test("both Jobs refuse it before registering anything", async () => {
    const target = "--secret=TOKEN=s3cret";
    await assertRefused(
      () => new EarthlyAllInOneJob("t", { namespace: "b", target }),
      [{ field: "target", got: JSON.stringify(target), allowed: /a target, not a flag/ }],
    );
    await assertRefused(
      () =>
        new EarthlyRemoteJob("t", {
          namespace: "b",
          target,
          fleet: FLEET_CONNECTION,
          clientCertPem: "c",
          clientPrivateKeyPem: "k",
        }),
      [{ field: "target", got: JSON.stringify(target), allowed: /a target, not a flag/ }],
    );
  });
});

describe("Secret and ConfigMap keys as the API checks them", () => {
  const ref = (key: string) => keyReferenceRule({ name: "s", key }, "env[0].secretKeyRef");
  for (const key of [".", ".."]) {
    test(`refuses ${JSON.stringify(key)}`, () =>
      assert.deepEqual(
        ref(key).map((p) => p.field),
        ["env[0].secretKeyRef.key"],
      ));
  }
  for (const key of ["...", ".a", "a..", "a.b", "x".repeat(253)]) {
    test(`accepts a key of ${key.length} characters starting ${JSON.stringify(key.slice(0, 4))}`, () =>
      assert.deepEqual(ref(key), []));
  }
  test("253 characters is the bound: 254 is refused, and so are empty and a '/'", () => {
    for (const key of ["x".repeat(254), "", "a/b", "/a", "a/"]) {
      assert.deepEqual(
        ref(key).map((p) => p.field),
        ["env[0].secretKeyRef.key"],
        JSON.stringify(key),
      );
    }
  });
  test("a Job refuses env from key '..' before registering anything", async () => {
    await assertRefused(
      () =>
        new EarthlyAllInOneJob("k", {
          namespace: "b",
          target: "+t",
          env: [{ name: "TOKEN", secretKeyRef: { name: "creds", key: ".." } }],
        }),
      [{ field: "env[0].secretKeyRef.key", got: '".."', allowed: /not '\.' or '\.\.'/ }],
    );
  });
});

describe("the client's group is never root", () => {
  const client = (runAsGroup: number) =>
    new EarthlyRemoteJob("g", {
      namespace: "b",
      target: "+t",
      fleet: FLEET_CONNECTION,
      clientCertPem: "c",
      clientPrivateKeyPem: "k",
      security: { runAsGroup },
    });
  test("runAsGroup 0 (the bound) is refused: it would be the pod's fsGroup", async () => {
    await assertRefused(
      () => client(0),
      [
        {
          field: "security.runAsGroup",
          got: "0",
          allowed: /an integer from 1 to 2147483647: not 0, .*fsGroup/,
        },
      ],
    );
  });
  test("runAsGroup 1 (bound + 1) and the largest GID are accepted", async () => {
    assert.doesNotThrow(() => client(1));
    assert.doesNotThrow(() => client(2 ** 31 - 1));
    // Let their registrations land here, not in the next test's record.
    await settle();
  });
});

describe("srcDir: never in or under a system directory", () => {
  // Member by member, from a literal copy of the list the rule uses.
  const SYSTEM = [
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib64",
    "/proc",
    "/root",
    "/run",
    "/sbin",
    "/sys",
    "/usr",
    "/var",
    "/tmp",
  ];
  test("the rule's list is this literal copy (removing a member fails)", () =>
    assert.deepEqual([...SYSTEM_DIRECTORIES], SYSTEM));
  for (const dir of SYSTEM) {
    test(`refuses ${dir} and ${dir}/src`, () => {
      assert.equal(sourcePath(dir, "srcDir").length, 1);
      const under = sourcePath(`${dir}/src`, "srcDir");
      assert.deepEqual(
        under.map((p) => p.field),
        ["srcDir"],
      );
      assert.match(under[0].allowed, new RegExp(`under ${dir}\\)`));
    });
  }
  for (const dir of ["/workspace", "/src", "/usrx", "/etcetera/src", "/home/ci/src", "/opt/app"]) {
    test(`accepts ${dir} (a name that only starts like a system directory is not under it)`, () =>
      assert.deepEqual(sourcePath(dir, "srcDir"), []));
  }
  test("a Job refuses srcDir /usr/src before registering anything", async () => {
    await assertRefused(
      () => new EarthlyAllInOneJob("s", { namespace: "b", target: "+t", srcDir: "/usr/src" }),
      [{ field: "srcDir", got: '"/usr/src"', allowed: /under \/usr/ }],
    );
  });
});

describe("env: no variable Earthly reads as a flag", () => {
  const aio = (name: string) => () =>
    new EarthlyAllInOneJob("e", { namespace: "b", target: "+t", env: [{ name, value: "x" }] });
  // A literal copy of what matters most, with what each message points to.
  const KEY_CASES: [string, RegExp][] = [
    ["EARTHLY_SECRETS", /Earthly reads it as --secret; use buildSecrets/],
    ["EARTHLY_SECRET_FILES", /as --secret-file; use buildSecrets/],
    ["GIT_PASSWORD", /as --git-password; use gitCredentials\.https/],
    ["GIT_USERNAME", /as --git-username; use gitCredentials\.https/],
    ["EARTHLY_CONFIG", /as --config; use earthlyConfig/],
    ["EARTHLY_SSH_AUTH_SOCK", /as --ssh-auth-sock; use gitCredentials\.ssh/],
    ["EARTHLY_PUSH", /as --push; give --push in flags/],
    ["EARTHLY_ALLOW_PRIVILEGED", /as --allow-privileged; give --allow-privileged in flags/],
    ["GITHUB_ACTIONS", /as --github-annotations/],
  ];
  for (const [name, allowed] of KEY_CASES) {
    test(`${name} is refused, saying what to use`, async () => {
      assert.ok(name in EARTHLY_FLAG_ENV, `${name} is in the derived list`);
      await assertRefused(aio(name), [{ field: "env.name", got: JSON.stringify(name), allowed }]);
    });
  }
  test("every variable of the derived list is refused by one rule, once (member by member)", async () => {
    assert.ok(Object.keys(EARTHLY_FLAG_ENV).length >= 50);
    for (const name of Object.keys(EARTHLY_FLAG_ENV)) {
      // The names the components set themselves keep their own rule, which names the entry.
      const field = (RESERVED_ENV as readonly string[]).includes(name) ? "env[0].name" : "env.name";
      await assertRefused(aio(name), [{ field, got: JSON.stringify(name) }]);
    }
  });
  test("a name Earthly does not read passes (EARTHLY_ itself is not refused as a prefix)", async () => {
    assert.doesNotThrow(aio("EARTHLY_TEAM_NOTE"));
    assert.doesNotThrow(aio("PUSH"));
    await settle();
  });
});
