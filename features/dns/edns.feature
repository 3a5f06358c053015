@dns @rfc6891
Feature: EDNS(0) (RFC 6891)

  A query may carry one OPT pseudo-record in its additional section, stating
  the EDNS version and the largest UDP payload the requestor can reassemble.
  The response carries an OPT too, never exceeds that payload size, and an
  unknown version is answered with BADVERS.

  Background:
    Given a DNS client for the server under test

  @rfc6891-sec-6.1.1 @MUST @course-D-26
  Scenario: A query with an OPT record gets an OPT record of version 0 back
    When the client sends this query:
      | name    | www.${dns.zone} |
      | type    | A               |
      | payload | 1232            |
    Then the response has RCODE NOERROR
    And the response has an OPT record of version 0

  @rfc6891-sec-7 @MUST
  Scenario: A query without OPT gets a response without OPT
    # RFC 6891 §7: lack of an OPT record in a request means the requestor
    # does not implement EDNS, "and the responder MUST NOT include an OPT
    # record in its response".
    When the client queries "www.${dns.zone}" for A
    Then the response has no OPT record

  @rfc6891-sec-6.1.3 @MUST
  Scenario: An unknown EDNS version is answered with BADVERS
    # RFC 6891 §6.1.3: "If a responder does not implement the VERSION level
    # of the request, then it MUST respond with RCODE=BADVERS"; the RCODE's
    # upper bits are in the OPT record, which a responder MUST include
    # (§6.1.1).
    When the client sends this query:
      | name    | www.${dns.zone} |
      | type    | A               |
      | version | 1               |
    Then the response has RCODE BADVERS
    And the response has an OPT record

  @rfc6891-sec-6.1.3 @SHOULD
  Scenario: A BADVERS response states the highest version the server implements
    # "the VERSION of each response SHOULD be the highest implementation
    # level of the responder", including RCODE=BADVERS: 0 for a server that
    # does not implement version 1.
    When the client sends this query:
      | name    | www.${dns.zone} |
      | type    | A               |
      | version | 1               |
    Then the response has an OPT record of version 0

  @rfc6891-sec-6.2.3 @rfc6891-sec-6.2.5 @MUST @course-D-28
  Scenario: A UDP response never exceeds the requestor's payload size
    # The payload size is "the largest UDP payload that can be reassembled
    # and delivered in the requestor's network stack" (§6.2.3); RFC 8906
    # §3.2.5: "Servers must send UDP responses no larger than the advertised
    # EDNS UDP buffer size." An answer that does not fit is truncated (TC).
    When the client sends this query:
      | name    | big.${dns.zone} |
      | type    | TXT             |
      | payload | 1232            |
    Then the response is at most 1232 octets
    And the TC flag is set

  @rfc6891-sec-6.2.5 @MUST
  Scenario: A payload size below 512 is treated as 512
    # RFC 6891 §6.2.5: "Values lower than 512 MUST be treated as equal to
    # 512." The response is then at most 512 octets.
    When the client sends this query:
      | name    | big.${dns.zone} |
      | type    | TXT             |
      | payload | 100             |
    Then the response is at most 512 octets
    And the response has RCODE NOERROR
    And the TC flag is set

  @rfc6891-sec-6.2.5 @MUST
  Scenario: A large payload size lets an answer above 512 octets come over UDP
    # §6.2.5: a requestor's payload size above 512 lets the responder send
    # that much over UDP. "medium" holds twelve TXT records, about 900
    # octets: more than 512, less than the payload size, so the whole RRset
    # comes in one UDP response without TC.
    When the client sends this query:
      | name    | medium.${dns.zone} |
      | type    | TXT                |
      | payload | 4096               |
    Then the response is larger than 512 octets
    And the TC flag is clear
    And the answer section has 12 records
    And the response has an OPT record of version 0

  @rfc6891-sec-6.1.1 @MUST
  Scenario: A query with two OPT records is malformed
    # RFC 6891 §6.1.1: "If a query message with more than one OPT RR is
    # received, a FORMERR (RCODE=1) MUST be returned."
    When the client sends this query:
      | name              | www.${dns.zone} |
      | type              | A               |
      | payload           | 1232            |
      | extra OPT records | 1               |
    Then the response has RCODE FORMERR

  @rfc6891-sec-6.1.2 @MUST
  Scenario: An unknown EDNS option is ignored
    # RFC 6891 §6.1.2: "Any OPTION-CODE values not understood by a responder
    # or requestor MUST be ignored." RFC 8906 §8.2.3 asks the same with the
    # unassigned code 100: the SOA comes back with NOERROR, and the option
    # is not echoed.
    When the client sends this query:
      | name        | ${dns.zone} |
      | type        | SOA         |
      | payload     | 1232        |
      | edns option | 100         |
    Then the response has RCODE NOERROR
    And the answer section has 1 record
    And the OPT record of the response carries no option 100

  @rfc8906 @rfc8906-sec-3.2.4 @MUST
  Scenario: An unknown EDNS flag is not copied into the response
    # RFC 8906 §3.2.4: "Servers should ignore EDNS flags they do not
    # understand and must not add them to the response [RFC6891]"; §8.2.4
    # tests it with the unassigned flag 0x40: NOERROR with the SOA, and "no
    # EDNS flags present in the response".
    When the client sends this query:
      | name       | ${dns.zone} |
      | type       | SOA         |
      | edns flags | 0x40        |
    Then the response has RCODE NOERROR
    And the OPT record of the response has DO clear and no other flag

  @rfc3225 @rfc3225-sec-3 @MUST
  Scenario: The DO bit of the query is copied into the response
    # RFC 3225 §3: "The DO bit of the query MUST be copied in the
    # response." RFC 8906 §3.2.6: some servers "fail to copy the DO bit to
    # the response".
    When the client sends this query:
      | name | www.${dns.zone} |
      | type | A               |
      | do   | yes             |
    Then the response has RCODE NOERROR
    And the OPT record of the response has DO set and no other flag
