#!/usr/bin/env bash
# Interop: the resolver suite against Unbound (Debian package unbound) as a
# recursive resolver whose root is the DNS hierarchy the harness plays
# (127.53.0.1-16, port 53: conform must run as root). Unbound gets only what
# `conform fixtures` says it needs (resolver/unbound.conf: root hints naming
# the harness's root, do-not-query-localhost: no, no validator), plus where
# it runs (port, user, folder, log, foreground). What it does against the
# RFCs is declared in deviations/unbound-resolver.toml. A second pass turns
# on use-caps-for-id (the 0x20 bit, off by default) and requires the MAY
# scenario that observes it to pass: a real resolver as the referee for the
# positive verdict.
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
write_conf() {
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
    log-queries: yes
    log-replies: yes
    do-daemonize: no
$1
remote-control:
    control-enable: no
CONF
}
write_conf ""
start_unbound

run_resolver_suite unbound-resolver

# The second pass: the 0x20 scenario alone, with unbound randomising case.
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=""
mv "$WORK/unbound.log" reports/interop-unbound-resolver.stock.log
write_conf "    use-caps-for-id: yes"
start_unbound
"$CONFORM" run resolver --target "$WORK/profile.toml" --tags @rfc4343-sec-4.1 \
  | tee "$WORK/caps.out" | tail -3
grep -q "resolver: 1 passed, 0 failed, 0 errors, 0 warnings, 0 info" "$WORK/caps.out" \
  || { echo "with use-caps-for-id: yes the 0x20 scenario should pass" >&2; exit 1; }
