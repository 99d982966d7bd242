//! openraft's network over the project's HTTP stack: each Raft message encoded by the one codec, sent
//! signed to the member node that serves the target address, and its answer accepted only when that
//! member's node key signed it.

use ebl_core::codec;
use openraft::error::{
    InstallSnapshotError, NetworkError, RPCError, RaftError, RemoteError, Unreachable,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::{Duration, Instant};

use super::budget::AppendBudget;
use super::membership::KnownNodes;
use super::peer::{
    entries_fitting, PeerClient, PeerError, PATH_APPEND, PATH_SNAPSHOT, PATH_VOTE,
    PEER_MESSAGE_BYTES_MAX,
};
use super::{BasicNode, NodeId, TypeConfig};

/// Makes a connection per target; an answer counts only when the node key this node knows for the
/// target signed it.
#[derive(Debug, Clone)]
pub(super) struct Network {
    pub client: PeerClient,
    pub known: KnownNodes,
    /// Records each peer's answer to an append (how a leader knows it still has its quorum) and its
    /// round trip.
    pub contacts: super::contact::Contacts,
    /// The largest round trip the timings leave an append time for; a longer one is reported.
    pub round_trip_budget: Duration,
}

/// How long a request is waited for after openraft gave up on it, to measure a round trip too long for
/// the timings (otherwise never seen: the answer would be cut off at the timeout it overran).
pub(crate) const ROUND_TRIP_PROBE_MS: u64 = 1_000;

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Connection;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Connection {
        Connection {
            network: self.clone(),
            target,
            address: node.addr.clone(),
            budget: AppendBudget::default(),
            awaiting: false,
        }
    }
}

#[derive(Debug)]
pub(super) struct Connection {
    network: Network,
    target: NodeId,
    address: String,
    /// How many bytes of entries the next append carries.
    budget: AppendBudget,
    /// An append was sent and its answer not yet taken: still so when the next one is sent, openraft
    /// gave up on it (its timeout drops the call).
    awaiting: bool,
}

type Failed<E = openraft::error::Infallible> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

impl Connection {
    async fn call<Req, Resp, E>(
        &self,
        path: &'static str,
        request: &Req,
        option: &RPCOption,
    ) -> Result<Resp, Failed<E>>
    where
        Req: Serialize,
        Resp: DeserializeOwned + Send + 'static,
        E: std::error::Error + DeserializeOwned + Send + 'static,
    {
        let Some(key) = self.network.known.key(self.target) else {
            let e = PeerError::Unreachable {
                address: self.address.clone(),
                reason: format!("node {} is not a member node", self.target),
            };
            return Err(RPCError::Unreachable(Unreachable::new(&e)));
        };
        let body = codec::encode(request);
        let client = self.network.client.clone();
        let address = self.address.clone();
        let timeout = option
            .hard_ttl()
            .max(Duration::from_millis(ROUND_TRIP_PROBE_MS));
        let (contacts, target, budget) = (
            self.network.contacts.clone(),
            self.target,
            self.network.round_trip_budget,
        );
        // Measured where the answer arrives, on the blocking thread, which runs on when openraft has
        // stopped waiting: an answer later than the heartbeat is how too short a timing shows.
        let answer = tokio::task::spawn_blocking(move || {
            let sent = Instant::now();
            let answer = client.post(&address, &key, path, &body, timeout);
            if answer.is_ok() {
                let round_trip = sent.elapsed();
                if contacts.measured(target, round_trip, budget) {
                    tracing::warn!(
                        peer = target,
                        round_trip = ?round_trip,
                        budget = ?budget,
                        "a member's round trip is longer than the cluster's timings allow: its appends \
                         time out and it falls behind; run every member with --round-trip-ms at least this"
                    );
                }
            }
            answer
        })
        .await
        .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        let bytes = match answer {
            Ok(bytes) => bytes,
            Err(e @ PeerError::Unreachable { .. }) => {
                return Err(RPCError::Unreachable(Unreachable::new(&e)))
            }
            Err(e) => {
                tracing::warn!(error = %e, "a peer refused or answered badly");
                return Err(RPCError::Network(NetworkError::new(&e)));
            }
        };
        let result: Result<Resp, RaftError<NodeId, E>> =
            codec::decode_message(&bytes, PEER_MESSAGE_BYTES_MAX)
                .map_err(|e| RPCError::Network(NetworkError::new(&e)))?;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.target, e)))
    }
}

impl RaftNetwork<TypeConfig> for Connection {
    /// Sends the entries that fit the peer's append budget (`budget`); when that is not all of them,
    /// a follower's success is told to openraft as a partial one, up to the last entry sent, and
    /// openraft sends the rest next.
    async fn append_entries(
        &mut self,
        mut rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, Failed> {
        if self.awaiting {
            self.budget.timed_out();
        }
        let (fitting, sent_bytes) = entries_fitting(&rpc.entries, self.budget.bytes());
        let cut = (fitting < rpc.entries.len()).then(|| {
            rpc.entries.truncate(fitting);
            rpc.entries.last().map(|entry| entry.log_id)
        });
        #[cfg(feature = "lying-leader")]
        let rpc = super::lie::lie(rpc, self.target, &self.network);
        self.awaiting = true;
        // The runtime's clock, which a simulation drives (the round trip measured in `call` is the
        // operating system's, for the log).
        let sent = tokio::time::Instant::now();
        let answer = self.call(PATH_APPEND, &rpc, &option).await;
        self.awaiting = false;
        if answer.is_ok() {
            // A signed answer from the target's node key: it is in contact, whatever it said.
            self.network.contacts.heard(self.target);
            self.budget
                .answered(sent_bytes, sent.elapsed(), option.hard_ttl());
        }
        match (answer, cut) {
            (Ok(AppendEntriesResponse::Success), Some(sent)) => {
                Ok(AppendEntriesResponse::PartialSuccess(sent))
            }
            (answer, _) => answer,
        }
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, Failed<InstallSnapshotError>> {
        self.call(PATH_SNAPSHOT, &rpc, &option).await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, Failed> {
        self.call(PATH_VOTE, &rpc, &option).await
    }
}
