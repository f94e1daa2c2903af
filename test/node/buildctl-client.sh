#!/bin/sh
# The node tier's remote client: buildctl (Earthly's BuildKit fork) in place of the earthly CLI, given
# exactly what EarthlyRemoteJob gives the CLI: EARTHLY_BUILDKIT_HOST, and the certificate paths of
# the mounted /etc/.earthly/config.yml. Its arguments are the Job's (flags, then the target); the
# target `+NAME` builds stage NAME of /context/Dockerfile (test/node/workload/Dockerfile).
#   BUILD_MEGABYTES     the workload's MEGABYTES build argument (default: the Dockerfile's)
#   BUILD_SERVER_NAME   the TLS server name (default: the host of EARTHLY_BUILDKIT_HOST)
#   BUILD_BASE          the workload's BASE build argument (the image the `pulled` stage is FROM)
#   BUILD_PUSH          push the stage to this image name instead of exporting its files; the
#                       credentials are the Docker config's ($DOCKER_CONFIG), as for Earthly
#   BUILD_CONNECT_TRIES tries to reach the daemon, a second apart (default 60)
#   BUILD_CONFIG        the Earthly config to read (default /etc/.earthly/config.yml)
# Prints connect.tries= and worker= (the daemon's worker ID), buildctl's plain progress, then
# build.seconds=, build.status= and artifact= lines. When no daemon answered: build.status=3 (and
# exit 3), no worker= line, and the last error.
set -eu

config="${BUILD_CONFIG:-/etc/.earthly/config.yml}"
setting() {
  value=$(sed -n "s/^ *$1: *//p" "$config" | tr -d "\"'")
  [ -n "$value" ] || { echo "client: no $1 in $config" >&2; exit 2; }
  echo "$value"
}

target=
for arg in "$@"; do target="$arg"; done
case "$target" in
  +[a-z]*) stage="${target#+}" ;;
  *) echo "client: the target must be +STAGE, got '$target'" >&2; exit 2 ;;
esac
host="${EARTHLY_BUILDKIT_HOST:?client: EARTHLY_BUILDKIT_HOST is not set}"
server_name="${BUILD_SERVER_NAME:-$(echo "$host" | sed 's|^tcp://||; s|:[0-9]*$||')}"
echo "client: building +$stage on $host as $server_name"

ca=$(setting tlsca)
cert=$(setting tlscert)
key=$(setting tlskey)
ctl() {
  buildctl --addr "$host" --tlsservername "$server_name" --tlscacert "$ca" --tlscert "$cert" --tlskey "$key" "$@"
}
# The daemon this pod reaches (the Service keeps one client IP on one instance): its worker ID.
# Earthly's CLI waits for a remote daemon before it gives up (buildkit_restart_timeout_s, 60 s by
# default), as a daemon or its DNS record can come a moment after the client; so does this client.
tries=1
until workers=$(ctl debug workers 2>&1); do
  if [ "$tries" -ge "${BUILD_CONNECT_TRIES:-60}" ]; then
    echo "connect.tries=$tries"
    echo "client: no daemon answered at $host in $tries tries; the last: $workers" >&2
    echo "build.seconds=0"
    echo "build.status=3"
    exit 3
  fi
  sleep 1
  tries=$((tries + 1))
done
echo "connect.tries=$tries"
echo "worker=$(echo "$workers" | awk 'NR == 2 { print $1 }')"

if [ -n "${BUILD_PUSH:-}" ]; then
  output="type=image,name=$BUILD_PUSH,push=true"
else
  output="type=local,dest=/tmp/out"
fi
set -- build --progress=plain --frontend dockerfile.v0 \
  --local context=/context --local dockerfile=/context --opt target="$stage" --output "$output"
if [ -n "${BUILD_MEGABYTES:-}" ]; then set -- "$@" --opt build-arg:MEGABYTES="$BUILD_MEGABYTES"; fi
if [ -n "${BUILD_BASE:-}" ]; then set -- "$@" --opt build-arg:BASE="$BUILD_BASE"; fi

start=$(cut -d' ' -f1 /proc/uptime)
status=0
ctl "$@" 2>&1 || status=$?
end=$(cut -d' ' -f1 /proc/uptime)
echo "build.seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f", e - s }')"
echo "build.status=$status"
if [ -f /tmp/out/result.txt ]; then echo "artifact=$(cat /tmp/out/result.txt)"; fi
exit "$status"
