/**
 * The registry of environment names (components/pods/envNames.ts) against what the components do:
 * every variable a component sets on its container is in the registry, and every name in the
 * registry is refused in that workload's `env` (with the feature given, for a claimed name), named
 * in the refusal. So a new variable cannot be set without being registered, nor registered without
 * being refused.
 */
import "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { ENV_NAMES, WorkloadKind } from "../components/pods/envNames";
import { EarthlyAllInOneJob, EarthlyAllInOneJobArgs } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob, EarthlyRemoteJobArgs } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet, BuildkitdFleetArgs } from "../components/fleet/buildkitdFleet";
import { InvalidArgumentsError } from "../components/validation/errors";
import { FLEET_CONNECTION, buildAllInOne, buildFleet, buildRemote } from "./support/built";

/** Every feature that sets variables, turned on. */
const FEATURES = {
  gitCredentials: {
    https: [{ host: "git.example.com", secretName: "git-token" }],
    ssh: { hosts: ["github.com"], secretName: "git-ssh", knownHosts: { secretName: "known", key: "hosts" } },
  },
  dockerConfigSecret: "registry-push",
  buildkitRegistries: { "docker.io": { mirrors: ["mirror.example.com"] } },
};
const aio: EarthlyAllInOneJobArgs = {
  namespace: "b",
  target: "+t",
  cniMtu: 1400,
  cacheSizeMb: 1024,
  ...FEATURES,
};
/** The client runs no daemon: no buildkitRegistries. */
const clientFeatures = {
  gitCredentials: FEATURES.gitCredentials,
  dockerConfigSecret: FEATURES.dockerConfigSecret,
};
const remote: EarthlyRemoteJobArgs = {
  namespace: "b",
  target: "+t",
  fleet: FLEET_CONNECTION,
  clientCertPem: "c",
  clientPrivateKeyPem: "k",
  ...clientFeatures,
};
const fleet: BuildkitdFleetArgs = {
  namespace: "b",
  insecureDisableTls: true,
  clientNamespaces: ["c"],
  cniMtu: 1400,
  buildkitRegistries: FEATURES.buildkitRegistries,
};

const names = (env: { name: string }[]) => env.map((e) => e.name);
const registered = new Set(ENV_NAMES.map((e) => e.name));

describe("every variable a component sets is in the registry", () => {
  test("all-in-one", async () => {
    const { container } = await buildAllInOne("env-aio", aio);
    assert.deepEqual(
      names(container.env).filter((n) => !registered.has(n)),
      [],
    );
  });
  test("remote client", async () => {
    const { container } = await buildRemote("env-remote", remote);
    assert.deepEqual(
      names(container.env).filter((n) => !registered.has(n)),
      [],
    );
  });
  test("fleet", async () => {
    const { container } = await buildFleet("env-fleet", fleet);
    assert.deepEqual(
      names(container.env).filter((n) => !registered.has(n)),
      [],
    );
  });
});

describe("every registered name is refused in the env of the workloads it names, saying so", () => {
  /** The names a construction with `env: [{ name }]` is refused for, or [] when it is accepted. */
  function refusedFields(make: (env: { name: string; value: string }[]) => unknown, name: string): string[] {
    try {
      make([{ name, value: "x" }]);
    } catch (e) {
      if (e instanceof InvalidArgumentsError)
        return e.problems.filter((p) => p.value === name).map((p) => p.field);
      throw e;
    }
    return [];
  }
  type Make = (env: { name: string; value: string }[]) => unknown;
  // Each workload and the kinds it is of (a literal copy: the registry names kinds, not workloads).
  const workloads: { [workload: string]: { make: Make; kinds: readonly WorkloadKind[] } } = {
    "all-in-one": {
      make: (env) => new EarthlyAllInOneJob("refused", { ...aio, env }),
      kinds: ["Earthly Jobs", "BuildKit daemons"],
    },
    client: {
      make: (env) => new EarthlyRemoteJob("refused", { ...remote, env }),
      kinds: ["Earthly Jobs", "fleet clients"],
    },
    buildkitd: {
      make: (env) => new BuildkitdFleet("refused", { ...fleet, env }),
      kinds: ["BuildKit daemons", "fleet servers"],
    },
  };
  const makers = Object.fromEntries(Object.entries(workloads).map(([w, { make }]) => [w, make]));
  test("every kind of workload the registry names is some workload's", () => {
    const kinds = new Set(Object.values(workloads).flatMap((w) => w.kinds));
    for (const entry of ENV_NAMES) for (const kind of entry.workloads) assert.ok(kinds.has(kind), kind);
  });
  for (const entry of ENV_NAMES) {
    const of = Object.keys(workloads).filter((w) =>
      workloads[w].kinds.some((k) => entry.workloads.includes(k)),
    );
    for (const workload of of) {
      test(`${entry.name} in the ${workload}'s env (${entry.refusal})`, () => {
        const fields = refusedFields(makers[workload], entry.name);
        assert.ok(fields.length > 0, `${entry.name} was accepted in the ${workload}'s env`);
        assert.ok(
          fields.every((f) => /^env(\[0\])?\.name$/.test(f)),
          fields.join(", "),
        );
      });
    }
  }
  test("a name of no feature, component or flag is accepted (the tests above can fail)", () => {
    for (const make of Object.values(makers)) assert.deepEqual(refusedFields(make, "MY_SETTING"), []);
  });
});
