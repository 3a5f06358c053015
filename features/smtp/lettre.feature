@smtp @rfc5321
Feature: A real SMTP client delivers through the server

  The lettre crate's SMTP transport (EHLO, MAIL, RCPT, DATA with its own
  dot-stuffing, QUIT) against the server, as an application would use it.

  @rfc5321-sec-3.3 @MUST @course-S-05
  Scenario: lettre delivers a message
    When lettre sends a message from "alice@crepes.fr" to "${smtp.sink}"
    Then lettre reports that the server accepted the message

  @rfc5321-sec-3.3 @MUST @course-S-05
  Scenario: lettre delivers a message inside TLS
    # lettre with its own TLS (rustls, the profile's ca_file): STARTTLS
    # required, EHLO again inside TLS (RFC 3207 §4.2), or the implicit-TLS
    # port. Skipped when the profile gives SMTP no TLS.
    When lettre sends a message from "alice@crepes.fr" to "${smtp.sink}" inside TLS
    Then lettre reports that the server accepted the message
