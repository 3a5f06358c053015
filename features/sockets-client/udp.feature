@sockets-client @udp @rfc768 @course-K-05 @timeout(30s)
Feature: UDP client (UDPClient.py)

  The course's UDP client (course notes §8, K-05): it reads a sentence with
  input(), sends it in one datagram with sendto() to the server's name and
  port, waits for the reply with recvfrom(2048), prints it and closes the
  socket. The harness's UDP peer plays UDPServer.py on a fresh loopback
  port in every scenario; the profile's `[sockets-client] udp` command gets
  the peer's {host} and {port}, and the sentence on standard input (or as
  {input}). The sentences are random where the scenario allows, so a
  program that prints a fixed text cannot pass.

  @MUST @points(2)
  Scenario: The input sentence goes to the server in one datagram
    Given a UDP peer that answers upper-cased
    When the UDP client under test runs with a random sentence
    Then the peer receives exactly the input in one datagram

  @MUST @points(2)
  Scenario: The client prints the server's reply
    Given a UDP peer that answers upper-cased
    When the UDP client under test runs with a random sentence
    Then the client under test prints the reply

  @MUST @points(1)
  Scenario: The client prints what the server answered, not its own upper-casing
    # A client that upper-cases the sentence itself passes the scenario
    # above; here the peer answers something else.
    Given a UDP peer that answers "reply 4711 from the peer"
    When the UDP client under test runs with the input "hello world"
    Then the client under test prints "reply 4711 from the peer"

  @MUST @points(1)
  Scenario: The client ends by itself after printing the reply
    Given a UDP peer that answers upper-cased
    When the UDP client under test runs with the input "hello world"
    Then the client under test ends by itself within 3 seconds
    And the client under test exits with status 0

  @MUST @points(1)
  Scenario: A reply that comes two seconds late is still waited for
    Given a UDP peer that answers upper-cased after 2 seconds
    When the UDP client under test runs with a random sentence
    Then the client under test prints the reply

  @MAY
  Scenario: A server that never answers: the client gives up by itself
    # UDP sends "independent packets of data ... without any guarantees about
    # delivery" (course notes K-02): a lost datagram is never answered. The
    # textbook's UDPClient.py waits in recvfrom() forever; a client with a
    # timeout (settimeout, as the Ping lab asks) ends by itself. The course
    # does not require it of this client: informational.
    Given a UDP peer that never answers
    When the UDP client under test runs with the input "hello world"
    Then the client under test ends by itself within 5 seconds
