# The SMTP lab's mail client that closes the connection after the message
# without QUIT (it does QUIT when a command is refused). Loses only the QUIT
# point.
import sys
from socket import *

mailserver = (sys.argv[1], int(sys.argv[2]))
sender, recipient = sys.argv[3], sys.argv[4]
msg = sys.stdin.read()

clientSocket = socket(AF_INET, SOCK_STREAM)
clientSocket.connect(mailserver)
inbox = clientSocket.makefile('rb')


def reply():
    # A reply may have several lines: "250-..." until "250 ...".
    while True:
        line = inbox.readline().decode(errors='replace')
        print(line.rstrip())
        if len(line) < 4 or line[3] != '-':
            return line[:3]


def command(text, want):
    clientSocket.send((text + '\r\n').encode())
    code = reply()
    if code != want:
        print(want + ' reply not received from server.')
        if code != '421':
            clientSocket.send('QUIT\r\n'.encode())
            reply()
        clientSocket.close()
        sys.exit(1)


if reply() != '220':
    print('220 reply not received from server.')
    sys.exit(1)
command('HELO alice', '250')
command('MAIL FROM:<' + sender + '>', '250')
command('RCPT TO:<' + recipient + '>', '250')
command('DATA', '354')
# CRLF line ends, and a leading "." doubled (RFC 5321 §4.5.2).
lines = msg.replace('\r\n', '\n').split('\n')
if lines and lines[-1] == '':
    lines.pop()
body = ''.join(('.' + l if l.startswith('.') else l) + '\r\n' for l in lines)
clientSocket.send(body.encode())
command('.', '250')
clientSocket.close()
