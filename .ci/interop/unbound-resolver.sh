#!/usr/bin/env bash
# Interop: the resolver suite against Unbound (Debian package unbound) as a
# recursive resolver whose root is the DNS hierarchy the harness plays
# (127.53.0.1-16, port 53: conform must run as root). Unbound gets only what
# `conform fixtures` says it needs (resolver/unbound.conf: root hints naming
# the harness's root, do-not-query-localhost: no, no validator), plus where
# it runs (port, user, folder, log, foreground). What it does against the
# RFCs is declared in deviations/unbound-resolver.toml.
#   bash .ci/interop/unbound-resolver.sh  (as root on Debian; builds conform first if needed)
# Environment: UNBOUND_RESOLVER_PORT (default 25356), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${UNBOUND_RESOLVER_PORT:-25356}"
source .ci/interop/packages.bash
install_packages unbound
interop_begin unbound-resolver
# unbound drops privileges to its user, which must be able to read the hints.
chmod 755 "$WORK"
chown -R unbound:unbound "$WORK" 2>/dev/null || true

# The snippet from `conform fixtures`, on this script's port.
sed "s/@5300/@$PORT/" "$WORK/fixtures/resolver/unbound.conf" > "$WORK/unbound.conf"
cat >> "$WORK/unbound.conf" <<CONF
    port: $PORT
    username: "unbound"
    chroot: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    logfile: "$WORK/unbound.log"
    use-syslog: no
    verbosity: 1
    do-daemonize: no
remote-control:
    control-enable: no
CONF
start_unbound

run_resolver_suite unbound-resolver
