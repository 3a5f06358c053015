#!/usr/bin/env bash
# The FTP suite against vsftpd with AUTH TLS on (RFC 4217), using the
# certificate `conform fixtures` writes: the profile says tls = "starttls",
# so every session sends AUTH TLS before USER and PROT P before any
# transfer, and the AUTH TLS scenarios run. Ports 21121 (control) and
# 21130-21159 (passive), a user of its own, so it never meets vsftpd.sh's.
VSFTPD_TLS=yes VSFTPD_PORT=21121 VSFTPD_USER=conformftps exec bash "$(dirname "$0")/vsftpd.sh"
