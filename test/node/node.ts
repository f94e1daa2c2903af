/**
 * A real node for the node tier: the engine tier's control plane, plus containerd (its own root,
 * state and socket), a kubelet joined to the control plane with a pool's labels and taints, the
 * bridge CNI, kube-proxy in iptables mode and CoreDNS as the cluster DNS. Everything it starts,
 * mounts or adds to the host's network is removed by `stop()`, also after a failed start.
 *
 * The facts it builds on (the missing CAP_SYS_RESOURCE, cgroup v1, containerd 1.6) are in
 * docs/testing.md.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as YAML from "yaml";
import { EngineBinaries } from "../engine/binaries";
import {
  ControlPlane,
  Proc,
  freePort,
  kubeconfigFor,
  startControlPlane,
  startProcess,
  stopProcess,
  waitFor,
} from "../engine/controlPlane";
import { NodeBuilds } from "./binaries";
import { ImageSpec, imageArchive, pauseImage, NODE_IMAGES } from "./images";

/** The pod network: one bridge, its gateway, and the address CoreDNS serves on (the gateway). */
export const POD_SUBNET = "10.244.0.0/24";
export const POD_GATEWAY = "10.244.0.1";
const BRIDGE = "nodetier0";
const CLUSTER_CIDR = "10.244.0.0/16";

/** The pool the node joins as: its name, labels and taints. */
export interface NodePoolShape {
  labels?: { [key: string]: string };
  taints?: { key: string; value?: string; effect: string }[];
}

/** A running control plane with one real node. */
export interface RealCluster {
  cp: ControlPlane;
  /** The node's name. */
  nodeName: string;
  /** The node's (the machine's) own IPv4 address. */
  nodeIp: string;
  /** Runs `ctr` against the node's containerd, in the CRI namespace. */
  ctr(args: string[]): string;
  /** Imports an image built from `spec` (cached by content); returns the archive's path. */
  importImage(spec: ImageSpec): string;
  /**
   * Imports a docker-archive as it is given (`docker save` output, e.g. a user's earthly/earthly);
   * returns the references its manifest carries, the names pods use.
   */
  importArchive(archive: string): string[];
  /** The node's log files (kubelet, containerd, ...), for messages when something fails. */
  logDir: string;
  /** Stops everything and removes what it added to the host. */
  stop(): Promise<void>;
}

function sh(command: string, args: string[], input?: string): { status: number; out: string } {
  const r = spawnSync(command, args, { input, encoding: "utf8", timeout: 120_000 });
  return {
    status: r.status ?? -1,
    out: `${r.stdout ?? ""}${r.stderr ?? ""}${r.error ? String(r.error) : ""}`,
  };
}

