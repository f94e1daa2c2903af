/**
 * Resource quantities as the API server parses them, and limits that must cover their requests:
 * both refused at preview rather than half-way through an `up`.
 */
import "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { quantity, quantityValue } from "../components/validation/rules";
import { ephemeralStorageProblems, quantityToBytes } from "../components/pods/storage";
import { Resources, computeResourcesRule, resourceOrderProblems } from "../components/pods/resources";
import { EarthlyAllInOneJob } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import { ExpectedProblem, assertRefused } from "./support/refusals";
import { FLEET_CONNECTION, buildAllInOne, buildFleet, buildRemote } from "./support/built";

/** The fewest arguments of each component, with `resources`. */
const withResources = {
  allInOne: (resources: Resources) => ({ namespace: "b", target: "+t", resources }),
  remote: (resources: Resources) => ({
    namespace: "b",
    target: "+t",
    fleet: FLEET_CONNECTION,
    clientCertPem: "c",
    clientPrivateKeyPem: "k",
    resources,
  }),
  fleet: (resources: Resources) => ({
    namespace: "b",
    insecureDisableTls: true,
    clientNamespaces: ["c"],
    resources,
  }),
};

/** Asserts that each component refuses `resources` with `expected`, registering nothing. */
async function everyComponentRefuses(resources: Resources, expected: ExpectedProblem[]): Promise<void> {
  await assertRefused(() => new EarthlyAllInOneJob("q", withResources.allInOne(resources)), expected);
  await assertRefused(() => new EarthlyRemoteJob("q", withResources.remote(resources)), expected);
  await assertRefused(() => new BuildkitdFleet("q", withResources.fleet(resources)), expected);
}

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
    // An exponent of more than one digit, either sign.
    assert.equal(quantityValue("1e12"), 1e12);
    assert.equal(quantityValue("5E-10"), 5e-10);
    assert.deepEqual(quantity("1e12", "f"), []);
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
  test("every component refuses it before registering anything", () =>
    everyComponentRefuses({ limits: { memory: "0" } }, [
      { field: "resources.limits.memory", got: '"0"', allowed: /at least its request/ },
    ]));
});

describe("extended resources and huge pages (resources.*.extended)", () => {
  const at = "resources.limits.extended";
  const rule = (extended: { [name: string]: string }) =>
    computeResourcesRule({ extended }, "resources.limits");
  const accepted: [string, string][] = [
    ["nvidia.com/gpu", "1"],
    ["example.com/foo", "0"],
    ["example.com/foo", "1k"],
    ["a.b/c", "2"],
    [`example.com/${"x".repeat(63)}`, "1"],
    ["hugepages-2Mi", "512Mi"],
    ["hugepages-1Gi", "1.5Gi"],
  ];
  for (const [name, amount] of accepted) {
    test(`accepts ${name}: ${amount}`, () => assert.deepEqual(rule({ [name]: amount }), []));
  }
  const refusedNames: [string, string][] = [
    ["cpu", "a named resource: it has a field of its own"],
    ["memory", "a named resource"],
    ["ephemeral-storage", "a named resource"],
    ["gpu", "no domain"],
    ["kubernetes.io/gpu", "the kubernetes.io domain"],
    ["node.kubernetes.io/gpu", "under the kubernetes.io domain"],
    ["-example.com/gpu", "wrong only at its start"],
    ["example.com/gpu-", "wrong only at its end"],
    ["example.com/g pu", "wrong only in its middle"],
    ["example.com/", "no name"],
    [`example.com/${"x".repeat(64)}`, "a name of 64 characters (bound + 1)"],
    ["hugepages-", "huge pages without a size"],
    ["hugepages-0", "huge pages of size 0"],
    ["hugepages-2MB", "huge pages of a size that is not a quantity"],
    ["xhugepages-2Mi", "huge pages' prefix not at its start"],
  ];
  for (const [name, why] of refusedNames) {
    test(`refuses the name ${JSON.stringify(name)} (${why})`, () => {
      const problems = rule({ [name]: "1" });
      assert.deepEqual(
        problems.map((p) => [p.field, p.value]),
        [[`${at} key`, name]],
      );
      assert.match(problems[0].allowed, /an extended resource such as 'nvidia.com\/gpu'/);
    });
  }
  const refusedAmounts: [string, string, RegExp][] = [
    ["nvidia.com/gpu", "1.5", /a whole number/],
    ["nvidia.com/gpu", "500m", /a whole number/],
    ["nvidia.com/gpu", "one", /a Kubernetes quantity/],
    ["hugepages-2Mi", "-1Mi", /a Kubernetes quantity/],
  ];
  for (const [name, amount, allowed] of refusedAmounts) {
    test(`refuses ${name}: ${amount}`, () => {
      const problems = rule({ [name]: amount });
      assert.deepEqual(
        problems.map((p) => [p.field, p.value]),
        [[`${at}[${JSON.stringify(name)}]`, amount]],
      );
      assert.match(problems[0].allowed, allowed);
    });
  }

  const defaults = { requests: { cpu: "500m" }, limits: { cpu: "2" } };
  test("a request equal to its limit, or a limit alone, is accepted (no overcommit)", () => {
    for (const name of ["nvidia.com/gpu", "hugepages-2Mi"]) {
      assert.deepEqual(
        resourceOrderProblems(defaults, {
          requests: { extended: { [name]: "2" } },
          limits: { extended: { [name]: "2" } },
        }),
        [],
      );
      assert.deepEqual(resourceOrderProblems(defaults, { limits: { extended: { [name]: "2" } } }), []);
    }
    assert.deepEqual(
      resourceOrderProblems(defaults, {
        requests: { extended: { "hugepages-2Mi": "1Gi" } },
        limits: { extended: { "hugepages-2Mi": "1024Mi" } },
      }),
      [],
    );
  });
  test("a request without a limit, or with another one (above and below), is refused naming the limit", () => {
    const field = 'resources.limits.extended["nvidia.com/gpu"]';
    const without = resourceOrderProblems(defaults, { requests: { extended: { "nvidia.com/gpu": "1" } } });
    assert.deepEqual(
      without.map((p) => [p.field, p.value]),
      [[field, undefined]],
    );
    assert.match(
      without[0].allowed,
      /a limit equal to the request, 1: Kubernetes does not overcommit nvidia.com\/gpu/,
    );
    for (const limit of ["2", "0"]) {
      const other = resourceOrderProblems(defaults, {
        requests: { extended: { "nvidia.com/gpu": "1" } },
        limits: { extended: { "nvidia.com/gpu": limit } },
      });
      assert.deepEqual(
        other.map((p) => [p.field, p.value]),
        [[field, limit]],
      );
      assert.match(other[0].allowed, /the request, 1: .* its request equals its limit/);
    }
  });

  const resources = {
    requests: { extended: { "nvidia.com/gpu": "1" } },
    limits: { extended: { "nvidia.com/gpu": "1", "hugepages-2Mi": "512Mi" } },
  };
  test("rendered beside cpu, memory and ephemeral storage on every component (schema-valid)", async () => {
    const containers = [
      (await buildAllInOne("x-aio", withResources.allInOne(resources))).container,
      (await buildRemote("x-remote", withResources.remote(resources))).container,
      (await buildFleet("x-fleet", withResources.fleet(resources))).container,
    ];
    for (const container of containers) {
      assert.deepEqual(Object.keys(container.resources.limits).sort(), [
        "cpu",
        "ephemeral-storage",
        "hugepages-2Mi",
        "memory",
        "nvidia.com/gpu",
      ]);
      assert.equal(container.resources.limits["nvidia.com/gpu"], "1");
      assert.equal(container.resources.limits["hugepages-2Mi"], "512Mi");
      assert.equal(container.resources.requests["nvidia.com/gpu"], "1");
      assert.equal(container.resources.requests["hugepages-2Mi"], undefined, "a limit alone is the request");
    }
  });
  test("every component refuses a GPU request without a limit before registering anything", () =>
    everyComponentRefuses({ requests: { extended: { "nvidia.com/gpu": "1" } } }, [
      {
        field: 'resources.limits.extended["nvidia.com/gpu"]',
        got: "nothing",
        allowed: /does not overcommit/,
      },
    ]));
});

