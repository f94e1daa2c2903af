#!/bin/sh
# The probe image's entrypoint: reports, one "key=value" line each, what a container of ours sees
# from inside, for the node tier to assert. Never fails itself (every check reports ok or fail), so
# the pod's log is always complete; exits with PROBE_EXIT (default 0).
#   PROBE_WRITE    paths to try to create a file in        PROBE_READ     files to try to read
#   PROBE_RESOLVE  host names to resolve through DNS       PROBE_CONNECT  host:port to open
#   PROBE_RESOLVE_TRIES  tries per name, a second apart (default 30)
# The host of EARTHLY_BUILDKIT_HOST, when set, is resolved and connected to as well.
report() { printf '%s=%s\n' "$1" "$2"; }
outcome() { if "$@" >/dev/null 2>&1; then echo ok; else echo fail; fi; }

report probe start
report id "$(id)"
report cwd "$(pwd)"
report args "$*"
report capeff "$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)"
report hostname "$(hostname)"
env | sort | sed 's/^/env./'
for p in $PROBE_WRITE; do
  report "write.$p" "$(outcome touch "$p/.probe-write")"
done
for f in $PROBE_READ; do
  report "read.$f" "$(outcome cat "$f")"
  report "mode.$f" "$(stat -L -c '%a %u:%g' "$f" 2>/dev/null || echo missing)"
done
hosts="$PROBE_RESOLVE"
connect="$PROBE_CONNECT"
if [ -n "${EARTHLY_BUILDKIT_HOST:-}" ]; then
  target=${EARTHLY_BUILDKIT_HOST#tcp://}
  hosts="$hosts ${target%:*}"
  connect="$connect $target"
fi
# A name can be published a moment after the pod that needs it starts (an instance's record follows
# its readiness through the EndpointSlice controller and CoreDNS), so each is tried up to
# PROBE_RESOLVE_TRIES times a second apart, and the tries it took are reported.
resolve() { nslookup "$1" 2>/dev/null | sed -n '/^Name:/,$ s/^Address[^:]*: *//p' | head -n 1; }
for h in $hosts; do
  tries=1
  address=$(resolve "$h")
  while [ -z "$address" ] && [ "$tries" -lt "${PROBE_RESOLVE_TRIES:-30}" ]; do
    sleep 1
    tries=$((tries + 1))
    address=$(resolve "$h")
  done
  report "resolve.$h" "${address:-fail}"
  report "resolveTries.$h" "$tries"
done
for c in $connect; do
  report "connect.$c" "$(outcome nc -w 5 "${c%:*}" "${c##*:}" </dev/null)"
done
report probe end
exit "${PROBE_EXIT:-0}"
