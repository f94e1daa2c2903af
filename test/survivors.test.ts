/**
 * The classes of planted bugs that the rest of the suite let through (issue 14), each pinned by a
 * test that fails on it: a volume mounted at the default scratch directory while EARTHLY_TMP_DIR
 * says otherwise, the fleet dropping `cniMtu`, a partial `resources` override losing the other
 * defaults, a version tag with junk after it, and a server certificate that carries a required name
 * in its Common Name only. Every value here is a non-default one, so a wire that ignores it shows.
 */
import { RecordedResource, recorded, refusedInApply, resetRecord } from "./support/mocks";
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { FLEET_CONNECTION, buildAllInOne, buildFleet, buildRemote, envOf, mountOf } from "./support/built";
import { Obj } from "./support/values";
import { assertRefused } from "./support/refusals";
import { serverCertificate } from "./support/serverCertificate";
import { EarthlyAllInOneJob } from "../components/jobs/earthlyAllInOneJob";
import { EarthlyRemoteJob } from "../components/jobs/earthlyRemoteJob";
import { BuildkitdFleet } from "../components/fleet/buildkitdFleet";
import { fleetNames } from "../components/fleet/names";
import { namesNotCoveredBy } from "../components/fleet/objects";
import { earthlyVersion } from "../components/validation/rules";
import { InvalidArgumentsError } from "../components/validation/errors";

const TMP_DIR = "/scratch/earthly-tmp";
const NAMESPACE = "earthly";

/** The pod volume of a name, or undefined. */
function volumeOf(pod: Obj, name: string): Obj | undefined {
  return (pod.volumes as Obj[] | undefined)?.find((v) => v.name === name);
}

/** Nothing is mounted at the default scratch directory. */
function assertNothingAtDefaultTmpDir(container: Obj): void {
  assert.deepEqual(
    (container.volumeMounts as Obj[]).filter((m) => m.mountPath === "/tmp/earthly"),
    [],
    "a volume is mounted at the default /tmp/earthly although EARTHLY_TMP_DIR says otherwise",
  );
}

// ---------------------------------------------------------------------------------------------
// The scratch / cache volume follows EARTHLY_TMP_DIR.
// ---------------------------------------------------------------------------------------------

