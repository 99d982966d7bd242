//! Who reads what: the bill a signed reader may see (and how much of it), the reader of a listing, and
//! a bill's history as of the published state, walked back from the head readers may see.

use axum::http::{HeaderMap, Method, Uri};
use ebl_core::api::HistoryEntry;
use ebl_core::{Bill, BillId, Hash, SignedTransaction};
use ebl_store::{Kv, StoreError};

use super::{now_ms, ApiError, App};
use crate::auth::{access, authenticate, Access, Reader};
use crate::refusal::ReadRefusal;
use ebl_consensus::sequencer::receipt_in;

/// The bill, if `reader` may see it: 404 if it does not exist, 403 if it does but is not theirs.
pub(super) fn readable_bill<K: Kv>(
    app: &App<K>,
    id: &BillId,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Bill, Vec<HistoryEntry>, Reader, Access), ApiError> {
    let (bill, reader) = authenticated_bill(app, id, method, uri, headers)?;
    let (history, access) = history_for(app, &bill, &reader)?;
    Ok((bill, history, reader, access))
}

/// The bill and the signed reader asking for it (a signature is admitted once: authenticate here only).
fn authenticated_bill<K: Kv>(
    app: &App<K>,
    id: &BillId,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Bill, Reader), ApiError> {
    // Short read locks, no copy of the registry: authenticate, then (after the store reads) decide.
    let (bill, reader) = {
        let state = app.state();
        let reader = authenticate(
            state.ledger.registry(),
            &state.ledger.chain_id(),
            (method, uri, headers),
            &app.seen_requests,
            now_ms(),
        )?;
        (state.ledger.bill(id).cloned(), reader)
    };
    Ok((bill.ok_or(ReadRefusal::UnknownBill { bill: *id })?, reader))
}

/// A bill whose state now the signed reader may see: its parties now, members and auditors. They are
/// told from the bill's state alone, so no history is read for them; anyone else's part (a former
/// party's, a replacement's) is looked up in the history, and only the bill's parties now pass.
pub(super) fn bill_now<K: Kv>(
    app: &App<K>,
    id: &BillId,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Bill, ApiError> {
    let (bill, reader) = authenticated_bill(app, id, method, uri, headers)?;
    if reader.privileged || bill.current_parties().contains(&reader.party) {
        return Ok(bill);
    }
    let (history, access) = history_for(app, &bill, &reader)?;
    current_party(access, &history)?;
    Ok(bill)
}

/// The part of `bill`'s history `reader` may see, and how much that is.
pub(super) fn history_for<K: Kv>(
    app: &App<K>,
    bill: &Bill,
    reader: &Reader,
) -> Result<(Vec<HistoryEntry>, Access), ApiError> {
    let mut history = load_history(app, &bill.id)?;
    let txs: Vec<&SignedTransaction> = history.iter().map(|h| &h.transaction).collect();
    let direct = access(app.state().ledger.registry(), bill, &txs, reader);
    let access = match direct {
        Some(a) => a,
        // A party of a replacement reads the void bills it replaced: their history is its lineage.
        None if replacement_reader(app, bill, reader, LINEAGE_DEPTH_MAX)? => Access::Full,
        None => return Err(ReadRefusal::NotAParty.into()),
    };
    if let Access::Until(last) = access {
        history.truncate(last + 1);
    }
    Ok((history, access))
}

/// How many generations of replacements a reader's access to a void bill is followed through.
const LINEAGE_DEPTH_MAX: usize = 8;

/// Whether `reader` has a part in a bill that replaced `bill` (or replaced a bill that did, `depth`
/// generations down).
pub(super) fn replacement_reader<K: Kv>(
    app: &App<K>,
    bill: &Bill,
    reader: &Reader,
    depth: usize,
) -> Result<bool, ApiError> {
    let ebl_core::Status::Void { replaced_by, .. } = &bill.status else {
        return Ok(false);
    };
    if depth == 0 {
        return Ok(false);
    }
    for id in replaced_by {
        let Some(next) = app.state().ledger.bill(id).cloned() else {
            continue;
        };
        let history = load_history(app, id)?;
        let txs: Vec<&SignedTransaction> = history.iter().map(|h| &h.transaction).collect();
        if access(app.state().ledger.registry(), &next, &txs, reader).is_some()
            || replacement_reader(app, &next, reader, depth - 1)?
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The bill's state now (and everything derived from it) is for its parties now, not former ones.
pub(super) fn current_party(access: Access, history: &[HistoryEntry]) -> Result<(), ApiError> {
    match access {
        Access::Full => Ok(()),
        Access::Until(_) => Err(ReadRefusal::FormerParty {
            last: history.last().map_or(Hash::ZERO, |h| h.receipt.tx),
        }
        .into()),
    }
}

/// The signed reader of a listing (parties, the registry, blocks): any registered party or member.
pub(super) fn listing_reader<K: Kv>(
    app: &App<K>,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Reader, ApiError> {
    let state = app.state();
    authenticate(
        state.ledger.registry(),
        &state.ledger.chain_id(),
        (method, uri, headers),
        &app.seen_requests,
        now_ms(),
    )
}

/// A bill's history (or, for `Hash::ZERO`, the registry's) as of the published state: walked back from
/// the head readers may see, so nothing undurable is ever shown.
pub(crate) fn load_history<K: Kv>(app: &App<K>, id: &Hash) -> Result<Vec<HistoryEntry>, ApiError> {
    let (head, start, max) = {
        let state = app.state();
        let max = usize::try_from(state.transactions).unwrap_or(usize::MAX);
        if *id == Hash::ZERO {
            (state.ledger.registry().head(), state.ledger.chain_id(), max)
        } else {
            match state.ledger.bill(id) {
                Some(bill) => (bill.head, Hash::ZERO, bill.transactions as usize),
                None => return Ok(Vec::new()),
            }
        }
    };
    let mut entries = Vec::new();
    for stored in app.store.history_back(head, start, max)? {
        let tx_id = stored.tx.id();
        let block = app.store.block(stored.height)?.ok_or_else(|| {
            ApiError::from(StoreError::Corrupt {
                what: "block",
                key: stored.height.to_string(),
                reason: "transaction names a missing block".into(),
            })
        })?;
        entries.push(HistoryEntry {
            receipt: receipt_in(&block, &tx_id)?,
            transaction: stored.tx,
        });
    }
    Ok(entries)
}
