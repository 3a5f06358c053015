#!/usr/bin/env bash
# Interop: the IMAP suite against dovecot from Debian's packages.
#
# Installs dovecot-imapd if missing (no daemon auto-starts: policy-rc.d),
# writes a private dovecot configuration into a fresh temp dir with the
# fixture Maildir of `conform fixtures` as bob's mail (password "hungry"),
# starts dovecot in the foreground on 127.0.0.1:${CONFORM_DOVECOT_IMAP_PORT},
# runs `conform run imap` against it and stops it by PID.
# Needs root (dovecot drops to the mail user); run from the repository root
# after `cargo build`.
set -euo pipefail
cd "$(dirname "$0")/../.."

PORT="${CONFORM_DOVECOT_IMAP_PORT:-21143}"
CONFORM=./target/debug/conform
MAIL_USER=nobody   # an unprivileged account every Debian system has

if ! command -v dovecot >/dev/null || [ ! -e /usr/lib/dovecot/imap ]; then
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
  fi
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends dovecot-imapd
fi

# Short path: dovecot's unix sockets live under it (sun_path is 108 bytes).
DIR="$(mktemp -d /tmp/cdi.XXXXXX)"
chmod 755 "$DIR"
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$PID" 2>/dev/null || true
  fi
  rm -rf "$DIR"
}
trap cleanup EXIT

"$CONFORM" fixtures --out "$DIR/fixtures" >/dev/null
mkdir -p "$DIR/mail" "$DIR/run" "$DIR/state"
cp -r "$DIR/fixtures/maildir/bob" "$DIR/mail/bob"
uid="$(id -u "$MAIL_USER")"
gid="$(id -g "$MAIL_USER")"
chown -R "$uid:$gid" "$DIR/mail"

printf 'bob:{PLAIN}hungry:%s:%s::%s/mail/bob::\n' "$uid" "$gid" "$DIR" > "$DIR/users"
chmod 644 "$DIR/users"

# Every setting inside { } on its own line (dovecot's parser insists).
cat > "$DIR/dovecot.conf" <<CONF
protocols = imap
listen = 127.0.0.1
base_dir = $DIR/run
state_dir = $DIR/state
instance_name = conform-dovecot-imap
log_path = $DIR/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$DIR/mail/%n/Maildir
first_valid_uid = 1
# The suite runs scenarios concurrently, each with its own connections.
mail_max_userip_connections = 200
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $DIR/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $DIR/users
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $PORT
  }
  inet_listener imaps {
    port = 0
  }
}
CONF

doveconf -c "$DIR/dovecot.conf" -n >/dev/null
/usr/sbin/dovecot -F -c "$DIR/dovecot.conf" &
PID=$!

for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done

cat > "$DIR/target.toml" <<TOML
[imap]
address = "127.0.0.1:$PORT"
user = "bob"
password = "hungry"
TOML

mkdir -p reports
status=0
"$CONFORM" run imap --target "$DIR/target.toml" --junit reports/interop-dovecot-imap.xml || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- dovecot log"
  tail -n 50 "$DIR/dovecot.log" || true
fi
exit "$status"
