/**
 * `hostUsers: false` on the real engine: the all-in-one Job, the fleet and the client, each in a
 * user namespace of its own, through `pulumi up` against a real kube-apiserver (v1.36, where user
 * namespaces are stable) with Pod Security admission on. What this proves: the API server validates
 * and stores what the components render (privileged pods included: its rules for `hostUsers: false`
 * forbid host namespaces and raw block devices, which no workload here uses, and not privilege), and
 * the client is admitted under `restricted` without a warning. What it cannot prove: that a runtime
 * runs them (kwok's nodes run nothing); see the real-node tier and docs/security.md.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { BuildkitdFleet, EarthlyAllInOneJob, EarthlyRemoteJob } from "../../components";
import { schedulingForPool } from "../../components/kind/pools";
import { BUILDER_POOL, GENERAL_POOL } from "../../stacks/demoArgs";
import { createNamespaces, dryRunPod } from "./admission";
import { engineFixture } from "./fixture";
import { engineProvider } from "./programs";

const BUILDERS = "userns-builds";
const CLIENTS = "userns-ci";

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

const engine = engineFixture("userns", [BUILDER_POOL, GENERAL_POOL]);

/** The stored pods of the objects labelled so, in a namespace. */
function pods(namespace: string, selector: string): Obj[] {
  const text = engine.cp.kubectl(["--namespace", namespace, "get", "pods", "-l", selector, "-o", "json"]);
  return (JSON.parse(text) as Obj).items as Obj[];
}

test("hostUsers false on the all-in-one Job, the fleet and the client: validated, admitted, stored, run to completion", async () => {
  createNamespaces(engine.cp, [
    [BUILDERS, "privileged"],
    [CLIENTS, "restricted"],
  ]);
  const s = await engine.env.stack("userns", async () => {
    const k8s = { provider: engineProvider(engine.cp) };
    const builders = schedulingForPool(BUILDER_POOL);
    const aio = new EarthlyAllInOneJob(
      "aio",
      { namespace: BUILDERS, target: "+build", scheduling: builders, hostUsers: false, timeoutMinutes: 5 },
      k8s,
    );
    const fleet = new BuildkitdFleet(
      "buildkitd",
      {
        namespace: BUILDERS,
        insecureDisableTls: true,
        scheduling: builders,
        clientNamespaces: [CLIENTS],
        hostUsers: false,
      },
      k8s,
    );
    const client = new EarthlyRemoteJob(
      "client",
      { namespace: CLIENTS, target: "+build", fleet: fleet.connection, hostUsers: false, timeoutMinutes: 5 },
      k8s,
    );
    return { aioJob: aio.jobName, clientJob: client.jobName, fleet: fleet.serviceName };
  });
  const up = await s.up();

  const workloads: [string, string, string][] = [
    ["all-in-one", BUILDERS, `batch.kubernetes.io/job-name=${String(up.outputs.aioJob.value)}`],
    ["client", CLIENTS, `batch.kubernetes.io/job-name=${String(up.outputs.clientJob.value)}`],
    ["fleet", BUILDERS, "app.kubernetes.io/name=buildkitd"],
  ];
  for (const [what, ns, selector] of workloads) {
    const [pod] = pods(ns, selector);
    assert.ok(pod, `no ${what} pod`);
    // As the API server stored it: the pod in a user namespace of its own.
    assert.equal(pod.spec.hostUsers, false, `${what}: ${JSON.stringify(pod.spec.hostUsers)}`);
    // The API server's own rule for hostUsers: false, shown to be in force: the same spec with a host
    // network is refused, naming the rule; as rendered it is admitted, and without a warning.
    const refused = dryRunPod(engine.cp, ns, { ...pod.spec, hostNetwork: true, nodeName: undefined });
    assert.notEqual(refused.status, 0, `${what}: hostNetwork with hostUsers false was accepted`);
    assert.match(refused.stderr, /hostNetwork: Forbidden: when `hostUsers` is false/);
    const admitted = dryRunPod(engine.cp, ns, { ...pod.spec, nodeName: undefined });
    assert.equal(admitted.status, 0, `${what}: ${admitted.stderr}`);
    assert.doesNotMatch(admitted.stderr, /PodSecurity|[Ww]arning/);
  }
  // The privileged ones are privileged in their user namespace: nothing removed that buildkitd needs.
  for (const [what, ns, selector] of [workloads[0], workloads[2]]) {
    assert.equal(pods(ns, selector)[0].spec.containers[0].securityContext.privileged, true, what);
  }
  // kwok completes Jobs and readies pods: the deploy went through with them.
  for (const [ns, job] of [
    [BUILDERS, String(up.outputs.aioJob.value)],
    [CLIENTS, String(up.outputs.clientJob.value)],
  ]) {
    const stored = JSON.parse(
      engine.cp.kubectl(["--namespace", ns, "get", `job/${job}`, "-o", "json"]),
    ) as Obj;
    assert.equal(stored.status.succeeded, 1, `${ns}/${job}`);
  }
  await s.destroy();
});
