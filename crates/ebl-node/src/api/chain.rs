//! The chain itself: blocks with their certificates, the head, the genesis, the registry's parties and
//! history, health and the node's place in its cluster.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::Json;
use ebl_core::api::HistoryEntry;
use ebl_core::{Hash, PartyId, PartyKey};
use ebl_store::Kv;
use serde::Serialize;

use super::{listing_reader, load_history, ApiError, App};
use crate::refusal::RequestRefusal;

/// A stored block with its finality certificate, as `GET /v1/blocks/{height}` answers.
#[derive(Debug, Serialize)]
pub(crate) struct BlockAnswer {
    #[serde(flatten)]
    pub block: ebl_store::StoredBlock,
    pub certificate: ebl_core::Certificate,
}

pub(super) async fn block<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(height): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<BlockAnswer>, ApiError> {
    listing_reader(&app, &method, &uri, &headers)?;
    let height: u64 = height.parse().map_err(|_| {
        ApiError::from(RequestRefusal::MalformedHeight(String::from(
            "height must be a number",
        )))
    })?;
    let published_height = app.state().head.as_ref().map_or(0, |h| h.header.height);
    let missing = || {
        ApiError::from(RequestRefusal::UnknownBlock(String::from(&format!(
            "no block at height {height}"
        ))))
    };
    if height == 0 || height > published_height {
        return Err(missing());
    }
    let block = app.store.block(height)?.ok_or_else(missing)?;
    let certificate = app.certificate(height).await?.ok_or_else(missing)?;
    Ok(Json(BlockAnswer { block, certificate }))
}

pub(super) async fn head<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<ebl_core::api::Head> {
    Json(app.state().head_view())
}

#[derive(Serialize)]
pub(super) struct GenesisView {
    chain: Hash,
    genesis: ebl_core::Genesis,
}

pub(super) async fn genesis<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<GenesisView> {
    let state = app.state();
    Json(GenesisView {
        chain: state.ledger.chain_id(),
        genesis: state.ledger.genesis().clone(),
    })
}

pub(super) async fn parties<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<ebl_core::Party>>, ApiError> {
    listing_reader(&app, &method, &uri, &headers)?;
    Ok(Json(
        app.state().ledger.registry().parties().cloned().collect(),
    ))
}

/// A party by registered name, party id, or any of its keys.
pub(super) async fn party<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(who): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ebl_core::Party>, ApiError> {
    listing_reader(&app, &method, &uri, &headers)?;
    let state = app.state();
    let registry = state.ledger.registry();
    let found = registry
        .by_name(&who)
        .or_else(|| {
            who.parse::<PartyId>()
                .ok()
                .and_then(|id| registry.party(id))
        })
        .or_else(|| {
            who.parse::<PartyKey>()
                .ok()
                .and_then(|k| registry.by_key(&k))
        });
    found.cloned().map(Json).ok_or_else(|| {
        ApiError::from(RequestRefusal::UnknownParty(String::from(&format!(
            "no party {who:?}"
        ))))
    })
}

pub(super) async fn registry_history<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    listing_reader(&app, &method, &uri, &headers)?;
    Ok(Json(load_history(&app, &Hash::ZERO)?))
}

/// What `GET /v1/registry/extract` is asked: `height` (the statement's), and comma-separated
/// `parties` (ids), `keys` (signers' keys) and `blocks` (heights).
#[derive(Debug, serde::Deserialize)]
pub(super) struct ExtractQuery {
    height: String,
    #[serde(default)]
    parties: String,
    #[serde(default)]
    keys: String,
    #[serde(default)]
    blocks: String,
}

/// Comma-separated values, each parsed; a bad one is refused as `refusal` says.
fn listed<T: std::str::FromStr>(
    text: &str,
    refusal: impl Fn(String) -> RequestRefusal,
) -> Result<Vec<T>, ApiError> {
    text.split(',')
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse()
                .map_err(|_| ApiError::from(refusal(format!("{t:?} is not well formed"))))
        })
        .collect()
}

/// The registry extract a bundle of chain format 8 carries: see [`crate::extract`].
pub(super) async fn registry_extract<K: Kv>(
    State(app): State<Arc<App<K>>>,
    axum::extract::Query(query): axum::extract::Query<ExtractQuery>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ebl_core::api::RegistryExtract>, ApiError> {
    listing_reader(&app, &method, &uri, &headers)?;
    let request = crate::extract::ExtractRequest {
        height: query.height.parse().map_err(|_| {
            ApiError::from(RequestRefusal::MalformedHeight(String::from(
                "height must be a number",
            )))
        })?,
        parties: listed(&query.parties, RequestRefusal::MalformedId)?,
        keys: listed(&query.keys, RequestRefusal::MalformedId)?,
        blocks: listed(&query.blocks, RequestRefusal::MalformedHeight)?,
    };
    // Building the registry's tree is O(parties) after each change: off the async threads.
    let answer = tokio::task::spawn_blocking(move || {
        let state = app.state();
        let mut index = match app.registry_index.lock() {
            Ok(i) => i,
            Err(poisoned) => poisoned.into_inner(),
        };
        crate::extract::extract(&app.store, &state, &mut index, &request)
    })
    .await
    .map_err(|e| ApiError::from(RequestRefusal::Internal(e.to_string())))?;
    match answer {
        Ok(extract) => Ok(Json(extract)),
        Err(crate::extract::ExtractError::Refused(r)) => Err(r.into()),
        Err(crate::extract::ExtractError::Store(e)) => Err(e.into()),
    }
}

#[derive(Serialize)]
pub(super) struct Health {
    status: &'static str,
    height: u64,
}

/// The node's place in its cluster; 404 on a one-member chain, which has none.
pub(super) async fn cluster_view<K: Kv>(
    State(app): State<Arc<App<K>>>,
) -> Result<Json<ebl_consensus::cluster::View>, ApiError> {
    match &app.cluster {
        Some(cluster) => Ok(Json(cluster.view())),
        None => Err(ApiError::from(RequestRefusal::NotClustered(String::from(
            "this chain has one member: its node orders alone",
        )))),
    }
}

pub(super) async fn health<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<Health> {
    let halted = app
        .cluster
        .as_ref()
        .is_some_and(|c| c.halted.load(std::sync::atomic::Ordering::SeqCst));
    Json(Health {
        status: if app.submissions.is_closed() || halted {
            "halted"
        } else {
            "ok"
        },
        height: app.state().head_view().height,
    })
}
