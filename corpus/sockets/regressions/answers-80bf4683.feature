# Against a student TCPServer.py that closes without replying when a sentence exceeds 100 bytes.
# Reproduces a finding of `conform fuzz sockets --seed 5` (case file answers-80bf4683.case).
# Run it with: conform run sockets --features corpus/sockets/regressions --target PROFILE
@sockets @tcp @rfc9293
Feature: fuzz regression answers-80bf4683

  @MUST
  Scenario: the server closed the connection without replying (answers)
    Given a TCP connection to "${sockets.tcp}"
    When the client sends the bytes "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    Then the client receives the sent bytes upper-cased
    And the server closes the client's connection
