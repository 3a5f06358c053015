#!/usr/bin/env bash
# The IMAP suite against dovecot with STARTTLS (RFC 9051 §6.2.1) on, using
# the certificate `conform fixtures` writes and `disable_plaintext_auth =
# yes` (dovecot still takes plaintext LOGIN from loopback, which it counts
# as secure, so it announces no LOGINDISABLED here): the profile says tls =
# "starttls", so every session, async-imap's too, upgrades before it logs
# in, and the STARTTLS scenarios run. On 127.0.0.1:20145, without postfix.
# Then the suite again on dovecot's imaps listener (127.0.0.1:20993) with
# tls = "implicit" (RFC 8314 §3.3): every session, the cleanup sessions
# too, is TLS from the first byte; the STARTTLS scenarios skip.
source "$(dirname "$0")/mail-common.bash"

IMAP_PORT=${IMAP_TLS_PORT:-20145}
SECURE_PORT=${IMAPS_PORT:-20993}

install_packages dovecot-imapd
prepare_maildir
# dovecot reads the key and certificate itself (`<` reads the file).
start_dovecot imap "$IMAP_PORT" "\
ssl = required
ssl_cert = <$WORK/fixtures/tls/server.pem
ssl_key = <$WORK/fixtures/tls/server.key
disable_plaintext_auth = yes"
{
  imap_profile
  echo 'tls = "starttls"'
  echo "ca_file = \"$WORK/fixtures/tls/ca.pem\""
} > "$WORK/target.toml"
run_imap_suite dovecot-imap-tls --deviations .ci/interop/deviations/dovecot.toml --ratchet

{
  imap_profile | sed "s/:$IMAP_PORT\"/:$SECURE_PORT\"/"
  echo 'tls = "implicit"'
  echo "ca_file = \"$WORK/fixtures/tls/ca.pem\""
} > "$WORK/target.toml"
run_imap_suite dovecot-imaps --deviations .ci/interop/deviations/dovecot.toml --ratchet
