#!/usr/bin/env bash
# Builds what the real-node tier runs, from the Go module proxy and Debian's packages only, into a
# cache outside the repo keyed by version, and reuses what is there. Prints each build's wall time;
# exits non-zero naming the build that failed.
#
#   NODE_CACHE     cache folder (default: ~/.cache/earthly-kubernetes/node)
#
# Built:
#   kubelet, kube-proxy   k8s.io/kubernetes cmd/{kubelet,kube-proxy}   (the engine tier's version;
#                         the Go build cache is shared with the engine tier's control plane build)
#   coredns               github.com/coredns/coredns                    (versions.json coredns)
#   pause                 the kubernetes module's build/pause/linux/pause.c, gcc -static
#   buildkitd, buildctl   Earthly's BuildKit fork, as earthly's go.mod replaces moby/buildkit,
#                         stamped as Earthly stamps it
#   earth_debugger        github.com/earthly/earthly/cmd/debugger       (versions.json earthly)
#   buildkitd rootfs      debootstrap minbase + the Debian userland Earthly's entrypoint needs
#   registry              github.com/distribution/distribution/v3 cmd/registry (versions.json
#                         distribution): the in-cluster registry builds push to and FROM
# Host packages (apt-get, when missing): containerd, runc, containernetworking-plugins, iptables,
# conntrack, debootstrap, busybox-static, apache2-utils (htpasswd, for the test registry).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
pinned() { node -p "require('$ROOT/test/$1/versions.json').$2"; }
KUBERNETES_VERSION="${KUBERNETES_VERSION:-$(pinned engine kubernetes)}"
COREDNS_VERSION="${COREDNS_VERSION:-$(pinned node coredns)}"
EARTHLY_VERSION="${EARTHLY_VERSION:-$(pinned node earthly)}"
EARTHLY_BUILDKIT="$(pinned node earthlyBuildkit)"
EARTHLY_BUILDKIT_REVISION="$(pinned node earthlyBuildkitRevision)"
EARTHLY_AST="$(pinned node earthlyAst)"
DEBIAN_SUITE="$(pinned node debianSuite)"
DISTRIBUTION_VERSION="${DISTRIBUTION_VERSION:-$(pinned node distribution)}"
CACHE="${NODE_CACHE:-${HOME:?set HOME or NODE_CACHE}/.cache/earthly-kubernetes/node}"

export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
mkdir -p "$CACHE"

TIER=node
# shellcheck source=test/support/cached-build.sh
source "$ROOT/test/support/cached-build.sh"

# The Debian userland of Earthly's buildkitd entrypoint (Earthly ships Alpine's; these are the
# Debian names of what it calls), plus netcat for the fleet's probes.
ROOTFS_PACKAGES=(iptables jq gettext-base openssh-client pigz util-linux xz-utils git ca-certificates
  containernetworking-plugins runc iproute2 libcap-ng-utils bc kmod procps netcat-openbsd)

host_packages() {
  local missing=() p
  for p in containerd runc containernetworking-plugins iptables conntrack debootstrap busybox-static apache2-utils; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  echo "node: installing Debian packages: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >"$CACHE/apt.log" 2>&1 ||
    { apt-get update >>"$CACHE/apt.log" 2>&1 &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}" >>"$CACHE/apt.log" 2>&1; } ||
    { echo "node: apt-get install failed; last lines of $CACHE/apt.log:" >&2; tail -n 20 "$CACHE/apt.log" >&2; return 1; }
}

build_kubelet() {
  local out="$1" c
  kubernetes_wrapper_module "$KUBERNETES_VERSION"
  go get -tool "k8s.io/kubernetes/cmd/kubelet@$KUBERNETES_VERSION" "k8s.io/kubernetes/cmd/kube-proxy@$KUBERNETES_VERSION"
  for c in kubelet kube-proxy; do
    go build -o "$out/$c" -ldflags "$(kubernetes_version_ldflags "$KUBERNETES_VERSION")" "k8s.io/kubernetes/cmd/$c"
  done
}

build_pause() {
  local out="$1" src
  src=$(module_dir "k8s.io/kubernetes@$KUBERNETES_VERSION")
  gcc -Os -Wall -Werror -static -DVERSION="$KUBERNETES_VERSION" -o "$out/pause" "$src/build/pause/linux/pause.c"
}

build_coredns() {
  local out="$1"
  go mod init tier/coredns
  go get -tool "github.com/coredns/coredns@$COREDNS_VERSION"
  go build -o "$out/coredns" -ldflags "-s -w" github.com/coredns/coredns
}

