#!/usr/bin/env bash
# The SMTP suite against a real postfix from Debian, on 127.0.0.1:20025,
# delivering example.test into the fixture Maildirs; postfix's defaults
# apart from what a private instance needs, its true deviations declared.
source "$(dirname "$0")/mail-common.bash"

install_packages postfix
prepare_maildir
start_postfix
smtp_profile > "$WORK/target.toml"
mkdir -p reports
"$CONFORM" run smtp --target "$WORK/target.toml" --junit "reports/interop-postfix.xml" --json "reports/interop-postfix.json" --html "reports/interop-postfix.html" \
  --deviations .ci/interop/deviations/postfix.toml --ratchet
