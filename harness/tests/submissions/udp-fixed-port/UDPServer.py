# Faulty: replies to port 12000 on the sender's host instead of to the
# sender's own port.
import sys
from socket import *

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind(('', serverPort))
print("The server is ready to receive")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    serverSocket.sendto(message.upper(), (clientAddress[0], 12000))
