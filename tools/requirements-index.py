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
a one-line summary in our words, and the protocol terms the sentence names
(commands, reply codes, field names). Section titles go to sections.tsv.

The summaries are not derived: they are written by hand in
harness/requirements/summaries.tsv (rfc, section, n, keyword, summary) and
merged here by that key. The script reports the requirements that have no
summary, the summaries whose key is no longer in the index (the RFC text or
the section finder changed: rewrite or drop them), and summaries that copy
more than four consecutive words of their sentence (they are to be a
paraphrase, not RFC text). Its exit status is 1 when a summary is stale.

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


def load_summaries(path):
    """{(rfc, section, n, keyword): summary} from summaries.tsv, and the RFCs
    its `# done:` header lists as complete (`all` for every RFC)."""
    out, done = {}, set()
    if not os.path.exists(path):
        return out, done
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if line.startswith("# done:"):
                done.update(line[len("# done:"):].split())
            if line.startswith("#") or not line.strip():
                continue
            f = line.split("\t")
            if len(f) == 5:
                out[(f[0], f[1], f[2], f[3])] = f[4].strip()
    return out, done


PROTOCOL_TOKEN = re.compile(
    r"[\"'<(\[+*-]*(?:[A-Z0-9][A-Z0-9_./-]*[A-Z0-9]|[A-Z][a-z]+(?:-[A-Za-z]+)+|\S*[:<>@=_]\S*)[)\]\"'>,.;:]*")


def copies(summary, sentence, run=5):
    """The first run of more than four consecutive words of `summary` (not
    counting protocol tokens: commands, reply codes, field names, which are
    kept verbatim) that the sentence also has, or None."""
    toks = []
    for raw in summary.split():
        ordinary = not PROTOCOL_TOKEN.fullmatch(raw)
        toks += [(w, ordinary) for w in re.findall(r"[a-z0-9]+", raw.lower())]
    text = " " + " ".join(re.findall(r"[a-z0-9]+", sentence.lower())) + " "
    for i in range(len(toks)):
        j = i
        while j < len(toks) and " " + " ".join(w for w, _ in toks[i:j + 1]) + " " in text:
            j += 1
        if sum(o for _, o in toks[i:j]) >= run:
            return " ".join(w for w, _ in toks[i:j])
    return None


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
                    sentence = sentence_at(text, m.start())
                    reqs.append((rfc, num, n, keyword, li + 1, m.start() - off + indent + 1, kind,
                                 terms(sentence), sentence))
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
    summaries, done = load_summaries(os.path.join(REPO, "harness", "requirements", "summaries.tsv"))
    keys, missing_summary, copied = set(), {}, []
    with open(os.path.join(out_dir, "index.tsv"), "w", encoding="utf-8") as fh:
        fh.write("# rfc\tsection\tn\tkeyword\tline\tcolumn\tsource\tsummary\tterms\n")
        for rfc, num, n, keyword, line, col, kind, found, sentence in all_reqs:
            key = (rfc, num, str(n), keyword)
            keys.add(key)
            summary = summaries.get(key, "")
            if not summary:
                missing_summary[rfc] = missing_summary.get(rfc, 0) + 1
                if rfc in done or "all" in done:
                    print("missing summary: " + " ".join(key) + " (the RFC is marked done)")
            elif copies(summary, sentence):
                copied.append((key, copies(summary, sentence)))
            fh.write("\t".join(str(x) for x in (rfc, num, n, keyword, line, col, kind, summary, found)) + "\n")
    # A summary of an RFC whose text is not in RFC_DIR cannot be checked.
    stale = sorted(k for k in summaries if k not in keys and k[0] not in missing)
    with open(os.path.join(out_dir, "sections.tsv"), "w", encoding="utf-8") as fh:
        fh.write("# rfc\tsection\ttitle\n")
        for t in all_titles:
            fh.write("\t".join(t) + "\n")
    print(f"{len(all_reqs)} requirements in {len(all_titles)} sections of "
          f"{len(cited_rfcs()) - len(missing)} RFCs; not in {rfc_dir} (see hand.tsv): "
          + " ".join(missing))
    if missing_summary:
        print(f"{sum(missing_summary.values())} requirements have no summary in summaries.tsv: "
              + " ".join(f"{r}:{c}" for r, c in sorted(missing_summary.items(), key=lambda x: int(x[0]))))
    for key, words_ in copied:
        print("copied: " + " ".join(key) + f": \"{words_}\" is the RFC's wording")
    for key in stale:
        print("stale summary: " + " ".join(key) + ": no such requirement in the index")
    if stale:
        sys.exit(1)


if __name__ == "__main__":
    main()
