# An HTTP/1.1 client on a raw socket, correct unless told to break one rule
# the http-client suite checks:
#
#   python3 bad_http_client.py MODE URL [BODY]
#
# With BODY it POSTs it. Modes: correct, lf, no-host, absolute-form, raw
# (prints a chunked body undecoded), to-eof (reads the response until the
# server closes, ignoring Content-Length), post-no-length (no framing field),
# post-cl-and-te (Content-Length and chunked), post-short-cl (a
# Content-Length one short), one-read (takes what the first read after the
# head returned as the whole Content-Length body).
import socket
import sys
import urllib.parse

mode, url = sys.argv[1], urllib.parse.urlsplit(sys.argv[2])
body = sys.argv[3].encode() if len(sys.argv) > 3 else None
target = sys.argv[2] if mode == 'absolute-form' else (url.path or '/')
eol = '\n' if mode == 'lf' else '\r\n'
head = '%s %s HTTP/1.1%s' % ('GET' if body is None else 'POST', target, eol)
if mode != 'no-host':
    head += 'Host: %s:%d%s' % (url.hostname, url.port, eol)
data = b''
if body is not None:
    if mode == 'post-cl-and-te':
        head += 'Content-Length: %d%sTransfer-Encoding: chunked%s' % (len(body), eol, eol)
        data = b'%x\r\n%s\r\n0\r\n\r\n' % (len(body), body)
    elif mode == 'post-short-cl':
        head += 'Content-Length: %d%s' % (len(body) - 1, eol)
        data = body
    elif mode == 'post-no-length':
        data = body
    else:
        head += 'Content-Length: %d%s' % (len(body), eol)
        data = body
head += eol
s = socket.create_connection((url.hostname, url.port), timeout=10)
s.sendall(head.encode() + data)

buf = b''


def more():
    global buf
    chunk = s.recv(65536)
    if not chunk:
        return False
    buf += chunk
    return True


while b'\r\n\r\n' not in buf:
    if not more():
        break
headers, _, buf = buf.partition(b'\r\n\r\n')
fields = {l.split(b':', 1)[0].strip().lower(): l.split(b':', 1)[1].strip()
          for l in headers.split(b'\r\n')[1:] if b':' in l}
if mode == 'to-eof' or mode == 'raw':
    while more():
        pass
    out = buf
elif fields.get(b'transfer-encoding', b'').lower() == b'chunked':
    out = b''
    while True:
        while b'\r\n' not in buf:
            if not more():
                break
        size, _, buf = buf.partition(b'\r\n')
        n = int(size.split(b';')[0], 16)
        if n == 0:
            break
        while len(buf) < n + 2:
            if not more():
                break
        out, buf = out + buf[:n], buf[n + 2:]
elif b'content-length' in fields:
    n = int(fields[b'content-length'])
    if mode == 'one-read' and not buf:
        more()
    while len(buf) < n and mode != 'one-read':
        if not more():
            break
    out = buf[:n]
else:
    while more():
        pass
    out = buf
s.close()
sys.stdout.buffer.write(out)
