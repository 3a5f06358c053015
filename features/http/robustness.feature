@http @rfc9112 @robustness
Feature: HTTP/1.1 robustness under mutated requests

  The fuzzer's own strategies (as `conform fuzz http`) inside a scenario:
  200 sessions of requests drawn from one valid request and mutated in the
  request line, the header fields (Host missing or repeated, Content-Length
  and Transfer-Encoding that disagree, obs-fold, whitespace before the
  colon) and the bytes, over keep-alive connections. The same 200 on every
  run. Every response must be well-formed, a request that RFC 9112 says MUST
  be rejected must get a 4xx, and the server must keep serving.

  @rfc9112-sec-3.2 @rfc9112-sec-5.1 @rfc9112-sec-6.3 @MUST @timeout(60s)
  Scenario: 200 sessions of mutated requests get well-formed responses, and the server keeps serving
    When 200 mutations of "GET / HTTP/1.1\r\nHost: ${http.address}\r\n\r\n" are sent to the http server
    Then every reply is well-formed
    And the http server still answers
