#!/usr/bin/env bash
# Real HTTP clients against the http-client suite (the harness plays the
# origin server): curl, wget and Python's http.client (the bundled
# reference client, written by `conform fixtures` into clients/).
#   bash .ci/interop/http-clients.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/interop/packages.bash
install_packages curl wget python3
interop_begin http-clients

cat > "$WORK/curl.toml" <<'TOML'
[http-client]
command = "curl -sS --max-time 10 {url}"
post = "curl -sS --max-time 10 --data-binary {input} {url}"
TOML
cat > "$WORK/wget.toml" <<'TOML'
[http-client]
command = "wget -q -O - --timeout=10 --tries=1 {url}"
post = "wget -q -O - --timeout=10 --tries=1 --post-data={input} {url}"
TOML
cat > "$WORK/http.client.toml" <<TOML
[http-client]
command = "python3 $WORK/fixtures/clients/http_client.py {url}"
post = "python3 $WORK/fixtures/clients/http_client.py {url} {input}"
TOML

fails=0
for client in curl wget http.client; do
  echo "== $client"
  "$CONFORM" run http-client --target "$WORK/$client.toml" --junit "reports/interop-http-$client.xml" --json "reports/interop-http-$client.json" --html "reports/interop-http-$client.html" ||
    fails=$((fails + 1))
done
exit "$fails"
