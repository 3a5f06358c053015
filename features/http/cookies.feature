@http @rfc6265
Feature: Cookies

  The course's cookie exchange (H-31): the server's response carries
  Set-Cookie, the client sends the value back in Cookie on later requests,
  which lets a site keep "a user session layer on top of stateless HTTP".
  The fixture resource /cookie/set sets the cookie conform_id=4711 and
  /cookie/show reports the Cookie header it received.

  Background:
    Given an HTTP connection to the target

  @sec-4.1.1 @SHOULD @course-H-31
  Scenario: Set-Cookie follows the cookie grammar (name=value, then attributes)
    # "Servers SHOULD NOT send Set-Cookie headers that fail to conform to the
    # following grammar". The notes' "Set-cookie: 1678" would not.
    When the client requests GET "/cookie/set"
    Then the server replies 200
    And the response header "Set-Cookie" follows the set-cookie-string grammar
    And the response header "Set-Cookie" contains "conform_id=4711"

  @sec-4.2 @MUST @course-H-31
  Scenario: The server receives the Cookie a client sends back
    When the client requests GET "/cookie/show" with "Cookie: conform_id=4711"
    Then the server replies 200
    And the response body contains "conform_id=4711"

  @sec-5.4 @MUST @course-H-31
  Scenario: A client library stores the cookie and sends it on the next request
    Given an HTTP client library (reqwest) for the target
    When the library client fetches "/cookie/set"
    And the library client fetches "/cookie/show"
    Then the library response status is 200
    And the library response body contains "conform_id=4711"
