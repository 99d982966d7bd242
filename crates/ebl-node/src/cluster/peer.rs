//! Node-to-node traffic: every request is signed by the sending member node's key and every answer by
//! the answering node's, both over the chain id, so neither a stranger on the network nor a party's key
//! can speak for a member node; refusals are named, logged, and change nothing.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ebl_core::api::{
    sign_peer_answer, sign_peer_request, verify_peer_answer, verify_peer_request, HEADER_KEY,
    HEADER_SIGNATURE, HEADER_TIME,
};
use ebl_core::{
    bytes, codec, ChainId, PartyKey, SignatureBytes, SignedBlockHeader, SignedTransaction,
    SigningKey,
};
use ebl_store::Kv;
use serde::{Deserialize, Serialize};

use super::{node_id, TypeConfig};
use crate::api::{ApiError, App};
use crate::limits::REQUEST_SKEW_MS_MAX;
use crate::refusal::RequestRefusal;

/// Raft's append-entries (and heartbeats).
pub const PATH_APPEND: &str = "/v1/peer/append";
/// Raft's vote requests.
pub const PATH_VOTE: &str = "/v1/peer/vote";
/// Raft's snapshot installs (a snapshot names only the head it reaches).
pub const PATH_SNAPSHOT: &str = "/v1/peer/snapshot";
/// Blocks with their transactions, for a node catching up behind a snapshot.
pub const PATH_BLOCKS: &str = "/v1/peer/blocks";
/// A block's signatures by this node, collected into finality certificates.
pub const PATH_CERTIFICATE: &str = "/v1/peer/certificate";
/// The leader's confirmation of its commit index, for linearizable reads.
pub const PATH_READ_INDEX: &str = "/v1/peer/read-index";
/// A member node's request that this node vouch for its status statement (chain format 7).
pub const PATH_STATEMENT: &str = "/v1/peer/statement";

/// The most blocks one catch-up request returns.
pub const FETCH_BLOCKS_MAX: u64 = 64;

/// The largest peer message: a Raft append of up to `PEER_ENTRIES_MAX` full proposals, or a fetch of
/// `FETCH_BLOCKS_MAX` blocks.
pub const PEER_MESSAGE_BYTES_MAX: usize = 64 * 1024 * 1024;

/// Why a peer request was refused. Each has a stable code, shown in the answer and the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    /// No node signature on the request.
    #[error("the request carries no node signature")]
    Unsigned,
    /// Signed by a key that is no member's node key.
    #[error("key {0} is not a member node of this chain")]
    NotAMemberNode(String),
    /// The signature does not verify.
    #[error("the node signature does not verify")]
    BadSignature,
    /// Signed too far from this node's clock (a replay, or a clock to fix).
    #[error("the request time is more than {REQUEST_SKEW_MS_MAX} ms from this node's clock")]
    TimeSkew,
    /// A Raft message naming another node as its sender than the one that signed it.
    #[error("the message speaks for node {claimed}, but node {sender} signed it")]
    NotTheSender {
        /// The node the message names.
        claimed: u64,
        /// The node that signed it.
        sender: u64,
    },
    /// A body that does not decode.
    #[error("the message is malformed: {0}")]
    Malformed(String),
    /// A peer request to a one-member chain's node.
    #[error("this node is not in a cluster")]
    NotClustered,
    /// A signed peer request this node answered before: each is taken once.
    #[error("this signed peer request was answered before")]
    Replayed,
    /// The memory of answered peer requests is full (`SEEN_PEER_REQUESTS_MAX`).
    #[error("this node remembers too many peer requests now; retry")]
    Busy,
    /// This node does not vouch for the statement it was asked to sign.
    #[error("this node does not vouch for the statement: {0}")]
    Unvouched(#[from] super::vouch::Unvouched),
}

impl PeerRefusal {
    /// The stable code the answer and the log show.
    pub fn code(&self) -> &'static str {
        match self {
            PeerRefusal::Unsigned => "peer_unsigned",
            PeerRefusal::NotAMemberNode(_) => "peer_not_a_member",
            PeerRefusal::BadSignature => "peer_bad_signature",
            PeerRefusal::TimeSkew => "peer_time_skew",
            PeerRefusal::NotTheSender { .. } => "peer_not_the_sender",
            PeerRefusal::Malformed(_) => "peer_malformed",
            PeerRefusal::NotClustered => "peer_not_clustered",
            PeerRefusal::Replayed => "peer_request_replayed",
            PeerRefusal::Busy => "peer_busy",
            PeerRefusal::Unvouched(why) => why.code(),
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            PeerRefusal::Malformed(_) => StatusCode::BAD_REQUEST,
            PeerRefusal::NotClustered => StatusCode::NOT_FOUND,
            PeerRefusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
            PeerRefusal::Unvouched(_) => StatusCode::CONFLICT,
            _ => StatusCode::UNAUTHORIZED,
        }
    }
}

