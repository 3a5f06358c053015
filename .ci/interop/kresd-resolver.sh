#!/usr/bin/env bash
# Interop: the resolver suite against Knot Resolver 5 (Debian package
# knot-resolver, the kresd daemon) as a recursive resolver whose root is the
# DNS hierarchy the harness plays (127.53.0.1-16, port 53: conform must run
# as root). kresd gets only what `conform fixtures` says it needs
# (resolver/kresd.conf: the harness's root as hints, ALLOW_LOCAL so that it
# takes glue in 127.0.0.0/8, no trust anchor), plus its port and a working
# folder. What it does against the RFCs is declared in
# deviations/kresd-resolver.toml.
#   bash .ci/interop/kresd-resolver.sh  (as root on Debian; builds conform first if needed)
# Environment: KRESD_RESOLVER_PORT (default 25359), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${KRESD_RESOLVER_PORT:-25359}"
source .ci/interop/packages.bash
install_packages knot-resolver
interop_begin kresd-resolver
chmod -R a+rX "$WORK"

sed "s/'127.0.0.1', 5300,/'127.0.0.1', $PORT,/" "$WORK/fixtures/resolver/kresd.conf" > "$WORK/kresd.conf"
grep -q "$PORT" "$WORK/kresd.conf" || { echo "the kresd snippet has no port to set" >&2; exit 1; }
mkdir -p "$WORK/run"
# -n: no interactive console; the last argument is its working folder (cache).
/usr/sbin/kresd -n -c "$WORK/kresd.conf" "$WORK/run" > "$WORK/kresd.log" 2>&1 &
PID=$!
interop_wait "$PORT" "$WORK/kresd.log"

run_resolver_suite kresd-resolver
