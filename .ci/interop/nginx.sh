#!/usr/bin/env bash
# Interop: the HTTP suite against nginx from Debian's packages, in its stock
# configuration. The script copies /etc/nginx and changes only what a private
# foreground instance must: the pid, log and temporary-file paths, and a site
# like sites-available/default that listens on a loopback port with the
# fixture www/ from `conform fixtures` as its root. The site includes the
# fixture resource snippet (snippets/nginx.conf: /echo, /redirect,
# /cookie/set, /cookie/show). nginx's true deviations are declared in
# deviations/nginx.toml (--ratchet: one that starts passing fails the run).
# Exit status: that of the suite.
#
# Then the suite again over HTTPS (RFC 9110 §4.2.2): the same site also
# listens with `ssl` on a second port, with the fixture certificate, and the
# profile says tls = "implicit" with the fixture CA.
#
# Ports: 127.0.0.1:${CONFORM_NGINX_PORT:-28080}, HTTPS
# 127.0.0.1:${CONFORM_NGINX_TLS_PORT:-28443}.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${CONFORM_NGINX_PORT:-28080}
TLS_PORT=${CONFORM_NGINX_TLS_PORT:-28443}

source .ci/interop/packages.bash
install_packages nginx
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

interop_begin nginx
DIR=$WORK
cp -a /etc/nginx "$DIR/conf"
mkdir -p "$DIR"/logs "$DIR"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
# The workers run as www-data: they need to read the web root and write the
# temp folders.
chmod 755 "$DIR"
chmod -R a+rX "$DIR/fixtures"
chmod 1777 "$DIR"/tmp/*

sed -e "s|/etc/nginx/|$DIR/conf/|g" \
    -e "s|^pid .*|pid $DIR/nginx.pid;|" \
    -e "s|/var/log/nginx/|$DIR/logs/|g" \
    -e "s|^http {|&\n\tclient_body_temp_path $DIR/tmp/body;\n\tproxy_temp_path $DIR/tmp/proxy;\n\tfastcgi_temp_path $DIR/tmp/fastcgi;\n\tuwsgi_temp_path $DIR/tmp/uwsgi;\n\tscgi_temp_path $DIR/tmp/scgi;|" \
    /etc/nginx/nginx.conf > "$DIR/conf/nginx.conf"
rm -f "$DIR/conf/sites-enabled/"*
sed -e "s|^\s*listen 80 default_server;|\tlisten 127.0.0.1:$PORT default_server;\n\tlisten 127.0.0.1:$TLS_PORT ssl default_server;\n\tssl_certificate $DIR/fixtures/tls/server.pem;\n\tssl_certificate_key $DIR/fixtures/tls/server.key;|" \
    -e "/listen \[::\]:80/d" \
    -e "s|^\s*root /var/www/html;|\troot $DIR/fixtures/www;\n\tinclude $DIR/fixtures/snippets/nginx.conf;|" \
    /etc/nginx/sites-available/default > "$DIR/conf/sites-enabled/conform"
grep -q "snippets/nginx.conf" "$DIR/conf/sites-enabled/conform" || { echo "nginx.sh: the stock default site has no root line to put the snippet after" >&2; exit 1; }

"$NGINX" -t -q -p "$DIR/" -c "$DIR/conf/nginx.conf" -e "$DIR/logs/error.log"
"$NGINX" -p "$DIR/" -c "$DIR/conf/nginx.conf" -e "$DIR/logs/error.log" -g 'daemon off;' &
PID=$!

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && (exec 3<>"/dev/tcp/127.0.0.1/$TLS_PORT") 2>/dev/null; then break; fi
  kill -0 "$PID" 2>/dev/null || { echo "nginx exited; see its log:" >&2; cat "$DIR/logs/error.log" >&2; exit 1; }
  sleep 0.1
done

# The stock keepalive_timeout is 75 s, longer than a step: no idle_timeout,
# so the idle-timeout scenario is skipped.
{ printf '[http]\naddress = "127.0.0.1:%s"\n' "$PORT"
  grep -E '^#   [a-z_]+ = ' "$DIR/fixtures/snippets/nginx.conf" | sed 's/^#   //'
} > "$DIR/profile.toml"

mkdir -p reports
status=0
"$CONFORM" run http --target "$DIR/profile.toml" --junit "reports/interop-nginx.xml" --json "reports/interop-nginx.json" --html "reports/interop-nginx.html" \
  --deviations .ci/interop/deviations/nginx.toml --ratchet || status=$?

# HTTPS: the same site on its TLS port.
{ printf '[http]\naddress = "127.0.0.1:%s"\ntls = "implicit"\nca_file = "%s"\n' "$TLS_PORT" "$DIR/fixtures/tls/ca.pem"
  grep -E '^#   [a-z_]+ = ' "$DIR/fixtures/snippets/nginx.conf" | sed 's/^#   //'
} > "$DIR/profile-https.toml"
"$CONFORM" run http --target "$DIR/profile-https.toml" --junit "reports/interop-nginx-https.xml" \
  --deviations .ci/interop/deviations/nginx.toml --ratchet || status=$?

# The runs leave the web root as they found it.
"$CONFORM" fixtures --out "$DIR/fresh" >/dev/null
diff -r "$DIR/fresh/www" "$DIR/fixtures/www"
exit $status
