@sockets-client @tcp @rfc9293 @course-K-08 @timeout(30s)
Feature: TCP client (TCPClient.py)

  The course's TCP client (course notes §8, K-08): it connects to the
  server's name and port, reads a sentence with input(), sends it, reads
  the reply with recv(1024), prints "From Server:" and the reply, and
  closes the socket. The harness's TCP peer plays TCPServer.py (one message
  per connection, answered, then close) on a fresh loopback port in every
  scenario; the profile's `[sockets-client] tcp` command gets the peer's
  {host} and {port}, and the sentence on standard input (or as {input}).

  @MUST @points(2)
  Scenario: The client connects and sends exactly the input sentence
    Given a TCP peer that answers upper-cased
    When the TCP client under test runs with a random sentence
    Then the peer receives exactly the input on one connection

  @MUST @points(2)
  Scenario: The client prints the server's reply
    Given a TCP peer that answers upper-cased
    When the TCP client under test runs with a random sentence
    Then the client under test prints the reply

  @MUST @points(1)
  Scenario: The client prints the reply after "From Server:"
    # K-08: print('From Server:', modifiedSentence); the Python 3 edition
    # prints 'From Server: ' and the reply (two blanks): both are right.
    Given a TCP peer that answers upper-cased
    When the TCP client under test runs with a random sentence
    Then the client under test prints the reply after "From Server:"

  @MUST @points(1)
  Scenario: The client prints what the server answered, not its own upper-casing
    Given a TCP peer that answers "reply 4711 from the peer"
    When the TCP client under test runs with the input "hello world"
    Then the client under test prints "reply 4711 from the peer"

  @MUST @points(1)
  Scenario: The client closes its connection and ends
    # K-08: clientSocket.close() after the reply is printed.
    Given a TCP peer that answers upper-cased
    When the TCP client under test runs with the input "hello world"
    Then the client under test ends by itself within 3 seconds
    And the client under test closes its connection
    And the client under test exits with status 0

  @MUST @points(1)
  Scenario: A reply that comes two seconds late is still waited for
    Given a TCP peer that answers upper-cased after 2 seconds
    When the TCP client under test runs with a random sentence
    Then the client under test prints the reply

  @SHOULD @points(1)
  Scenario: A server that closes without answering: the client ends
    # RFC 9293 §3.6: after the peer's FIN the connection is closing; a
    # receive returns end of data ("connection closing"). The course's
    # recv(1024) then returns b'' and the client prints and closes; a client
    # that keeps waiting hangs.
    Given a TCP peer that closes without answering
    When the TCP client under test runs with the input "hello world"
    Then the client under test ends by itself within 3 seconds

  @MAY
  Scenario: A server that never answers: the client gives up by itself
    # The textbook's TCPClient.py waits in recv() forever; a client with a
    # timeout ends by itself. The course does not require it: informational.
    Given a TCP peer that never answers
    When the TCP client under test runs with the input "hello world"
    Then the client under test ends by itself within 5 seconds
