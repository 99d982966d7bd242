//! Who is reading: signed read requests, and which parties may see a bill.
//!
//! A reader signs method, path, body hash and its clock time with its registered key; the node accepts
//! the time only within `REQUEST_SKEW_MS_MAX` of its own clock, so a captured request stops working soon
//! after. A bill's document and history are shown only to the bill's parties (carrier, every past and
//! present possessor, endorsee and pledgee, shipper, consignee) and to operators and auditors.

use std::collections::BTreeSet;

use axum::http::{HeaderMap, Method, StatusCode, Uri};
use ebl_core::api::{verify_request, HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME};
use ebl_core::{
    bytes, Action, Bill, PartyId, PartyKey, Registry, Role, SignatureBytes, SignedTransaction,
};

use crate::api::ApiError;
use crate::limits::{REQUEST_SKEW_MS_MAX, SEEN_REQUESTS_MAX};
use crate::refusal::ReadRefusal;

/// The signatures of the signed requests accepted within the skew window: each is accepted once, so a
/// captured request cannot be sent again.
#[derive(Debug, Default)]
pub struct SeenRequests {
    inner: std::sync::Mutex<SeenInner>,
}

#[derive(Debug, Default)]
struct SeenInner {
    /// Signature to the request time it carried.
    by_signature: std::collections::HashMap<[u8; 64], u64>,
    /// (request time, signature), oldest first, to forget what left the window.
    by_time: std::collections::BTreeSet<(u64, [u8; 64])>,
}

impl SeenRequests {
    /// Records a signature, refusing one seen before (and answering 503 when the memory is full).
    fn admit(&self, signature: &SignatureBytes, time: u64, now_ms: u64) -> Result<(), ApiError> {
        let mut seen = match self.inner.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        // A request older than twice the skew is refused by its time anyway: forget it.
        let horizon = now_ms.saturating_sub(2 * REQUEST_SKEW_MS_MAX);
        while let Some(&(t, sig)) = seen.by_time.first() {
            if t >= horizon {
                break;
            }
            seen.by_time.remove(&(t, sig));
            seen.by_signature.remove(&sig);
        }
        if seen.by_signature.contains_key(&signature.0) {
            return Err(ReadRefusal::Replayed.into());
        }
        if seen.by_signature.len() >= SEEN_REQUESTS_MAX {
            return Err(ReadRefusal::RequestsRemembered.into());
        }
        seen.by_signature.insert(signature.0, time);
        seen.by_time.insert((time, signature.0));
        Ok(())
    }
}

/// An authenticated reader.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Reader {
    pub party: PartyId,
    /// Operators and auditors may read every bill.
    pub privileged: bool,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks the request signature and returns the reader it belongs to.
pub(crate) fn authenticate(
    registry: &Registry,
    chain: &ebl_core::ChainId,
    request: (&Method, &Uri, &HeaderMap),
    seen: &SeenRequests,
    now_ms: u64,
) -> Result<Reader, ApiError> {
    authenticate_body(registry, chain, request, &[], seen, now_ms)
}

/// The key that signed a request (its body covered by the signature), once the signature, its time and
/// its freshness are checked.
fn signer(
    chain: &ebl_core::ChainId,
    (method, uri, headers): (&Method, &Uri, &HeaderMap),
    body: &[u8],
    seen: &SeenRequests,
    now_ms: u64,
) -> Result<PartyKey, ApiError> {
    let (Some(key), Some(time), Some(signature)) = (
        header(headers, HEADER_KEY),
        header(headers, HEADER_TIME),
        header(headers, HEADER_SIGNATURE),
    ) else {
        return Err(ReadRefusal::Unsigned.into());
    };
    let key: PartyKey = key.parse().map_err(|_| {
        ApiError::from(ReadRefusal::BadRequestSignature {
            why: "x-ebl-key is not a valid public key",
        })
    })?;
    let time: u64 = time.parse().map_err(|_| {
        ApiError::from(ReadRefusal::BadRequestSignature {
            why: "x-ebl-time is not a number of milliseconds",
        })
    })?;
    let signature = bytes::from_hex::<64>(signature)
        .map(SignatureBytes)
        .ok_or_else(|| {
            ApiError::from(ReadRefusal::BadRequestSignature {
                why: "x-ebl-signature is not 64 bytes of hex",
            })
        })?;
    if time.abs_diff(now_ms) > REQUEST_SKEW_MS_MAX {
        return Err(ReadRefusal::RequestExpired.into());
    }
    let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    if !verify_request(&key, chain, method.as_str(), path, body, time, &signature) {
        return Err(ReadRefusal::BadRequestSignature {
            why: "request signature does not verify",
        }
        .into());
    }
    seen.admit(&signature, time, now_ms)?;
    Ok(key)
}

/// Checks that a request is signed by this node's own key: the operator's requests to its node (verify
/// the store it writes), which no party, member or auditor may make.
pub(crate) fn authenticate_node(
    node: &PartyKey,
    chain: &ebl_core::ChainId,
    request: (&Method, &Uri, &HeaderMap),
    seen: &SeenRequests,
    now_ms: u64,
) -> Result<(), ApiError> {
    if signer(chain, request, &[], seen, now_ms)? != *node {
        return Err(ReadRefusal::NotThisNode.into());
    }
    Ok(())
}

