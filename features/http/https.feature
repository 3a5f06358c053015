@http @https @rfc9110
Feature: HTTPS with a client library's own TLS

  Where the target profile says `[http] tls = "implicit"` (HTTPS, RFC 9110
  §4.2.2: TLS from the first byte), every scenario of the HTTP suite runs
  inside TLS, the harness offering ALPN http/1.1 (RFC 7301). Here a real
  client library does the TLS itself (reqwest with rustls, trusting the
  profile's ca_file), as a user's own program would. Without HTTPS in the
  profile the scenario skips.

  @rfc9110-sec-9.3.1 @MUST
  Scenario: A client library with its own TLS gets a page over HTTPS
    Given an HTTPS client library (reqwest with its own TLS) for the target
    When the library client fetches "/somedir/page.html"
    Then the library response status is 200
    And the library response body is the fixture file "/somedir/page.html"
