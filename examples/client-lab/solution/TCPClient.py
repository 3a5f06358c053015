# The lab's solution: the course's TCPClient.py (course notes §8, K-08) with
# the server's name and port from the command line and a 3-second timeout.
import sys
from socket import *

serverName = sys.argv[1]
serverPort = int(sys.argv[2])
clientSocket = socket(AF_INET, SOCK_STREAM)
clientSocket.settimeout(3)
clientSocket.connect((serverName, serverPort))
sentence = input('Input lowercase sentence:')
clientSocket.send(sentence.encode())
try:
    modifiedSentence = clientSocket.recv(1024)
    print('From Server:', modifiedSentence.decode())
except timeout:
    print('No reply from the server')
clientSocket.close()
