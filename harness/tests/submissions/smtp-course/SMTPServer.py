# SMTPServer.py - a small SMTP server (RFC 5321), the course's mail server lab.
#
#   python3 SMTPServer.py PORT MAILDIR
#
# Accepts mail for the users of example.test (one folder per user in
# MAILDIR, e.g. MAILDIR/bob) and stores each message in the user's
# Maildir: written to MAILDIR/<user>/Maildir/tmp/, then moved to new/.
import os
import socketserver
import sys
import threading
import time
from email.utils import formatdate

DOMAIN = "example.test"
HOSTNAME = "mail.example.test"
MAX_LINE = 1000 + 2          # RFC 5321 4.5.3.1.6: a text line is at most 1000 octets
MAX_MESSAGE = 1024 * 1024

maildir = sys.argv[2]
counter = 0
lock = threading.Lock()


def mailbox_of(address):
    """The local user for an address of our domain, or None."""
    address = address.strip()
    if not (address.startswith("<") and address.endswith(">")):
        return None
    address = address[1:-1]
    if address.lower() == "postmaster":
        return "postmaster"
    if "@" not in address:
        return None
    user, domain = address.rsplit("@", 1)
    if domain.lower() != DOMAIN:
        return None
    if user.lower() == "postmaster":
        return "postmaster"
    if os.path.isdir(os.path.join(maildir, user)):
        return user
    return None


def deliver(user, message, helo, peer):
    global counter
    box = os.path.join(maildir, user, "Maildir")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(box, sub), exist_ok=True)
    with lock:
        counter += 1
        name = "%d.P%dQ%d.%s" % (time.time(), os.getpid(), counter, HOSTNAME)
    received = "Received: from %s ([%s])\r\n\tby %s; %s\r\n" % (
        helo, peer, HOSTNAME, formatdate(localtime=True))
    tmp = os.path.join(box, "tmp", name)
    with open(tmp, "wb") as f:
        f.write(received.encode() + message)
    os.rename(tmp, os.path.join(box, "new", name))


class SMTPHandler(socketserver.StreamRequestHandler):
    timeout = 300   # RFC 5321 4.5.3.2.7: 5 minutes for the next command

    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def reset(self):
        self.sender = None
        self.recipients = []

    def handle(self):
        self.helo = None
        self.reset()
        self.reply("220 %s ESMTP ready" % HOSTNAME)
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "HELO" or verb == "EHLO":
                if not arg:
                    self.reply("501 Syntax: %s hostname" % verb)
                    continue
                self.helo = arg
                self.reset()
                if verb == "HELO":
                    self.reply("250 %s" % HOSTNAME)
                else:
                    self.reply("250-%s greets %s" % (HOSTNAME, arg))
                    self.reply("250 HELP")
            elif verb == "MAIL":
                if self.helo is None:
                    self.reply("503 Send HELO or EHLO first")
                elif self.sender is not None:
                    self.reply("503 Nested MAIL command")
                elif not arg.upper().startswith("FROM:"):
                    self.reply("501 Syntax: MAIL FROM:<address>")
                else:
                    path = arg[5:].strip()
                    if not (path.startswith("<") and path.endswith(">")):
                        self.reply("501 Syntax: MAIL FROM:<address>")
                    else:
                        self.sender = path
                        self.reply("250 OK")
            elif verb == "RCPT":
                if self.sender is None:
                    self.reply("503 Need MAIL before RCPT")
                elif not arg.upper().startswith("TO:"):
                    self.reply("501 Syntax: RCPT TO:<address>")
                else:
                    user = mailbox_of(arg[3:])
                    if user is None:
                        self.reply("550 No such user here")
                    else:
                        self.recipients.append(user)
                        self.reply("250 OK")
            elif verb == "DATA":
                if self.sender is None or not self.recipients:
                    self.reply("503 Need MAIL and RCPT before DATA")
                    continue
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                message = self.read_message()
                if message is None:
                    return          # connection lost: deliver nothing
                for user in self.recipients:
                    deliver(user, message, self.helo, self.client_address[0])
                self.reset()
                self.reply("250 OK: message accepted")
            elif verb == "RSET":
                self.reset()
                self.reply("250 OK")
            elif verb == "NOOP":
                self.reply("250 OK")
            elif verb == "VRFY":
                self.reply("252 Cannot VRFY user, but will accept message")
            elif verb == "HELP":
                self.reply("214 Commands: HELO EHLO MAIL RCPT DATA RSET NOOP QUIT")
            elif verb == "QUIT":
                self.reply("221 %s closing connection" % HOSTNAME)
                return
            else:
                self.reply("500 Command not recognized")

    def read_message(self):
        """The message up to the line holding only ".", dot-unstuffed."""
        lines = []
        size = 0
        while True:
            line = self.rfile.readline(MAX_LINE)
            if not line:
                return None
            if line == b".\r\n":
                return b"".join(lines)
            if line.startswith(b"."):
                line = line[1:]     # RFC 5321 4.5.2: remove the transparency dot
            size += len(line)
            if size <= MAX_MESSAGE:
                lines.append(line)


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    port = int(sys.argv[1])
    with Server(("127.0.0.1", port), SMTPHandler) as server:
        print("SMTP server on port %d, mail in %s" % (port, maildir))
        server.serve_forever()
