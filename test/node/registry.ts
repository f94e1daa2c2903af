/**
 * A registry in the test cluster: distribution's registry (built from the Go module proxy) with
 * htpasswd auth over plain HTTP, so builds have something to push to and pull `FROM`, with and
 * without credentials. Test infrastructure, applied with kubectl: not one of our components.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { waitFor } from "../engine/controlPlane";
import { ONE_NODE_TOLERATIONS } from "./buildClient";
import { NodeBuilds, nodeBuilds } from "./binaries";
import { ImageSpec } from "./images";
import { RealCluster } from "./node";

export const REGISTRY_NAMESPACE = "registry";
/** The registry's address as builds name it (the Service's cluster DNS name and port). */
export const REGISTRY_HOST = `registry.${REGISTRY_NAMESPACE}.svc.cluster.local:5000`;
const IMAGE = "localhost/node-tier/registry:1";

/** The registry image: the registry binary and its configuration (htpasswd auth, files on a volume). */
export function registryImage(builds: NodeBuilds): ImageSpec {
  const config = [
    "version: 0.1",
    "log:",
    "  level: info",
    "storage:",
    "  filesystem:",
    "    rootdirectory: /var/lib/registry",
    "http:",
    "  addr: :5000",
    "auth:",
    "  htpasswd:",
    "    realm: node-tier",
    "    path: /auth/htpasswd",
    "",
  ].join("\n");
  return {
    reference: IMAGE,
    layers: [
      {
        entries: [
          { path: "registry", source: builds.registry, mode: 0o755 },
          { path: "etc/distribution/config.yml", content: config },
          { path: "tmp", directory: true, mode: 0o1777 },
        ],
      },
    ],
    entrypoint: ["/registry", "serve", "/etc/distribution/config.yml"],
  };
}

/** A running registry: its one user, and what it holds, asked over its own API. */
export interface TestRegistry {
  user: string;
  password: string;
  /** A Docker config (`.dockerconfigjson`) with the user's credentials for REGISTRY_HOST. */
  dockerConfigJson: string;
  /** The tags of `repository`, asked with the credentials (empty when the repository is unknown). */
  tags(repository: string): Promise<string[]>;
  /** The registry's log. */
  log(): string;
}

/** Imports the registry's image, deploys it, and waits until it answers. */
export async function deployRegistry(cluster: RealCluster): Promise<TestRegistry> {
  const { cp } = cluster;
  cluster.importImage(registryImage(nodeBuilds()));
  const user = "builder";
  const password = randomBytes(18).toString("base64url");
  const hashed = spawnSync("htpasswd", ["-Bbn", user, password], { encoding: "utf8" });
  if (hashed.status !== 0)
    throw new Error(
      `htpasswd (Debian's apache2-utils) failed: ${hashed.stderr}${String(hashed.error ?? "")}`,
    );
  const labels = { app: "registry" };
  const objects = [
    { apiVersion: "v1", kind: "Namespace", metadata: { name: REGISTRY_NAMESPACE } },
    {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "htpasswd", namespace: REGISTRY_NAMESPACE },
      stringData: { htpasswd: hashed.stdout },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "registry", namespace: REGISTRY_NAMESPACE },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            // One node, in the builder pool: the registry tolerates its taint.
            tolerations: ONE_NODE_TOLERATIONS,
            containers: [
              {
                name: "registry",
                image: IMAGE,
                imagePullPolicy: "Never",
                ports: [{ containerPort: 5000 }],
                readinessProbe: { tcpSocket: { port: 5000 }, periodSeconds: 1 },
                volumeMounts: [
                  { name: "htpasswd", mountPath: "/auth", readOnly: true },
                  { name: "data", mountPath: "/var/lib/registry" },
                ],
              },
            ],
            volumes: [
              { name: "htpasswd", secret: { secretName: "htpasswd" } },
              { name: "data", emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "registry", namespace: REGISTRY_NAMESPACE },
      spec: { selector: labels, ports: [{ port: 5000, targetPort: 5000 }] },
    },
  ];
  cp.kubectl(["apply", "-f", "-"], JSON.stringify({ apiVersion: "v1", kind: "List", items: objects }));
  const pod = (jsonpath: string) =>
    cp.tryKubectl([
      "get",
      "pods",
      "-n",
      REGISTRY_NAMESPACE,
      "-l",
      "app=registry",
      "-o",
      `jsonpath=${jsonpath}`,
    ]).stdout;
  await waitFor(
    "the registry Ready",
    120_000,
    () => pod('{.items[0].status.conditions[?(@.type=="Ready")].status}') === "True",
    [],
  );
  const podIp = pod("{.items[0].status.podIP}");
  const auth = Buffer.from(`${user}:${password}`).toString("base64");
  return {
    user,
    password,
    dockerConfigJson: JSON.stringify({ auths: { [REGISTRY_HOST]: { auth } } }),
    async tags(repository) {
      // From the host, to the pod's address on the node's bridge.
      const r = await fetch(`http://${podIp}:5000/v2/${repository}/tags/list`, {
        headers: { authorization: `Basic ${auth}` },
      });
      if (r.status === 404) return [];
      if (!r.ok) throw new Error(`the registry answered ${r.status} for ${repository}: ${await r.text()}`);
      return ((await r.json()) as { tags: string[] | null }).tags ?? [];
    },
    log: () => cp.kubectl(["logs", "-n", REGISTRY_NAMESPACE, "deployment/registry"]),
  };
}
