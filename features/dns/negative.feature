@dns @rfc1034
Feature: The authoritative lookup: negative answers, wildcards, names outside the zone

  RFC 1034 §4.3.2 (the lookup algorithm) and §4.3.3 (wildcards); RFC 2308
  §2.1 and §2.2: a negative answer is authoritative and carries the zone's
  SOA in the authority section, so that it can be cached.

  Background:
    Given a DNS client for the server under test

  @rfc1034-sec-4.3.2 @MUST @course-D-26
  Scenario: A name that does not exist gets NXDOMAIN with AA set
    When the client queries "no-such-name.${dns.zone}" for A
    Then the response has RCODE NXDOMAIN
    And the AA flag is set
    And the answer section is empty

  @rfc2308 @rfc2308-sec-3 @MUST
  Scenario: NXDOMAIN carries the zone's SOA in the authority section
    # RFC 2308 §3: "Name servers authoritative for a zone MUST include the
    # SOA record of the zone in the authority section of the response when
    # reporting an NXDOMAIN or indicating that no data of the requested type
    # exists."
    When the client queries "no-such-name.${dns.zone}" for A
    Then the response has RCODE NXDOMAIN
    And the AA flag is set
    And the authority section holds the SOA of "${dns.zone}"

  @rfc2308 @rfc2308-sec-3 @rfc2308-sec-5 @SHOULD
  Scenario: The SOA of an NXDOMAIN answer has the lesser of the SOA's TTL and its MINIMUM as TTL
    # RFC 2308 §3: "The TTL of this record is set from the minimum of the
    # MINIMUM field of the SOA record and the TTL of the SOA itself"; §5:
    # "When the authoritative server creates this record its TTL is taken
    # from the minimum of the SOA.MINIMUM field and SOA's TTL." Neither
    # sentence has an RFC 2119 keyword: @SHOULD. The fixture zone's SOA has
    # TTL 3600 and MINIMUM 300; the SOA's own TTL is read from its answer.
    When the client queries "${dns.zone}" for SOA
    Then the response has RCODE NOERROR
    When the client queries "no-such-name.${dns.zone}" for A
    Then the response has RCODE NXDOMAIN
    And the SOA in the authority section has the TTL min(SOA TTL, MINIMUM) of the SOA answered before

  @rfc1034-sec-4.3.2 @MUST
  Scenario: A name without data of the asked type gets NOERROR and no answer
    When the client queries "mail2.${dns.zone}" for AAAA
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is empty

  @rfc2308 @rfc2308-sec-3 @MUST
  Scenario: No data of the asked type carries the zone's SOA in the authority section
    # RFC 2308 §3: the SOA MUST be included "when reporting an NXDOMAIN or
    # indicating that no data of the requested type exists".
    When the client queries "mail2.${dns.zone}" for AAAA
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the authority section holds the SOA of "${dns.zone}"

  @rfc2308 @rfc2308-sec-3 @rfc2308-sec-5 @SHOULD
  Scenario: The SOA of a no-data answer has the lesser of the SOA's TTL and its MINIMUM as TTL
    # RFC 2308 §3 and §5, as for NXDOMAIN: the SOA of a negative answer
    # carries min(SOA TTL, SOA.MINIMUM); no RFC 2119 keyword: @SHOULD.
    When the client queries "${dns.zone}" for SOA
    Then the response has RCODE NOERROR
    When the client queries "mail2.${dns.zone}" for AAAA
    Then the response has RCODE NOERROR
    And the answer section is empty
    And the SOA in the authority section has the TTL min(SOA TTL, MINIMUM) of the SOA answered before

  @rfc1034-sec-4.3.2 @MUST
  Scenario: A type the server does not know is answered with no data, not an error
    # §4.3.2 step 3a: the name matches and "the data" of the QTYPE is
    # copied to the answer; for a type no record has, that is nothing, with
    # the SOA (RFC 2308 §2.2, §3). RFC 3597 §3 (not in the RFC folder): an
    # unknown type is handled like any other. TYPE65280 is a private-use
    # type (RFC 6895 §3.1) that no server knows.
    When the client queries "www.${dns.zone}" for TYPE65280
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is empty
    And the authority section holds the SOA of "${dns.zone}"

  @rfc6604 @rfc6604-sec-3 @MUST
  Scenario: A CNAME to a name the zone does not have is answered NXDOMAIN, with the CNAME
    # RFC 6604 §3: "The RCODE in the ultimate DNS response MUST BE set based
    # on the final query cycle leading to that response. If the xNAME chain
    # was terminated by an error, it will be that error code." The chain
    # dangling -> nowhere ends at a name that does not exist: NXDOMAIN, the
    # CNAME in the answer (RFC 1034 §4.3.2 step 3a) and the SOA (RFC 2308 §3).
    When the client queries "dangling.${dns.zone}" for A
    Then the response has RCODE NXDOMAIN
    And the AA flag is set
    And the answer section is exactly:
      | name                 | type  | data                |
      | dangling.${dns.zone} | CNAME | nowhere.${dns.zone} |
    And the authority section holds the SOA of "${dns.zone}"

  @rfc1034-sec-4.3.2 @MUST
  Scenario: A name that has only descendants exists: NODATA, not NXDOMAIN
    # dept.${dns.zone} owns no records but host.dept.${dns.zone} does
    # (an "empty non-terminal", RFC 4592 §2.2.2): step 3c sets a name error
    # only where a label of QNAME does not exist in the tree.
    When the client queries "dept.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is empty

  @rfc1034-sec-4.3.3 @MUST
  Scenario: A wildcard answers for a name it covers, under the name asked for
    Given the zone under test holds the fixture's "wildcard" data
    When the client queries "anything.wild.${dns.zone}" for A
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is exactly:
      | name                      | type | data       |
      | anything.wild.${dns.zone} | A    | 192.0.2.99 |

  @rfc1034-sec-4.3.3 @MUST
  Scenario: A wildcard answers several labels deep
    Given the zone under test holds the fixture's "wildcard" data
    When the client queries "a.b.wild.${dns.zone}" for TXT
    Then the answer section is exactly:
      | name                 | type | data                          |
      | a.b.wild.${dns.zone} | TXT  | "synthesised from a wildcard" |

  @rfc1034-sec-4.3.3 @MUST
  Scenario: A name that exists is not answered from the wildcard
    Given the zone under test holds the fixture's "wildcard" data
    When the client queries "exact.wild.${dns.zone}" for A
    Then the answer section is exactly:
      | name                   | type | data       |
      | exact.wild.${dns.zone} | A    | 192.0.2.98 |

  @rfc1034-sec-4.3.3 @MUST
  Scenario: A name below an existing name is not matched by the wildcard of its parent
    # RFC 1034 §4.3.2 step 3c: the wildcard tried is the "*" label under the
    # deepest node that matched (the closest encloser, RFC 4592 §2.2.1:
    # "_telnet._tcp.host1.example." is not synthesised "because
    # _tcp.host1.example. exists"). Here exact.wild exists and has no "*"
    # child, so *.wild does not answer below.exact.wild: the name does not
    # exist.
    Given the zone under test holds the fixture's "wildcard" data
    When the client queries "below.exact.wild.${dns.zone}" for A
    Then the response has RCODE NXDOMAIN
    And the answer section is empty

  @rfc1034-sec-4.3.3 @MUST
  Scenario: A wildcard does not hide the absence of a type at an existing name
    Given the zone under test holds the fixture's "wildcard" data
    When the client queries "exact.wild.${dns.zone}" for TXT
    Then the response has RCODE NOERROR
    And the AA flag is set
    And the answer section is empty

  @rfc1034-sec-4.3.1 @rfc1034-sec-4.3.2 @MUST @course-D-28
  Scenario: A server that does not recurse answers a name outside its zones with no data and RA clear
    # §4.3.2 step 2 finds no zone for the name and step 4 only a referral
    # from a cache, if any: the response is a referral, or NOERROR with
    # nothing, or REFUSED ("for policy reasons", RFC 1035 §4.1.1); and for a
    # name under "invalid." NXDOMAIN, which RFC 6761 §6.4 asks authoritative
    # servers to give at once (RFC 6761 is not in the RFC folder). Never
    # data, AA only on that NXDOMAIN, and RA stays clear: "The bit is true
    # if the name server is willing to provide recursive service" (§4.3.1).
    Given the server under test offers no recursion
    When the client queries "www.example.invalid" for A with RD set
    Then the response has RCODE one of REFUSED, NOERROR, NXDOMAIN
    And the answer section is empty
    And the AA flag is clear unless the RCODE is NXDOMAIN
    And the RA flag is clear

  @rfc1034-sec-4.3.1 @MUST @course-D-28
  Scenario: A server that recurses answers a name outside its zones with an error or the answer, not a referral
    # §4.3.1: in recursive mode the server "returns either an error or the
    # answer, but never referrals"; names under "invalid." do not exist
    # (RFC 6761 §6.4), so the outcome is NXDOMAIN, or SERVFAIL ("a
    # temporary error indication") from a resolver without upstream.
    Given the server under test offers recursion
    When the client queries "www.example.invalid" for A with RD set
    Then the response has RCODE one of NXDOMAIN, SERVFAIL
    And the answer section is empty
    And the RA flag is set

  @rfc1034-sec-4.3.2 @MUST @course-D-25
  Scenario: The answer holds only records of the question's name and type
    When the client queries "mail.${dns.zone}" for A
    Then every answer record is for the question's name and type, or a CNAME chain leading to them
