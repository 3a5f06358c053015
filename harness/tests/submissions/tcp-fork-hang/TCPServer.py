# Faulty: forks a child for each client; the child replies and then hangs
# forever with the connection open, in a session of its own (so it is not in
# the program's process group). The parent closes its copy and goes on.
# With a second argument, every pid is appended to that file (for the tests).
import os
import sys
import time
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
pidfile = sys.argv[2] if len(sys.argv) > 2 else None

def note_pid():
    if pidfile:
        with open(pidfile, 'a') as f:
            f.write('%d\n' % os.getpid())

note_pid()
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('', serverPort))
serverSocket.listen(1)
print('The server is ready to receive')
while True:
    connectionSocket, addr = serverSocket.accept()
    if os.fork() == 0:
        os.setsid()
        note_pid()
        serverSocket.close()
        sentence = connectionSocket.recv(1024)
        connectionSocket.send(sentence.upper())
        while True:
            time.sleep(1000)
    connectionSocket.close()
