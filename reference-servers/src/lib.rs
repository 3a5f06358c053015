//! Small, strict reference servers for the `conform` suites.
//!
//! One folder per protocol. Each server is bounded (line length, message size,
//! connection count, idle time) and binds loopback unless told otherwise. The
//! harness starts these in-process but talks to them only over sockets: no
//! protocol code is shared between the two crates.

pub mod calendar;
pub mod dns;
pub mod ftp;
pub mod http;
pub mod imap;
pub mod lineio;
pub mod listener;
pub mod mailstore;
pub mod md5;
pub mod pop3;
pub mod proxy;
pub mod running;
pub mod sasl;
pub mod smtp;
pub mod sockets;
pub mod tls;

pub use running::Running;

/// Connections every TCP server serves at once (each server's default; the
/// mail and FTP servers take another in their `Config`). What happens to the
/// next one is the server's own policy ([`listener::WhenFull`]): the mail
/// and FTP servers refuse it in their protocol's words, the others leave it
/// in the listen backlog or close it.
pub const MAX_CONNECTIONS: usize = 1024;

/// An unpredictable 64-bit value: SipHash keyed by the standard library's
/// per-process random keys, over the clock. For message ids and DNS query
/// ids (RFC 5452 §9.2 asks for IDs "from a good random source"); not for
/// cryptography.
pub(crate) fn random_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0),
    );
    h.finish()
}
