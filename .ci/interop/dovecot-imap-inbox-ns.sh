#!/usr/bin/env bash
# The IMAP suite against dovecot configured the Courier/Cyrus way: the
# personal namespace is "INBOX." with the separator ".", so mailboxes can be
# created only as INBOX.name (RFC 2342). conform finds the prefix with
# NAMESPACE and puts its scratch mailboxes under it; the profile sets
# nothing about namespaces. On 127.0.0.1:20144, without postfix.
source "$(dirname "$0")/mail-common.bash"

IMAP_PORT=${IMAP_NS_PORT:-20144}

install_packages dovecot-imapd
prepare_maildir
start_dovecot imap "$IMAP_PORT" "\
namespace inbox {
  inbox = yes
  prefix = INBOX.
  separator = .
}"
imap_profile > "$WORK/target.toml"
run_imap_suite dovecot-imap-inbox-ns --deviations .ci/interop/deviations/dovecot.toml --ratchet
