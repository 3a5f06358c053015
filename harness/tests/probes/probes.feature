# Scenarios that do not hold against the bundled TCP server, on purpose: a
# report with a failure, a warning and an error, for the tests of the
# reports (harness/tests/html_report.rs) and the JUnit consumers
# (.ci/junit/run.sh).
@sockets @tcp @rfc9293
Feature: Report probes

  @MUST @rfc9293-sec-3.10.7.4
  Scenario: A probe that expects the wrong reply
    Given a TCP connection to "${sockets.tcp}"
    When the client sends the bytes "hello & <goodbye>"
    Then the client receives exactly "goodbye"

  @SHOULD @rfc9293-sec-3.10.7.4
  Scenario: A should-probe that expects the wrong reply
    Given a TCP connection to "${sockets.tcp}"
    When the client sends the bytes "<b>markup</b>"
    Then the client receives exactly "nope"

  @MUST @rfc9293-sec-3.10.7.4
  Scenario: A probe that names a profile value nobody set
    Given a TCP connection to "${sockets.nowhere}"
    When the client sends the bytes "hello"
    Then the client receives exactly "HELLO"
