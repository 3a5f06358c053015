@dns @rfc1035
Feature: Queries as a resolver library sends them (hickory-client)

  The queries of these scenarios come from hickory-client 0.25, as an
  application's resolver library would send them: its own IDs, RD set,
  EDNS(0), its own UDP and TCP transports. The responses are checked on
  what hickory received.

  Background:
    Given a DNS client for the server under test

  @rfc1035-sec-4.2.1 @MUST @course-D-02 @course-D-20
  Scenario: hickory-client gets all the addresses of a name over UDP
    When a hickory client queries "www.${dns.zone}" for A over UDP
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is exactly:
      | name            | type | data       |
      | www.${dns.zone} | A    | 192.0.2.10 |
      | www.${dns.zone} | A    | 192.0.2.11 |
      | www.${dns.zone} | A    | 192.0.2.12 |

  @rfc1035-sec-4.2.2 @MUST @course-D-02
  Scenario: hickory-client gets the mail servers over TCP
    When a hickory client queries "${dns.zone}" for MX over TCP
    Then the response has RCODE NOERROR
    And the answer section has 2 records

  @rfc1034 @rfc1034-sec-4.3.2 @MUST @course-D-22
  Scenario: hickory-client gets the CNAME chain and the canonical name's address from the server
    When a hickory client queries "ftp.${dns.zone}" for A over UDP
    Then the answer section contains:
      | name            | type  | data            |
      | ftp.${dns.zone} | CNAME | web.${dns.zone} |
      | www.${dns.zone} | A     | 192.0.2.12      |

  @rfc1035-sec-4.1.1 @MUST
  Scenario: hickory-client sees NXDOMAIN with the SOA
    When a hickory client queries "nowhere.${dns.zone}" for A over UDP
    Then the response has RCODE NXDOMAIN
    And the authority section holds the SOA of "${dns.zone}"

  @rfc1035-sec-4.2.2 @MUST @course-D-02
  Scenario: hickory-client gets the whole large answer over TCP
    When a hickory client queries "big.${dns.zone}" for TXT over TCP
    Then the TC flag is clear
    And the answer section has 40 records

  @rfc1035-sec-3.3.13 @MUST @course-D-06
  Scenario: hickory-client gets the zone's SOA
    When a hickory client queries "${dns.zone}" for SOA over UDP
    Then the response has RCODE NOERROR
    And the answer section has 1 record
    And the AA flag is set
