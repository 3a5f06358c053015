//! Benchmark: mutated exchanges per second against the bundled servers over
//! loopback, for every protocol the fuzzer knows, with connection reuse
//! where the protocol allows it and with a fresh connection per case.
//! Prints a table, and where the time goes (drawing cases vs the network).
//! A benchmark that reports figures; nothing here asserts on time.
//!
//!     cargo bench -p conform --bench fuzz [-- SECONDS]

use std::sync::Arc;
use std::time::{Duration, Instant};

use conform::fuzz::engine::{test_runner, Execution, Executor};
use conform::fuzz::{self, corpus, Channel, FuzzProtocol, Limits, Transport};
use conform::target::bundled;
use proptest::strategy::{Strategy, ValueTree};

struct Row {
    protocol: String,
    channel: String,
    mode: &'static str,
    cases: u64,
    exchanges: u64,
    seconds: f64,
    drawing: f64,
}

/// How connections are used.
#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// One connection (or socket) carries case after case.
    Reuse,
    /// A fresh connection per case; the case's messages share it.
    Session,
    /// A fresh connection per case of a single message.
    Single,
}

fn measure(plugin: Arc<dyn FuzzProtocol>, channel: Channel, mode: Mode, secs: f64) -> Row {
    let seeds = Arc::new(corpus::seeds(
        plugin.as_ref(),
        Some(&corpus::default_dir()),
        None,
    ));
    let strategy = plugin.strategy(std::slice::from_ref(&channel), seeds);
    let limits = Limits {
        reply_timeout: Duration::from_secs(2),
        drain: Duration::ZERO,
    };
    let mut exec = Executor::new(plugin.clone(), vec![channel.clone()], limits);
    let mut runner = test_runner(1);
    let (mut cases, mut exchanges, mut drawing) = (0u64, 0u64, Duration::ZERO);
    let start = Instant::now();
    while start.elapsed().as_secs_f64() < secs {
        let t = Instant::now();
        let mut case = strategy.new_tree(&mut runner).expect("draw").current();
        if mode == Mode::Single {
            case.messages.truncate(1);
        }
        drawing += t.elapsed();
        match exec.execute(&case, mode == Mode::Reuse) {
            Execution::Passed { exchanges: n } => exchanges += n,
            Execution::Failed { violation, .. } => panic!("the bundled server failed: {violation}"),
            Execution::Unreachable(e) => panic!("the bundled server is unreachable: {e}"),
        }
        cases += 1;
    }
    Row {
        protocol: plugin.name().into(),
        channel: channel.name,
        mode: match mode {
            Mode::Reuse => "reuse",
            Mode::Session => "session",
            Mode::Single => "single",
        },
        cases,
        exchanges,
        seconds: start.elapsed().as_secs_f64(),
        drawing: drawing.as_secs_f64(),
    }
}

/// The network alone: the same round trip with a fixed message, no drawing,
/// no judging (the ceiling for the fuzzer on this machine).
fn baseline(channel: &Channel, secs: f64) -> (u64, f64) {
    let start = Instant::now();
    let mut n = 0u64;
    let msg = b"hello world";
    let mut buf = [0u8; 2048];
    match channel.transport {
        Transport::Udp => {
            let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
            s.connect(channel.addr).unwrap();
            while start.elapsed().as_secs_f64() < secs {
                s.send(msg).unwrap();
                s.recv(&mut buf).unwrap();
                n += 1;
            }
        }
        Transport::Tcp => {
            use std::io::{Read, Write};
            while start.elapsed().as_secs_f64() < secs {
                let mut s = std::net::TcpStream::connect(channel.addr).unwrap();
                s.write_all(msg).unwrap();
                while s.read(&mut buf).unwrap() > 0 {}
                n += 1;
            }
        }
    }
    (n, start.elapsed().as_secs_f64())
}

fn main() {
    let secs: f64 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(3.0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "{:<9} {:<8} {:<6} {:>9} {:>10} {:>8} {:>13} {:>9}",
        "protocol", "channel", "conn", "cases", "exchanges", "secs", "exchanges/s", "drawing"
    );
    let mut baselines = Vec::new();
    for p in fuzz::available() {
        if !bundled::available().contains(&p) {
            continue;
        }
        let servers = rt
            .block_on(bundled::start(&[p], bundled::loopback()))
            .expect("the bundled server starts");
        let plugin = fuzz::plugin(p).expect("a fuzz module");
        let channels = plugin.channels(&servers.profile).expect("channels");
        for c in &channels {
            for mode in [Mode::Reuse, Mode::Session, Mode::Single] {
                if mode == Mode::Reuse && !plugin.reusable(c) {
                    println!(
                        "{:<9} {:<8} {:<6} {:>9} {:>10} {:>8} {:>13} {:>9}",
                        p.name(),
                        c.name,
                        "reuse",
                        "-",
                        "-",
                        "-",
                        "n/a",
                        "-"
                    );
                    continue;
                }
                let plugin = plugin.clone();
                let c = c.clone();
                // The servers run on the runtime's worker threads; the fuzzer
                // on this one, as `conform fuzz` runs it on a blocking thread.
                let r = measure(plugin, c, mode, secs);
                println!(
                    "{:<9} {:<8} {:<6} {:>9} {:>10} {:>8.2} {:>13.0} {:>8.0}%",
                    r.protocol,
                    r.channel,
                    r.mode,
                    r.cases,
                    r.exchanges,
                    r.seconds,
                    r.exchanges as f64 / r.seconds,
                    100.0 * r.drawing / r.seconds
                );
            }
            if p != conform::protocol::Protocol::Sockets {
                continue;
            }
            let (n, s) = baseline(c, secs);
            baselines.push(format!(
                "{} {}: {:.0} plain round trips/s ({})",
                p.name(),
                c.name,
                n as f64 / s,
                if c.transport == Transport::Udp {
                    "one socket, fixed datagram"
                } else {
                    "a connection per message"
                }
            ));
        }
    }
    println!("\nthe sockets servers' network alone, no drawing or judging:");
    for b in baselines {
        println!("  {b}");
    }
    println!("\nconn: reuse = one connection/socket carries case after case; session = a new one per case,");
    println!("      the case's messages (a valid prefix, then up to 5-8 mutated ones) share it;");
    println!("      single = a new one per case of one mutated message (after its prefix)");
    println!("n/a: no case is carried over into the next one: the sockets TCP server closes after each reply;");
    println!("     after a mutated line-protocol or HTTP session the server's state is unknown");
    println!("drawing: share of the wall time spent drawing cases with proptest");
}
