@dns @rfc1035
Feature: Malformed and unsupported queries (RFC 1035 §4.1.1)

  RCODE 1 (Format error): "The name server was unable to interpret the
  query." RCODE 4 (Not Implemented): "The name server does not support the
  requested kind of query." Where the RFCs let a server drop a message it
  cannot parse instead of answering, the scenario states both outcomes.

  Background:
    Given a DNS client for the server under test

  @rfc8906 @rfc8906-sec-3.1.4 @SHOULD
  Scenario: An unknown opcode is answered NOTIMP
    # RFC 1035 §4.1.1 defines NOTIMP but requires no answer to an unknown
    # opcode; RFC 8906 §3.1.4: "NOTIMP is the expected rcode to an unknown
    # or unimplemented opcode" (also §7), no keyword of RFC 2119.
    When the client sends this query:
      | opcode | 15              |
      | name   | www.${dns.zone} |
      | type   | A               |
    Then the response has RCODE NOTIMP
    And the QR flag is set
    And the response ID and opcode are the query's

  @rfc1034-sec-3.7.1 @rfc8906-sec-4 @MUST
  Scenario: A query in class CH is answered without the zone's class IN data
    # RFC 1034 §3.7.1: a QCLASS "matches just that class (e.g., IN, CH)";
    # §4.2: the data of each class is kept apart. RFC 8906 §4: queries for
    # unknown classes are normal, and servers are expected to handle them.
    # Any RCODE passes (REFUSED from a server without class CH data, or
    # CH data where it has some); class IN records and silence do not.
    When the client sends this query:
      | name  | ${dns.zone} |
      | type  | SOA         |
      | class | CH          |
    Then the response ID and opcode are the query's
    And no record of the response is of class IN

  @rfc1035-sec-4.1.1 @MUST
  Scenario: A query with no question is a format error
    # Header only: ID 0x4242, RD clear, QDCOUNT 0.
    When the client sends the message "4242 0000 0000 0000 0000 0000" over UDP
    Then the server answers with RCODE FORMERR or not at all

  @rfc1035-sec-4.1.2 @MUST
  Scenario: A question cut short is a format error
    # QDCOUNT 1, then a name whose label runs past the end of the message.
    When the client sends the message "4243 0000 0001 0000 0000 0000 0377 77" over UDP
    Then the server answers with RCODE FORMERR or not at all

  @rfc1035-sec-4.1.4 @MUST
  Scenario: A compression pointer loop in the question is a format error
    # The question's name is a pointer to itself (offset 12).
    When the client sends the message "4244 0000 0001 0000 0000 0000 c00c 0001 0001" over UDP
    Then the server answers with RCODE FORMERR or not at all

  @rfc1035-sec-2.3.4 @MUST @course-D-08
  Scenario: A label of 64 octets cannot be encoded and is not answered as a name
    # Labels are at most 63 octets; a length octet of 0x40 is not a valid
    # label length (its top bits 01 are a reserved label type).
    When the client sends this query:
      | name | aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.${dns.zone} |
      | type | A                                                                            |
    Then the server answers with RCODE FORMERR or not at all

  @rfc1035-sec-2.3.4 @MUST @course-D-08
  Scenario: A name longer than 255 octets is not answered as a name
    # "names - 255 octets or less": four labels of 63 octets under the zone
    # make a name of more than 255 octets on the wire.
    When the client sends this query:
      | name | aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.${dns.zone} |
      | type | A |
    Then the server answers with RCODE FORMERR or not at all

  @rfc1035-sec-2.3.4 @MUST @course-D-08
  Scenario: A label of 63 octets is a valid name
    When the client sends this query:
      | name | aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.${dns.zone} |
      | type | A                                                                           |
    Then the response has RCODE NXDOMAIN
    And the question section is the query's, byte for byte

  @rfc1035-sec-4.1.1 @MUST
  Scenario: A format error still echoes the ID and sets QR
    When the client sends this query:
      | name              | www.${dns.zone} |
      | type              | A               |
      | payload           | 1232            |
      | extra OPT records | 1               |
    Then the response ID and opcode are the query's
    And the QR flag is set

  @rfc1035-sec-4.2.2 @MUST
  Scenario: A malformed query over TCP is answered FORMERR or the connection closed
    When the client sends the message "4245 0000 0001 0000 0000 0000 c00c 0001 0001" over TCP
    Then the server answers with RCODE FORMERR or not at all

  @rfc1035-sec-4.1.1 @MUST
  Scenario: A query with two questions is a format error
    # The response's AA and RCODE speak of one question (RFC 1035 §4.1.1),
    # so a QUERY with QDCOUNT 2 cannot be interpreted: FORMERR ("The name
    # server was unable to interpret the query"). RFC 9619 (which updates
    # RFC 1035 and is not in the local RFC set) makes FORMERR the RCODE
    # required for QDCOUNT > 1; NOTIMP is what older servers send for a
    # kind of query they do not support. Answering the first question
    # alone, as if it were the only one, is neither.
    When the client sends this query:
      | name      | www.${dns.zone} |
      | type      | A               |
      | questions | 2               |
    Then the server answers with RCODE one of FORMERR, NOTIMP or not at all
