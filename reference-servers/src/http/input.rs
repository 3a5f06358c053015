//! The receiving side of a connection: a buffer filled from the socket, read
//! as lines (bounded) and as counted bytes.

use tokio::io::{AsyncRead, AsyncReadExt};

/// Why a read stopped short.
#[derive(Debug)]
pub enum ReadError {
    /// The line exceeded the limit before its LF.
    TooLong,
    /// The client closed the connection (or it failed) first.
    Closed,
}

pub struct Input {
    /// A TCP read half, or the reading side of a TLS session.
    stream: Box<dyn AsyncRead + Unpin + Send>,
    buf: Vec<u8>,
    closed: bool,
}

impl Input {
    pub fn new(stream: impl AsyncRead + Unpin + Send + 'static) -> Self {
        Self {
            stream: Box::new(stream),
            buf: Vec::new(),
            closed: false,
        }
    }

    async fn fill(&mut self) -> Result<(), ReadError> {
        if self.closed {
            return Err(ReadError::Closed);
        }
        let mut chunk = [0u8; 8192];
        match self.stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                self.closed = true;
                Err(ReadError::Closed)
            }
            Ok(n) => {
                self.buf.extend_from_slice(&chunk[..n]);
                Ok(())
            }
        }
    }

    /// Waits until at least one byte is buffered; false if the client closed.
    pub async fn has_data(&mut self) -> bool {
        if !self.buf.is_empty() {
            return true;
        }
        self.fill().await.is_ok()
    }

    /// Reads a line ending in LF, at most `max` bytes before the LF. The LF
    /// (and a CR before it) is removed.
    pub async fn read_line(&mut self, max: usize) -> Result<Vec<u8>, ReadError> {
        let mut scanned = 0;
        loop {
            if let Some(pos) = self.buf[scanned..].iter().position(|b| *b == b'\n') {
                let end = scanned + pos;
                if end > max + 1 {
                    return Err(ReadError::TooLong);
                }
                let mut line: Vec<u8> = self.buf.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return Ok(line);
            }
            scanned = self.buf.len();
            if scanned > max + 1 {
                return Err(ReadError::TooLong);
            }
            self.fill().await?;
        }
    }

    /// Reads exactly `n` bytes.
    pub async fn read_exact(&mut self, n: usize) -> Result<Vec<u8>, ReadError> {
        while self.buf.len() < n {
            self.fill().await?;
        }
        Ok(self.buf.drain(..n).collect())
    }

    /// What is buffered, or the next bytes to arrive (a body that runs to
    /// the close is read this way, bounded by the caller).
    pub async fn read_some(&mut self) -> Result<Vec<u8>, ReadError> {
        if self.buf.is_empty() {
            self.fill().await?;
        }
        Ok(std::mem::take(&mut self.buf))
    }
}
