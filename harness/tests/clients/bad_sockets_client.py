# The course's UDP and TCP clients on one script, correct unless told to
# break one rule the sockets-client suite checks:
#
#   python3 bad_sockets_client.py udp|tcp MODE HOST PORT  (sentence on stdin)
import sys
import time
from socket import *

kind, mode, host, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sentence = input('Input lowercase sentence:')
if mode == 'crash':
    raise SystemExit('crashed on purpose')
if mode == 'never-connects':
    time.sleep(60)
data = sentence.encode()
if mode == 'newline':
    data += b'\n'
if mode == 'garbage':
    data = b'\x00\xff garbage \x01'
if kind == 'udp':
    s = socket(AF_INET, SOCK_DGRAM)
    s.sendto(data, (host, port))
    if mode == 'twice':
        s.sendto(data, (host, port))
    if mode == 'flood':
        for _ in range(10000):
            s.sendto(b'x' * 1000, (host, port))
    if mode == 'own-upper':
        print(sentence.upper())
    else:
        reply, _ = s.recvfrom(2048)
        print(reply.decode(errors='replace'))
    s.close()
else:
    s = socket(AF_INET, SOCK_STREAM)
    s.connect((host, port))
    s.send(data)
    if mode == 'flood':
        try:
            for _ in range(10000):
                s.send(b'x' * 10000)
        except OSError:
            pass
    if mode == 'own-upper':
        print('From Server:', sentence.upper())
    else:
        reply = s.recv(1024)
        if mode == 'no-label':
            print(reply.decode(errors='replace'))
        else:
            print('From Server:', reply.decode(errors='replace'))
    if mode == 'no-close':
        time.sleep(60)
    s.close()
if mode == 'hang':
    time.sleep(60)
