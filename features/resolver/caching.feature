@resolver @rfc1035
Feature: A recursive resolver caches answers for their TTL, and not longer

  RFC 1035 §7.4 ("we expect a resolver to cache all data which it receives
  in responses"), §6.1.3 (TTLs of cached data "count down"), RFC 1034 §3.6
  (the TTL "describes how long a RR can be cached before it should be
  discarded") and RFC 2308 §5 (negative answers). Each scenario asks a name
  of its own fixture hierarchy twice and judges what reached the hierarchy
  in between.

  Background:
    Given the harness plays the DNS hierarchy

  @rfc1035-sec-7.4 @SHOULD @timeout(15s)
  Scenario: A repeated query is answered from the cache, with the TTL counted down
    # §7.4: "we expect a resolver to cache all data which it receives in
    # responses since it may be useful in answering future client
    # requests"; §6.1.3: "TTLs for cached data conceptually 'count down'".
    # No RFC 2119 keyword: @SHOULD.
    When the client queries "cached.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the hierarchy's queries so far are noted
    And 2 seconds pass
    And the client queries "cached.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And no query for "cached.glue.${tld}" reached the hierarchy since they were noted
    And each answer TTL is at least 1 lower than in the response before

  @rfc1034-sec-3.6 @SHOULD @timeout(15s)
  Scenario: A record whose TTL has run out is asked for again
    # RFC 1034 §3.6: the TTL "describes how long a RR can be cached before
    # it should be discarded"; RFC 2181 §8 and RFC 8767 §4 (serve-stale
    # only when the authorities cannot be reached) leave no room for using
    # it past its TTL while the servers answer. short.glue.${tld} has TTL 2.
    # "should" is lower case in an RFC before RFC 2119: @SHOULD.
    When the client queries "short.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    When the hierarchy's queries so far are noted
    And 4 seconds pass
    And the client queries "short.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And a query for "short.glue.${tld}" A reached the hierarchy since they were noted
    And every answer TTL is at most 2

  @rfc2308 @rfc2308-sec-5 @MUST @timeout(15s)
  Scenario: A negative answer is cached no longer than its SOA's TTL
    # RFC 2308 §5: the negative answer's TTL is that of the SOA in its
    # authority section; "This TTL decrements in a similar manner to a
    # normal cached answer and upon reaching zero (0) indicates the cached
    # negative answer MUST NOT be used again." The zone's SOA has TTL 2
    # and MINIMUM 300, so the lesser the authoritative server must send
    # (§3) is the TTL as written: 2 seconds. What TTL the resolver shows in
    # its first, uncached answer is not judged.
    When the client queries "nothing.neg2.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    When the hierarchy's queries so far are noted
    And 4 seconds pass
    And the client queries "nothing.neg2.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    And a query for "nothing.neg2.${tld}" reached the hierarchy since they were noted

  @rfc2308 @rfc2308-sec-4 @MAY @timeout(15s)
  Scenario: A negative answer is cached no longer than the SOA's MINIMUM when the server sent a longer TTL
    # RFC 2308 §4 makes the SOA's MINIMUM "the TTL to be used for negative
    # responses", and §3 tells the authoritative server to send the SOA
    # with the lesser of its TTL and MINIMUM. This zone's server sends TTL
    # 300 with MINIMUM 2 as written, against §3. No keyword tells a
    # resolver to apply MINIMUM itself when the server did not, so holding
    # to 2 seconds is judged at MAY: unbound does, BIND 9 caches the answer
    # for the 300 seconds the record says.
    When the client queries "nothing.neg.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    When the hierarchy's queries so far are noted
    And 4 seconds pass
    And the client queries "nothing.neg.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    And a query for "nothing.neg.${tld}" reached the hierarchy since they were noted
