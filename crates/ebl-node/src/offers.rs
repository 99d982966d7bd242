//! Pledge offers as the node sees them: a bank holding a holder's signed pledge asks whether the bill
//! still stands where the offer found it. The bank is no party of the bill yet, so it may not read it;
//! the holder's signature on a pledge naming the bank is what lets it learn this much.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::Json;
use ebl_core::api::{Move, OfferFreshness};
use ebl_core::{Action, SignedTransaction};
use ebl_store::Kv;

use crate::api::{body_bytes, load_history, now_ms, parse_hash, parse_json, ApiError, App};
use crate::auth::{authenticate_body, bill_parties};
use crate::refusal::ReadRefusal;

/// `POST /v1/bills/{id}/offer-freshness`, a signed request whose body is the offer's pledge
/// transaction, signed by a party of the bill and naming the reader as pledgee.
pub(crate) async fn offer_freshness<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<OfferFreshness>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    let body = body_bytes(body)?;
    let (reader, head) = {
        let state = app.state();
        let reader = authenticate_body(
            state.ledger.registry(),
            &state.ledger.chain_id(),
            (&method, &uri, &headers),
            &body,
            &app.seen_requests,
            now_ms(),
        )?;
        let head = state.ledger.bill(&id).map(|b| b.head);
        (reader, head)
    };
    let head = head.ok_or(ReadRefusal::UnknownBill { bill: id })?;
    let offer: SignedTransaction = parse_json(&body)?;
    offer
        .verify_signatures()
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, e.code(), &e.to_string()))?;
    let forbidden = |why: &'static str| ApiError::from(ReadRefusal::NotYourOffer { why });
    let Action::Pledge { bill, pledgee, .. } = &offer.body.action else {
        return Err(forbidden("the body is not a pledge"));
    };
    if *bill != id || *pledgee != reader.party {
        return Err(forbidden(
            "the pledge is for another bill, or names another pledgee",
        ));
    }
    // A holder's offer to a bank: not the asker's own (finding 8 of the attack review: a former party
    // signed a pledge naming itself as the bank, and learned every later move of a bill it may no
    // longer read).
    let signed_by_asker = {
        let state = app.state();
        let registry = state.ledger.registry();
        offer.signatures.iter().any(|s| {
            registry
                .by_key(&s.signer)
                .is_some_and(|p| p.id == reader.party)
        })
    };
    if signed_by_asker {
        return Err(forbidden("the pledge is signed by the bank that asks"));
    }
    // An offer past its expiry is no offer: the ledger would refuse it, and it opens nothing here.
    if let Some(valid_until_ms) = offer.body.valid_until_ms {
        let now = now_ms();
        if valid_until_ms < now {
            let e = ebl_core::Error::Expired {
                valid_until_ms,
                block_time_ms: now,
            };
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                e.code(),
                &e.to_string(),
            ));
        }
    }
    let history = load_history(&app, &id)?;
    let txs: Vec<&SignedTransaction> = history.iter().map(|h| &h.transaction).collect();
    let signed_by_party = {
        let state = app.state();
        let registry = state.ledger.registry();
        let bill = state
            .ledger
            .bill(&id)
            .ok_or(ReadRefusal::UnknownBill { bill: id })?;
        let parties = bill_parties(registry, bill, &txs);
        offer.signatures.iter().any(|s| {
            registry
                .by_key(&s.signer)
                .is_some_and(|p| parties.contains(&p.id))
        })
    };
    if !signed_by_party {
        return Err(forbidden("the pledge is not signed by a party of the bill"));
    }
    let Some(at) = history.iter().position(|h| h.receipt.tx == offer.body.prev) else {
        return Err(ReadRefusal::OfferNotInHistory.into());
    };
    let moved = history[at + 1..]
        .iter()
        .map(|h| Move {
            action: h.transaction.body.action.code().to_owned(),
            height: h.receipt.height,
            block_time_ms: h.receipt.block_time_ms,
        })
        .collect();
    Ok(Json(OfferFreshness {
        bill: id,
        offered_head: offer.body.prev,
        head,
        fresh: head == offer.body.prev,
        moved,
        checked_at_ms: now_ms(),
    }))
}
