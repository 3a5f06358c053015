#!/usr/bin/env bash
# Interop: the resolver suite against PowerDNS Recursor (Debian package
# pdns-recursor) as a recursive resolver whose root is the DNS hierarchy
# the harness plays (127.53.0.1-16, port 53: conform must run as root).
# The recursor gets only what `conform fixtures` says it needs
# (resolver/recursor.conf: the harness's root as hints, an empty
# dont-query, no validation, no security poll), plus where it runs (port,
# socket folder, foreground). What it does against the RFCs is declared in
# deviations/pdns-resolver.toml.
#   bash .ci/interop/pdns-resolver.sh  (as root on Debian; builds conform first if needed)
# Environment: PDNS_RESOLVER_PORT (default 25358), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${PDNS_RESOLVER_PORT:-25358}"
source .ci/interop/packages.bash
install_packages pdns-recursor
interop_begin pdns-resolver
chmod -R a+rX "$WORK"

mkdir -p "$WORK/conf"
sed "s/local-port=5300/local-port=$PORT/" "$WORK/fixtures/resolver/recursor.conf" > "$WORK/conf/recursor.conf"
cat >> "$WORK/conf/recursor.conf" <<CONF
socket-dir=$WORK/conf
daemon=no
write-pid=no
CONF
/usr/sbin/pdns_recursor --config-dir="$WORK/conf" > "$WORK/recursor.log" 2>&1 &
PID=$!
interop_wait "$PORT" "$WORK/recursor.log"

run_resolver_suite pdns-resolver
