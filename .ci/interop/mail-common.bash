# Shared by postfix.sh, dovecot-pop3.sh, dovecot-imap.sh and dovecot-imap-inbox-ns.sh
# (sourced, not run: the .bash
# suffix keeps it out of .ci/test.sh's *.sh loop).
#
# A private postfix and/or dovecot on loopback 2xxxx ports, with configs
# written here into a fresh temp dir, serving the Maildir that
# `conform fixtures` writes. Mail belongs to nobody:nogroup, so no account is
# created on the machine. Servers run in the foreground as background jobs
# and are stopped by PID on exit.
source "$(dirname "${BASH_SOURCE[0]}")/packages.bash"

set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."

SMTP_PORT=${SMTP_PORT:-20025}
# How long postfix waits for the next SMTP command (smtpd_timeout).
SMTP_IDLE=${SMTP_IDLE:-5}
POP3_PORT=${POP3_PORT:-20110}
IMAP_PORT=${IMAP_PORT:-20143}
CONFORM=./target/debug/conform
MAIL_UID=$(id -u nobody)
MAIL_GID=$(getent group nogroup | cut -d: -f3)
PIDS=()

log() { printf '== %s\n' "$*"; }

stop_servers() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  done
  if [ -n "${WORK:-}" ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$WORK"; fi
}

# install PACKAGE...: Debian packages, without starting any daemon.
# The fixture Maildirs (bob with the fixture messages, sink, postmaster,
# carol the IMAP spare user).
prepare_maildir() {
  WORK=$(mktemp -d /tmp/conform-mail.XXXXXX)
  chmod 755 "$WORK"
  trap stop_servers EXIT
  "$CONFORM" fixtures --out "$WORK/fixtures" >/dev/null
  mv "$WORK/fixtures/maildir" "$WORK/maildir"
  chown -R "$MAIL_UID:$MAIL_GID" "$WORK/maildir"
}

wait_port() {
  local port=$1 name=$2
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "$name did not start listening on 127.0.0.1:$port" >&2
  return 1
}

start_postfix() {
  local etc="$WORK/postfix/etc"
  mkdir -p "$etc" "$WORK/postfix/spool" "$WORK/postfix/data"
  # POSTFIX_SETTINGS: more main.cf lines (postfix-tls.sh: STARTTLS, SASL).
  cat > "$etc/main.cf" <<CF
compatibility_level = 3.6
config_directory = $etc
queue_directory = $WORK/postfix/spool
data_directory = $WORK/postfix/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mail.example.test
mydomain = example.test
myorigin = \$mydomain
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
# Never deliver anywhere else, never relay (RFC 5321 §3.6.2, §7.1).
default_transport = error:outbound delivery disabled in this test instance
relay_transport = error:outbound delivery disabled in this test instance
smtpd_relay_restrictions = reject_unauth_destination
smtpd_recipient_restrictions = reject_unauth_destination
alias_maps =
alias_database =
biff = no
smtpd_banner = \$myhostname ESMTP Postfix (conform interop)
maillog_file = $WORK/postfix/maillog
maillog_file_prefixes = $WORK
message_size_limit = 10485760
# Keep the client's message exactly as sent (no added Date/Message-ID).
local_header_rewrite_clients =
# Otherwise postfix's defaults: its true deviations (bare LF, HELP) are
# declared in .ci/interop/deviations/postfix.toml.
# A short wait for the next command (default 300s, RFC 5321 §4.5.3.2's
# 5 minutes), announced as smtp.idle_timeout, so the idle-session scenario
# sees postfix's 421 in seconds.
smtpd_timeout = ${SMTP_IDLE}s
# example.test is delivered into the fixture Maildirs, which dovecot serves.
virtual_mailbox_domains = example.test
virtual_mailbox_base = $WORK/maildir
virtual_mailbox_maps = texthash:$etc/vmailbox
virtual_uid_maps = static:$MAIL_UID
virtual_gid_maps = static:$MAIL_GID
virtual_minimum_uid = 1
${POSTFIX_SETTINGS:-}
CF
  cat > "$etc/vmailbox" <<VM
bob@example.test bob/Maildir/
sink@example.test sink/Maildir/
postmaster@example.test postmaster/Maildir/
VM
  cat > "$etc/master.cf" <<MC
127.0.0.1:$SMTP_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
MC
  chown postfix "$WORK/postfix/data"
  postfix -c "$etc" check
  # master itself, in the foreground (`postfix start-fg` wraps it in a shell).
  /usr/lib/postfix/sbin/master -c "$etc" -d &
  PIDS+=($!)
  wait_port "$SMTP_PORT" postfix
  log "postfix $(postconf -c "$etc" -h mail_version) on 127.0.0.1:$SMTP_PORT"
}

