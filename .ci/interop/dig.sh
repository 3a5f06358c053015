#!/usr/bin/env bash
# Real client against the reference server: dig (Debian bind9-dnsutils)
# queries `conform serve dns` over UDP and over TCP and its output is checked.
#   bash .ci/interop/dig.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFORM="${CONFORM:-./target/debug/conform}"

source .ci/interop/packages.bash
install_packages bind9-dnsutils
[ -x "$CONFORM" ] || cargo build -p conform

WORK="$(mktemp -d /tmp/conform-dig.XXXXXX)"
PID=""
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

"$CONFORM" serve dns --profile-out "$WORK/profile.toml" >"$WORK/serve.out" 2>&1 &
PID=$!
for _ in $(seq 1 100); do
  [ -s "$WORK/profile.toml" ] && break
  sleep 0.1
done
ADDR="$(sed -n 's/^address = "\(.*\)"$/\1/p' "$WORK/profile.toml")"
HOST="${ADDR%:*}"
PORT="${ADDR##*:}"
echo "conform serve dns at $HOST port $PORT"

fails=0
# check NAME DESCRIPTION OUTPUT PATTERN...: every pattern must be in OUTPUT.
check() {
  local what="$1" out="$2"; shift 2
  for pattern in "$@"; do
    if ! grep -qE -- "$pattern" <<<"$out"; then
      echo "FAIL  $what: no /$pattern/ in:"; echo "$out"; fails=$((fails + 1)); return
    fi
  done
  echo "PASS  $what"
}

d() { dig -p "$PORT" @"$HOST" +time=2 +tries=1 "$@" 2>&1 || true; }

out="$(d www.example.test A +norec)"
check "UDP: A records of www, authoritative" "$out" \
  'status: NOERROR' 'flags: qr aa;' 'www\.example\.test\.[[:space:]]+300[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.10' \
  '192\.0\.2\.11' '192\.0\.2\.12' 'ANSWER: 3'

out="$(d www.example.test A +tcp +norec)"
check "TCP: the same answer" "$out" 'status: NOERROR' 'flags: qr aa;' 'ANSWER: 3' '\(TCP\)'

out="$(d example.test MX)"
check "UDP: MX with addresses in the additional section, RD set, RA clear" "$out" \
  'flags: qr aa rd;' 'recursion requested but not available' 'MX[[:space:]]+10 mail\.example\.test\.' \
  'ADDITIONAL SECTION' 'mail\.example\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A[[:space:]]+192\.0\.2\.25'

out="$(d no-such.example.test A +norec)"
check "UDP: NXDOMAIN with the SOA" "$out" 'status: NXDOMAIN' 'flags: qr aa;' 'AUTHORITY SECTION' 'IN[[:space:]]+SOA'

out="$(d www.child.example.test A +norec)"
check "UDP: referral to the child zone" "$out" 'status: NOERROR' 'flags: qr;' 'ANSWER: 0' \
  'child\.example\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+NS' 'ns1\.child\.example\.test\.[[:space:]]+3600[[:space:]]+IN[[:space:]]+A'

# dig retries a truncated UDP answer over TCP by itself; +ignore keeps it.
out="$(d big.example.test TXT +norec +noedns +ignore)"
check "UDP: the large answer is truncated" "$out" 'flags: qr aa tc;' 'MSG SIZE  rcvd: [0-9]+'
size="$(sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\)$/\1/p' <<<"$out")"
if [ "${size:-99999}" -gt 512 ]; then echo "FAIL  the truncated UDP answer is $size octets, more than 512"; fails=$((fails + 1)); fi
out="$(d big.example.test TXT +norec +noedns)"
check "dig retries over TCP and gets all 40 records" "$out" 'Truncated, retrying in TCP mode' 'ANSWER: 40'

out="$(d www.example.test A +norec +edns=1 +noednsnegotiation)"
check "EDNS version 1 is answered BADVERS" "$out" 'status: BADVERS' 'EDNS: version: 0'

out="$(d www.example.invalid A)"
check "a name outside the zone is refused" "$out" 'status: REFUSED'

if [ "$fails" -ne 0 ]; then echo "dig: $fails check(s) failed"; exit 1; fi
echo "dig: all checks passed"
