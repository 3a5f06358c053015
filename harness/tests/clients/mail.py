"""Python's own SMTP and POP3 clients against a conform target profile.

Usage: python3 mail.py PROFILE.toml

smtplib delivers a message (with lines that start with ".") to
[smtp] recipient; poplib logs in as [pop3] user, finds it, checks that it
arrived byte for byte behind the server's trace fields, and deletes it, so
the mailbox ends as it started. Prints one line per check; exit 0 when all
hold.
"""

import poplib
import smtplib
import sys
import tomllib
import uuid


def host_port(address):
    host, port = address.rsplit(":", 1)
    return host.strip("[]"), int(port)


def main(path):
    with open(path, "rb") as f:
        profile = tomllib.load(f)
    smtp, pop3 = profile["smtp"], profile["pop3"]
    marker = f"python-{uuid.uuid4().hex}"
    body = (
        f"X-Conform-Id: {marker}\r\n"
        "From: alice@crepes.fr\r\n"
        f"To: {smtp['recipient']}\r\n"
        "Subject: Sent with smtplib\r\n"
        "Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n"
        f"Message-ID: <{marker}@crepes.fr>\r\n"
        "\r\n"
        ".A line that starts with a dot\r\n"
        ".\r\n"
        "Last line.\r\n"
    ).encode()

    with smtplib.SMTP(*host_port(smtp["address"]), timeout=10) as s:
        code, _ = s.ehlo("client.example")
        assert code == 250, f"EHLO got {code}"
        refused = s.sendmail("alice@crepes.fr", [smtp["recipient"]], body)
        assert not refused, f"refused: {refused}"
        print("smtplib: delivered")

    p = poplib.POP3(*host_port(pop3["address"]), timeout=10)
    try:
        p.user(pop3["user"])
        p.pass_(pop3["password"])
        count, _ = p.stat()
        found = None
        for n in range(count, 0, -1):
            _, lines, _ = p.top(n, 0)
            if f"X-Conform-Id: {marker}".encode() in lines:
                found = n
                break
        assert found, "poplib: the message is not in the maildrop"
        _, lines, _ = p.retr(found)
        got = b"\r\n".join(lines) + b"\r\n"
        assert got.endswith(body), f"poplib: message differs:\n{got!r}\nvs\n{body!r}"
        print(f"poplib: retrieved message {found} byte for byte")
        _, listing, _ = p.uidl()
        assert len(listing) == count, "UIDL lists every message"
        p.dele(found)
        p.quit()
        print("poplib: deleted it")
    except Exception:
        p.close()
        raise

    p = poplib.POP3(*host_port(pop3["address"]), timeout=10)
    p.user(pop3["user"])
    p.pass_(pop3["password"])
    after, _ = p.stat()
    p.quit()
    assert after == count - 1, f"poplib: {after} messages after QUIT, expected {count - 1}"
    print("poplib: mailbox as it was")


if __name__ == "__main__":
    main(sys.argv[1])
