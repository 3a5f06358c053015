//! A small, strict HTTP/1.1 origin server (RFC 9110 semantics, RFC 9112
//! message syntax, RFC 6265 cookies) serving a fixture web root.
//!
//! Besides the files under the root it answers four fixture resources that the
//! suite (and any external target's configuration) provides:
//! - `/echo`: reports the length of the request body it read (`len=N`);
//! - `/redirect`: `301 Moved Permanently` to `/somedir/page.html`;
//! - `/cookie/set`: sets the cookie `conform_id=4711`;
//! - `/cookie/show`: reports the `Cookie` header it received (`cookie=…`).
//!
//! Modules: [`input`] reads the connection with bounds, [`request`] parses a
//! request head, [`body`] frames a request body, [`target`] maps a
//! request-target to a path inside the root, [`resource`] produces responses,
//! [`response`] writes them, [`session`] runs one connection.

mod body;
mod input;
mod request;
mod resource;
mod response;
mod session;
mod target;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::Running;

/// Longest request line (method, target, version) read; longer is 414.
pub const MAX_REQUEST_LINE: usize = 8 * 1024;
/// Longest header field line; longer, or more fields, is 431.
pub const MAX_FIELD_LINE: usize = 8 * 1024;
/// Most header fields in one request.
pub const MAX_FIELDS: usize = 100;
/// Largest header section in total.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// Largest request body read; larger is 413.
pub const MAX_BODY: usize = 1024 * 1024;
/// Connections served at once; others wait in the listen backlog.
pub const MAX_CONNECTIONS: usize = 256;
/// The idle timeout when none is configured.
pub const DEFAULT_IDLE: Duration = Duration::from_secs(5);

/// What a server instance serves and how long it waits.
#[derive(Clone, Debug)]
pub struct Config {
    /// The web root: `GET /a/b` serves `root/a/b`, and nothing outside it.
    pub root: PathBuf,
    /// A connection that stays idle this long (no complete request head) is
    /// closed (RFC 9112 §9.5).
    pub idle_timeout: Duration,
}

impl Config {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            idle_timeout: DEFAULT_IDLE,
        }
    }
}

/// Starts the server on `ip:port` (`0` for an ephemeral port). The listener
/// is registered as `http`.
pub async fn start(ip: IpAddr, port: u16, config: Config) -> std::io::Result<Running> {
    let root = tokio::fs::canonicalize(&config.root).await.map_err(|e| {
        std::io::Error::new(e.kind(), format!("web root {}: {e}", config.root.display()))
    })?;
    let config = Arc::new(Config { root, ..config });
    let listener = TcpListener::bind(SocketAddr::new(ip, port)).await?;
    let addr = listener.local_addr()?;
    let mut running = Running::new();
    running.add("http", addr, tokio::spawn(serve(listener, config)));
    Ok(running)
}

async fn serve(listener: TcpListener, config: Arc<Config>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let Ok(permit) = slots.clone().acquire_owned().await else {
            return;
        };
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let config = config.clone();
        tokio::spawn(async move {
            let _permit = permit;
            session::run(stream, &config).await;
        });
    }
}
