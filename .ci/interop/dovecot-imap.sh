#!/usr/bin/env bash
# The IMAP suite against a real dovecot from Debian, on 127.0.0.1:20143,
# serving the fixture Maildir with dovecot's default limits (10 connections
# per user and address); with postfix on 127.0.0.1:20025 delivering into
# it, so the SMTP → IMAP end-to-end scenario (@needs-smtp) runs too. The run
# leaves the mailboxes as it found them, and the script checks that.
source "$(dirname "$0")/mail-common.bash"

install_packages postfix dovecot-imapd
prepare_maildir
# Stock settings. (At 8 and more scenarios at once dovecot 2.3.19's mailbox
# list index was seen to race with concurrent CREATEs, a spurious
# "NO [ALREADYEXISTS]"; at 3 it has not.)
start_dovecot imap "$IMAP_PORT" ""
start_postfix
{ smtp_profile; imap_profile; } > "$WORK/target.toml"
# No --concurrency: the default [imap] max_connections (8) keeps the run
# within dovecot's mail_max_userip_connections = 10.
run_imap_suite dovecot-imap --deviations .ci/interop/deviations/dovecot.toml --ratchet
