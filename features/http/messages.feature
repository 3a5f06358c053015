@http @rfc9112
Feature: HTTP/1.1 message syntax and framing

  The request and response formats of the course notes (H-15, H-25): a start
  line, CRLF-terminated header field lines, an empty line, then the body.
  RFC 9112 says where a server has to be strict, because a lenient parser is
  how requests get smuggled past one server into another.

  Background:
    Given an HTTP connection to the target

  @rfc9112-sec-2.1 @MUST @course-H-17 @course-H-25 @course-H-29
  Scenario: The notes' request for /somedir/page.html gets a well-formed 200 with the object
    When the client sends the request "GET /somedir/page.html HTTP/1.1\r\nHost: ${http.address}\r\nConnection: close\r\nUser-agent: Mozilla/5.0\r\nAccept-language: fr\r\n\r\n" and reads the response
    Then the server replies 200
    And the response is well-formed

  @rfc9112-sec-2.1 @MUST @course-H-17 @course-T-08
  Scenario: A request sent byte by byte gets a well-formed 200
    # RFC 9293 §3.7: "TCP guarantees no correlation between the boundaries
    # of TCP segments sent and received and the boundaries of the read or
    # write buffers": a request cut into 1-byte segments is the same request
    # (course catalogue T-08).
    When the client sends "GET /somedir/page.html HTTP/1.1\r\nHost: ${http.address}\r\nConnection: close\r\n\r\n" byte by byte
    Then the server replies 200
    And the response is well-formed
    And the response body is the fixture file "/somedir/page.html"

  @rfc9112-sec-2.3 @SHOULD @course-H-25
  Scenario: An HTTP/1.1 server answers an HTTP/1.1 request with HTTP/1.1
    # "A server SHOULD send a response version equal to the highest version to
    # which the server is conformant that has a major version less than or
    # equal to the one received in the request."
    When the client requests GET "/index.html"
    Then the response version is "HTTP/1.1"

  @rfc9112-sec-6.3 @MUST @course-H-28
  Scenario: Content-Length frames a 100000-byte file exactly
    When the client requests GET "/big.txt"
    Then the server replies 200
    And the response body is the fixture file "/big.txt"
    And the server keeps the connection open

  @rfc9112-sec-6.3 @MUST @course-H-28
  Scenario: A binary object arrives byte for byte
    When the client requests GET "/someDepartment/picture.gif"
    Then the server replies 200
    And the response body is the fixture file "/someDepartment/picture.gif"

  @rfc9112-sec-2.1 @MUST @course-H-15
  Scenario: The server does not answer before the empty line that ends the header section
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\n"
    Then no further bytes arrive within 500 ms

  @rfc9112-sec-2.2 @SHOULD
  Scenario: An empty line before the request-line is ignored
    # "a server that is expecting to receive and parse a request-line SHOULD
    # ignore at least one empty line (CRLF) received prior to the request-line."
    When the client sends the request "\r\nGET /index.html HTTP/1.1\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/index.html"

  @rfc9112-sec-2.2 @MAY @course-H-30
  Scenario: A request typed in telnet with bare LF line ends is understood
    # "a recipient MAY recognize a single LF as a line terminator and ignore
    # any preceding CR."
    When the client sends the request "GET /index.html HTTP/1.1\nHost: ${http.address}\n\n" and reads the response
    Then the server replies 200

  @rfc9112-sec-3 @SHOULD @course-H-16 @course-H-29
  Scenario Outline: A malformed request-line is answered with 400
    # "Recipients of an invalid request-line SHOULD respond with either a 400
    # (Bad Request) error or a 301 (Moved Permanently) redirect with the
    # request-target properly encoded."
    When the client sends the request "<line>\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies with one of 400, 301

    Examples:
      | line                      |
      | GET /index.html HTTP/1.1 extra |
      | GET /index.html http/1.1  |
      | GET /index.html HTTTP/1.1 |
      | G(T /index.html HTTP/1.1  |
      | FOO                       |

  @rfc9110 @rfc9110-sec-6.2 @MAY @course-H-29
  Scenario: A request in an unsupported major version is answered with 505
    # RFC 9110 §6.2: "A server can send a 505 (HTTP Version Not Supported)
    # response if it wishes, for any reason, to refuse service of the
    # client's major protocol version." It may also answer in HTTP/1.1.
    When the client sends the request "GET /index.html HTTP/2.0\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 505

  @rfc9110 @rfc9110-sec-6.2 @MUST
  Scenario: A request in major version 2 is not answered in a version the server does not speak
    # RFC 9110 §6.2: "A server MUST NOT send a version to which it is not
    # conformant." An HTTP/1.1 message claiming HTTP/2.0 gets an HTTP/1.x
    # response, whatever its status.
    When the client sends the request "GET /index.html HTTP/2.0\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the response is well-formed

  @rfc9112-sec-3.2 @MUST @course-H-19
  Scenario: An HTTP/1.1 request without Host is answered with 400
    # "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message that lacks a Host header field"
    When the client sends the request "GET /index.html HTTP/1.1\r\n\r\n" and reads the response
    Then the server replies 400

  @rfc9112-sec-3.2 @MUST @course-H-19
  Scenario Outline: A request with two Host header fields is answered with 400
    # "... and to any request message that contains more than one Host header
    # field line or a Host header field with an invalid field value." Two
    # equal lines are still two.
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\nHost: <second>\r\n\r\n" and reads the response
    Then the server replies 400

    Examples:
      | second          |
      | other.example   |
      | ${http.address} |

  @rfc9112-sec-3.2 @MUST @course-H-19
  Scenario: A request with an invalid Host value is answered with 400
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: bad host\r\n\r\n" and reads the response
    Then the server replies 400

  @rfc9112-sec-3.2.2 @MUST
  Scenario: A request-target in absolute-form is accepted
    # "A server MUST accept the absolute-form in requests even though most
    # HTTP/1.1 clients will only send the absolute-form to a proxy."
    When the client sends the request "GET http://${http.address}/somedir/page.html HTTP/1.1\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9112-sec-3.2.2 @MUST
  Scenario: In absolute-form the request-target's host is used, not the Host field
    # "When an origin server receives a request with an absolute-form of
    # request-target, the origin server MUST ignore the received Host header
    # field (if any) and instead use the host information of the
    # request-target." The target names this server, the Host field another
    # host: this server's page is served.
    When the client sends the request "GET http://${http.address}/somedir/page.html HTTP/1.1\r\nHost: conform-other-host.invalid\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9112-sec-3 @MUST
  Scenario: A request-target too long to parse is answered with 414
    # "A server that receives a request-target longer than any URI it wishes to
    # parse MUST respond with a 414 (URI Too Long) status code." A server that
    # does parse all 20000 bytes finds no such file and answers 404, once: a
    # 2xx, another status, a second response (the rest of a line cut short,
    # answered as a request) or no answer does not follow the rule.
    When the client requests GET a path of 20000 bytes under "/"
    Then the server replies with one of 414, 404
    And no further bytes arrive within 300 ms

  @rfc9112-sec-5.1 @MUST
  Scenario: Whitespace between a field name and the colon is answered with 400
    # "A server MUST reject, with a response status code of 400 (Bad Request),
    # any received request message that contains whitespace between a header
    # field name and colon."
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost : ${http.address}\r\n\r\n" and reads the response
    Then the server replies 400

  @rfc9112-sec-5.2 @MUST
  Scenario: A folded field line is rejected or unfolded
    # "A server that receives an obs-fold in a request message ... MUST either
    # reject the message by sending a 400 (Bad Request) ... or replace each
    # received obs-fold with one or more SP octets prior to interpreting the
    # field value". The folded line carries the file's current entity tag:
    # unfolded, If-None-Match matches and the answer is 304 (RFC 9110
    # §13.1.2: MUST); a server that drops the continuation answers 200.
    When the client requests GET "/somedir/page.html"
    And the client notes the response header "ETag" as "http.etag"
    And the client requests GET "/somedir/page.html" with "If-None-Match: \"conform-no-such-tag\",\r\n ${http.etag}"
    Then the server replies with one of 400, 304

  @rfc9112-sec-2.2 @SHOULD
  Scenario: A field line without a colon is answered with 400
    # "a server ... [that] receives a sequence of octets that does not match
    # the HTTP-message grammar ... SHOULD respond with a 400 (Bad Request)
    # response and close the connection."
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\nNoColonHere\r\n\r\n" and reads the response
    Then the server replies 400

  @rfc9112-sec-6.1 @MUST
  Scenario: Content-Length together with Transfer-Encoding ends the connection (Content-Length the longer)
    # "A server MAY reject a request that contains both Content-Length and
    # Transfer-Encoding or process such a request in accordance with the
    # Transfer-Encoding alone. Regardless, the server MUST close the connection
    # after responding to such a request". The two framings give different
    # bodies, and a GET follows: a server that stays open answers a second
    # request, whichever framing it used.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nX" and then GET "/somedir/page.html" in the same write
    And the client reads the response
    Then the server closes the client's connection within 2000 ms

  @rfc9112-sec-6.1 @MUST
  Scenario: Content-Length together with Transfer-Encoding ends the connection (chunked the longer)
    # As above; by Content-Length the body ends inside the first chunk.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    And the client reads the response
    Then the server closes the client's connection within 2000 ms

  @rfc9112-sec-6.1 @rfc9112-sec-6.3 @MUST
  Scenario: Content-Length together with Transfer-Encoding is rejected or the body read as chunked, never by Content-Length
    # §6.1: "A server MAY reject a request that contains both Content-Length
    # and Transfer-Encoding or process such a request in accordance with the
    # Transfer-Encoding alone"; §6.3: "the Transfer-Encoding overrides the
    # Content-Length". By Content-Length the body is 3 octets ("5\r\n"),
    # by the chunked coding 5 ("hello"): the echo resource tells which.
    Given the target has the "echo" resource
    When the client sends the request "POST ${http.echo} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" and reads the response
    Then the server rejects the request with a 4xx status, or its response body contains "len=5"

  @rfc9112-sec-6.1 @MUST
  Scenario: A response to an HTTP/1.0 request has no Transfer-Encoding
    # §6.1: "A server MUST NOT send a response containing Transfer-Encoding
    # unless the corresponding request indicates HTTP/1.1 (or later minor
    # revisions)." A dynamic response (the echo resource) is where servers
    # chunk; the reader also judges every response to an HTTP/1.0 request.
    Given the target has the "echo" resource
    When the client sends the request "POST ${http.echo} HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello" and reads the response
    Then the server replies 200
    And the response has no header "Transfer-Encoding"

  @rfc9112-sec-6.3 @MUST
  Scenario: Conflicting Content-Length values are answered with 400 and the connection closed
    # "If a message is received without Transfer-Encoding and with an invalid
    # Content-Length header field ... the server MUST respond with a 400 (Bad
    # Request) status code and then close the connection."
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" and reads the response
    Then the server replies 400
    And the server closes the client's connection within 2000 ms

  @rfc9112-sec-6.3 @MUST
  Scenario: A Content-Length that is not a number is answered with 400 and the connection closed
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 5x\r\n\r\nhello" and reads the response
    Then the server replies 400
    And the server closes the client's connection within 2000 ms

  @rfc9112-sec-6.3 @MUST
  Scenario Outline: A Content-Length that is not 1*DIGIT is answered with 400 and the connection closed
    # Content-Length = 1*DIGIT (§6.2); §6.3: "If a message is received
    # without Transfer-Encoding and with an invalid Content-Length header
    # field, then the message framing is invalid and the recipient MUST treat
    # it as an unrecoverable error ... the server MUST respond with a 400
    # (Bad Request) status code and then close the connection." A sign, a
    # hex prefix or an empty value is not a number of octets.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: <value>\r\n\r\nhello" and reads the response
    Then the server replies 400
    And the server closes the client's connection within 2000 ms

    Examples:
      | value |
      | -1    |
      | +5    |
      | 0x5   |
      |       |

  @rfc9112-sec-6.3 @rfc9110 @rfc9110-sec-8.6 @MUST
  Scenario: A Content-Length of 20 digits is refused, not wrapped around
    # RFC 9110 §8.6: "a recipient MUST anticipate potentially large decimal
    # numerals and prevent parsing errors due to integer conversion overflows
    # or precision loss due to integer conversion". 2^64 + 5 wraps to 5 in
    # an unsigned 64-bit integer: a server that reads "hello" as the body
    # overflowed. 400 (invalid) or 413 (Content Too Large) refuse it.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 18446744073709551621\r\n\r\nhello" and reads the response
    Then the server replies with one of 400, 413

  @rfc9112-sec-6.3 @MUST
  Scenario: A Transfer-Encoding whose final coding is not chunked is rejected and the connection closed
    # §6.3: "If a Transfer-Encoding header field is present in a request and
    # the chunked transfer coding is not the final encoding ... the server
    # MUST respond with the 400 (Bad Request) status code and then close the
    # connection." §6.1: "A server that receives a request message with a
    # transfer coding it does not understand SHOULD respond with 501 (Not
    # Implemented)." Both rules meet here (nginx answers 501); either status
    # refuses the request, and the connection must close.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" and reads the response
    Then the server replies with one of 400, 501
    And the server closes the client's connection within 2000 ms

  @rfc9112-sec-6.1 @MUST
  Scenario: Transfer-Encoding in an HTTP/1.0 request is faulty framing and ends the connection
    # "A server or client that receives an HTTP/1.0 message containing a
    # Transfer-Encoding header field MUST treat the message as if the framing
    # is faulty, even if a Content-Length is present, and close the connection
    # after processing the message." The client asks for keep-alive, so only
    # this rule closes the connection.
    When the client sends the request "POST ${http.post} HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" and reads the response
    Then the server closes the client's connection within 2000 ms

  # The framing scenarios below send a request with a body to ${http.post}
  # (the profile's echo resource, else the fixture file /index.html) and, in
  # the same write, a GET. Whatever the server answers to the
  # method (405, 200…), the GET must be answered next with its file: the
  # body was taken by the right framing and the GET parsed where it begins.
  # A server that closes after its first response (RFC 9112 §9.5: it "MAY
  # close the transport connection at any time") leaves the framing
  # unobservable, and the scenario is skipped.

  @rfc9112-sec-7.1 @MUST
  Scenario: A chunked request body is decoded
    # "A recipient MUST be able to parse the chunked transfer coding".
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server answers the request, then the GET with the fixture file "/somedir/page.html"

  @rfc9112-sec-7.1.1 @MUST
  Scenario: Unknown chunk extensions are ignored
    # "A recipient MUST ignore unrecognized chunk extensions." One with a
    # token value, one with a quoted string holding ";".
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n6;q=\"a;b\"\r\n world\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server answers the request, then the GET with the fixture file "/somedir/page.html"

  @rfc9112-sec-7.1.2 @MUST
  Scenario: A trailer section after the last chunk is read and the connection stays usable
    # "A recipient that removes the chunked coding from a message MAY
    # selectively retain or discard the received trailer fields", but it
    # reads them: the chunked body ends with the empty line after them
    # (§7.1: "MUST be able to parse the chunked transfer coding").
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\nX-Other: 2\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server answers the request, then the GET with the fixture file "/somedir/page.html"

  @rfc9112-sec-2.2 @SHOULD
  Scenario: A chunk size that is not hexadecimal is answered with 400
    # "When a server listening only for HTTP request messages ... receives a
    # sequence of octets that does not match the HTTP-message grammar ... the
    # server SHOULD respond with a 400 (Bad Request) response and close the
    # connection." A server that answers before reading the body and then
    # closes never takes the bad chunk for anything.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    And the client reads the response
    Then the server replies 400, or answers and closes the connection

  @rfc9112-sec-2.2 @SHOULD
  Scenario Outline: A chunk-size line that is not 1*HEXDIG is answered with 400 or the connection closed
    # chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF; chunk-size =
    # 1*HEXDIG (§7.1). §2.2: a server that "receives a sequence of octets
    # that does not match the HTTP-message grammar ... SHOULD respond with a
    # 400 (Bad Request) response and close the connection." A lenient parser
    # (strtol's "0x" and leading blanks, an empty size read as 0, a chunk's
    # data not followed by CRLF skipped to the line end) reads a body the
    # sender did not frame, and answers the GET written after it: the
    # request smuggling of the HTTP Garden's chunk cases.
    # The size cell is the whole chunk-size line: "3" is a size the data
    # ("hello") overruns, so no CRLF follows it.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n<size>\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    And the client reads the response
    Then the server replies 400, or answers and closes the connection

    Examples:
      | size  |
      | 0x5   |
      |       |
      | 3     |

  @rfc9112-sec-2.2 @SHOULD
  Scenario: A chunk size after a blank is answered with 400 or the connection closed
    # As above, for " 5": chunk-size starts the line, and BWS is only
    # allowed before a chunk extension's ";" (§7.1.1).
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n 5\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    And the client reads the response
    Then the server replies 400, or answers and closes the connection

  @rfc9112-sec-7.1 @MUST
  Scenario: A chunk size past 64 bits is refused, not wrapped around
    # §7.1: "Recipients MUST anticipate potentially large hexadecimal
    # numerals and prevent parsing errors due to integer conversion
    # overflows or precision loss due to integer representation."
    # 10000000000000005 is 2^64 + 5, 5 in a wrapping 64-bit integer: a
    # server that reads "hello" as the chunk answers the GET after it. 400
    # (invalid) or 413 (Content Too Large) refuse it, and so does closing.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000005\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    And the client reads the response
    Then the server replies 400 or 413, or answers and closes the connection

  @rfc9112-sec-7.1 @MUST
  Scenario: Transfer-Encoding "CHUNKED" is the chunked coding
    # §7: "All transfer-coding names are case-insensitive", and §7.1: "A
    # recipient MUST be able to parse the chunked transfer coding". A
    # server that matches the value byte for byte reads no body, and
    # answers the chunks as a request.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: CHUNKED\r\n\r\n5\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server answers the request, then the GET with the fixture file "/somedir/page.html"

  @rfc9110 @rfc9110-sec-5.6.1.2 @MUST
  Scenario: Transfer-Encoding with an empty list element before chunked is the chunked coding
    # Transfer-Encoding = #transfer-coding (RFC 9112 §6.1); RFC 9110
    # §5.6.1.2: "A recipient MUST parse and ignore a reasonable number of
    # empty list elements ... a recipient MUST accept lists that satisfy the
    # following syntax: #element => [ element ] *( OWS "," OWS [ element ]
    # )". ", chunked" names chunked alone (§7.1: "A recipient MUST be able
    # to parse the chunked transfer coding").
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: , chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server answers the request, then the GET with the fixture file "/somedir/page.html"

  @rfc9112-sec-6.3 @MUST
  Scenario: Transfer-Encoding "chunked, chunked" is refused with the connection closed, or decoded twice
    # §7.1: "A sender MUST NOT apply the chunked transfer coding more than
    # once to a message body". The final coding is chunked, so §6.3 item 4
    # frames the body by it; a server that refuses the doubled coding (400,
    # or 501 for a coding it does not implement, §6.1) cannot know where the
    # body ends and closes. The outer chunk holds a whole inner chunked body
    # ("5\r\nhello\r\n0\r\n\r\n", 15 octets): a server that took
    # either layer for the framing and not the outer one answers the rest.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked, chunked\r\n\r\nf\r\n5\r\nhello\r\n0\r\n\r\n\r\n0\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server replies 400 or 501 and closes the connection, or answers the request, then the GET with the fixture file "/somedir/page.html"

  @rfc9112-sec-5.1 @MUST
  Scenario: Whitespace before the colon of Transfer-Encoding is answered with 400
    # "A server MUST reject, with a response status code of 400 (Bad
    # Request), any received request message that contains whitespace
    # between a header field name and colon." Here it hides the framing: a
    # server that trims the name reads a chunked body another parser would
    # not see.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n" and reads the response
    Then the server replies 400

  @rfc9112-sec-2.2 @MUST
  Scenario: A bare CR in a field value is rejected or read as SP
    # §2.2: "A recipient of such a bare CR MUST consider that element to be
    # invalid or replace each bare CR with SP before processing the
    # element". The CR stands before the file's current entity tag in
    # If-None-Match: read as SP the list matches and the answer is 304
    # (RFC 9110 §13.1.2); rejected, 400. A server that ends the line or the
    # value at the CR loses the tag and answers 200.
    When the client requests GET "/somedir/page.html"
    And the client notes the response header "ETag" as "http.etag"
    And the client requests GET "/somedir/page.html" with "If-None-Match: \"conform-no-such-tag\",\r${http.etag}"
    Then the server replies with one of 400, 304

  @rfc9110 @rfc9110-sec-5.5 @MUST
  Scenario: A NUL in a field value is rejected or read as SP
    # RFC 9110 §5.5: "a recipient of CR, LF, or NUL within a field value
    # MUST either reject the message or replace each of those characters
    # with SP before further processing". As above, with a NUL before the
    # entity tag: a server that ends the value at the NUL (a C string)
    # answers 200.
    When the client requests GET "/somedir/page.html"
    And the client notes the response header "ETag" as "http.etag"
    And the client requests GET "/somedir/page.html" with "If-None-Match: \"conform-no-such-tag\",\0${http.etag}"
    Then the server replies with one of 400, 304

  @rfc9112-sec-6.3 @MUST @course-H-24
  Scenario: A POST body is read by its Content-Length and not taken for the next request
    # "If a valid Content-Length header field is present without
    # Transfer-Encoding, its decimal value defines the expected message body
    # length in octets." The body is itself a request for another file: a
    # server that does not read it as the body answers it.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 52\r\n\r\nGET /someDepartment/home.index HTTP/1.1\r\nHost: a\r\n\r\n" and then GET "/somedir/page.html" in the same write
    Then the server answers the request, then the GET with the fixture file "/somedir/page.html"
