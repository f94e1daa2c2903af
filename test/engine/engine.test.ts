/**
 * The real-engine tier: the components deployed, awaited, changed and destroyed by the real Pulumi
 * CLI and the real kubernetes provider, against a real kube-apiserver, scheduler and
 * controller-manager whose nodes (kwok) are registered exactly as kind registers the demo's nodes.
 * No container runs (kwok plays the kubelets), there is no CNI, and KindCluster and the tls and
 * command providers are not covered (no registry serves them). Run with `npm run test:engine`.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { after, before, describe, test } from "node:test";
import * as pulumi from "@pulumi/pulumi";
import { PulumiFn, Stack } from "@pulumi/pulumi/automation";
import { EarthlyAllInOneJob, EarthlyRemoteJob } from "../../components";
import { kindConfigInputOf } from "../../components/kind/kindCluster";
import { kindNodes } from "../../components/kind/nodes";
import { buildOutputs } from "../../stacks/buildOutputs";
import {
  BUILDER_NAMESPACE,
  BUILDER_POOL,
  CLIENT_NAMESPACE,
  FLEET_NAME,
  GENERAL_POOL,
} from "../../stacks/demoArgs";
import { securedNamespace } from "../../stacks/namespaces";
import { collectingRejections } from "../support/rejections";
import { EngineBinaries, engineBinaries } from "./binaries";
import { fleetPems } from "./certificates";
import {
  PLAINTEXT_FLEET,
  allInOneOnBuilders,
  engineProvider,
  programWaiter,
  remoteProgram,
} from "./programs";
import { createNamespaces, dryRunPod } from "./admission";
import { ControlPlane, FAKE_CONTAINER_LOG, startControlPlane } from "./controlPlane";
import { PulumiEnvironment, pulumiEnvironment } from "./stacks";

const CLUSTER = "earthlydemo";
/** The demo's node set, as kind makes it from the demo's kind config. */
const NODES = kindNodes(
  CLUSTER,
  kindConfigInputOf({ clusterName: CLUSTER, workerPools: [BUILDER_POOL, GENERAL_POOL] }),
);
/** kwok's chaos stage fails a running pod that carries this label. */
const FAIL_LABEL = { "pod-container-running-failed.stage.kwok.x-k8s.io": "true" };
let cp: ControlPlane;
let binaries: EngineBinaries | undefined;
const bin = (): EngineBinaries => binaries ?? (binaries = engineBinaries());
let env: PulumiEnvironment;
const stacks: Stack[] = [];

before(async () => {
  // No skip: a tier that cannot run fails, saying why.
  cp = await startControlPlane(bin(), NODES);
  env = await pulumiEnvironment(bin());
  process.env.PATH = `${path.dirname(bin().kubectl)}:${process.env.PATH}`;
});

after(async () => {
  await cp?.stop();
  env?.dispose();
});

async function stack(name: string, program: PulumiFn): Promise<Stack> {
  const s = await env.stack(name, program);
  stacks.push(s);
  return s;
}

/** Destroys a stack and checks that its state is empty (each test frees the demo's namespaces). */
async function destroyed(s: Stack): Promise<void> {
  await s.destroy();
  const state = (await s.exportStack()).deployment as Obj;
  assert.deepEqual(state.resources ?? [], [], `stack ${s.name} still holds resources`);
}

/**
 * Runs a preview or up that the components refuse, and returns all the engine printed with the
 * error. It must fail with RunErrors only (which also surface as unhandled rejections in this
 * process, the program's host), and without a stack trace reaching the user.
 */
async function refusedOutput(run: (onOutput: (line: string) => void) => Promise<unknown>): Promise<string> {
  let output = "";
  const rejections = await collectingRejections(async () => {
    await assert.rejects(
      run((line) => (output += line)),
      (e: Error) => {
        output += e.message;
        return true;
      },
    );
  });
  assert.ok(
    rejections.length > 0 && rejections.every((r) => r instanceof pulumi.RunError),
    String(rejections),
  );
  assert.doesNotMatch(output, /\n\s+at .*\.(ts|js):\d+/, "a stack trace reached the user");
  return output;
}

