//! The HTTP API, versioned under `/v1` and described in `docs/openapi.yaml` (the DCSA PINT receiver under
//! `/v3` lives in `pint`). Every error is JSON with a stable code:
//! `{"error": {"code": "...", "message": "..."}}`.

use std::sync::{Arc, RwLock, RwLockReadGuard};

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use ebl_core::api::{
    BatchRequest, BatchResponse, BillStatement, ErrorBody, HistoryEntry, SubmitOutcome,
};
use ebl_core::{Bill, BillId, Hash, PartyId, PartyKey, SignedTransaction, SigningKey, TxId};
use ebl_store::{Kv, LedgerStore, StoreError};
use serde::Serialize;
use tokio::sync::{mpsc, oneshot, Semaphore};

use crate::auth::{access, authenticate, Access, Reader};
use crate::limits::{BATCH_TRANSACTIONS_MAX, REQUEST_BODY_BYTES_MAX};
use crate::metrics::Metrics;
use crate::refusal::{ReadRefusal, RequestRefusal};
use crate::sequencer::NotOrdered;
use crate::sequencer::{receipt_in, Candidate, Submission};
use crate::state::Published;

/// A refusal as the API sends it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: &str) -> ApiError {
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
    pub metrics: Arc<Metrics>,
    pub node_key: SigningKey,
    /// The PINT receiver: trusted platforms and open envelope transfers.
    pub pint: crate::pint::Receiver,
    /// Signed requests answered within the skew window, to refuse a replay.
    pub seen_requests: crate::auth::SeenRequests,
    /// This node's cluster, when the genesis has more than one member.
    pub cluster: Option<Arc<crate::cluster::Cluster>>,
    /// The operator's verify of this node's store, while it runs and once it finished.
    pub verifications: crate::admin::Verifications,
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
}

/// The Prometheus metrics, for a listener apart from the API's. It holds only the counters, so the
/// node's shutdown never waits on it.
pub fn metrics_router(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(render_metrics))
        .with_state(metrics)
}

pub fn router<K: Kv>(app: Arc<App<K>>) -> Router {
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
        .route("/v1/health", get(health::<K>))
        .route("/v1/cluster", get(cluster_view::<K>))
        .merge(crate::pint::routes::<K>())
        .merge(crate::admin::routes::<K>())
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(REQUEST_BODY_BYTES_MAX))
        // Raft messages and catch-up blocks are larger than any client's request.
        .merge(
            crate::cluster::peer::routes::<K>().layer(DefaultBodyLimit::max(
                crate::cluster::peer::PEER_MESSAGE_BYTES_MAX,
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

/// Stateless checks, off the async threads: structure and every signature, with `verify_strict`.
async fn verify(txs: Vec<SignedTransaction>) -> Result<Vec<Candidate>, ApiError> {
    tokio::task::spawn_blocking(move || {
        txs.into_iter()
            .map(|tx| match tx.verified_id() {
                Ok(id) => Ok((id, tx)),
                Err(e) => Err((tx.id(), e)),
            })
            .collect()
    })
    .await
    .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))
}

/// `?final=true`: the client wants each receipt with its block's finality certificate.
fn wants_final(uri: &Uri) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|p| p == "final=true"))
}

/// How long a submission asking for final receipts waits for the member nodes' signatures; after it
/// the receipts carry what was collected (acknowledged all the same: durable on a quorum).
const FINAL_WAIT_MS: u64 = 2_000;

