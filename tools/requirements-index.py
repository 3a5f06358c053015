#!/usr/bin/env python3
"""Derives the requirement index (harness/requirements/index.tsv) from the
plain-text RFCs the suites cite.

    tools/requirements-index.py [RFC_DIR] [OUT]      (default ../shared/rfc)

Every BCP 14 keyword in an RFC's text is one requirement: MUST, MUST NOT,
REQUIRED, SHALL, SHALL NOT, SHOULD, SHOULD NOT, RECOMMENDED, NOT RECOMMENDED,
MAY, OPTIONAL — in upper case (RFC 8174). An RFC written without them (older
than RFC 2119, or with none in its text: RFC 959, 1034, 1035, 8906 …) has its
lower-case "must", "must not", "should", "should not" indexed instead, marked
`pre-bcp14`; its lower-case "may" is too often not normative to count.

What is committed is the index only, not RFC text: per requirement its RFC,
section, ordinal in the section, normalised keyword (MUST, MUST NOT, SHOULD,
SHOULD NOT, MAY; SHALL counts as MUST, REQUIRED as MUST, RECOMMENDED as
SHOULD, OPTIONAL as MAY), the line and column of the keyword in the RFC
Editor's text (so `conform coverage --rfc-dir DIR` can show the sentence),
and the protocol terms the sentence names (commands, reply codes, field
names) as a short summary. Section titles go to sections.tsv.

RFCs the suites cite that are not in RFC_DIR are indexed by hand in
harness/requirements/hand.tsv (same columns, source `hand`); this script
leaves that file alone.
"""

import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

KEYWORDS = [
    ("MUST NOT", "MUST NOT"),
    ("SHALL NOT", "MUST NOT"),
    ("SHOULD NOT", "SHOULD NOT"),
    ("NOT RECOMMENDED", "SHOULD NOT"),
    ("MUST", "MUST"),
    ("REQUIRED", "MUST"),
    ("SHALL", "MUST"),
    ("SHOULD", "SHOULD"),
    ("RECOMMENDED", "SHOULD"),
    ("MAY", "MAY"),
    ("OPTIONAL", "MAY"),
]
UPPER = re.compile(r"\b(" + "|".join(k.replace(" ", r"\s+") for k, _ in KEYWORDS) + r")\b")
LOWER = re.compile(r"\b(must\s+not|should\s+not|must|should)\b")
NOT_TERMS = {k for k, _ in KEYWORDS} | {
    "NOT", "AND", "THE", "RFC", "BCP", "ABNF", "ASCII", "US", "IANA", "IETF", "URI", "TCP",
    "UDP", "ALL", "ANY", "FOR", "NOTE", "IMPLEMENTATION", "ARE",
}


def cited_rfcs():
    """The RFC numbers the bundled feature files tag (@rfcNNNN...)."""
    out = set()
    for root, _, files in os.walk(os.path.join(REPO, "features")):
        for f in files:
            if f.endswith(".feature"):
                with open(os.path.join(root, f), encoding="utf-8") as fh:
                    out.update(re.findall(r"@rfc(\d+)", fh.read()))
    return sorted(out, key=int)


def sec_key(num):
    """Sort key of a section number: 4.1.1.4, or A.1 (appendices after)."""
    parts = num.split(".")
    return tuple((1, ord(p)) if p.isalpha() else (0, int(p)) for p in parts)


def follows(prev, num):
    """Whether `num` can be the heading after section `prev`: its first
    child, the next sibling of it or of one of its ancestors."""
    if prev is None:
        return num in ("1", "A")
    p, n = prev.split("."), num.split(".")

    def succ(a, b):
        if a.isdigit() and b.isdigit():
            return int(b) == int(a) + 1
        if a.isalpha() and b.isalpha():
            return len(a) == len(b) == 1 and ord(b) == ord(a) + 1
        return a.isdigit() and b == "A"  # the first appendix

    if n == p + ["1"]:
        return True
    if len(n) <= len(p) and n[:-1] == p[: len(n) - 1] and succ(p[len(n) - 1], n[-1]):
        return True
    return False


HEADING = re.compile(r"^(?:Appendix\s+)?([0-9A-Z](?:[0-9]*)(?:\.[0-9]+)*)\.?\s+(-\s+)?([A-Za-z0-9\"].*)$")
PAGE = re.compile(r"^(RFC \d+ .*\d{4}|.*\[Page \d+\])\s*$")
TOC = re.compile(r"\.{3,}\s*\d+\s*$|\s\.\s\.\s")


