//! Given steps that read what the profile declares about the server under
//! test: its role (`[dns] recursion`) and the fixture features it cannot
//! hold (`[dns] lacks`). A scenario that does not apply is skipped, with the
//! reason and the key that decides it.

use cucumber::given;

use super::*;
use crate::protocol::{dns_lacks, DNS_FIXTURE_FEATURES};
use crate::step;

/// `[dns] recursion = true`: the server also offers recursion.
fn recursive(w: &World) -> bool {
    w.profile().get("dns.recursion") == Some("true")
}

/// Skips the scenario when the profile says the server recurses (`[dns]
/// recursion = true`).
#[given(regex = r"^the server under test offers no recursion$")]
async fn offers_no_recursion(w: &mut World) -> StepResult {
    step!(w, {
        if recursive(w) {
            Err(Failure::skip(
                "the target profile sets dns.recursion = true: the server also recurses, \
                 and this scenario is about an authoritative-only server (RFC 1034 §4.3.1)",
            ))
        } else {
            Ok(())
        }
    })
}

/// Skips the scenario unless the profile says the server recurses (`[dns]
/// recursion = true`).
#[given(regex = r"^the server under test offers recursion$")]
async fn offers_recursion(w: &mut World) -> StepResult {
    step!(w, {
        if recursive(w) {
            Ok(())
        } else {
            Err(Failure::skip(
                "the target profile does not set dns.recursion = true: this scenario is about \
                 a server that also recurses (RFC 1034 §4.3.1)",
            ))
        }
    })
}

/// Skips the scenario when the profile lists this fixture data in `[dns]
/// lacks` (wildcard, delegation, ttl, ptr).
#[given(regex = r#"^the zone under test holds the fixture's "([a-z]+)" data$"#)]
async fn holds_feature(w: &mut World, feature: String) -> StepResult {
    step!(w, {
        let (name, what) = DNS_FIXTURE_FEATURES
            .iter()
            .find(|(n, _)| *n == feature)
            .ok_or_else(|| Failure::harness(format!("no fixture feature \"{feature}\"")))?;
        let lacks = match w.profile().get("dns.lacks") {
            Some(v) => dns_lacks(v).map_err(|e| Failure::harness(format!("dns.lacks: {e}")))?,
            None => vec![],
        };
        if lacks.contains(name) {
            Err(Failure::skip(format!(
                "the target profile declares dns.lacks = \"{name}\": the server does not hold {what}"
            )))
        } else {
            Ok(())
        }
    })
}
