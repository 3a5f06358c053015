@ftp @rfc2577
Feature: FTP security: no bounce, bounded password guessing, no way out of the home

  RFC 2577 is informational; its advice is what every maintained FTP server
  follows. The bounce check is a MUST here because a server that connects to
  any address a client names is an open proxy (RFC 2577 §3).

  @sec-3 @MUST
  Scenario: PORT to another host's address is refused, and no connection goes there
    Given an FTP session logged in as the profile's user
    When the client sends PORT for a listener at a third party's address
    Then the server refuses the third party's address and never connects to it

  @sec-3 @MUST
  Scenario: EPRT to another host's address is refused, and no connection goes there
    Given an FTP session logged in as the profile's user
    When the client sends EPRT for a listener at a third party's address
    Then the server refuses the third party's address and never connects to it

  @sec-4 @SHOULD @timeout(60s)
  Scenario: The server closes the connection after a few failed logins
    # RFC 2577 §4: "After a small number of attempts (3-5), the server
    # should close the control connection with the client." vsftpd closes
    # after max_login_fails (3), each failure delayed (about 3 s with PAM).
    Given an FTP session that has been greeted
    When the client fails to log in 6 times with a wrong password
    Then the server has closed the connection after at most 5 failed logins

  @sec-5 @MUST
  Scenario: A path that climbs above the home finds nothing outside it
    # RFC 2577 §5 (restricting access): the user's area is the home; the
    # reference server and a chrooted vsftpd resolve ".." at the home.
    Given an FTP session logged in as the profile's user
    When the client sends "SIZE ../../../../../../etc/passwd"
    Then the server replies 550

  @sec-5 @SHOULD
  Scenario: CWD above the home stays in the home
    Given an FTP session logged in as the profile's user
    When the client sends "CWD ../../../.."
    Then the current directory is the login directory
