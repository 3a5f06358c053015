# TCPClient.py that prints the reply and then keeps its connection open
# "for the next sentence": it never closes and never ends. Loses only the
# points for closing and ending.
import sys
import time
from socket import *

serverName = sys.argv[1]
serverPort = int(sys.argv[2])
clientSocket = socket(AF_INET, SOCK_STREAM)
clientSocket.connect((serverName, serverPort))
sentence = input('Input lowercase sentence:')
clientSocket.send(sentence.encode())
modifiedSentence = clientSocket.recv(1024)
print('From Server:', modifiedSentence.decode(), flush=True)
while True:
    time.sleep(1)   # the connection stays open
