@dns @rfc1035
Feature: Resource records from the zone (RFC 1035 §3.2, §3.3)

  Course notes §7, D-19 to D-23: a resource record is (Name, Value, Type,
  TTL); A maps a host name to an address, NS names a domain's server, CNAME
  gives the canonical name of an alias, MX names a mail server and its
  address comes in the additional section. The data come from the fixture
  zone (`conform fixtures`).

  Background:
    Given a DNS client for the server under test

  @rfc1034 @rfc1034-sec-4.3.2 @MUST @course-D-05 @course-D-20 @course-D-25
  Scenario: A name with several addresses gets all of them in one answer
    # Step 3a: "copy all RRs which match QTYPE into the answer section".
    When the client queries "www.${dns.zone}" for A
    Then the answer section is exactly:
      | name            | type | data       |
      | www.${dns.zone} | A    | 192.0.2.10 |
      | www.${dns.zone} | A    | 192.0.2.11 |
      | www.${dns.zone} | A    | 192.0.2.12 |

  @rfc1035-sec-3.2.1 @MUST @course-D-19
  Scenario: Records carry class IN and the TTL the zone gives them
    Given the zone under test holds the fixture's "ttl" data
    When the client queries "www.${dns.zone}" for A
    Then the answer section is exactly:
      | name            | class | type | data       | ttl |
      | www.${dns.zone} | IN    | A    | 192.0.2.10 | 300 |
      | www.${dns.zone} | IN    | A    | 192.0.2.11 | 300 |
      | www.${dns.zone} | IN    | A    | 192.0.2.12 | 300 |

  @rfc2308 @rfc2308-sec-4 @MUST @course-D-19
  Scenario: Records without their own TTL take the zone's default
    # RFC 2308 §4: "All resource records appearing after the directive, and
    # which do not explicitly include a TTL value, have their TTL set to the
    # TTL given in the $TTL directive" (it extends RFC 1035 §5.1, where an
    # omitted TTL was the last one stated). mail follows www's 300s records.
    Given the zone under test holds the fixture's "ttl" data
    When the client queries "mail.${dns.zone}" for A
    Then the answer section is exactly:
      | name             | type | data       | ttl  |
      | mail.${dns.zone} | A    | 192.0.2.25 | 3600 |

  @rfc1035-sec-3.3.11 @MUST @course-D-21
  Scenario: An NS query returns the zone's name servers
    When the client queries "${dns.zone}" for NS
    Then the answer section is exactly:
      | name        | type | data            |
      | ${dns.zone} | NS   | ns1.${dns.zone} |
      | ${dns.zone} | NS   | ns2.${dns.zone} |
    And the AA flag is set

  @rfc1035-sec-3.3.11 @SHOULD @course-D-21
  Scenario: The name servers' addresses come in the additional section
    # RFC 1035 §3.3.11: NS "cause[s] both the usual additional section
    # processing to locate a type A record" for the server's name.
    When the client queries "${dns.zone}" for NS
    Then the additional section contains:
      | name            | type | data       |
      | ns1.${dns.zone} | A    | 192.0.2.53 |
      | ns2.${dns.zone} | A    | 192.0.2.54 |

  @rfc1034 @rfc1034-sec-4.3.2 @MUST @course-D-05 @course-D-22
  Scenario: A query for an alias returns the CNAME chain, then the canonical name's addresses
    # Step 3a: "copy the CNAME RR into the answer section of the response,
    # change QNAME to the canonical name in the CNAME RR, and go back to
    # step 1" (RFC 1035 §3.3.1 only says servers "may choose to restart").
    When the client queries "ftp.${dns.zone}" for A
    Then the answer section contains:
      | name            | type  | data            |
      | ftp.${dns.zone} | CNAME | web.${dns.zone} |
      | web.${dns.zone} | CNAME | www.${dns.zone} |
      | www.${dns.zone} | A     | 192.0.2.10      |
    And every answer record is for the question's name and type, or a CNAME chain leading to them
    And the AA flag is set

  @rfc1035-sec-3.3.1 @MUST @course-D-22
  Scenario: A CNAME query returns the canonical name only
    When the client queries "web.${dns.zone}" for CNAME
    Then the answer section is exactly:
      | name            | type  | data            |
      | web.${dns.zone} | CNAME | www.${dns.zone} |

  @rfc1034 @rfc1034-sec-4.3.2 @MUST @course-D-22
  Scenario: An alias to a name outside the zone is answered with the CNAME alone
    When the client queries "elsewhere.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the answer section is exactly:
      | name                  | type  | data                  |
      | elsewhere.${dns.zone} | CNAME | host.outside.invalid. |

  @rfc1035-sec-3.3.9 @MUST @course-D-23
  Scenario: An MX query returns preference and exchange for each mail server
    When the client queries "${dns.zone}" for MX
    Then the answer section is exactly:
      | name        | type | data                 |
      | ${dns.zone} | MX   | 10 mail.${dns.zone}  |
      | ${dns.zone} | MX   | 20 mail2.${dns.zone} |

  @rfc1035-sec-3.3.9 @SHOULD @course-D-23
  Scenario: The mail servers' addresses come in the additional section
    # RFC 1035 §3.3.9: MX "cause[s] type A additional section processing
    # for the host specified by EXCHANGE"; additional data is best effort
    # (RFC 1034 §4.3.2 step 6: "attempt to add other RRs which may be
    # useful").
    When the client queries "${dns.zone}" for MX
    Then the additional section contains:
      | name              | type | data       |
      | mail.${dns.zone}  | A    | 192.0.2.25 |
      | mail2.${dns.zone} | A    | 192.0.2.26 |

  @rfc1035-sec-3.3.14 @MUST
  Scenario: A TXT record keeps its character-strings apart
    When the client queries "txt.${dns.zone}" for TXT
    Then the answer section is exactly:
      | name            | type | data                             |
      | txt.${dns.zone} | TXT  | "hello world" "second string" |

  @rfc1035-sec-3.3.13 @MUST @course-D-06
  Scenario: An SOA query returns the zone's start of authority
    When the client queries "${dns.zone}" for SOA
    Then the answer section is exactly:
      | name        | type | data                                                      |
      | ${dns.zone} | SOA  | ns1.${dns.zone} hostmaster.${dns.zone} 2026112101 7200 900 1209600 300 |

  @rfc1035-sec-3.3.12 @MUST @course-D-06
  Scenario: A PTR query maps an address back to a name
    Given the zone under test holds the fixture's "ptr" data
    When the client queries "10.2.0.192.rev.${dns.zone}" for PTR
    Then the answer section is exactly:
      | name                       | type | data            |
      | 10.2.0.192.rev.${dns.zone} | PTR  | www.${dns.zone} |

  @course-D-05 @MAY
  Scenario: The order of several addresses rotates across queries
    # Course notes D-05: "the server responds with the entire set of IP
    # addresses, but rotates the ordering of the addresses within each
    # reply". No RFC requires it (RFC 1035 leaves RR order open).
    When the client queries "www.${dns.zone}" for A 4 times
    Then the order of the answer records is not the same in every response
