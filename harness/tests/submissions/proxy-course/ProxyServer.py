# A caching web proxy as the course's lab asks (web cache, conditional GET):
# one thread per client; an absolute-form request is sent on to the origin
# in origin-form with its Host; the object goes back unchanged; a response
# that says how long it stays fresh (Cache-Control: max-age) is kept, a
# repeat within that time is answered from the copy, and a stale copy with
# a Last-Modified date is revalidated with If-Modified-Since.
# The tests make the faulty versions from this one (no cache, one client at
# a time, bodies handled as text).
import sys
import threading
import time
from socket import *

port = int(sys.argv[1]) if len(sys.argv) > 1 else 8888
cache = {}  # url -> {'head': bytes, 'body': bytes, 'stored': time, 'max_age': s, 'last_modified': str}
lock = threading.Lock()


def read_until_head(sock):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return None, b''
        data += chunk
        if len(data) > 65536:
            return None, b''
    head, rest = data.split(b'\r\n\r\n', 1)
    return head.decode('iso-8859-1'), rest


def fields_of(head):
    fields = {}
    for line in head.split('\r\n')[1:]:
        if ':' in line:
            name, value = line.split(':', 1)
            fields[name.strip().lower()] = value.strip()
    return fields


def read_exactly(sock, rest, n):
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest[:n]


def read_chunked(sock, rest):
    # Keeps the chunked framing as it came; stops after the last chunk.
    while not (rest.endswith(b'0\r\n\r\n') and (rest == b'0\r\n\r\n' or rest.endswith(b'\r\n0\r\n\r\n'))):
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return rest


def fetch(host, port, path, extra_fields):
    """Asks the origin; returns (head, fields, body as framed) or None."""
    origin = socket(AF_INET, SOCK_STREAM)
    origin.settimeout(30)
    try:
        origin.connect((host, port))
        request = 'GET %s HTTP/1.1\r\nHost: %s:%d\r\nConnection: close\r\n' % (path, host, port)
        for name, value in extra_fields:
            request += '%s: %s\r\n' % (name, value)
        origin.sendall((request + '\r\n').encode('iso-8859-1'))
        head, rest = read_until_head(origin)
        if head is None:
            return None
        fields = fields_of(head)
        status = head.split(' ')[1] if ' ' in head else ''
        if status == '304' or status.startswith('1') or status == '204':
            body = b''
        elif 'content-length' in fields:
            body = read_exactly(origin, rest, int(fields['content-length']))
        elif 'chunked' in fields.get('transfer-encoding', '').lower():
            body = read_chunked(origin, rest)
        else:
            while True:
                chunk = origin.recv(65536)
                if not chunk:
                    break
                rest += chunk
            body = rest
        return head, fields, body
    except OSError:
        return None
    finally:
        origin.close()


def max_age(fields):
    cc = fields.get('cache-control', '').lower()
    if 'no-store' in cc or 'private' in cc or 'no-cache' in cc:
        return None
    for part in cc.split(','):
        part = part.strip()
        if part.startswith('max-age='):
            try:
                return int(part[len('max-age='):])
            except ValueError:
                return None
    return None


def handle(url, host, port, path):
    with lock:
        copy = cache.get(url)
    if copy is not None:
        if time.time() - copy['stored'] < copy['max_age']:
            return copy['head'], copy['body']
        if copy['last_modified']:
            got = fetch(host, port, path, [('If-Modified-Since', copy['last_modified'])])
            if got is not None and got[0].split(' ')[1] == '304':
                age = max_age(got[1])
                copy['stored'] = time.time()
                copy['max_age'] = age if age is not None else 0
                return copy['head'], copy['body']
            if got is not None:
                return keep(url, got)
    got = fetch(host, port, path, [])
    if got is None:
        return None
    return keep(url, got)


def keep(url, got):
    head, fields, body = got
    age = max_age(fields)
    if head.split(' ')[1] == '200' and age is not None:
        with lock:
            cache[url] = {'head': head, 'body': body, 'stored': time.time(),
                          'max_age': age, 'last_modified': fields.get('last-modified')}
    return head, body


def serve(client):
    try:
        client.settimeout(30)
        head, _ = read_until_head(client)
        if head is None:
            return
        method, url, version = head.split('\r\n')[0].split(' ')
        if method != 'GET' or not url.startswith('http://'):
            client.sendall(b'HTTP/1.1 501 Not Implemented\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
            return
        authority, _, path = url[len('http://'):].partition('/')
        host, _, port_text = authority.partition(':')
        answer = handle(url, host, int(port_text or 80), '/' + path)
        if answer is None:
            client.sendall(b'HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
            return
        head, body = answer
        lines = [l for l in head.split('\r\n') if not l.lower().startswith('connection:')]
        client.sendall(('\r\n'.join(lines) + '\r\nConnection: close\r\n\r\n').encode('iso-8859-1') + body)
    except (OSError, ValueError):
        pass
    finally:
        client.close()


server = socket(AF_INET, SOCK_STREAM)
server.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
server.bind(('', port))
server.listen(16)
print('The proxy is ready to serve')
while True:
    conn, addr = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
