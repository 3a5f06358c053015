#!/usr/bin/env bash
# Interop: the DNS suite against Unbound (Debian package unbound), a
# recursive resolver, serving the fixture zone from `conform fixtures` as an
# auth-zone, on a loopback port of its own. Its profile says
# `recursion = true`; what it does against the RFCs on purpose or by default
# is declared in deviations/unbound.toml.
#   bash .ci/interop/unbound.sh        (as root on Debian; builds conform first if needed)
# Environment: UNBOUND_PORT (default 25355), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${UNBOUND_PORT:-25355}"
source .ci/interop/packages.bash
install_packages unbound
interop_begin unbound
# unbound drops privileges to its user, which must be able to read the zone.
chmod 755 "$WORK"
chown -R unbound:unbound "$WORK" 2>/dev/null || true

# Stock settings but for where it listens and the zone: no validator (no
# trust anchor here), no upstream (names outside the zone give SERVFAIL).
# "test." is one of unbound's default local zones (RFC 6761 §6.2), which
# would answer every name under it NXDOMAIN before the auth-zone is asked.
cat > "$WORK/unbound.conf" <<CONF
server:
    interface: 127.0.0.1@$PORT
    port: $PORT
    do-ip4: yes
    do-ip6: no
    do-udp: yes
    do-tcp: yes
    access-control: 127.0.0.0/8 allow
    username: "unbound"
    chroot: ""
    directory: "$WORK"
    pidfile: "$WORK/unbound.pid"
    logfile: "$WORK/unbound.log"
    use-syslog: no
    verbosity: 1
    do-daemonize: no
    module-config: "iterator"
    do-not-query-localhost: no
    local-zone: "test." nodefault
remote-control:
    control-enable: no
auth-zone:
    name: "example.test."
    zonefile: "$WORK/fixtures/zones/example.test.zone"
    for-downstream: yes
    for-upstream: yes
    fallback-enabled: no
CONF
# The auth-zone is read before the start of service.
start_unbound

cat > "$WORK/profile.toml" <<TOML
[dns]
address = "127.0.0.1:$PORT"
zone = "example.test"
recursion = true
TOML

"$CONFORM" run dns --target "$WORK/profile.toml" --junit "reports/interop-unbound.xml" --json "reports/interop-unbound.json" --html "reports/interop-unbound.html" \
  --deviations .ci/interop/deviations/unbound.toml --ratchet
