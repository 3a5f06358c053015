# Faulty: serves one client, then exits.
import sys
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('', serverPort))
serverSocket.listen(1)
print('The server is ready to receive')
connectionSocket, addr = serverSocket.accept()
sentence = connectionSocket.recv(1024)
connectionSocket.send(sentence.upper())
connectionSocket.close()
print('served one client, bye')
