@http @rfc9110
Feature: Conditional GET

  The course's conditional GET (H-34): a cache stores Last-Modified with the
  object and asks again with If-Modified-Since; an unchanged object comes
  back as 304 Not Modified with an empty body. RFC 9110 §13 adds entity tags
  (If-None-Match), which take precedence.

  Background:
    Given an HTTP connection to the target

  @rfc9110-sec-13.1.3 @SHOULD @course-H-34
  Scenario: If-Modified-Since with the Last-Modified date gets 304 Not Modified
    # §13.1.3: "the origin server SHOULD evaluate the If-Modified-Since
    # condition"; if the representation was not modified since the date,
    # "the origin server SHOULD generate a 304 (Not Modified) response".
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    When the client requests GET "/somedir/page.html" with the header "If-Modified-Since" set to the last response's "Last-Modified"
    Then the server replies 304

  @rfc9110-sec-15.4.5 @MUST @course-H-34
  Scenario: A 304 response ends with its header section and the connection stays usable
    # "A 304 response is terminated by the end of the header section; it
    # cannot contain content or trailers." The 304 comes from If-None-Match
    # with the current tag (§13.1.2: MUST).
    When the client requests GET "/somedir/page.html"
    And the client requests GET "/somedir/page.html" with the header "If-None-Match" set to the last response's "ETag"
    Then the server replies 304
    And no further bytes arrive within 500 ms
    When the client requests GET "/index.html"
    Then the server replies 200
    And the response body is the fixture file "/index.html"

  @rfc9110-sec-13.1.3 @MUST @course-H-34
  Scenario: If-Modified-Since with an older date gets the whole object
    When the client requests GET "/somedir/page.html" with "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-13.1.3 @MUST
  Scenario: An If-Modified-Since that is not a valid date is ignored
    # "A recipient MUST ignore the If-Modified-Since header field if the
    # received field value is not a valid HTTP-date".
    When the client requests GET "/somedir/page.html" with "If-Modified-Since: yesterday, more or less"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-13.1.2 @MUST
  Scenario: If-None-Match with the current entity tag gets 304 Not Modified
    # "the origin server MUST respond with either a) the 304 (Not Modified)
    # status code if the request method is GET or HEAD or b) the 412".
    When the client requests GET "/somedir/page.html"
    And the client requests GET "/somedir/page.html" with the header "If-None-Match" set to the last response's "ETag"
    Then the server replies 304

  @rfc9110-sec-13.1.2 @MUST
  Scenario: If-None-Match with another entity tag gets the whole object
    When the client requests GET "/somedir/page.html" with "If-None-Match: \"conform-no-such-tag\""
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-13.1.3 @MUST
  Scenario: If-None-Match takes precedence over If-Modified-Since
    # "A recipient MUST ignore If-Modified-Since if the request contains an
    # If-None-Match header field". The tag does not match, so the object is
    # sent even though the date alone would give 304.
    When the client requests GET "/somedir/page.html" with "If-None-Match: \"conform-no-such-tag\"\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-15.4.5 @MUST
  Scenario: A 304 response repeats the entity tag
    # "The server generating a 304 response MUST generate any of the following
    # header fields that would have been sent in a 200 (OK) response to the
    # same request: Content-Location, Date, ETag, and Vary".
    When the client requests GET "/somedir/page.html"
    And the client requests GET "/somedir/page.html" with the header "If-None-Match" set to the last response's "ETag"
    Then the server replies 304
    And the response header "ETag" is the same as in the previous response

  @rfc9110-sec-13.1.2 @MUST @course-H-34
  Scenario: A client library revalidates with the entity tag it was given
    # §13.1.2: the origin server "MUST evaluate the If-None-Match condition"
    # and, when it is false, "MUST respond with ... the 304 (Not Modified)".
    Given an HTTP client library (reqwest) for the target
    When the library client fetches "/someDepartment/home.index"
    And the library client fetches "/someDepartment/home.index" with the header "If-None-Match" set to the last library response's "ETag"
    Then the library response status is 304

  @rfc9110-sec-13.1.3 @SHOULD @course-H-34
  Scenario: A client library revalidates with the Last-Modified date it was given
    # §13.1.3: "the origin server SHOULD generate a 304 (Not Modified)".
    Given an HTTP client library (reqwest) for the target
    When the library client fetches "/someDepartment/home.index"
    And the library client fetches "/someDepartment/home.index" with the header "If-Modified-Since" set to the last library response's "Last-Modified"
    Then the library response status is 304

  @rfc9110-sec-13.1.1 @MUST
  Scenario: If-Match with a tag that is not current stops the GET
    # §13.1.1: "the origin server MUST evaluate the If-Match condition ...
    # prior to performing the method"; "An origin server that evaluates an
    # If-Match condition MUST NOT perform the requested method if the
    # condition evaluates to false. Instead, the origin server MAY indicate
    # that the conditional request failed by responding with a 412". The
    # 2xx alternative is for a state-changing request already applied, not
    # GET. (No current tag is "conform-no-such-tag".)
    When the client requests GET "/somedir/page.html" with "If-Match: \"conform-no-such-tag\""
    Then the server replies with one of 412, 4xx

  @rfc9110-sec-13.1.4 @MUST
  Scenario: If-Unmodified-Since a date before the last modification stops the GET
    # §13.1.4: the origin server "MUST evaluate the condition per Section
    # 13.2 prior to performing the method"; "If the selected representation
    # has a last modification date, the origin server MUST NOT perform the
    # requested method if that date is more recent than the date provided in
    # the field value. Instead, the origin server MAY indicate that the
    # conditional request failed by responding with a 412". The fixture
    # files were written long after 1990.
    When the client requests GET "/somedir/page.html" with "If-Unmodified-Since: Mon, 01 Jan 1990 00:00:00 GMT"
    Then the server replies with one of 412, 4xx

  @rfc9110-sec-13.1.3 @MUST
  Scenario: If-Modified-Since on a POST is ignored
    # §13.1.3: "A recipient MUST ignore the If-Modified-Since header field if
    # ... the request method is neither GET nor HEAD." A date in the future
    # would make it true: a 304 means it was not ignored.
    Given the target has the "echo" resource
    When the client sends the request "POST ${http.echo} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Type: text/plain\r\nIf-Modified-Since: Fri, 01 Jan 2100 00:00:00 GMT\r\nContent-Length: 5\r\n\r\nhello" and reads the response
    Then the server replies 200
    And the response body contains "len=5"

  @rfc9110-sec-14.2 @MUST
  Scenario: A Range with a unit the server does not know is ignored
    # §14.2: "An origin server MUST ignore a Range header field that
    # contains a range unit it does not understand." Ignored, the GET is
    # answered as without it: 200 with the whole file.
    When the client requests GET "/somedir/page.html" with "Range: conform-units=0-4"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9110-sec-15.3.7.1 @MUST
  Scenario: A byte range is ignored, or answered with 206, that range and its Content-Range
    # §14.2: "A server MAY ignore the Range header field": 200 with the
    # whole file passes. §15.3.7.1: "If a single part is being transferred,
    # the server generating the 206 response MUST generate a Content-Range
    # header field, describing what range of the selected representation is
    # enclosed, and a content consisting of the range." bytes=10-19 is the
    # eleventh to twentieth octet (§14.1.2: positions count from zero, both
    # inclusive).
    When the client requests GET "/big.txt" with "Range: bytes=10-19"
    Then the response is the whole fixture file "/big.txt", or 206 with its bytes 10-19 and their Content-Range

  @rfc9110-sec-14.2 @MUST
  Scenario: A Range on a POST is ignored
    # §14.2: "A server MUST ignore a Range header field received with a
    # request method that is unrecognized or for which range handling is not
    # defined. For this specification, GET is the only method for which
    # range handling is defined." The echo resource answers the POST whole
    # ("len=5"); a 206 applied the range.
    Given the target has the "echo" resource
    When the client sends the request "POST ${http.echo} HTTP/1.1\r\nHost: ${http.address}\r\nContent-Type: text/plain\r\nRange: bytes=0-1\r\nContent-Length: 5\r\n\r\nhello" and reads the response
    Then the server replies 200
    And the response body contains "len=5"

  @rfc9110-sec-14.2 @SHOULD
  Scenario: A server that serves byte ranges answers an unsatisfiable one with 416
    # §14.2: "If all of the preconditions are true, the server supports the
    # Range header field for the target resource, the received Range
    # field-value contains a valid ranges-specifier, and either the
    # range-unit is not supported for that target resource or the
    # ranges-specifier is unsatisfiable with respect to the selected
    # representation, the server SHOULD send a 416 (Range Not Satisfiable)
    # response." /big.txt has 100000 octets; bytes=200000- starts past them
    # (§14.1.2). A server that ignores ranges (MAY) is skipped.
    Given the target answers a byte range of "/big.txt" with 206
    When the client requests GET "/big.txt" with "Range: bytes=200000-"
    Then the server replies 416
