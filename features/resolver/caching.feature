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
  Scenario Outline: A negative answer is cached no longer than the lesser of the SOA's TTL and its MINIMUM
    # RFC 2308 §5: the negative answer's TTL "is taken from the minimum of
    # the SOA.MINIMUM field and SOA's TTL. This TTL decrements in a similar
    # manner to a normal cached answer and upon reaching zero (0) indicates
    # the cached negative answer MUST NOT be used again." The zone's SOA
    # has <soa> (TTL and MINIMUM); either way the lesser is 2 seconds, and
    # the harness's server sends the SOA as written.
    When the client queries "nothing.<zone>.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    And every authority TTL is at most 2
    When the hierarchy's queries so far are noted
    And 4 seconds pass
    And the client queries "nothing.<zone>.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    And a query for "nothing.<zone>.${tld}" reached the hierarchy since they were noted

    Examples:
      | zone | soa                 |
      | neg  | TTL 300, MINIMUM 2  |
      | neg2 | TTL 2, MINIMUM 300  |
