#!/usr/bin/env bash
# Interop: the DNS suite against NSD (Debian package nsd) serving the fixture
# zone from `conform fixtures`, on a loopback port of its own.
#   bash .ci/interop/nsd.sh            (as root on Debian; builds conform first if needed)
# Environment: NSD_PORT (default 25353), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${NSD_PORT:-25353}"
source .ci/interop/packages.bash
install_packages nsd
interop_begin nsd
# nsd drops privileges to its user, which must be able to read the zone and
# write its own files.
chmod 755 "$WORK"
chown -R nsd:nsd "$WORK" 2>/dev/null || true

cat > "$WORK/nsd.conf" <<CONF
server:
    ip-address: 127.0.0.1@$PORT
    do-ip4: yes
    do-ip6: no
    username: nsd
    chroot: ""
    zonesdir: "$WORK/fixtures/zones"
    database: ""
    pidfile: "$WORK/nsd.pid"
    xfrdfile: "$WORK/xfrd.state"
    xfrdir: "$WORK"
    zonelistfile: "$WORK/zone.list"
    logfile: "$WORK/nsd.log"
    server-count: 1
    verbosity: 1
    # Answer like the suite expects of an authoritative server: full
    # additional sections, and ANY not refused.
    minimal-responses: no
    refuse-any: no
remote-control:
    control-enable: no
zone:
    name: "example.test"
    zonefile: "$WORK/fixtures/zones/example.test.zone"
CONF
chown nsd:nsd "$WORK/nsd.conf" 2>/dev/null || true
nsd-checkconf "$WORK/nsd.conf"
nsd-checkzone example.test "$WORK/fixtures/zones/example.test.zone"

# -d: stay in the foreground (no systemd here); the PID is the main process.
/usr/sbin/nsd -d -c "$WORK/nsd.conf" >"$WORK/nsd.stdout" 2>&1 &
PID=$!

# Wait for the TCP listener (nsd opens UDP and TCP together).
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/nsd.stdout" "$WORK/nsd.log" 2>/dev/null; echo "nsd exited"; exit 1; fi
  sleep 0.1
done

cat > "$WORK/profile.toml" <<TOML
[dns]
address = "127.0.0.1:$PORT"
zone = "example.test"
TOML

"$CONFORM" run dns --target "$WORK/profile.toml" --junit "reports/interop-nsd.xml" --json "reports/interop-nsd.json" --html "reports/interop-nsd.html"
