#!/usr/bin/env python3
"""Checks conform's JUnit reports with two real consumers besides the Rust
tests' junit-parser:

1. the published JUnit schema — Jenkins xunit-plugin's junit-10.xsd (the
   "xunit2" dialect pytest writes), read from pytest's source distribution,
   validated with the `xmlschema` package. conform writes three things that
   dialect has no place for and that other consumers read: `properties`
   inside a testcase (pytest's xunit1 record_property; the id, verdict,
   requirement, RFC section …), and a testcase's `file` and `line` (GitLab,
   GitHub test reporters). Those three are taken out before validating;
   everything else must validate as it is.
2. `junitparser` (PyPI), which loads each report; every testsuite's
   tests/failures/errors/skipped must match its testcases, and where the run
   also wrote its JSON report (same name, .json), the totals must match the
   JSON summary.

    check.py SCHEMA.xsd REPORT.xml...
"""

import json
import os
import sys
import xml.etree.ElementTree as ET

import xmlschema
from junitparser import Error, Failure, JUnitXml, Skipped

EXTENSIONS = ("file", "line")


def strip_extensions(path):
    tree = ET.parse(path)
    for case in tree.iter("testcase"):
        for attr in EXTENSIONS:
            case.attrib.pop(attr, None)
        for props in case.findall("properties"):
            case.remove(props)
    return tree


def check(schema, path):
    problems = []
    for e in schema.iter_errors(strip_extensions(path)):
        problems.append(f"schema: {e.reason} at {e.path}")
    xml = JUnitXml.fromfile(path)
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in xml:
        counted = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        for case in suite:
            counted["tests"] += 1
            for r in case.result:
                if isinstance(r, Failure):
                    counted["failures"] += 1
                elif isinstance(r, Error):
                    counted["errors"] += 1
                elif isinstance(r, Skipped):
                    counted["skipped"] += 1
        for k, v in counted.items():
            said = getattr(suite, k) or 0
            if said != v:
                problems.append(f"junitparser: testsuite {suite.name!r} says {k}={said}, its testcases {v}")
            totals[k] += v
    js = os.path.splitext(path)[0] + ".json"
    if os.path.exists(js):
        with open(js, encoding="utf-8") as fh:
            doc = json.load(fh)
        summary = doc.get("summary")
        if summary is not None and "scenarios" in doc:
            want = {
                "tests": len(doc["scenarios"]),
                "errors": summary["errors"],
                "skipped": summary["skipped"] + summary["deviations"],
                "failures": summary["failed"] + (summary["fixed"] if doc.get("ratchet") else 0),
            }
            for k, v in want.items():
                if totals[k] != v:
                    problems.append(f"junitparser: {k}={totals[k]} in the JUnit, {v} in {js}")
    return totals, problems


def main():
    schema = xmlschema.XMLSchema(sys.argv[1])
    bad = 0
    for path in sys.argv[2:]:
        totals, problems = check(schema, path)
        status = "ok" if not problems else "INVALID"
        print(f"{status:8} {path}: {totals['tests']} tests, {totals['failures']} failures, "
              f"{totals['errors']} errors, {totals['skipped']} skipped")
        for p in problems[:10]:
            print(f"         {p}")
        if problems:
            bad += 1
    if bad:
        print(f"{bad} JUnit report(s) are not valid")
        sys.exit(1)


if __name__ == "__main__":
    main()
