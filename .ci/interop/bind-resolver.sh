#!/usr/bin/env bash
# Interop: the resolver suite against BIND 9 (Debian package bind9) as a
# recursive resolver whose root is the DNS hierarchy the harness plays
# (127.53.0.1-16, port 53: conform must run as root). named gets only what
# `conform fixtures` says it needs (resolver/named.conf: recursion for
# loopback, the harness's root as hints, no validation), plus where it runs
# (port, folder, pid file, foreground). What it does against the RFCs is
# declared in deviations/bind-resolver.toml.
#   bash .ci/interop/bind-resolver.sh  (as root on Debian; builds conform first if needed)
# Environment: BIND_RESOLVER_PORT (default 25357), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${BIND_RESOLVER_PORT:-25357}"
source .ci/interop/packages.bash
install_packages bind9
interop_begin bind-resolver
chmod 755 "$WORK" "$WORK/fixtures" "$WORK/fixtures/resolver"

# The snippet from `conform fixtures`, on this script's port, with its
# working folder and pid file in $WORK.
sed -e "s/port 5300/port $PORT/" \
    -e "s#^options {#options {\n    directory \"$WORK\";\n    pid-file \"$WORK/named.pid\";#" \
    "$WORK/fixtures/resolver/named.conf" > "$WORK/named.conf"
named-checkconf "$WORK/named.conf"
/usr/sbin/named -g -u root -c "$WORK/named.conf" > "$WORK/named.log" 2>&1 &
PID=$!
interop_wait "$PORT" "$WORK/named.log"

run_resolver_suite bind-resolver