# start_dovecot PROTOCOL PORT SETTINGS: dovecot serving bob's fixture Maildir
# over PROTOCOL (pop3 or imap) on 127.0.0.1:PORT, with SETTINGS (lines of
# dovecot.conf) added for that protocol; with SECURE_PORT set, also on its
# implicit-TLS listener (imaps, pop3s; RFC 8314 §3.3) on 127.0.0.1:SECURE_PORT.
start_dovecot() {
  local proto=$1 port=$2 settings=$3
  local d="$WORK/dovecot-$proto"
  mkdir -p "$d"
  cat > "$d/users" <<US
bob:{PLAIN}hungry:$MAIL_UID:$MAIL_GID::$WORK/maildir/bob::
carol:{PLAIN}lunch:$MAIL_UID:$MAIL_GID::$WORK/maildir/carol::
US
  # Every setting inside { } on its own line (dovecot's parser insists).
  cat > "$d/dovecot.conf" <<DC
protocols = $proto
listen = 127.0.0.1
base_dir = $d/run
state_dir = $d/state
instance_name = conform-interop-$proto
log_path = $d/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
mail_location = maildir:$WORK/maildir/%n/Maildir
first_valid_uid = $MAIL_UID
first_valid_gid = $MAIL_GID
$settings
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%n $d/users
}
userdb {
  driver = passwd-file
  args = username_format=%n $d/users
}
service $proto-login {
  inet_listener $proto {
    address = 127.0.0.1
    port = $port
  }
  inet_listener ${proto}s {
    address = 127.0.0.1
    port = ${SECURE_PORT:-0}
  }
}
DC
  dovecot -c "$d/dovecot.conf" -n > /dev/null
  dovecot -F -c "$d/dovecot.conf" &
  PIDS+=($!)
  wait_port "$port" dovecot
  log "dovecot $(dovecot --version | cut -d' ' -f1) ${proto^^} on 127.0.0.1:$port"
  if [ -n "${SECURE_PORT:-}" ]; then
    wait_port "$SECURE_PORT" dovecot
    log "dovecot ${proto^^}S (implicit TLS) on 127.0.0.1:$SECURE_PORT"
  fi
}

smtp_profile() {
  cat <<PR
[smtp]
address = "127.0.0.1:$SMTP_PORT"
domain = "example.test"
recipient = "bob@example.test"
sink = "sink@example.test"
sink_maildir = "$WORK/maildir/sink/Maildir"
unknown_recipient = "no-such-user-7f3a@example.test"
idle_timeout = "${SMTP_IDLE}s"
PR
}

pop3_profile() {
  cat <<PR
[pop3]
address = "127.0.0.1:$POP3_PORT"
user = "bob"
password = "hungry"
maildir = "$WORK/maildir/bob/Maildir"
PR
}

imap_profile() {
  cat <<PR
[imap]
address = "127.0.0.1:$IMAP_PORT"
user = "bob"
password = "hungry"
spare_user = "carol"
spare_password = "lunch"
PR
}

# run_imap_suite NAME ARGS...: the IMAP suite against the dovecot started
# for imap, JUnit in reports/interop-NAME.xml; then checks that the run left
# bob's mail as it found it (INBOX with the 2 fixture messages, no scratch
# mailbox: Maildir++ keeps "x" and "INBOX.x" alike as the folder ".x").
run_imap_suite() {
  local name=$1 status=0
  shift
  mkdir -p reports
  "$CONFORM" run imap --target "$WORK/target.toml" --junit "reports/interop-$name.xml" "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    echo "--- dovecot log (last lines)" >&2
    tail -n 30 "$WORK/dovecot-imap/dovecot.log" >&2 || true
    exit "$status"
  fi
  local count left
  count=$(find "$WORK/maildir/bob/Maildir/cur" "$WORK/maildir/bob/Maildir/new" -type f | wc -l)
  if [ "$count" -ne 2 ]; then
    echo "the run left $count messages in bob's INBOX, not the 2 fixture messages" >&2
    exit 1
  fi
  left=$(find "$WORK/maildir/bob/Maildir" -maxdepth 1 -name '.conform-*' | wc -l)
  if [ "$left" -ne 0 ]; then
    echo "the run left $left scratch mailboxes behind" >&2
    exit 1
  fi
  # carol, the spare user whose INBOX RENAME INBOX moves: empty again.
  count=$(find "$WORK/maildir/carol/Maildir" \( -path '*/cur/*' -o -path '*/new/*' \) -type f | wc -l)
  left=$(find "$WORK/maildir/carol/Maildir" -maxdepth 1 -name '.conform-*' | wc -l)
  if [ "$count" -ne 0 ] || [ "$left" -ne 0 ]; then
    echo "the run left $count messages and $left mailboxes in carol's (the spare user's) Maildir" >&2
    find "$WORK/maildir/carol/Maildir" >&2
    exit 1
  fi
  log "bob's INBOX holds the 2 fixture messages and no scratch mailbox is left, and carol's Maildir is empty, as before the run"
}
