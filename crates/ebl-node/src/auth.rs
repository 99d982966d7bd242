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
use crate::limits::{REQUEST_SKEW_MS_MAX, SEEN_PER_KEY_MAX, SEEN_REQUESTS_MAX};
use crate::refusal::ReadRefusal;

/// The signatures of the signed requests accepted within the skew window: each is accepted once, so a
/// captured request cannot be sent again. Only a request whose key is known (a registered party, a
/// member admin, this node) is remembered, and each key at most `SEEN_PER_KEY_MAX` times: strangers
/// fill none of it, and no one key fills it for the others.
#[derive(Debug)]
pub struct SeenRequests {
    inner: std::sync::Mutex<SeenInner>,
    /// Most signatures remembered at once.
    total_max: usize,
    /// Most of one key's.
    per_key_max: usize,
}

impl Default for SeenRequests {
    /// The memory of signed reads: `SEEN_REQUESTS_MAX` in all, `SEEN_PER_KEY_MAX` per key.
    fn default() -> SeenRequests {
        SeenRequests::with_limits(SEEN_REQUESTS_MAX, SEEN_PER_KEY_MAX)
    }
}

#[derive(Debug, Default)]
struct SeenInner {
    /// Signature to the request time it carried and the key that signed it.
    by_signature: std::collections::HashMap<[u8; 64], (u64, PartyKey)>,
    /// (request time, signature), oldest first, to forget what left the window.
    by_time: std::collections::BTreeSet<(u64, [u8; 64])>,
    /// How many remembered signatures each key has.
    per_key: std::collections::HashMap<PartyKey, usize>,
}

impl SeenRequests {
    /// A memory of at most `total_max` signatures, `per_key_max` of one key.
    pub fn with_limits(total_max: usize, per_key_max: usize) -> SeenRequests {
        SeenRequests {
            inner: std::sync::Mutex::default(),
            total_max,
            per_key_max,
        }
    }

    /// Records a signature by `key`, refusing one seen before (`Replayed`) and answering
    /// `RequestsRemembered` (503) when the memory, or the key's share of it, is full.
    pub(crate) fn admit(
        &self,
        key: &PartyKey,
        signature: &SignatureBytes,
        time: u64,
        now_ms: u64,
    ) -> Result<(), ReadRefusal> {
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
            if let Some((_, signer)) = seen.by_signature.remove(&sig) {
                if let Some(n) = seen.per_key.get_mut(&signer) {
                    *n = n.saturating_sub(1);
                    if *n == 0 {
                        seen.per_key.remove(&signer);
                    }
                }
            }
        }
        if seen.by_signature.contains_key(&signature.0) {
            return Err(ReadRefusal::Replayed);
        }
        let mine = seen.per_key.get(key).copied().unwrap_or(0);
        if seen.by_signature.len() >= self.total_max || mine >= self.per_key_max {
            return Err(ReadRefusal::RequestsRemembered);
        }
        seen.by_signature.insert(signature.0, (time, *key));
        seen.by_time.insert((time, signature.0));
        seen.per_key.insert(*key, mine + 1);
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

/// A request's signature, checked, and not yet remembered: that waits until its key is known to be one
/// that may sign requests here ([`Signed::remember`]).
struct Signed<'a> {
    key: PartyKey,
    signature: SignatureBytes,
    time: u64,
    seen: &'a SeenRequests,
    now_ms: u64,
}

impl Signed<'_> {
    /// Accepts the signature once (a replay is refused), now that its key is known.
    fn remember(self) -> Result<PartyKey, ApiError> {
        self.seen
            .admit(&self.key, &self.signature, self.time, self.now_ms)
            .map_err(ApiError::from)?;
        Ok(self.key)
    }
}

