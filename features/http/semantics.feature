@http @rfc9110
Feature: Methods, status codes and response header fields

  GET, HEAD and POST as the course notes describe them (H-24), the status
  codes they show (H-29) and the response header lines (H-26 to H-28), with
  the RFC 9110 requirements on each.

  Background:
    Given an HTTP connection to the target

  @rfc9110-sec-9.3.1 @MUST @course-H-05
  Scenario: Two identical GETs both get the whole object (HTTP is stateless)
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-9.3.2 @MUST @course-H-24
  Scenario: A response to HEAD has no content
    # "The HEAD method is identical to GET except that the server MUST NOT
    # send content in the response."
    When the client requests HEAD "/somedir/page.html"
    Then the server replies 200
    And no further bytes arrive within 500 ms

  @rfc9110-sec-9.3.2 @SHOULD @course-H-24
  Scenario: HEAD gets the same Content-Length and Content-Type as GET
    # "The server SHOULD send the same header fields in response to a HEAD
    # request as it would have sent if the request method had been GET".
    When the client requests GET "/somedir/page.html"
    And the client requests HEAD "/somedir/page.html"
    Then the server replies 200
    And the response header "Content-Length" is the same as in the previous response
    And the response header "Content-Type" is the same as in the previous response

  @rfc9110-sec-9.3.3 @MUST @course-H-24
  Scenario: A POST body is read whole (the echo resource reports its length)
    Given the target has the "echo" resource
    When the client posts "first=Ada&last=Lovelace" to "${http.echo}"
    Then the server replies 200
    And the response body contains "len=23"

  @rfc9110-sec-6.6.1 @MUST @course-H-28
  Scenario: A response carries a Date in IMF-fixdate format
    # "An origin server with a clock ... MUST generate a Date header field in
    # all 2xx (Successful), 3xx (Redirection), and 4xx (Client Error)
    # responses"; §5.6.7: "a sender MUST generate [HTTP-date] as IMF-fixdate".
    When the client requests GET "/index.html"
    Then the response header "Date" is an HTTP-date

  @rfc9110-sec-6.6.1 @SHOULD @course-H-28
  Scenario: Date is the time the response was sent, not when the object changed
    # "The "Date" header field represents the date and time at which the
    # message was originated". The notes: "not the time when the object was
    # created or last modified". Allows a minute of clock difference.
    When the client requests GET "/somedir/page.html"
    Then the response header "Date" is within 60 seconds of the client's clock

  @rfc9110-sec-6.6.1 @MUST @course-H-29
  Scenario: A 404 response carries a Date too
    When the client requests GET "/no/such/object.html"
    Then the response header "Date" is an HTTP-date

  @rfc9110-sec-8.3 @SHOULD @course-H-28
  Scenario: An HTML file is labelled text/html
    # "A sender that generates a message containing content SHOULD generate a
    # Content-Type header field in that message".
    When the client requests GET "/somedir/page.html"
    Then the response header "Content-Type" contains "text/html"

  @rfc9110-sec-8.3 @SHOULD @course-H-28
  Scenario: A GIF image is labelled image/gif, or left unlabelled as of unknown type
    # The Content-Type SHOULD be generated "unless the intended media type of
    # the enclosed representation is unknown to the sender"; a server whose
    # type map lacks .gif may omit it or say application/octet-stream, but
    # must not call the image something else.
    When the client requests GET "/someDepartment/picture.gif"
    Then the response's media type, if it has one, is one of "image/gif", "application/octet-stream"

  @rfc9110-sec-8.8.2.1 @SHOULD @course-H-28
  Scenario: A file's response carries its Last-Modified date
    # "An origin server SHOULD send Last-Modified for any selected
    # representation for which a last modification date can be reasonably and
    # consistently determined".
    When the client requests GET "/somedir/page.html"
    Then the response header "Last-Modified" is an HTTP-date

  @rfc9110-sec-8.8.3 @SHOULD @course-H-27
  Scenario: A file's response carries an entity tag
    # "an origin server SHOULD send an ETag for any selected representation
    # for which detection of changes can be reasonably and consistently
    # determined".
    When the client requests GET "/somedir/page.html"
    Then the response has the header "ETag"

  @rfc9110-sec-8.8.3 @MUST
  Scenario: An entity tag, where the server sends one, follows the entity-tag grammar
    # §8.8.3: ETag = entity-tag; entity-tag = [ weak ] opaque-tag; weak =
    # %s"W/"; opaque-tag = DQUOTE *etagc DQUOTE. A bare or unquoted tag is
    # not one a client can send back in If-None-Match (§13.1.2).
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    And the response header "ETag", if the server sends one, is an entity-tag

  @rfc9110-sec-8.8.2.1 @MUST
  Scenario: Last-Modified is not later than Date
    # §8.8.2.1: "An origin server with a clock ... MUST NOT generate a
    # Last-Modified date that is later than the server's time of message
    # origination (Date)."
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    And the response header "Last-Modified", if the server sends one, is not later than its "Date"

  @rfc9110-sec-10.1.1 @MUST
  Scenario: Expect 100-continue is answered at once with 100 or a final status
    # §10.1.1: to an HTTP/1.1 request whose header section has a
    # 100-continue expectation and announces content, "an origin server MUST
    # send either: an immediate response with a final status code ... or an
    # immediate 100 (Continue) response"; "The origin server MUST NOT wait
    # for the content before sending the 100 (Continue) response"; and one
    # that sends 100 "MUST ultimately send a final status code". The content
    # goes only after a 100.
    When the client sends the request "POST ${http.post} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    Then the server answers at once with 100 (Continue) or a final status, and after the body "hello" with a final status

  @rfc9110-sec-10.1.1 @rfc9110-sec-15.2 @MUST
  Scenario: Expect 100-continue in an HTTP/1.0 request is ignored, and no 1xx comes
    # §10.1.1: "A server that receives a 100-continue expectation in an
    # HTTP/1.0 request MUST ignore that expectation"; §15.2: "a server MUST
    # NOT send a 1xx response to an HTTP/1.0 client". Ignored, it is neither
    # a 100 nor a 417 (Expectation Failed).
    When the client sends the request "POST ${http.post} HTTP/1.0\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\nhello" and reads the response
    Then the response came without an interim 1xx response before it
    And the response status is not 417

  @rfc9110-sec-5.1 @SHOULD @course-H-18 @course-H-21 @course-H-22 @course-H-23
  Scenario: The notes' browser request with headers the server does not implement is served
    # "Other recipients SHOULD ignore unrecognized header and trailer fields."
    When the client sends the request "GET /index.html HTTP/1.1\r\nHost: ${http.address}\r\nUser-Agent: Firefox/3.6.10\r\nAccept: text/html,application/xhtml+xml\r\nAccept-Language: en-us,en;q=0.5\r\nAccept-Encoding: gzip,deflate\r\nAccept-Charset: ISO-8859-1,utf-8;q=0.7\r\nKeep-Alive: 115\r\nConnection: keep-alive\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/index.html"

  @rfc9110-sec-4.2.1 @SHOULD @course-H-02 @course-H-24
  Scenario: A query string does not change which file is served
    When the client requests GET "/somedir/page.html?monkeys&banana"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-15.5.5 @MUST @course-H-29 @course-H-30
  Scenario: A missing object is answered with 404
    When the client requests GET "/~banana/"
    Then the server replies with one of 404, 410

  @rfc9110-sec-15.5.6 @MUST
  Scenario: A 405 response lists the allowed methods in Allow
    # "The origin server MUST generate an Allow header field in a 405 (Method
    # Not Allowed) response containing a list of the target resource's
    # currently supported methods." Servers that refuse POST on a static file
    # answer 405 (nginx, the reference server); one that serves the file
    # instead (lighttpd) leaves nothing to check, and the scenario is skipped.
    When the client sends the request "POST /index.html HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 0\r\n\r\n" and reads the response
    Then if the response is 405, its header "Allow" lists "GET"

  @rfc9110-sec-9.1 @SHOULD @course-H-24
  Scenario Outline: <method> on a read-only fixture file is refused
    # "An origin server that receives a request method that is recognized and
    # implemented, but not allowed for the target resource, SHOULD respond
    # with the 405 (Method Not Allowed) status code"; one that does not
    # implement it answers 501. The fixture files are not to be changed.
    When the client sends the request "<method> /index.html HTTP/1.1\r\nHost: ${http.address}\r\nContent-Length: 4\r\n\r\nnope" and reads the response
    Then the server replies with one of 405, 501

    Examples:
      | method |
      | PUT    |
      | DELETE |

  @rfc9110-sec-9.1 @SHOULD
  Scenario: An unknown method is answered with 501
    # "An origin server that receives a request method that is unrecognized or
    # not implemented SHOULD respond with the 501 (Not Implemented) status
    # code."
    When the client sends the request "BREW /index.html HTTP/1.1\r\nHost: ${http.address}\r\n\r\n" and reads the response
    Then the server replies 501

  @rfc9110-sec-9.3.7 @SHOULD
  Scenario: A successful answer to OPTIONS on a file tells which methods it allows
    # "A server generating a successful response to OPTIONS SHOULD send any
    # header that might indicate optional features implemented by the server
    # and applicable to the target resource (e.g., Allow)". OPTIONS itself
    # is optional (§9.1: "All other methods are OPTIONAL"); a server that
    # refuses it is checked only by the 405 scenario's rule.
    When the client requests OPTIONS "/index.html"
    Then if the response is 2xx, its header "Allow" lists "GET"

  @rfc9110-sec-15.4.2 @SHOULD @course-H-28 @course-H-29
  Scenario: The moved resource is answered with 301 and a Location
    # "The server SHOULD generate a Location header field in the response
    # containing a preferred URI reference for the new permanent URI."
    Given the target has the "redirect" resource
    When the client requests GET "${http.redirect}"
    Then the server replies 301
    And the response header "Location" ends with "${http.redirect_to}"

  @rfc9110-sec-15.4.2 @SHOULD @course-H-29
  Scenario: A client library follows the 301 to the new location
    # "The client software will automatically retrieve the new URL."
    Given the target has the "redirect" resource
    And an HTTP client library (reqwest) for the target
    When the library client fetches "${http.redirect}"
    Then the library client followed one 301 redirect
    And the library client ended at "${http.redirect_to}"
    And the library response status is 200
    And the library response body is the fixture file "${http.redirect_to}"

  @rfc9110-sec-9.3.3 @MUST @course-H-24
  Scenario: A client library's POST is read whole
    Given the target has the "echo" resource
    And an HTTP client library (reqwest) for the target
    When the library client posts "name=conform" to "${http.echo}"
    Then the library response status is 200
    And the library response body contains "len=12"

  @rfc9110-sec-5.4 @MUST
  Scenario: A header field too large to process is answered with a 4xx status
    # "A server that receives a request header field line, field value, or
    # set of fields larger than it wishes to process MUST respond with an
    # appropriate 4xx (Client Error) status code." (431 or 400 in practice.)
    # A server that does process it must read all of it: the field is an
    # If-None-Match list whose last tag is the file's current one, so the
    # whole field gets 304 (RFC 9110 §13.1.2: MUST) and a cut-off one 200.
    When the client requests GET "/somedir/page.html"
    And the client requests GET "/somedir/page.html" with an If-None-Match of 40000 bytes that ends with the last response's "ETag"
    Then the server replies with one of 4xx, 304
