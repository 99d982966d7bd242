//! The HTTP API, versioned under `/v1` and described in `docs/openapi.yaml` (the DCSA PINT receiver under
//! `/v3` lives in `pint`). Every error is JSON with a stable code:
//! `{"error": {"code": "...", "message": "..."}}`.
//!
//! Here: the shared state (`App`), the routes, and reading request bodies. The handlers live by what
//! they serve: `submit` (transactions in, receipts out), `bills` (a bill as its parties read it),
//! `chain` (blocks, head, genesis, registry, health), `envelope` (a bill's PINT side), `endorsement`
//! (DCSA's Endorsement Chain API); `readers` decides
//! what a signed reader may see. No handler touches a file: documents are the store's `Documents`.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ebl_core::api::ErrorBody;
use ebl_core::{Hash, SigningKey};
use ebl_store::{Kv, LedgerStore, StoreError};
use serde::Serialize;
use tokio::sync::{mpsc, Semaphore};

use crate::limits::REQUEST_BODY_BYTES_MAX;
use crate::refusal::RequestRefusal;
use ebl_consensus::metrics::Metrics;
use ebl_consensus::sequencer::Submission;
use ebl_consensus::Published;

mod applied;
mod bills;
mod chain;
mod endorsement;
mod envelope;
mod readers;
mod submit;
mod verifier;
pub(crate) use submit::not_ordered;

use bills::{bill, history, my_bills, status, transaction};
use chain::{
    block, cluster_view, genesis, head, health, parties, party, registry_extract, registry_history,
};
pub(crate) use envelope::envelope_of;
use envelope::{bill_document, bill_documents, pint_envelope, pint_jwk};
pub(crate) use readers::load_history;
use readers::{bill_now, current_party, listing_reader, readable_bill};
pub(crate) use submit::order;
use submit::{submit_batch, submit_one};

/// A refusal as the API sends it.
#[derive(Debug, Clone)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
        ApiError {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.to_owned(),
            },
        }
    }
}

#[derive(Serialize)]
struct ErrorEnvelope<'a> {
    error: &'a ErrorBody,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(ErrorEnvelope { error: &self.body })).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        tracing::error!(error = %e, "storage failure while serving");
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.code(), &e.to_string())
    }
}

fn bad_request(e: &ebl_core::Error) -> ApiError {
    ApiError::new(StatusCode::BAD_REQUEST, e.code(), &e.to_string())
}

/// Everything a handler needs.
pub struct App<K: Kv> {
    pub store: Arc<LedgerStore<K>>,
    pub published: Arc<RwLock<Published>>,
    pub submissions: mpsc::Sender<Submission>,
    pub queue: Arc<Semaphore>,
    /// The gate every batch's signature checks pass through (one batch per core at a time).
    pub(crate) checks: crate::checks::SignatureChecks,
    pub metrics: Arc<Metrics>,
    pub node_key: SigningKey,
    /// The PINT receiver: trusted platforms and open envelope transfers.
    pub pint: crate::pint::Receiver,
    /// Signed requests answered within the skew window, to refuse a replay.
    pub seen_requests: crate::auth::SeenRequests,
    /// Peer requests answered within the skew window, to refuse a replay (member nodes only, so no
    /// share per key: `SEEN_PEER_REQUESTS_MAX` in all).
    pub seen_peer_requests: crate::auth::SeenRequests,
    /// This node's cluster, when the genesis has more than one member.
    pub cluster: Option<Arc<ebl_consensus::cluster::Cluster>>,
    /// How this node calls other member nodes (a forwarded submission).
    pub peer_tls: crate::tls::PeerTls,
    /// The operator's verify of this node's store, while it runs and once it finished.
    pub verifications: crate::admin::Verifications,
    /// The operator's backup of this node, while it is written and once it finished.
    pub backups: crate::admin::Backups,
    /// The registry's history by party, for bundles' extracts (chain format 8).
    pub(crate) registry_index: std::sync::Mutex<crate::extract::RegistryIndex>,
}

impl<K: Kv> std::fmt::Debug for App<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").finish_non_exhaustive()
    }
}

