@sockets @udp @rfc768 @course-K-06
Feature: UDP upper-casing server (UDPServer.py)

  The course's UDP server (course notes §8, K-05 and K-06): it loops forever on
  recvfrom(2048) and answers each datagram with exactly one datagram, the
  payload upper-cased, sent with sendto() to the datagram's source address and
  port. RFC 768: the source port is "the port to which a reply should be
  addressed in the absence of any other information".

  The scenarios about something else than the letters (where the reply goes, how
  many come, the server staying up) accept the datagram back in any letter
  case, so that a server that gets the case wrong loses only the upper-casing
  scenarios.

  Background:
    Given a UDP client socket for "${sockets.udp}"

  @MUST @points(2)
  Scenario: A lowercase sentence comes back upper-cased
    When the client sends the datagram "hello world"
    Then the client receives the datagram "HELLO WORLD"

  @course-K-05 @MUST @points(2)
  Scenario: The reply is sent to the client's own address and port
    # The client socket has an ephemeral port; the reply must reach it (a
    # server that answers a fixed port never does).
    When the client sends the datagram "where am i"
    Then the client receives its datagram back in any letter case

  @course-K-05 @SHOULD @points(1)
  Scenario: The reply comes from the address and port the client sent to
    When the client sends the datagram "who answers"
    Then the client receives its datagram back in any letter case
    And the reply to the client came from the server's address

  @MUST @points(2)
  Scenario: Each datagram gets exactly one reply
    When the client sends the datagram "once"
    Then the client receives its datagram back in any letter case
    And no further datagram arrives at the client within 300 ms

  @MUST @points(1)
  Scenario: Only the letters a-z change; digits, punctuation and their ASCII neighbours stay
    When the client sends the datagram "`az{ @AZ[ 0123456789 !?.,;:-_~ Mixed\tTabs\\slash"
    Then the client receives the datagram "`AZ{ @AZ[ 0123456789 !?.,;:-_~ MIXED\tTABS\\SLASH"

  @MAY
  Scenario: Bytes above 0x7F come back unchanged
    # The course asks only that the letters a-z be upper-cased: Python's
    # bytes.upper() leaves these bytes alone, while the Python 3 editions'
    # message.decode().upper().encode() turns é into É and raises on bytes
    # that are not UTF-8. Both are the course's program, so this is
    # informational and not graded.
    When the client sends the datagram "caf\xc3\xa9 na\xc3\xafve \xff\x80\xe9"
    Then the client receives the datagram "CAF\xc3\xa9 NA\xc3\xafVE \xff\x80\xe9"

  @MUST @points(1)
  Scenario: An empty datagram gets an empty reply
    # recvfrom returns b'' and sendto(b''.upper(), addr) sends a datagram with
    # no payload: one reply, zero bytes.
    When the client sends the datagram ""
    Then the client receives the datagram ""
    And no further datagram arrives at the client within 300 ms

  @MUST @points(1)
  Scenario: A datagram of 2048 bytes, the course's receive buffer, comes back whole
    When the client sends a datagram of 2048 bytes of "the quick brown fox jumps over the lazy dog. "
    Then the client receives the sent datagram upper-cased

  @MUST @points(2)
  Scenario: Several datagrams from one socket each get their reply
    When the client sends the datagram "one"
    And the client sends the datagram "two"
    And the client sends the datagram "three"
    Then the client receives these datagrams in any order and any letter case: "ONE", "TWO", "THREE"
    And no further datagram arrives at the client within 300 ms

  @course-K-06 @MUST @points(2)
  Scenario: Interleaved datagrams from two clients each go back to their sender
    Given UDP client B for "${sockets.udp}"
    When the client sends the datagram "from a"
    And client B sends the datagram "from b"
    Then client B receives its datagram back in any letter case
    And the client receives its datagram back in any letter case
    And no further datagram arrives at client B within 300 ms

  @course-K-06 @MUST @points(1)
  Scenario: The server keeps running after serving a client
    When the client sends the datagram "first"
    Then the client receives its datagram back in any letter case
    Given a new UDP client socket for "${sockets.udp}"
    When the client sends the datagram "second"
    Then the client receives its datagram back in any letter case

  @MUST @points(2)
  Scenario: A random sentence comes back upper-cased
    # A new sentence every run: a program that answers with a fixed text fails.
    When the client sends a random sentence in a datagram
    Then the client receives the sent datagram upper-cased

  @SHOULD @points(1)
  Scenario: The reply comes promptly
    # The course's server answers as soon as a datagram arrives. The other
    # scenarios wait for a late reply up to the step timeout (10 s when
    # graded), so a program that is right but slow loses only this point.
    When the client sends the datagram "hello world"
    Then the client receives its datagram back in any letter case
    And the reply to the client came within 1000 ms of the request

  # Robustness, with the fuzzer's own strategies (as `conform fuzz sockets`):
  # 200 sessions of mutated datagrams drawn from one sentence (lengths around
  # the 2048-byte receive buffer, control and non-ASCII bytes, bit flips…),
  # the same on every run. Each datagram gets exactly its upper-cased reply,
  # then a fresh client is served.
  @robustness @course-K-10 @MUST @points(2) @timeout(60s)
  Scenario: 200 sessions of mutated datagrams each come back upper-cased, and the server keeps serving
    When 200 mutations of "caf\xc3\xa9 au lait" are sent to the sockets server over udp
    Then every reply is well-formed
    And the sockets server still answers
