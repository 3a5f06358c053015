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
pub mod pop3;
pub mod proxy;
pub mod running;
pub mod sasl;
pub mod smtp;
pub mod sockets;
pub mod tls;

pub use running::Running;