test("a size in bytes only for a plain size: a number and a binary or decimal suffix, nothing before or after", () => {
  assert.equal(quantityToBytes("4Gi"), 4 * 2 ** 30);
  assert.equal(quantityToBytes("1.5Gi"), 1.5 * 2 ** 30);
  assert.equal(quantityToBytes("500M"), 5e8);
  assert.equal(quantityToBytes("1024"), 1024);
  // Each suffix, member by member, from a literal table.
  const SUFFIXES: [string, number][] = [
    ["Ki", 2 ** 10],
    ["Mi", 2 ** 20],
    ["Gi", 2 ** 30],
    ["Ti", 2 ** 40],
    ["Pi", 2 ** 50],
    ["Ei", 2 ** 60],
    ["k", 1e3],
    ["M", 1e6],
    ["G", 1e9],
    ["T", 1e12],
    ["P", 1e15],
    ["E", 1e18],
  ];
  for (const [suffix, bytes] of SUFFIXES) assert.equal(quantityToBytes(`3${suffix}`), 3 * bytes, suffix);
  // Quantities of other forms (an exponent, milli, a sign, no leading digit) are not plain sizes.
  for (const other of ["1e3", "500m", "+1Gi", ".5Gi", "1Gi ", " 1Gi", "1GiB"]) {
    assert.equal(quantityToBytes(other), undefined, other);
  }
});

test("ephemeralStorageProblems names every node-disk volume it counts, the smallest (1 byte) too, and no memory one", () => {
  const [problem] = ephemeralStorageProblems(
    { limits: { ephemeralStorage: "1Mi" } },
    [
      { field: "sourceVolume", choice: { emptyDir: { sizeLimit: "1" } } },
      { field: "scratchVolume", choice: { emptyDir: { sizeLimit: "2Mi" } } },
      { field: "tmp", choice: { emptyDir: { medium: "Memory", sizeLimit: "8Mi" } } },
    ],
    { limits: { ephemeralStorage: "1Mi" } },
  );
  assert.equal(problem.field, "resources.limits.ephemeralStorage");
  assert.match(problem.allowed, /\(sourceVolume 1 \+ scratchVolume 2Mi\); the kubelet evicts/);
});
