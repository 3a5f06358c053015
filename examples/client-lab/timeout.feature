@sockets-client @tcp @timeout(30s)
Feature: TCP client with a timeout (the lab's own scenarios)

  The lab's variant of TCPClient.py: it gives up when the server does not
  answer within 3 seconds (clientSocket.settimeout(3)) and prints
  "No reply from the server" instead of waiting forever. These scenarios
  are the instructor's own, next to the assignment file; they use the
  bundled steps of the sockets-client suite (`conform steps sockets-client`).

  @MUST @points(2)
  Scenario: A server that never answers: the client says so and ends
    Given a TCP peer that never answers
    When the TCP client under test runs with a random sentence
    Then the client under test ends by itself within 5 seconds
    And the client under test prints "No reply from the server"

  @MUST @points(1)
  Scenario: A reply within the timeout is printed, not the timeout message
    Given a TCP peer that answers upper-cased after 1 seconds
    When the TCP client under test runs with a random sentence
    Then the client under test prints the reply after "From Server:"
