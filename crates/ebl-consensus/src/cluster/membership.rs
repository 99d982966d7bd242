//! Raft's voters follow the registry's members: once governance admits a member (a ledger transaction
//! the required admins signed), the leader adds its node as a learner, lets it catch up, and makes it a
//! voter; once governance removes a member, the leader takes its node out. Raft's membership never
//! leads the registry: only governance decides who is a member.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use ebl_core::PartyKey;

use super::{node_id, BasicNode, Cluster, NodeId};
use crate::state::Published;

/// How often the leader compares the registry's members with Raft's voters.
const RECONCILE_MS: u64 = 300;

/// How long a new member's node may take to catch up as a learner before the leader tries again.
const LEARNER_CATCHUP_MS: u64 = 30_000;

/// Every node key this node has known as a member's, by cluster id: a member removed by governance is
/// still spoken to (and believed) while Raft's membership holds it, until the change that drops it is
/// committed.
#[derive(Debug, Clone, Default)]
pub(super) struct KnownNodes {
    inner: Arc<RwLock<HashMap<NodeId, (PartyKey, String)>>>,
    /// Auditors' nodes whose grants this node accepted: the leader replicates to them.
    pub followers: super::follow::Followers,
}

impl KnownNodes {
    pub(super) fn learn(&self, members: &[ebl_core::Member]) {
        let mut known = match self.inner.write() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        for m in members {
            known.insert(node_id(&m.node), (m.node, m.peer_address.clone()));
        }
    }

    /// Every node id known.
    #[cfg_attr(not(feature = "lying-leader"), allow(dead_code))]
    pub(super) fn ids(&self) -> Vec<NodeId> {
        let known = match self.inner.read() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        known.keys().copied().collect()
    }

    pub(super) fn key(&self, id: NodeId) -> Option<PartyKey> {
        let known = match self.inner.read() {
            Ok(k) => k,
            Err(poisoned) => poisoned.into_inner(),
        };
        known
            .get(&id)
            .map(|(key, _)| *key)
            .or_else(|| self.followers.key(id))
    }
}

/// The registry's members as this node applied them.
pub(super) fn members(published: &RwLock<Published>) -> Vec<ebl_core::Member> {
    match published.read() {
        Ok(p) => p.ledger.registry().members().to_vec(),
        Err(poisoned) => poisoned.into_inner().ledger.registry().members().to_vec(),
    }
}

/// Runs on every node; acts only while this node leads.
pub(super) async fn reconcile(cluster: Arc<Cluster>, known: KnownNodes) {
    let mut tick = tokio::time::interval(Duration::from_millis(RECONCILE_MS));
    let mut leading_since = None;
    loop {
        tick.tick().await;
        if cluster.raft.metrics().borrow().state == openraft::ServerState::Shutdown {
            // Raft stopped (the node stops, or a simulation crashed it): nothing is left to follow.
            return;
        }
        let members = members(&cluster.published);
        known.learn(&members);
        if !cluster.is_leader() {
            leading_since = None;
            continue;
        }
        let wanted: BTreeSet<NodeId> = members.iter().map(|m| node_id(&m.node)).collect();
        let since = *leading_since.get_or_insert_with(std::time::Instant::now);
        super::follow::reconcile_learners(&cluster, &known.followers, &wanted, since).await;
        let metrics = cluster.raft.metrics().borrow().clone();
        let config = metrics.membership_config.membership();
        let voters: BTreeSet<NodeId> = config.voter_ids().collect();
        if voters == wanted {
            continue;
        }
        // New members' nodes first join as learners and catch up, so the change never waits on them.
        for m in &members {
            let id = node_id(&m.node);
            if config.get_node(&id).is_some() {
                continue;
            }
            tracing::info!(member = %m.name, node = id, "adding an admitted member's node as a learner");
            let added = tokio::time::timeout(
                Duration::from_millis(LEARNER_CATCHUP_MS),
                cluster.raft.add_learner(
                    id,
                    BasicNode {
                        addr: m.peer_address.clone(),
                    },
                    true,
                ),
            )
            .await;
            if !matches!(added, Ok(Ok(_))) {
                tracing::warn!(member = %m.name, "the new member's node did not catch up yet; trying again");
            }
        }
        let metrics = cluster.raft.metrics().borrow().clone();
        let config = metrics.membership_config.membership();
        if wanted.iter().all(|id| config.get_node(id).is_some()) {
            match cluster.raft.change_membership(wanted.clone(), false).await {
                Ok(_) => {
                    tracing::info!(voters = ?wanted, "the voters follow the registry's members")
                }
                Err(e) => tracing::warn!(error = %e, "changing the voters failed; trying again"),
            }
        }
    }
}
