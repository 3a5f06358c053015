@dns @rfc2181
Feature: RRsets and TTLs (RFC 2181)

  Background:
    Given a DNS client for the server under test

  @rfc2181-sec-5.2 @MUST @course-D-19
  Scenario: The records of an RRset in a response have one TTL
    # RFC 2181 §5.2: "the TTLs of all RRs in an RRSet must be the same".
    When the client queries "www.${dns.zone}" for A
    Then the records of each RRset have the same TTL

  @rfc2181-sec-5.2 @MUST
  Scenario: The RRsets of a referral each have one TTL
    Given the zone under test holds the fixture's "delegation" data
    When the client queries "www.child.${dns.zone}" for A
    Then the records of each RRset have the same TTL

  @rfc2181-sec-8 @MUST @course-D-19
  Scenario: TTLs are within 0 to 2^31 - 1
    When the client queries "${dns.zone}" for MX
    Then every TTL is at most 2147483647

  @rfc2181-sec-6.1 @MUST @course-D-13
  Scenario: Data from the zone apex is authoritative
    # RFC 2181 §6.1: the server for a zone holds authoritative data for the
    # names in it, and answers with AA set.
    When the client queries "${dns.zone}" for SOA
    Then the AA flag is set
    And the answer section has 1 record
