@imap @rfc3501 @rfc9051
Feature: IMAP connection, greeting and the commands valid in any state
  RFC 3501 §6.1 and RFC 9051 §6.1: CAPABILITY, NOOP and LOGOUT work in
  every state; every command gets a tagged completion with the command's
  own tag (§2.2.1, checked by the reply reader on every exchange).

  @rfc3501-sec-7.1 @MUST @course-I-01
  Scenario: The server greets with an untagged OK or PREAUTH
    # §7.1: "* OK" (not authenticated), "* PREAUTH" (already authenticated)
    # or "* BYE" (rejected); a server that accepts the client says OK or PREAUTH.
    Given an IMAP session
    Then the server replies with one of OK, PREAUTH

  @rfc3501-sec-6.1.1 @rfc9051-sec-6.1.1 @MUST
  Scenario: CAPABILITY lists IMAP4rev1 or IMAP4rev2
    # §6.1.1 / §7.2.1: the capability list "MUST" include IMAP4rev1
    # (RFC 3501) or IMAP4rev2 (RFC 9051).
    Given an IMAP session
    When the client sends "a1 CAPABILITY"
    Then the server replies OK
    And the client got an untagged response matching "^\* CAPABILITY( \S+)* (IMAP4rev1|IMAP4rev2)( |$)"

  @rfc3501-sec-6.1.2 @rfc9051-sec-6.1.2 @MUST
  Scenario: NOOP succeeds before authentication
    Given an IMAP session
    When the client sends "a1 NOOP"
    Then the server replies OK

  @rfc3501-sec-6.1.3 @rfc9051-sec-6.1.3 @MUST
  Scenario: LOGOUT sends an untagged BYE before its tagged OK
    # §6.1.3: "The server MUST send a BYE untagged response before the
    # (tagged) OK response, and then close the network connection."
    Given an IMAP session
    When the client sends "a1 LOGOUT"
    Then the server replies OK
    And the client got an untagged response matching "^\* BYE"

  @rfc3501-sec-6.1.3 @rfc9051-sec-6.1.3 @MUST
  Scenario: The server closes the connection after LOGOUT
    Given an IMAP session
    When the client sends "a1 LOGOUT"
    Then the server closes the client's connection

  @rfc3501-sec-7.1.3 @rfc9051-sec-7.1.3 @MUST
  Scenario: An unknown command is answered with BAD
    # §7.1.3: BAD "indicates an error message from the
    # server ... the command is unknown or the arguments are invalid".
    Given an IMAP session
    When the client sends "a1 FROBNICATE"
    Then the server replies BAD

  @rfc3501-sec-7.1.3 @rfc9051-sec-7.1.3 @MUST
  Scenario: A command with missing arguments is answered with BAD
    # §7.1.3: BAD when "the arguments are invalid".
    # LOGIN takes a user name and a password.
    Given an IMAP session
    When the client sends "a1 LOGIN onlyauser"
    Then the server replies BAD

  @rfc3501-sec-3 @MUST
  Scenario: A command that needs authentication is refused before login
    # §3 and §6: SELECT is valid only in the authenticated and selected
    # states. The RFCs make it a protocol error (BAD); a server may also
    # refuse it as a failed command (NO). Either way, not OK.
    Given an IMAP session
    When the client sends "a1 SELECT INBOX"
    Then the server replies with one of BAD, NO

  @rfc3501-sec-2.2.1 @rfc9051-sec-2.2.1 @MUST
  Scenario: The completion carries the client's tag, whatever its characters
    # §2.2.1: "the server ... sends a tagged response with the same tag";
    # tag = 1*<any ASTRING-CHAR except "+"> (§9), so "A.b-7" is a tag.
    Given an IMAP session
    When the client sends "A.b-7 NOOP"
    Then the server replies OK

  @rfc3501-sec-9 @rfc9051-sec-9 @rfc3501-sec-2.2.1 @rfc9051-sec-2.2.1 @MUST
  Scenario: A tag containing "]" gets its completion
    # §9: 'tag = 1*<any ASTRING-CHAR except "+">', 'ASTRING-CHAR =
    # ATOM-CHAR / resp-specials', 'resp-specials = "]"'.
    Given an IMAP session
    When the client sends "a]1 NOOP" without waiting for the reply
    Then the server completes the command tagged "a]1" with OK

  @rfc3501-sec-2.2.1 @rfc9051-sec-2.2.1 @rfc3501-sec-5.5 @MUST
  Scenario: Pipelined commands are answered each with its own tag
    # §5.5: a client MAY send another command without waiting for the
    # completion of the previous one. Both must be completed, in any order
    # ("a server MAY begin processing another command before processing
    # the current command to completion").
    Given an IMAP session
    When the client sends "p1 NOOP" without waiting for the reply
    And the client sends "p2 CAPABILITY" without waiting for the reply
    Then the commands tagged "p1" and "p2" are each completed with OK
