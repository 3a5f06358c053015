# FTPServer.py - a small FTP server (RFC 959), the course's file transfer lab.
#
#   python3 FTPServer.py PORT ROOT
#
# One user, bob (password hungry), whose home is ROOT: the client sees it as
# "/" and cannot leave it. Transfers use a separate data connection, opened
# by the server (PORT, active mode).
import os
import posixpath
import socket
import socketserver
import subprocess
import sys

USER, PASSWORD = "bob", "hungry"
ROOT = os.path.abspath(sys.argv[2])


class FTPHandler(socketserver.StreamRequestHandler):
    timeout = 300

    def reply(self, text):
        self.wfile.write((text + "\r\n").encode())

    def real(self, path):
        """The file system path of a client path, never above ROOT."""
        virtual = posixpath.normpath(posixpath.join(self.cwd, path or "."))
        return os.path.join(ROOT, virtual.lstrip("/")), virtual

    def handle(self):
        self.user, self.logged_in, self.cwd = None, False, "/"
        self.binary = False
        self.port_addr, self.pasv_sock = None, None
        self.reply("220 Welcome to the course FTP server")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            line = line.decode("utf-8", "replace").rstrip("\r\n")
            verb, _, arg = line.partition(" ")
            verb = verb.upper()
            if verb == "QUIT":
                self.reply("221 Goodbye")
                return
            try:
                self.command(verb, arg)
            except OSError as e:
                self.reply("451 Local error: %s" % e.strerror)

    def command(self, verb, arg):
        if verb == "USER":
            self.user, self.logged_in = arg, False
            self.reply("331 User name okay, need password")
        elif verb == "PASS":
            if self.user is None:
                self.reply("503 Login with USER first")
            elif self.user == USER and arg == PASSWORD:
                self.logged_in = True
                self.reply("230 User logged in")
            else:
                self.user = None
                self.reply("530 Not logged in")
        elif verb == "NOOP":
            self.reply("200 OK")
        elif verb == "SYST":
            self.reply("215 UNIX Type: L8")
        elif not self.logged_in:
            self.reply("530 Please log in with USER and PASS")
        elif verb in ("PWD", "XPWD"):
            self.reply('257 "%s" is the current directory' % self.cwd.replace('"', '""'))
        elif verb in ("CWD", "CDUP"):
            path, virtual = self.real(".." if verb == "CDUP" else arg)
            if os.path.isdir(path):
                self.cwd = virtual
                self.reply("250 Directory changed to %s" % virtual)
            else:
                self.reply("550 No such directory")
        elif verb == "TYPE":
            kind = arg.upper().split()
            if kind and kind[0] in ("A", "I", "L"):
                self.binary = kind[0] != "A"
                self.reply("200 Type set to %s" % arg)
            else:
                self.reply("504 Type not implemented")
        elif verb == "PORT":
            parts = arg.split(",")
            if len(parts) != 6:
                self.reply("501 Syntax: PORT h1,h2,h3,h4,p1,p2")
                return
            self.close_pasv()
            self.port_addr = (".".join(parts[:4]), int(parts[4]) * 256 + int(parts[5]))
            self.reply("200 PORT command successful")
        elif verb in ("LIST", "NLST"):
            path, _ = self.real(arg if not arg.startswith("-") else "")
            if not os.path.exists(path):
                self.reply("550 No such file or directory")
                return
            if verb == "NLST":
                names = sorted(os.listdir(path)) if os.path.isdir(path) else [arg]
                text = "".join(n + "\r\n" for n in names)
            else:
                out = subprocess.run(["ls", "-l", path], capture_output=True).stdout
                text = out.decode().replace("\n", "\r\n")
            self.transfer(text.encode())
        elif verb == "RETR":
            path, _ = self.real(arg)
            if not os.path.isfile(path):
                self.reply("550 No such file")
                return
            with open(path, "rb") as f:
                data = f.read()
            if not self.binary:
                data = data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
            self.transfer(data)
        elif verb in ("STOR", "APPE"):
            path, _ = self.real(arg)
            data = self.transfer(None)
            if data is not None:
                if not self.binary:
                    data = data.replace(b"\r\n", b"\n")
                with open(path, "ab" if verb == "APPE" else "wb") as f:
                    f.write(data)
                self.reply("226 Transfer complete")
        elif verb == "DELE":
            path, _ = self.real(arg)
            if os.path.isfile(path):
                os.remove(path)
                self.reply("250 File deleted")
            else:
                self.reply("550 No such file")
        elif verb == "MKD":
            path, virtual = self.real(arg)
            os.mkdir(path)
            self.reply('257 "%s" created' % virtual.replace('"', '""'))
        elif verb == "RMD":
            path, _ = self.real(arg)
            os.rmdir(path)
            self.reply("250 Directory removed")
        else:
            self.reply("502 Command not implemented")

    def close_pasv(self):
        if self.pasv_sock:
            self.pasv_sock.close()
        self.pasv_sock, self.port_addr = None, None

    def data_connection(self):
        """The data connection PORT or PASV prepared, or None."""
        try:
            if self.pasv_sock:
                conn, _ = self.pasv_sock.accept()
                return conn
            if self.port_addr:
                return socket.create_connection(self.port_addr, timeout=10)
        except OSError:
            pass
        return None

    def transfer(self, data):
        """Sends data (a download) or receives it (data None: an upload)."""
        if not (self.pasv_sock or self.port_addr):
            self.reply("425 Use PORT or PASV first")
            return None
        self.reply("150 Opening %s mode data connection" % ("BINARY" if self.binary else "ASCII"))
        conn = self.data_connection()
        self.close_pasv()
        if conn is None:
            self.reply("425 Can't open data connection")
            return None
        with conn:
            if data is not None:
                conn.sendall(data)
            else:
                chunks = []
                while True:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                return b"".join(chunks)
        self.reply("226 Transfer complete")
        return data


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


if __name__ == "__main__":
    port = int(sys.argv[1])
    with Server(("127.0.0.1", port), FTPHandler) as server:
        print("FTP server on port %d serving %s" % (port, ROOT))
        server.serve_forever()