function must(command: string, args: string[], input?: string): string {
  const r = sh(command, args, input);
  if (r.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${r.out}`);
  return r.out;
}

/** The machine's own IPv4 address (the first non-loopback one), never a hard-coded one. */
function machineIp(): string {
  for (const addresses of Object.values(os.networkInterfaces())) {
    const found = (addresses ?? []).find((a) => a.family === "IPv4" && !a.internal);
    if (found) return found.address;
  }
  throw new Error("the node tier needs a non-loopback IPv4 address on this machine; found none");
}

/** The node tier's preconditions, each named with its remedy: root, cgroup v1 or v2, the host tools. */
export function nodePreconditions(): string[] {
  const problems: string[] = [];
  if (process.getuid?.() !== 0)
    problems.push("the node tier runs as root (it starts containerd and a kubelet)");
  for (const tool of ["containerd", "ctr", "runc", "iptables", "ip", "openssl", "conntrack"]) {
    if (sh("sh", ["-c", `command -v ${tool}`]).status !== 0)
      problems.push(`${tool} is missing (build-node.sh installs it with apt-get)`);
  }
  if (!fs.existsSync("/usr/lib/cni/bridge"))
    problems.push("/usr/lib/cni/bridge is missing (containernetworking-plugins)");
  return problems;
}

/** A CA and a client certificate the API server shows kubelets (which trust only that CA). */
function kubeletClientPki(dir: string): { ca: string; cert: string; key: string } {
  const f = (n: string) => path.join(dir, n);
  must("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
    "-subj", "/CN=node-tier-kubelet-client-ca", "-keyout", f("ca.key"), "-out", f("ca.crt"),
  ]); // prettier-ignore
  must("openssl", [
    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
    "-subj", "/O=system:masters/CN=kube-apiserver-kubelet-client", "-keyout", f("client.key"), "-out", f("client.csr"),
  ]); // prettier-ignore
  must("openssl", [
    "x509", "-req", "-in", f("client.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial",
    "-days", "2", "-out", f("client.crt"),
  ]); // prettier-ignore
  return { ca: f("ca.crt"), cert: f("client.crt"), key: f("client.key") };
}

function containerdConfig(dir: string): string {
  return `version = 2
root = "${dir}/containerd/root"
state = "${dir}/containerd/state"
[grpc]
  address = "${dir}/containerd/containerd.sock"
[ttrpc]
  address = "${dir}/containerd/containerd.sock.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${NODE_IMAGES.pause}"
  # Sessions and CI here lack CAP_SYS_RESOURCE: without this, every sandbox fails to start.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "${dir}/cni"
`;
}

function cniConfig(dir: string): string {
  return JSON.stringify({
    cniVersion: "0.4.0",
    name: "node-tier",
    plugins: [
      {
        type: "bridge",
        bridge: BRIDGE,
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: "host-local",
          ranges: [[{ subnet: POD_SUBNET, gateway: POD_GATEWAY }]],
          routes: [{ dst: "0.0.0.0/0" }],
          dataDir: path.join(dir, "ipam"),
        },
      },
      { type: "portmap", capabilities: { portMappings: true } },
    ],
  });
}

/**
 * Deletes the rules of a table that `match` picks, by number (a rule's text may hold quoted
 * comments), last first so the numbers stay right.
 */
function deleteRules(tool: string, table: string, match: (rule: string) => boolean): void {
  const rules = sh(tool, ["-t", table, "-S"])
    .out.split("\n")
    .filter((r) => r.startsWith("-A "));
  const numbered: { chain: string; n: number; rule: string }[] = [];
  const counts: { [chain: string]: number } = {};
  for (const rule of rules) {
    const chain = rule.split(" ")[1];
    counts[chain] = (counts[chain] ?? 0) + 1;
    numbered.push({ chain, n: counts[chain], rule });
  }
  for (const r of numbered.filter((x) => match(x.rule)).reverse()) {
    sh(tool, ["-t", table, "-D", r.chain, String(r.n)]);
  }
}

/**
 * Removes the chains the kubelet, kube-proxy and the bridge plugin leave in the host's iptables
 * (`kube-proxy --cleanup` leaves the kubelet's own KUBE-FIREWALL and canary chains, and a killed
 * sandbox its CNI-* masquerade chain): every jump to such a chain, then the chains. Only this tier's
 * node makes them on these machines.
 */
function removeChains(prefixes = ["KUBE-", "CNI-"]): void {
  const ours = (name: string) => prefixes.some((p) => name.startsWith(p));
  for (const tool of ["iptables", "ip6tables"]) {
    for (const table of ["filter", "nat", "mangle", "raw"]) {
      deleteRules(tool, table, (rule) => {
        const jump = / -j (\S+)/.exec(rule);
        return jump !== null && ours(jump[1]) && !ours(rule.split(" ")[1]);
      });
      const chains = sh(tool, ["-t", table, "-S"])
        .out.split("\n")
        .filter((r) => r.startsWith("-N ") && ours(r.slice(3)))
        .map((r) => r.slice(3));
      for (const chain of chains) sh(tool, ["-t", table, "-F", chain]);
      for (const chain of chains) sh(tool, ["-t", table, "-X", chain]);
    }
  }
}

/** Kills every process left in the pods' cgroups (a killed shim leaves its container running). */
function killPodProcesses(): void {
  for (const controller of fs.existsSync("/sys/fs/cgroup") ? fs.readdirSync("/sys/fs/cgroup") : []) {
    const root = path.join("/sys/fs/cgroup", controller, "kubepods");
    if (!fs.existsSync(root)) continue;
    const walk = (dir: string): void => {
      const procs = path.join(dir, "cgroup.procs");
      if (fs.existsSync(procs)) {
        for (const pid of fs.readFileSync(procs, "utf8").split("\n").filter(Boolean)) {
          try {
            process.kill(Number(pid), "SIGKILL");
          } catch {
            // gone already
          }
        }
      }
      for (const e of fs.readdirSync(dir, { withFileTypes: true }))
        if (e.isDirectory()) walk(path.join(dir, e.name));
    };
    walk(root);
  }
}

/** Unmounts everything mounted under `dir`, deepest first. */
function unmountUnder(dir: string): void {
  const mounts = fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m !== undefined && (m === dir || m.startsWith(`${dir}/`)))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) sh("umount", ["-l", m]);
}

/**
 * What a run that was killed (not stopped) left behind: its processes, mounts, bridge and chains.
 * Only this tier makes them (folders named node-tier-* in the temp folder, the bridge BRIDGE).
 */
function removeLeftovers(): void {
  const prefix = path.join(os.tmpdir(), "node-tier-");
  sh("pkill", ["-KILL", "-f", prefix]);
  const mounts = fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1])
    .filter((m) => m?.startsWith(prefix));
  for (const m of mounts.sort((a, b) => b.length - a.length)) sh("umount", ["-l", m]);
  killPodProcesses();
  if (sh("ip", ["link", "show", BRIDGE]).status === 0) sh("ip", ["link", "delete", BRIDGE]);
  removeChains();
}

/**
 * Starts the control plane and one real node joined to it as `nodeName`, with `pool`'s labels and
 * taints; resolves once the node is Ready and the pause image is imported.
 */
export async function startRealCluster(
  engine: EngineBinaries,
  builds: NodeBuilds,
  nodeName: string,
  pool: NodePoolShape,
): Promise<RealCluster> {
  removeLeftovers();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-tier-"));
  const logDir = path.join(dir, "logs");
  fs.mkdirSync(logDir);
  const procs: Proc[] = [];
  const undo: (() => void)[] = [];
  let cp: ControlPlane | undefined;
  const socket = path.join(dir, "containerd", "containerd.sock");
  const ctr = (args: string[]) => must("ctr", ["-a", socket, "-n", "k8s.io", ...args]);

  const stop = async () => {
    // Pods first, through the kubelet, so each sandbox's network is torn down by CNI.
    if (cp && procs.some((p) => p.name === "kubelet" && p.child.exitCode === null)) {
      cp.tryKubectl([
        "delete",
        "pods",
        "--all",
        "--all-namespaces",
        "--grace-period=0",
        "--force",
        "--wait=false",
      ]);
      const start = Date.now();
      while (Date.now() - start < 60_000) {
        const r = sh("ctr", ["-a", socket, "-n", "k8s.io", "tasks", "ls", "-q"]);
        if (r.status !== 0 || r.out.trim() === "") break;
        await new Promise((res) => setTimeout(res, 1000));
      }
    }
    for (const p of [...procs].reverse()) await stopProcess(p);
    // Whatever still runs under our containerd: its containers, then their shims.
    killPodProcesses();
    sh("pkill", ["-KILL", "-f", `containerd-shim-runc-v2 .*-address ${socket}`]);
    sh(builds.kubeProxy, ["--cleanup"]);
    removeChains();
    for (const u of [...undo].reverse()) u();
    unmountUnder(dir);
    if (!process.env.NODE_KEEP) fs.rmSync(dir, { recursive: true, force: true });
    await cp?.stop();
  };

  try {
    const nodeIp = machineIp();
    const pki = kubeletClientPki(dir);
    const nodeToken = randomBytes(24).toString("hex");
    cp = await startControlPlane(engine, [], {
      extraTokenLines: [`${nodeToken},system:node:${nodeName},${nodeName}-uid,"system:nodes"`],
      extraApiserverArgs: [
        `--kubelet-client-certificate=${pki.cert}`,
        `--kubelet-client-key=${pki.key}`,
        "--kubelet-preferred-address-types=InternalIP",
      ],
    });

    // The host's network: forwarding on (restored after), and the pods' bridge made now, so that
    // CoreDNS can listen on its gateway address before the first pod exists.
    const forwarding = fs.readFileSync("/proc/sys/net/ipv4/ip_forward", "utf8").trim();
    fs.writeFileSync("/proc/sys/net/ipv4/ip_forward", "1");
    undo.push(() => fs.writeFileSync("/proc/sys/net/ipv4/ip_forward", forwarding));
    must("ip", ["link", "add", BRIDGE, "type", "bridge"]);
    undo.push(() => void sh("ip", ["link", "delete", BRIDGE]));
    must("ip", ["addr", "add", `${POD_GATEWAY}/24`, "dev", BRIDGE]);
    must("ip", ["link", "set", BRIDGE, "up"]);

    fs.mkdirSync(path.join(dir, "cni"));
    fs.writeFileSync(path.join(dir, "cni", "10-node-tier.conflist"), cniConfig(dir));
    fs.writeFileSync(path.join(dir, "containerd.toml"), containerdConfig(dir));
    procs.push(
      startProcess("containerd", "containerd", ["--config", path.join(dir, "containerd.toml")], logDir),
    );
    await waitFor("containerd", 60_000, () => sh("ctr", ["-a", socket, "version"]).status === 0, procs);
    const importImage = (spec: ImageSpec) => {
      const archive = imageArchive(spec, path.join(path.dirname(builds.pause), "..", "..", "images"));
      ctr(["images", "import", archive]);
      return archive;
    };
    importImage(pauseImage(builds));
    const importArchive = (archive: string) => {
      // `docker save` names it manifest.json, a tar of a folder ./manifest.json.
      const entry = must("tar", ["-tf", archive])
        .split("\n")
        .find((e) => /^(\.\/)?manifest\.json$/.test(e));
      if (entry === undefined) throw new Error(`${archive}: not a docker-archive (no manifest.json)`);
      const manifest = must("tar", ["-xOf", archive, entry]);
      const tags = (JSON.parse(manifest) as { RepoTags?: string[] | null }[]).flatMap(
        (m) => m.RepoTags ?? [],
      );
      if (tags.length === 0) throw new Error(`${archive}: no image name in its manifest.json (RepoTags)`);
      // ctr names a short reference (earthly/earthly:v0.8.16) docker.io/..., as the kubelet looks it up.
      ctr(["images", "import", archive]);
      return tags;
    };

    const kubeconfigs = {
      node: path.join(dir, "kubelet.kubeconfig"),
      admin: cp.kubeconfigPath,
    };
    fs.writeFileSync(kubeconfigs.node, kubeconfigFor(cp.server, nodeToken), { mode: 0o600 });

    const dnsPort = 53;
    fs.writeFileSync(
      path.join(dir, "Corefile"),
      `.:${dnsPort} {
  bind ${POD_GATEWAY}
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig ${kubeconfigs.admin} engine
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
  cache 5
}
`,
    );
    procs.push(startProcess("coredns", builds.coredns, ["-conf", path.join(dir, "Corefile")], logDir));

    const [kubeletPort, healthzPort, proxyMetrics, proxyHealthz] = await Promise.all(
      Array.from({ length: 4 }, () => freePort()),
    );
    fs.writeFileSync(path.join(dir, "resolv.conf"), `nameserver ${POD_GATEWAY}\n`);
    fs.writeFileSync(
      path.join(dir, "kubelet.yaml"),
      YAML.stringify({
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        // cgroup v1 (hybrid) here, no systemd, swap not turned off.
        failCgroupV1: false,
        cgroupDriver: "cgroupfs",
        failSwapOn: false,
        containerRuntimeEndpoint: `unix://${socket}`,
        clusterDNS: [POD_GATEWAY],
        clusterDomain: "cluster.local",
        resolvConf: path.join(dir, "resolv.conf"),
        // Only the API server (its client certificate, from the CA made above) may call the kubelet.
        authentication: {
          anonymous: { enabled: false },
          webhook: { enabled: false },
          x509: { clientCAFile: pki.ca },
        },
        authorization: { mode: "AlwaysAllow" },
        port: kubeletPort,
        readOnlyPort: 0,
        healthzBindAddress: "127.0.0.1",
        healthzPort,
        podCIDR: POD_SUBNET,
        // A shared machine's disk is not the node's to guard: evict only when it is nearly full.
        evictionHard: { "memory.available": "100Mi", "nodefs.available": "1%", "imagefs.available": "1%" },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
      }),
    );
    const labels = Object.entries(pool.labels ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(",");
    const taints = (pool.taints ?? [])
      .map((t) => `${t.key}${t.value ? `=${t.value}` : ""}:${t.effect}`)
      .join(",");
    procs.push(
      startProcess(
        "kubelet",
        builds.kubelet,
        [
          `--config=${path.join(dir, "kubelet.yaml")}`,
          `--kubeconfig=${kubeconfigs.node}`,
          `--hostname-override=${nodeName}`,
          `--node-ip=${nodeIp}`,
          `--root-dir=${path.join(dir, "kubelet")}`,
          `--cert-dir=${path.join(dir, "kubelet-pki")}`,
          ...(labels ? [`--node-labels=${labels}`] : []),
          ...(taints ? [`--register-with-taints=${taints}`] : []),
        ],
        logDir,
      ),
    );
    fs.writeFileSync(
      path.join(dir, "kube-proxy.yaml"),
      YAML.stringify({
        apiVersion: "kubeproxy.config.k8s.io/v1alpha1",
        kind: "KubeProxyConfiguration",
        mode: "iptables",
        clusterCIDR: CLUSTER_CIDR,
        hostnameOverride: nodeName,
        clientConnection: { kubeconfig: kubeconfigs.admin },
        metricsBindAddress: `127.0.0.1:${proxyMetrics}`,
        healthzBindAddress: `127.0.0.1:${proxyHealthz}`,
        // Leave the host's conntrack sysctls as they are.
        conntrack: { maxPerCore: 0 },
      }),
    );
    procs.push(
      startProcess("kube-proxy", builds.kubeProxy, [`--config=${path.join(dir, "kube-proxy.yaml")}`], logDir),
    );
    await waitFor(
      `node ${nodeName} Ready`,
      180_000,
      () =>
        cp!.tryKubectl([
          "get",
          "node",
          nodeName,
          "-o",
          'jsonpath={.status.conditions[?(@.type=="Ready")].status}',
        ]).stdout === "True",
      procs,
    );
    return { cp, nodeName, nodeIp, ctr, importImage, importArchive, logDir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
