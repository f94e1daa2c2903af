#!/usr/bin/env bash
# Shared by the tiers' build scripts (sourced, not run): a cache of binaries built from the Go module
# proxy, one folder per build and version, and the wrapper module that builds commands of
# k8s.io/kubernetes as a dependent. The sourcing script sets `set -euo pipefail` and TIER (its name
# in messages).

now() { date +%s; }

# build NAME DIR FUNCTION BINARY...: runs FUNCTION DIR/bin in a fresh work folder unless DIR/.done
# exists, and marks DIR done only when every BINARY is in DIR/bin. The build's output goes to DIR.log;
# on failure its last lines are printed and the status is non-zero.
build() {
  local name="$1" dir="$2" fn="$3" start work status missing b
  shift 3
  if [ -f "$dir/.done" ]; then
    echo "$TIER: $name cached in $dir"
    return 0
  fi
  start=$(now)
  work="$(mktemp -d)"
  rm -rf "$dir"
  mkdir -p "$dir/bin"
  # A subshell of its own with errexit on: inside `if !` or `||`, bash would ignore set -e.
  set +e
  (
    set -euo pipefail
    cd "$work"
    "$fn" "$dir/bin"
  ) >"$dir.log" 2>&1
  status=$?
  set -e
  chmod -R u+w "$work" 2>/dev/null
  rm -rf "$work"
  missing=
  for b in "$@"; do
    [ -e "$dir/bin/$b" ] || missing="$missing $b"
  done
  if [ "$status" -ne 0 ] || [ -n "$missing" ]; then
    echo "$TIER: building $name FAILED after $(($(now) - start)) s (exit $status${missing:+, missing:$missing}); last lines of $dir.log:" >&2
    tail -n 30 "$dir.log" >&2
    return 1
  fi
  touch "$dir/.done"
  echo "$TIER: built $name in $(($(now) - start)) s"
}

# module_dir MODULE@VERSION: the module's folder in the module cache (downloaded if needed).
module_dir() {
  go mod download -json "$1" | sed -n 's/.*"Dir": "\(.*\)".*/\1/p'
}

# kubernetes_wrapper_module VERSION: in the current folder, a module requiring k8s.io/kubernetes at
# VERSION. k8s.io/kubernetes replaces its staging modules with folders of its own repository, which
# do not apply to a dependent: each is pointed at its published release (v0.MINOR.PATCH).
kubernetes_wrapper_module() {
  local version="$1" gomod staging
  gomod=$(go mod download -json "k8s.io/kubernetes@$version" | sed -n 's/.*"GoMod": "\(.*\)".*/\1/p')
  go mod init "tier/kubernetes"
  staging="v0.${version#v1.}"
  grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$gomod" | awk '{print $1}' | while read -r m; do
    go mod edit -replace="$m=$m@$staging"
  done
  go mod edit -require="k8s.io/kubernetes@$version"
}

# kubernetes_version_ldflags VERSION: the flags that stamp a Kubernetes command with VERSION.
kubernetes_version_ldflags() {
  echo "-s -w -X k8s.io/component-base/version.gitVersion=$1 -X k8s.io/client-go/pkg/version.gitVersion=$1"
}
