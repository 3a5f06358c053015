#!/usr/bin/env bash
# Checks every JUnit report in reports/ (and one with failures and errors made
# here) against the published JUnit schema and with junitparser; see check.py.
# Installs what it needs into a virtualenv from PyPI: xmlschema, junitparser,
# and pytest's source distribution, which carries junit-10.xsd.
set -euo pipefail
cd "$(dirname "$0")/../.."
CONFORM=${CONFORM:-$PWD/target/debug/conform}
VENV=${CONFORM_JUNIT_VENV:-/tmp/conform-junit-venv}
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/pip" install -q "xmlschema>=3,<5" "junitparser>=3,<5"
XSD="$VENV/junit-10.xsd"
if [ ! -s "$XSD" ]; then
  DL=$(mktemp -d)
  "$VENV/bin/pip" download -q --no-deps --no-binary :all: "pytest==8.3.4" -d "$DL"
  tar -xzf "$DL"/pytest-8.3.4.tar.gz -C "$DL" pytest-8.3.4/testing/example_scripts/junit-10.xsd
  cp "$DL"/pytest-8.3.4/testing/example_scripts/junit-10.xsd "$XSD"
  rm -rf "$DL"
fi

# A report with a failure, a warning and an error: probe scenarios against
# the bundled TCP server (the error: a profile value the bundled profile lacks).
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/probe" reports
cat > "$WORK/probe/probe.feature" <<'FEATURE'
@sockets @tcp @rfc9293
Feature: JUnit probe

  @MUST @rfc9293-sec-3.10.7.4
  Scenario: A probe that expects the wrong reply
    Given a TCP connection to "${sockets.tcp}"
    When the client sends the bytes "hello & <goodbye>"
    Then the client receives exactly "goodbye"

  @SHOULD @rfc9293-sec-3.10.7.4
  Scenario: A should-probe that expects the wrong reply
    Given a TCP connection to "${sockets.tcp}"
    When the client sends the bytes "hello"
    Then the client receives exactly "nope"

  @MUST @rfc9293-sec-3.10.7.4
  Scenario: A probe that names a profile value nobody set
    Given a TCP connection to "${sockets.nowhere}"
    When the client sends the bytes "hello"
    Then the client receives exactly "HELLO"
FEATURE
"$CONFORM" run sockets --quiet --features "$WORK/probe" --junit reports/junit-probe.xml --json reports/junit-probe.json >/dev/null || true

"$VENV/bin/python" .ci/junit/check.py "$XSD" reports/*.xml
