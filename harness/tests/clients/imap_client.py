"""Python's imaplib against an IMAP target: log in, create a mailbox, append
a multipart message, select, search, fetch one MIME part, store a flag and
read it back, then delete the mailbox. Upgrades with STARTTLS first where the profile sets tls = "starttls".
Usage: imap_client.py PROFILE.toml
Exits non-zero (with the reason) when anything is not as RFC 3501 says."""

import imaplib
import ssl
import sys
import time
import tomllib

MESSAGE = (
    b"From: Bob <bob@hamburger.edu>\r\n"
    b"To: Alice <alice@crepes.fr>\r\n"
    b"Subject: imaplib test\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/mixed; boundary="b"\r\n'
    b"\r\n"
    b"--b\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"first part\r\n"
    b"--b\r\n"
    b"Content-Type: text/plain\r\n"
    b"\r\n"
    b"second part\r\n"
    b"--b--\r\n"
)


def check(cond, what):
    if not cond:
        sys.exit(f"imaplib client: {what}")


def main():
    with open(sys.argv[1], "rb") as f:
        imap = tomllib.load(f)["imap"]
    host, port = imap["address"].rsplit(":", 1)
    box = f"conform-imaplib-{int(time.time() * 1000)}"
    m = imaplib.IMAP4(host, int(port), timeout=10)
    try:
        # A profile with tls = "starttls" (the bundled server announces
        # LOGINDISABLED before TLS): upgrade before LOGIN, trusting ca_file.
        if imap.get("tls") == "starttls":
            context = ssl.create_default_context(cafile=imap.get("ca_file"))
            check(m.starttls(context)[0] == "OK", "STARTTLS failed")
        typ, _ = m.login(imap["user"], imap["password"])
        check(typ == "OK", "LOGIN failed")
        check(m.create(box)[0] == "OK", "CREATE failed")
        try:
            typ, _ = m.append(box, None, None, MESSAGE)
            check(typ == "OK", "APPEND failed")
            typ, data = m.select(box)
            check(typ == "OK" and data[0] == b"1", f"SELECT: {typ} {data}")
            typ, data = m.search(None, "SUBJECT", '"imaplib test"')
            check(typ == "OK" and data[0].split() == [b"1"], f"SEARCH: {data}")
            typ, data = m.fetch("1", "(BODY.PEEK[2])")
            check(typ == "OK" and data[0][1] == b"second part", f"FETCH BODY[2]: {data}")
            typ, data = m.store("1", "+FLAGS", "(\\Flagged)")
            check(typ == "OK", f"STORE: {typ} {data}")
            typ, data = m.fetch("1", "(FLAGS)")
            check(typ == "OK" and b"\\Flagged" in data[0], f"FLAGS after STORE: {data}")
            m.close()
        finally:
            m.delete(box)
        m.logout()
    except imaplib.IMAP4.error as e:
        sys.exit(f"imaplib client: {e}")
    print("imaplib client: ok")


main()
