#!/usr/bin/env bash
# The project's test command (README: "Run the tests"). On a fresh Debian
# machine with Rust it installs what the tests need, then runs:
#   1. the Rust tests (unit tests, suites against the bundled servers and
#      against deliberately faulty servers, real-client tests);
#   2. every interop script in .ci/interop/, each of which installs, starts and
#      stops one real third-party server and runs its suite against it.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*"; }

# Tools the Rust tests drive as real clients (Python's ftplib, curl).
need=()
command -v python3 >/dev/null || need+=(python3)
command -v curl >/dev/null || need+=(curl)
# Headless Chromium opens the HTML reports (harness/tests/html_report.rs).
command -v chromium >/dev/null || need+=(chromium)
# A virtualenv for the JUnit consumers (.ci/junit/run.sh).
python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
  log "install ${need[*]}"
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need[@]}"
fi

log "build"
cargo build --locked --workspace --all-targets

log "cargo test"
cargo test --locked --workspace

log "the full suite against the bundled reference servers"
./target/debug/conform run --quiet --junit reports/bundled.xml
log "the full suite against the bundled servers under every --perturb mode"
for m in split coalesce slow-read; do ./target/debug/conform run --quiet --perturb "$m" --junit "reports/bundled-$m.xml"; done
for p in sockets http smtp pop3 imap ftp dns; do ./target/debug/conform fuzz "$p" --quiet --duration 10s --seed 1 --no-save --junit "reports/fuzz-$p.xml"; done

shopt -s nullglob
for script in .ci/interop/*.sh; do
  log "interop: $script"
  bash "$script"
done

log "the real servers side by side (reports/compare-*.html)"
./target/debug/conform compare reports/interop-{nginx,apache2,lighttpd}.json --html reports/compare-http.html
./target/debug/conform compare reports/interop-{knot,nsd,unbound}.json --html reports/compare-dns.html
./target/debug/conform compare reports/interop-{unbound,bind,pdns,kresd}-resolver.json --html reports/compare-resolver.html

log "every JUnit report against the published schema and junitparser"
bash .ci/junit/run.sh
log "all tests passed"
