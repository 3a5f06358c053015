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

# interop_begin NAME: the shared start of an interop script. Sets CONFORM
# (the debug binary unless given, built if missing), WORK (a fresh temporary
# folder holding `conform fixtures` output in $WORK/fixtures) and PID (empty;
# set it to the server's PID), and on exit stops that server (TERM, then up to
# 5 s) and removes WORK. Set SERVER_LOG to the server's log file: on exit it
# is kept as reports/interop-NAME.server.log, and a failing script prints its
# last lines, so a CI failure can be read without a rerun.
interop_begin() {
  CONFORM="${CONFORM:-$PWD/target/debug/conform}"
  [ -x "$CONFORM" ] || cargo build -p conform
  mkdir -p reports
  WORK="$(mktemp -d "/tmp/conform-$1.XXXXXX")"
  INTEROP_NAME="$1"
  PID=""
  SERVER_LOG=""
  trap interop_end EXIT
  "$CONFORM" fixtures --out "$WORK/fixtures" >/dev/null
}

# interop_wait PORT LOG: waits (up to 10 s) until 127.0.0.1:PORT accepts a
# connection; if the server ($PID) exits first, prints LOG and fails. LOG
# becomes SERVER_LOG.
interop_wait() {
  SERVER_LOG="$2"
  for _ in $(seq 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    kill -0 "$PID" 2>/dev/null || { echo "the server exited; see its log:" >&2; cat "$2" >&2; return 1; }
    sleep 0.1
  done
  echo "nothing listens on 127.0.0.1:$1 after 10 s" >&2
  return 1
}

interop_end() {
  local rc=$?
  if [ -n "$SERVER_LOG" ] && [ -f "$SERVER_LOG" ]; then
    cp "$SERVER_LOG" "reports/interop-$INTEROP_NAME.server.log" 2>/dev/null || true
    if [ "$rc" -ne 0 ]; then
      echo "--- $INTEROP_NAME failed (exit $rc); the last lines of the server's log ($SERVER_LOG) ---" >&2
      tail -n 120 "$SERVER_LOG" >&2 || true
    fi
  fi
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}

# start_unbound: checks $WORK/unbound.conf, starts unbound on it in the
# foreground (PID set, so interop_end stops it), and waits for its TCP
# listener on $PORT and "start of service" in $WORK/unbound.log.
start_unbound() {
  chown unbound:unbound "$WORK/unbound.conf" 2>/dev/null || true
  unbound-checkconf "$WORK/unbound.conf"
  /usr/sbin/unbound -d -c "$WORK/unbound.conf" >"$WORK/unbound.stdout" 2>&1 &
  PID=$!
  SERVER_LOG="$WORK/unbound.log"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null \
       && grep -q "start of service" "$WORK/unbound.log" 2>/dev/null; then
      return 0
    fi
    if ! kill -0 "$PID" 2>/dev/null; then cat "$WORK/unbound.stdout" "$WORK/unbound.log" 2>/dev/null; echo "unbound exited"; exit 1; fi
    sleep 0.1
  done
}

# run_resolver_suite NAME: the resolver suite against the recursive resolver
# on 127.0.0.1:$PORT, with reports/interop-NAME.* and the declared
# deviations in deviations/NAME.toml (ratchet on).
run_resolver_suite() {
  cat > "$WORK/profile.toml" <<TOML
[resolver]
address = "127.0.0.1:$PORT"
TOML
  "$CONFORM" run resolver --target "$WORK/profile.toml" \
    --junit "reports/interop-$1.xml" --json "reports/interop-$1.json" --html "reports/interop-$1.html" \
    --deviations ".ci/interop/deviations/$1.toml" --ratchet
}
