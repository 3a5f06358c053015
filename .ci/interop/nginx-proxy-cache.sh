#!/usr/bin/env bash
# Interop: the proxy suite against nginx from Debian's packages as a
# reverse proxy cache (a gateway: proxy_pass to one origin, proxy_cache on),
# the second referee after squid. The script writes a minimal nginx.conf:
# one server on loopback whose location proxies to the origin the profile
# names ([proxy] origin: conform's origin peer listens there in each
# scenario) and caches in a temporary folder; proxy_read_timeout 5 s is
# announced as origin_timeout. Everything else is nginx's default (notably
# proxy_http_version 1.0, no Via, no revalidation). nginx runs in the
# foreground and is stopped by PID. Its true deviations are declared in
# deviations/nginx-proxy-cache.toml (--ratchet). Exit status: that of the
# suite.
#
# Ports: 127.0.0.1:${CONFORM_NGINX_PROXY_PORT:-28129}, origin
# 127.0.0.1:${CONFORM_NGINX_ORIGIN_PORT:-28130}.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${CONFORM_NGINX_PROXY_PORT:-28129}
ORIGIN=${CONFORM_NGINX_ORIGIN_PORT:-28130}

source .ci/interop/packages.bash
install_packages nginx
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

interop_begin nginx-proxy-cache
DIR=$WORK
mkdir -p "$DIR"/logs "$DIR"/cache "$DIR"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
chmod 755 "$DIR"
chmod 1777 "$DIR"/tmp/* "$DIR"/cache

cat > "$DIR/nginx.conf" <<CONF
daemon off;
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log;
events { worker_connections 256; }
http {
  access_log $DIR/logs/access.log;
  client_body_temp_path $DIR/tmp/body;
  proxy_temp_path $DIR/tmp/proxy;
  fastcgi_temp_path $DIR/tmp/fastcgi;
  uwsgi_temp_path $DIR/tmp/uwsgi;
  scgi_temp_path $DIR/tmp/scgi;
  proxy_cache_path $DIR/cache keys_zone=conform:1m max_size=16m;
  server {
    listen 127.0.0.1:$PORT;
    location / {
      proxy_pass http://127.0.0.1:$ORIGIN;
      proxy_cache conform;
      proxy_connect_timeout 5s;
      proxy_read_timeout 5s;
    }
  }
}
CONF

"$NGINX" -t -c "$DIR/nginx.conf" -p "$DIR"
"$NGINX" -c "$DIR/nginx.conf" -p "$DIR" &
PID=$!

interop_wait "$PORT" "$DIR/logs/error.log"

printf '[proxy]\naddress = "127.0.0.1:%s"\nmode = "reverse"\norigin = "127.0.0.1:%s"\norigin_timeout = "5s"\n' "$PORT" "$ORIGIN" > "$DIR/profile.toml"

mkdir -p reports
status=0
"$CONFORM" run proxy --target "$DIR/profile.toml" --junit reports/interop-nginx-proxy-cache.xml \
  --deviations .ci/interop/deviations/nginx-proxy-cache.toml --ratchet || status=$?
exit $status
