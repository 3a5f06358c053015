#!/usr/bin/env bash
# Interop: the FTP suite against vsftpd from Debian's packages.
#
# Run as root on a Debian machine without systemd (by .ci/test.sh, after the
# build). It installs vsftpd if missing (without starting it), creates a
# local user whose home (local_root, chrooted) holds the fixture tree from
# `conform fixtures`, starts vsftpd in the foreground on loopback ports
# 21021 (control) and 21030-21059 (passive), runs `conform run ftp` against
# it, and stops it by PID. Exit status: that of the suite.
#
# Gotchas (from running it):
# - local logins go through PAM: the user needs a shell listed in
#   /etc/shells (pam_shells) and must not be in /etc/ftpusers;
# - vsftpd needs its secure_chroot_dir (/var/run/vsftpd/empty) to exist;
# - a failed login is answered after delay_failed_login (1 s) plus pam_unix's
#   own delay (about 2 s); vsftpd closes after max_login_fails (3);
# - vsftpd refuses a writable chroot unless allow_writeable_chroot=YES; the
#   chroot is declared to the suite as ftp.confined;
# - otherwise vsftpd's defaults: ASCII conversion stays off, and that and its
#   other true deviations are declared in .ci/interop/deviations/vsftpd.toml.
set -euo pipefail
cd "$(dirname "$0")/../.."

CONTROL_PORT=${VSFTPD_PORT:-21021}
PASV_MIN=$((CONTROL_PORT + 9))
PASV_MAX=$((CONTROL_PORT + 38))
FTP_USER=${VSFTPD_USER:-conformftp}
# VSFTPD_TLS=yes (vsftpd-tls.sh): ssl_enable=YES with the fixture
# certificate, and the profile says tls = "starttls".
TLS=${VSFTPD_TLS:-no}
REPORT=interop-vsftpd
[ "$TLS" = yes ] && REPORT=interop-vsftpd-tls
CONFORM="$PWD/target/debug/conform"

log() { printf '[vsftpd interop] %s\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "vsftpd interop needs root (it creates a local user and runs vsftpd)" >&2
  exit 2
fi
[ -x "$CONFORM" ] || cargo build --locked -p conform

# ---- packages (nothing may start on its default port) ----------------------
source .ci/interop/packages.bash
install_packages vsftpd

# ---- a fresh run directory with the fixture tree ---------------------------
RUN=$(mktemp -d /tmp/conform-vsftpd.XXXXXX)
chmod 755 "$RUN"
"$CONFORM" fixtures --out "$RUN/fixtures" >/dev/null
HOME_DIR="$RUN/fixtures/ftp"
mkdir -p /var/run/vsftpd/empty

# ---- the local user (PAM: a real account, a shell from /etc/shells) --------
CREATED_USER=no
if ! id "$FTP_USER" >/dev/null 2>&1; then
  useradd -M -d "$HOME_DIR" -s /bin/bash "$FTP_USER"
  CREATED_USER=yes
fi
grep -qxF /bin/bash /etc/shells || echo /bin/bash >> /etc/shells
if [ -f /etc/ftpusers ] && grep -qx "$FTP_USER" /etc/ftpusers; then
  echo "$FTP_USER is listed in /etc/ftpusers: vsftpd would refuse it" >&2
  exit 2
fi
FTP_PASS="conform-$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
echo "$FTP_USER:$FTP_PASS" | chpasswd
chown -R "$FTP_USER:" "$HOME_DIR"

cat > "$RUN/vsftpd.conf" <<CONF
# Written by .ci/interop/vsftpd.sh for one run.
listen=YES
listen_ipv6=NO
listen_address=127.0.0.1
listen_port=$CONTROL_PORT
background=NO
anonymous_enable=NO
local_enable=YES
local_root=$HOME_DIR
chroot_local_user=YES
allow_writeable_chroot=YES
write_enable=YES
local_umask=022
pasv_enable=YES
pasv_address=127.0.0.1
pasv_min_port=$PASV_MIN
pasv_max_port=$PASV_MAX
port_enable=YES
connect_from_port_20=NO
ftp_data_port=$((CONTROL_PORT - 1))
secure_chroot_dir=/var/run/vsftpd/empty
pam_service_name=vsftpd
seccomp_sandbox=NO
utf8_filesystem=YES
$(if [ "$TLS" = yes ]; then
  # vsftpd's own defaults for the rest: force_local_logins_ssl and
  # force_local_data_ssl (YES), require_ssl_reuse (YES).
  echo "ssl_enable=YES"
  echo "rsa_cert_file=$RUN/fixtures/tls/server.pem"
  echo "rsa_private_key_file=$RUN/fixtures/tls/server.key"
else
  echo "ssl_enable=NO"
fi)
xferlog_enable=YES
log_ftp_protocol=YES
vsftpd_log_file=$RUN/vsftpd.log
CONF

VSFTPD_PID=
cleanup() {
  if [ -n "$VSFTPD_PID" ]; then
    kill "$VSFTPD_PID" 2>/dev/null || true
    wait "$VSFTPD_PID" 2>/dev/null || true
  fi
  if [ "$CREATED_USER" = yes ]; then
    userdel "$FTP_USER" 2>/dev/null || true
  fi
  rm -rf "$RUN"
}
trap cleanup EXIT

/usr/sbin/vsftpd "$RUN/vsftpd.conf" > "$RUN/vsftpd.stdout" 2>&1 &
VSFTPD_PID=$!

# ---- wait for the greeting -----------------------------------------------
ready=no
for _ in $(seq 1 100); do
  if ! kill -0 "$VSFTPD_PID" 2>/dev/null; then
    log "vsftpd exited:"; cat "$RUN/vsftpd.stdout" >&2; exit 2
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/$CONTROL_PORT) 2>/dev/null; then ready=yes; break; fi
  sleep 0.1
done
[ "$ready" = yes ] || { log "vsftpd did not listen on $CONTROL_PORT"; exit 2; }
log "vsftpd $(dpkg-query -W -f='${Version}' vsftpd 2>/dev/null || echo '?') on 127.0.0.1:$CONTROL_PORT, home $HOME_DIR"

cat > "$RUN/profile.toml" <<PROFILE
[ftp]
address = "127.0.0.1:$CONTROL_PORT"
user = "$FTP_USER"
password = "$FTP_PASS"
confined = true
$(if [ "$TLS" = yes ]; then
  echo 'tls = "starttls"'
  echo "ca_file = \"$RUN/fixtures/tls/ca.pem\""
fi)
PROFILE

mkdir -p reports
status=0
"$CONFORM" run ftp --target "$RUN/profile.toml" --junit "reports/$REPORT.xml" --json "reports/$REPORT.json" --html "reports/$REPORT.html" \
  --deviations .ci/interop/deviations/vsftpd.toml --ratchet || status=$?

# The run must leave the home as it found it.
left=$(cd "$HOME_DIR" && find . -mindepth 1 | sort | tr '\n' ' ')
"$CONFORM" fixtures --out "$RUN/pristine" >/dev/null
want=$(cd "$RUN/pristine/ftp" && find . -mindepth 1 | sort | tr '\n' ' ')
if [ "$left" != "$want" ]; then
  log "the run left the home changed: $left (expected $want)"
  [ "$status" -ne 0 ] || status=1
fi
exit "$status"
