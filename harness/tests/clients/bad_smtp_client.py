# A mail client on a raw socket, correct unless told to break one rule:
#
#   python3 bad_smtp_client.py MODE HOST PORT FROM TO < message
#
# MODE "correct" follows RFC 5321; every other mode breaks exactly one
# thing the smtp-client suite checks (see harness/tests/smtp_client.rs).
import re
import socket
import sys

mode, host, port, sender, rcpt = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
text = sys.stdin.buffer.read()
if mode == 'hard-coded':
    sender, rcpt = 'alice@crepes.fr', 'bob@example.test'

s = socket.create_connection((host, port), timeout=10)
f = s.makefile('rb')
EOL = b'\n' if mode == 'bare-lf' else b'\r\n'


def reply():
    """Reads one reply; returns its code (a multi-line one whole, unless
    the mode reads only its first line)."""
    while True:
        line = f.readline(4096)
        if not line:
            sys.exit('connection closed')
        if mode == 'first-line' or line[3:4] != b'-':
            return int(line[:3])


def cmd(c):
    s.sendall(c.encode() + EOL)
    return reply()


def quit_and_exit(status=0):
    if mode != 'no-quit':
        cmd('QUIT')
    s.close()
    sys.exit(status)


if mode != 'no-greeting-wait':
    reply()
    hello = 'EHLO client.example'
else:
    hello = 'EHLO client.example'
    s.sendall(hello.encode() + EOL)
    reply()  # the greeting
    hello = None
ehlo_ok = True
exts = b''
if mode == 'helo':
    cmd('HELO client.example')
elif hello:
    s.sendall(hello.encode() + EOL)
    lines = []
    while True:
        line = f.readline(4096)
        lines.append(line)
        if mode == 'first-line' or line[3:4] != b'-':
            break
    exts = b''.join(lines).upper()
    if not lines[0].startswith(b'250'):
        ehlo_ok = False
        if mode == 'no-fallback':
            quit_and_exit(1)
        cmd('HELO client.example')
eightbit = b'8BITMIME' in exts

if mode == 'pipeline':
    s.sendall(('MAIL FROM:<%s>\r\nRCPT TO:<%s>\r\nDATA\r\n' % (sender, rcpt)).encode())
    codes = [reply(), reply(), reply()]
    if codes[2] != 354:
        quit_and_exit(1)
else:
    frm = 'MAIL FROM:%s' % sender if mode == 'no-brackets' else 'MAIL FROM:<%s>' % sender
    if b'SIZE' in exts:
        # RFC 1870 §6: header, body and CRLFs, without the dots.
        size = len(re.sub(rb'\r?\n', b'\r\n', text))
        frm += ' SIZE=%d' % (size // 2 if mode == 'small-size' else size)
    code = cmd(frm)
    if code == 421 and mode != 'ignore-421':
        s.close()
        sys.exit(1)
    if code >= 400 and mode not in ('ignore-replies', 'ignore-421'):
        cmd('RSET')
        quit_and_exit(1)
    code = cmd('RCPT TO:<%s>' % rcpt)
    if code >= 400 and mode != 'ignore-replies':
        cmd('RSET')
        quit_and_exit(1)
    code = cmd('DATA')
    if code != 354 and mode not in ('ignore-replies', 'ignore-421'):
        quit_and_exit(1)

msg = text.replace(b'\r\n', b'\n')
if mode == 'drop-date':
    msg = re.sub(rb'(?m)^Date: .*\n', b'', msg, count=1)
if any(b > 127 for b in msg) and not eightbit and mode != 'eight-bit':
    cmd('RSET')
    quit_and_exit(1)
lines = msg.split(b'\n')
if lines and lines[-1] == b'':
    lines.pop()
data_eol = b'\n' if mode in ('bare-lf', 'data-bare-lf') else b'\r\n'
out = b''
for line in lines:
    if line.startswith(b'.') and mode != 'no-stuffing':
        line = b'.' + line
    out += line + data_eol
if mode == 'no-dot-end':
    s.sendall(out)
    s.close()
    sys.exit(0)
s.sendall(out + b'.' + data_eol)
reply()
quit_and_exit(0)
