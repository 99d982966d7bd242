//! DCSA's endorsement chain (eBL API 3.0: the Endorsement Chain and Surrender APIs): a bill's history
//! as the links of its transfer chain, read from the PINT envelope the platform exports for it.

use serde_json::{json, Value};

/// The endorsement chain of a PINT envelope the node exported for the bill: every transaction that
/// hands the bill or its title to a recipient, in order, as DCSA's `EndorsementChainLink`s (our own
/// extensions left out).
pub fn endorsement_chain(envelope: &Value) -> Vec<Value> {
    let entries = envelope
        .get("envelopeTransferChain")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut links = Vec::new();
    for entry in entries {
        let Some(payload) = entry
            .as_str()
            .and_then(|jws| jws.split('.').nth(1))
            .and_then(crate::base64url_decode)
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
        else {
            continue;
        };
        for t in payload
            .get("transactions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let (Some(code), Some(time), Some(actor), Some(recipient)) = (
                t.get("actionCode"),
                t.get("actionDateTime"),
                t.get("actor"),
                t.get("recipient"),
            ) else {
                continue;
            };
            links.push(json!({
                "actionCode": code,
                "actionDateTime": time,
                "actor": actor,
                "recipient": recipient,
            }));
        }
    }
    links
}
