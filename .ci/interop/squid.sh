#!/usr/bin/env bash
# Interop: the proxy suite against squid from Debian's packages, as a
# forward caching proxy on loopback. The script writes a minimal squid.conf
# of its own (squid's stock one is 9000 lines of comments around the same
# defaults): the listen address, a memory-only cache, the stock access
# rules (Safe_ports, CONNECT only to SSL_ports, localhost allowed), and a
# read_timeout of 5 s that the profile announces as origin_timeout (the
# stock 15 minutes would outlast the step timeout). Everything else is
# squid's default: Via on, heuristic freshness, its own refresh_pattern
# defaults. squid runs in the foreground (-N) and is stopped by PID. Its
# true deviations are declared in deviations/squid.toml (--ratchet: one
# that starts passing fails the run). Exit status: that of the suite.
#
# Port: 127.0.0.1:${CONFORM_SQUID_PORT:-28128}.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${CONFORM_SQUID_PORT:-28128}

source .ci/interop/packages.bash
install_packages squid
SQUID=$(command -v squid || echo /usr/sbin/squid)

interop_begin squid
DIR=$WORK
mkdir -p "$DIR/logs" "$DIR/run"
# squid drops to its cache_effective_user (Debian: proxy) for the logs.
chmod 755 "$DIR"
chown proxy: "$DIR/logs" "$DIR/run" 2>/dev/null || chmod 1777 "$DIR/logs" "$DIR/run"

cat > "$DIR/squid.conf" <<CONF
http_port 127.0.0.1:$PORT
pid_filename $DIR/run/squid.pid
cache_log $DIR/logs/cache.log
access_log stdio:$DIR/logs/access.log
cache_store_log none
coredump_dir $DIR/run
# Memory only: no cache_dir, so nothing to initialise with squid -z.
cache_mem 32 MB
maximum_object_size_in_memory 1 MB
# The stock access rules (squid.conf.default), loopback clients only.
acl SSL_ports port 443
acl Safe_ports port 80 21 443 70 210 280 488 591 777 1025-65535
acl CONNECT method CONNECT
http_access deny !Safe_ports
http_access deny CONNECT !SSL_ports
http_access allow localhost
http_access deny all
# The stock refresh patterns.
refresh_pattern ^ftp:		1440	20%	10080
refresh_pattern -i (/cgi-bin/|\?) 0	0%	0
refresh_pattern .		0	20%	4320
# Announced in the profile as origin_timeout.
read_timeout 5 seconds
connect_timeout 5 seconds
shutdown_lifetime 1 seconds
dns_v4_first on
CONF

"$SQUID" -k parse -f "$DIR/squid.conf"
"$SQUID" -N -f "$DIR/squid.conf" &
PID=$!

interop_wait "$PORT" "$DIR/logs/cache.log"

printf '[proxy]\naddress = "127.0.0.1:%s"\nmode = "forward"\norigin_timeout = "5s"\n' "$PORT" > "$DIR/profile.toml"

mkdir -p reports
status=0
"$CONFORM" run proxy --target "$DIR/profile.toml" --junit reports/interop-squid.xml \
  --deviations .ci/interop/deviations/squid.toml --ratchet || status=$?
exit $status