describe("a non-default earthlyTmpDir: EARTHLY_TMP_DIR and the scratch volume's mount agree", () => {
  test("all-in-one, default emptyDir scratch", async () => {
    const { pod, container } = await buildAllInOne("tmp-aio", {
      namespace: "builds",
      target: "+build",
      earthlyTmpDir: TMP_DIR,
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: TMP_DIR });
    assert.deepEqual(volumeOf(pod, "earthly-tmp"), { name: "earthly-tmp", emptyDir: { sizeLimit: "40Gi" } });
    assertNothingAtDefaultTmpDir(container);
  });

  test("all-in-one, an ephemeral scratch volume", async () => {
    const { pod, container } = await buildAllInOne("tmp-aio-eph", {
      namespace: "builds",
      target: "+build",
      earthlyTmpDir: TMP_DIR,
      scratchVolume: { ephemeral: { size: "40Gi", storageClassName: "fast" } },
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: TMP_DIR });
    assert.deepEqual(volumeOf(pod, "earthly-tmp"), {
      name: "earthly-tmp",
      ephemeral: {
        volumeClaimTemplate: {
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: "fast",
            resources: { requests: { storage: "40Gi" } },
          },
        },
      },
    });
    assertNothingAtDefaultTmpDir(container);
  });

  test("fleet without a persistent cache: an emptyDir at the directory", async () => {
    const { pod, container, statefulSet } = await buildFleet("tmp-fleet", {
      namespace: NAMESPACE,
      insecureDisableTls: true,
      earthlyTmpDir: TMP_DIR,
      scratchVolume: { emptyDir: { sizeLimit: "30Gi" } },
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    assert.deepEqual(mountOf(container, "earthly-tmp"), { name: "earthly-tmp", mountPath: TMP_DIR });
    assert.deepEqual(volumeOf(pod, "earthly-tmp"), { name: "earthly-tmp", emptyDir: { sizeLimit: "30Gi" } });
    assert.equal(statefulSet.spec.volumeClaimTemplates, undefined);
    assertNothingAtDefaultTmpDir(container);
  });

  test("fleet with a persistent cache: the claim template's volume at the directory", async () => {
    const { pod, container, statefulSet } = await buildFleet("tmp-fleet-pvc", {
      namespace: NAMESPACE,
      insecureDisableTls: true,
      earthlyTmpDir: TMP_DIR,
      persistentCache: { size: "80Gi" },
    });
    assert.equal(envOf(container).EARTHLY_TMP_DIR, TMP_DIR);
    const claims = statefulSet.spec.volumeClaimTemplates as Obj[];
    assert.equal(claims.length, 1);
    assert.deepEqual(mountOf(container, claims[0].metadata.name), {
      name: "earthly-tmp",
      mountPath: TMP_DIR,
    });
    // The claim provides the volume: no pod volume of that name competes with it.
    assert.equal(volumeOf(pod, "earthly-tmp"), undefined);
    assertNothingAtDefaultTmpDir(container);
  });
});

// ---------------------------------------------------------------------------------------------
// The fleet passes cniMtu on.
// ---------------------------------------------------------------------------------------------

describe("the fleet passes a given cniMtu on as CNI_MTU", () => {
  for (const [label, cniMtu] of [
    ["a plain number", 1440],
    ["an Output", pulumi.output(8950)],
  ] as const) {
    test(label, async () => {
      const { container } = await buildFleet(`mtu-${typeof cniMtu === "number" ? "plain" : "output"}`, {
        namespace: NAMESPACE,
        insecureDisableTls: true,
        cniMtu,
      });
      const expected = typeof cniMtu === "number" ? "1440" : "8950";
      assert.deepEqual(
        (container.env as Obj[]).filter((e) => e.name === "CNI_MTU"),
        [{ name: "CNI_MTU", value: expected }],
      );
    });
  }

  test("the all-in-one Job too", async () => {
    const { container } = await buildAllInOne("mtu-aio", {
      namespace: "builds",
      target: "+build",
      cniMtu: pulumi.output(1380),
    });
    assert.equal(envOf(container).CNI_MTU, "1380");
  });
});

// ---------------------------------------------------------------------------------------------
// A partial `resources` override keeps every other default.
// ---------------------------------------------------------------------------------------------

describe("a partial resources override replaces only the fields it gives", () => {
  // The defaults themselves are asserted as literals in defaults.test.ts; here each component's own
  // defaults, as it applies them without `resources`, must survive every field not given. (An
  // ephemeral-storage limit below the node-disk volumes is refused: 60Gi covers each default.)
  const override = { requests: { cpu: "750m" }, limits: { memory: "6Gi", ephemeralStorage: "60Gi" } };

  /** Asserts `given` is `defaults` with the override's fields replaced, and that something was kept. */
  function assertOverrideKeepsDefaults(defaults: Obj, given: Obj): void {
    assert.ok(defaults.requests.memory && defaults.limits.cpu, "the defaults hold fields the override keeps");
    assert.deepEqual(given, {
      requests: { ...defaults.requests, cpu: "750m" },
      limits: { ...defaults.limits, memory: "6Gi", "ephemeral-storage": "60Gi" },
    });
  }

  test("all-in-one", async () => {
    const args = { namespace: "builds", target: "+build" };
    const defaults = (await buildAllInOne("res-aio-default", args)).container.resources;
    const { container } = await buildAllInOne("res-aio", { ...args, resources: override });
    assertOverrideKeepsDefaults(defaults, container.resources);
  });

  test("remote client", async () => {
    const args = {
      namespace: "ci",
      target: "+build",
      fleet: FLEET_CONNECTION,
      clientCertPem: "cert",
      clientPrivateKeyPem: "key",
    };
    const defaults = (await buildRemote("res-remote-default", args)).container.resources;
    const { container } = await buildRemote("res-remote", { ...args, resources: override });
    assertOverrideKeepsDefaults(defaults, container.resources);
  });

  test("fleet", async () => {
    const args = { namespace: NAMESPACE, insecureDisableTls: true };
    const defaults = (await buildFleet("res-fleet-default", args)).container.resources;
    const { container } = await buildFleet("res-fleet", { ...args, resources: override });
    assertOverrideKeepsDefaults(defaults, container.resources);
  });

  test("only limits given: the requests stay the defaults", async () => {
    const args = { namespace: "builds", target: "+build" };
    const defaults = (await buildAllInOne("res-limits-default", args)).container.resources;
    const { container } = await buildAllInOne("res-limits", { ...args, resources: { limits: { cpu: "4" } } });
    assert.deepEqual(container.resources, {
      requests: defaults.requests,
      limits: { ...defaults.limits, cpu: "4" },
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Version tags with junk around a valid tag are refused.
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
            namespace: NAMESPACE,
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

describe("a server certificate whose Common Name, but no SAN, carries a required name is refused", () => {
  const names = fleetNames({ fleetName: "cn", namespace: NAMESPACE, replicas: 1 });
  const serviceHost = "cn.earthly.svc.cluster.local";

  test("namesNotCoveredBy: a certificate without SANs covers nothing, whatever its CN", async () => {
    const { certPem } = await serverCertificate(serviceHost, []);
    const cert = new crypto.X509Certificate(certPem);
    assert.equal(cert.subjectAltName, undefined, "the certificate has no SAN extension");
    assert.equal(cert.subject, `CN=${serviceHost}`);
    // What a CN-reading check would accept: OpenSSL's default falls back to the CN without SANs.
    assert.equal(cert.checkHost(serviceHost), serviceHost);
    assert.deepEqual(namesNotCoveredBy(certPem, [serviceHost]), [serviceHost]);
    assert.deepEqual(namesNotCoveredBy(certPem, names.dnsNames), names.dnsNames);
  });

  test("namesNotCoveredBy: a name in the CN and not in the SANs is reported", async () => {
    const sans = names.dnsNames.filter((n) => n !== serviceHost);
    const { certPem } = await serverCertificate(serviceHost, sans);
    const cert = new crypto.X509Certificate(certPem);
    assert.equal(cert.checkHost(serviceHost, { subject: "always" }), serviceHost, "the CN carries the name");
    assert.deepEqual(namesNotCoveredBy(certPem, names.dnsNames), [serviceHost]);
    // The same certificate with the name among its SANs covers everything.
    const full = await serverCertificate(serviceHost, names.dnsNames);
    assert.deepEqual(namesNotCoveredBy(full.certPem, names.dnsNames), []);
  });

  // TODO(fleet TLS rework): this drives the check through BuildkitdFleet's current `tls` argument;
  // when the fleet issues its own server certificate, point it at the new argument.
  test("the fleet refuses such a certificate in the apply, naming the name, and deploys nothing", async () => {
    const sans = names.dnsNames.filter((n) => n !== serviceHost);
    const material = await serverCertificate(serviceHost, sans);
    resetRecord();
    const { error, rejections } = await refusedInApply(
      () =>
        new BuildkitdFleet("cn", {
          namespace: NAMESPACE,
          tls: {
            caCertPem: material.caCertPem,
            serverCertPem: material.certPem,
            serverPrivateKeyPem: pulumi.secret(material.keyPem),
          },
        }).connection,
    );
    const assertTheProblem = (reason: unknown) => {
      assert.ok(
        reason instanceof InvalidArgumentsError,
        `expected InvalidArgumentsError, got ${String(reason)}`,
      );
      assert.deepEqual(reason.problems, [
        {
          field: "tls.serverCertPem",
          value: `a certificate whose SANs miss ${serviceHost}`,
          allowed: "a server certificate whose SANs cover every Service and instance name",
        },
      ]);
    };
    assertTheProblem(error);
    for (const reason of rejections) assertTheProblem(reason);
    const kube = recorded.filter((r: RecordedResource) => r.type.startsWith("kubernetes:"));
    assert.deepEqual(kube, [], "no Kubernetes object for a refused certificate");
  });
});
