/**
 * Where `build-node.sh` put the real-node tier's builds, for the versions this checkout pins (the
 * engine tier's Kubernetes version, test/node/versions.json for the rest).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ENGINE_VERSIONS } from "../engine/binaries";
import PINNED from "./versions.json";

/** The versions the tier runs, with the same overrides as build-node.sh. */
export const NODE_VERSIONS = {
  kubernetes: ENGINE_VERSIONS.kubernetes,
  coredns: process.env.COREDNS_VERSION ?? PINNED.coredns,
  earthly: process.env.EARTHLY_VERSION ?? PINNED.earthly,
  distribution: process.env.DISTRIBUTION_VERSION ?? PINNED.distribution,
};

/** The cache folder `build-node.sh` writes to. */
export const NODE_CACHE =
  process.env.NODE_CACHE ?? path.join(os.homedir(), ".cache", "earthly-kubernetes", "node");

/** Paths of the builds. */
export interface NodeBuilds {
  kubelet: string;
  kubeProxy: string;
  coredns: string;
  pause: string;
  buildkitd: string;
  buildctl: string;
  earthDebugger: string;
  /** The registry (distribution's cmd/registry). */
  registry: string;
  /** The Debian root filesystem of the buildkitd image, as one layer tar. */
  buildkitdRootfs: string;
  /** The earthly module's folder (Earthly's entrypoint and templates). */
  earthlyModule: string;
}

/** The builds, or an error naming what is missing and how to build it. */
export function nodeBuilds(): NodeBuilds {
  const v = NODE_VERSIONS;
  // The newest finished root filesystem (its folder is named by the package list's hash).
  const rootfs = fs.existsSync(NODE_CACHE)
    ? fs
        .readdirSync(NODE_CACHE)
        .map((d) => path.join(NODE_CACHE, d))
        .filter((d) => path.basename(d).startsWith("rootfs-") && fs.existsSync(path.join(d, ".done")))
        .sort(
          (a, b) => fs.statSync(path.join(b, ".done")).mtimeMs - fs.statSync(path.join(a, ".done")).mtimeMs,
        )
        .map((d) => path.join(d, "bin", "rootfs.tar"))
    : [];
  const earthly = path.join(NODE_CACHE, `earthly-${v.earthly}`, "bin");
  const node = path.join(NODE_CACHE, `kubernetes-node-${v.kubernetes}`, "bin");
  const moduleDir = spawnSync("go", ["mod", "download", "-json", `github.com/earthly/earthly@${v.earthly}`], {
    encoding: "utf8",
  });
  const builds: NodeBuilds = {
    kubelet: path.join(node, "kubelet"),
    kubeProxy: path.join(node, "kube-proxy"),
    coredns: path.join(NODE_CACHE, `coredns-${v.coredns}`, "bin", "coredns"),
    pause: path.join(NODE_CACHE, `pause-${v.kubernetes}`, "bin", "pause"),
    buildkitd: path.join(earthly, "buildkitd"),
    buildctl: path.join(earthly, "buildctl"),
    earthDebugger: path.join(earthly, "earth_debugger"),
    registry: path.join(NODE_CACHE, `registry-${v.distribution}`, "bin", "registry"),
    buildkitdRootfs: rootfs[0] ?? path.join(NODE_CACHE, "rootfs-*", "bin", "rootfs.tar"),
    earthlyModule:
      moduleDir.status === 0
        ? (JSON.parse(moduleDir.stdout) as { Dir: string }).Dir
        : "(go mod download failed)",
  };
  const missing = Object.entries(builds)
    .filter(([, p]) => !fs.existsSync(p))
    .map(([name, p]) => `${name} (${p})`);
  if (missing.length > 0) {
    throw new Error(
      `the real-node tier's builds are missing: ${missing.join(", ")}; run \`npm run node:build\``,
    );
  }
  return builds;
}
