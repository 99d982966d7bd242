//! The peer routes: Raft's messages, catch-up, certificates and statements from other member nodes,
//! each request checked for its sending node's signature before its body is read, each answer signed
//! by this node's key. What the messages mean is `ebl_consensus::cluster`'s; this is their HTTP side.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use ebl_consensus::cluster::peer::{
    fetch_range, within_fetch_bytes, BlocksRequest, FetchedBlock, PeerRefusal, FETCH_BYTES_MAX,
    PATH_APPEND, PATH_BLOCKS, PATH_CERTIFICATE, PATH_FOLLOW, PATH_READ_INDEX, PATH_SNAPSHOT,
    PATH_STATEMENT, PATH_VOTE, PEER_MESSAGE_BYTES_MAX,
};
use ebl_consensus::cluster::{node_id, TypeConfig};
use ebl_core::api::{
    sign_peer_answer, verify_peer_request, HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME,
};
use ebl_core::{bytes, codec, PartyKey, SignatureBytes};
use ebl_store::Kv;

use crate::api::{now_ms, ApiError, App};
use crate::limits::REQUEST_SKEW_MS_MAX;
use crate::refusal::RequestRefusal;

/// The HTTP status a peer refusal is answered with.
fn status(refusal: &PeerRefusal) -> StatusCode {
    match refusal {
        PeerRefusal::Malformed(_) => StatusCode::BAD_REQUEST,
        PeerRefusal::NotClustered => StatusCode::NOT_FOUND,
        PeerRefusal::Busy => StatusCode::SERVICE_UNAVAILABLE,
        PeerRefusal::Unvouched(_) => StatusCode::CONFLICT,
        _ => StatusCode::UNAUTHORIZED,
    }
}

impl From<PeerRefusal> for ApiError {
    fn from(refusal: PeerRefusal) -> ApiError {
        tracing::warn!(code = refusal.code(), reason = %refusal, "refused a peer request");
        ApiError::new(status(&refusal), refusal.code(), &refusal.to_string())
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
    let (chain, key, time, signature) = sender_of(app, path, headers)?;
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
/// [`authenticate`]'s to check, once the body is read. An auditor's node sending its grant to follow
/// is the one sender not known yet: its body is the grant, read within `FOLLOW_GRANT_BYTES_MAX`.
fn sender_of<K: Kv>(
    app: &App<K>,
    path: &str,
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
    let in_raft = raft_holds(app, &key, Held::AsVoterOrLearner);
    if !member && !in_raft && path != PATH_FOLLOW {
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
    match sender_of(&app, request.uri().path(), request.headers()) {
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
    codec::decode_message(body, PEER_MESSAGE_BYTES_MAX)
        .map_err(|e| PeerRefusal::Malformed(e.to_string()))
}

fn cluster<K: Kv>(app: &App<K>) -> Result<&ebl_consensus::cluster::Cluster, PeerRefusal> {
    app.cluster.as_deref().ok_or(PeerRefusal::NotClustered)
}

/// How Raft's membership holds a node.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Held {
    AsVoter,
    AsVoterOrLearner,
}

/// Whether Raft's membership on this node holds `key`'s node as `held` says.
fn raft_holds<K: Kv>(app: &App<K>, key: &PartyKey, held: Held) -> bool {
    app.cluster.as_ref().is_some_and(|c| {
        let metrics = c.raft.metrics().borrow().clone();
        let membership = metrics.membership_config.membership();
        let id = node_id(key);
        match held {
            Held::AsVoter => membership.voter_ids().any(|v| v == id),
            Held::AsVoterOrLearner => membership.get_node(&id).is_some(),
        }
    })
}

/// Only a voter campaigns or leads: a vote, an append or a snapshot signed by a node that is neither a
/// member's nor a voter in Raft's membership (an auditor's following node) is refused.
fn votes<K: Kv>(app: &App<K>, sender: &PartyKey) -> Result<(), PeerRefusal> {
    let member = app
        .state()
        .ledger
        .registry()
        .member_by_node(sender)
        .is_some();
    if member || raft_holds(app, sender, Held::AsVoter) {
        Ok(())
    } else {
        Err(PeerRefusal::NotAVoter(sender.to_hex()))
    }
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
    votes(&app, &sender)?;
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
    votes(&app, &sender)?;
    let rpc: openraft::raft::VoteRequest<u64> = decode(&body)?;
    speaks_for(
        rpc.vote.leader_id().voted_for().unwrap_or_default(),
        &sender,
    )?;
    let cluster = app.cluster.clone().ok_or(PeerRefusal::NotClustered)?;
    let result = cluster.answer_vote(rpc).await;
    Ok(answer(&app, &signature, codec::encode(&result)))
}

async fn snapshot<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (sender, signature) = authenticate(&app, PATH_SNAPSHOT, &headers, &body)?;
    votes(&app, &sender)?;
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
        // The stored blocks from the first wanted height on, read one at a time and no further than
        // one peer message holds: the asker fetches the rest next.
        let stored = wanted.map_while(|height| {
            match (store.block(height), store.block_transactions(height)) {
                (Ok(Some(block)), Ok(Some(txs))) => Some(Ok(FetchedBlock {
                    header: block.header,
                    transactions: txs.into_iter().map(|s| s.tx).collect(),
                })),
                (Err(e), _) | (_, Err(e)) => Some(Err(e)),
                _ => None,
            }
        });
        within_fetch_bytes(stored, |b| codec::encode(b).len(), FETCH_BYTES_MAX)
    })
    .await
    .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))??;
    Ok(answer(&app, &signature, codec::encode(&fetched)))
}