/// The key that signed a request (its body covered by the signature), once the signature, its time and
/// its freshness are checked.
fn signer<'a>(
    chain: &ebl_core::ChainId,
    (method, uri, headers): (&Method, &Uri, &HeaderMap),
    body: &[u8],
    seen: &'a SeenRequests,
    now_ms: u64,
) -> Result<Signed<'a>, ApiError> {
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
    Ok(Signed {
        key,
        signature,
        time,
        seen,
        now_ms,
    })
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
    let signed = signer(chain, request, &[], seen, now_ms)?;
    if signed.key != *node {
        return Err(ReadRefusal::NotThisNode.into());
    }
    signed.remember().map(|_| ())
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
    let signed = signer(chain, request, body, seen, now_ms)?;
    // A member reads what its node stores (consortium.md); its admin key is no party's, so it reads as
    // a reader with no bills of its own and every bill visible.
    if registry.member_by_admin(&signed.key).is_some() {
        let key = signed.remember()?;
        return Ok(Reader {
            party: PartyId::from(key),
            privileged: true,
        });
    }
    // The key is checked before its signature is remembered: a stranger's requests take no memory.
    let party = registry
        .signer(&signed.key)
        .map_err(|e| ApiError::new(StatusCode::UNAUTHORIZED, e.code(), &e.to_string()))?;
    signed.remember()?;
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
        // Each key within its share, so the whole memory fills.
        let key = |i: usize| {
            let n = u8::try_from(i / SEEN_PER_KEY_MAX + 1).expect("a few keys");
            PartyKey::of(&ebl_core::testkit::key(n))
        };
        for i in 0..SEEN_REQUESTS_MAX {
            assert!(seen.admit(&key(i), &signature(i), now, now).is_ok());
        }
        let stranger = PartyKey::of(&ebl_core::testkit::key(200));
        let full = seen.admit(&stranger, &signature(SEEN_REQUESTS_MAX), now, now);
        assert_eq!(full, Err(ReadRefusal::RequestsRemembered));
        let again = seen.admit(&key(0), &signature(0), now, now);
        assert_eq!(again, Err(ReadRefusal::Replayed));
        // Past twice the skew the old ones are forgotten, and there is room again.
        let later = now + 2 * REQUEST_SKEW_MS_MAX + 1;
        assert!(seen
            .admit(&stranger, &signature(SEEN_REQUESTS_MAX), later, later)
            .is_ok());
    }

    /// `SEEN_PER_KEY_MAX` at its bound: one key's requests fill its share and no more; another key's
    /// are still remembered.
    #[test]
    fn one_key_fills_only_its_share_of_the_memory() {
        let seen = SeenRequests::default();
        let now = 10 * REQUEST_SKEW_MS_MAX;
        let (busy, other) = (
            PartyKey::of(&ebl_core::testkit::key(1)),
            PartyKey::of(&ebl_core::testkit::key(2)),
        );
        let signature = |i: usize| {
            let mut bytes = [0u8; 64];
            bytes[..8].copy_from_slice(&(i as u64).to_le_bytes());
            SignatureBytes(bytes)
        };
        for i in 0..SEEN_PER_KEY_MAX {
            assert!(seen.admit(&busy, &signature(i), now, now).is_ok());
        }
        let over = seen.admit(&busy, &signature(SEEN_PER_KEY_MAX), now, now);
        assert_eq!(over, Err(ReadRefusal::RequestsRemembered));
        assert!(seen
            .admit(&other, &signature(SEEN_PER_KEY_MAX + 1), now, now)
            .is_ok());
    }

    /// Finding 2 of the attack review: 101 000 signed reads by unregistered keys made every party's
    /// signed read answer 503 for about 85 s, because each signature was remembered before its key was
    /// checked. A stranger's request is refused and remembered nowhere.
    #[test]
    fn regression_strangers_signed_reads_fill_no_memory() {
        use ebl_core::testkit::Cast;
        let cast = Cast::new();
        let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
        let chain = genesis.chain_id();
        let registry = Registry::new(&genesis);
        let seen = SeenRequests::default();
        let now = 10 * REQUEST_SKEW_MS_MAX;
        let uri: Uri = "/v1/bills".parse().expect("uri");
        let signed_by = |key: &ebl_core::SigningKey, time: u64| {
            let signature = ebl_core::api::sign_request(key, &chain, "GET", "/v1/bills", &[], time);
            let mut headers = HeaderMap::new();
            headers.insert(
                HEADER_KEY,
                PartyKey::of(key).to_hex().parse().expect("header"),
            );
            headers.insert(HEADER_TIME, time.to_string().parse().expect("header"));
            headers.insert(
                HEADER_SIGNATURE,
                bytes::to_hex(&signature.0).parse().expect("header"),
            );
            headers
        };
        for i in 0..1_000u64 {
            let mut seed = [7u8; 32];
            seed[..8].copy_from_slice(&i.to_le_bytes());
            let stranger = ebl_core::SigningKey::from_bytes(&seed);
            let refused = authenticate(
                &registry,
                &chain,
                (&Method::GET, &uri, &signed_by(&stranger, now)),
                &seen,
                now,
            );
            assert!(refused.is_err());
        }
        assert_eq!(seen.inner.lock().expect("lock").by_signature.len(), 0);
        // A member admin's read is remembered, once.
        let admin = signed_by(&cast.operator, now);
        assert!(authenticate(&registry, &chain, (&Method::GET, &uri, &admin), &seen, now).is_ok());
        let replayed = authenticate(&registry, &chain, (&Method::GET, &uri, &admin), &seen, now);
        assert_eq!(
            replayed.map(|_| ()).map_err(|e| e.body.code),
            Err("request_replayed".to_owned())
        );
    }

    /// Issue 35: two commands of one key in the same millisecond (a bank's script checking in parallel)
    /// made identical signed reads, and the second was refused as a replay. The wallet now adds a
    /// `nonce` query parameter, which the signature covers (it is over the path and its query) and the
    /// handlers pass over: two reads in one millisecond differ, the same one again is still a replay,
    /// and a nonce changed after signing does not verify.
    #[test]
    fn regression_two_reads_in_one_millisecond_differ_by_their_nonce() {
        use ebl_core::testkit::Cast;
        let cast = Cast::new();
        let genesis = cast.genesis(1_700_000_000_000).expect("genesis");
        let chain = genesis.chain_id();
        let registry = Registry::new(&genesis);
        let seen = SeenRequests::default();
        let now = 10 * REQUEST_SKEW_MS_MAX;
        let signed = |path: &str| {
            let signature =
                ebl_core::api::sign_request(&cast.operator, &chain, "GET", path, &[], now);
            let mut headers = HeaderMap::new();
            headers.insert(
                HEADER_KEY,
                PartyKey::of(&cast.operator)
                    .to_hex()
                    .parse()
                    .expect("header"),
            );
            headers.insert(HEADER_TIME, now.to_string().parse().expect("header"));
            headers.insert(
                HEADER_SIGNATURE,
                bytes::to_hex(&signature.0).parse().expect("header"),
            );
            headers
        };
        let read = |uri: &str, headers: &HeaderMap| {
            let uri: Uri = uri.parse().expect("uri");
            authenticate(&registry, &chain, (&Method::GET, &uri, headers), &seen, now)
                .map(|_| ())
                .map_err(|e| e.body.code)
        };
        let (a, b) = ("/v1/bills?nonce=a1", "/v1/bills?nonce=b2");
        assert_eq!(read(a, &signed(a)), Ok(()));
        assert_eq!(
            read(b, &signed(b)),
            Ok(()),
            "another nonce, the same millisecond"
        );
        assert_eq!(read(a, &signed(a)), Err("request_replayed".to_owned()));
        assert_eq!(
            read("/v1/bills?nonce=c4", &signed("/v1/bills?nonce=c3")),
            Err("bad_request_signature".to_owned()),
            "the nonce is signed"
        );
    }
}
