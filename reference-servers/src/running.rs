//! A handle on servers running as tokio tasks; dropping it stops them.

use std::net::SocketAddr;
use tokio::task::JoinHandle;

/// The servers started by one call, with the addresses they listen on.
#[derive(Default)]
pub struct Running {
    /// `(name, address)` pairs, e.g. `("tcp", 127.0.0.1:40123)`.
    pub listeners: Vec<(String, SocketAddr)>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: &str, addr: SocketAddr, task: JoinHandle<()>) {
        self.listeners.push((name.to_string(), addr));
        self.tasks.push(task);
    }

    /// The address of the listener called `name`.
    pub fn addr(&self, name: &str) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, a)| *a)
    }

    /// Moves the other handle's servers into this one.
    pub fn merge(&mut self, mut other: Running) {
        self.listeners.append(&mut other.listeners);
        self.tasks.append(&mut other.tasks);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}