/// This node's signatures over a block it applied (its own, and those it collected), for a peer that
/// completes a certificate.
async fn certificate<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (_, signature) = authenticate(&app, PATH_CERTIFICATE, &headers, &body)?;
    let request: ebl_consensus::cluster::certify::CertificateRequest = decode(&body)?;
    if request.height > app.state().head_view().height {
        return Err(ApiError::from(RequestRefusal::UnknownBlock(String::from(
            "this node has not applied that block yet",
        ))));
    }
    let store = app.store.clone();
    let now = ebl_consensus::cluster::certify::RegistryNow::of(&app.state().ledger);
    let found = tokio::task::spawn_blocking(move || {
        ebl_consensus::cluster::certify::local(&store, &now, request.height)
    })
    .await
    .map_err(|e| ApiError::from(RequestRefusal::Internal(String::from(&e.to_string()))))??;
    match found {
        Some(certificate) => Ok(answer(&app, &signature, codec::encode(&certificate))),
        None => Err(ApiError::from(RequestRefusal::UnknownBlock(String::from(
            "no such block",
        )))),
    }
}

/// This node's signature over another member node's status statement, if its own ledger says the same
/// (see `ebl_consensus::cluster::vouch`).
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
    let deadline = std::time::Instant::now()
        + std::time::Duration::from_millis(ebl_consensus::cluster::vouch::VOUCH_WAIT_MS);
    while app.state().head_view().height < statement.height && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let vouched = {
        let state = app.state();
        ebl_consensus::cluster::vouch::vouch(
            &app.store,
            &state,
            &app.node_key,
            &statement,
            now_ms(),
        )?
    };
    let vouched = vouched.map_err(PeerRefusal::from)?;
    Ok(answer(&app, &signature, codec::encode(&vouched)))
}

/// An auditor's node sends its grant to follow: taken if it holds on this node's registry now, so the
/// node's appends are answered to it, and the leader adds it as a learner (`cluster::follow`).
async fn follow<K: Kv>(
    State(app): State<Arc<App<K>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let (sender, signature) = authenticate(&app, PATH_FOLLOW, &headers, &body)?;
    let grant: ebl_core::FollowGrant = decode(&body)?;
    let (chain, registry) = {
        let state = app.state();
        (state.ledger.chain_id(), state.ledger.registry().clone())
    };
    cluster(&app)?
        .followers
        .admit(grant, &sender, &chain, &registry, std::time::Instant::now())?;
    Ok(answer(&app, &signature, codec::encode(&())))
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
    let index = ebl_consensus::cluster::linearizable(&cluster.raft)
        .await
        .map_err(|e| {
            ApiError::from(RequestRefusal::NoLeader(String::from(&format!(
                "this node cannot confirm it leads: {e}"
            ))))
        })?;
    let index: u64 = index.map_or(0, |l| l.index);
    Ok(answer(&app, &signature, codec::encode(&index)))
}

/// The peer routes (`PATH_*`), each checking the sending node's signature first.
pub(crate) fn routes<K: Kv>(app: Arc<App<K>>) -> Router<Arc<App<K>>> {
    Router::new()
        .route(PATH_APPEND, post(append::<K>))
        .route(PATH_VOTE, post(vote::<K>))
        .route(PATH_SNAPSHOT, post(snapshot::<K>))
        .route(PATH_BLOCKS, post(blocks::<K>))
        .route(PATH_CERTIFICATE, post(certificate::<K>))
        .route(PATH_READ_INDEX, post(read_index::<K>))
        .route(PATH_STATEMENT, post(statement::<K>))
        .route(
            PATH_FOLLOW,
            post(follow::<K>).layer(axum::extract::DefaultBodyLimit::max(
                ebl_consensus::cluster::follow::FOLLOW_GRANT_BYTES_MAX,
            )),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            app,
            headers_first::<K>,
        ))
}