/// [`authenticate`] for a request with a body, which the signature covers.
pub(crate) fn authenticate_body(
    registry: &Registry,
    chain: &ebl_core::ChainId,
    request: (&Method, &Uri, &HeaderMap),
    body: &[u8],
    seen: &SeenRequests,
    now_ms: u64,
) -> Result<Reader, ApiError> {
    let key = signer(chain, request, body, seen, now_ms)?;
    // A member reads what its node stores (consortium.md); its admin key is no party's, so it reads as
    // a reader with no bills of its own and every bill visible.
    if registry.member_by_admin(&key).is_some() {
        return Ok(Reader {
            party: PartyId::from(key),
            privileged: true,
        });
    }
    let party = registry
        .signer(&key)
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.code(), &e.to_string()))?;
    let privileged = registry
        .party(party)
        .is_some_and(|p| p.has_role(Role::Auditor));
    Ok(Reader { party, privileged })
}

/// How much of a bill a reader may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// A party of the bill now, an auditor or a member: all of it.
    Full,
    /// A former party: the history up to and including the entry at this index, the last one it had a
    /// part in; not the state now, nor later holders, pledges or loan terms.
    Until(usize),
}

/// The parties a transaction concerns: whoever signed it (with any of their keys) and whoever it names
/// as a recipient.
fn parties_of(registry: &Registry, tx: &SignedTransaction) -> Vec<PartyId> {
    let mut parties: Vec<PartyId> = tx
        .signatures
        .iter()
        .filter_map(|s| registry.by_key(&s.signer).map(|p| p.id))
        .collect();
    match &tx.body.action {
        Action::Issue {
            issue_to,
            shipper,
            consignee,
            ..
        } => {
            parties.extend([*issue_to, *shipper]);
            parties.extend(consignee);
        }
        Action::Transfer { to, .. }
        | Action::Endorse { to, .. }
        | Action::EndorseToOrder { to, .. } => {
            parties.push(*to);
        }
        Action::Pledge { pledgee, .. } => parties.push(*pledgee),
        Action::Import { possessor, .. } => parties.push(*possessor),
        _ => {}
    }
    parties
}

/// Whether `party` signed `tx` (with any of its keys) or is named by it as a recipient.
pub(crate) fn involved(registry: &Registry, tx: &SignedTransaction, party: PartyId) -> bool {
    parties_of(registry, tx).contains(&party)
}

/// What `reader` may see of `bill`, whose history is `history`; `None` for no part in it at all. A
/// former party sees up to the last transaction it had a part in: one it signed or received, and the
/// answer to its own surrender or the end of its own pledge. When that is the last transaction, it sees
/// everything (nothing followed).
pub(crate) fn access(
    registry: &Registry,
    bill: &Bill,
    history: &[&SignedTransaction],
    reader: &Reader,
) -> Option<Access> {
    if reader.privileged || bill.current_parties().contains(&reader.party) {
        return Some(Access::Full);
    }
    let mut last = None;
    // Who surrendered, or pledged, before the transaction at hand: its answer concerns them too.
    let (mut surrendered_by, mut pledgor) = (None, None);
    for (i, tx) in history.iter().enumerate() {
        let signer = tx
            .signatures
            .first()
            .and_then(|s| registry.by_key(&s.signer))
            .map(|p| p.id);
        let concerned = match &tx.body.action {
            Action::AcceptSurrender { .. } | Action::RejectSurrender { .. } => {
                surrendered_by == Some(reader.party)
            }
            Action::Release { .. } | Action::Enforce { .. } => pledgor == Some(reader.party),
            _ => false,
        };
        if concerned || involved(registry, tx, reader.party) {
            last = Some(i);
        }
        match &tx.body.action {
            Action::SurrenderForDelivery { .. } | Action::SurrenderForAmendment { .. } => {
                surrendered_by = signer;
            }
            Action::Pledge { .. } => pledgor = signer,
            _ => {}
        }
    }
    let last = last?;
    Some(if last + 1 == history.len() {
        Access::Full
    } else {
        Access::Until(last)
    })
}

/// Every party that has had a part in a bill: signers and recipients of its history, and its parties now.
pub(crate) fn bill_parties(
    registry: &Registry,
    bill: &Bill,
    history: &[&SignedTransaction],
) -> BTreeSet<PartyId> {
    let mut parties: BTreeSet<PartyId> = bill.current_parties().into_iter().collect();
    for tx in history {
        parties.extend(parties_of(registry, tx));
    }
    parties
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `SEEN_REQUESTS_MAX` at its bound: the memory fills, then refuses (never forgets a signature
    /// early), and frees what left the window.
    #[test]
    fn the_memory_of_signed_requests_is_bounded() {
        let seen = SeenRequests::default();
        let now = 10 * REQUEST_SKEW_MS_MAX;
        let signature = |i: usize| {
            let mut bytes = [0u8; 64];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            SignatureBytes(bytes)
        };
        for i in 0..SEEN_REQUESTS_MAX {
            assert!(seen.admit(&signature(i), now, now).is_ok());
        }
        let full = seen.admit(&signature(SEEN_REQUESTS_MAX), now, now);
        assert_eq!(full.map_err(|e| e.body.code), Err("busy".to_owned()));
        let again = seen.admit(&signature(0), now, now);
        assert_eq!(
            again.map_err(|e| e.body.code),
            Err("request_replayed".to_owned())
        );
        // Past twice the skew the old ones are forgotten, and there is room again.
        let later = now + 2 * REQUEST_SKEW_MS_MAX + 1;
        assert!(seen
            .admit(&signature(SEEN_REQUESTS_MAX), later, later)
            .is_ok());
    }
}
