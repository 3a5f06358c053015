//! Queries through hickory-client, as a resolver library sends them: its
//! own message IDs, RD set, EDNS(0), its own transports and framing.

use std::net::SocketAddr;
use std::str::FromStr;
use std::time::Duration;

use hickory_client::client::{Client, ClientHandle};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use hickory_proto::runtime::TokioRuntimeProvider;
use hickory_proto::tcp::TcpClientStream;
use hickory_proto::udp::UdpClientStream;

use cucumber::when;

use super::*;
use crate::step;

/// Sends one query and returns the response's octets as received.
pub async fn query(
    addr: SocketAddr,
    name: &str,
    qtype: u16,
    tcp: bool,
    timeout: Duration,
) -> Result<Vec<u8>, String> {
    let name = Name::from_str(name).map_err(|e| format!("the name {name}: {e}"))?;
    let provider = TokioRuntimeProvider::new();
    let (mut client, task) = if tcp {
        let (stream, sender) = TcpClientStream::new(addr, None, Some(timeout), provider);
        let (client, bg) = Client::with_timeout(stream, sender, timeout, None)
            .await
            .map_err(|e| e.to_string())?;
        (client, tokio::spawn(async move { drop(bg.await) }))
    } else {
        let stream = UdpClientStream::builder(addr, provider)
            .with_timeout(Some(timeout))
            .build();
        let (client, bg) = Client::connect(stream).await.map_err(|e| e.to_string())?;
        (client, tokio::spawn(async move { drop(bg.await) }))
    };
    let result = tokio::time::timeout(
        timeout,
        client.query(name, DNSClass::IN, RecordType::from(qtype)),
    )
    .await;
    task.abort();
    match result {
        Ok(Ok(resp)) => Ok(resp.into_buffer()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err(format!(
            "no response within {}",
            humantime::format_duration(timeout)
        )),
    }
}

/// A real client (hickory) sends the query and keeps its response for the
/// following checks.
#[when(regex = r#"^a hickory client queries "(.*)" for (\S+) over (UDP|TCP)$"#)]
async fn hickory_queries(
    w: &mut World,
    name: String,
    qtype: String,
    transport: String,
) -> StepResult {
    step!(w, {
        let name = w.expand(&name)?;
        let qtype = parse_type(&qtype)?;
        let addr = server(w)?;
        let t = Transport::parse(Some(&transport));
        w.transcript.event(
            &format!("hickory {}", t.name()),
            format!(
                "query {name} {} via hickory-client (RD set, EDNS(0))",
                hickory_proto::rr::RecordType::from(qtype)
            ),
        );
        let raw = query(addr, &name, qtype, t == Transport::Tcp, w.step_timeout)
            .await
            .map_err(|e| {
                Failure::conformance(format!("hickory-client could not complete the query: {e}"))
            })?;
        let resp = Response::decode(raw, t.name());
        log_response(w, &resp);
        let st = w.state::<DnsState>();
        st.pending.clear();
        st.last_query = None;
        if let Some(r) = st.response.replace(resp) {
            st.history.push(r);
        }
        Ok(())
    })
}
