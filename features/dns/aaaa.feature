@dns @rfc3596
Feature: IPv6 addresses (AAAA, RFC 3596)

  Course notes D-24: AAAA appears in the dig transcripts
  (`a.gtld-servers.net. 172800 IN AAAA 2001:503:a83e::2:30`).

  Background:
    Given a DNS client for the server under test

  @rfc3596-sec-2.2 @MUST @course-D-24
  Scenario: An AAAA query returns the 128-bit address
    When the client queries "www.${dns.zone}" for AAAA
    Then the answer section is exactly:
      | name            | type | data          |
      | www.${dns.zone} | AAAA | 2001:db8::10 |
    And the AA flag is set

  @rfc3596-sec-3 @MUST @course-D-23 @course-D-24
  Scenario: Additional section processing for MX includes the AAAA records too
    # RFC 3596 §3: the query types that perform type A additional section
    # processing (NS, SRV, MX) "must be redefined to perform both type A and
    # type AAAA additional section processing". A server that adds no
    # addresses at all (additional data is best effort, records.feature) is
    # not judged here.
    When the client queries "${dns.zone}" for MX
    Then where the additional section holds an A record of "mail.${dns.zone}", it also contains:
      | name             | type | data          |
      | mail.${dns.zone} | AAAA | 2001:db8::25 |

  @rfc1034 @rfc1034-sec-4.3.2 @MUST
  Scenario: An A query for a name with only an IPv6 address gets no data, not NXDOMAIN
    # Step 3a: the whole of QNAME is matched, so no name error; no RR
    # matches QTYPE, so the answer is empty.
    When the client queries "v6only.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the answer section is empty
