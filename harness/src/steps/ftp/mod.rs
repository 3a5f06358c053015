//! FTP steps (RFC 959, 2389, 2428, 3659, 2577): raw control-connection steps
//! through [`FtpReader`], data-connection steps in passive and active mode,
//! and checks on what came over the data connection. The steps that drive a
//! real client (suppaftp) are in `ftp_client`.
//!
//! Everything the scenario uploads or creates is registered for removal
//! after the scenario (a fresh session deletes it), so a run leaves the
//! target as it found it.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use cucumber::{given, then, when};
use tokio::net::TcpListener;

use super::line::{check_status, command, last_reply, next_reply};
use super::text::payload;
use super::{Failure, StepResult, World};
use crate::notation::escape_short;
use crate::step;
use crate::transcript::Transcript;
use crate::wire::ftp::data::{self, DataChannel};
use crate::wire::ftp::{self as wire, FtpReader};
use crate::wire::{Conn, Reply};

/// The transcript name of the control connection.
const CONTROL: &str = "ftp";

#[derive(Default)]
pub struct FtpState {
    /// The data connection prepared by PASV/EPSV/PORT/EPRT.
    pub data: Option<DataChannel>,
    /// What the last transfer brought over the data connection.
    pub received: Option<Vec<u8>>,
    /// The directory the login put the client in (from PWD).
    pub home: Option<String>,
    /// A listener at a third party's address (RFC 2577 bounce check).
    pub third_party: Option<TcpListener>,
    /// Failed logins made, and whether the server then closed the connection.
    pub failed_logins: Option<(usize, bool)>,
    /// The address the last 227 reply named.
    pub pasv_addr: Option<SocketAddr>,
    /// The reply that refused the last transfer command (no data came).
    pub refused: Option<String>,
    /// The preliminary reply (125/150) of the last transfer.
    pub preliminary: Option<String>,
    /// After PROT P (RFC 4217 §9): the TLS client the data connections
    /// start TLS with. The control connection's own client, so that its
    /// session is resumed on them, as servers that require session reuse
    /// (vsftpd's `require_ssl_reuse`) insist.
    pub protected: Option<crate::wire::tls::Client>,
}

// One file per concern; every item is
// visible to the others (and to ftp_client) through the globs below.
/// AUTH TLS, PBSZ, PROT (RFC 4217, RFC 2228).
mod auth_tls;
/// Replies on the control connection: SIZE, MDTM, multi-line replies, PWD.
mod control;
/// What came over the data connection: bytes, listings, MLSD facts.
mod received;
/// RFC 2577 (PORT to a third party, failed logins) and FEAT consistency.
mod security;
/// Greeting, login, the scenario's cleanup (RFC 959 §4.1.1).
mod session;
/// PASV, EPSV, PORT, EPRT: the data connection (RFC 959 §4.1.2, RFC 2428).
mod setup;
/// Commands over the data connection: RETR, STOR, APPE, STOU, ABOR, listings.
mod transfer;

#[allow(unused_imports)]
pub(crate) use auth_tls::*;
#[allow(unused_imports)]
pub(crate) use control::*;
#[allow(unused_imports)]
pub(crate) use received::*;
#[allow(unused_imports)]
pub(crate) use security::*;
#[allow(unused_imports)]
pub(crate) use session::*;
#[allow(unused_imports)]
pub(crate) use setup::*;
#[allow(unused_imports)]
pub(crate) use transfer::*;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crlf_conversion_and_listing_names() {
        assert_eq!(crlf(b"a\nb\r\nc"), b"a\r\nb\r\nc");
        assert!(names(
            "-rw-r--r-- 1 ftp ftp 12 Jan 1 2024 hello.txt",
            "hello.txt"
        ));
        assert!(names("type=file;size=1; hello.txt", "hello.txt"));
        assert!(!names(
            "-rw-r--r-- 1 ftp ftp 12 Jan 1 2024 xhello.txt",
            "hello.txt"
        ));
        let facts = mlsd_facts(b"Type=file;Size=5; a b\r\n", "a b").unwrap();
        assert_eq!(facts[1], ("size".into(), "5".into()));
        assert!(plausible_time("20240229235960"));
        assert!(!plausible_time("20241329000000"));
    }
}
