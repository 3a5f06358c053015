#!/usr/bin/env bash
# Interop: nginx from Debian's packages serves the fixture web root (written
# by `conform fixtures`) with the four fixture resources configured, and the
# HTTP suite runs against it. Exits non-zero if the suite fails.
#
# Ports: 127.0.0.1:${CONFORM_NGINX_PORT:-28080} (the server under test) and the
# next port (an internal echo that reports the Content-Length nginx forwards).
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${CONFORM_NGINX_PORT:-28080}
INNER=$((PORT + 1))

source .ci/interop/packages.bash
install_packages nginx
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

[ -x target/debug/conform ] || cargo build -p conform
CONFORM=$PWD/target/debug/conform

DIR=$(mktemp -d /tmp/conform-nginx.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

"$CONFORM" fixtures --out "$DIR/fixtures" >/dev/null
mkdir -p "$DIR"/logs "$DIR"/tmp/{body,proxy,fastcgi,uwsgi,scgi}
# The workers run as an unprivileged user: they need to read the web root and
# write the temp folders.
chmod 755 "$DIR"
chmod -R a+rX "$DIR/fixtures"
chmod 1777 "$DIR"/tmp/*

cat > "$DIR/nginx.conf" <<CONF
# conform interop: nginx serving the fixture web root.
worker_processes 1;
pid $DIR/nginx.pid;
error_log $DIR/logs/error.log info;
events { worker_connections 256; }
http {
    access_log $DIR/logs/access.log;
    client_body_temp_path $DIR/tmp/body;
    proxy_temp_path $DIR/tmp/proxy;
    fastcgi_temp_path $DIR/tmp/fastcgi;
    uwsgi_temp_path $DIR/tmp/uwsgi;
    scgi_temp_path $DIR/tmp/scgi;
    types {
        text/html html index;
        text/plain txt;
        image/gif gif;
    }
    default_type application/octet-stream;
    # The profile announces this as http.idle_timeout.
    keepalive_timeout 3s;

    server {
        listen 127.0.0.1:$PORT;
        server_name localhost;
        root $DIR/fixtures/www;

        location / {
            # RFC 9110 §15.5.6: a 405 MUST list the allowed methods; nginx's
            # own 405 does not, so the configuration adds Allow.
            add_header Allow "GET, HEAD, OPTIONS" always;
            # nginx answers OPTIONS on static files with 405 unless told.
            if (\$request_method = OPTIONS) {
                return 204;
            }
        }
        # The echo resource: nginx reads the body (Content-Length or chunked)
        # and forwards it with a Content-Length that the inner server reports.
        location = /echo {
            client_max_body_size 1m;
            proxy_pass http://127.0.0.1:$INNER/echo;
        }
        location = /redirect {
            return 301 /somedir/page.html;
        }
        location = /cookie/set {
            add_header Set-Cookie "conform_id=4711; Path=/";
            default_type text/plain;
            return 200 "cookie set\n";
        }
        location = /cookie/show {
            default_type text/plain;
            return 200 "cookie=\$http_cookie\n";
        }
    }

    server {
        listen 127.0.0.1:$INNER;
        location = /echo {
            default_type text/plain;
            return 200 "len=\$content_length\n";
        }
    }
}
CONF

"$NGINX" -t -q -p "$DIR/" -c "$DIR/nginx.conf" -e "$DIR/logs/error.log"
"$NGINX" -p "$DIR/" -c "$DIR/nginx.conf" -e "$DIR/logs/error.log" -g 'daemon off;' &
PID=$!

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  kill -0 "$PID" 2>/dev/null || { echo "nginx exited; see its log:" >&2; cat "$DIR/logs/error.log" >&2; exit 1; }
  sleep 0.1
done

cat > "$DIR/profile.toml" <<PROFILE
[http]
address = "127.0.0.1:$PORT"
idle_timeout = "3s"
PROFILE

mkdir -p reports
"$CONFORM" run http --target "$DIR/profile.toml" --junit reports/interop-nginx.xml