function json<T>(args: string[]): T {
  return JSON.parse(cp.kubectl([...args, "-o", "json"])) as T;
}

type Obj = { [key: string]: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Operations other than `same` in a preview or update summary. */
function changes(summary: { [op: string]: number }): { [op: string]: number } {
  return Object.fromEntries(Object.entries(summary).filter(([op, n]) => op !== "same" && n > 0));
}

/** The node names of a pool, as kind names them. */
function poolNodes(pool: string): string[] {
  return NODES.filter((n) => n.labels["earthly-kubernetes/pool"] === pool).map((n) => n.name);
}

describe("real engine", { concurrency: false }, () => {
  test("all-in-one: up awaits the Job on a builder node; a no-change run previews nothing; Pod Security refuses it in a baseline namespace", async () => {
    const s = await stack("aio", async () => {
      const job = allInOneOnBuilders(cp, BUILDER_NAMESPACE, { timeoutMinutes: 5 });
      return { jobName: job.jobName };
    });
    const up = await s.up();
    const jobName = String(up.outputs.jobName.value);
    const job = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", `job/${jobName}`]);
    assert.equal(job.status.succeeded, 1, `job ${jobName} did not succeed`);
    const pods = json<Obj>([
      "--namespace",
      BUILDER_NAMESPACE,
      "get",
      "pods",
      "-l",
      `batch.kubernetes.io/job-name=${jobName}`,
    ]);
    assert.equal(pods.items.length, 1);
    assert.ok(
      poolNodes(BUILDER_POOL.name).includes(pods.items[0].spec.nodeName),
      "the build ran off the builder pool",
    );

    const preview = await s.preview();
    assert.deepEqual(changes(preview.changeSummary), {}, "an unchanged second run would change resources");

    // The same privileged pod, in a namespace enforcing `baseline`, is refused by admission.
    createNamespaces(cp, [["baseline-check", "baseline"]]);
    const refused = dryRunPod(cp, "baseline-check", job.spec.template.spec, "privileged-check");
    assert.notEqual(refused.status, 0, "a privileged pod was admitted in a baseline namespace");
    assert.match(refused.stderr, /violates PodSecurity "baseline:latest": privileged/);
    cp.kubectl(["delete", "namespace", "baseline-check", "--wait=false"]);

    // Its NetworkPolicy was accepted, and its selector picks exactly the build's pod.
    const policies = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "networkpolicies"]).items as Obj[];
    assert.equal(policies.length, 1);
    assert.deepEqual(policies[0].spec.policyTypes, ["Ingress", "Egress"]);
    // As the API server stored it: DNS, and the internet but not the private or link-local ranges.
    assert.deepEqual(policies[0].spec.egress, [
      {
        ports: [
          { protocol: "UDP", port: 53 },
          { protocol: "TCP", port: 53 },
        ],
      },
      {
        to: [
          {
            ipBlock: {
              cidr: "0.0.0.0/0",
              except: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "169.254.0.0/16"],
            },
          },
          { ipBlock: { cidr: "::/0", except: ["fc00::/7", "fe80::/10", "fd00:ec2::254/128"] } },
        ],
      },
    ]);
    const selector = Object.entries(policies[0].spec.podSelector.matchLabels as { [key: string]: string })
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
    const selected = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "pods", "-l", selector])
      .items as Obj[];
    assert.deepEqual(
      selected.map((p) => p.metadata.name),
      pods.items.map((p: Obj) => p.metadata.name),
    );
    // Bounded disk, as the API server stored it.
    const container = job.spec.template.spec.containers[0];
    assert.deepEqual(container.resources.limits["ephemeral-storage"], "46Gi");
    assert.deepEqual(
      job.spec.template.spec.volumes.map((v: Obj) => v.emptyDir?.sizeLimit),
      ["4Gi", "40Gi"],
    );
    await destroyed(s);
  });

  test("Pod Security restricted: the client's pod is admitted without a warning, a privileged pod is refused", async () => {
    const ns = "restricted-check";
    const s = await stack("restricted", async () => {
      const k8s = { provider: engineProvider(cp) };
      const clients = securedNamespace(ns, "restricted", k8s);
      const fleet = PLAINTEXT_FLEET;
      const job = new EarthlyRemoteJob(
        "build",
        { namespace: clients.metadata.name, target: "+build", fleet, timeoutMinutes: 5 },
        k8s,
      );
      const aio = new EarthlyAllInOneJob(
        "privileged",
        { namespace: clients.metadata.name, target: "+build", waitForCompletion: false },
        k8s,
      );
      return { jobName: job.jobName, privilegedJob: aio.jobName };
    });
    const up = await s.up();
    const namespace = json<Obj>(["get", "namespace", ns]);
    assert.equal(namespace.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
    // The client Job ran to completion: its pod was admitted under `restricted`.
    const clientJob = json<Obj>(["--namespace", ns, "get", `job/${String(up.outputs.jobName.value)}`]);
    assert.equal(clientJob.status.succeeded, 1);
    // And it draws no warning either (warnings do not reach the Pulumi CLI, so ask the API server).
    const admitted = dryRunPod(cp, ns, clientJob.spec.template.spec, "client-check");
    assert.equal(admitted.status, 0, admitted.stderr);
    assert.doesNotMatch(admitted.stderr, /PodSecurity|[Ww]arning/);
    // The privileged all-in-one Job is created, but the namespace refuses its pod.
    const privilegedJob = String(up.outputs.privilegedJob.value);
    let failure: Obj | undefined;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && failure === undefined) {
      const events = json<Obj>([
        "--namespace",
        ns,
        "get",
        "events",
        "--field-selector",
        `involvedObject.name=${privilegedJob}`,
      ]);
      failure = (events.items as Obj[]).find((e) => e.reason === "FailedCreate");
      if (failure === undefined) await new Promise((r) => setTimeout(r, 500));
    }
    assert.ok(failure, "the Job controller reported no refused pod");
    assert.match(failure.message, /violates PodSecurity "restricted:latest": privileged/);
    assert.deepEqual(
      json<Obj>(["--namespace", ns, "get", "pods", "-l", `batch.kubernetes.io/job-name=${privilegedJob}`])
        .items,
      [],
    );
    await destroyed(s);
  });

  test("remote: fleet of 2 and client; StatefulSet ready, Services and NetworkPolicy accepted, client Job done on an ordinary node, no key in plain state", async () => {
    const pems = await fleetPems({ fleetName: FLEET_NAME, namespace: BUILDER_NAMESPACE, replicas: 2 });
    const program = (sessionAffinityTimeoutSeconds: number) =>
      remoteProgram(cp, { replicas: 2, pems, sessionAffinityTimeoutSeconds });
    const s = await stack("remote", program(600));
    const up = await s.up();
    const sts = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", `statefulset/${FLEET_NAME}`]);
    assert.equal(sts.status.readyReplicas, 2);
    const services = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "services"]);
    assert.equal(services.items.length, 2);
    const affine = services.items.find((svc: Obj) => svc.spec.clusterIP !== "None");
    assert.equal(affine.spec.sessionAffinity, "ClientIP");
    assert.deepEqual(
      (json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "networkpolicies"]).items as Obj[])
        .map((p) => p.metadata.name)
        .sort(),
      [`${FLEET_NAME}-clients`, `${FLEET_NAME}-egress`],
    );
    // The disruption budget was accepted, and the disruption controller counts the fleet's pods.
    let budget: Obj = {};
    const budgetDeadline = Date.now() + 30_000;
    while (Date.now() < budgetDeadline) {
      budget = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "poddisruptionbudget", FLEET_NAME]);
      if (budget.status?.expectedPods === 2 && budget.status?.currentHealthy === 2) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.equal(budget.spec.maxUnavailable, 1);
    assert.equal(budget.spec.unhealthyPodEvictionPolicy, "AlwaysAllow");
    assert.equal(budget.status?.expectedPods, 2, JSON.stringify(budget.status));
    assert.equal(budget.status?.disruptionsAllowed, 1, JSON.stringify(budget.status));
    assert.deepEqual(
      sts.spec.template.spec.topologySpreadConstraints.map((c: Obj) => [c.topologyKey, c.whenUnsatisfiable]),
      [["kubernetes.io/hostname", "ScheduleAnyway"]],
    );
    const fleetPods = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "pods"]).items as Obj[];
    for (const p of fleetPods) assert.ok(poolNodes(BUILDER_POOL.name).includes(p.spec.nodeName));

    const jobName = String(up.outputs.jobName.value);
    assert.equal(json<Obj>(["--namespace", CLIENT_NAMESPACE, "get", `job/${jobName}`]).status.succeeded, 1);
    const clientPod = json<Obj>([
      "--namespace",
      CLIENT_NAMESPACE,
      "get",
      "pods",
      "-l",
      `batch.kubernetes.io/job-name=${jobName}`,
    ]).items[0];
    assert.ok(
      poolNodes(GENERAL_POOL.name).includes(clientPod.spec.nodeName),
      "the client ran off the general pool",
    );
    // Admitted under `restricted`, with its own NetworkPolicy towards the fleet's port.
    assert.equal(
      json<Obj>(["get", "namespace", CLIENT_NAMESPACE]).metadata.labels["pod-security.kubernetes.io/enforce"],
      "restricted",
    );
    assert.equal(clientPod.spec.securityContext.runAsNonRoot, true);
    const clientPolicies = json<Obj>(["--namespace", CLIENT_NAMESPACE, "get", "networkpolicies"])
      .items as Obj[];
    assert.equal(clientPolicies.length, 1);
    assert.deepEqual(clientPolicies[0].spec.egress[1].ports, [{ protocol: "TCP", port: 8372 }]);

    // The state at rest holds no private key or kubeconfig token in plain text.
    const state = env.storedState("remote");
    assert.match(state, /"kubernetes:apps\/v1:StatefulSet"/, "not the stack's state");
    assert.doesNotMatch(state, /PRIVATE KEY/);
    assert.equal(
      state.includes(cp.kubeconfig.split("token: ")[1].trim()),
      false,
      "the kubeconfig token is in plain state",
    );

    assert.deepEqual(changes((await s.preview()).changeSummary), {});
    // A changed input updates what it must, in place.
    const changed = await env.stack("remote", program(900));
    const update = await changed.up();
    assert.deepEqual(changes(update.summary.resourceChanges ?? {}), { update: 1 });
    const service = json<Obj>(["--namespace", BUILDER_NAMESPACE, "get", "service", FLEET_NAME]);
    assert.equal(service.spec.sessionAffinityConfig.clientIP.timeoutSeconds, 900);
    await destroyed(s);
  });

  test("the historical blocker: with every worker tainted, the scheduler finds no node for the unprivileged client", async () => {
    // The old demo had only the tainted builder pool; kind keeps the control plane tainted too.
    const general = poolNodes(GENERAL_POOL.name)[0];
    cp.kubectl(["taint", "nodes", general, "earthly.dev/builder=true:NoSchedule"]);
    try {
      const s = await stack("blocked", async () => {
        const k8s = { provider: engineProvider(cp) };
        const clients = securedNamespace("earthly-blocked", "baseline", k8s);
        const fleet = PLAINTEXT_FLEET;
        const job = new EarthlyRemoteJob(
          "build",
          // Not awaited: the scheduler's verdict is what this test reads, not the provider's timeout.
          { namespace: clients.metadata.name, target: "+build", fleet, waitForCompletion: false },
          k8s,
        );
        return { jobName: job.jobName };
      });
      await s.up();
      let pod: Obj | undefined;
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        pod = (json<Obj>(["--namespace", "earthly-blocked", "get", "pods"]).items as Obj[])[0];
        const scheduled = pod?.status?.conditions?.find((c: Obj) => c.type === "PodScheduled");
        if (scheduled?.reason === "Unschedulable") break;
        await new Promise((r) => setTimeout(r, 500));
      }
      assert.ok(pod, "the client Job made no pod");
      assert.equal(pod.status.phase, "Pending");
      assert.equal(pod.spec.nodeName, undefined);
      const scheduled = pod.status.conditions.find((c: Obj) => c.type === "PodScheduled");
      assert.equal(scheduled?.reason, "Unschedulable", JSON.stringify(pod.status));
      // The scheduler's own words: every node (control plane included) has a taint the pod does not tolerate.
      assert.match(scheduled.message, /0\/3 nodes are available: 3 node\(s\) had untolerated taint/);
      await destroyed(s);
    } finally {
      cp.kubectl(["taint", "nodes", general, "earthly.dev/builder=true:NoSchedule-"]);
    }
  });

  test("failure, the demo's way: the outputs survive, up fails with the reason and the node's log; a rebuild trigger runs a new Job", async () => {
    const ns = "earthly-failing";
    const localWaiter = programWaiter(path.dirname(bin().kubectl));
    const program =
      (opts: { fail: boolean; trigger?: string }): PulumiFn =>
      async () => {
        const job = allInOneOnBuilders(cp, ns, {
          backoffLimit: 0,
          waitForCompletion: false,
          labels: opts.fail ? FAIL_LABEL : {},
          ...(opts.trigger ? { rebuildTrigger: opts.trigger } : {}),
        });
        // Exactly the demo's outputs and failure, from stacks/buildOutputs.ts.
        return buildOutputs({ kubeconfig: pulumi.secret(cp.kubeconfig), kubeContext: "engine" }, job, {
          timeoutMinutes: 2,
          pollSeconds: 1,
          runWaiter: localWaiter,
        });
      };
    /** Runs `up`, expecting the build's failure; returns the engine's message. */
    const failingUp = async (s: Stack): Promise<string> => {
      let message = "";
      // The RunError also surfaces as unhandled rejections in this process, which hosts the program.
      const rejections = await collectingRejections(async () => {
        await assert.rejects(s.up(), (e: Error) => {
          message = e.message;
          return true;
        });
      });
      assert.ok(
        rejections.length > 0 && rejections.every((r) => r instanceof pulumi.RunError),
        String(rejections),
      );
      return message;
    };

    const s = await stack("failing", program({ fail: true }));
    const message = await failingUp(s);
    assert.match(
      message,
      /The Earthly build failed: job\/build-[0-9a-z]+ in namespace earthly-failing \(context engine\) failed \(BackoffLimitExceeded\)\./,
    );
    assert.ok(message.includes(FAKE_CONTAINER_LOG[1]), message);
    assert.match(message, /Run the build again: pulumi config set rebuild/);
    assert.doesNotMatch(message, /\n\s+at .*\.(ts|js):\d+/, "a stack trace reached the user");
    // The outputs were saved although `up` failed.
    const outputs = await s.outputs();
    const jobName = String(outputs.jobName.value);
    assert.equal(outputs.buildResult.value, "failed");
    assert.equal(outputs.buildLog.value, `${FAKE_CONTAINER_LOG.join("\n")}\n`);
    assert.equal(
      outputs.followCommand.value,
      `kubectl --context engine --namespace ${ns} logs --follow job/${jobName}`,
    );
    const uid = json<Obj>(["--namespace", ns, "get", `job/${jobName}`]).metadata.uid;

    // An unchanged second run builds nothing: the same failed Job, the same failure.
    await failingUp(s);
    assert.equal(String((await s.outputs()).jobName.value), jobName);
    assert.equal(json<Obj>(["--namespace", ns, "get", `job/${jobName}`]).metadata.uid, uid);

    // A new rebuild trigger replaces the Job: a new build (failing again here, by kwok's label).
    const retriggered = await env.stack("failing", program({ fail: true, trigger: "2" }));
    const preview = await retriggered.preview();
    assert.equal(preview.changeSummary.replace, 1, JSON.stringify(preview.changeSummary));
    await failingUp(retriggered);
    const rebuilt = String((await retriggered.outputs()).jobName.value);
    assert.notEqual(rebuilt, jobName, "the rebuild reused the failed Job");

    const fixed = await env.stack("failing", program({ fail: false, trigger: "3" }));
    const third = await fixed.up();
    assert.equal(third.outputs.buildResult.value, "succeeded");
    assert.notEqual(String(third.outputs.jobName.value), rebuilt);
    await destroyed(fixed);
  });

  test("failure, the components' default: an awaited failing build fails up with the provider's reason", async () => {
    const s = await stack("failing-awaited", async () => {
      allInOneOnBuilders(cp, "earthly-failing-awaited", {
        backoffLimit: 0,
        timeoutMinutes: 2,
        labels: FAIL_LABEL,
      });
      return {};
    });
    await assert.rejects(s.up(), /BackoffLimitExceeded/);
    await destroyed(s);
  });

  test("bad input: refused at preview, the engine's output names field, value and what is allowed, without a stack trace", async () => {
    const s = await stack("bad", async () => {
      const k8s = { provider: engineProvider(cp) };
      new EarthlyAllInOneJob("build", { namespace: "Not_A_Namespace", target: "+build" }, k8s);
      return {};
    });
    const output = await refusedOutput((onOutput) => s.preview({ onOutput }));
    assert.match(output, /namespace/);
    assert.match(output, /Not_A_Namespace/);
    assert.match(output, /RFC 1123/);
    assert.deepEqual(
      json<Obj>(["get", "jobs", "--all-namespaces"]).items.filter(
        (j: Obj) => j.metadata.namespace === "Not_A_Namespace",
      ),
      [],
    );
  });

  test("a secret in env (GIT_PASSWORD with a value) refused by up before anything is registered: named, its value shown nowhere", async () => {
    const secret = "s3cret-engine-tier-value";
    const s = await stack("secret-env", async () => {
      const k8s = { provider: engineProvider(cp) };
      new EarthlyAllInOneJob(
        "build",
        { namespace: "secret-env", target: "+build", env: [{ name: "GIT_PASSWORD", value: secret }] },
        k8s,
      );
      return {};
    });
    const output = await refusedOutput((onOutput) => s.up({ onOutput }));
    assert.match(
      output,
      /invalid env\.name: got "GIT_PASSWORD"; allowed: not GIT_PASSWORD: Earthly reads it as --git-password/,
    );
    assert.equal(output.includes(secret), false, "the value reached the engine's output");
    const deployment = (await s.exportStack()).deployment as Obj;
    const registered = ((deployment.resources ?? []) as Obj[]).filter((r) =>
      String(r.type).startsWith("kubernetes:"),
    );
    assert.deepEqual(registered, [], "a refused program registered a Kubernetes resource");
    assert.deepEqual(
      json<Obj>(["get", "jobs,configmaps,networkpolicies", "--all-namespaces"]).items.filter(
        (o: Obj) => o.metadata.namespace === "secret-env",
      ),
      [],
    );
  });

  test("destroy: every stack empty, nothing of ours left in the API server", async () => {
    // Each test destroyed its stacks; this also cleans up after a test that failed half-way.
    for (const s of stacks) await destroyed(s);
    // Only the namespaces a new cluster has are left, and no workload anywhere.
    const namespaces = json<Obj>(["get", "namespaces"]).items.map((n: Obj) => n.metadata.name);
    assert.deepEqual(namespaces.sort(), ["default", "kube-node-lease", "kube-public", "kube-system"]);
    for (const kind of [
      "jobs",
      "pods",
      "statefulsets",
      "networkpolicies",
      "poddisruptionbudgets",
      "secrets",
      "configmaps",
    ]) {
      const left = json<Obj>(["get", kind, "--all-namespaces"]).items.filter(
        (o: Obj) =>
          !["kube-system", "kube-public", "kube-node-lease"].includes(o.metadata.namespace) &&
          o.metadata.name !== "kube-root-ca.crt",
      );
      assert.deepEqual(left, [], `${kind} left behind`);
    }
  });
});
