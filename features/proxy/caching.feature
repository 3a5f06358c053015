@proxy @rfc9111 @timeout(30s)
Feature: Proxy: caching (RFC 9111)

  The web cache of the course notes (H-32..H-34) as RFC 9111 states it
  for a shared cache: what it may store (§3), when a stored response may
  answer (§4: the key, Vary, freshness), how it is validated (§4.3) and
  invalidated (§4.4). The origin peer counts the requests that reach it:
  "served from the cache" is the origin seeing one request. Caching
  itself is optional (RFC 9111 §1: "caching is an entirely OPTIONAL
  feature of HTTP"), so reusing a response is judged at MAY; what a cache
  must not do is judged at MUST. Each scenario uses paths of its own.

  @rfc9111-sec-4.2.1 @MAY @course-H-33
  Scenario: A fresh response (max-age) is served from the cache
    # RFC 9111 §1: "it can be assumed that reusing a cached response is
    # desirable and that such reuse is the default behavior when no
    # requirement or local configuration prevents it"; §4.2: a fresh
    # response can be used without contacting the origin.
    Given an origin behind the proxy serves "/page" with "cached max-age" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response body contains "cached max-age"
    And the origin received one request for "/page"

  @rfc9111-sec-4.2 @MAY @course-H-32
  Scenario: A fresh response is served from the cache after the origin has gone
    # RFC 9111 §4.2: a fresh response can be reused without contacting the
    # origin; the course notes' cache "checks for a local copy; if
    # present, it returns it" (H-32, step 2). Reuse is optional (§1), so
    # judged at MAY. The origin stops after the first request: only a
    # stored copy can answer the second.
    Given an origin behind the proxy serves "/page" with "kept while the origin is away" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the origin stops
    And the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response body contains "kept while the origin is away"

  @rfc9111-sec-5.2.2.10 @MAY
  Scenario: s-maxage makes a response fresh for a shared cache
    # RFC 9111 §5.2.2.10: "for a shared cache, the maximum age specified by
    # this directive overrides the maximum age specified by either the
    # max-age directive or the Expires header field".
    Given an origin behind the proxy serves "/page" with "cached s-maxage" and the fields "Cache-Control: max-age=0, s-maxage=3600"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the origin received one request for "/page"

  @rfc9111-sec-5.3 @MAY
  Scenario: A response fresh by Expires is served from the cache
    # RFC 9111 §4.2.1: without max-age, "If the Expires response header
    # field (Section 5.3) is present, use its value minus the value of the
    # Date response header field".
    Given an origin behind the proxy serves "/page" with "cached expires" and the fields "Expires: <in an hour>"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the origin received one request for "/page"

  @rfc9111-sec-4 @MUST
  Scenario: A response served from the cache carries Age
    # RFC 9111 §4: "When a stored response is used to satisfy a request
    # without validation, a cache MUST generate an Age header field
    # (Section 5.1), replacing any present in the response with a value
    # equal to the stored response's current_age". The origin sent no Age.
    Given an origin behind the proxy serves "/page" with "aged" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the response has an Age, unless the origin received a second request for "/page"

  @rfc9111-sec-5.3 @MUST
  Scenario: max-age overrides Expires
    # RFC 9111 §5.3: "If a response includes a Cache-Control header field
    # with the max-age directive (Section 5.2.2.1), a recipient MUST ignore
    # the Expires header field." max-age=0 makes it stale at once, and
    # §4.2.4: "A cache MUST NOT send stale responses unless it is
    # disconnected or doing so is explicitly permitted".
    Given an origin behind the proxy serves "/page" with "not by expires" and the fields "Cache-Control: max-age=0 | Expires: <in an hour>"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-5.2.2.10 @MUST
  Scenario: s-maxage=0 overrides max-age for a shared cache
    # RFC 9111 §4.2.1: "If the cache is shared and the s-maxage response
    # directive (Section 5.2.2.10) is present, use its value"; the response
    # is stale at once and (§4.2.4) a cache "MUST NOT send stale
    # responses" unless disconnected or permitted.
    Given an origin behind the proxy serves "/page" with "not by max-age" and the fields "Cache-Control: max-age=3600, s-maxage=0"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-5.3 @MUST
  Scenario: An invalid Expires ("0") means already expired
    # RFC 9111 §5.3: "A cache recipient MUST interpret invalid date
    # formats, especially the value "0", as representing a time in the
    # past (i.e., "already expired")."
    Given an origin behind the proxy serves "/page" with "expired" and the fields "Expires: 0"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-4.2.2 @MUST
  Scenario: A response whose Expires has passed is not made fresh by a heuristic
    # RFC 9111 §4.2.2: "A cache MUST NOT use heuristics to determine
    # freshness when an explicit expiration time is present in the stored
    # response." The response changed a day ago (a 10% heuristic would
    # make it fresh for over two hours) but its Expires passed an hour ago:
    # it is stale, and the second request must reach the origin.
    Given an origin behind the proxy serves "/page" with "expired explicitly" and the fields "Last-Modified: <a day ago> | Expires: <an hour ago>"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-4.2.4 @MUST
  Scenario: A response that has become stale is not served while the origin answers
    # RFC 9111 §4.2.4: "A cache MUST NOT send stale responses unless it is
    # disconnected or doing so is explicitly permitted by the client or
    # origin server". max-age=1, and the second request comes 2.5 s later.
    Given an origin behind the proxy serves "/page" with "soon stale" and the fields "Cache-Control: max-age=1"
    When the client requests GET "/page" through the proxy
    And the client waits 2.5 seconds
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-3 @MUST
  Scenario: A no-store response is not stored
    # RFC 9111 §3: "A cache MUST NOT store a response to a request unless:
    # ... the no-store cache directive is not present in the response".
    Given an origin behind the proxy serves "/page" with "do not store" and the fields "Cache-Control: max-age=3600, no-store"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-5.2.2.7 @MUST
  Scenario: A private response is not stored by a shared cache
    # RFC 9111 §5.2.2.7: "The unqualified private response directive
    # indicates that a shared cache MUST NOT store the response".
    Given an origin behind the proxy serves "/page" with "for one user" and the fields "Cache-Control: private, max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-3.5 @MUST
  Scenario: A response to a request with Authorization is not reused
    # RFC 9111 §3.5: "A shared cache MUST NOT use a cached response to a
    # request with an Authorization header field ... to satisfy any
    # subsequent request unless the response contains a Cache-Control
    # field with a response directive (Section 5.2.2) that allows it to be
    # stored by a shared cache". max-age alone does not.
    Given an origin behind the proxy serves "/page" with "for alice" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy with "Authorization: Basic YWxpY2U6c2VjcmV0"
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-3.5 @MAY
  Scenario: A public response to a request with Authorization may be reused
    # RFC 9111 §3.5: public (§5.2.2.9) is one of the directives that allow
    # a shared cache to reuse it.
    Given an origin behind the proxy serves "/page" with "for everyone" and the fields "Cache-Control: public, max-age=3600"
    When the client requests GET "/page" through the proxy with "Authorization: Basic YWxpY2U6c2VjcmV0"
    And the client requests GET "/page" through the proxy with "Authorization: Basic YWxpY2U6c2VjcmV0"
    Then the server replies with one of 200
    And the origin received one request for "/page"

  @rfc9111-sec-4.1 @MUST
  Scenario: A response that Varies on Accept-Language is not reused for another language
    # RFC 9111 §4.1: "the cache MUST NOT use that stored response without
    # revalidation unless all the presented request header fields
    # nominated by that Vary field value match those fields in the original
    # request".
    Given an origin behind the proxy serves "/page" with "english" and the fields "Cache-Control: max-age=3600 | Vary: Accept-Language"
    When the client requests GET "/page" through the proxy with "Accept-Language: en"
    And the client requests GET "/page" through the proxy with "Accept-Language: fr"
    Then the origin received two requests for "/page"

  @rfc9111-sec-4.1 @MAY
  Scenario: A response that Varies is reused for a matching request
    # RFC 9111 §4.1: with the nominated fields matching, the stored
    # response may be used.
    Given an origin behind the proxy serves "/page" with "english" and the fields "Cache-Control: max-age=3600 | Vary: Accept-Language"
    When the client requests GET "/page" through the proxy with "Accept-Language: en"
    And the client requests GET "/page" through the proxy with "Accept-Language: en"
    Then the origin received one request for "/page"

  @rfc9111-sec-5.2.1.4 @MUST
  Scenario: A request with no-cache is not answered from the cache unvalidated
    # RFC 9111 §4: a cache MUST NOT reuse a stored response unless "the
    # presented request does not contain the no-cache directive (Section
    # 5.2.1.4), unless the stored response is successfully validated".
    # Validating reaches the origin too.
    Given an origin behind the proxy serves "/page" with "reload me" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy with "Cache-Control: no-cache"
    Then the origin received two requests for "/page"

  @rfc9111-sec-5.2.1.1 @MAY
  Scenario: A request with max-age=0 is not answered from the cache unvalidated
    # RFC 9111 §5.2.1.1: the max-age request directive "indicates that the
    # client prefers a response whose age is less than or equal to the
    # specified number of seconds" — a preference, with no requirement
    # keyword, so honouring it is judged at MAY. At 0 no stored response
    # qualifies without validation, which reaches the origin.
    Given an origin behind the proxy serves "/page" with "no older than now" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy with "Cache-Control: max-age=0"
    Then the origin received two requests for "/page"

  @rfc9111-sec-5.2.2.4 @MUST
  Scenario: A no-cache response is validated before each reuse
    # RFC 9111 §5.2.2.4: "The no-cache response directive ... indicates
    # that the response MUST NOT be used to satisfy any other request
    # without forwarding it for validation and receiving a successful
    # response".
    Given an origin behind the proxy serves "/page" with "always ask" and the fields "Cache-Control: no-cache, max-age=3600 | ETag: \"nc1\""
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy
    Then the origin received two requests for "/page"

  @rfc9111-sec-5.2.2.2 @MUST
  Scenario: A stale must-revalidate response is not served when the origin fails
    # RFC 9111 §5.2.2.2: once stale, the response "MUST NOT be used to
    # satisfy any other request without forwarding it for validation and
    # receiving a successful response ... if a cache is disconnected, the
    # cache MUST generate an error response rather than reuse the stale
    # response. The generated status code SHOULD be 504".
    Given an origin behind the proxy serves "/page" with "stale must-revalidate body" and the fields "Cache-Control: max-age=1, must-revalidate | Last-Modified: <a day ago>"
    When the client requests GET "/page" through the proxy
    And the client waits 2.5 seconds
    Given the origin closes every request for "/page" without answering
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 5xx
    And the response body does not contain "stale must-revalidate body"

  @rfc9111-sec-5.2.2.8 @MUST
  Scenario: A stale proxy-revalidate response is not served by a shared cache when the origin fails
    # RFC 9111 §5.2.2.8: "The proxy-revalidate response directive indicates
    # that once the response has become stale, a shared cache MUST NOT
    # reuse that response to satisfy another request until it has been
    # successfully validated by the origin".
    Given an origin behind the proxy serves "/page" with "stale proxy-revalidate body" and the fields "Cache-Control: max-age=1, proxy-revalidate | Last-Modified: <a day ago>"
    When the client requests GET "/page" through the proxy
    And the client waits 2.5 seconds
    Given the origin closes every request for "/page" without answering
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 5xx
    And the response body does not contain "stale proxy-revalidate body"

  @rfc9111-sec-4.3.1 @MUST
  Scenario: A stale response with an entity tag is validated with If-None-Match
    # RFC 9111 §4.3.1: "When generating a conditional request for
    # validation, a cache: MUST send the relevant entity tags (using
    # If-Match, If-None-Match, or If-Range) if the entity tags were
    # provided in the stored response(s) being validated". A cache that
    # fetches the response again unconditionally breaks nothing (skipped).
    Given an origin behind the proxy serves "/page" with "tagged" and the fields "Cache-Control: max-age=1 | ETag: \"conform-v1\" | Last-Modified: <a day ago>"
    When the client requests GET "/page" through the proxy
    And the client waits 2.5 seconds
    And the client requests GET "/page" through the proxy
    Then the origin's last request for "/page" is conditional with "If-None-Match" of its "ETag" if it is conditional at all

  @rfc9111-sec-4.3.4 @MUST
  Scenario: A 304 to a validation updates the stored response's fields
    # RFC 9111 §4.3.4: "For each stored response identified, the cache MUST
    # update its header fields with the header fields provided in the 304
    # (Not Modified) response, as per Section 3.2." The stored body is
    # served with the new X-Version. (A cache that fetches again gets the
    # full response, with the same X-Version.)
    Given an origin behind the proxy serves "/page" with "stored body v1" and the fields "Cache-Control: max-age=1 | ETag: \"conform-m1\" | X-Conform-Version: 1"
    When the client requests GET "/page" through the proxy
    And the client waits 2.5 seconds
    Given the origin now serves "/page" with "stored body v1" and the fields "Cache-Control: max-age=1 | ETag: \"conform-m1\" | X-Conform-Version: 2"
    And the origin answers a conditional request for "/page" with 304 and the fields "Cache-Control: max-age=1 | ETag: \"conform-m1\" | X-Conform-Version: 2"
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response body contains "stored body v1"
    And the response header "X-Conform-Version" is "2"

  @rfc9111-sec-4.3.1 @MAY @course-H-34
  Scenario: The course's conditional GET: a stale object is revalidated with If-Modified-Since and a 304
    # Course notes H-34: the cache stores the object with its
    # Last-Modified date, asks the origin "If-Modified-Since", gets
    # 304 Not Modified with no body, and gives the client the stored
    # object. RFC 9111 §4.3.1: the cache "SHOULD send the Last-Modified
    # value (using If-Modified-Since)"; validating at all is optional, so
    # the exchange is judged at MAY.
    Given an origin behind the proxy serves "/page" with "the course's object" and the fields "Cache-Control: max-age=1 | Last-Modified: <a day ago>"
    And the origin answers a conditional request for "/page" with 304 and the fields "Cache-Control: max-age=1"
    When the client requests GET "/page" through the proxy
    And the client waits 2.5 seconds
    And the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response body contains "the course's object"
    And the origin received two requests for "/page"
    And the origin's last request for "/page" is conditional with "If-Modified-Since" of its "Last-Modified"

  @rfc9111-sec-4.4 @MUST
  Scenario: A POST invalidates the stored response of its target
    # RFC 9111 §4.4: "A cache MUST invalidate the target URI (Section 7.1
    # of [HTTP]) when it receives a non-error status code in response to an
    # unsafe request method (including methods whose safety is unknown)."
    # GET, POST, GET: the last GET must reach the origin again.
    Given an origin behind the proxy serves "/page" with "invalidate me" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests POST "/page" through the proxy with "Content-Type: text/plain" and the body "change"
    And the client requests GET "/page" through the proxy
    Then the origin received three requests for "/page"

  @rfc9111-sec-4 @MAY
  Scenario: A HEAD is answered from a stored GET response
    # RFC 9111 §4: a stored response may answer when "the request method
    # associated with the stored response allows it to be used for the
    # presented request"; RFC 9110 §9.3.2: HEAD is GET without content.
    Given an origin behind the proxy serves "/page" with "head from get" and the fields "Cache-Control: max-age=3600"
    When the client requests GET "/page" through the proxy
    And the client requests HEAD "/page" through the proxy
    Then the server replies with one of 200
    And the response has no body
    And the origin received one request for "/page"
