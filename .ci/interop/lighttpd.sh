#!/usr/bin/env bash
# Interop: the HTTP suite against lighttpd from Debian's packages, in its
# stock configuration. The script copies /etc/lighttpd/lighttpd.conf and
# changes only what a private foreground instance must: the listen address
# and port, the document root (the fixture www/ from `conform fixtures`),
# the pid, error log and upload paths, and no IPv6 listener. It includes the
# fixture resource snippet (snippets/lighttpd.conf: /echo, /redirect,
# /cookie/set, /cookie/show by CGI) next to conf-enabled/, so that mod_cgi
# comes before mod_staticfile. lighttpd's true deviations are declared in
# deviations/lighttpd.toml (--ratchet: one that starts passing fails the
# run). Exit status: that of the suite.
#
# Port: 127.0.0.1:${CONFORM_LIGHTTPD_PORT:-28083}.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${CONFORM_LIGHTTPD_PORT:-28083}

source .ci/interop/packages.bash
install_packages lighttpd
LIGHTTPD=$(command -v lighttpd || echo /usr/sbin/lighttpd)

interop_begin lighttpd
DIR=$WORK
mkdir -p "$DIR/logs" "$DIR/uploads"
# lighttpd drops to www-data: it must read the web root, run the CGI
# scripts and write its log.
chmod 755 "$DIR"
chmod -R a+rX "$DIR/fixtures"
chown www-data: "$DIR/logs" "$DIR/uploads" 2>/dev/null || chmod 1777 "$DIR/logs" "$DIR/uploads"

sed -e "s|^server.document-root .*|server.document-root        = \"$DIR/fixtures/www\"|" \
    -e "s|^server.upload-dirs .*|server.upload-dirs          = ( \"$DIR/uploads\" )|" \
    -e "s|^server.errorlog .*|server.errorlog             = \"$DIR/logs/error.log\"|" \
    -e "s|^server.pid-file .*|server.pid-file             = \"$DIR/lighttpd.pid\"|" \
    -e "s|^server.port .*|server.port                 = $PORT\nserver.bind                 = \"127.0.0.1\"|" \
    -e "/use-ipv6.pl/d" \
    -e "s|^include \"/etc/lighttpd/conf-enabled/\*.conf\"|&\ninclude \"$DIR/fixtures/snippets/lighttpd.conf\"|" \
    /etc/lighttpd/lighttpd.conf > "$DIR/lighttpd.conf"
grep -q "snippets/lighttpd.conf" "$DIR/lighttpd.conf" || { echo "lighttpd.sh: the stock lighttpd.conf has no conf-enabled include to put the snippet after" >&2; exit 1; }

"$LIGHTTPD" -tt -f "$DIR/lighttpd.conf"
"$LIGHTTPD" -D -f "$DIR/lighttpd.conf" &
PID=$!

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  kill -0 "$PID" 2>/dev/null || { echo "lighttpd exited; see its log:" >&2; cat "$DIR/logs/error.log" >&2; exit 1; }
  sleep 0.1
done

# server.max-keep-alive-idle is 5 s by default.
{ printf '[http]\naddress = "127.0.0.1:%s"\nidle_timeout = "5s"\n' "$PORT"
  grep -E '^#   [a-z_]+ = ' "$DIR/fixtures/snippets/lighttpd.conf" | sed 's/^#   //'
} > "$DIR/profile.toml"

mkdir -p reports
status=0
"$CONFORM" run http --target "$DIR/profile.toml" --junit "reports/interop-lighttpd.xml" --json "reports/interop-lighttpd.json" --html "reports/interop-lighttpd.html" \
  --deviations .ci/interop/deviations/lighttpd.toml --ratchet || status=$?

# The run leaves the web root as it found it.
"$CONFORM" fixtures --out "$DIR/fresh" >/dev/null
diff -r "$DIR/fresh/www" "$DIR/fixtures/www"
exit $status
