#!/usr/bin/env bash
# The SMTP suite against postfix with STARTTLS (RFC 3207) and AUTH through
# dovecot's SASL (RFC 4954, PLAIN of RFC 4616), on 127.0.0.1:20027, using
# the certificate `conform fixtures` writes. `smtpd_tls_auth_only = yes`
# keeps AUTH for TLS, so the profile says auth_requires_tls: AUTH must not
# be announced or accepted before TLS. The profile says tls = "starttls",
# so every session upgrades first (lettre's too) and the STARTTLS, AUTH
# and injection scenarios run. Otherwise the instance of postfix.sh.
source "$(dirname "$0")/mail-common.bash"

SMTP_PORT=${SMTP_TLS_PORT:-20027}
# dovecot serves only its authentication socket to postfix here; its IMAP
# listener, which start_dovecot always opens, is not used.
IMAP_PORT=${IMAP_AUTH_PORT:-20147}

install_packages postfix dovecot-imapd
prepare_maildir
start_dovecot imap "$IMAP_PORT" "\
service auth {
  unix_listener $WORK/sasl-auth {
    mode = 0666
  }
}"
POSTFIX_SETTINGS="\
smtpd_tls_cert_file = $WORK/fixtures/tls/server.pem
smtpd_tls_key_file = $WORK/fixtures/tls/server.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = yes
smtpd_sasl_auth_enable = yes
smtpd_sasl_type = dovecot
smtpd_sasl_path = $WORK/sasl-auth"
start_postfix
{
  smtp_profile
  echo 'tls = "starttls"'
  echo "ca_file = \"$WORK/fixtures/tls/ca.pem\""
  echo 'user = "bob"'
  echo 'password = "hungry"'
  echo 'auth_requires_tls = true'
} > "$WORK/target.toml"
mkdir -p reports
"$CONFORM" run smtp --target "$WORK/target.toml" --junit "reports/interop-postfix-tls.xml" --json "reports/interop-postfix-tls.json" \
  --deviations .ci/interop/deviations/postfix.toml --ratchet
