# Right but slow: the course's program with a 3 s pause before each reply.
# Loses only the promptness point.
import sys
import time
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('', serverPort))
serverSocket.listen(1)
while True:
    connectionSocket, addr = serverSocket.accept()
    sentence = connectionSocket.recv(1024)
    time.sleep(3)
    connectionSocket.send(sentence.upper())
    connectionSocket.close()
