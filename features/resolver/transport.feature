@resolver @rfc7766
Feature: A recursive resolver's transports: TCP after TC, message sizes, servers that fail

  RFC 7766 §5 (TCP), RFC 2181 §9 (TC), RFC 6891 §7 (EDNS), RFC 1035 §4.2.1
  (UDP sizes), RFC 1034 §5.3.3 step 3 and 4d (other servers when one does
  not answer or fails).

  Background:
    Given the harness plays the DNS hierarchy

  @rfc7766-sec-5 @MUST
  Scenario: A truncated answer from a server is asked again over TCP
    # RFC 7766 §5: "Recursive server (or forwarder) implementations MUST
    # support TCP so that they do not prevent large responses from a
    # TCP-capable server from reaching its TCP-capable clients"; RFC 2181
    # §9: "When a DNS client receives a reply with TC set, it should ignore
    # that response, and query again, using a mechanism, such as a TCP
    # connection". The server of tcp.${tld} answers every UDP query with TC.
    When the client queries "www.tcp.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section contains:
      | name            | type | data       |
      | www.tcp.${tld}  | A    | 192.0.2.90 |
    And a query for "www.tcp.${tld}" A reached 127.53.0.9 over TCP

  @rfc6891 @rfc6891-sec-7 @rfc1035-sec-4.2.1 @MUST
  Scenario: A large answer for a client without EDNS fits 512 octets, with TC and no OPT
    # RFC 1035 §4.2.1: "Messages carried by UDP are restricted to 512 bytes
    # (not counting the IP or UDP headers). Longer messages are truncated
    # and the TC bit is set in the header"; RFC 6891 §7: without an OPT in
    # the request "the responder MUST NOT include an OPT record in its
    # response". big.glue.${tld} holds a TXT record of some 1500 octets.
    When the client queries "big.glue.${tld}" for TXT with RD set
    Then the response is at most 512 octets
    And the TC flag is set
    And the response has no OPT record

  @rfc1034-sec-5.3.3 @MUST @timeout(15s)
  Scenario: A server that does not answer leads to the delegation's other server
    # §5.3.3 step 3: "Send them queries until one returns a response";
    # backup.${tld} has two servers, of which 127.53.0.6 never answers.
    # §5.3.3 sets no deadline for trying the next one, and a resolver backs
    # off between tries (unbound was seen to time out on the silent server
    # after 0.4, 0.75 and 1.5 s before asking the other at 2.3 s): a wider
    # bound than the 5 s default. The client sends its query again every
    # 2 s meanwhile (RFC 1035 §4.2.1), as a stub does: unbound gives no
    # reply to a request it has worked on for 1.9 s (discard-timeout) and
    # answers the repeat from its cache.
    When the client queries "www.backup.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section contains:
      | name               | type | data       |
      | www.backup.${tld}  | A    | 192.0.2.60 |

  @rfc1034-sec-5.3.3 @MUST
  Scenario: A server that refuses (a lame delegation) leads to the other server
    # §5.3.3 step 4d: "If the response shows a servers failure or other
    # bizarre contents, delete the server from the SLIST and go back to step
    # 3"; 127.53.0.8 answers REFUSED for lame.${tld}.
    When the client queries "www.lame.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section contains:
      | name             | type | data       |
      | www.lame.${tld}  | A    | 192.0.2.70 |

  @rfc1035-sec-4.1.1 @SHOULD @timeout(10s)
  Scenario: When no server of a zone answers, the client gets SERVFAIL or nothing, never an answer
    # RCODE 2 (§4.1.1): "Server failure - The name server was unable to
    # process this query due to a problem with the name server". Neither
    # server of dead.${tld} answers. No RFC sets how long a resolver may
    # keep trying (RFC 1034 §5.3.3 only asks it to "bound the amount of
    # work"; unbound 1.17 is still retrying after 30 s), so silence within
    # the step's bound is accepted; any other RCODE or an answer is not.
    # No RFC 2119 keyword: @SHOULD.
    When the client queries "www.dead.${tld}" for A with RD set
    Then the server answers with RCODE SERVFAIL or not at all
