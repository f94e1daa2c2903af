/**
 * A real Kubernetes control plane on loopback for the real-engine tier: etcd, kube-apiserver (Pod
 * Security admission and RBAC on, privileged pods allowed, as kubeadm sets it up),
 * kube-controller-manager, kube-scheduler, and kwok standing in for the kubelets of nodes registered
 * as kind would register them. Binaries come from `build-engine.sh` (Go module proxy builds).
 */
import { ChildProcess, spawn, spawnSync } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { EngineBinaries } from "./binaries";

/** A node to register: what kind's node would carry. */
export interface FakeNode {
  name: string;
  labels: { [key: string]: string };
  taints: { key: string; value?: string; effect: string }[];
}

/** What `kubectl logs` returns for every container on the fake nodes. */
export const FAKE_CONTAINER_LOG: readonly string[] = [
  "+build | --> GIT CLONE https://github.com/earthly/ci-example-project",
  "+build | ERROR: this log is served by kwok for every container",
];

/** A running control plane. */
export interface ControlPlane {
  /** The API server's URL (on loopback). */
  server: string;
  /** A kubeconfig (admin, token auth) for the API server. */
  kubeconfig: string;
  /** Path of that kubeconfig on disk. */
  kubeconfigPath: string;
  /** Runs the built kubectl against this control plane; throws with its stderr on failure. */
  kubectl(args: string[], input?: string): string;
  /** Like {@link kubectl} but returns the exit status and both streams. */
  tryKubectl(args: string[], input?: string): { status: number; stdout: string; stderr: string };
  /** Stops every process and removes the data folder. */
  stop(): Promise<void>;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

/** Polls `check` until it holds, failing early (with its log's tail) when one of `procs` exits. */
export async function waitFor(
  what: string,
  timeoutMs: number,
  check: () => boolean,
  procs: Proc[],
): Promise<void> {
  const start = Date.now();
  while (Date.now() - start < timeoutMs) {
    const dead = procs.find((p) => p.child.exitCode !== null);
    if (dead)
      throw new Error(
        `${dead.name} exited (${dead.child.exitCode}) while waiting for ${what}; ${dead.tail()}`,
      );
    if (check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A started process and the tail of its log. */
export interface Proc {
  name: string;
  child: ChildProcess;
  tail(): string;
}

/** Starts `binary` with its output appended to `logDir/NAME.log`. */
export function startProcess(name: string, binary: string, args: string[], logDir: string): Proc {
  const logPath = path.join(logDir, `${name}.log`);
  const log = fs.openSync(logPath, "a");
  const child = spawn(binary, args, { stdio: ["ignore", log, log] });
  fs.closeSync(log);
  return {
    name,
    child,
    tail: () => {
      const text = fs.existsSync(logPath) ? fs.readFileSync(logPath, "utf8") : "";
      return `last lines of ${logPath}:\n${text.split("\n").slice(-15).join("\n")}`;
    },
  };
}

/** SIGTERM, then SIGKILL after 5 s. */
export async function stopProcess(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.child.once("exit", () => resolve()));
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 5000);
  await exited;
  clearTimeout(timer);
}

/** A kubeconfig for a token-authenticated admin of the API server at `server`. */
export function kubeconfigFor(server: string, token: string): string {
  return YAML.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "engine", cluster: { server, "insecure-skip-tls-verify": true } }],
    users: [{ name: "admin", user: { token } }],
    contexts: [{ name: "engine", context: { cluster: "engine", user: "admin" } }],
    "current-context": "engine",
  });
}

/** The Node object kwok manages for a kind-shaped node. */
function nodeObject(node: FakeNode): object {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: node.name,
      labels: node.labels,
      // kwok manages only the nodes carrying this annotation (see its flags below).
      annotations: { "kwok.x-k8s.io/node": "fake", "node.alpha.kubernetes.io/ttl": "0" },
    },
    spec: {
      taints: node.taints.map((t) => ({
        key: t.key,
        ...(t.value ? { value: t.value } : {}),
        effect: t.effect,
      })),
    },
    status: {
      allocatable: { cpu: "8", memory: "32Gi", pods: "110", "ephemeral-storage": "100Gi" },
      capacity: { cpu: "8", memory: "32Gi", pods: "110", "ephemeral-storage": "100Gi" },
      nodeInfo: {
        architecture: "amd64",
        operatingSystem: "linux",
        kubeletVersion: "fake",
        kubeProxyVersion: "fake",
      },
      phase: "Running",
    },
  };
}

/** What a real node (the node tier) adds to the control plane. */
export interface ControlPlaneOptions {
  /** More static tokens (`token,user,uid,"group,..."` lines), e.g. a kubelet's `system:node:NAME`. */
  extraTokenLines?: string[];
  /** More kube-apiserver flags, e.g. the client certificate it shows kubelets. */
  extraApiserverArgs?: string[];
}

/**
 * Starts the control plane and registers `nodes` (kwok plays their kubelets; with no nodes, kwok is
 * not started); resolves once every node is Ready.
 */
