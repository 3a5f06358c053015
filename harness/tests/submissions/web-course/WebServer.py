# A course web server (the socket-programming lab): serves the files below
# the folder given as its second argument, HTTP/1.1 with persistent
# connections.
#   python3 WebServer.py PORT WWW
import email.utils
import os
import sys
import threading
import time
from socket import socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR

PORT = int(sys.argv[1])
ROOT = os.path.realpath(sys.argv[2])
TYPES = {".html": "text/html", ".htm": "text/html", ".txt": "text/plain",
         ".gif": "image/gif", ".jpg": "image/jpeg", ".png": "image/png"}
TOKEN = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def respond(conn, status, headers, body, head):
    lines = ["HTTP/1.1 " + status, "Date: " + email.utils.formatdate(usegmt=True)]
    lines += [k + ": " + v for k, v in headers]
    lines.append("Content-Length: " + str(len(body)))
    data = ("\r\n".join(lines) + "\r\n\r\n").encode()
    if not head:
        data += body
    conn.sendall(data)


def handle(conn):
    buf = b""
    while True:
        while b"\r\n\r\n" not in buf:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buf += chunk
        head_bytes, buf = buf.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[0] or not set(parts[0]) <= TOKEN \
                or not parts[2].startswith("HTTP/") or len(parts[2]) != 8 \
                or not parts[2][5].isdigit() or parts[2][6] != "." or not parts[2][7].isdigit():
            respond(conn, "400 Bad Request", [("Connection", "close")], b"Bad Request", False)
            return
        method, target, version = parts
        if version[5] != "1":
            respond(conn, "505 HTTP Version Not Supported", [("Connection", "close")], b"", False)
            return
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        length = int(fields.get("content-length", "0") or 0)
        while len(buf) < length:
            chunk = conn.recv(4096)
            if not chunk:
                return
            buf += chunk
        buf = buf[length:]
        connection = fields.get("connection", "").lower()
        close = connection == "close" or (version == "HTTP/1.0" and connection != "keep-alive")
        extra = [("Connection", "close")] if close else []
        if method not in ("GET", "HEAD"):
            respond(conn, "501 Not Implemented", extra, b"", False)
        else:
            path = os.path.realpath(os.path.join(ROOT, target.split("?")[0].lstrip("/")))
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            if not path.startswith(ROOT) or not os.path.isfile(path):
                respond(conn, "404 Not Found", extra + [("Content-Type", "text/html")],
                        b"<h1>404 Not Found</h1>", method == "HEAD")
            else:
                mtime = int(os.path.getmtime(path))
                headers = extra + [("Last-Modified", email.utils.formatdate(mtime, usegmt=True))]
                since = fields.get("if-modified-since")
                try:
                    since = email.utils.parsedate_to_datetime(since).timestamp() if since else None
                except (TypeError, ValueError):
                    since = None
                if since is not None and mtime <= since:
                    conn.sendall(("HTTP/1.1 304 Not Modified\r\nDate: %s\r\n%s\r\n" % (
                        email.utils.formatdate(usegmt=True),
                        "".join(k + ": " + v + "\r\n" for k, v in headers))).encode())
                else:
                    kind = TYPES.get(os.path.splitext(path)[1].lower())
                    if kind:
                        headers.append(("Content-Type", kind))
                    with open(path, "rb") as f:
                        respond(conn, "200 OK", headers, f.read(), method == "HEAD")
        if close:
            return


def serve(conn):
    try:
        handle(conn)
    except OSError:
        pass
    finally:
        conn.close()


server = socket(AF_INET, SOCK_STREAM)
server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
server.bind(("", PORT))
server.listen(16)
while True:
    client, _ = server.accept()
    threading.Thread(target=serve, args=(client,), daemon=True).start()
