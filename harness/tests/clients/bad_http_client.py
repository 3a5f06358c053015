# An HTTP/1.1 client on a raw socket, correct unless told to break one rule
# the http-client suite checks:
#
#   python3 bad_http_client.py MODE URL
import socket
import sys
import urllib.parse

mode, url = sys.argv[1], urllib.parse.urlsplit(sys.argv[2])
target = sys.argv[2] if mode == 'absolute-form' else (url.path or '/')
eol = '\n' if mode == 'lf' else '\r\n'
head = 'GET %s HTTP/1.1%s' % (target, eol)
if mode != 'no-host':
    head += 'Host: %s:%d%s' % (url.hostname, url.port, eol)
head += 'Connection: close%s%s' % (eol, eol)
s = socket.create_connection((url.hostname, url.port), timeout=10)
s.sendall(head.encode())
data = b''
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
s.close()
headers, _, body = data.partition(b'\r\n\r\n')
fields = {l.split(b':', 1)[0].strip().lower(): l.split(b':', 1)[1].strip()
          for l in headers.split(b'\r\n')[1:] if b':' in l}
if fields.get(b'transfer-encoding', b'').lower() == b'chunked' and mode != 'raw':
    out, rest = b'', body
    while True:
        size, _, rest = rest.partition(b'\r\n')
        n = int(size.split(b';')[0], 16)
        if n == 0:
            break
        out, rest = out + rest[:n], rest[n + 2:]
    body = out
elif b'content-length' in fields:
    body = body[:int(fields[b'content-length'])]
sys.stdout.buffer.write(body)
