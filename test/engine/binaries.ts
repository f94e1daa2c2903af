/**
 * Where `build-engine.sh` put the real-engine tier's binaries, for the versions this checkout locks.
 * The versions here and in the script must agree: both read the npm SDKs' versions from node_modules.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import PINNED from "./versions.json";

const ROOT = path.resolve(__dirname, "..", "..");

function npmVersion(pkg: string): string {
  const file = path.join(ROOT, "node_modules", ...pkg.split("/"), "package.json");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { version: string }).version;
}

/** The versions the tier runs: the same overrides and sources (npm SDKs, versions.json) as build-engine.sh. */
export const ENGINE_VERSIONS = {
  pulumi: process.env.PULUMI_VERSION ?? `v${npmVersion("@pulumi/pulumi")}`,
  kubernetesProvider: process.env.K8S_PROVIDER_VERSION ?? npmVersion("@pulumi/kubernetes"),
  kubernetesProviderModule: process.env.K8S_PROVIDER_MODULE_VERSION ?? PINNED.kubernetesProviderModule,
  kubernetes: process.env.KUBERNETES_VERSION ?? PINNED.kubernetes,
  etcd: process.env.ETCD_VERSION ?? PINNED.etcd,
  kwok: process.env.KWOK_VERSION ?? PINNED.kwok,
};

/** Paths of the built binaries. */
export interface EngineBinaries {
  /** Folder holding `bin/pulumi` (what the Automation API's `PulumiCommand.get({ root })` takes). */
  pulumiRoot: string;
  /** The kubernetes provider plugin binary. */
  kubernetesProvider: string;
  /** What the provider binary was built from (module and version). */
  kubernetesProviderSource: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  kubectl: string;
  etcd: string;
  kwok: string;
  /** kwok's configuration: its own fast pod/node stages plus its chaos stage that fails a pod. */
  kwokStages: string;
}

/** The cache folder `build-engine.sh` writes to. */
export const ENGINE_CACHE =
  process.env.ENGINE_CACHE ?? path.join(os.homedir(), ".cache", "earthly-kubernetes", "engine");

/** The binaries, or an error saying which are missing and how to build them. */
export function engineBinaries(): EngineBinaries {
  const v = ENGINE_VERSIONS;
  const k8s = path.join(ENGINE_CACHE, `kubernetes-${v.kubernetes}`, "bin");
  const provider = path.join(
    ENGINE_CACHE,
    `pulumi-kubernetes-${v.kubernetesProvider}-${v.kubernetesProviderModule}`,
    "bin",
  );
  const kwokDir = path.join(ENGINE_CACHE, `kwok-${v.kwok}`);
  const bins: EngineBinaries = {
    pulumiRoot: path.join(ENGINE_CACHE, `pulumi-${v.pulumi}`),
    kubernetesProvider: path.join(provider, "pulumi-resource-kubernetes"),
    kubernetesProviderSource: path.join(provider, "SOURCE"),
    kubeApiserver: path.join(k8s, "kube-apiserver"),
    kubeControllerManager: path.join(k8s, "kube-controller-manager"),
    kubeScheduler: path.join(k8s, "kube-scheduler"),
    kubectl: path.join(k8s, "kubectl"),
    etcd: path.join(ENGINE_CACHE, `etcd-${v.etcd}`, "bin", "etcd"),
    kwok: path.join(kwokDir, "bin", "kwok"),
    kwokStages: path.join(kwokDir, "stages.yaml"),
  };
  const missing = Object.entries({ ...bins, pulumiRoot: path.join(bins.pulumiRoot, "bin", "pulumi") })
    .filter(([, p]) => !fs.existsSync(p))
    .map(([name, p]) => `${name} (${p})`);
  if (missing.length > 0) {
    throw new Error(
      `the real-engine tier's binaries are not built: ${missing.join(", ")}; run \`npm run engine:build\``,
    );
  }
  return bins;
}
