#!/usr/bin/env bash
# The course's textbook clients (UDPClient.py, TCPClient.py as the Python 3
# editions print them, from `conform fixtures`' clients/) against the
# sockets-client suite, through a profile like a course's own: the same
# clients the bundled run uses, run here the way an external client is.
# Their one true deviation, informational: they wait forever for a server
# that never answers (the scenarios tagged @MAY).
#   bash .ci/interop/sockets-clients.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
source .ci/interop/packages.bash
install_packages python3
interop_begin sockets-clients
cat > "$WORK/textbook.toml" <<TOML
[sockets-client]
udp = "python3 UDPClient.py {host} {port}"
tcp = "python3 TCPClient.py {host} {port}"
dir = "$WORK/fixtures/clients"
TOML
"$CONFORM" run sockets-client --target "$WORK/textbook.toml" --junit "reports/interop-textbook-clients.xml" --json "reports/interop-textbook-clients.json" --html "reports/interop-textbook-clients.html"
