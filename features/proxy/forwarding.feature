@proxy @rfc9110 @timeout(30s)
Feature: Proxy: forwarding requests and responses

  A web cache is a server to the browser and a client to the origin
  (course notes H-32). Each scenario starts the harness's HTTP origin
  peer, sends requests through the proxy (absolute-form to a forward
  proxy, origin-form to a gateway, `[proxy] mode`), and judges both what
  reached the origin and what the proxy answered. RFC 9110 §7.6 states
  what an intermediary does to a message it forwards; RFC 9112 §3.2 how a
  proxy's request-target becomes the origin's.

  @rfc9112-sec-3.2.1 @MUST
  Scenario: An absolute-form request is forwarded in origin-form
    # RFC 9112 §3.2.1: "When making a request directly to an origin server,
    # other than a CONNECT or server-wide OPTIONS request, a client MUST
    # send only the absolute path and query components of the target URI
    # as the request-target." The proxy is the origin's client.
    Given the proxy is a forward proxy
    And an origin behind the proxy serves "/page" with "hello origin-form"
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response body contains "hello origin-form"
    And the origin's last request for "/page" is in origin-form

  @rfc9112-sec-3.2.2 @MUST
  Scenario: The forwarded Host is the authority of the absolute-form target
    # RFC 9112 §3.2.2: "When a proxy receives a request with an
    # absolute-form of request-target, the proxy MUST ignore the received
    # Host header field (if any) and instead replace it with the host
    # information of the request-target. A proxy that forwards such a
    # request MUST generate a new Host field value based on the received
    # request-target rather than forward the received Host field value."
    Given the proxy is a forward proxy
    And an origin behind the proxy serves "/page" with "hello host"
    When the client requests GET "/page" through the proxy with "Host: other.example.test"
    Then the origin's last request for "/page" has the URL's authority in Host

  @rfc9112-sec-2.3 @MUST
  Scenario: The proxy forwards requests with its own HTTP-version, not the client's
    # RFC 9112 §2.3: "Intermediaries that process HTTP messages (i.e., all
    # intermediaries other than those acting as tunnels) MUST send their
    # own HTTP-version in forwarded messages". An HTTP/1.1 and an HTTP/1.0
    # request reach the origin with one version: the proxy's own (nginx's
    # upstream client speaks HTTP/1.0 unless configured, squid HTTP/1.1;
    # both are their own).
    Given an origin behind the proxy serves "/page" with "hello version" and the fields "Cache-Control: no-store"
    When the client requests GET "/page" through the proxy
    And the client requests GET "/page" through the proxy over HTTP/1.0
    Then the server replies with one of 200
    And the origin's requests for "/page" all say one HTTP-version, whatever the client's

  @rfc9110-sec-7.6.3 @MUST
  Scenario: The forwarded request carries Via
    # RFC 9110 §7.6.3: "A proxy MUST send an appropriate Via header field
    # ... in each message that it forwards. An HTTP-to-HTTP gateway MUST
    # send an appropriate Via header field in each inbound request
    # message". Via = #( received-protocol RWS received-by ); the request
    # came as HTTP/1.1.
    Given an origin behind the proxy serves "/page" with "hello via"
    When the client requests GET "/page" through the proxy
    Then the origin's last request for "/page" has a Via naming 1.1

  @rfc9110-sec-7.6.3 @MUST
  Scenario: A forward proxy's response carries Via
    # RFC 9110 §7.6.3: "A proxy MUST send an appropriate Via header field
    # ... in each message that it forwards" (a gateway only MAY, on
    # responses: the scenario is a forward proxy's).
    Given the proxy is a forward proxy
    And an origin behind the proxy serves "/page" with "hello via back"
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response has the header "Via"

  @rfc9110-sec-7.6.1 @MUST
  Scenario: Fields the request's Connection lists are not forwarded
    # RFC 9110 §7.6.1: "Intermediaries MUST parse a received Connection
    # header field before a message is forwarded and, for each
    # connection-option in this field, remove any header or trailer
    # field(s) from the message with the same name as the
    # connection-option, and then remove the Connection header field
    # itself (or replace it with the intermediary's own control options
    # for the forwarded message)."
    Given an origin behind the proxy serves "/page" with "hello hop"
    When the client requests GET "/page" through the proxy with "Connection: X-Conform-Hop\r\nX-Conform-Hop: for-the-proxy-only"
    Then the origin's last request for "/page" has no field "X-Conform-Hop"

  @rfc9110-sec-7.6.1 @SHOULD
  Scenario: Known hop-by-hop fields are not forwarded
    # RFC 9110 §7.6.1: "intermediaries SHOULD remove or replace fields that
    # are known to require removal before forwarding, whether or not they
    # appear as a connection-option ... Proxy-Connection ... Keep-Alive".
    Given an origin behind the proxy serves "/page" with "hello keep-alive"
    When the client requests GET "/page" through the proxy with "Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive"
    Then the origin's last request for "/page" has no field "Keep-Alive"
    And the origin's last request for "/page" has no field "Proxy-Connection"

  @rfc9110-sec-7.6.1 @MUST
  Scenario: Fields the response's Connection lists are not forwarded
    # RFC 9110 §7.6.1, the same rule on the way back: the origin's
    # response lists X-Conform-Origin-Hop in Connection.
    Given an origin behind the proxy serves "/page" with "hello hop back" and the fields "Connection: X-Conform-Origin-Hop | X-Conform-Origin-Hop: for-the-proxy-only"
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response has no header "X-Conform-Origin-Hop"

  @rfc9110-sec-7.6.2 @MUST
  Scenario: OPTIONS with Max-Forwards 0 is answered by the proxy itself
    # RFC 9110 §7.6.2: "If the received value is zero (0), the intermediary
    # MUST NOT forward the request; instead, the intermediary MUST respond
    # as the final recipient."
    Given an origin behind the proxy serves "/page" with "hello options"
    When the client requests OPTIONS "/page" through the proxy with "Max-Forwards: 0"
    Then the origin received no request for "/page"

  @rfc9110-sec-7.6.2 @MUST
  Scenario: TRACE with Max-Forwards 0 is answered by the proxy itself
    # RFC 9110 §7.6.2, as for OPTIONS: "Each intermediary that receives a
    # TRACE or OPTIONS request containing a Max-Forwards header field MUST
    # check and update its value prior to forwarding the request", and at
    # zero MUST NOT forward it. How the proxy answers (a reflection of the
    # request, or a refusal of TRACE, which is optional, §9.1) is its own.
    Given an origin behind the proxy serves "/page" with "hello trace"
    When the client requests TRACE "/page" through the proxy with "Max-Forwards: 0"
    Then the origin received no request for "/page"

  @rfc9110-sec-7.6.2 @MUST
  Scenario: OPTIONS with Max-Forwards 5 is forwarded with Max-Forwards 4
    # RFC 9110 §7.6.2: "If the received Max-Forwards value is greater than
    # zero, the intermediary MUST generate an updated Max-Forwards field in
    # the forwarded message with a field value that is the lesser of a) the
    # received value decremented by one (1) or b) the recipient's maximum
    # supported value for Max-Forwards." 4 is the lesser of 4 and any
    # maximum worth having.
    Given an origin behind the proxy serves "/page" with "hello options"
    When the client requests OPTIONS "/page" through the proxy with "Max-Forwards: 5"
    Then the origin's last request for "/page" has the field "Max-Forwards" set to "4"

  @rfc9110-sec-7.7 @MUST
  Scenario: A no-transform response body reaches the client intact
    # RFC 9110 §7.7: "A proxy MUST NOT transform the content (Section 6.4)
    # of a response message that contains a no-transform cache directive".
    Given an origin behind the proxy serves "/data" with "\x00\x01binary\xff\xfe\r\n4711\x00" and the fields "Cache-Control: no-transform | Content-Type: application/octet-stream"
    When the client requests GET "/data" through the proxy
    Then the server replies with one of 200
    And the response body is exactly "\x00\x01binary\xff\xfe\r\n4711\x00"

  @rfc9110-sec-7.7 @MUST
  Scenario: A chunked no-transform response body reaches the client whole
    # RFC 9110 §7.7, as above; removing the chunked coding is allowed
    # ("this does not apply to message transformations that do not change
    # the content, such as the addition or removal of transfer codings"),
    # losing a chunk is not. The origin sends two chunks.
    Given an origin behind the proxy serves "/data" with "first chunk|second chunk 4711" and the fields "Cache-Control: no-transform"
    And the origin sends "/data" chunked
    When the client requests GET "/data" through the proxy
    Then the server replies with one of 200
    And the response body is exactly "first chunk|second chunk 4711"

  @rfc9110-sec-7.7 @MUST @course-H-32
  Scenario: A large binary object reaches the client octet for octet
    # RFC 9110 §7.7 as above; the object is 100000 octets of every byte
    # value in turn (CR, LF and NUL among them), so a proxy that handles
    # content as text or loses part of a large response is caught. The
    # course notes' cache forwards the origin's object to the browser
    # (H-32, step 5).
    Given an origin behind the proxy serves "/picture.bin" as 100000 octets of every byte value and the fields "Cache-Control: no-transform"
    When the client requests GET "/picture.bin" through the proxy
    Then the server replies with one of 200
    And the response body is the origin's "/picture.bin", octet for octet

  @rfc9112-sec-9.4 @MAY @course-H-32 @timeout(10s)
  Scenario: A second client is answered while the origin holds the first one's request
    # RFC 9112 §9.4 expects clients to use several connections at once and
    # sets no requirement on a server to serve them concurrently, so this
    # is judged at MAY. A proxy that serves one client at a time makes
    # every client wait for the slowest origin: here the first client's
    # request is held at the origin while the second one's must be
    # answered.
    Given the origin holds every request for "/slow" without answering
    And an origin behind the proxy serves "/page" with "not kept waiting"
    When a first client's request for "/slow" is held at the origin while a second client requests GET "/page" through the proxy
    Then the server replies with one of 200
    And the response body contains "not kept waiting"

  @rfc9110-sec-7.7 @MAY
  Scenario: A request body with Content-Length reaches the origin intact
    # RFC 9110 §7.7 forbids transforming only responses marked
    # no-transform; for a request "A proxy MAY transform the content of a
    # message that does not contain a no-transform cache directive", and
    # RFC 9111 §5.2.1.6 makes the request's no-transform a wish. So an
    # altered request body is reported, not failed.
    Given an origin behind the proxy serves "/form" with "posted"
    When the client requests POST "/form" through the proxy with "Content-Type: text/plain\r\nCache-Control: no-transform" and the body "name=conform&value=4711"
    Then the origin's last request for "/form" has the body "name=conform&value=4711"

  @rfc9110-sec-7.7 @MAY
  Scenario: A chunked request body reaches the origin intact
    # As above: the proxy may re-frame the body (remove the chunked coding,
    # RFC 9110 §7.7), but its content is what the client sent.
    Given an origin behind the proxy serves "/form" with "posted"
    When the client requests POST "/form" through the proxy with "Content-Type: text/plain\r\nCache-Control: no-transform\r\nTransfer-Encoding: chunked" and the body "5\r\nhello\r\n8\r\n, proxy!\r\n0\r\n\r\n"
    Then the origin's last request for "/form" has the body "hello, proxy!"

  @rfc9110-sec-15.6.3 @MAY
  Scenario: An origin that refuses the connection gets the client a 5xx, not a hang
    # RFC 9110 defines 502 (Bad Gateway, §15.6.3) and 504 (Gateway
    # Timeout, §15.6.5) for a gateway whose inbound server fails, and
    # 503 is what squid answers; no requirement keyword names the status,
    # so any of them passes and a proxy that never answers is reported.
    Given an origin behind the proxy that is not listening
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 502, 503, 504

  @rfc9110-sec-15.6.3 @MAY
  Scenario: An origin that closes without answering gets the client a 5xx
    # RFC 9110 §15.6.3: 502 "indicates that the server, while acting as a
    # gateway or proxy, received an invalid response from the inbound
    # server" — as above, no keyword, any of 502, 503, 504 passes.
    Given the origin closes every request for "/page" without answering
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 502, 503, 504

  @rfc9110-sec-15.6.5 @MAY
  Scenario: An origin that never answers gets the client a 504 within the proxy's timeout
    # RFC 9110 §15.6.5: 504 "indicates that the server, while acting as a
    # gateway or proxy, did not receive a timely response from an upstream
    # server". How long is timely is the proxy's configuration: the
    # profile states it (`[proxy] origin_timeout`, within the step
    # timeout), and a proxy still silent after the step timeout is
    # reported.
    Given the profile sets proxy.origin_timeout
    And the origin holds every request for "/page" without answering
    When the client requests GET "/page" through the proxy
    Then the server replies with one of 502, 503, 504

  @rfc9110-sec-9.3.6 @SHOULD
  Scenario: CONNECT to the SMTP port is not tunnelled
    # RFC 9110 §9.3.6: tunnelling to "a reserved TCP port that is not
    # intended for Web traffic ... could trick the proxy into relaying spam
    # email. Proxies that support CONNECT SHOULD restrict its use to a
    # limited set of known ports or a configurable list of safe request
    # targets." A proxy without CONNECT refuses it too.
    When the client sends the proxy "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: 127.0.0.1:25\r\n\r\n"
    Then the server replies with one of 4xx, 5xx