impl From<PeerRefusal> for ApiError {
    fn from(refusal: PeerRefusal) -> ApiError {
        tracing::warn!(code = refusal.code(), reason = %refusal, "refused a peer request");
        ApiError::new(refusal.status(), refusal.code(), &refusal.to_string())
    }
}

/// A request for blocks `from..from+count` with their transactions, to catch up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlocksRequest {
    /// The first height wanted.
    pub from: u64,
    /// How many (at most `FETCH_BLOCKS_MAX` are answered).
    pub count: u64,
}

/// A block as a peer sends it to a node catching up: checked there like any block before it is written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchedBlock {
    /// Its signed header.
    pub header: SignedBlockHeader,
    /// Its transactions, in order.
    pub transactions: Vec<SignedTransaction>,
}

/// Why a request to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No answer.
    #[error("cannot reach {address}: {reason}")]
    Unreachable {
        /// The peer's address.
        address: String,
        /// The connection's error.
        reason: String,
    },
    /// The peer refused the request.
    #[error("{address} refused: {code} ({status})")]
    Refused {
        /// The peer's address.
        address: String,
        /// The HTTP status.
        status: u16,
        /// The refusal's code.
        code: String,
    },
    /// An answer not signed by the peer's node key.
    #[error("{address} answered without a valid signature of its node key")]
    UnsignedAnswer {
        /// The peer's address.
        address: String,
    },
    /// An answer that does not decode.
    #[error("{address} answered something malformed: {reason}")]
    BadAnswer {
        /// The peer's address.
        address: String,
        /// What could not be read.
        reason: String,
    },
}

use crate::api::now_ms;

/// Sends signed requests to peers and checks their signed answers (blocking; call off async threads).
#[derive(Debug, Clone)]
pub struct PeerClient {
    /// The chain every request is signed for.
    pub chain: ChainId,
    /// This node's key, which signs every request.
    pub key: SigningKey,
    /// Over TLS or not, and which certificates the peers may present.
    pub tls: crate::tls::PeerTls,
    agent: ureq::Agent,
    last_time: Arc<std::sync::atomic::AtomicU64>,
}

/// How long a peer has to accept a connection.
pub const PEER_CONNECT_MS: u64 = 1_000;

