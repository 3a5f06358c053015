#!/usr/bin/env bash
# Interop: the DNS suite against Knot DNS (Debian package knot) serving the
# fixture zone from `conform fixtures`, on a loopback port of its own.
#   bash .ci/interop/knot.sh
# Environment: KNOT_PORT (default 25354), CONFORM (default ./target/debug/conform).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${KNOT_PORT:-25354}"
source .ci/interop/packages.bash
install_packages knot
interop_begin knot
mkdir -p "$WORK/run" "$WORK/db"
cat > "$WORK/knot.conf" <<CONF
server:
    listen: 127.0.0.1@$PORT
    rundir: "$WORK/run"
    user: knot:knot
log:
  - target: $WORK/knot.log
    any: info
database:
    storage: "$WORK/db"
template:
  - id: default
    # Serve the file as it is: never write it back, no journal.
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
zone:
  - domain: example.test
    file: "$WORK/fixtures/zones/example.test.zone"
CONF
# knotd drops privileges to knot, which must read the zone and write rundir/db.
chmod 755 "$WORK"
chown -R knot:knot "$WORK"
/usr/sbin/knotc -c "$WORK/knot.conf" conf-check

# knotd stays in the foreground by default.
/usr/sbin/knotd -c "$WORK/knot.conf" >"$WORK/knotd.stdout" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/knotd.stdout" "$WORK/knot.log" 2>/dev/null; echo "knotd exited"; exit 1; fi
  sleep 0.1
done
# The listener opens before the zone is loaded; wait for its SOA.
for _ in $(seq 1 50); do
  grep -q "loaded, serial" "$WORK/knot.log" 2>/dev/null && break
  sleep 0.1
done

cat > "$WORK/profile.toml" <<TOML
[dns]
address = "127.0.0.1:$PORT"
zone = "example.test"
TOML

"$CONFORM" run dns --target "$WORK/profile.toml" --junit "reports/interop-knot.xml" --json "reports/interop-knot.json" --html "reports/interop-knot.html"
