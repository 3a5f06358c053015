#!/usr/bin/env bash
# The IMAP suite against a real dovecot from Debian, on 127.0.0.1:20143,
# serving the fixture Maildir; with postfix on 127.0.0.1:20025 delivering
# into it, so the SMTP → IMAP end-to-end scenario (@needs-smtp) runs too.
# The run leaves the mailboxes as it found them; the script checks that
# (bob's INBOX holds the 2 fixture messages, no folder is left behind).
source "$(dirname "$0")/mail-common.bash"

IMAP_PORT=${IMAP_PORT:-20143}

imap_profile() {
  cat <<PR
[imap]
address = "127.0.0.1:$IMAP_PORT"
user = "bob"
password = "hungry"
PR
}

install_packages postfix dovecot-imapd
prepare_maildir
start_dovecot imap "$IMAP_PORT" "\
# The suite runs up to 32 scenarios at once, each with its own connections
# (the default allows 10 per user and address).
mail_max_userip_connections = 200
# dovecot 2.3.19's mailbox list index races with concurrent CREATEs: a
# session refreshing the index opens a mailbox another session is creating,
# and that CREATE fails with a spurious \"NO [ALREADYEXISTS]\" (seen here
# under the suite's concurrency, with mail_debug). Without the index the
# folders are listed from the Maildir directly.
mailbox_list_index = no"
start_postfix
{ smtp_profile; imap_profile; } > "$WORK/target.toml"
mkdir -p reports
status=0
# dovecot fsyncs every change: on a busy CI machine a step can take a few
# seconds, so fewer scenarios at once and a longer step timeout.
"$CONFORM" run imap --target "$WORK/target.toml" --concurrency 8 --step-timeout 15s \
  --junit reports/interop-dovecot-imap.xml || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- dovecot log (last lines)" >&2
  tail -n 30 "$WORK/dovecot-imap/dovecot.log" >&2 || true
  exit "$status"
fi
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
log "bob's INBOX holds the 2 fixture messages and no scratch mailbox is left, as before the run"
