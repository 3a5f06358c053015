# Faulty: takes a minute over each reply, far past the grader's
# deadline for a reply.
import sys
import time
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('', serverPort))
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    time.sleep(60)
    serverSocket.sendto(message.upper(), clientAddress)
