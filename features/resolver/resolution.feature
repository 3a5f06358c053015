@resolver @rfc1034
Feature: A recursive resolver walks the DNS hierarchy

  RFC 1034 §5.3.3 (the resolver's algorithm) and RFC 1035 §4.1.1 (the
  header of its answers). The harness plays the hierarchy: a root on
  127.53.0.1, the scenario's own top-level domain `${tld}` (a fresh label,
  so that nothing cached elsewhere applies), and second-level zones, each
  on its own loopback address. The client asks the resolver under test
  (`[resolver] address`) with RD set; the Then steps judge its answer and
  the queries that reached the hierarchy.

  Background:
    Given the harness plays the DNS hierarchy

  @rfc1034-sec-5.3.3 @MUST
  Scenario: A name is resolved by following referrals from the root, with glue
    # §5.3.3 step 4b: "if the response contains a better delegation to other
    # servers, cache the delegation information, and go to step 2"; the
    # root refers to the TLD's server, which refers to glue.${tld} with the
    # address of its server (glue).
    When the client queries "www.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section contains:
      | name             | type | data      |
      | www.glue.${tld}  | A    | 192.0.2.1 |
    And a query for "www.glue.${tld}" A reached 127.53.0.3

  @rfc1034-sec-5.3.3 @MUST
  Scenario: A delegation without glue is followed by resolving the server's name first
    # The TLD delegates glueless.${tld} to ns.glue.${tld} and gives no
    # address: §5.3.3 step 2 "if the addresses are not available, start
    # parallel resolver processes to look up the addresses" of the server.
    When the client queries "www.glueless.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section contains:
      | name                | type | data       |
      | www.glueless.${tld} | A    | 192.0.2.30 |
    And a query for "ns.glue.${tld}" reached 127.53.0.3
    And a query for "www.glueless.${tld}" A reached 127.53.0.4

  @rfc1035-sec-4.1.1 @MUST
  Scenario: The answer has RA set and RD and the ID copied from the query
    # §4.1.1: RD "may be set in a query and is copied into the response";
    # RA "is set or cleared in a response, and denotes whether recursive
    # query support is available in the name server"; the ID "is copied
    # [into] the corresponding reply".
    When the client queries "www.glue.${tld}" for A with RD set
    Then the RA flag is set
    And the RD flag is copied from the query
    And the response ID and opcode are the query's

  @rfc1035-sec-4.1.1 @SHOULD
  Scenario: An answer the resolver got from other servers is not marked authoritative
    # §4.1.1: AA "specifies that the responding name server is an authority
    # for the domain name in question section"; the resolver serves no
    # zone of the hierarchy. No RFC 2119 keyword: @SHOULD.
    When the client queries "www.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the AA flag is clear

  @rfc1034-sec-5.3.3 @MUST
  Scenario: A CNAME into another zone is followed there
    # §5.3.3 step 4c: "if the response shows a CNAME and that is not the
    # answer itself, cache the CNAME, change the SNAME to the canonical name
    # in the CNAME RR and go to step 1". alias.glue.${tld} points into
    # other.${tld}, delegated elsewhere.
    When the client queries "alias.glue.${tld}" for A with RD set
    Then the response has RCODE NOERROR
    And the answer section contains:
      | name              | type  | data             |
      | alias.glue.${tld} | CNAME | www.other.${tld} |
      | www.other.${tld}  | A     | 192.0.2.20       |
    And a query for "www.other.${tld}" A reached 127.53.0.3

  @rfc2308 @rfc2308-sec-6 @MUST
  Scenario: A name that does not exist is answered NXDOMAIN with the zone's SOA, from the cache too
    # RFC 2308 §6: "When a server, in answering a query, encounters a cached
    # negative response it MUST add the cached SOA record to the authority
    # section of the response with the TTL decremented by the amount of time
    # it was stored in the cache."
    When the client queries "nothing.glue.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    And the answer section is empty
    When the client queries "nothing.glue.${tld}" for A with RD set
    Then the response has RCODE NXDOMAIN
    And the authority section holds the SOA of "glue.${tld}"

  @rfc2308 @rfc2308-sec-6 @MUST
  Scenario: A name without data of the type is answered NOERROR with no answer and the SOA, from the cache too
    # RFC 2308 §6, as above, for NODATA.
    When the client queries "www.glue.${tld}" for MX with RD set
    Then the response has RCODE NOERROR
    And the answer section is empty
    When the client queries "www.glue.${tld}" for MX with RD set
    Then the response has RCODE NOERROR
    And the authority section holds the SOA of "glue.${tld}"
