//! `conform fixtures --out DIR`: the content the suites expect a target to
//! hold, and a commented template profile to point at it.

use std::path::Path;

/// The template profile; every section is commented out until a target
/// provides that protocol.
pub const TEMPLATE_PROFILE: &str = r#"# conform target profile. Uncomment the sections of the protocols your target
# serves; a section that is absent is not under test. Scenarios read values as
# ${section.key}. A run leaves the target as it found it.

# [sockets]                     # the course's upper-casing servers
# tcp = "127.0.0.1:12000"       # TCPServer: one message per connection, then close
# udp = "127.0.0.1:12000"       # UDPServer: one reply datagram per datagram

# [http]
# address = "127.0.0.1:8080"    # serves the fixture web root (www/) at /

# [smtp]
# address = "127.0.0.1:2525"
# domain = "example.test"       # a domain it accepts mail for
# recipient = "bob@example.test" # an existing mailbox

# [pop3]
# address = "127.0.0.1:1110"
# user = "bob"
# password = "hungry"

# [imap]
# address = "127.0.0.1:1143"
# user = "bob"
# password = "hungry"

# [ftp]
# address = "127.0.0.1:2121"
# user = "bob"
# password = "hungry"           # home holds the fixture tree (ftp/) and is writable

# [dns]
# address = "127.0.0.1:5353"    # UDP and TCP
# zone = "example.test"         # loaded from the fixture zone file (zones/)
"#;

pub fn write(out: &Path) -> Result<(), String> {
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let profile = out.join("profile.toml");
    std::fs::write(&profile, TEMPLATE_PROFILE)
        .map_err(|e| format!("cannot write {}: {e}", profile.display()))?;
    println!("{}", profile.display());
    Ok(())
}
