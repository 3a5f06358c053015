# Against a student UDPServer.py that decodes each datagram as ASCII (it dies on any byte above 0x7F).
# Reproduces a finding of `conform fuzz sockets --seed 5` (case file answers-0ac07073.case).
# Run it with: conform run sockets --features corpus/sockets/regressions --target PROFILE
@sockets @udp @rfc768
Feature: fuzz regression answers-0ac07073

  @MUST
  Scenario: no reply within 500ms (answers)
    Given a UDP client socket for "${sockets.udp}"
    When the client sends the datagram "\x80"
    Then the client receives the sent datagram upper-cased
    And no further datagram arrives at the client within 200 ms
