@http @rfc9112
Feature: Persistent and non-persistent connections

  The course notes contrast non-persistent HTTP (one object per TCP
  connection, H-07) with persistent HTTP (the connection stays open, H-10)
  and pipelining (H-11); HTTP/1.0 closes by default and HTTP/1.1 persists
  (H-14). RFC 9112 §9 states the rules.

  Background:
    Given an HTTP connection to the target

  @rfc9112-sec-9.3 @SHOULD @course-H-10 @course-H-14
  Scenario: An HTTP/1.1 connection stays open for a second request
    # "If the received protocol is HTTP/1.1 (or later) ... the connection
    # will persist after the current response".
    When the client requests GET "/index.html"
    Then the server replies 200
    And the server keeps the connection open
    When the client requests GET "/somedir/page.html"
    Then the server replies 200
    And the response body is the fixture file "/somedir/page.html"

  @rfc9112-sec-9.6 @MUST @course-H-07 @course-H-20
  Scenario: Connection: close makes the server close after the response
    # "A server that receives a "close" connection option MUST initiate
    # closure of the connection after it sends the final response to the
    # request that contained the "close" connection option."
    When the client requests GET "/index.html" with "Connection: close"
    Then the server replies 200
    And the response body is the fixture file "/index.html"
    And the server closes the client's connection within 2000 ms

  @rfc9112-sec-9.6 @SHOULD @course-H-28
  Scenario: The response to Connection: close says Connection: close
    # "The server SHOULD send a "close" connection option in its final
    # response on that connection."
    When the client requests GET "/index.html" with "Connection: close"
    Then the response header "Connection" lists "close"

  @rfc9112-sec-9.3 @MUST @course-H-14
  Scenario: An HTTP/1.0 request without keep-alive gets one response and the connection closes
    # "If the received protocol is HTTP/1.0, the "keep-alive" connection
    # option is present ... the connection will persist after the current
    # response; otherwise, the connection will close after the current
    # response."
    When the client sends the request "GET /index.html HTTP/1.0\r\n\r\n" and reads the response
    Then the server replies 200
    And the response body is the fixture file "/index.html"
    And the server closes the client's connection within 2000 ms

  @rfc9112-sec-9.3 @MAY @course-H-13
  Scenario: An HTTP/1.0 request with Connection: keep-alive keeps the connection open
    # The server persists an HTTP/1.0 connection only if it "wishes to honor
    # the HTTP/1.0 "keep-alive" mechanism"; then it says so in its response.
    When the client requests GET "/index.html" over HTTP/1.0 with "Connection: keep-alive"
    Then the server replies 200
    And the response header "Connection" lists "keep-alive"
    And the server keeps the connection open

  @rfc9112-sec-9.3.2 @MUST @course-H-11
  Scenario: Pipelined requests are answered in the order they were sent
    # "A server MAY process a sequence of pipelined requests in parallel if
    # they all have safe methods, but it MUST send the corresponding responses
    # in the same order that the requests were received."
    When the client sends these requests in one write: "GET /somedir/page.html", "HEAD /index.html", "GET /someDepartment/home.index", "GET /index.html"
    Then the next response is 200 with the body of the fixture file "/somedir/page.html"
    And the next response is 200 with no body
    And the next response is 200 with the body of the fixture file "/someDepartment/home.index"
    And the next response is 200 with the body of the fixture file "/index.html"

  @rfc9112-sec-9.4 @SHOULD @course-H-09
  Scenario: Six parallel connections from one client are all served
    Then 6 parallel connections each get the fixture file "/someDepartment/home.index"

  @rfc9112-sec-9.5 @MAY @course-H-12 @timeout(20s)
  Scenario: An idle persistent connection is closed after the server's idle timeout
    # "Typically, the HTTP server closes a connection when it isn't used for a
    # certain time (a configurable timeout interval)." The profile states the
    # target's timeout as http.idle_timeout.
    When the client requests GET "/index.html"
    Then the server replies 200
    And the server closes the idle connection within its idle timeout

  @rfc9112-sec-9.3 @SHOULD @course-H-10
  Scenario: A client library reuses one connection for several objects
    # What a real client does with a persistent connection: reqwest keeps its
    # connection and sends the next request over it.
    Given an HTTP client library (reqwest) for the target
    When the library client fetches "/someDepartment/home.index"
    And the library client fetches "/someDepartment/picture.gif"
    And the library client fetches "/somedir/page.html"
    Then the library response status is 200
    And the library response body is the fixture file "/somedir/page.html"
    And the library client used 1 connection in all