impl PeerClient {
    /// A client signing for `chain` with `key`, over `tls`.
    pub fn new(chain: ChainId, key: SigningKey, tls: crate::tls::PeerTls) -> PeerClient {
        let agent = tls.agent(Duration::from_millis(PEER_CONNECT_MS), None);
        PeerClient {
            chain,
            key,
            tls,
            agent,
            last_time: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// A request time that never repeats in this process: two requests in one millisecond with the
    /// same body would otherwise carry the same signature.
    fn time(&self) -> u64 {
        let now = now_ms();
        let mut last = self.last_time.load(std::sync::atomic::Ordering::SeqCst);
        loop {
            let next = now.max(last + 1);
            match self.last_time.compare_exchange(
                last,
                next,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Asks every one of `members` at once (a thread each) to answer `path` with `body`, and hands
    /// over their decoded answers as they come, or why each gave none: the caller takes what it needs
    /// and stops, without waiting out a member that is cut off. A late answer finds the channel gone
    /// and is dropped with its thread.
    pub(crate) fn ask_each<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        members: Vec<ebl_core::Member>,
        path: &'static str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> std::sync::mpsc::Receiver<(ebl_core::Member, Result<T, PeerError>)> {
        let (answers, arriving) = std::sync::mpsc::channel();
        for member in members {
            let (client, body, answers) = (self.clone(), body.clone(), answers.clone());
            std::thread::spawn(move || {
                let answer = client
                    .post(&member.peer_address, &member.node, path, &body, timeout)
                    .and_then(|b| {
                        codec::decode(&b, PEER_MESSAGE_BYTES_MAX).map_err(|e| {
                            PeerError::BadAnswer {
                                address: member.peer_address.clone(),
                                reason: e.to_string(),
                            }
                        })
                    });
                let _ = answers.send((member, answer));
            });
        }
        arriving
    }

    /// POSTs `body` to `path` at `address` (`host:port`), and returns the answer's body once `expected`
    /// (the node key that serves there) has signed it.
    pub fn post(
        &self,
        address: &str,
        expected: &PartyKey,
        path: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, PeerError> {
        let time = self.time();
        let signature = sign_peer_request(&self.key, &self.chain, path, body, time);
        let unreachable = |e: ureq::Error| PeerError::Unreachable {
            address: address.to_owned(),
            reason: e.to_string(),
        };
        let mut response = self
            .agent
            .post(&self.tls.url(address, path))
            .config()
            .timeout_global(Some(timeout))
            .build()
            .header("content-type", "application/octet-stream")
            .header(HEADER_KEY, &PartyKey::of(&self.key).to_hex())
            .header(HEADER_TIME, &time.to_string())
            .header(HEADER_SIGNATURE, &signature.to_string())
            .send(body)
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let answer_signature = response
            .headers()
            .get(HEADER_SIGNATURE)
            .and_then(|v| v.to_str().ok())
            .and_then(bytes::from_hex::<64>)
            .map(SignatureBytes);
        let answer = response
            .body_mut()
            .with_config()
            .limit(PEER_MESSAGE_BYTES_MAX as u64)
            .read_to_vec()
            .map_err(unreachable)?;
        if status != 200 {
            let code = serde_json::from_slice::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            return Err(PeerError::Refused {
                address: address.to_owned(),
                status,
                code,
            });
        }
        match answer_signature {
            Some(s) if verify_peer_answer(expected, &self.chain, &signature, &answer, &s) => {
                Ok(answer)
            }
            _ => Err(PeerError::UnsignedAnswer {
                address: address.to_owned(),
            }),
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Checks a peer request's signature, time and sender: a member node of the chain as this node knows it.
fn authenticate<K: Kv>(
    app: &App<K>,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(PartyKey, SignatureBytes), PeerRefusal> {
    let (chain, key, time, signature) = sender_of(app, headers)?;
    if !verify_peer_request(&key, &chain, path, body, time, &signature) {
        return Err(PeerRefusal::BadSignature);
    }
    // Each signed request once (finding 14 of the attack review: a captured append replayed within
    // the time window was accepted).
    app.seen_peer_requests
        .admit(&key, &signature, time, now_ms())
        .map_err(|refusal| match refusal {
            crate::refusal::ReadRefusal::Replayed => PeerRefusal::Replayed,
            _ => PeerRefusal::Busy,
        })?;
    Ok((key, signature))
}

/// What a peer request's headers say, checked before its body is read: signed, by a member node (or
/// one Raft's membership still holds), at a time within the skew. The signature over the body is
/// [`authenticate`]'s to check, once the body is read.
fn sender_of<K: Kv>(
    app: &App<K>,
    headers: &HeaderMap,
) -> Result<(ebl_core::ChainId, PartyKey, u64, SignatureBytes), PeerRefusal> {
    let key = header(headers, HEADER_KEY).ok_or(PeerRefusal::Unsigned)?;
    let time = header(headers, HEADER_TIME).ok_or(PeerRefusal::Unsigned)?;
    let signature = header(headers, HEADER_SIGNATURE).ok_or(PeerRefusal::Unsigned)?;
    let key: PartyKey = key.parse().map_err(|_| PeerRefusal::BadSignature)?;
    let time: u64 = time.parse().map_err(|_| PeerRefusal::BadSignature)?;
    let signature = bytes::from_hex::<64>(signature)
        .map(SignatureBytes)
        .ok_or(PeerRefusal::BadSignature)?;
    let (chain, member) = {
        let state = app.state();
        (
            state.ledger.chain_id(),
            state.ledger.registry().member_by_node(&key).is_some(),
        )
    };
    // A member's node, or one that Raft's membership still holds: a removed member's node takes part
    // until the change that drops it is committed, or that change could never be.
    let in_raft = app.cluster.as_ref().is_some_and(|c| {
        c.raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .get_node(&node_id(&key))
            .is_some()
    });
    if !member && !in_raft {
        return Err(PeerRefusal::NotAMemberNode(key.to_hex()));
    }
    if now_ms().abs_diff(time) > REQUEST_SKEW_MS_MAX {
        return Err(PeerRefusal::TimeSkew);
    }
    Ok((chain, key, time, signature))
}

/// Refuses a peer request by its headers before a byte of its body is read (finding 3 of the attack
/// review: up to 64 MiB was read from anyone, on one-member nodes too, before the sender was checked;
/// 16 held-open uploads took a node from 16 to 977 MiB).
async fn headers_first<K: Kv>(
    State(app): State<Arc<App<K>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match sender_of(&app, request.headers()) {
        Ok(_) => next.run(request).await,
        Err(refusal) => ApiError::from(refusal).into_response(),
    }
}

fn answer<K: Kv>(app: &App<K>, request: &SignatureBytes, body: Vec<u8>) -> Response {
    let chain = app.state().ledger.chain_id();
    let signature = sign_peer_answer(&app.node_key, &chain, request, &body);
    (
        StatusCode::OK,
        [
            ("content-type", "application/octet-stream".to_owned()),
            (HEADER_SIGNATURE, signature.to_string()),
        ],
        body,
    )
        .into_response()
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, PeerRefusal> {
    codec::decode(body, PEER_MESSAGE_BYTES_MAX).map_err(|e| PeerRefusal::Malformed(e.to_string()))
}

fn cluster<K: Kv>(app: &App<K>) -> Result<&super::Cluster, PeerRefusal> {
    app.cluster.as_deref().ok_or(PeerRefusal::NotClustered)
}

/// The sender must be the node the message speaks for: a member's node cannot campaign or lead in
/// another member's name.
fn speaks_for(claimed: u64, sender: &PartyKey) -> Result<(), PeerRefusal> {
    let sender = node_id(sender);
    if claimed != sender {
        return Err(PeerRefusal::NotTheSender { claimed, sender });
    }
    Ok(())
}

async fn append<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (sender, signature) = authenticate(&app, PATH_APPEND, &headers, &body)?;
    let rpc: openraft::raft::AppendEntriesRequest<TypeConfig> = decode(&body)?;
    speaks_for(
        rpc.vote.leader_id().voted_for().unwrap_or_default(),
        &sender,
    )?;
    let result = cluster(&app)?.raft.append_entries(rpc).await;
    Ok(answer(&app, &signature, codec::encode(&result)))
}

async fn vote<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (sender, signature) = authenticate(&app, PATH_VOTE, &headers, &body)?;
    let rpc: openraft::raft::VoteRequest<u64> = decode(&body)?;
    speaks_for(
        rpc.vote.leader_id().voted_for().unwrap_or_default(),
        &sender,
    )?;
    let result = cluster(&app)?.raft.vote(rpc).await;
    Ok(answer(&app, &signature, codec::encode(&result)))
}

async fn snapshot<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (sender, signature) = authenticate(&app, PATH_SNAPSHOT, &headers, &body)?;
    let rpc: openraft::raft::InstallSnapshotRequest<TypeConfig> = decode(&body)?;
    speaks_for(
        rpc.vote.leader_id().voted_for().unwrap_or_default(),
        &sender,
    )?;
    let result = cluster(&app)?.raft.install_snapshot(rpc).await;
    Ok(answer(&app, &signature, codec::encode(&result)))
}

/// Blocks this node has made durable, with their transactions, for a peer that is catching up. Only
/// member nodes may ask: a node holds every document it replicates.
async fn blocks<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, signature) = authenticate(&app, PATH_BLOCKS, &headers, &body)?;
    let request: BlocksRequest = decode(&body)?;
    let durable = app.state().head_view().height;
    let wanted = fetch_range(&request, durable);
    let store = app.store.clone();
    let fetched = tokio::task::spawn_blocking(move || {
        let mut out = Vec::new();
        for height in wanted {
            let (Some(block), Some(txs)) =
                (store.block(height)?, store.block_transactions(height)?)
            else {
                break;
            };
            out.push(FetchedBlock {
                header: block.header,
                transactions: txs.into_iter().map(|s| s.tx).collect(),
            });
        }
        Ok::<_, ebl_store::StoreError>(out)
    })
    .await
    .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))??;
    Ok(answer(&app, &signature, codec::encode(&fetched)))
}

/// The heights a request for blocks is answered with: from `from` (at least 1), at most `count` and at
/// most `FETCH_BLOCKS_MAX` of them, none above `durable`. Checked arithmetic: a `count` of 0 asks for
/// nothing (it once underflowed into the whole chain, past the cap).
fn fetch_range(request: &BlocksRequest, durable: u64) -> std::ops::Range<u64> {
    let first = request.from.max(1);
    let count = request.count.min(FETCH_BLOCKS_MAX);
    // An overflow asks for nothing; so does a `count` of 0, or a `from` past the durable head.
    let end = first
        .checked_add(count)
        .map_or(first, |end| end.min(durable.saturating_add(1)));
    first..end.max(first)
}

/// This node's signatures over a block it applied (its own, and those it collected), for a peer that
/// completes a certificate.
async fn certificate<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, signature) = authenticate(&app, PATH_CERTIFICATE, &headers, &body)?;
    let request: super::certify::CertificateRequest = decode(&body)?;
    if request.height > app.state().head_view().height {
        return Err(ApiError::from(RequestRefusal::UnknownBlock(String::from(
            "this node has not applied that block yet",
        ))));
    }
    let store = app.store.clone();
    let now = super::certify::RegistryNow::of(&app.state().ledger);
    let found =
        tokio::task::spawn_blocking(move || super::certify::local(&store, &now, request.height))
            .await
            .map_err(|e| {
                ApiError::from(RequestRefusal::Internal(String::from(&e.to_string())))
            })??;
    match found {
        Some(certificate) => Ok(answer(&app, &signature, codec::encode(&certificate))),
        None => Err(ApiError::from(RequestRefusal::UnknownBlock(String::from(
            "no such block",
        )))),
    }
}

/// This node's signature over another member node's status statement, if its own ledger says the same
/// (see [`super::vouch`]).
async fn statement<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, signature) = authenticate(&app, PATH_STATEMENT, &headers, &body)?;
    let statement: ebl_core::api::BillStatement = decode(&body)?;
    // The asker applied the statement's block first; this node may be a moment behind it (a follower
    // applies what the leader committed a little later). It waits for that block a short while rather
    // than refuse a statement it would bear out.
    let deadline =
        std::time::Instant::now() + std::time::Duration::from_millis(super::vouch::VOUCH_WAIT_MS);
    while app.state().head_view().height < statement.height && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let vouched = {
        let state = app.state();
        super::vouch::vouch(&app.store, &state, &app.node_key, &statement, now_ms())?
    };
    let vouched = vouched.map_err(PeerRefusal::from)?;
    Ok(answer(&app, &signature, codec::encode(&vouched)))
}