export async function startControlPlane(
  bin: EngineBinaries,
  nodes: FakeNode[],
  options: ControlPlaneOptions = {},
): Promise<ControlPlane> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-cp-"));
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of [...procs].reverse()) await stopProcess(p);
    if (!process.env.ENGINE_KEEP) fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const [etcdClient, etcdPeer, apiPort, kcmPort, schedPort, kwokPort] = await Promise.all(
      Array.from({ length: 6 }, () => freePort()),
    );
    // Service-account signing keys and the admin's static token.
    const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
    fs.writeFileSync(path.join(dir, "sa.key"), privateKey.export({ type: "pkcs8", format: "pem" }));
    fs.writeFileSync(path.join(dir, "sa.pub"), publicKey.export({ type: "spki", format: "pem" }));
    const token = randomBytes(24).toString("hex");
    fs.writeFileSync(
      path.join(dir, "tokens.csv"),
      [`${token},admin,admin-uid,"system:masters"`, ...(options.extraTokenLines ?? [])].join("\n") + "\n",
    );
    const server = `https://127.0.0.1:${apiPort}`;
    const kubeconfig = kubeconfigFor(server, token);
    const kubeconfigPath = path.join(dir, "kubeconfig");
    fs.writeFileSync(kubeconfigPath, kubeconfig, { mode: 0o600 });

    const tryKubectl = (args: string[], input?: string) => {
      const r = spawnSync(bin.kubectl, ["--kubeconfig", kubeconfigPath, ...args], {
        input,
        encoding: "utf8",
        timeout: 120_000,
      });
      return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? String(r.error ?? "") };
    };
    const kubectl = (args: string[], input?: string) => {
      const r = tryKubectl(args, input);
      if (r.status !== 0) throw new Error(`kubectl ${args.join(" ")} failed: ${r.stderr}`);
      return r.stdout;
    };

    procs.push(
      startProcess(
        "etcd",
        bin.etcd,
        [
          "--name=engine",
          `--data-dir=${path.join(dir, "etcd")}`,
          `--listen-client-urls=http://127.0.0.1:${etcdClient}`,
          `--advertise-client-urls=http://127.0.0.1:${etcdClient}`,
          `--listen-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-advertise-peer-urls=http://127.0.0.1:${etcdPeer}`,
          `--initial-cluster=engine=http://127.0.0.1:${etcdPeer}`,
          "--unsafe-no-fsync",
          "--log-level=warn",
        ],
        dir,
      ),
    );
    procs.push(
      startProcess(
        "kube-apiserver",
        bin.kubeApiserver,
        [
          `--etcd-servers=http://127.0.0.1:${etcdClient}`,
          "--bind-address=127.0.0.1",
          "--advertise-address=127.0.0.1",
          `--secure-port=${apiPort}`,
          `--cert-dir=${path.join(dir, "certs")}`,
          `--token-auth-file=${path.join(dir, "tokens.csv")}`,
          "--authorization-mode=Node,RBAC",
          "--allow-privileged=true",
          "--service-cluster-ip-range=10.96.0.0/16",
          `--service-account-issuer=https://kubernetes.default.svc.cluster.local`,
          `--service-account-key-file=${path.join(dir, "sa.pub")}`,
          `--service-account-signing-key-file=${path.join(dir, "sa.key")}`,
          // The `kubernetes` Service's endpoint would be a loopback address, which is refused.
          "--endpoint-reconciler-type=none",
          ...(options.extraApiserverArgs ?? []),
        ],
        dir,
      ),
    );
    await waitFor(
      "the API server",
      120_000,
      () => tryKubectl(["get", "--raw", "/readyz"]).status === 0,
      procs,
    );

    procs.push(
      startProcess(
        "kube-controller-manager",
        bin.kubeControllerManager,
        [
          `--kubeconfig=${kubeconfigPath}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${kcmPort}`,
          `--service-account-private-key-file=${path.join(dir, "sa.key")}`,
          `--root-ca-file=${path.join(dir, "certs", "apiserver.crt")}`,
          "--leader-elect=false",
          "--use-service-account-credentials=false",
        ],
        dir,
      ),
    );
    procs.push(
      startProcess(
        "kube-scheduler",
        bin.kubeScheduler,
        [
          `--kubeconfig=${kubeconfigPath}`,
          "--bind-address=127.0.0.1",
          `--secure-port=${schedPort}`,
          "--leader-elect=false",
        ],
        dir,
      ),
    );
    if (nodes.length > 0) {
      // Every container's log, as kwok serves it through the API server (`kubectl logs`): one file in
      // the CRI log format, named by a ClusterLogs rule of kwok's configuration.
      const logsFile = path.join(dir, "container.log");
      fs.writeFileSync(
        logsFile,
        FAKE_CONTAINER_LOG.map((line) => `2026-01-01T00:00:00.000000000Z stdout F ${line}\n`).join(""),
      );
      fs.writeFileSync(
        path.join(dir, "logs.yaml"),
        YAML.stringify({
          apiVersion: "kwok.x-k8s.io/v1alpha1",
          kind: "ClusterLogs",
          metadata: { name: "every-container" },
          spec: { logs: [{ logsFile }] },
        }),
      );
      procs.push(
        startProcess(
          "kwok",
          bin.kwok,
          [
            `--kubeconfig=${kubeconfigPath}`,
            `--config=${bin.kwokStages}`,
            `--config=${path.join(dir, "logs.yaml")}`,
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-ip=127.0.0.1",
            // The API server reaches the "kubelet" (kwok's server) here for logs.
            `--node-port=${kwokPort}`,
            "--cidr=10.244.0.0/16",
            `--server-address=127.0.0.1:${kwokPort}`,
          ],
          dir,
        ),
      );

      kubectl(["apply", "-f", "-"], nodes.map((n) => YAML.stringify(nodeObject(n))).join("---\n"));
    }
    await waitFor(
      "every node Ready",
      120_000,
      () => {
        const r = tryKubectl([
          "get",
          "nodes",
          "-o",
          'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\\n"}{end}',
        ]);
        const ready = r.stdout.split("\n").filter((s) => s === "True").length;
        return r.status === 0 && ready === nodes.length;
      },
      procs,
    );
    // Namespaces are only usable once the service-account controller made their default account.
    await waitFor(
      "the default service account",
      60_000,
      () => tryKubectl(["get", "serviceaccount", "default", "--namespace", "default"]).status === 0,
      procs,
    );
    return { server, kubeconfig, kubeconfigPath, kubectl, tryKubectl, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
