#!/usr/bin/env python3
"""Rewrites the feature files' loose section tags (`@sec-4.1.1.4`, bound to
whatever `@rfcNNNN` tags the scenario has) into RFC-bound section tags
(`@rfc5321-sec-4.1.1.4`), so that no report can print a section against the
wrong RFC.

    tools/bind-sections.py [--rfc-dir ../shared/rfc] [--check] [FEATURES...]

The candidates are the scenario's own `@rfcNNNN` tags, then the feature's.
With one candidate, the section is bound to it. With several, it goes to the
first whose text (in --rfc-dir) has a heading with that number, and to any
other candidate whose heading of that number has the same title (RFC 3501
and 9051 share most); where no text has it, to the first candidate whose text
is missing (RFC 9112, 4616: it cannot be checked here). A section that no
candidate has is reported and left alone. Idempotent: tags that
are already bound are kept. --check only reports what it would change and
exits 1 if anything is left to do.
"""

import argparse
import pathlib
import re
import sys

HEADING = re.compile(r"^(?:\ufeff)?((?:\d+|[A-Z])(?:\.\d+)*)\.?\s+(\S.*?)\s*(?:\.{2,}.*)?$")


def headings(rfc_dir, number, cache={}):
    """{section: title} of an RFC's text, or None where the text is missing."""
    if number in cache:
        return cache[number]
    path = pathlib.Path(rfc_dir) / f"rfc{number}.txt"
    if not path.is_file():
        cache[number] = None
        return None
    found = {}
    for line in path.read_text(errors="replace").splitlines():
        m = HEADING.match(line)
        if m and not line.startswith(" "):
            sec, title = m.group(1), m.group(2)
            # Keep the body heading (the last one), not the table of contents.
            found[sec] = re.sub(r"\s+", " ", title.lower())
    cache[number] = found
    return found


def bind(sec, candidates, rfc_dir):
    """The RFCs of `candidates` (in order of preference) that section `sec`
    belongs to: the first whose text has that heading, and any other with the
    same heading title (RFC 3501 and 9051 share most). Where no text has it,
    the first candidate whose text is missing here (it cannot be checked)."""
    if len(candidates) == 1:
        return candidates
    titled = []
    title = None
    for rfc in candidates:
        h = headings(rfc_dir, rfc)
        if h is None or sec not in h:
            continue
        if title is None:
            title = h[sec]
            titled.append(rfc)
        elif h[sec] == title:
            titled.append(rfc)
    if titled:
        return titled
    return [r for r in candidates if headings(rfc_dir, r) is None][:1]


def rewrite(path, rfc_dir, problems):
    lines = path.read_text().splitlines(keepends=True)
    feature_rfcs = []
    pending = []  # indexes of tag lines before the next Scenario/Feature
    changed = False
    for i, line in enumerate(lines):
        s = line.strip()
        if s.startswith("@"):
            pending.append(i)
            continue
        if s.startswith("Feature:"):
            for j in pending:
                feature_rfcs += re.findall(r"@rfc(\d+)(?=\s|$)", lines[j])
                if re.search(r"@sec-", lines[j]):
                    problems.append(f"{path}:{j + 1}: a section tag at feature level; put it on the scenarios")
            pending = []
            continue
        if re.match(r"(Scenario|Scenario Outline|Example|Rule):", s):
            own = []
            for j in pending:
                own += re.findall(r"@rfc(\d+)(?=\s|$)", lines[j])
            candidates = own + [r for r in feature_rfcs if r not in own]
            for j in pending:
                def repl(m):
                    sec = m.group(1)
                    rfcs = bind(sec, candidates, rfc_dir)
                    if not rfcs:
                        problems.append(
                            f"{path}:{j + 1}: §{sec} is not a section of RFC {', '.join(candidates) or '(none)'}"
                        )
                        return m.group(0)
                    return " ".join(f"@rfc{r}-sec-{sec}" for r in rfcs)

                new = re.sub(r"(?<!\S)@sec-([0-9A-Z][0-9.]*)(?=\s|$)", repl, lines[j])
                if new != lines[j]:
                    lines[j] = new
                    changed = True
            pending = []
            continue
        if s and not s.startswith("#"):
            pending = []
    return lines, changed


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rfc-dir", default=str(pathlib.Path(__file__).resolve().parent.parent.parent / "shared" / "rfc"))
    ap.add_argument("--check", action="store_true")
    ap.add_argument("paths", nargs="*", default=["features", "corpus"])
    a = ap.parse_args()
    files = []
    for p in a.paths:
        p = pathlib.Path(p)
        files += [p] if p.is_file() else sorted(p.rglob("*.feature"))
    problems, todo = [], []
    for f in files:
        lines, changed = rewrite(f, a.rfc_dir, problems)
        if changed:
            todo.append(str(f))
            if not a.check:
                f.write_text("".join(lines))
    for p in problems:
        print(p, file=sys.stderr)
    verb = "would rewrite" if a.check else "rewrote"
    print(f"{verb} {len(todo)} file(s); {len(problems)} section(s) left unbound")
    sys.exit(1 if (a.check and todo) or problems else 0)


if __name__ == "__main__":
    main()
