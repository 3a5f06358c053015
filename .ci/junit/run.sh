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

# A report with a failure, a warning and an error: the probe scenarios
# against the bundled TCP server.
mkdir -p reports
"$CONFORM" run sockets --quiet --features harness/tests/probes --junit reports/junit-probe.xml --json reports/junit-probe.json >/dev/null || true

"$VENV/bin/python" .ci/junit/check.py "$XSD" reports/*.xml
