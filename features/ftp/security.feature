@ftp @rfc2577
Feature: FTP security: bounce, password guessing, confinement to the home

  RFC 2577 is informational: it "provides suggestions for system
  administrators and those implementing FTP servers", in lower-case should
  and "it is suggested". Its advice is at most @SHOULD here. RFC 959 itself
  allows a PORT naming a third host ("retrieved from a third party host",
  §3.2), and no RFC asks a server to confine a user to the home.

  @rfc2577-sec-3 @SHOULD
  Scenario: PORT to a privileged port is refused
    # RFC 2577 §3: "it is suggested that servers not open data connections
    # to TCP ports less than 1024. If a server receives a PORT command
    # containing a TCP port number less than 1024, the suggested response
    # is 504". Any refusal of the PORT command passes.
    Given an FTP session logged in as the profile's user
    When the client sends PORT for port 25 at its own address
    Then the server replies with one of 4xx, 5xx

  @rfc2577-sec-3 @MAY
  Scenario: PORT to another host's address is refused, and no connection goes there
    # RFC 959 §3.2 permits proxy FTP; RFC 2577 §3 counts "disabling the
    # PORT command" among the options against the bounce attack, and
    # refusing other hosts is what vsftpd (port_promiscuous=NO) and
    # pyftpdlib (permit_foreign_addresses=False) do by default. No keyword
    # asks for it: informational.
    Given an FTP session logged in as the profile's user
    When the client sends PORT for a listener at a third party's address
    Then the server refuses the third party's address and never connects to it

  @rfc2577-sec-3 @MAY
  Scenario: EPRT to another host's address is refused, and no connection goes there
    Given an FTP session logged in as the profile's user
    When the client sends EPRT for a listener at a third party's address
    Then the server refuses the third party's address and never connects to it

  @rfc2577-sec-5 @SHOULD @timeout(60s)
  Scenario: The server closes the connection after a few failed logins
    # RFC 2577 §5: "After a small number of attempts (3-5), the server
    # should close the control connection with the client." It also
    # suggests "a 5 second delay before replying to an invalid "PASS"
    # command", so each reply may take that long (vsftpd with PAM answers
    # after 3-4 s). The client makes at most 5 failed logins, then one USER
    # shows whether the connection is still open: a verdict after a fixed
    # number of attempts, never a timeout.
    Given an FTP session that has been greeted
    When the client fails to log in 5 times with a wrong password
    Then the server has closed the connection after at most 5 failed logins

  @rfc2577-sec-4 @SHOULD
  Scenario: A path that climbs above the home finds nothing outside it
    # A configuration, not a protocol rule: RFC 959 leaves access control to
    # the server, and RFC 2577 §4 ("Restricting Access") speaks of
    # restricting access to files without asking for a root. A profile that
    # declares ftp.confined = true (vsftpd's chroot_local_user=YES,
    # pyftpdlib's virtual root) has the declaration checked; otherwise the
    # scenario is skipped.
    Given the profile sets ftp.confined to true
    And an FTP session logged in as the profile's user
    When the client sends "SIZE ../../../../../../etc/passwd"
    Then the server replies 550

  @rfc2577-sec-4 @SHOULD
  Scenario: CWD above the home stays in the home
    Given the profile sets ftp.confined to true
    And an FTP session logged in as the profile's user
    When the client sends "CWD ../../../.."
    Then the current directory is the login directory
