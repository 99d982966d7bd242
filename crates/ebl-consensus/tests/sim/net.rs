//! The simulated network: every Raft message is handed straight to its target's Raft on the one
//! thread, after a delay drawn from the seed, or lost (dropped, or a side cut off).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ebl_consensus::cluster::{BasicNode, NodeId, Raft, TypeConfig};
use openraft::error::{InstallSnapshotError, RPCError, RaftError, RemoteError, Unreachable};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use rand::rngs::StdRng;
use rand::Rng;

/// What the network does now, and the one generator every draw of the run comes from.
pub(crate) struct Wires {
    /// Each running node's Raft; a crashed node has none.
    pub(crate) rafts: BTreeMap<NodeId, Raft>,
    /// Nodes cut off from every other (a partition of one against the rest).
    pub(crate) cut: BTreeSet<NodeId>,
    /// Of every thousand messages, how many are lost.
    pub(crate) loss_per_mille: u32,
    /// The longest one-way delay drawn for a message (jitter, on top of its link's).
    pub(crate) delay_max_ms: u64,
    /// Each link's fixed one-way delay (members far apart), by the pair of nodes, the smaller id first.
    pub(crate) links: BTreeMap<(NodeId, NodeId), u64>,
    /// The run's generator: network draws, faults and clients take turns on it.
    pub(crate) rng: StdRng,
}

/// The wires, shared by every node's network and the run.
pub(crate) type Shared = Arc<Mutex<Wires>>;

/// The wires, locked (one thread: never contended, never held across an await).
pub(crate) fn wires(shared: &Shared) -> MutexGuard<'_, Wires> {
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a message did not arrive.
#[derive(Debug, thiserror::Error)]
#[error("the simulated network lost the message")]
struct Lost;

/// One node's side of the network.
#[derive(Clone)]
pub(crate) struct SimNetwork {
    /// The sending node.
    pub(crate) from: NodeId,
    /// The wires.
    pub(crate) wires: Shared,
}

impl RaftNetworkFactory<TypeConfig> for SimNetwork {
    type Network = Link;

    async fn new_client(&mut self, target: NodeId, _node: &BasicNode) -> Link {
        Link {
            from: self.from,
            to: target,
            wires: self.wires.clone(),
        }
    }
}

/// A link from one node to another.
pub(crate) struct Link {
    from: NodeId,
    to: NodeId,
    wires: Shared,
}

type Failed<E = openraft::error::Infallible> = RPCError<NodeId, BasicNode, RaftError<NodeId, E>>;

impl Wires {
    /// The delay of one message from `from` to `to`: its link's, and jitter drawn from the seed.
    fn delay(&mut self, from: NodeId, to: NodeId) -> Duration {
        let link = self
            .links
            .get(&(from.min(to), from.max(to)))
            .copied()
            .unwrap_or(0);
        let most = self.delay_max_ms;
        Duration::from_millis(link + self.rng.gen_range(0..=most))
    }
}

impl Link {
    /// The target's Raft and the delay before it gets the message, or none if it is lost.
    fn send(&self) -> Option<(Raft, Duration)> {
        let mut w = wires(&self.wires);
        let lost = w.rng.gen_range(0..1000) < w.loss_per_mille;
        let delay = w.delay(self.from, self.to);
        if lost || w.cut.contains(&self.from) || w.cut.contains(&self.to) {
            return None;
        }
        w.rafts.get(&self.to).cloned().map(|raft| (raft, delay))
    }

    /// The delay of the answer, or none if it is lost (or a cut came while the request travelled).
    fn answer(&self) -> Option<Duration> {
        let mut w = wires(&self.wires);
        let lost = w.rng.gen_range(0..1000) < w.loss_per_mille;
        let delay = w.delay(self.to, self.from);
        let gone = !w.rafts.contains_key(&self.from) || !w.rafts.contains_key(&self.to);
        (!lost && !gone && !w.cut.contains(&self.from) && !w.cut.contains(&self.to))
            .then_some(delay)
    }

    async fn call<Resp, E, F>(
        &self,
        option: &RPCOption,
        deliver: impl FnOnce(Raft) -> F,
    ) -> Result<Resp, Failed<E>>
    where
        F: std::future::Future<Output = Result<Resp, RaftError<NodeId, E>>>,
        E: std::error::Error,
    {
        let Some((raft, there)) = self.send() else {
            // A lost message is noticed only when the sender gives up on it.
            tokio::time::sleep(option.hard_ttl()).await;
            return Err(RPCError::Unreachable(Unreachable::new(&Lost)));
        };
        tokio::time::sleep(there).await;
        let result = deliver(raft).await;
        let Some(back) = self.answer() else {
            tokio::time::sleep(option.hard_ttl().saturating_sub(there)).await;
            return Err(RPCError::Unreachable(Unreachable::new(&Lost)));
        };
        tokio::time::sleep(back).await;
        result.map_err(|e| RPCError::RemoteError(RemoteError::new(self.to, e)))
    }
}

impl RaftNetwork<TypeConfig> for Link {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, Failed> {
        self.call(
            &option,
            |raft| async move { raft.append_entries(rpc).await },
        )
        .await
    }

    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<InstallSnapshotResponse<NodeId>, Failed<InstallSnapshotError>> {
        self.call(
            &option,
            |raft| async move { raft.install_snapshot(rpc).await },
        )
        .await
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, Failed> {
        self.call(&option, |raft| async move { raft.vote(rpc).await })
            .await
    }
}
