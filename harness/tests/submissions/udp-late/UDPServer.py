# Right but slow: the course's program with a 3 s pause before each reply.
# Loses only the promptness point.
import sys
import time
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('', serverPort))
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    time.sleep(3)
    serverSocket.sendto(message.upper(), clientAddress)
