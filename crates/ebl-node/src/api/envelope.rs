//! A bill's PINT side, read through `/v1`: its history as a signed DCSA envelope, the additional
//! documents it arrived with (kept by the store's `Documents`), and this platform's key.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use ebl_core::{Hash, PartyKey};
use ebl_store::Kv;
use serde::Serialize;

use super::{current_party, parse_hash, readable_bill, ApiError, App};
use crate::refusal::{ReadRefusal, RequestRefusal};

/// The bill's history as a DCSA PINT 3.0 `EblEnvelope`, signed by this node as the sending platform.
pub(super) async fn pint_envelope<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    let (_, history, _, access) = readable_bill(&app, &id, &method, &uri, &headers)?;
    current_party(access, &history)?;
    envelope_of(&app, &history)
        .map(Json)
        .ok_or_else(|| ReadRefusal::UnknownBill { bill: id }.into())
}

/// A bill's history as a PINT envelope signed by this node (`ebl_pint::export_envelope`); `None` if
/// the history carries no transport document.
pub(crate) fn envelope_of<K: Kv>(
    app: &App<K>,
    history: &[ebl_core::api::HistoryEntry],
) -> Option<serde_json::Value> {
    let document = history
        .iter()
        .find_map(|h| h.transaction.body.action.document())?;
    let exported: Vec<ebl_pint::Exported<'_>> = history
        .iter()
        .map(|h| ebl_pint::Exported {
            transaction: &h.transaction,
            time_ms: h.receipt.block_time_ms,
        })
        .collect();
    let registry = app.state().ledger.registry().clone();
    Some(ebl_pint::export_envelope(
        &document,
        &exported,
        &registry,
        &app.pint.platform,
        &app.pint.signer(&app.node_key),
    ))
}

/// The additional documents named by the envelope a bill was imported with (none for a bill issued
/// here), and whether this node holds each.
#[derive(Serialize)]
pub(super) struct DocumentView {
    name: String,
    checksum: Hash,
    size: u64,
    available: bool,
}

/// What an imported bill's envelope names, readable by the bill's parties (signed read).
pub(super) fn named_documents<K: Kv>(
    app: &App<K>,
    id: &str,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Vec<ebl_pint::NamedDocument>, ApiError> {
    let id = parse_hash(id, "bill id")?;
    let (_, history, _, _) = readable_bill(app, &id, method, uri, headers)?;
    Ok(history
        .iter()
        .find_map(|h| match &h.transaction.body.action {
            ebl_core::Action::Import { envelope, .. } => {
                Some(ebl_pint::accepted_documents(envelope))
            }
            _ => None,
        })
        .unwrap_or_default())
}

pub(super) async fn bill_documents<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<DocumentView>>, ApiError> {
    let named = named_documents(&app, &id, &method, &uri, &headers)?;
    Ok(Json(
        named
            .into_iter()
            .map(|d| DocumentView {
                available: app
                    .pint
                    .documents
                    .as_ref()
                    .is_some_and(|kept| kept.holds(&d.checksum)),
                name: d.name,
                checksum: d.checksum,
                size: d.size,
            })
            .collect(),
    ))
}

/// One additional document, as base64 in JSON, checked against its checksum as it is read: only a
/// document the bill's own envelope names, and only to the bill's parties.
pub(super) async fn bill_document<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path((id, checksum)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let checksum = parse_hash(&checksum, "document checksum")?;
    let named = named_documents(&app, &id, &method, &uri, &headers)?;
    let missing = || {
        ApiError::from(RequestRefusal::UnknownDocument(String::from("the bill's envelope names no document with this checksum, or this node does not hold it")))
    };
    let document = named
        .into_iter()
        .find(|d| d.checksum == checksum)
        .ok_or_else(missing)?;
    let content = app
        .pint
        .documents
        .as_ref()
        .ok_or_else(missing)?
        .read(&checksum, ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX as u64)?
        .ok_or_else(missing)?;
    Ok(Json(serde_json::json!({
        "name": document.name,
        "checksum": checksum,
        "size": content.len(),
        "content": ebl_pint::base64_encode(&content),
    })))
}

/// This node's public key as a JWK: what a receiving platform adds to its trust store.
pub(super) async fn pint_jwk<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<serde_json::Value> {
    Json(match &app.pint.signer {
        Some(certified) => certified.public_jwk(),
        None => ebl_pint::public_jwk(&PartyKey::of(&app.node_key)),
    })
}
