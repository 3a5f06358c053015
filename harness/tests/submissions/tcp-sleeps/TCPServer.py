# Faulty: takes a minute before it opens its port.
import sys
import time
from socket import *

time.sleep(60)
serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('', serverPort))
serverSocket.listen(1)
while True:
    connectionSocket, addr = serverSocket.accept()
    connectionSocket.send(connectionSocket.recv(1024).upper())
    connectionSocket.close()
