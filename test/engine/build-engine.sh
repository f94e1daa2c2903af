#!/usr/bin/env bash
# Builds the real-engine test tier's binaries from the Go module proxy (the only source this
# project may build from) into a cache outside the repo, keyed by version, and reuses what is
# there. Prints each build's wall time. Exits non-zero, naming the build, when one fails.
#
#   ENGINE_CACHE   cache folder (default: ~/.cache/earthly-kubernetes/engine)
#
# Built:
#   pulumi CLI              github.com/pulumi/pulumi/pkg/v3/cmd/pulumi          (PULUMI_VERSION)
#   kubernetes provider     github.com/pulumi/pulumi-kubernetes/provider/v4     (K8S_PROVIDER_MODULE_VERSION,
#                           stamped as the version the npm SDK requests, K8S_PROVIDER_VERSION)
#   control plane, kubectl  k8s.io/kubernetes cmd/{kube-apiserver,kube-controller-manager,kube-scheduler,kubectl}
#   etcd                    go.etcd.io/etcd/server/v3 etcdmain
#   kwok                    sigs.k8s.io/kwok/cmd/kwok
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
# The CLI and provider versions are the ones the npm SDKs in node_modules ask for; the others are
# pinned in versions.json, which test/engine/binaries.ts reads too. Each may be overridden.
npm_version() { node -p "require('$ROOT/node_modules/$1/package.json').version"; }
pinned() { node -p "require('$ROOT/test/engine/versions.json').$1"; }
PULUMI_VERSION="${PULUMI_VERSION:-v$(npm_version @pulumi/pulumi)}"
K8S_PROVIDER_VERSION="${K8S_PROVIDER_VERSION:-$(npm_version @pulumi/kubernetes)}"
K8S_PROVIDER_MODULE_VERSION="${K8S_PROVIDER_MODULE_VERSION:-$(pinned kubernetesProviderModule)}"
K8S_PROVIDER_SDK_VERSION="${K8S_PROVIDER_SDK_VERSION:-$(pinned kubernetesProviderSdk)}"
KUBERNETES_VERSION="${KUBERNETES_VERSION:-$(pinned kubernetes)}"
ETCD_VERSION="${ETCD_VERSION:-$(pinned etcd)}"
KWOK_VERSION="${KWOK_VERSION:-$(pinned kwok)}"
CACHE="${ENGINE_CACHE:-${HOME:?set HOME or ENGINE_CACHE}/.cache/earthly-kubernetes/engine}"

export GOFLAGS="-buildvcs=false -mod=mod"
export CGO_ENABLED=0
mkdir -p "$CACHE"

TIER=engine
# shellcheck source=test/support/cached-build.sh
source "$ROOT/test/support/cached-build.sh"

build_pulumi() {
  local out="$1"
  # pkg/v3's own go.mod replaces sdk/v3 with a sibling folder (not applicable to a dependent) and
  # atotto/clipboard with a fork; the wrapper pins sdk/v3 to the same release and repeats the fork.
  local fork
  fork=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" |
    sed -n 's/.*"GoMod": "\(.*\)".*/\1/p' | xargs grep -E '^replace github.com/atotto/clipboard' | sed 's/.*=> //')
  go mod init engine/pulumi
  go mod edit -require="github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" \
    -require="github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" \
    -replace="github.com/atotto/clipboard=${fork/ /@}"
  go get -tool "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION"
  go build -o "$out/pulumi" \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
}