/// ReadIndex for a follower: the leader confirms it still leads (a heartbeat round to a quorum) and
/// answers the log index a linearizable read must have applied.
async fn read_index<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, signature) = authenticate(&app, PATH_READ_INDEX, &headers, &body)?;
    let cluster = cluster(&app)?;
    let index = cluster.raft.ensure_linearizable().await.map_err(|e| {
        ApiError::from(RequestRefusal::NoLeader(String::from(&format!(
            "this node cannot confirm it leads: {e}"
        ))))
    })?;
    let index: u64 = index.map_or(0, |l| l.index);
    Ok(answer(&app, &signature, codec::encode(&index)))
}

/// The peer routes (`PATH_*`), each checking the sending node's signature first.
pub fn routes<K: Kv>(app: Arc<App<K>>) -> Router<Arc<App<K>>> {
    Router::new()
        .route(PATH_APPEND, post(append::<K>))
        .route(PATH_VOTE, post(vote::<K>))
        .route(PATH_SNAPSHOT, post(snapshot::<K>))
        .route(PATH_BLOCKS, post(blocks::<K>))
        .route(PATH_CERTIFICATE, post(certificate::<K>))
        .route(PATH_READ_INDEX, post(read_index::<K>))
        .route(PATH_STATEMENT, post(statement::<K>))
        .route_layer(axum::middleware::from_fn_with_state(
            app,
            headers_first::<K>,
        ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Finding 11 of the attack review: `count: 0` underflowed and answered the whole chain, past the
    /// cap.
    #[test]
    fn regression_a_request_for_no_blocks_gets_none() {
        let range = |from, count| fetch_range(&BlocksRequest { from, count }, 1_000);
        for from in [0, 1, 5, u64::MAX] {
            assert!(range(from, 0).is_empty(), "from {from}");
        }
        assert_eq!(range(0, 3), 1..4);
        assert_eq!(range(999, 10), 999..1_001);
        assert!(range(1_001, 10).is_empty());
        assert!(range(u64::MAX, 2).is_empty());
        // FETCH_BLOCKS_MAX at its bound.
        assert_eq!(range(1, u64::MAX), 1..FETCH_BLOCKS_MAX + 1);
    }
}
