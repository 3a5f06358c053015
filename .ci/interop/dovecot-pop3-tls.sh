#!/usr/bin/env bash
# The POP3 suite against dovecot with STLS (RFC 2595 §4) on, using the
# certificate `conform fixtures` writes: the profile says tls = "starttls",
# so every session upgrades before USER and PASS, and the STLS scenarios
# run. On 127.0.0.1:20111, without postfix (the SMTP → POP3 scenarios skip).
# Then the suite again on dovecot's pop3s listener (127.0.0.1:20995) with
# tls = "implicit" (RFC 8314 §3.3); the STLS scenarios skip.
source "$(dirname "$0")/mail-common.bash"

POP3_PORT=${POP3_TLS_PORT:-20111}
SECURE_PORT=${POP3S_PORT:-20995}

install_packages dovecot-pop3d
prepare_maildir
# dovecot reads the key and certificate itself (`<` reads the file).
start_dovecot pop3 "$POP3_PORT" "\
ssl = required
ssl_cert = <$WORK/fixtures/tls/server.pem
ssl_key = <$WORK/fixtures/tls/server.key
disable_plaintext_auth = yes
pop3_lock_session = yes
mail_max_lock_timeout = 1s"
{
  pop3_profile
  echo 'tls = "starttls"'
  echo "ca_file = \"$WORK/fixtures/tls/ca.pem\""
} > "$WORK/target.toml"
mkdir -p reports
count() { find "$WORK/maildir/bob/Maildir/cur" "$WORK/maildir/bob/Maildir/new" -type f | wc -l; }
run_pop3() {
  "$CONFORM" run pop3 --target "$WORK/target.toml" --junit "reports/interop-$1.xml" \
    --deviations .ci/interop/deviations/dovecot.toml --ratchet
  if [ "$(count)" -ne 2 ]; then
    echo "the run left $(count) messages in bob's maildrop, not the 2 fixture messages" >&2
    exit 1
  fi
  log "bob's maildrop holds the 2 fixture messages, as before the run"
}
run_pop3 dovecot-pop3-tls
{
  pop3_profile | sed "s/:$POP3_PORT\"/:$SECURE_PORT\"/"
  echo 'tls = "implicit"'
  echo "ca_file = \"$WORK/fixtures/tls/ca.pem\""
} > "$WORK/target.toml"
run_pop3 dovecot-pop3s
