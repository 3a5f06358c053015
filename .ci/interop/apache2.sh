#!/usr/bin/env bash
# Interop: the HTTP suite against apache2 from Debian's packages, in its
# stock configuration. The script copies /etc/apache2 and changes only what a
# private foreground instance must: the listen address and port (ports.conf),
# a site like 000-default.conf whose document root is the fixture www/ from
# `conform fixtures` (granted as stock grants /var/www), and the run, lock,
# pid and log paths (envvars). For the fixture resource snippet
# (snippets/apache2.conf: /echo, /cookie/set, /cookie/show by CGI, /redirect
# by mod_alias) it enables mod_cgid as `a2enmod cgid` would. apache2's true
# deviations are declared in deviations/apache2.toml (--ratchet: one that
# starts passing fails the run). Exit status: that of the suite.
#
# Port: 127.0.0.1:${CONFORM_APACHE2_PORT:-28082}.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT=${CONFORM_APACHE2_PORT:-28082}

source .ci/interop/packages.bash
install_packages apache2
APACHE2=$(command -v apache2 || echo /usr/sbin/apache2)

interop_begin apache2
DIR=$WORK
chmod 755 "$DIR"
chmod -R a+rX "$DIR/fixtures"
cp -a /etc/apache2 "$DIR/conf"
mkdir -p "$DIR/run/socks" "$DIR/lock" "$DIR/logs"
chown www-data: "$DIR/run/socks" 2>/dev/null || true

export APACHE_CONFDIR=$DIR/conf
export APACHE_RUN_USER=www-data APACHE_RUN_GROUP=www-data
export APACHE_PID_FILE=$DIR/run/apache2.pid APACHE_RUN_DIR=$DIR/run
export APACHE_LOCK_DIR=$DIR/lock APACHE_LOG_DIR=$DIR/logs LANG=C

printf 'Listen 127.0.0.1:%s\n' "$PORT" > "$DIR/conf/ports.conf"
# a2enmod cgid, for the snippet's CGI scripts.
for f in cgid.load cgid.conf; do
  ln -sf "../mods-available/$f" "$DIR/conf/mods-enabled/$f"
done
rm -f "$DIR/conf/sites-enabled/"*
sed -e "s|<VirtualHost \*:80>|<VirtualHost *:$PORT>|" \
    -e "s|DocumentRoot /var/www/html|DocumentRoot $DIR/fixtures/www|" \
    -e "s|</VirtualHost>|\tInclude $DIR/fixtures/snippets/apache2.conf\n</VirtualHost>|" \
    /etc/apache2/sites-available/000-default.conf > "$DIR/conf/sites-enabled/conform.conf"
cat >> "$DIR/conf/sites-enabled/conform.conf" <<CONF
# As apache2.conf grants /var/www/.
<Directory $DIR/fixtures/www/>
	Options Indexes FollowSymLinks
	AllowOverride None
	Require all granted
</Directory>
CONF

"$APACHE2" -d "$DIR/conf" -f "$DIR/conf/apache2.conf" -t
"$APACHE2" -d "$DIR/conf" -f "$DIR/conf/apache2.conf" -DFOREGROUND &
PID=$!

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  kill -0 "$PID" 2>/dev/null || { echo "apache2 exited; see its log:" >&2; cat "$DIR/logs/error.log" >&2; exit 1; }
  sleep 0.1
done

# KeepAliveTimeout is 5 s in the stock apache2.conf.
{ printf '[http]\naddress = "127.0.0.1:%s"\nidle_timeout = "5s"\n' "$PORT"
  grep -E '^#   [a-z_]+ = ' "$DIR/fixtures/snippets/apache2.conf" | sed 's/^#   //'
} > "$DIR/profile.toml"

mkdir -p reports
status=0
"$CONFORM" run http --target "$DIR/profile.toml" --junit "reports/interop-apache2.xml" --json "reports/interop-apache2.json" --html "reports/interop-apache2.html" \
  --deviations .ci/interop/deviations/apache2.toml --ratchet || status=$?

# The run leaves the web root as it found it.
"$CONFORM" fixtures --out "$DIR/fresh" >/dev/null
diff -r "$DIR/fresh/www" "$DIR/fixtures/www"
exit $status
