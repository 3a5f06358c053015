@sockets @tcp @rfc9293 @course-K-09 @one-write
Feature: TCP upper-casing server (TCPServer.py)

  The course's TCP server (course notes §8, K-09 and K-10): a welcoming socket
  on port 12000; for each client, accept, read one message with recv(1024),
  send it back upper-cased, close the connection socket (not the welcoming
  one), and accept the next client. Python's bytes.upper() changes only the
  ASCII letters a-z.

  The course's protocol has no framing: a message is what one recv(1024)
  returns, and the course's client sends it with one send. So every message
  here goes out in one write whatever `--perturb` says (@one-write: split
  and coalesce do not apply; slow-read does). A server that must cope with
  a message cut into pieces is checked by the line protocols' suites.

  The scenarios about something else than the letters (closing, the next client)
  accept the message back in any letter case, so that a server that gets the
  case wrong loses only the upper-casing scenarios.

  Background:
    Given a TCP connection to "${sockets.tcp}"

  @course-K-10 @MUST @points(2)
  Scenario: A lowercase sentence comes back upper-cased
    When the client sends the bytes "hello world"
    Then the client receives exactly "HELLO WORLD"

  @course-K-10 @MUST @points(1)
  Scenario: Only the letters a-z change; digits, punctuation and their ASCII neighbours stay
    # ` and { sit right next to a and z in ASCII, @ and [ next to A and Z:
    # an upper-casing done by arithmetic on byte ranges gets them wrong.
    When the client sends the bytes "`az{ @AZ[ 0123456789 !?.,;:-_~ Mixed\tTabs\\slash"
    Then the client receives exactly "`AZ{ @AZ[ 0123456789 !?.,;:-_~ MIXED\tTABS\\SLASH"

  @course-K-10 @MAY
  Scenario: Bytes above 0x7F come back unchanged
    # UTF-8 "café" and "naïve", plus bytes that are not UTF-8 at all. The
    # course asks only that the letters a-z be upper-cased: Python's
    # bytes.upper() leaves these bytes alone, while the Python 3 editions'
    # recv().decode() ... .upper().encode() turns é into É and raises on bytes
    # that are not UTF-8. Both are the course's program, so this is
    # informational and not graded.
    When the client sends the bytes "caf\xc3\xa9 na\xc3\xafve \xff\x80\xe9"
    Then the client receives exactly "CAF\xc3\xa9 NA\xc3\xafVE \xff\x80\xe9"

  @course-K-10 @MUST @points(1)
  Scenario: A line that ends in a newline keeps its newline
    When the client sends the bytes "line one\r\n"
    Then the client receives exactly "LINE ONE\r\n"

  @course-K-10 @MUST @points(2)
  Scenario: The server closes the connection after its reply
    When the client sends the bytes "close me"
    Then the client receives its message back in any letter case
    And the server closes the client's connection

  @course-K-08 @MUST @points(1)
  Scenario: A message of 1024 bytes, the course's receive buffer, comes back whole
    When the client sends 1024 bytes of "the quick brown fox jumps over the lazy dog. "
    Then the client receives the sent bytes upper-cased
    And the server closes the client's connection

  @course-K-10 @MUST @points(2)
  Scenario: The next client is served after the first one's connection is closed
    When the client sends the bytes "first client"
    Then the client receives its message back in any letter case
    And the server closes the client's connection
    Given a new TCP connection to "${sockets.tcp}"
    When the client sends the bytes "second client"
    Then the client receives its message back in any letter case
    And the server closes the client's connection

  @course-K-10 @MUST @points(2)
  Scenario: A client that connects while another is connected is served in turn
    # The course server is iterative (listen(1)): the second connection waits
    # in the backlog until the first is done, then gets its own reply.
    Given TCP client B connected to "${sockets.tcp}"
    When the client sends the bytes "from a"
    Then the client receives its message back in any letter case
    And the server closes the client's connection
    When client B sends the bytes "from b"
    Then client B receives its message back in any letter case
    And the server closes client B's connection

  @course-K-03 @MUST @points(1)
  Scenario: A message sent in one piece gets one reply with nothing after it
    When the client sends the bytes "just this"
    Then the client receives its message back in any letter case
    And the server closes the client's connection

  @course-K-10 @MUST @points(2)
  Scenario: A random sentence comes back upper-cased
    # A new sentence every run: a program that answers with a fixed text fails.
    When the client sends a random sentence
    Then the client receives the sent bytes upper-cased

  @course-K-10 @SHOULD @points(1)
  Scenario: The reply comes promptly
    # The course's server answers as soon as it has read the message. The
    # other scenarios wait for a late reply up to the step timeout (10 s when
    # graded), so a program that is right but slow loses only this point.
    When the client sends the bytes "hello world"
    Then the client receives its message back in any letter case
    And the reply to the client came within 1000 ms of the request

  @course-K-09 @MUST @points(1)
  Scenario: A client that sends nothing and closes its sending side sees the connection closed
    # recv returns b'' at end of file; TCPServer.py sends b''.upper() (no
    # bytes) and closes the connection socket.
    When the client closes its sending side
    Then the server closes the client's connection

  # Robustness, with the fuzzer's own strategies (as `conform fuzz sockets`):
  # 200 mutated messages drawn from one sentence (its case, words, line
  # endings, lengths around the 1024-byte receive buffer, control and
  # non-ASCII bytes, bit flips, insertions, truncations), the same 200 on
  # every run. Each must come back upper-cased, then a fresh client is served.
  @robustness @course-K-10 @MUST @points(2) @timeout(60s)
  Scenario: 200 mutated messages each come back upper-cased, and the server keeps serving
    When 200 mutations of "hello world" are sent to the sockets server over tcp
    Then every reply is well-formed
    And the sockets server still answers
