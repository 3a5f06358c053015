@dns @rfc1035
Feature: DNS message header and question (RFC 1035 §4.1)

  Course notes §7, D-25: query and reply share one format; the 16-bit ID is
  "copied into the reply message to a query, allowing the client to match
  received replies with sent queries"; QR tells a query (0) from a reply (1);
  AA is "set in a reply message when a DNS server is an authoritative server
  for a queried name"; RD is copied from the query; RA says whether the
  server offers recursion. Every check here reads the header octets directly.

  RFC 1034 and 1035 predate RFC 2119: what they define without a keyword
  (the meaning of a header field) is tagged @MUST; where they say "should"
  or "may", the tag says so.

  Background:
    Given a DNS client for the server under test

  @rfc1035-sec-4.1.1 @MUST @course-D-25
  Scenario: The response carries the query's ID and opcode
    When the client sends this query:
      | id   | 4660           |
      | name | www.${dns.zone} |
      | type | A              |
    Then the response ID and opcode are the query's

  @rfc1035-sec-4.1.1 @MUST @course-D-25
  Scenario: The response has QR set
    When the client queries "www.${dns.zone}" for A
    Then the QR flag is set

  @rfc1035-sec-4.1.1 @MUST @course-D-25
  Scenario: RD set in the query is copied into the response
    When the client queries "www.${dns.zone}" for A with RD set
    Then the RD flag is set
    And the RD flag is copied from the query

  @rfc1035-sec-4.1.1 @MUST @course-D-25
  Scenario: RD clear in the query stays clear in the response
    When the client queries "www.${dns.zone}" for A
    Then the RD flag is clear

  @rfc1035-sec-4.1.1 @MUST @course-D-16 @course-D-26
  Scenario: An authoritative-only server leaves RA clear even when recursion is desired
    # RA "denotes whether recursive query support is available in the name
    # server" (also RFC 1034 §4.3.1); dig warns "recursion requested but not
    # available" (course notes D-16, D-26).
    Given the server under test offers no recursion
    When the client queries "www.${dns.zone}" for A with RD set
    Then the RA flag is clear

  @rfc1034 @rfc1034-sec-4.3.1 @MUST @course-D-16
  Scenario: A server that also recurses sets RA, whether or not recursion is desired
    # RFC 1034 §4.3.1: RA "is set or cleared by a name server in all
    # responses. The bit is true if the name server is willing to provide
    # recursive service for the client, regardless of whether the client
    # requested recursive service."
    Given the server under test offers recursion
    When the client queries "www.${dns.zone}" for A with RD set
    Then the RA flag is set
    When the client queries "www.${dns.zone}" for A
    Then the RA flag is set

  @rfc1035-sec-4.1.2 @rfc1035-sec-7.3 @MUST @course-D-25
  Scenario: The question is echoed byte for byte, the case of the name included
    # RFC 1035 §7.3 has resolvers match the question of a response to the
    # query's; RFC 4343 §4.1 asks servers to keep the case as received.
    When the client sends this query:
      | name | wWw.ExAmPlE.${dns.zone} |
      | type | A                       |
    Then the question section is the query's, byte for byte

  @rfc1035-sec-4.1.2 @rfc4343 @rfc4343-sec-3 @MUST @course-D-25
  Scenario: The question of a mixed-case query for an existing name is echoed exactly
    # Names compare without regard to case (RFC 1034 §3.1, RFC 4343 §3):
    # "WWW" is the existing name "www", answered with its data.
    When the client queries "WWW.${dns.zone}" for A
    Then the question section is the query's, byte for byte
    And the response has RCODE NOERROR
    And the AA flag is set
    And the answer section contains:
      | name            | type | data        |
      | www.${dns.zone} | A    | 192.0.2.10  |
      | www.${dns.zone} | A    | 192.0.2.11  |
      | www.${dns.zone} | A    | 192.0.2.12  |

  @rfc1035-sec-4.1.1 @MUST @course-D-13 @course-D-25
  Scenario: An answer from the zone's authoritative server has AA set
    When the client queries "www.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the AA flag is set

  @rfc1035-sec-4.1.1 @MUST @course-D-25
  Scenario: The section counts match the records present
    When the client queries "${dns.zone}" for MX
    Then every compression pointer in the response points back to an earlier name, and the sections fill the message exactly

  @rfc1035-sec-4.1.1 @MUST
  Scenario: The Z bit of the response is zero
    # §4.1.1: Z "Reserved for future use. Must be zero in all queries and
    # responses."
    When the client queries "www.${dns.zone}" for A
    Then the Z bit is clear

  @rfc4035 @rfc4035-sec-3.1.6 @MUST
  Scenario: An authoritative answer from an unsigned zone does not set AD
    # RFC 4035 §3.1.6: "A name server MUST NOT set the AD bit in a response
    # unless the name server considers all RRsets in the Answer and
    # Authority sections of the response to be authentic." The fixture zone
    # is not signed, so nothing in the answer is authenticated; AD in the
    # query (RFC 6840 §5.7: the client understands AD) does not change that.
    When the client sends this query:
      | name | www.${dns.zone} |
      | type | A               |
      | ad   | yes             |
    Then the response has RCODE NOERROR
    And the AD flag is clear
