/**
 * Images for the real-node tier, made here from registry-served parts and never pulled: each is a
 * docker-archive (manifest.json, a config, one tar per layer) written reproducibly (sorted entries,
 * time 0, owner 0) and cached by its content, then imported into the node's containerd.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { NodeBuilds } from "./binaries";

/** A file of a layer: copied from `source`, written from `content`, or a symbolic link. */
export type LayerEntry =
  | { path: string; source: string; mode?: number }
  | { path: string; content: string; mode?: number }
  | { path: string; symlink: string }
  | { path: string; directory: true; mode?: number };

/** What an image is made of: layers (ready tars or entries) and the runtime settings. */
export interface ImageSpec {
  /** The reference pods use, e.g. `localhost/node-tier/probe:1`. */
  reference: string;
  layers: ({ tar: string } | { entries: LayerEntry[] })[];
  entrypoint: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  volumes?: string[];
}

function run(command: string, args: string[], opts: { cwd?: string } = {}): void {
  const r = spawnSync(command, args, { encoding: "utf8", ...opts });
  if (r.status !== 0)
    throw new Error(`${command} ${args.join(" ")} failed: ${r.stderr}${String(r.error ?? "")}`);
}

/**
 * Reproducible tar of a folder's contents: sorted, owner 0, time 0, names without a leading `./`
 * (as `docker save` and image layers name them).
 */
function tarFolder(dir: string, out: string): void {
  const entries = fs.readdirSync(dir).sort();
  run("tar", [
    "--sort=name",
    "--mtime=@0",
    "--owner=0",
    "--group=0",
    "--numeric-owner",
    "--format=gnu",
    "-C",
    dir,
    "-cf",
    out,
    "--",
    ...entries,
  ]);
}

function sha256File(file: string): string {
  const hash = createHash("sha256");
  const fd = fs.openSync(file, "r");
  const buffer = Buffer.alloc(1 << 20);
  let n: number;
  while ((n = fs.readSync(fd, buffer, 0, buffer.length, null)) > 0) hash.update(buffer.subarray(0, n));
  fs.closeSync(fd);
  return hash.digest("hex");
}

