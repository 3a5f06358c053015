@dns @rfc1034
Feature: The authoritative lookup: negative answers, wildcards, names outside the zone

  RFC 1034 §4.3.2 (the lookup algorithm) and §4.3.3 (wildcards); RFC 2308
  §2.1 and §2.2: a negative answer is authoritative and carries the zone's
  SOA in the authority section, so that it can be cached.

  Background:
    Given a DNS client for the server under test

  @sec-4.3.2 @MUST @course-D-26
  Scenario: A name that does not exist gets NXDOMAIN with AA set
    When the client queries "no-such-name.${dns.zone}" for A
    Then the response has RCODE NXDOMAIN
    And the AA flag is set
    And the answer section is empty

  @sec-4.3.2 @MUST
  Scenario: NXDOMAIN carries the zone's SOA in the authority section
    # RFC 2308 §3: "Name servers authoritative for a zone MUST include the
    # SOA record of the zone in the authority section of the response when
    # reporting an NXDOMAIN or indicating that no data of the requested type
    # exists."
    When the client queries "no-such-name.${dns.zone}" for A
    Then the authority section holds the SOA of "${dns.zone}"

  @sec-4.3.2 @MUST
  Scenario: A name without data of the asked type gets NOERROR, no answer, and the SOA
    When the client queries "mail2.${dns.zone}" for AAAA
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is empty
    And the authority section holds the SOA of "${dns.zone}"

  @sec-3.1 @MUST
  Scenario: A name that has only descendants exists: NODATA, not NXDOMAIN
    # dept.${dns.zone} owns no records but host.dept.${dns.zone} does
    # (an "empty non-terminal"; RFC 8020 §2).
    When the client queries "dept.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the answer section is empty

  @sec-4.3.3 @MUST
  Scenario: A wildcard answers for a name it covers, under the name asked for
    When the client queries "anything.wild.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is exactly:
      | name                      | type | data       |
      | anything.wild.${dns.zone} | A    | 192.0.2.99 |

  @sec-4.3.3 @MUST
  Scenario: A wildcard answers several labels deep
    When the client queries "a.b.wild.${dns.zone}" for TXT
    Then the answer section is exactly:
      | name                 | type | data                          |
      | a.b.wild.${dns.zone} | TXT  | "synthesised from a wildcard" |

  @sec-4.3.3 @MUST
  Scenario: A name that exists is not answered from the wildcard
    When the client queries "exact.wild.${dns.zone}" for A
    Then the answer section is exactly:
      | name                   | type | data       |
      | exact.wild.${dns.zone} | A    | 192.0.2.98 |

  @sec-4.3.3 @MUST
  Scenario: A wildcard does not hide the absence of a type at an existing name
    When the client queries "exact.wild.${dns.zone}" for TXT
    Then the response has RCODE NOERROR
    And the answer section is empty

  @sec-4.3.2 @sec-4.3.1 @MUST @course-D-28
  Scenario: A name outside the server's zones is refused, not answered or recursed for
    # RFC 1034 §4.3.2 step 2 applies only to names the server holds; an
    # authoritative-only server that offers no recursion answers REFUSED
    # (RFC 1035 §4.1.1: "the name server refuses to perform the specified
    # operation for policy reasons"). RA stays clear.
    When the client queries "www.example.invalid" for A with RD set
    Then the response has RCODE REFUSED
    And the answer section is empty
    And the AA flag is clear
    And the RA flag is clear

  @sec-4.3.2 @MUST @course-D-25
  Scenario: The answer holds only records of the question's name and type
    When the client queries "mail.${dns.zone}" for A
    Then every answer record is for the question's name and type, or a CNAME chain leading to them
