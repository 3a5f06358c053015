//! A small, strict HTTP/1.1 origin server (RFC 9110 semantics, RFC 9112
//! message syntax, RFC 6265 cookies) serving a fixture web root.
//!
//! Besides the files under the root it answers the four application
//! resources a target profile can name (`[http] echo`, `redirect`,
//! `cookie_set`, `cookie_show`; the embedded profile names these paths):
//! - `/echo`: reports the length of the request body it read (`len=N`);
//! - `/redirect`: `301 Moved Permanently` to `/somedir/page.html`;
//! - `/cookie/set`: sets the cookie `conform_id=4711`;
//! - `/cookie/show`: reports the `Cookie` header it received (`cookie=…`).
//!
//! Modules: [`input`] reads the connection with bounds, [`request`] parses a
//! request head, [`body`] frames a request body, [`target`] maps a
//! request-target to a path inside the root, [`resource`] produces responses,
//! [`response`] writes them, [`session`] runs one connection.

pub(crate) mod body;
pub(crate) mod input;
pub(crate) mod request;
mod resource;
pub(crate) mod response;
mod session;
mod target;

use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

use crate::listener::{self, accept_loop, WhenFull};
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
    /// HTTPS: every connection is TLS from the first byte (RFC 9110
    /// §4.2.2), with this certificate; give it ALPN `http/1.1`.
    pub tls: Option<crate::tls::Identity>,
}

impl Config {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            idle_timeout: DEFAULT_IDLE,
            tls: None,
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
    let addr = SocketAddr::new(ip, port);
    listener::start("http", addr, |l| serve(l, config)).await
}

async fn serve(listener: TcpListener, config: Arc<Config>) {
    accept_loop(
        listener,
        // Beyond the limit, new clients wait in the listen backlog.
        crate::MAX_CONNECTIONS,
        WhenFull::Wait,
        move |stream, _| {
            let config = config.clone();
            async move { session::run(stream, &config).await }
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    //! The server over real sockets, for what the suite cannot reach from
    //! outside: symbolic links out of the root, 100-continue, size limits.

    use std::net::Ipv4Addr;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;

    use super::*;

    async fn server(name: &str) -> (Running, PathBuf) {
        let root = std::env::temp_dir().join(format!("conform-http-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("www")).unwrap();
        std::fs::write(root.join("www/a.txt"), b"hello").unwrap();
        std::fs::write(root.join("secret.txt"), b"secret").unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink(root.join("secret.txt"), root.join("www/link.txt")).unwrap();
        let mut config = Config::new(root.join("www"));
        config.idle_timeout = Duration::from_millis(500);
        let r = start(IpAddr::V4(Ipv4Addr::LOCALHOST), 0, config)
            .await
            .unwrap();
        (r, root)
    }

    async fn exchange(r: &Running, request: &[u8]) -> String {
        let mut s = TcpStream::connect(r.addr("http").unwrap()).await.unwrap();
        s.write_all(request).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(3), s.read_to_end(&mut out)).await;
        String::from_utf8_lossy(&out).into_owned()
    }

    #[tokio::test]
    async fn a_symbolic_link_out_of_the_root_is_not_followed() {
        let (r, root) = server("link").await;
        let got = exchange(
            &r,
            b"GET /link.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        )
        .await;
        assert!(got.starts_with("HTTP/1.1 404 "), "{got}");
        assert!(!got.contains("secret"), "{got}");
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn expect_100_continue_gets_an_interim_response_before_the_body() {
        let (r, root) = server("expect").await;
        let mut s = TcpStream::connect(r.addr("http").unwrap()).await.unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut first = [0u8; 25];
        s.read_exact(&mut first).await.unwrap();
        assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
        s.write_all(b"hello").await.unwrap();
        let mut rest = Vec::new();
        s.read_to_end(&mut rest).await.unwrap();
        let rest = String::from_utf8_lossy(&rest);
        assert!(
            rest.starts_with("HTTP/1.1 200 OK\r\n") && rest.ends_with("len=5\n"),
            "{rest}"
        );
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn limits_give_413_431_and_414() {
        let (r, root) = server("limits").await;
        let big = format!(
            "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert!(exchange(&r, big.as_bytes())
            .await
            .starts_with("HTTP/1.1 413 "));
        let mut many = b"GET /a.txt HTTP/1.1\r\nHost: x\r\n".to_vec();
        for i in 0..=MAX_FIELDS {
            many.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert!(exchange(&r, &many).await.starts_with("HTTP/1.1 431 "));
        let long = format!(
            "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
            "a".repeat(MAX_REQUEST_LINE)
        );
        assert!(exchange(&r, long.as_bytes())
            .await
            .starts_with("HTTP/1.1 414 "));
        let _ = std::fs::remove_dir_all(root);
    }

    #[tokio::test]
    async fn an_idle_or_slow_connection_is_closed() {
        let (r, root) = server("idle").await;
        let started = std::time::Instant::now();
        // A head that never completes is cut off after the idle timeout.
        let got = exchange(&r, b"GET /a.txt HTTP/1.1\r\nHost: x\r\n").await;
        assert_eq!(got, "");
        assert!(started.elapsed() < Duration::from_secs(2));
        let _ = std::fs::remove_dir_all(root);
    }
}
