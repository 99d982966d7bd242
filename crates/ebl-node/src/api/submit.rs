//! Submissions: transactions checked off the async threads, ordered here or at the cluster's leader,
//! and answered with receipts (with their finality certificates when asked).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use ebl_core::api::{BatchRequest, BatchResponse, SubmitOutcome};
use ebl_core::SignedTransaction;
use ebl_store::Kv;
use tokio::sync::oneshot;

use super::{bad_request, body_bytes, content_type, parse_json, ApiError, App};
use crate::checks::SignatureChecks;
use crate::limits::BATCH_TRANSACTIONS_MAX;
use crate::refusal::RequestRefusal;
use ebl_consensus::sequencer::NotOrdered;
use ebl_consensus::sequencer::{Candidate, Submission};

/// Stateless checks, off the async threads and through the gate of one batch per core: structure and
/// every signature, with `verify_strict`.
pub(super) async fn verify(
    checks: &SignatureChecks,
    txs: Vec<SignedTransaction>,
) -> Result<Vec<Candidate>, ApiError> {
    checks
        .run(move || {
            txs.into_iter()
                .map(|tx| match tx.verified_id() {
                    Ok(id) => Ok((id, tx)),
                    Err(e) => Err((tx.id(), e)),
                })
                .collect()
        })
        .await
        .map_err(|_| {
            ApiError::from(RequestRefusal::Internal(String::from(
                "the signature checks stopped: the node is shutting down",
            )))
        })
}

/// `?final=true`: the client wants each receipt with its block's finality certificate.
pub(super) fn wants_final(uri: &Uri) -> bool {
    uri.query()
        .is_some_and(|q| q.split('&').any(|p| p == "final=true"))
}

/// How long a submission asking for final receipts waits for the member nodes' signatures; after it
/// the receipts carry what was collected (acknowledged all the same: durable on a quorum).
const FINAL_WAIT_MS: u64 = 2_000;

/// Attaches each receipt's block certificate: on a cluster, waiting (within `FINAL_WAIT_MS`) until as
/// many member nodes signed the block as make it final (`finality_need`).
pub(super) async fn certify<K: Kv>(
    app: &App<K>,
    outcomes: &mut [SubmitOutcome],
) -> Result<(), ApiError> {
    let heights: std::collections::BTreeSet<u64> = outcomes
        .iter()
        .filter_map(|o| o.receipt().map(|r| r.height))
        .collect();
    for height in heights {
        let deadline =
            tokio::time::Instant::now() + std::time::Duration::from_millis(FINAL_WAIT_MS);
        let certificate = loop {
            let found = app.certificate(height).await?;
            let Some(found) = found else { break None };
            // Counted against the registry now: the block was just ordered on it (a membership
            // change in between is rare, and the verifier counts again with the registry before it).
            let need = ebl_core::certificate::finality_need(app.state().ledger.registry(), height);
            if found.signatures.len() >= need {
                break Some(found);
            }
            // Not final within the wait: the receipt goes without a certificate (ordered, not yet
            // final), never with one below the threshold (finding 12 of the attack review).
            if tokio::time::Instant::now() >= deadline {
                break None;
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

pub(super) fn forwarded(headers: &HeaderMap) -> bool {
    headers.contains_key(crate::forward::FORWARDED_HEADER)
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
        + std::time::Duration::from_millis(2 * ebl_consensus::cluster::LEADER_WAIT_MS);
    loop {
        let limit = std::time::Duration::from_millis(ebl_consensus::cluster::LEADER_WAIT_MS);
        let attempt = if cluster.await_leader(limit).await == Some(cluster.id) {
            match order_here(app, txs.clone()).await? {
                Ok(outcomes) => return Ok(outcomes),
                Err(NotOrdered::Halted) => return Err(not_ordered(&NotOrdered::Halted)),
                Err(e) => Err(not_ordered(&e)),
            }
        } else {
            forward_or_refuse(cluster, &app.peer_tls, txs.clone(), forwarded).await
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

/// Passes the transactions to the leader this node knows of; refused as `no_leader` when it knows
/// none, or when they were forwarded here already (a forwarded batch is never forwarded again, so two
/// nodes that disagree on the leader cannot pass it back and forth).
async fn forward_or_refuse(
    cluster: &ebl_consensus::cluster::Cluster,
    tls: &crate::tls::PeerTls,
    txs: Vec<SignedTransaction>,
    forwarded: bool,
) -> Result<Vec<SubmitOutcome>, ApiError> {
    match cluster.leader_node() {
        Some(leader) if !forwarded => crate::forward::forward(cluster, tls, leader, txs).await,
        _ => Err(not_ordered(&NotOrdered::Leader(None))),
    }
}

pub(crate) fn not_ordered(e: &NotOrdered) -> ApiError {
    let message = match e {
        NotOrdered::Leader(_) => "the cluster has no leader this node can reach; retry shortly",
        NotOrdered::Halted => "the node is not ordering transactions",
        NotOrdered::Retry => "leadership moved while the transactions were ordered; resubmit them",
    };
    ApiError::new(StatusCode::SERVICE_UNAVAILABLE, e.code(), message)
}

pub(super) async fn order_here<K: Kv>(
    app: &App<K>,
    txs: Vec<SignedTransaction>,
) -> Result<Result<Vec<SubmitOutcome>, NotOrdered>, ApiError> {
    // At most BATCH_TRANSACTIONS_MAX (checked before); past u32 it could only be refused as queue_full.
    let count = u32::try_from(txs.len()).unwrap_or(u32::MAX);
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
    let candidates = verify(&app.checks, txs).await?;
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

pub(super) async fn submit_one<K: Kv>(
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

pub(super) async fn submit_batch<K: Kv>(
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