function layerFromEntries(entries: LayerEntry[], out: string): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "node-layer-"));
  try {
    for (const e of entries) {
      const target = path.join(dir, e.path);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      if ("symlink" in e) fs.symlinkSync(e.symlink, target);
      else if ("directory" in e) fs.mkdirSync(target, { recursive: true, mode: e.mode ?? 0o755 });
      else {
        if ("source" in e) fs.copyFileSync(e.source, target);
        else fs.writeFileSync(target, e.content);
        fs.chmodSync(target, e.mode ?? 0o644);
      }
    }
    tarFolder(dir, out);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Writes the image's docker-archive under `cacheDir` (reused when its content is the same) and
 * returns its path. The archive's name is the hash of its layers' digests and config.
 */
export function imageArchive(spec: ImageSpec, cacheDir: string): string {
  fs.mkdirSync(cacheDir, { recursive: true });
  const work = fs.mkdtempSync(path.join(cacheDir, "work-"));
  try {
    const layers = spec.layers.map((layer, i) => {
      const file = path.join(work, `layer-${i}.tar`);
      if ("tar" in layer) fs.symlinkSync(layer.tar, file);
      else layerFromEntries(layer.entries, file);
      return { file, digest: sha256File(file) };
    });
    const config = {
      architecture: "amd64",
      os: "linux",
      config: {
        Entrypoint: spec.entrypoint,
        ...(spec.cmd ? { Cmd: spec.cmd } : {}),
        Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...(spec.env ?? [])],
        ...(spec.workingDir ? { WorkingDir: spec.workingDir } : {}),
        ...(spec.volumes ? { Volumes: Object.fromEntries(spec.volumes.map((v) => [v, {}])) } : {}),
      },
      rootfs: { type: "layers", diff_ids: layers.map((l) => `sha256:${l.digest}`) },
      history: layers.map(() => ({ created_by: "earthly-kubernetes node tier" })),
    };
    const configJson = JSON.stringify(config);
    const configDigest = createHash("sha256").update(configJson).digest("hex");
    const key = createHash("sha256").update(`${spec.reference}\n${configDigest}`).digest("hex").slice(0, 16);
    const archive = path.join(cacheDir, `${spec.reference.replace(/[^a-zA-Z0-9.-]+/g, "_")}-${key}.tar`);
    if (fs.existsSync(archive)) return archive;

    const tree = path.join(work, "archive");
    fs.mkdirSync(tree);
    for (const l of layers) {
      fs.mkdirSync(path.join(tree, l.digest));
      fs.copyFileSync(fs.realpathSync(l.file), path.join(tree, l.digest, "layer.tar"));
    }
    fs.writeFileSync(path.join(tree, `${configDigest}.json`), configJson);
    fs.writeFileSync(
      path.join(tree, "manifest.json"),
      JSON.stringify([
        {
          Config: `${configDigest}.json`,
          RepoTags: [spec.reference],
          Layers: layers.map((l) => `${l.digest}/layer.tar`),
        },
      ]),
    );
    tarFolder(tree, `${archive}.partial`);
    fs.renameSync(`${archive}.partial`, archive);
    return archive;
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

/** Every applet of the host's static busybox (Debian's busybox-static) as a link in /bin. */
function busyboxEntries(): LayerEntry[] {
  const busybox = "/bin/busybox";
  if (!fs.existsSync(busybox)) throw new Error("/bin/busybox is missing: install Debian's busybox-static");
  const list = spawnSync(busybox, ["--list"], { encoding: "utf8" }).stdout.split("\n").filter(Boolean);
  return [
    { path: "bin/busybox", source: busybox, mode: 0o755 },
    ...list.filter((a) => a !== "busybox").map((a) => ({ path: `bin/${a}`, symlink: "busybox" })),
  ];
}

/** The image references the tier uses. */
export const NODE_IMAGES = {
  pause: "localhost/node-tier/pause:1",
  probe: "localhost/node-tier/probe:1",
  /** The remote client of real builds: buildctl, busybox and the workload (test/node/workload). */
  buildClient: "localhost/node-tier/build-client:1",
  /** Earthly's buildkitd image layout; the fleet gets it through `imageRepository`. */
  buildkitdRepository: "localhost/node-tier/buildkitd",
} as const;

/** The pause image: the kubernetes module's pause.c, built static. */
export function pauseImage(builds: NodeBuilds): ImageSpec {
  return {
    reference: NODE_IMAGES.pause,
    layers: [{ entries: [{ path: "pause", source: builds.pause, mode: 0o755 }] }],
    entrypoint: ["/pause"],
  };
}

/** The probe image: static busybox and the probe script (test/node/probe.sh) as its entrypoint. */
export function probeImage(): ImageSpec {
  return {
    reference: NODE_IMAGES.probe,
    layers: [
      {
        entries: [
          ...busyboxEntries(),
          { path: "probe", source: path.join(__dirname, "probe.sh"), mode: 0o755 },
          { path: "tmp", directory: true, mode: 0o1777 },
          { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\n" },
          { path: "etc/group", content: "root:x:0:\n" },
        ],
      },
    ],
    entrypoint: ["/probe"],
  };
}

/**
 * The build client: buildctl from Earthly's BuildKit fork (the daemon's own version), busybox, the
 * client script (test/node/buildctl-client.sh) as its entrypoint, and the workload's Dockerfile with
 * busybox beside it as the build context in /context.
 */
export function buildClientImage(builds: NodeBuilds): ImageSpec {
  const here = (name: string) => path.join(__dirname, name);
  return {
    reference: NODE_IMAGES.buildClient,
    layers: [
      {
        entries: [
          ...busyboxEntries(),
          { path: "usr/bin/buildctl", source: builds.buildctl, mode: 0o755 },
          { path: "client", source: here("buildctl-client.sh"), mode: 0o755 },
          { path: "context/Dockerfile", source: here("workload/Dockerfile") },
          { path: "context/busybox", source: "/bin/busybox", mode: 0o755 },
          { path: "tmp", directory: true, mode: 0o1777 },
        ],
      },
    ],
    entrypoint: ["/client"],
  };
}

/**
 * Earthly's buildkitd image, laid out as its Earthfile (buildkitd/Earthfile, target `buildkitd`)
 * lays it out: a Debian userland, Earthly's BuildKit fork, earth_debugger, and Earthly's entrypoint
 * and templates from the earthly module, with the same environment, volume and entrypoint.
 */
export function buildkitdImage(builds: NodeBuilds, version: string): ImageSpec {
  const src = path.join(builds.earthlyModule, "buildkitd");
  const file = (name: string, to: string, mode = 0o644): LayerEntry => ({
    path: to,
    source: path.join(src, name),
    mode,
  });
  return {
    reference: `${NODE_IMAGES.buildkitdRepository}:${version}`,
    layers: [
      { tar: builds.buildkitdRootfs },
      {
        entries: [
          { path: "usr/bin/buildkitd", source: builds.buildkitd, mode: 0o755 },
          { path: "usr/bin/buildctl", source: builds.buildctl, mode: 0o755 },
          { path: "usr/bin/earth_debugger", source: builds.earthDebugger, mode: 0o755 },
          file("entrypoint.sh", "usr/bin/entrypoint.sh", 0o755),
          ...["toml", "cache", "cacheduration", "tcp", "pprof", "tls"].map((t) =>
            file(`buildkitd.${t}.template`, `etc/buildkitd.${t}.template`),
          ),
          file("cni-conf.json.template", "etc/cni/cni-conf.json.template"),
          file("dockerd-wrapper.sh", "var/earthly/dockerd-wrapper.sh", 0o755),
          file("docker-auto-install.sh", "var/earthly/docker-auto-install.sh", 0o755),
          // Earthly's /bin; in Debian /bin is a link to /usr/bin, which a bin/ folder in this
          // layer would hide (and /bin/sh with it).
          file("oom-adjust.sh.template", "usr/bin/oom-adjust.sh.template"),
          file("runc-ps", "usr/bin/runc-ps", 0o755),
          // The CNI template's cniBinaryPath; Debian installs the plugins in /usr/lib/cni.
          { path: "usr/libexec/cni", symlink: "/usr/lib/cni" },
        ],
      },
    ],
    env: [
      "EARTHLY_RESET_TMP_DIR=false",
      "EARTHLY_TMP_DIR=/tmp/earthly",
      "BUILDKIT_DEBUG=false",
      "BUILDKIT_MAX_PARALLELISM=20",
      "BUILDKIT_LOCAL_REGISTRY_LISTEN_PORT=8371",
      "BUILDKIT_STEP_LOG_MAX_SIZE=8388608",
      "CACHE_SIZE_MB=0",
      "CACHE_SIZE_PCT=0",
      "NETWORK_MODE=cni",
      "EARTHLY_CACHE_VERSION=2",
    ],
    volumes: ["/tmp/earthly"],
    entrypoint: ["/usr/bin/entrypoint.sh", "buildkitd", "--config=/etc/buildkitd.toml"],
  };
}
