//! A follower's submissions go to the leader: sent on as one batch to the leader's API, answered with
//! the leader's outcomes once this node has applied the blocks they name, so a client that reads here
//! next sees what it was told is on the ledger.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use ebl_core::api::{BatchRequest, BatchResponse, SubmitOutcome};
use ebl_core::SignedTransaction;

use crate::api::ApiError;
use crate::refusal::RequestRefusal;
use ebl_consensus::cluster::Cluster;

/// Marks a forwarded request: a node never forwards one again, so two nodes that each think the other
/// leads cannot pass a request back and forth.
pub(crate) const FORWARDED_HEADER: &str = "x-ebl-forwarded";

/// How long a forwarded submission may take at the leader.
const FORWARD_TIMEOUT_MS: u64 = 30_000;

fn no_leader(message: &str) -> ApiError {
    ApiError::from(RequestRefusal::NoLeader(String::from(message)))
}

/// Sends `transactions` to the leader (its address and node key) over the connections kept open to its
/// member's node, and waits until this node has applied what the
/// leader answered. A leader that does not answer before the cluster elects another (it was cut off
/// from the majority) is given up on at once: the caller sends them to the new leader, and a
/// transaction both ordered is a duplicate there (issue 35: a write sent at the moment of a cut was
/// held for the old leader until the link healed or 30 s passed).
pub(crate) async fn forward(
    cluster: &Cluster,
    tls: &crate::tls::PeerTls,
    (address, leader_key): (String, ebl_core::PartyKey),
    transactions: Vec<SignedTransaction>,
) -> Result<Vec<SubmitOutcome>, ApiError> {
    let body = serde_json::to_vec(&BatchRequest { transactions })
        .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))?;
    let url = tls.url(&address, "/v1/batches");
    let tls = tls.clone();
    let leader = cluster.leader();
    let began = Instant::now();
    let sent = tokio::task::spawn_blocking(move || {
        let agent = tls.member_agent(
            &leader_key,
            Duration::from_millis(crate::peer_client::PEER_CONNECT_MS),
        );
        let mut response = agent
            .post(&url)
            .config()
            .timeout_global(Some(Duration::from_millis(FORWARD_TIMEOUT_MS)))
            .build()
            .header("content-type", "application/json")
            .header(FORWARDED_HEADER, "1")
            .send(&body[..])?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(crate::limits::REQUEST_BODY_BYTES_MAX as u64 * 4)
            .read_to_vec()?;
        Ok::<_, ureq::Error>((status, bytes))
    });
    // The thread that waits for the old leader ends by its own timeout; its answer is not read.
    let answered = tokio::select! {
        joined = sent => joined
            .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))?,
        () = cluster.leader_other_than(leader) => {
            tracing::info!(%address, "the leader was replaced before it answered: the batch goes to the new one");
            return Err(crate::api::not_ordered(&ebl_consensus::sequencer::NotOrdered::Retry));
        }
    };
    tracing::debug!(%address, took = ?began.elapsed(), ok = answered.is_ok(), "forwarded to the leader");
    let (status, bytes) =
        answered.map_err(|e| no_leader(&format!("the leader at {address} did not answer: {e}")))?;
    if status != 200 {
        // The leader's own refusal (a full queue, a bad batch), passed on as it said it.
        let envelope: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        let fallback = RequestRefusal::NoLeader(String::new());
        let code = envelope["error"]["code"]
            .as_str()
            .unwrap_or(fallback.code());
        let message = envelope["error"]["message"]
            .as_str()
            .unwrap_or("the leader refused");
        return Err(ApiError::new(
            StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE),
            code,
            message,
        ));
    }
    let answer: BatchResponse = serde_json::from_slice(&bytes)
        .map_err(|e| no_leader(&format!("the leader's answer is malformed: {e}")))?;
    let height = answer
        .results
        .iter()
        .filter_map(|o| match o {
            SubmitOutcome::Accepted { receipt, .. } | SubmitOutcome::Duplicate { receipt, .. } => {
                Some(receipt.height)
            }
            SubmitOutcome::Rejected { .. } => None,
        })
        .max();
    if let Some(height) = height {
        wait_applied(cluster, height).await?;
        tracing::debug!(height, took = ?began.elapsed(), "the leader's block applied here");
    }
    Ok(answer.results)
}

/// Waits until this node has applied (and published) block `height`.
pub(crate) async fn wait_applied(cluster: &Cluster, height: u64) -> Result<(), ApiError> {
    let deadline = Instant::now() + Duration::from_millis(FORWARD_TIMEOUT_MS);
    loop {
        let applied = match cluster.published.read() {
            Ok(p) => p.head_view().height,
            Err(poisoned) => poisoned.into_inner().head_view().height,
        };
        if applied >= height {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ApiError::from(RequestRefusal::NotYetApplied(String::from(&format!("block {height} is committed but this node has not applied it yet; read again shortly")))));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