# One wrapper module for Earthly's BuildKit fork and earth_debugger: earthly's own replaces (the fork
# of moby/buildkit and fsutil, its forks of two small libraries), its nested ast module pointed at
# the release the proxy serves (the debugger does not use it).
build_earthly_buildkit() {
  local out="$1" gomod line pkg v
  gomod=$(go mod download -json "github.com/earthly/earthly@$EARTHLY_VERSION" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  go mod init tier/earthly
  go mod edit -require="github.com/earthly/earthly@$EARTHLY_VERSION"
  sed -n '/^replace (/,/^)/p' "$gomod" | grep '=>' | grep -v '=> \./' | while read -r line; do
    go mod edit -replace="$(echo "$line" | awk '{print $1}')=$(echo "$line" | awk '{print $3"@"$4}')"
  done
  go mod edit -replace="github.com/earthly/earthly/ast=github.com/earthly/earthly/ast@$EARTHLY_AST" \
    -replace="github.com/earthly/earthly/util/deltautil=github.com/earthly/earthly/util/deltautil@$EARTHLY_AST"
  grep -q "github.com/earthly/buildkit $EARTHLY_BUILDKIT" go.mod || { echo "earthly's go.mod no longer replaces buildkit with $EARTHLY_BUILDKIT" >&2; return 1; }
  go get -tool github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl \
    "github.com/earthly/earthly/cmd/debugger@$EARTHLY_VERSION"
  pkg=github.com/moby/buildkit/version
  v="-X $pkg.Package=github.com/earthly/buildkit -X $pkg.Version=$EARTHLY_VERSION -X $pkg.Revision=$EARTHLY_BUILDKIT_REVISION"
  go build -o "$out/buildkitd" -ldflags "-s -w $v" github.com/moby/buildkit/cmd/buildkitd
  go build -o "$out/buildctl" -ldflags "-s -w $v" github.com/moby/buildkit/cmd/buildctl
  go build -o "$out/earth_debugger" -ldflags "-s -w" github.com/earthly/earthly/cmd/debugger
}

build_registry() {
  local out="$1"
  go mod init tier/registry
  go get -tool "github.com/distribution/distribution/v3/cmd/registry@$DISTRIBUTION_VERSION"
  go build -o "$out/registry" -ldflags "-s -w" github.com/distribution/distribution/v3/cmd/registry
}

# A Debian root filesystem as one layer tar (owners and modes kept, times as Debian set them).
build_rootfs() {
  local out="$1" dir="$PWD/rootfs"
  debootstrap --variant=minbase "$DEBIAN_SUITE" "$dir" http://deb.debian.org/debian
  chroot "$dir" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${ROOTFS_PACKAGES[@]}"
  chroot "$dir" apt-get clean
  rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/log/* "$dir"/var/cache/debconf/*-old
  tar -C "$dir" --numeric-owner --sort=name -cf "$out/rootfs.tar" .
}

host_packages
total=$(now)
# Go builds one at a time (they share the build cache and the 2 cores); the rootfs meanwhile (I/O).
build "buildkitd rootfs ($DEBIAN_SUITE)" "$CACHE/rootfs-$DEBIAN_SUITE-$(echo "${ROOTFS_PACKAGES[*]}" | md5sum | cut -c1-8)" \
  build_rootfs rootfs.tar &
rootfs_pid=$!
failed=()
build "pause $KUBERNETES_VERSION" "$CACHE/pause-$KUBERNETES_VERSION" build_pause pause || failed+=(pause)
build "earthly buildkit $EARTHLY_VERSION" "$CACHE/earthly-$EARTHLY_VERSION" build_earthly_buildkit \
  buildkitd buildctl earth_debugger || failed+=(earthly-buildkit)
build "kubelet, kube-proxy $KUBERNETES_VERSION" "$CACHE/kubernetes-node-$KUBERNETES_VERSION" build_kubelet \
  kubelet kube-proxy || failed+=(kubelet)
build "coredns $COREDNS_VERSION" "$CACHE/coredns-$COREDNS_VERSION" build_coredns coredns || failed+=(coredns)
build "registry $DISTRIBUTION_VERSION" "$CACHE/registry-$DISTRIBUTION_VERSION" build_registry registry ||
  failed+=(registry)
wait "$rootfs_pid" || failed+=(rootfs)
echo "node: all builds took $(($(now) - total)) s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "node: could not build: ${failed[*]}" >&2
  exit 1
fi
