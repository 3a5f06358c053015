# POP3Server.py - a small POP3 server (RFC 1939), the course's mail access lab.
#
#   python3 POP3Server.py PORT MAILDIR
#
# One user, bob (password hungry), whose maildrop is the Maildir
# MAILDIR/bob/Maildir: every file in its new/ and cur/ is a message. The
# messages are numbered when the user logs in; DELE marks a message.
import os
import socketserver
import sys

USERS = {"bob": "hungry"}
MAILDIR = sys.argv[2]


def load_maildrop(user):
    """The user's messages, oldest first: a list of (path, bytes with CRLF)."""
    box = os.path.join(MAILDIR, user, "Maildir")
    paths = []
    for sub in ("cur", "new"):
        folder = os.path.join(box, sub)
        if os.path.isdir(folder):
            paths += [os.path.join(folder, name) for name in os.listdir(folder)]
    paths.sort(key=os.path.basename)
    messages = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
        if not data.endswith(b"\r\n"):
            data += b"\r\n"
        messages.append((path, data))
    return messages


class POP3Handler(socketserver.StreamRequestHandler):
    timeout = 600   # RFC 1939 section 3: at least 10 minutes

    def ok(self, text=""):
        self.wfile.write(("+OK %s\r\n" % text).encode())

    def err(self, text):
        self.wfile.write(("-ERR %s\r\n" % text).encode())

    def multiline(self, data):
        """Sends data as multi-line lines, byte-stuffed, ended by "."."""
        out = []
        for line in data.split(b"\r\n")[:-1]:
            if line.startswith(b"."):
                line = b"." + line     # RFC 1939 section 3: byte-stuffing
            out.append(line + b"\r\n")
        self.wfile.write(b"".join(out) + b".\r\n")

    def message(self, arg):
        """The message numbered arg that is not deleted, or None."""
        if not arg.isdigit():
            return None
        n = int(arg)
        if 1 <= n <= len(self.messages) and n not in self.deleted:
            return n
        return None

    def handle(self):
        self.user, self.messages, self.deleted = None, None, set()
        self.ok("POP3 server ready")
        while True:
            line = self.rfile.readline(1024)
            if not line:
                return                 # no QUIT: nothing is deleted
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                self.quit()
                return
            if self.messages is None:
                self.authorization(verb, arg)
            else:
                self.transaction(verb, arg.strip())

    def authorization(self, verb, arg):
        if verb == "USER":
            self.user = arg
            self.ok("send PASS")
        elif verb == "PASS":
            if self.user is None:
                self.err("send USER first")
            elif USERS.get(self.user) == arg:
                self.messages = load_maildrop(self.user)
                self.ok("maildrop has %d messages" % len(self.messages))
            else:
                self.user = None
                self.err("invalid user name or password")
        elif verb == "CAPA":
            self.ok("Capability list follows")
            self.multiline(b"USER\r\nTOP\r\nUIDL\r\n")
        else:
            self.err("log in with USER and PASS first")

    def transaction(self, verb, arg):
        live = [n for n in range(1, len(self.messages) + 1) if n not in self.deleted]
        if verb == "STAT":
            size = sum(len(self.messages[n - 1][1]) for n in live)
            self.ok("%d %d" % (len(live), size))
        elif verb == "LIST" and not arg:
            self.ok("%d messages" % len(live))
            listing = "".join("%d %d\r\n" % (n, len(self.messages[n - 1][1])) for n in live)
            self.multiline(listing.encode())
        elif verb in ("LIST", "RETR", "DELE", "TOP", "UIDL") and arg:
            parts = arg.split()
            n = self.message(parts[0])
            if n is None:
                self.err("no such message")
            elif verb == "LIST":
                self.ok("%d %d" % (n, len(self.messages[n - 1][1])))
            elif verb == "RETR":
                data = self.messages[n - 1][1]
                self.ok("%d octets" % len(data))
                self.multiline(data)
            elif verb == "DELE":
                self.deleted.add(n)
                self.ok("message %d deleted" % n)
            elif verb == "UIDL":
                self.ok("%d %s" % (n, self.uid(n)))
            elif len(parts) == 2 and parts[1].isdigit():
                header, _, body = self.messages[n - 1][1].partition(b"\r\n\r\n")
                lines = body.split(b"\r\n")[:-1][:int(parts[1])]
                self.ok("top of message follows")
                self.multiline(header + b"\r\n\r\n" + b"".join(l + b"\r\n" for l in lines))
            else:
                self.err("usage: TOP msg n")
        elif verb == "UIDL":
            self.ok("unique-id listing follows")
            self.multiline("".join("%d %s\r\n" % (n, self.uid(n)) for n in live).encode())
        elif verb == "NOOP":
            self.ok()
        elif verb == "RSET":
            self.deleted = set()
            self.ok("maildrop has %d messages" % len(self.messages))
        elif verb == "CAPA":
            self.ok("Capability list follows")
            self.multiline(b"USER\r\nTOP\r\nUIDL\r\n")
        else:
            self.err("unknown command or wrong arguments")

    def uid(self, n):
        """The file name up to the Maildir flags: stays the same across sessions."""
        return os.path.basename(self.messages[n - 1][0]).split(":")[0]

    def quit(self):
        self.ok("goodbye")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    port = int(sys.argv[1])
    with Server(("127.0.0.1", port), POP3Handler) as server:
        print("POP3 server on port %d, maildrops in %s" % (port, MAILDIR))
        server.serve_forever()