impl<K: Kv> App<K> {
    pub(crate) fn state(&self) -> RwLockReadGuard<'_, Published> {
        match self.published.read() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// The finality certificate of the block at `height` as this node can give it now: a cluster's node
    /// completes it from its peers (off the async threads, since it asks them over HTTP); the
    /// one-member chain's is its node's own signature. `None` when the block is not published here.
    pub(crate) async fn certificate(
        &self,
        height: u64,
    ) -> Result<Option<ebl_core::Certificate>, ApiError> {
        match &self.cluster {
            Some(cluster) => {
                let store = self.store.clone();
                let published = cluster.published.clone();
                let client = cluster.client.clone();
                let fork = cluster.fork.clone();
                tokio::task::spawn_blocking(move || {
                    ebl_consensus::cluster::certify::collect(
                        &store, &published, &client, height, &fork,
                    )
                })
                .await
                .map_err(|e| {
                    ApiError::from(RequestRefusal::Internal(String::from(&e.to_string())))
                })?
                .map_err(ApiError::from)
            }
            None => {
                let now = ebl_consensus::cluster::certify::RegistryNow::of(&self.state().ledger);
                Ok(ebl_consensus::cluster::certify::local(
                    &self.store,
                    &now,
                    height,
                )?)
            }
        }
    }
}

/// The Prometheus metrics, for a listener apart from the API's. It holds only the counters, so the
/// node's shutdown never waits on it.
pub(crate) fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(metrics)
}

pub(crate) fn router<K: Kv>(app: Arc<App<K>>) -> Router {
    Router::new()
        .route("/v1/transactions", post(submit_one::<K>))
        .route("/v1/transactions/{id}", get(transaction::<K>))
        .route("/v1/batches", post(submit_batch::<K>))
        .route("/v1/bills", get(my_bills::<K>))
        .route("/v1/bills/{id}", get(bill::<K>))
        .route("/v1/bills/{id}/history", get(history::<K>))
        .route("/v1/bills/{id}/status", get(status::<K>))
        .route(
            "/v1/bills/{id}/offer-freshness",
            post(crate::offers::offer_freshness::<K>),
        )
        .route("/v1/bills/{id}/pint", get(pint_envelope::<K>))
        .route(
            "/v3/endorsement-chains/{reference}",
            get(endorsement::endorsement_chains::<K>),
        )
        .route("/v1/pint/jwk", get(pint_jwk::<K>))
        .route("/v1/bills/{id}/documents", get(bill_documents::<K>))
        .route(
            "/v1/bills/{id}/documents/{checksum}",
            get(bill_document::<K>),
        )
        .route("/v1/blocks/{height}", get(block::<K>))
        .route("/v1/head", get(head::<K>))
        .route("/v1/genesis", get(genesis::<K>))
        .route("/v1/parties", get(parties::<K>))
        .route("/v1/parties/{who}", get(party::<K>))
        .route("/v1/registry/history", get(registry_history::<K>))
        .route("/v1/registry/extract", get(registry_extract::<K>))
        .route("/v1/health", get(health::<K>))
        .route("/v1/cluster", get(cluster_view::<K>))
        .route("/verifier", get(verifier::show))
        .merge(crate::pint::routes::<K>())
        .merge(crate::admin::routes::<K>())
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            app.clone(),
            applied::first::<K>,
        ))
        .layer(DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX))
        // Raft messages and catch-up blocks are larger than any client's request.
        .merge(
            crate::peer::routes::<K>(app.clone()).layer(DefaultBodyLimit::max(
                ebl_consensus::cluster::peer::PEER_MESSAGE_BYTES_MAX,
            )),
        )
        .with_state(app)
}

async fn not_found(uri: Uri) -> ApiError {
    let path = uri.path();
    let version = path.trim_start_matches('/').split('/').next().unwrap_or("");
    if version.starts_with('v')
        && version[1..].chars().all(|c| c.is_ascii_digit())
        && version != "v1"
    {
        return ApiError::from(RequestRefusal::UnknownApiVersion(String::from(&format!(
            "API version {version} is not served here; use /v1"
        ))));
    }
    ApiError::from(RequestRefusal::NotFound(String::from(&format!(
        "no such endpoint: {path}"
    ))))
}

pub(crate) fn body_bytes(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::from(RequestRefusal::BodyTooLarge(String::from(&format!(
                "request body exceeds {REQUEST_BODY_BYTES_MAX} bytes"
            ))))
        } else {
            ApiError::from(RequestRefusal::BadBody(String::from(&e.body_text())))
        }
    })
}

fn content_type(headers: &HeaderMap) -> &str {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map_or("", |v| v.split(';').next().unwrap_or("").trim())
}

pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::from(RequestRefusal::MalformedJson(String::from(&e.to_string()))))
}

pub(crate) fn parse_hash(text: &str, what: &str) -> Result<Hash, ApiError> {
    text.parse().map_err(|_| {
        ApiError::from(RequestRefusal::MalformedId(String::from(&format!(
            "{what} must be 64 hex digits"
        ))))
    })
}

/// The wall clock in Unix milliseconds: the node's one reading of it.
pub(crate) fn now_ms() -> u64 {
    ebl_core::time::unix_ms(std::time::SystemTime::now())
}

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}
