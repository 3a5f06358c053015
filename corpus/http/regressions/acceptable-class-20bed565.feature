# Found against lighttpd 1.4.69: a second Host field line that is empty is accepted (200, in HTTP/1.0 and 1.1), where RFC 9112 §3.2 says MUST 400.
# Reproduces a finding of `conform fuzz http --seed 1` (case file acceptable-class-20bed565.case).
# Run it with: conform run http --features corpus/http/regressions --target PROFILE
@http @rfc9112
Feature: fuzz regression acceptable-class-20bed565

  @MUST
  Scenario: a request to reject got 200: no Host in HTTP/1.1, or more than one (RFC 9112 §3.2: MUST 400) (acceptable-class)
    Given a fuzz session with the http server
    When the fuzz session sends "GET / HTTP/1.0\r\nHost:${http.address}\r\nHost:\r\n\r\n"
    Then every reply is well-formed
    And the http server still answers
