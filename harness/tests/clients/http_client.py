"""Python's http.client against an HTTP target: fetch, revalidate, post.

Usage: python3 http_client.py PROFILE.toml WEBROOT

Reads [http] address from the profile, then over one persistent connection:
fetches /somedir/page.html and compares it with WEBROOT's copy, revalidates it
with If-None-Match and with If-Modified-Since (both must give 304 with no
body), and posts a form to /echo (which must report the body length). Prints
one line per step; exits 1 on the first mismatch.
"""

import http.client
import pathlib
import re
import sys


def address(profile: str) -> tuple[str, int]:
    text = pathlib.Path(profile).read_text()
    section = re.search(r"^\[http\](.*?)(?=^\[|\Z)", text, re.S | re.M)
    if not section:
        sys.exit("no [http] section in " + profile)
    m = re.search(r'^address\s*=\s*"([^"]+)"', section.group(1), re.M)
    if not m:
        sys.exit("no http.address in " + profile)
    host, _, port = m.group(1).rpartition(":")
    return host.strip("[]"), int(port)


def check(what: str, ok: bool, detail: str) -> None:
    if not ok:
        print(f"FAIL {what}: {detail}")
        sys.exit(1)
    print(f"{what} ok")


def main() -> None:
    host, port = address(sys.argv[1])
    webroot = pathlib.Path(sys.argv[2])
    want = (webroot / "somedir" / "page.html").read_bytes()
    conn = http.client.HTTPConnection(host, port, timeout=10)

    conn.request("GET", "/somedir/page.html")
    r = conn.getresponse()
    body = r.read()
    check("fetch", r.status == 200 and body == want, f"{r.status} {body[:80]!r}")
    etag, last_modified = r.getheader("ETag"), r.getheader("Last-Modified")
    check("validators", bool(etag and last_modified), f"ETag={etag} Last-Modified={last_modified}")

    conn.request("GET", "/somedir/page.html", headers={"If-None-Match": etag})
    r = conn.getresponse()
    body = r.read()
    check("revalidate (If-None-Match)", r.status == 304 and body == b"", f"{r.status} {body[:80]!r}")

    conn.request("GET", "/somedir/page.html", headers={"If-Modified-Since": last_modified})
    r = conn.getresponse()
    body = r.read()
    check("revalidate (If-Modified-Since)", r.status == 304 and body == b"", f"{r.status} {body[:80]!r}")

    form = b"first=Ada&last=Lovelace"
    conn.request("POST", "/echo", body=form, headers={"Content-Type": "application/x-www-form-urlencoded"})
    r = conn.getresponse()
    body = r.read()
    check("post", r.status == 200 and f"len={len(form)}".encode() in body, f"{r.status} {body[:80]!r}")
    conn.close()


if __name__ == "__main__":
    main()
