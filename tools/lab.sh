#!/usr/bin/env bash
# Developer tool (not run by CI): loads the `conform fixtures` content into a
# running realservers lab kit (../shared/lab/realservers) without touching the
# servers' stock lab configurations, and writes one target profile per lab
# server into OUT (default /tmp/lab-profiles).
#
#   LAB_DIR=/tmp/conform-lab tools/lab.sh [OUT]
#   conform run http --target /tmp/lab-profiles/nginx.toml
#
# What it loads: the web root (html/), both FTP user homes, fuzzuser's Maildir
# (the two fixture messages; dovecot's index files are dropped so it rereads
# the folder) and the zone file that nsd, knot and unbound serve (those three
# are restarted to load it).
set -euo pipefail
cd "$(dirname "$0")/.."
LAB_DIR=${LAB_DIR:-/tmp/conform-lab}
OUT=${1:-/tmp/lab-profiles}
KIT=${KIT_DIR:-$(cd ../shared/lab/realservers && pwd)}
source "$LAB_DIR/lab.env"

CONFORM=${CONFORM:-$PWD/target/debug/conform}
[ -x "$CONFORM" ] || cargo build -p conform
FX=$(mktemp -d /tmp/conform-labfx.XXXXXX)
trap 'rm -rf "$FX"' EXIT
"$CONFORM" fixtures --out "$FX" >/dev/null

# Web root: the fixture tree next to what the lab put there.
cp -r "$FX"/www/. "$LAB_DIR/html/"
chmod -R a+rX "$LAB_DIR/html"

# FTP homes of fuzzuser (vsftpd and pyftpdlib).
for home in "$LAB_DIR/ftp/vsftpd-user" "$LAB_DIR/ftp/pyftpd-user"; do
  cp -r "$FX"/ftp/. "$home/"
  chown -R "$FUZZ_UID:$FUZZ_GID" "$home"
  chmod -R u+w "$home"
done

# fuzzuser's mailbox: exactly the fixture messages.
md="$LAB_DIR/mail/fuzzuser/Maildir"
rm -rf "$md"
mkdir -p "$md"/{cur,new,tmp}
cp "$FX"/maildir/bob/Maildir/cur/* "$md/cur/"
mkdir -p "$LAB_DIR/mail/sink/Maildir"/{cur,new,tmp}
chown -R "$FUZZ_UID:$FUZZ_GID" "$LAB_DIR/mail"
chmod -R go-rwx "$LAB_DIR/mail/fuzzuser" "$LAB_DIR/mail/sink"

# The zone: replace the lab's and restart the three DNS servers.
if ! cmp -s "$FX/zones/example.test.zone" "$LAB_DIR/dns/example.test.zone"; then
  cp "$FX/zones/example.test.zone" "$LAB_DIR/dns/example.test.zone"
  chmod a+r "$LAB_DIR/dns/example.test.zone"
  LAB_DIR=$LAB_DIR "$KIT/stop.sh" >/dev/null 2>&1 || true
  LAB_DIR=$LAB_DIR "$KIT/start.sh" >/dev/null
fi

mkdir -p "$OUT"
w() { printf '%s\n' "$2" > "$OUT/$1.toml"; }
for s in nginx:$P_HTTP apache2:$P_APACHE lighttpd:$P_LIGHTTPD; do
  w "${s%%:*}" "[http]
address = \"127.0.0.1:${s##*:}\""
done
# The lab's nginx has two application resources of its own: POST /post
# answers len=$content_length, /redirect answers 301 to /index.html.
printf 'echo = "/post"\nredirect = "/redirect"\nredirect_to = "/index.html"\n' >> "$OUT/nginx.toml"
for s in vsftpd:$P_FTP pyftpdlib:$P_PYFTP; do
  w "${s%%:*}" "[ftp]
address = \"127.0.0.1:${s##*:}\"
user = \"$FUZZ_USER\"
password = \"$FUZZ_PASS\""
done
for s in postfix:$P_SMTP aiosmtpd:$P_AIOSMTP; do
  w "${s%%:*}" "[smtp]
address = \"127.0.0.1:${s##*:}\"
domain = \"example.test\"
recipient = \"$FUZZ_USER@example.test\"
sink = \"sink@example.test\""
done
# pyftpdlib serves a virtual root (the user cannot climb above the home);
# the lab's vsftpd runs with chroot_local_user=NO, so it is not confined.
echo 'confined = true' >> "$OUT/pyftpdlib.toml"
# Where each stores the sink's mail (postfix: the virtual mailbox dovecot
# serves; the lab's aiosmtpd: one Maildir for every recipient).
echo "sink_maildir = \"$LAB_DIR/mail/sink/Maildir\"" >> "$OUT/postfix.toml"
echo "sink_maildir = \"$LAB_DIR/aiosmtpd/Maildir\"" >> "$OUT/aiosmtpd.toml"
# The lab's postfix knows its virtual mailboxes and refuses other local
# addresses; aiosmtpd's sink takes any address in example.test.
echo 'unknown_recipient = "nobody@example.test"' >> "$OUT/postfix.toml"
w dovecot-imap "[imap]
address = \"127.0.0.1:$P_IMAP\"
user = \"$FUZZ_USER\"
password = \"$FUZZ_PASS\""
w dovecot-pop3 "[pop3]
address = \"127.0.0.1:$P_POP3\"
user = \"$FUZZ_USER\"
password = \"$FUZZ_PASS\""
# dovecot with the lab's postfix delivering into it (the @needs-smtp scenarios).
w dovecot-mail "[smtp]
address = \"127.0.0.1:$P_SMTP\"
domain = \"example.test\"
recipient = \"$FUZZ_USER@example.test\"
sink = \"sink@example.test\"
sink_maildir = \"$LAB_DIR/mail/sink/Maildir\"
[pop3]
address = \"127.0.0.1:$P_POP3\"
user = \"$FUZZ_USER\"
password = \"$FUZZ_PASS\"
[imap]
address = \"127.0.0.1:$P_IMAP\"
user = \"$FUZZ_USER\"
password = \"$FUZZ_PASS\""
for s in nsd:$P_NSD knot:$P_KNOT; do
  w "${s%%:*}" "[dns]
address = \"127.0.0.1:${s##*:}\"
zone = \"example.test\""
done
# The lab's unbound is a recursive resolver with the zone as an auth-zone.
w unbound "[dns]
address = \"127.0.0.1:$P_UNBOUND\"
zone = \"example.test\"
recursion = true"
echo "profiles in $OUT: $(cd "$OUT" && ls | tr '\n' ' ')"
