@dns @rfc1034
Feature: Referrals to a delegated child zone (RFC 1034 §4.3.2 step 3b)

  Course notes D-17 and D-26: a server asked about a name below a zone cut
  answers with the child's NS records in the authority section, their
  addresses (glue) in the additional section, no answer, and AA clear, as in
  `dig @m.gtld-servers.net www.example.net` (ANSWER: 0, AUTHORITY: 2).

  Background:
    Given a DNS client for the server under test
    And the zone under test holds the fixture's "delegation" data

  @rfc1034-sec-4.3.2 @MUST @course-D-17 @course-D-26
  Scenario: A name in the delegated child gets a referral with no answer and AA clear
    When the client queries "www.child.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the answer section is empty
    And the AA flag is clear

  @rfc1034-sec-4.3.2 @MUST @course-D-14 @course-D-21
  Scenario: The referral names the child's servers in the authority section
    When the client queries "www.child.${dns.zone}" for A
    Then the authority section is exactly:
      | name              | type | data                  |
      | child.${dns.zone} | NS   | ns1.child.${dns.zone} |
      | child.${dns.zone} | NS   | ns2.child.${dns.zone} |

  @rfc1034-sec-4.3.2 @MUST @course-D-17 @course-D-27
  Scenario: The referral carries the glue addresses in the additional section
    # Glue is needed here: the servers' names are inside the child zone.
    When the client queries "www.child.${dns.zone}" for A
    Then the additional section contains:
      | name                  | type | data        |
      | ns1.child.${dns.zone} | A    | 192.0.2.201 |
      | ns2.child.${dns.zone} | A    | 192.0.2.202 |

  @rfc1034-sec-4.3.2 @MUST @course-D-17
  Scenario: The delegation point itself is referred, not answered
    When the client queries "child.${dns.zone}" for A
    Then the answer section is empty
    And the AA flag is clear
    And the authority section contains:
      | name              | type | data                  |
      | child.${dns.zone} | NS   | ns1.child.${dns.zone} |

  @rfc1034-sec-4.3.2 @MUST @course-D-17
  Scenario: A glue name is referred to the child, not answered from the glue
    # §4.3.2 step 3b: the name is below the cut, so the response is a
    # referral. The glue address the parent holds is not its authoritative
    # data (RFC 2181 §5.4.1 ranks glue below it): it may ride in the
    # additional section, never as an authoritative answer.
    When the client queries "ns1.child.${dns.zone}" for A
    Then the answer section is empty
    And the AA flag is clear
    And the authority section contains:
      | name              | type | data                  |
      | child.${dns.zone} | NS   | ns1.child.${dns.zone} |

  @rfc4035-sec-3.1.4.1 @rfc4034-sec-5 @SHOULD
  Scenario: A DS query for the delegation point is answered by the parent, not referred
    # RFC 4034 §5: the DS RR appears only on the parental side of a
    # delegation and "is authoritative data in the parent zone"; RFC 4035
    # §3.1.4.1 has the parent's server answer a DS query at the cut itself
    # (neither RFC is in ../shared/rfc: cited from the published text, and
    # tagged @SHOULD because the server here need not be security-aware).
    # The fixture holds no DS for child, so the parent's answer is NODATA:
    # NOERROR, AA set, no answer, its SOA (RFC 2308 §2.2).
    When the client queries "child.${dns.zone}" for DS
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is empty
    And the authority section holds the SOA of "${dns.zone}"

  @rfc1034-sec-4.3.1 @MUST @course-D-16 @course-D-17
  Scenario: With recursion desired, a non-recursive server still refers and leaves RA clear
    # RFC 8906 §3.1.3.1: "A non-recursive server is supposed to respond to
    # recursive queries as if the Recursion Desired (RD) bit is not set".
    Given the server under test offers no recursion
    When the client queries "www.child.${dns.zone}" for A with RD set
    Then the answer section is empty
    And the RA flag is clear
    And the RD flag is set

  @rfc1034-sec-4.3.1 @MUST
  Scenario: With recursion desired, a server that recurses answers or fails, but does not refer
    # §4.3.1: "The recursive mode occurs when a query with RD set arrives at
    # a server which is willing to provide recursive service"; the server
    # then "returns either an error or the answer, but never referrals".
    # The child's servers are in a documentation range, so SERVFAIL is the
    # likely outcome.
    Given the server under test offers recursion
    When the client queries "www.child.${dns.zone}" for A with RD set
    Then the response is not a referral
    And the RA flag is set
