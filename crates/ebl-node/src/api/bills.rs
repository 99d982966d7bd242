//! A bill as its parties read it (signed reads): the bill, its history, the node's signed statement,
//! one transaction, and a reader's worklist; who may see how much is `auth`'s.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use ebl_core::api::{BillStatement, HistoryEntry};
use ebl_core::{Bill, CertifiedStatement, StatementBinding, TxId};
use ebl_store::Kv;
use serde::Serialize;

use super::{bill_now, listing_reader, now_ms, parse_hash, readable_bill, ApiError, App};
use crate::auth::{authenticate, Access};
use crate::refusal::{ReadRefusal, RequestRefusal};
use ebl_consensus::sequencer::receipt_in;

#[derive(Serialize)]
pub(super) struct BillView {
    bill: Bill,
    document: serde_json::Value,
}

pub(super) async fn bill<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<BillView>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    let bill = bill_now(&app, &id, &method, &uri, &headers)?;
    // The document is in the transaction that made the bill (its id is the bill's): one read, however
    // long the history.
    let document = app
        .store
        .transaction(&bill.id)?
        .and_then(|made| made.tx.body.action.document().map(|d| d.to_value()))
        .unwrap_or(serde_json::Value::Null);
    Ok(Json(BillView { bill, document }))
}

pub(super) async fn history<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    let (_, history, _, _) = readable_bill(&app, &id, &method, &uri, &headers)?;
    Ok(Json(history))
}

/// What the node answers for a bill's status: the statement and the member nodes' signatures over it
/// (from chain format 7 the finality quorum's, bound to the registry head). Before format 7 it also
/// carries the one node signature as earlier releases answered it (`signer`, `signature`), so their
/// wallets read it.
#[derive(Serialize)]
pub(super) struct StatusAnswer {
    #[serde(flatten)]
    certified: CertifiedStatement,
    #[serde(skip_serializing_if = "Option::is_none")]
    signer: Option<ebl_core::PartyKey>,
    #[serde(skip_serializing_if = "Option::is_none")]
    signature: Option<ebl_core::SignatureBytes>,
}

pub(super) async fn status<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<StatusAnswer>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    // A node no member's any more (removed by governance) vouches for nothing: a statement signed with
    // a fresh time by a removed member's node could pass, in a bundle made before the removal, for
    // the bill now.
    let own = ebl_core::PartyKey::of(&app.node_key);
    if app.state().ledger.registry().member_by_node(&own).is_none() {
        return Err(ApiError::from(RequestRefusal::NotAMemberNode(String::from(
            "this node's member was removed from the consortium: it signs no statements; ask a member's node",
        ))));
    }
    // `?linearizable=true`: first apply everything committed cluster-wide before this request
    // (ReadIndex), so the statement is not one node's stale view. Published state trails the applied
    // state by nothing: the applier publishes each block as it applies it.
    if uri
        .query()
        .is_some_and(|q| q.split('&').any(|p| p == "linearizable=true"))
    {
        if let Some(cluster) = &app.cluster {
            // No leader to confirm the read, or it could not: refused, never a stale answer.
            cluster.linearize().await.map_err(ApiError::from)?;
        }
    }
    bill_now(&app, &id, &method, &uri, &headers)?;
    // State, head and registry read under one lock, so the statement is about one consistent height
    // and bound to the registry at that height.
    let (statement, registry, binding) = {
        let state = app.state();
        let bill = state
            .ledger
            .bill(&id)
            .ok_or(ReadRefusal::UnknownBill { bill: id })?;
        let head = state.head_view();
        let statement = BillStatement::of(
            bill,
            head.chain,
            head.height,
            head.block,
            now_ms().max(head.time_ms),
        );
        let binding = StatementBinding::under(state.ledger.registry(), head.height);
        // Counting the member nodes that vouch needs the consortium, not a copy of every party.
        let registry = state.ledger.registry().consortium_only();
        (statement, registry, binding)
    };
    let own = binding.sign(&statement, &app.node_key);
    if binding == StatementBinding::Unbound {
        return Ok(Json(StatusAnswer {
            certified: CertifiedStatement {
                statement,
                signatures: vec![own.clone()],
            },
            signer: Some(own.signer),
            signature: Some(own.signature),
        }));
    }
    let certified = match &app.cluster {
        Some(cluster) => {
            let client = cluster.client.clone();
            let registry = registry.clone();
            tokio::task::spawn_blocking(move || {
                ebl_consensus::cluster::vouch::collect(&client, &registry, statement, own, binding)
            })
            .await
            .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))?
        }
        None => {
            let mut certified = CertifiedStatement::new(statement);
            certified.add(own, binding);
            certified
        }
    };
    // Fewer than the quorum vouched: no statement a verifier would take is given (members are down
    // or behind; the bank asks again).
    let need = binding.need(&registry);
    if certified.signatures.len() < need {
        return Err(ApiError::from(RequestRefusal::StatementUncertified(
            String::from(&format!(
                "{} of the {need} member nodes a statement needs vouched for it: members are down, cut off or behind; ask again",
                certified.signatures.len()
            )),
        )));
    }
    Ok(Json(StatusAnswer {
        certified,
        signer: None,
        signature: None,
    }))
}

pub(super) async fn transaction<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<HistoryEntry>, ApiError> {
    let id: TxId = parse_hash(&id, "transaction id")?;
    let missing = || {
        ApiError::from(RequestRefusal::UnknownTransaction(String::from(
            "no such transaction",
        )))
    };
    let stored = app.store.transaction(&id)?.ok_or_else(missing)?;
    let published_height = app.state().head.as_ref().map_or(0, |h| h.header.height);
    if stored.height > published_height {
        return Err(missing());
    }
    // Registry changes are for any registered reader; a bill's transactions are its parties' business,
    // and a former party's only up to where its part ended.
    let bill = match &stored.tx.body.action {
        a if a.creates_bill() => Some(id),
        a => a.bill(),
    };
    match bill {
        Some(bill) => {
            let (_, history, _, access) = readable_bill(&app, &bill, &method, &uri, &headers)?;
            if access != Access::Full && !history.iter().any(|h| h.receipt.tx == id) {
                return Err(missing());
            }
        }
        None => {
            listing_reader(&app, &method, &uri, &headers)?;
        }
    }
    let block = app.store.block(stored.height)?.ok_or_else(missing)?;
    Ok(Json(HistoryEntry {
        receipt: receipt_in(&block, &id)?,
        transaction: stored.tx,
    }))
}

/// The bills the signed reader has a part in now (carrier, shipper, possessor, endorsee or consignee,
/// pledgee or pledgor), by reference: a clerk's worklist. Operators and auditors see every bill.
pub(super) async fn my_bills<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<Bill>>, ApiError> {
    let state = app.state();
    let reader = authenticate(
        state.ledger.registry(),
        &state.ledger.chain_id(),
        (&method, &uri, &headers),
        &app.seen_requests,
        now_ms(),
    )?;
    let mut bills: Vec<Bill> = state
        .ledger
        .bills()
        .filter(|b| reader.privileged || b.current_parties().contains(&reader.party))
        .cloned()
        .collect();
    bills.sort_by(|a, b| a.reference.cmp(&b.reference).then(a.id.cmp(&b.id)));
    Ok(Json(bills))
}
