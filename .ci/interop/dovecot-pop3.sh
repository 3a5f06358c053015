#!/usr/bin/env bash
# The POP3 suite against a real dovecot from Debian, on 127.0.0.1:20110,
# serving the fixture Maildir; with postfix on 127.0.0.1:20025 delivering
# into it, so the SMTP → POP3 scenarios (@needs-smtp) run too. dovecot's
# default limits and failed-login delays apply. The run
# leaves the maildrop as it found it; the script checks that.
source "$(dirname "$0")/mail-common.bash"

install_packages postfix dovecot-pop3d
prepare_maildir
start_dovecot pop3 "$POP3_PORT" "\
# RFC 1939 §4: hold the maildrop exclusively for the whole session.
pop3_lock_session = yes
# Without it (the default) a second session removes messages from under the
# first: '-ERR Message 3 expunged.' (the scenario 'A message stays
# retrievable while another session deletes it' fails). And answer a second
# login -ERR [IN-USE] after 1 s instead of waiting for the first session to end.
mail_max_lock_timeout = 1s"
start_postfix
{ smtp_profile; pop3_profile; } > "$WORK/target.toml"
before=$(ls "$WORK/maildir/bob/Maildir/cur" "$WORK/maildir/bob/Maildir/new" | sort)
mkdir -p reports
"$CONFORM" run pop3 --target "$WORK/target.toml" --junit "reports/interop-dovecot-pop3.xml" --json "reports/interop-dovecot-pop3.json" --html "reports/interop-dovecot-pop3.html" \
  --deviations .ci/interop/deviations/dovecot.toml --ratchet
after=$(ls "$WORK/maildir/bob/Maildir/cur" "$WORK/maildir/bob/Maildir/new" | sort)
count() { find "$WORK/maildir/bob/Maildir/cur" "$WORK/maildir/bob/Maildir/new" -type f | wc -l; }
if [ "$(count)" -ne 2 ]; then
  echo "the run left $(count) messages in bob's maildrop, not the 2 fixture messages" >&2
  printf 'before:\n%s\nafter:\n%s\n' "$before" "$after" >&2
  exit 1
fi
log "bob's maildrop holds the 2 fixture messages, as before the run"
