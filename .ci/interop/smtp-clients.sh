#!/usr/bin/env bash
# Real mail clients against the smtp-client suite (the harness plays the
# SMTP server): swaks, curl (smtp://, with --crlf as its manual says for
# text with LF line ends) and Python's smtplib (the bundled reference
# client, written by `conform fixtures` into clients/). Their true
# deviations are declared in .ci/interop/deviations/<client>.toml.
#   bash .ci/interop/smtp-clients.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/interop/packages.bash
install_packages swaks curl python3
interop_begin smtp-clients

cat > "$WORK/swaks.toml" <<'TOML'
[smtp-client]
command = "swaks --silent 2 --server {host}:{port} --from {from} --to {to} --helo client.example --data -"
TOML
cat > "$WORK/curl.toml" <<'TOML'
[smtp-client]
command = "curl -sS --max-time 10 --crlf smtp://{host}:{port} --mail-from {from} --mail-rcpt {to} -T -"
TOML
cat > "$WORK/smtplib.toml" <<TOML
[smtp-client]
command = "python3 $WORK/fixtures/clients/smtp_client.py {host} {port} {from} {to}"
TOML

fails=0
for client in swaks curl smtplib; do
  args=(run smtp-client --target "$WORK/$client.toml" --junit "reports/interop-$client.xml" --json "reports/interop-$client.json" --html "reports/interop-$client.html")
  [ -f ".ci/interop/deviations/$client.toml" ] &&
    args+=(--deviations ".ci/interop/deviations/$client.toml" --ratchet)
  echo "== $client"
  "$CONFORM" "${args[@]}" || fails=$((fails + 1))
done
exit "$fails"
