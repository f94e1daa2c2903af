/**
 * `platform` on both Jobs: the values accepted (member by member, from a literal copy) and
 * near-misses refused; `--platform` rendered before the user's flags and refused in `flags` and
 * `env`; the all-in-one Job placed on the platform's architecture; the remote client choosing among
 * `fleets` the one on that architecture (each fleet's values landing only when it is chosen), and
 * every way a choice cannot be made refused at preview, also with fleets given as Outputs.
 */
import "./support/mocks";
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  FLEET_CONNECTION,
  NETWORK_POLICY,
  buildAllInOne,
  buildFleet,
  buildRemote,
  envOf,
} from "./support/built";
import { inputsOf } from "./support/recorded";
import { assertRefused } from "./support/refusals";
import { valueOf } from "./support/mocks";
import { BuildkitdFleet, EarthlyAllInOneJob, EarthlyRemoteJob, FleetConnection } from "../components";
import { BUILD_PLATFORMS, platformArchitecture } from "../components/jobs/platform";
import { EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";

/** Two fleets whose every value differs, so a field taken from the wrong one shows. */
const AMD64: FleetConnection = { ...FLEET_CONNECTION, architecture: "amd64" };
const ARM64: FleetConnection = {
  fleetName: "arm",
  namespace: "earthly-arm",
  buildkitHost: "tcp://arm.earthly-arm.svc.cluster.local:8372",
  instanceNames: ["arm-0", "arm-1"],
  instanceHosts: [
    "arm-0.arm-instances.earthly-arm.svc.cluster.local",
    "arm-1.arm-instances.earthly-arm.svc.cluster.local",
  ],
  earthlyVersion: "v0.8.16",
  tlsEnabled: true,
  caCertPem: "-----BEGIN CERTIFICATE-----\nQVJN\n-----END CERTIFICATE-----\n",
  clientLabels: { "earthly-kubernetes/client-of": "arm" },
  architecture: "arm64",
};

const CLIENT = {
  namespace: "builds",
  target: "+build",
  clientCertPem: "cert",
  clientPrivateKeyPem: "key",
} as const;

describe("platform values", () => {
  // A literal copy: a value dropped from the code, or one added to it, fails here.
  const PLATFORMS: [string, string][] = [
    ["linux/amd64", "amd64"],
    ["linux/arm64", "arm64"],
    ["linux/arm", "arm"],
    ["linux/ppc64le", "ppc64le"],
    ["linux/s390x", "s390x"],
    ["linux/arm/v6", "arm"],
    ["linux/arm/v7", "arm"],
    ["linux/arm64/v8", "arm64"],
  ];
  test("the list is exactly these", () => {
    assert.deepEqual(
      [...BUILD_PLATFORMS],
      PLATFORMS.map(([p]) => p),
    );
  });
  for (const [platform, arch] of PLATFORMS) {
    test(`${platform} accepted by both Jobs, built natively on ${arch}`, () => {
      assert.equal(platformArchitecture(platform), arch);
      assert.deepEqual(
        EarthlyAllInOneJob.argumentProblems("p", { namespace: "b", target: "+t", platform }),
        [],
      );
      assert.deepEqual(
        EarthlyRemoteJob.argumentProblems("p", { ...CLIENT, fleet: FLEET_CONNECTION, platform }),
        [],
      );
    });
  }
  // Wrong only at the start, only at the end, only in the middle; other names of the same machines.
  for (const platform of [
    "Linux/amd64",
    " linux/amd64",
    "linux/amd64 ",
    "linux/amd64/",
    "linux/amd46",
    "linux//amd64",
    "windows/amd64",
    "darwin/arm64",
    "linux/x86_64",
    "linux/aarch64",
    "amd64",
    "linux/arm/v8",
    "linux/arm64/v7",
    "native",
    "",
  ]) {
    test(`${JSON.stringify(platform)} refused by both Jobs, naming the field and the values`, () => {
      const expected = [
        {
          field: "platform",
          value: platform,
          allowed:
            "one of 'linux/amd64', 'linux/arm64', 'linux/arm', 'linux/ppc64le', 'linux/s390x', 'linux/arm/v6', 'linux/arm/v7', 'linux/arm64/v8'",
        },
      ];
      assert.deepEqual(
        EarthlyAllInOneJob.argumentProblems("p", { namespace: "b", target: "+t", platform }),
        expected,
      );
      assert.deepEqual(
        EarthlyRemoteJob.argumentProblems("p", { ...CLIENT, fleet: FLEET_CONNECTION, platform }),
        expected,
      );
    });
  }
});

describe("--platform is the platform's flag alone", () => {
  test("all-in-one: after the build secrets' flags, before the cache's and the user's", async () => {
    const { container } = await buildAllInOne("plat-aio", {
      namespace: "builds",
      target: "+build",
      platform: "linux/arm64",
      buildSecrets: [{ name: "TOKEN", secretKeyRef: { name: "tokens", key: "token" } }],
      remoteCache: { image: "registry.example.com/cache:main" },
      flags: ["--ci"],
    });
    assert.deepEqual(container.args, [
      "--secret",
      "TOKEN",
      "--platform=linux/arm64",
      "--remote-cache=registry.example.com/cache:main",
      "--ci",
      "+build",
    ]);
  });
  test("remote client: the same place, then the client's own output flag", async () => {
    const { container } = await buildRemote("plat-client", {
      ...CLIENT,
      fleet: FLEET_CONNECTION,
      platform: "linux/s390x",
      flags: ["--push"],
    });
    assert.deepEqual(container.args, ["--platform=linux/s390x", "--push", "--no-output", "+build"]);
  });
  test("no platform: no flag", async () => {
    const { container } = await buildAllInOne("plat-none", { namespace: "builds", target: "+build" });
    assert.equal(
      (container.args as string[]).some((a) => a.startsWith("--platform")),
      false,
    );
  });
  for (const flags of [
    ["--platform=linux/amd64"],
    ["--platform", "linux/amd64"],
    ["-platform=linux/amd64"],
  ]) {
    test(`${flags.join(" ")} in flags refused, with or without platform`, async () => {
      for (const platform of [undefined, "linux/amd64"]) {
        await assertRefused(
          () => new EarthlyAllInOneJob("f", { namespace: "b", target: "+t", flags, platform }),
          [
            {
              field: "flags[0]",
              got: JSON.stringify(flags[0].replace(/=.*/, "=(given)")),
              allowed: /give the platform as platform$/,
            },
          ],
        );
      }
    });
  }
  test("EARTHLY_PLATFORMS in env refused, naming platform", async () => {
    await assertRefused(
      () =>
        new EarthlyRemoteJob("e", {
          ...CLIENT,
          fleet: FLEET_CONNECTION,
          env: [{ name: "EARTHLY_PLATFORMS", value: "linux/arm64" }],
        }),
      [
        {
          field: "env.name",
          got: '"EARTHLY_PLATFORMS"',
          allowed: /Earthly reads it as --platform; use platform$/,
        },
      ],
    );
  });
});

describe("the all-in-one Job runs on the platform's architecture", () => {
  const builders = { nodeSelector: { "earthly.dev/role": "builder" } };
  test("the architecture joins the given nodeSelector", async () => {
    const { pod } = await buildAllInOne("plat-arch", {
      namespace: "builds",
      target: "+build",
      platform: "linux/arm/v7",
      scheduling: builders,
    });
    assert.deepEqual(pod.nodeSelector, { "earthly.dev/role": "builder", "kubernetes.io/arch": "arm" });
  });
  test("the same architecture given in scheduling is accepted", async () => {
    const { pod } = await buildAllInOne("plat-same", {
      namespace: "builds",
      target: "+build",
      platform: "linux/ppc64le",
      scheduling: { architecture: "ppc64le", nodeSelector: { "kubernetes.io/arch": "ppc64le" } },
    });
    assert.deepEqual(pod.nodeSelector, { "kubernetes.io/arch": "ppc64le" });
  });
  test("another architecture in scheduling refused, field by field", async () => {
    await assertRefused(
      () =>
        new EarthlyAllInOneJob("a", {
          namespace: "b",
          target: "+t",
          platform: "linux/arm64",
          scheduling: { architecture: "amd64" },
        }),
      [
        {
          field: "scheduling.architecture",
          got: '"amd64"',
          allowed: /'arm64' or unset: the build targets linux\/arm64/,
        },
      ],
    );
    await assertRefused(
      () =>
        new EarthlyAllInOneJob("a", {
          namespace: "b",
          target: "+t",
          platform: "linux/arm64",
          scheduling: { nodeSelector: { "kubernetes.io/arch": "s390x" } },
        }),
      [
        {
          field: 'scheduling.nodeSelector["kubernetes.io/arch"]',
          got: '"s390x"',
          allowed: /'arm64' or unset/,
        },
      ],
    );
  });
  test("the remote client's own scheduling is not touched: the fleet builds", async () => {
    const { pod } = await buildRemote("plat-cl", {
      ...CLIENT,
      fleets: [AMD64, ARM64],
      platform: "linux/arm64",
    });
    assert.equal(pod.nodeSelector, undefined);
  });
});

describe("the remote client picks the fleet on the platform's architecture", () => {
  for (const [platform, fleet, other] of [
    ["linux/arm64", ARM64, AMD64],
    ["linux/amd64", AMD64, ARM64],
  ] as const) {
    for (const order of [
      [AMD64, ARM64],
      [ARM64, AMD64],
    ]) {
      test(`${platform}, fleets ${order.map((f) => f.fleetName).join(", ")}: everything from fleet ${fleet.fleetName}`, async () => {
        const name = `pick-${fleet.fleetName}-${order[0].fleetName}`;
        const { container, pod, config, certs, buildkitHost, job } = await buildRemote(name, {
          ...CLIENT,
          fleets: order,
          platform,
        });
        assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, fleet.buildkitHost);
        assert.equal(buildkitHost, fleet.buildkitHost);
        assert.match(config.data["config.yml"], new RegExp(`buildkit_host: ${fleet.buildkitHost}`));
        assert.equal(certs.stringData["ca_cert.pem"], fleet.caCertPem);
        assert.deepEqual(
          Object.fromEntries(
            Object.entries(job.metadata.labels).filter(([k]) => k.startsWith("earthly-kubernetes/client-of")),
          ),
          fleet.clientLabels,
        );
        const policy = inputsOf(NETWORK_POLICY, `${name}-network`);
        assert.equal(
          policy.spec.egress[1].to[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"],
          fleet.namespace,
        );
        assert.ok(!JSON.stringify([container, pod, config]).includes(other.fleetName + "."));
      });
    }
  }
  test("a cache key pins to an instance of the chosen fleet", async () => {
    const { buildkitHost } = await buildRemote("pick-pinned", {
      ...CLIENT,
      fleets: [AMD64, ARM64],
      platform: "linux/arm64",
      cacheKey: "github.com/acme/app",
    });
    assert.match(buildkitHost, /^tcp:\/\/arm-[01]\.arm-instances\.earthly-arm\.svc\.cluster\.local:8372$/);
  });
  test("a single fleet on the platform's architecture, or on none, builds it", async () => {
    for (const fleet of [ARM64, FLEET_CONNECTION]) {
      const { buildkitHost } = await buildRemote("single", { ...CLIENT, fleet, platform: "linux/arm64" });
      assert.equal(buildkitHost, fleet.buildkitHost);
    }
  });
});

describe("a fleet choice that cannot be made is refused at preview, nothing registered", () => {
  const refusals: [
    string,
    Partial<EarthlyRemoteJobArgs>,
    { field: string; got: string; allowed: RegExp }[],
  ][] = [
    [
      "neither fleet nor fleets",
      {},
      [{ field: "fleet", got: "nothing", allowed: /or fleets, one per architecture, with platform/ }],
    ],
    [
      "both fleet and fleets",
      { fleet: AMD64, fleets: [ARM64], platform: "linux/arm64" },
      [{ field: "fleets", got: '"(given)"', allowed: /not together with fleet/ }],
    ],
    [
      "fleets without platform",
      { fleets: [AMD64, ARM64] },
      [
        {
          field: "platform",
          got: "nothing",
          allowed: /chooses the fleet of its architecture among fleets/,
        },
      ],
    ],
    [
      "no fleets",
      { fleets: [], platform: "linux/amd64" },
      [{ field: "fleets", got: "[]", allowed: /one fleet connection or more/ }],
    ],
    [
      "a fleet without an architecture (the second)",
      { fleets: [AMD64, FLEET_CONNECTION], platform: "linux/amd64" },
      [{ field: "fleets[1].architecture", got: "nothing", allowed: /fleet buildkitd may run on any/ }],
    ],
    [
      "two fleets on one architecture",
      { fleets: [ARM64, AMD64, { ...AMD64, fleetName: "again" }], platform: "linux/amd64" },
      [
        {
          field: "fleets[2].architecture",
          got: '"amd64"',
          allowed: /fleets\[1\] \(fleet buildkitd\) runs on it/,
        },
      ],
    ],
    [
      "no fleet on the platform's architecture",
      { fleets: [AMD64, ARM64], platform: "linux/s390x" },
      [
        {
          field: "platform",
          got: '"linux/s390x"',
          allowed: /natively: linux\/amd64 \(fleet buildkitd\), linux\/arm64 \(fleet arm\)$/,
        },
      ],
    ],
    [
      "a single fleet on another architecture",
      { fleet: ARM64, platform: "linux/amd64" },
      [
        {
          field: "platform",
          got: '"linux/amd64"',
          allowed: /a platform on arm64: fleet arm runs on arm64 nodes/,
        },
      ],
    ],
    [
      "the client's version against the chosen fleet's",
      { fleets: [AMD64, { ...ARM64, earthlyVersion: "v0.8.15" }], platform: "linux/arm64" },
      [{ field: "earthlyVersion", got: '"v0.8.16"', allowed: /the fleet's version v0.8.15/ }],
    ],
  ];
  for (const [title, fleetArgs, expected] of refusals) {
    test(title, async () => {
      const earthlyVersion = title.startsWith("the client's version") ? { earthlyVersion: "v0.8.16" } : {};
      await assertRefused(
        () => new EarthlyRemoteJob("r", { ...CLIENT, ...earthlyVersion, ...fleetArgs }),
        expected,
      );
    });
  }
  test("a connection without a host per instance is refused where it was given: fleet, or the chosen fleets[i]", async () => {
    const short = { ...ARM64, instanceHosts: ARM64.instanceHosts.slice(1) };
    const allowed = /invalid .*: got \["arm-0","arm-1"\]; allowed: one host per instance name$/;
    await assertRefused(
      () => new EarthlyRemoteJob("h1", { ...CLIENT, fleet: short }),
      [{ field: "fleet", got: '["arm-0","arm-1"]', allowed }],
    );
    await assertRefused(
      () => new EarthlyRemoteJob("h2", { ...CLIENT, fleets: [AMD64, short], platform: "linux/arm64" }),
      [{ field: "fleets[1]", got: '["arm-0","arm-1"]', allowed }],
    );
    // Not chosen, not checked.
    assert.deepEqual(
      EarthlyRemoteJob.argumentProblems("h3", { ...CLIENT, fleets: [AMD64, short], platform: "linux/amd64" }),
      [],
    );
  });
  test("the version of the fleet not chosen does not matter", () => {
    assert.deepEqual(
      EarthlyRemoteJob.argumentProblems("r", {
        ...CLIENT,
        earthlyVersion: "v0.8.16",
        fleets: [{ ...AMD64, earthlyVersion: "v0.8.15" }, ARM64],
        platform: "linux/arm64",
      }),
      [],
    );
  });
});

describe("fleets given as BuildkitdFleet connections (Outputs)", () => {
  test("the connection carries the fleet's architecture; none without", async () => {
    const arm = await buildFleet("conn-arm", {
      namespace: "earthly",
      insecureDisableTls: true,
      scheduling: { architecture: "arm64" },
    });
    assert.equal(arm.connection.architecture, "arm64");
    const any = await buildFleet("conn-any", { namespace: "earthly", insecureDisableTls: true });
    assert.equal("architecture" in any.connection, false);
  });
  test("a wrong platform refused at construction, from the fleets' own names and architectures", async () => {
    const fleets = ["amd64", "arm64"].map(
      (architecture) =>
        new BuildkitdFleet(`out-${architecture}`, {
          namespace: "earthly",
          insecureDisableTls: true,
          scheduling: { architecture },
        }),
    );
    const args = { ...CLIENT, fleets: fleets.map((f) => f.connection), platform: "linux/ppc64le" };
    assert.deepEqual(EarthlyRemoteJob.argumentProblems("o", args), [
      {
        field: "platform",
        value: "linux/ppc64le",
        allowed:
          "a platform one of fleets builds natively: linux/amd64 (fleet out-amd64), linux/arm64 (fleet out-arm64)",
      },
    ]);
    assert.throws(() => new EarthlyRemoteJob("o", args), /invalid platform: got "linux\/ppc64le"/);
    const single = { ...CLIENT, fleet: fleets[1].connection, platform: "linux/amd64" };
    assert.throws(() => new EarthlyRemoteJob("o2", single), /a platform on arm64: fleet out-arm64/);
  });
  test("the right platform builds on that fleet", async () => {
    const fleets = ["amd64", "arm64"].map(
      (architecture) =>
        new BuildkitdFleet(`ok-${architecture}`, {
          namespace: `earthly-${architecture}`,
          insecureDisableTls: true,
          scheduling: { architecture },
        }),
    );
    const { buildkitHost, container } = await buildRemote("ok", {
      namespace: "builds",
      target: "+build",
      fleets: fleets.map((f) => f.connection),
      platform: "linux/arm64",
    });
    assert.equal(buildkitHost, await valueOf(fleets[1].buildkitHost));
    assert.match(buildkitHost, /ok-arm64\.earthly-arm64\.svc/);
    assert.equal(envOf(container).EARTHLY_BUILDKIT_HOST, buildkitHost);
  });
});
