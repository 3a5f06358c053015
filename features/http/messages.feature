@http @rfc9112
Feature: HTTP/1.1 message syntax and framing

  The request and response formats of the course notes (H-15, H-25): a start
  line, CRLF-terminated header field lines, an empty line, then the body.
  RFC 9112 says where a server has to be strict, because a lenient parser is
  how requests get smuggled past one server into another.

  Background:
    Given an HTTP connection to the target

  @sec-2.1 @MUST @course-H-17 @course-H-25 @course-H-29
  Scenario: The notes' request for /somedir/page.html gets a well-formed 200 with the object
    When the client sends the request "GET /somedir/page.html HTTP/1.1\r\nHost: ${http.address}\r\nConnection: close\r\nUser-agent: Mozilla/5.0\r\nAccept-language: fr\r\n\r\n" and reads the response
    Then the server replies 200
    And the response is well-formed
    And the response body is the fixture file "/somedir/page.html"

  @sec-2.3 @SHOULD @course-H-25
  Scenario: An HTTP/1.1 server answers an HTTP/1.1 request with HTTP/1.1
    # "A server SHOULD send a response version equal to the highest version to
    # which the server is conformant that has a major version less than or
    # equal to the one received in the request."
    When the client requests GET "/index.html"
    Then the response version is "HTTP/1.1"

  @sec-6.3 @MUST @course-H-28
  Scenario: Content-Length frames a 100000-byte file exactly
    When the client requests GET "/big.txt"
    Then the server replies 200
    And the response body is the fixture file "/big.txt"
    And the server keeps the connection open

  @sec-6.3 @MUST @course-H-28
  Scenario: A binary object arrives byte for byte
    When the client requests GET "/someDepartment/picture.gif"
    Then the server replies 200
    And the response body is the fixture file "/someDepartment/picture.gif"

  @sec-2.1 @MUST @course-H-15
  Scenario: The server does not answer before the empty line that ends the header section
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\n"
    Then no further bytes arrive within 500 ms

  @sec-2.2 @SHOULD
  Scenario: An empty line before the request-line is ignored
    # "a server that is expecting to receive and parse a request-line SHOULD
    # ignore at least one empty line (CRLF) received prior to the request-line."
    When the client sends the request "\r\nGET /index.html HTTP/1.1\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/index.html"

  @sec-2.2 @MAY @course-H-30
  Scenario: A request typed in telnet with bare LF line ends is understood
    # "a recipient MAY recognize a single LF as a line terminator and ignore
    # any preceding CR."
    When the client sends the request "GET /index.html HTTP/1.1\nHost: ${http.address}\n\n" and reads the response
    Then the server replies 200

  @sec-3 @SHOULD @course-H-16 @course-H-29
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

  @sec-2.3 @SHOULD @course-H-29
  Scenario: A request in an unsupported major version is answered with 505
    # RFC 9110 §15.6.6: 505 "indicates that the server does not support, or
    # refuses to support, the major version of HTTP that was used in the
    # request message."
    When the client sends the request "GET /index.html HTTP/2.0\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 505

  @sec-3.2 @MUST @course-H-19
  Scenario: An HTTP/1.1 request without Host is answered with 400
    # "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message that lacks a Host header field"
    When the client sends the request "GET /index.html HTTP/1.1\r\n\r\n" and reads the response
    Then the server replies 400

  @sec-3.2 @MUST @course-H-19
  Scenario: A request with two Host header fields is answered with 400
    # "... and to any request message that contains more than one Host header
    # field line or a Host header field with an invalid field value."
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\nHost: other.example\r\n\r\n" and reads the response
    Then the server replies 400

  @sec-3.2 @MUST @course-H-19
  Scenario: A request with an invalid Host value is answered with 400
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: bad host\r\n\r\n" and reads the response
    Then the server replies 400

  @sec-3.2.2 @MUST
  Scenario: A request-target in absolute-form is accepted
    # "A server MUST accept the absolute-form in requests even though most
    # HTTP/1.1 clients will only send the absolute-form to a proxy."
    When the client sends the request "GET http://${http.address}/somedir/page.html HTTP/1.1\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @sec-3 @MUST
  Scenario: A request-target too long to parse is answered with 414
    # "A server that receives a request-target longer than any URI it wishes to
    # parse MUST respond with a 414 (URI Too Long) status code." A server that
    # does parse 20000 bytes answers as for any missing file: 404.
    When the client requests GET a path of 20000 bytes
    Then the server replies with one of 414, 404

  @sec-5.1 @MUST
  Scenario: Whitespace between a field name and the colon is answered with 400
    # "A server MUST reject, with a response status code of 400 (Bad Request),
    # any received request message that contains whitespace between a header
    # field name and colon."
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost : ${http.address}\r\n\r\n" and reads the response
    Then the server replies 400

  @sec-5.2 @MUST
  Scenario: A folded field line is rejected or unfolded
    # "A server that receives an obs-fold in a request message ... MUST either
    # reject the message by sending a 400 (Bad Request) ... or replace each
    # received obs-fold with one or more SP octets prior to interpreting the
    # field value". /cookie/show reports the Cookie it received: unfolded,
    # the value goes on with "b=2".
    When the client sends the request "GET /cookie/show HTTP/1.1\r\nHost: ${http.address}\r\nCookie: a=1;\r\n b=2\r\n\r\n" and reads the response
    Then the server replies 400, or 200 with a body that contains "b=2"

  @sec-2.2 @SHOULD
  Scenario: A field line without a colon is answered with 400
    # "a server ... [that] receives a sequence of octets that does not match
    # the HTTP-message grammar ... SHOULD respond with a 400 (Bad Request)
    # response and close the connection."
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\nNoColonHere\r\n\r\n" and reads the response
    Then the server replies 400

  @sec-6.1 @MUST
  Scenario: Content-Length together with Transfer-Encoding ends the connection
    # "A server MAY reject a request that contains both Content-Length and
    # Transfer-Encoding or process such a request in accordance with the
    # Transfer-Encoding alone. Regardless, the server MUST close the connection
    # after responding to such a request". Processed by Transfer-Encoding
    # alone, /echo reads an empty chunked body: 200.
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" and reads the response
    Then the server replies with one of 400, 200
    And the server closes the client's connection

  @sec-6.3 @MUST
  Scenario: Conflicting Content-Length values are answered with 400 and the connection closed
    # "If a message is received without Transfer-Encoding and with an invalid
    # Content-Length header field ... the server MUST respond with a 400 (Bad
    # Request) status code and then close the connection."
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!" and reads the response
    Then the server replies 400
    And the server closes the client's connection

  @sec-6.3 @MUST
  Scenario: A Content-Length that is not a number is answered with 400 and the connection closed
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 5x\r\n\r\nhello" and reads the response
    Then the server replies 400
    And the server closes the client's connection

  @sec-6.3 @MUST
  Scenario: A Transfer-Encoding whose final coding is not chunked is rejected and the connection closed
    # §6.3: "If a Transfer-Encoding header field is present in a request and
    # the chunked transfer coding is not the final encoding ... the server
    # MUST respond with the 400 (Bad Request) status code and then close the
    # connection." §6.1: "A server that receives a request message with a
    # transfer coding it does not understand SHOULD respond with 501 (Not
    # Implemented)." Both rules meet here (nginx answers 501); either status
    # refuses the request, and the connection must close.
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked, gzip\r\n\r\n" and reads the response
    Then the server replies with one of 400, 501
    And the server closes the client's connection

  @sec-6.1 @MUST
  Scenario: Transfer-Encoding in an HTTP/1.0 request is faulty framing and ends the connection
    # "A server or client that receives an HTTP/1.0 message containing a
    # Transfer-Encoding header field MUST treat the message as if the framing
    # is faulty, even if a Content-Length is present, and close the connection
    # after processing the message." The client asks for keep-alive, so only
    # this rule closes the connection.
    When the client sends the request "POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" and reads the response
    Then the server closes the client's connection

  @sec-7.1 @MUST
  Scenario: A chunked request body is decoded
    # "A recipient MUST be able to parse the chunked transfer coding".
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body contains "len=11"

  @sec-7.1.1 @MUST
  Scenario: Unknown chunk extensions are ignored
    # "A recipient MUST ignore unrecognized chunk extensions."
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n5;name=value\r\nhello\r\n0\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body contains "len=5"

  @sec-7.1.2 @MUST
  Scenario: A trailer section after the last chunk is read and the connection stays usable
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-Checksum: 1\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body contains "len=3"
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @sec-2.2 @SHOULD
  Scenario: A chunk size that is not hexadecimal is answered with 400
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n" and reads the response
    Then the server replies 400

  @sec-6.3 @MUST @course-H-24
  Scenario: A POST body is read by its Content-Length and not taken for the next request
    When the client sends the request "POST /echo HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 16\r\n\r\nGET / HTTP/1.1\r\n"
    And the client sends the request "GET /somedir/page.html HTTP/1.1\r\nHost: ${http.address}\r\n\r\n"
    Then the next reply is 200
    And the response body contains "len=16"
    And the next response is 200 with the body of the fixture file "/somedir/page.html"
