@http-client @rfc9112 @timeout(30s)
Feature: HTTP client: the request and reading the response

  An HTTP client (curl, wget, Python's http.client, a student's program)
  fetches one URL from the harness's HTTP origin peer, which records the
  request exactly as it came and answers with the framing the scenario
  sets. The profile's `[http-client] command` gets the {url} (and its
  {host} and {port}) and must print the response body.

  @rfc9112-sec-3.2.1 @MUST @points(1)
  Scenario: A request to the origin uses the origin-form target
    # RFC 9112 §3.2.1: "When making a request directly to an origin server,
    # other than a CONNECT or server-wide OPTIONS request, a client MUST
    # send only the absolute path and query components of the target URI
    # as the request-target."
    Given an HTTP origin peer that serves "/docs/page.txt" with "hello"
    When the HTTP client under test fetches "/docs/page.txt"
    Then the request line is "GET /docs/page.txt HTTP/1.1"

  @rfc9110 @rfc9110-sec-7.2 @MUST @points(1)
  Scenario: The request carries the URL's authority in Host
    # RFC 9110 §7.2: "A user agent MUST generate a Host header field in a
    # request unless it sends that information as an :authority
    # pseudo-header field."
    Given an HTTP origin peer that serves "/page" with "hello"
    When the HTTP client under test fetches "/page"
    Then the request carries the URL's host and port in Host

  @rfc9112-sec-2.1 @MUST @points(1)
  Scenario: The request head has CRLF line ends
    # RFC 9112 §2.1: HTTP-message = start-line CRLF *( field-line CRLF )
    # CRLF; §2.2: a recipient MAY accept a bare LF, a sender has no such
    # leeway.
    Given an HTTP origin peer that serves "/page" with "hello"
    When the HTTP client under test fetches "/page"
    Then the request's head has CRLF line ends

  @rfc9112-sec-6.3 @MUST @points(1)
  Scenario: A Content-Length body is read whole
    Given an HTTP origin peer that serves "/page" with "body of a known length 4711"
    When the HTTP client under test fetches "/page"
    Then the client under test prints "body of a known length 4711"

  @rfc9112-sec-6.3 @MUST @points(1)
  Scenario: A body that arrives in two parts is read whole
    # RFC 9112 §6.3: with a Content-Length the body is that many octets;
    # "If a valid Content-Length header field is present without
    # Transfer-Encoding, its decimal value defines the expected message body
    # length in octets". The origin sends the head and half the body, waits
    # 700 ms, then the rest: a client that prints what one read returned
    # prints half.
    Given an HTTP origin peer that serves "/page" with "the first half, then the second 4711" pausing 700 ms inside the body
    When the HTTP client under test fetches "/page"
    Then the client under test prints "the first half, then the second 4711"

  @rfc9112-sec-7.1 @MUST @points(1)
  Scenario: A chunked body is decoded
    # RFC 9112 §7.1: a recipient MUST be able to parse the chunked transfer
    # coding. The peer sends the body in two chunks; the printed body must
    # have neither the chunk sizes nor stop after the first chunk.
    Given an HTTP origin peer that serves "/page" with "first half, second half 4711" chunked
    When the HTTP client under test fetches "/page"
    Then the client under test prints "first half, second half 4711"

  @rfc9112-sec-6.3 @MUST @points(1)
  Scenario: A body delimited by the close is read to the end
    # RFC 9112 §6.3, rule 8: without Content-Length or Transfer-Encoding,
    # "the message body length is determined by the number of octets
    # received prior to the server closing the connection".
    Given an HTTP origin peer that serves "/page" with "read me until the close 4711" delimited by close
    When the HTTP client under test fetches "/page"
    Then the client under test prints "read me until the close 4711"

  @rfc9112-sec-9.6 @MUST @points(1)
  Scenario: After a response with the close option the client closes the connection
    # RFC 9112 §9.6: a client that receives the "close" connection option
    # MUST stop sending requests on that connection and close it after
    # reading the response. The origin sends "Connection: close" with a
    # Content-Length body and keeps its own side open: a client that waits
    # for the origin to close instead of reading by the length hangs.
    Given an HTTP origin peer that serves "/page" with "closing after this 4711" and Connection: close
    When the HTTP client under test fetches "/page"
    Then the client under test prints "closing after this 4711"
    And the client under test ends by itself within 5 seconds
    And the client under test closes its connection

  @rfc9110 @rfc9110-sec-8.6 @SHOULD @points(1)
  Scenario: A posted body arrives whole, framed by Content-Length or chunked
    # RFC 9110 §8.6: a user agent SHOULD send Content-Length in a request
    # whose method gives content a meaning, unless it sends
    # Transfer-Encoding; without either the recipient takes the body as
    # empty (RFC 9112 §6.3). Needs `[http-client] post` (skipped without).
    Given an HTTP origin peer that serves "/form" with "received"
    When the HTTP client under test posts "name=conform&note=a body of 37 octets" to "/form"
    Then the request frames its body with Content-Length or chunked
    And the origin receives exactly the posted body

  @rfc9112-sec-6.2 @MUST @points(1)
  Scenario: A posted body is not framed by both Content-Length and Transfer-Encoding
    # RFC 9112 §6.2: a sender MUST NOT send a Content-Length header field
    # in any message that contains a Transfer-Encoding header field.
    Given an HTTP origin peer that serves "/form" with "received"
    When the HTTP client under test posts "one framing, not two" to "/form"
    Then the request does not carry both Content-Length and Transfer-Encoding