def sections(lines):
    """(section, title, first line index, end line index) in order: of all
    lines that look like a heading, the longest chain in which each one can
    follow the one before (so a table of contents, with or without dot
    leaders, and numbered lists inside a section are left out)."""
    cands = []
    for i, raw in enumerate(lines):
        line = raw.lstrip("\ufeff")
        if TOC.search(line):
            continue
        m = HEADING.match(line.strip())
        if not m:
            continue
        num, title = m.group(1), m.group(3).strip()
        # A letter starts an appendix only as "Appendix A" or "A.": not the
        # article at the start of a sentence.
        if num[0].isalpha() and not (line.strip().startswith("Appendix") or line.strip()[1:2] == "."):
            continue
        cands.append((num, title, i))
    best, back = [0] * len(cands), [-1] * len(cands)
    for i, (num, _, _) in enumerate(cands):
        if follows(None, num):
            best[i] = 1
        for j in range(i):
            if best[j] and best[j] + 1 >= best[i] and follows(cands[j][0], num):
                best[i], back[i] = best[j] + 1, j
    if not cands or max(best) == 0:
        return []
    top = max(best)
    i = max(k for k in range(len(cands)) if best[k] == top)
    chain = []
    while i >= 0:
        chain.append(list(cands[i]) + [None])
        i = back[i]
    out = chain[::-1]
    for a, b in zip(out, out[1:]):
        a[3] = b[2]
    out[-1][3] = len(lines)
    return out


def paragraphs(lines, start, end):
    """Paragraphs of lines start..end: lists of (line index, text)."""
    para = []
    for i in range(start, end):
        line = lines[i].replace("\f", "").lstrip("\ufeff")
        if PAGE.match(line.strip()):
            continue
        if not line.strip():
            if para:
                yield para
                para = []
            continue
        para.append((i, line))
    if para:
        yield para


def sentence_at(text, pos):
    """The sentence of `text` (a paragraph joined with spaces) around pos."""
    start = 0
    for m in re.finditer(r"[.;:]\s+(?=[A-Z(\"'])", text[:pos]):
        start = m.end()
    m = re.search(r"[.;:](\s+(?=[A-Z(\"'])|\s*$)", text[pos:])
    end = pos + m.end() if m else len(text)
    return text[start:end]


def terms(sentence):
    found = []
    for t in re.findall(r"\b[A-Z][A-Z0-9-]{2,}\b|\b[1-5]\d\d\b|\b[A-Z][a-z]+(?:-[A-Z][a-z]+)+\b", sentence):
        if t in NOT_TERMS or t in found:
            continue
        found.append(t)
        if len(found) == 6:
            break
    return " ".join(found)


def index(rfc, path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        lines = fh.read().split("\n")
    body = "\n".join(lines)
    pre = int(rfc) < 2119 or not UPPER.search(body.split("Status of", 1)[-1])
    secs = sections(lines)
    reqs, titles = [], []
    for num, title, start, end in secs:
        titles.append((rfc, num, title))
        n = 0
        for para in paragraphs(lines, start + 1, end):
            # Joined with single spaces; offsets map back to (line, column).
            text, where = "", []
            for i, line in para:
                if text:
                    text += " "
                where.append((len(text), i, len(line) - len(line.lstrip())))
                text += line.strip()
            for pattern, kind in ((UPPER, "bcp14"),) + (((LOWER, "pre-bcp14"),) if pre else ()):
                for m in pattern.finditer(text):
                    # The BCP 14 boilerplate names the keywords in quotes.
                    if text[m.start() - 1:m.start()] == '"' and text[m.end():m.end() + 1] == '"':
                        continue
                    word = re.sub(r"\s+", " ", m.group(1))
                    keyword = word.upper() if kind == "pre-bcp14" else dict(KEYWORDS)[word]
                    off, li, indent = max(w for w in where if w[0] <= m.start())
                    n += 1
                    reqs.append((rfc, num, n, keyword, li + 1, m.start() - off + indent + 1, kind,
                                 terms(sentence_at(text, m.start()))))
    return reqs, titles


def main():
    rfc_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "rfc")
    out_dir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(REPO, "harness", "requirements")
    os.makedirs(out_dir, exist_ok=True)
    all_reqs, all_titles, missing = [], [], []
    for rfc in cited_rfcs():
        path = os.path.join(rfc_dir, f"rfc{rfc}.txt")
        if not os.path.exists(path):
            missing.append(rfc)
            continue
        r, t = index(rfc, path)
        all_reqs += r
        all_titles += t
    with open(os.path.join(out_dir, "index.tsv"), "w", encoding="utf-8") as fh:
        fh.write("# rfc\tsection\tn\tkeyword\tline\tcolumn\tsource\tterms\n")
        for r in all_reqs:
            fh.write("\t".join(str(x) for x in r) + "\n")
    with open(os.path.join(out_dir, "sections.tsv"), "w", encoding="utf-8") as fh:
        fh.write("# rfc\tsection\ttitle\n")
        for t in all_titles:
            fh.write("\t".join(t) + "\n")
    print(f"{len(all_reqs)} requirements in {len(all_titles)} sections of "
          f"{len(cited_rfcs()) - len(missing)} RFCs; not in {rfc_dir} (see hand.tsv): "
          + " ".join(missing))


if __name__ == "__main__":
    main()
