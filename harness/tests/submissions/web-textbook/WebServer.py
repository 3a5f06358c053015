# The classic socket-programming lab's web server, as most students first
# write it: one recv() of the request, the file sent after a bare status
# line, no header fields, the connection closed after each response.
#   python3 WebServer.py PORT WWW
import os
import sys
from socket import socket, AF_INET, SOCK_STREAM, SOL_SOCKET, SO_REUSEADDR

serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
serverSocket.bind(("", int(sys.argv[1])))
serverSocket.listen(1)
os.chdir(sys.argv[2])
while True:
    connectionSocket, addr = serverSocket.accept()
    try:
        message = connectionSocket.recv(1024).decode()
        filename = message.split()[1]
        f = open(filename[1:], "rb")
        outputdata = f.read()
        f.close()
        connectionSocket.send("HTTP/1.1 200 OK\r\n\r\n".encode())
        connectionSocket.send(outputdata)
    except (IOError, IndexError):
        connectionSocket.send("HTTP/1.1 404 Not Found\r\n\r\n".encode())
    connectionSocket.close()
