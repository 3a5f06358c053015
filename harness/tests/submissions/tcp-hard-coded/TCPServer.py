# Faulty: answers from a table of the test sentences it has seen instead of
# upper-casing (anything else is echoed unchanged). Only a randomised
# sentence shows it.
import sys
from socket import *

KNOWN = {
    b"hello world": b"HELLO WORLD",
    b"`az{ @AZ[ 0123456789 !?.,;:-_~ Mixed\tTabs\\slash": b"`AZ{ @AZ[ 0123456789 !?.,;:-_~ MIXED\tTABS\\SLASH",
    b"caf\xc3\xa9 na\xc3\xafve \xff\x80\xe9": b"CAF\xc3\xa9 NA\xc3\xafVE \xff\x80\xe9",
    b"line one\r\n": b"LINE ONE\r\n",
    b"close me": b"CLOSE ME",
    b"first client": b"FIRST CLIENT",
    b"second client": b"SECOND CLIENT",
    b"from a": b"FROM A",
    b"from b": b"FROM B",
    b"just this": b"JUST THIS",
}
FOX = b"the quick brown fox jumps over the lazy dog. "

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 12000
serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.bind(('', serverPort))
serverSocket.listen(1)
while True:
    connectionSocket, addr = serverSocket.accept()
    sentence = connectionSocket.recv(1024)
    if sentence in KNOWN:
        reply = KNOWN[sentence]
    elif sentence.startswith(FOX):
        reply = (FOX.upper() * 30)[:len(sentence)]
    else:
        reply = sentence
    connectionSocket.send(reply)
    connectionSocket.close()
