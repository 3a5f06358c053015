#!/usr/bin/env python3
"""Real FTP clients against the server of a conform profile: Python's ftplib
and curl, each in passive and active mode: log in, list, upload, download
(binary and ASCII), delete what they uploaded. Exit 1 on the first mismatch.

    python3 ftp_client.py PROFILE.toml
"""
import ftplib
import io
import os
import subprocess
import sys
import tempfile
import tomllib

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "..", "fixtures", "ftp")


def fixture(name):
    with open(os.path.join(FIXTURES, name), "rb") as f:
        return f.read()


def check(cond, what):
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)


with open(sys.argv[1], "rb") as f:
    prof = tomllib.load(f)["ftp"]
host, port = prof["address"].rsplit(":", 1)
port = int(port)
user, password = prof["user"], prof["password"]


def session(passive):
    ftp = ftplib.FTP()
    ftp.connect(host, port, timeout=20)
    ftp.login(user, password)
    ftp.set_pasv(passive)
    return ftp


def home_names():
    ftp = session(True)
    names = sorted(ftp.nlst())
    ftp.quit()
    return names


before = home_names()
check("hello.txt" in before and "binary.bin" in before, f"the home holds the fixture tree: {before}")
binary = fixture("binary.bin")

for passive in (True, False):
    mode = "passive" if passive else "active"
    ftp = session(passive)
    lines = []
    ftp.retrlines("LIST", lines.append)
    check(any(l.endswith(" hello.txt") for l in lines), f"{mode} LIST names hello.txt: {lines}")
    got = bytearray()
    ftp.retrbinary("RETR binary.bin", got.extend)
    check(bytes(got) == binary, f"{mode} RETR binary.bin byte for byte")

    name = f"conform-ftplib-{mode}.bin"
    ftp.storbinary(f"STOR {name}", io.BytesIO(binary))
    got = bytearray()
    ftp.retrbinary(f"RETR {name}", got.extend)
    check(bytes(got) == binary, f"{mode} binary upload comes back byte for byte")
    ftp.voidcmd("TYPE I")
    check(ftp.size(name) == len(binary), f"{mode} SIZE of the upload")

    text = f"conform-ftplib-{mode}.txt"
    ftp.storlines(f"STOR {text}", io.BytesIO(b"one\ntwo\nthree\n"))
    got_lines = []
    ftp.retrlines(f"RETR {text}", got_lines.append)
    check(got_lines == ["one", "two", "three"], f"{mode} ASCII upload comes back as lines: {got_lines}")
    got = bytearray()
    ftp.retrbinary(f"RETR {text}", got.extend)
    check(bytes(got) == b"one\ntwo\nthree\n", f"{mode} ASCII upload is stored with LF: {bytes(got)!r}")

    ftp.delete(name)
    ftp.delete(text)
    ftp.quit()
    print(f"ftplib {mode}: ok")

base = f"ftp://{user}:{password}@{host}:{port}"
with tempfile.TemporaryDirectory() as tmp:
    upload = os.path.join(tmp, "upload.bin")
    with open(upload, "wb") as f:
        f.write(binary)
    for mode, extra in (("passive", []), ("active", ["--ftp-port", "-"])):
        curl = ["curl", "--silent", "--show-error", "--max-time", "20"] + extra

        def run(*args):
            return subprocess.run(curl + list(args), capture_output=True, check=True).stdout

        listing = run(f"{base}/").decode()
        check(" hello.txt" in listing, f"curl {mode} lists hello.txt: {listing!r}")
        check(run(f"{base}/binary.bin") == binary, f"curl {mode} downloads binary.bin byte for byte")
        name = f"conform-curl-{mode}.bin"
        run("-T", upload, f"{base}/{name}")
        check(run(f"{base}/{name}") == binary, f"curl {mode} upload comes back byte for byte")
        run("-Q", f"DELE {name}", f"{base}/")
        print(f"curl {mode}: ok")

after = home_names()
check(after == before, f"the clients left the home as they found it: {before} -> {after}")
print("home unchanged: ok")