build_provider() {
  local out="$1" src
  src=$(module_dir "github.com/pulumi/pulumi-kubernetes/provider/v4@$K8S_PROVIDER_MODULE_VERSION")
  cp -r "$src" provider && chmod -R u+w provider && cd provider
  # Its replace of sdk/v4 points into its own repository; use the published sdk/v4 instead.
  go mod edit -dropreplace=github.com/pulumi/pulumi-kubernetes/sdk/v4 \
    -require="github.com/pulumi/pulumi-kubernetes/sdk/v4@$K8S_PROVIDER_SDK_VERSION"
  go mod download
  # The module zip lacks the generated embeds; its own generate.go makes them from schema.json.
  (cd cmd/pulumi-resource-kubernetes && VERSION="$K8S_PROVIDER_VERSION" go run generate.go)
  go build -o "$out/pulumi-resource-kubernetes" \
    -ldflags "-s -w -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$K8S_PROVIDER_VERSION" \
    ./cmd/pulumi-resource-kubernetes
  printf 'module github.com/pulumi/pulumi-kubernetes/provider/v4@%s\nversion %s\n' \
    "$K8S_PROVIDER_MODULE_VERSION" "$K8S_PROVIDER_VERSION" >"$out/SOURCE"
}

build_kubernetes() {
  local out="$1" c
  kubernetes_wrapper_module "$KUBERNETES_VERSION"
  go get -tool "k8s.io/kubernetes/cmd/kube-apiserver@$KUBERNETES_VERSION" \
    "k8s.io/kubernetes/cmd/kube-controller-manager@$KUBERNETES_VERSION" \
    "k8s.io/kubernetes/cmd/kube-scheduler@$KUBERNETES_VERSION" \
    "k8s.io/kubernetes/cmd/kubectl@$KUBERNETES_VERSION"
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    go build -o "$out/$c" -ldflags "$(kubernetes_version_ldflags "$KUBERNETES_VERSION")" "k8s.io/kubernetes/cmd/$c"
  done
}

build_etcd() {
  local out="$1"
  go mod init engine/etcd
  cat >main.go <<'EOF'
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
EOF
  go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy
  go build -o "$out/etcd" -ldflags "-s -w" .
}

build_kwok() {
  local out="$1"
  GOBIN="$out" go install -ldflags "-s -w" "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"
}

# kwok's configuration for the tier, from kwok's own module (cheap, so always rewritten): its fast
# node stages (initialise, heartbeat) and pod stages (ready, complete for Job pods, delete), and its
# chaos stage that fails a running pod carrying its label. A configuration replaces kwok's built-in
# stages, so every stage the tier needs is listed.
write_kwok_stages() {
  local src
  src=$(module_dir "sigs.k8s.io/kwok@$KWOK_VERSION")
  for f in node/fast/node-initialize node/heartbeat/node-heartbeat pod/fast/pod-ready pod/fast/pod-complete \
    pod/fast/pod-delete pod/chaos/pod-container-running-failed; do
    printf -- '---\n'
    cat "$src/kustomize/stage/$f.yaml"
  done >"$CACHE/kwok-$KWOK_VERSION/stages.yaml"
}

total=$(now)
pids=()
names=()
# Independent builds run side by side: downloads overlap with compiling.
build "pulumi CLI $PULUMI_VERSION" "$CACHE/pulumi-$PULUMI_VERSION" build_pulumi pulumi &
pids+=($!) names+=("pulumi")
build "kubernetes provider $K8S_PROVIDER_VERSION ($K8S_PROVIDER_MODULE_VERSION)" \
  "$CACHE/pulumi-kubernetes-$K8S_PROVIDER_VERSION-$K8S_PROVIDER_MODULE_VERSION" build_provider pulumi-resource-kubernetes &
pids+=($!) names+=("provider")
build "kubernetes $KUBERNETES_VERSION" "$CACHE/kubernetes-$KUBERNETES_VERSION" build_kubernetes \
  kube-apiserver kube-controller-manager kube-scheduler kubectl &
pids+=($!) names+=("kubernetes")
build "etcd $ETCD_VERSION" "$CACHE/etcd-$ETCD_VERSION" build_etcd etcd &
pids+=($!) names+=("etcd")
build "kwok $KWOK_VERSION" "$CACHE/kwok-$KWOK_VERSION" build_kwok kwok &
pids+=($!) names+=("kwok")

failed=()
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || failed+=("${names[$i]}")
done
[ -f "$CACHE/kwok-$KWOK_VERSION/.done" ] && write_kwok_stages
echo "engine: all builds took $(($(now) - total)) s"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "engine: could not build: ${failed[*]}" >&2
  exit 1
fi
