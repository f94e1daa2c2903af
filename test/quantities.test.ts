/**
 * Resource quantities as the API server parses them, and limits that must cover their requests:
 * both refused at preview rather than half-way through an `up`.
 */
import "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { quantity, quantityValue } from "../components/validation/rules";
import { resourceOrderProblems } from "../components/pods/pod";
import { EarthlyAllInOneJob } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import { assertRefused } from "./support/refusals";
import { FLEET_CONNECTION } from "./support/built";

describe("quantity: the API's grammar", () => {
  const accepted = [
    "0",
    "1",
    "1.5",
    "1.",
    ".5",
    "+1",
    "500m",
    "100n",
    "5u",
    "2k",
    "3M",
    "4G",
    "1T",
    "1P",
    "1E",
  ];
  const acceptedBinary = ["1Ki", "512Mi", "4Gi", "1Ti", "1Pi", "1Ei", "1e3", "1E-3", "1e+2", "0.5Gi"];
  for (const value of [...accepted, ...acceptedBinary]) {
    test(`accepts ${JSON.stringify(value)}`, () => assert.deepEqual(quantity(value, "q"), []));
  }
  const refused: [string, string][] = [
    ["-1", "wrong at the start: negative"],
    ["x1", "wrong at the start"],
    [" 1", "wrong at the start: a space"],
    ["1K", "wrong at the end: K is not a suffix (k or Ki)"],
    ["1Gx", "wrong at the end"],
    ["1Gi ", "wrong at the end: a space"],
    ["1GB", "wrong at the end"],
    ["1e", "wrong at the end: an exponent without digits"],
    ["1.2.3", "wrong in the middle: two points"],
    ["1 Gi", "wrong in the middle: a space"],
    ["1e3Gi", "two suffixes"],
    ["", "empty"],
    [".", "no digit"],
    ["Gi", "no number"],
  ];
  for (const [value, why] of refused) {
    test(`refuses ${JSON.stringify(value)} (${why})`, () => {
      const problems = quantity(value, "resources.limits.memory");
      assert.equal(problems.length, 1);
      assert.equal(problems[0].field, "resources.limits.memory");
      assert.match(problems[0].allowed, /non-negative number with at most one suffix/);
    });
  }
  test("values: binary, decimal and exponent suffixes", () => {
    assert.equal(quantityValue("1Ki"), 1024);
    assert.equal(quantityValue("4Gi"), 4 * 1024 ** 3);
    assert.equal(quantityValue("500m"), 0.5);
    assert.equal(quantityValue("2G"), 2e9);
    assert.equal(quantityValue("1e3"), 1000);
    assert.equal(quantityValue(".5"), 0.5);
    assert.ok(Number.isNaN(quantityValue("1.2.3")));
  });
});

describe("limits cover their requests", () => {
  const defaults = { requests: { cpu: "500m", memory: "1Gi" }, limits: { cpu: "2", memory: "4Gi" } };
  test("a limit equal to its request is accepted (the bound), in other units too", () => {
    assert.deepEqual(
      resourceOrderProblems(defaults, { requests: { memory: "1Gi" }, limits: { memory: "1024Mi" } }),
      [],
    );
    assert.deepEqual(
      resourceOrderProblems(defaults, { requests: { cpu: "1000m" }, limits: { cpu: "1" } }),
      [],
    );
  });
  test("one unit below its request is refused (bound + 1), naming the field, the value and the request", () => {
    const problems = resourceOrderProblems(defaults, {
      requests: { memory: "1Gi" },
      limits: { memory: "1023Mi" },
    });
    assert.deepEqual(
      problems.map((p) => [p.field, p.value]),
      [["resources.limits.memory", "1023Mi"]],
    );
    assert.match(problems[0].allowed, /at least its request, 1Gi: Kubernetes refuses/);
  });
  test("a limit given alone must cover the default request, and says it is the default", () => {
    const problems = resourceOrderProblems(defaults, { limits: { cpu: "100m", memory: "0" } });
    assert.deepEqual(
      problems.map((p) => p.field),
      ["resources.limits.cpu", "resources.limits.memory"],
    );
    assert.match(problems[1].allowed, /1Gi \(the default\)/);
  });
  test("each resource on its own (member by member): cpu, memory, ephemeralStorage", () => {
    for (const key of ["cpu", "memory", "ephemeralStorage"] as const) {
      const problems = resourceOrderProblems(defaults, { requests: { [key]: "2" }, limits: { [key]: "1" } });
      assert.deepEqual(
        problems.map((p) => p.field),
        [`resources.limits.${key}`],
      );
    }
  });
  test("a request raised above the default limit is refused at the limit", () => {
    assert.deepEqual(
      resourceOrderProblems(defaults, { requests: { memory: "8Gi" } }).map((p) => [p.field, p.value]),
      [["resources.limits.memory", "4Gi"]],
    );
  });
  test("every component refuses it before registering anything", async () => {
    const resources = { limits: { memory: "0" } };
    await assertRefused(
      () => new EarthlyAllInOneJob("q", { namespace: "b", target: "+t", resources }),
      [{ field: "resources.limits.memory", got: '"0"', allowed: /at least its request/ }],
    );
    await assertRefused(
      () =>
        new EarthlyRemoteJob("q", {
          namespace: "b",
          target: "+t",
          fleet: FLEET_CONNECTION,
          clientCertPem: "c",
          clientPrivateKeyPem: "k",
          resources,
        }),
      [{ field: "resources.limits.memory", got: '"0"', allowed: /at least its request/ }],
    );
    await assertRefused(
      () =>
        new BuildkitdFleet("q", {
          namespace: "b",
          insecureDisableTls: true,
          clientNamespaces: ["c"],
          resources,
        }),
      [{ field: "resources.limits.memory", got: '"0"', allowed: /at least its request/ }],
    );
  });
});
