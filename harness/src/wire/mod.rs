//! Client-side wire access: bounded TCP connections and UDP sockets that
//! record a transcript, and the per-protocol reply readers.
//!
//! Never trust the peer: every read here has a deadline and a size bound, and
//! every failure is a value ([`WireError`]), never a panic.

pub mod codec;
pub mod conn;
pub mod dns;
pub mod error;
pub mod ftp;
pub mod http;
pub mod imap;
pub mod pop3;
pub mod relay;
pub mod reply;
pub mod smtp;
pub mod tls;
pub mod udp;

pub use codec::{Decoded, Decoder, Malformed};
pub use conn::{Conn, Line, Perturb, Segments, Terminator};
pub use error::WireError;
pub use reply::{LineReader, Reply, ReplyReader};
pub use udp::UdpClient;
