# Shared by the interop scripts (sourced; the .bash suffix keeps it out of
# .ci/test.sh's *.sh loop).

# install_packages PACKAGE...: installs the Debian packages that are missing,
# non-interactively, with a policy-rc.d that keeps their daemons from
# starting on their default ports (there is no systemd; each script starts its
# server in the foreground on its own port).
install_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  [ -e /usr/sbin/policy-rc.d ] || printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  # postfix asks how to configure itself; the scripts write their own config.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}