/// Attaches each receipt's block certificate: on a cluster, waiting (within `FINAL_WAIT_MS`) until the
/// registry's threshold of member nodes signed the block.
async fn certify<K: Kv>(app: &App<K>, outcomes: &mut [SubmitOutcome]) -> Result<(), ApiError> {
    let heights: std::collections::BTreeSet<u64> = outcomes
        .iter()
        .filter_map(|o| o.receipt().map(|r| r.height))
        .collect();
    for height in heights {
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_millis(FINAL_WAIT_MS);
        let certificate = loop {
            let found = match &app.cluster {
                Some(cluster) => {
                    let store = app.store.clone();
                    let published = cluster.published.clone();
                    let client = cluster.client.clone();
                    let fork = cluster.fork.clone();
                    tokio::task::spawn_blocking(move || {
                        crate::cluster::certify::collect(&store, &published, &client, height, &fork)
                    })
                    .await
                    .map_err(|e| {
                        ApiError::from(RequestRefusal::Internal(String::from(&e.to_string())))
                    })??
                }
                None => crate::cluster::certify::local(&app.store, height)?,
            };
            let Some(found) = found else { break None };
            let need = usize::from(app.state().ledger.registry().threshold());
            if found.signatures.len() >= need || tokio::time::Instant::now() >= deadline {
                break Some(found);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        if let Some(certificate) = certificate {
            for outcome in outcomes.iter_mut() {
                outcome.certify(&certificate);
            }
        }
    }
    Ok(())
}

fn forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(crate::cluster::forward::FORWARDED_HEADER)
}

/// Orders transactions here, or (on a cluster's follower) at the leader. A request another node already
/// forwarded is never forwarded again.
pub(crate) async fn order<K: Kv>(
    app: &App<K>,
    txs: Vec<SignedTransaction>,
    forwarded: bool,
) -> Result<Vec<SubmitOutcome>, ApiError> {
    let Some(cluster) = &app.cluster else {
        return match order_here(app, txs).await? {
            Ok(outcomes) => Ok(outcomes),
            Err(e) => Err(not_ordered(&e)),
        };
    };
    // During an election, or while a removed member's node hands over, there is no leader to take the
    // transactions for a moment: keep trying, within a bound, rather than refuse at once. Resubmitting
    // is safe: a transaction already ordered comes back as a duplicate with its receipt.
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_millis(2 * crate::cluster::LEADER_WAIT_MS);
    loop {
        let limit = std::time::Duration::from_millis(crate::cluster::LEADER_WAIT_MS);
        let attempt = if cluster.await_leader(limit).await == Some(cluster.id) {
            match order_here(app, txs.clone()).await? {
                Ok(outcomes) => return Ok(outcomes),
                Err(NotOrdered::Halted) => return Err(not_ordered(&NotOrdered::Halted)),
                Err(e) => Err(not_ordered(&e)),
            }
        } else {
            forward_or_refuse(cluster, txs.clone(), forwarded, cluster.leader_address()).await
        };
        match attempt {
            Err(e)
                if e.status == StatusCode::SERVICE_UNAVAILABLE
                    && (e.body.code == NotOrdered::Leader(None).code()
                        || e.body.code == NotOrdered::Retry.code())
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

async fn forward_or_refuse(
    cluster: &crate::cluster::Cluster,
    txs: Vec<SignedTransaction>,
    forwarded: bool,
    leader: Option<String>,
) -> Result<Vec<SubmitOutcome>, ApiError> {
    match leader {
        Some(address) if !forwarded => {
            crate::cluster::forward::forward(cluster, address, txs).await
        }
        _ => Err(not_ordered(&NotOrdered::Leader(None))),
    }
}

fn not_ordered(e: &NotOrdered) -> ApiError {
    let message = match e {
        NotOrdered::Leader(_) => "the cluster has no leader this node can reach; retry shortly",
        NotOrdered::Halted => "the node is not ordering transactions",
        NotOrdered::Retry => "leadership moved while the transactions were ordered; resubmit them",
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), message)
}

async fn order_here<K: Kv>(
    app: &App<K>,
    txs: Vec<SignedTransaction>,
) -> Result<Result<Vec<SubmitOutcome>, NotOrdered>, ApiError> {
    let count = txs.len() as u32;
    // Back-pressure: a full queue answers at once instead of growing memory without bound.
    let permit = app
        .queue
        .clone()
        .try_acquire_many_owned(count.max(1))
        .map_err(|_| {
            ApiError::from(RequestRefusal::QueueFull(String::from(
                "too many transactions are waiting to be ordered; retry shortly",
            )))
        })?;
    let candidates = verify(txs).await?;
    let (reply, answer) = oneshot::channel();
    let halted = || not_ordered(&NotOrdered::Halted);
    app.submissions
        .send(Submission {
            candidates,
            reply,
            permit,
        })
        .await
        .map_err(|_| halted())?;
    answer.await.map_err(|_| halted())
}

async fn submit_one<K: Kv>(
    State(app): State<Arc<App<K>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    let tx: SignedTransaction = match content_type(&headers) {
        "application/json" => parse_json(&body)?,
        "application/octet-stream" => {
            SignedTransaction::decode(&body).map_err(|e| bad_request(&e))?
        }
        other => {
            return Err(ApiError::from(RequestRefusal::UnsupportedMediaType(
                String::from(&format!(
                    "content type {other:?}: send application/json or application/octet-stream"
                )),
            )))
        }
    };
    let mut outcomes = order(&app, vec![tx], forwarded(&headers)).await?;
    if wants_final(&uri) {
        certify(&app, &mut outcomes).await?;
    }
    let outcome = outcomes
        .pop()
        .ok_or_else(|| ApiError::from(RequestRefusal::Internal(String::from("no outcome"))))?;
    let status = match outcome {
        SubmitOutcome::Rejected { .. } => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    Ok((status, Json(outcome)).into_response())
}

async fn submit_batch<K: Kv>(
    State(app): State<Arc<App<K>>>,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_bytes(body)?;
    // Binary (the canonical codec's bytes, framed) or JSON; the answer comes in the same form.
    let binary = match content_type(&headers) {
        "application/json" => false,
        ebl_core::wire::BATCH_MEDIA_TYPE => true,
        _ => {
            return Err(ApiError::from(RequestRefusal::UnsupportedMediaType(
                String::from(&format!(
                    "send a batch as application/json or {}",
                    ebl_core::wire::BATCH_MEDIA_TYPE
                )),
            )))
        }
    };
    let batch: BatchRequest = if binary {
        BatchRequest {
            transactions: ebl_core::wire::decode_batch(&body, BATCH_TRANSACTIONS_MAX)
                .map_err(|e| bad_request(&e))?,
        }
    } else {
        parse_json(&body)?
    };
    if batch.transactions.is_empty() || batch.transactions.len() > BATCH_TRANSACTIONS_MAX {
        return Err(ApiError::from(RequestRefusal::BatchSize(String::from(
            &format!(
                "a batch holds 1 to {BATCH_TRANSACTIONS_MAX} transactions, this one {}",
                batch.transactions.len()
            ),
        ))));
    }
    let mut results = order(&app, batch.transactions, forwarded(&headers)).await?;
    if wants_final(&uri) {
        certify(&app, &mut results).await?;
    }
    if binary {
        return Ok((
            [(header::CONTENT_TYPE, ebl_core::wire::RECEIPTS_MEDIA_TYPE)],
            ebl_core::wire::encode_receipts(results),
        )
            .into_response());
    }
    Ok(Json(BatchResponse { results }).into_response())
}

pub(crate) fn parse_hash(text: &str, what: &str) -> Result<Hash, ApiError> {
    text.parse().map_err(|_| {
        ApiError::from(RequestRefusal::MalformedId(String::from(&format!(
            "{what} must be 64 hex digits"
        ))))
    })
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// The bill, if `reader` may see it: 404 if it does not exist, 403 if it does but is not theirs.
fn readable_bill<K: Kv>(
    app: &App<K>,
    id: &BillId,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Bill, Vec<HistoryEntry>, Reader, Access), ApiError> {
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
    let bill = bill.ok_or(ReadRefusal::UnknownBill { bill: *id })?;
    let mut history = load_history(app, id)?;
    let txs: Vec<&SignedTransaction> = history.iter().map(|h| &h.transaction).collect();
    let direct = access(app.state().ledger.registry(), &bill, &txs, &reader);
    let access = match direct {
        Some(a) => a,
        // A party of a replacement reads the void bills it replaced: their history is its lineage.
        None if replacement_reader(app, &bill, &reader, LINEAGE_DEPTH_MAX)? => Access::Full,
        None => return Err(ReadRefusal::NotAParty.into()),
    };
    if let Access::Until(last) = access {
        history.truncate(last + 1);
    }
    Ok((bill, history, reader, access))
}

/// How many generations of replacements a reader's access to a void bill is followed through.
const LINEAGE_DEPTH_MAX: usize = 8;

/// Whether `reader` has a part in a bill that replaced `bill` (or replaced a bill that did, `depth`
/// generations down).
fn replacement_reader<K: Kv>(
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
fn current_party(access: Access, history: &[HistoryEntry]) -> Result<(), ApiError> {
    match access {
        Access::Full => Ok(()),
        Access::Until(_) => Err(ReadRefusal::FormerParty {
            last: history.last().map_or(Hash::ZERO, |h| h.receipt.tx),
        }
        .into()),
    }
}

/// The signed reader of a listing (parties, the registry, blocks): any registered party or member.
fn listing_reader<K: Kv>(
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

#[derive(Serialize)]
struct BillView {
    bill: Bill,
    document: serde_json::Value,
}

async fn bill<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<BillView>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    let (bill, history, _, access) = readable_bill(&app, &id, &method, &uri, &headers)?;
    current_party(access, &history)?;
    let document = history
        .iter()
        .find_map(|h| h.transaction.body.action.document().map(|d| d.to_value()))
        .unwrap_or(serde_json::Value::Null);
    Ok(Json(BillView { bill, document }))
}

async fn history<K: Kv>(
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

async fn status<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<ebl_core::api::SignedStatement>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
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
    let (_, history, _, access) = readable_bill(&app, &id, &method, &uri, &headers)?;
    current_party(access, &history)?;
    // State and head read under one lock, so the statement is about one consistent height.
    let statement = {
        let state = app.state();
        let bill = state
            .ledger
            .bill(&id)
            .ok_or(ReadRefusal::UnknownBill { bill: id })?;
        let head = state.head_view();
        BillStatement::of(
            bill,
            head.chain,
            head.height,
            head.block,
            now_ms().max(head.time_ms),
        )
    };
    Ok(Json(statement.sign(&app.node_key)))
}

async fn transaction<K: Kv>(
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

/// A stored block with its finality certificate, as `GET /v1/blocks/{height}` answers.
#[derive(Debug, Serialize)]
pub struct BlockAnswer {
    #[serde(flatten)]
    pub block: ebl_store::StoredBlock,
    pub certificate: ebl_core::Certificate,
}

async fn block<K: Kv>(
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
    // A cluster's node completes the certificate from its peers; the one-member chain's is its node's
    // own signature.
    let certificate = match &app.cluster {
        Some(cluster) => {
            let store = app.store.clone();
            let published = cluster.published.clone();
            let client = cluster.client.clone();
            let fork = cluster.fork.clone();
            tokio::task::spawn_blocking(move || {
                crate::cluster::certify::collect(&store, &published, &client, height, &fork)
            })
            .await
            .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))??
        }
        None => crate::cluster::certify::local(&app.store, height)?,
    }
    .ok_or_else(missing)?;
    Ok(Json(BlockAnswer { block, certificate }))
}

/// The bills the signed reader has a part in now (carrier, shipper, possessor, endorsee or consignee,
/// pledgee or pledgor), by reference: a clerk's worklist. Operators and auditors see every bill.
async fn my_bills<K: Kv>(
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

async fn head<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<ebl_core::api::Head> {
    Json(app.state().head_view())
}

#[derive(Serialize)]
struct GenesisView {
    chain: Hash,
    genesis: ebl_core::Genesis,
}

async fn genesis<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<GenesisView> {
    let state = app.state();
    Json(GenesisView {
        chain: state.ledger.chain_id(),
        genesis: state.ledger.genesis().clone(),
    })
}

async fn parties<K: Kv>(
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
async fn party<K: Kv>(
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

async fn registry_history<K: Kv>(
    State(app): State<Arc<App<K>>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<Vec<HistoryEntry>>, ApiError> {
    listing_reader(&app, &method, &uri, &headers)?;
    Ok(Json(load_history(&app, &Hash::ZERO)?))
}

#[derive(Serialize)]
struct Health {
    status: &'static str,
    height: u64,
}

/// The node's place in its cluster; 404 on a one-member chain, which has none.
async fn cluster_view<K: Kv>(
    State(app): State<Arc<App<K>>>,
) -> Result<Json<crate::cluster::View>, ApiError> {
    match &app.cluster {
        Some(cluster) => Ok(Json(cluster.view())),
        None => Err(ApiError::from(RequestRefusal::NotClustered(String::from(
            "this chain has one member: its node orders alone",
        )))),
    }
}

async fn health<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<Health> {
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

async fn render_metrics(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        metrics.render(),
    )
}

/// The bill's history as a DCSA PINT 3.0 `EblEnvelope`, signed by this node as the sending platform.
async fn pint_envelope<K: Kv>(
    State(app): State<Arc<App<K>>>,
    Path(id): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_hash(&id, "bill id")?;
    let (_, history, _, access) = readable_bill(&app, &id, &method, &uri, &headers)?;
    current_party(access, &history)?;
    let document = history
        .iter()
        .find_map(|h| h.transaction.body.action.document())
        .ok_or(ReadRefusal::UnknownBill { bill: id })?;
    let exported: Vec<ebl_pint::Exported<'_>> = history
        .iter()
        .map(|h| ebl_pint::Exported {
            transaction: &h.transaction,
            time_ms: h.receipt.block_time_ms,
        })
        .collect();
    let registry = app.state().ledger.registry().clone();
    Ok(Json(ebl_pint::export_envelope(
        &document,
        &exported,
        &registry,
        &app.pint.platform,
        &app.node_key,
    )))
}

/// The additional documents named by the envelope a bill was imported with (none for a bill issued
/// here), and whether this node holds each.
#[derive(Serialize)]
struct DocumentView {
    name: String,
    checksum: Hash,
    size: u64,
    available: bool,
}

/// What an imported bill's envelope names, readable by the bill's parties (signed read).
fn named_documents<K: Kv>(
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

fn document_path<K: Kv>(app: &App<K>, checksum: &Hash) -> Option<std::path::PathBuf> {
    app.pint
        .documents
        .as_ref()
        .map(|dir| dir.join(checksum.to_hex()))
}

async fn bill_documents<K: Kv>(
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
                available: document_path(&app, &d.checksum).is_some_and(|p| p.is_file()),
                name: d.name,
                checksum: d.checksum,
                size: d.size,
            })
            .collect(),
    ))
}

/// One additional document, as base64 in JSON, checked against its checksum as it is read: only a
/// document the bill's own envelope names, and only to the bill's parties.
async fn bill_document<K: Kv>(
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
    let path = document_path(&app, &checksum).ok_or_else(missing)?;
    let content = match std::fs::read(&path) {
        Ok(c) => c,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(missing()),
        Err(e) => return Err(StoreError::Io(e.to_string()).into()),
    };
    if Hash::of(&content) != checksum {
        return Err(StoreError::Corrupt {
            what: "document",
            key: checksum.to_hex(),
            reason: "the stored document does not have its checksum".into(),
        }
        .into());
    }
    Ok(Json(serde_json::json!({
        "name": document.name,
        "checksum": checksum,
        "size": content.len(),
        "content": ebl_pint::base64_encode(&content),
    })))
}

/// This node's public key as a JWK: what a receiving platform adds to its trust store.
async fn pint_jwk<K: Kv>(State(app): State<Arc<App<K>>>) -> Json<serde_json::Value> {
    Json(ebl_pint::public_jwk(&PartyKey::of(&app.node_key)))
}
