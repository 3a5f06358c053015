@http @rfc6265
Feature: Cookies

  The course's cookie exchange (H-31): the server's response carries
  Set-Cookie, the client sends the value back in Cookie on later requests,
  which lets a site keep "a user session layer on top of stateless HTTP".
  They need two application resources, named in the profile: http.cookie_set
  sets the cookie conform_id=4711 and http.cookie_show reports the Cookie
  header it received. Without them the scenarios are skipped.

  Background:
    Given an HTTP connection to the target

  @rfc6265-sec-4.1.1 @SHOULD @course-H-31
  Scenario: Set-Cookie follows the cookie grammar (name=value, then attributes)
    # "Servers SHOULD NOT send Set-Cookie headers that fail to conform to the
    # following grammar". The notes' "Set-cookie: 1678" would not.
    Given the target has the "cookie_set" resource
    When the client requests GET "${http.cookie_set}"
    Then the server replies 200
    And the response header "Set-Cookie" follows the set-cookie-string grammar
    And the response header "Set-Cookie" contains "conform_id=4711"

  @rfc6265-sec-4.2 @MAY @course-H-31
  Scenario: The server receives the Cookie a client sends back
    # RFC 6265 §4.2 puts no requirement on the server that receives Cookie
    # (its MUSTs are on the user agent, §5.4): this shows the course's
    # exchange working through the profile's resources, informationally.
    Given the target has the "cookie_show" resource
    When the client requests GET "${http.cookie_show}" with "Cookie: conform_id=4711"
    Then the server replies 200
    And the response body contains "conform_id=4711"

  @rfc6265-sec-5.4 @MAY @course-H-31
  Scenario: A client library stores the cookie and sends it on the next request
    # §5.4: "the user agent MUST send the cookie-string" — a rule for the
    # client (reqwest), not the server; informational against a target.
    Given the target has the "cookie_set" resource
    And the target has the "cookie_show" resource
    And an HTTP client library (reqwest) for the target
    When the library client fetches "${http.cookie_set}"
    And the library client fetches "${http.cookie_show}"
    Then the library response status is 200
    And the library response body contains "conform_id=4711"
