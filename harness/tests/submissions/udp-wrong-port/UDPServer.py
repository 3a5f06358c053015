# Faulty: ignores the port it is given. (It uses that port + 1 rather than
# 12000 so that the test does not depend on 12000 being free.)
import sys
from socket import *

serverPort = int(sys.argv[1]) + 1
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('', serverPort))
print("The server is ready to receive")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    serverSocket.sendto(message.upper(), clientAddress)
