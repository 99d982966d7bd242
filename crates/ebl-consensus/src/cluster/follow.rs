//! Auditors' nodes following the consortium as Raft learners. An auditor signs a grant for its node
//! ([`ebl_core::FollowGrant`]); the node sends it to every member node every `FOLLOW_RENEW_MS`; each
//! member node that finds it holding (the auditor active, with the auditor role) remembers the node's
//! key, and the leader adds the node as a learner. A learner receives every block, checks and applies
//! it like any node, and serves reads; it votes on nothing and orders nothing, and the member nodes
//! refuse a vote or an append it signs (`peer_not_a_voter`). Once its grant no longer holds (the
//! auditor revoked) or has not been renewed for `FOLLOW_LAPSE_MS`, the leader takes it out.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use ebl_core::{ChainId, FollowGrant, PartyKey, Registry};

use super::peer::{PeerRefusal, PATH_FOLLOW};
use super::{node_id, BasicNode, Cluster, NodeId};

/// How often a following node sends its grant to every member node.
pub const FOLLOW_RENEW_MS: u64 = 5_000;

/// How long the leader keeps a learner whose grant no member node has had renewed: the node stopped
/// following (or never had a grant, and nothing else put it there).
pub const FOLLOW_LAPSE_MS: u64 = 30_000;

/// The largest grant a member node reads from a node it does not know yet.
pub const FOLLOW_GRANT_BYTES_MAX: usize = 1_024;

/// How long one member node may take to answer a grant.
const RENEW_TIMEOUT_MS: u64 = 5_000;

#[derive(Debug, Clone)]
struct Follower {
    grant: FollowGrant,
    renewed: Instant,
}

/// The following nodes whose grants this node accepted, by Raft id.
#[derive(Debug, Clone, Default)]
pub struct Followers {
    inner: Arc<RwLock<HashMap<NodeId, Follower>>>,
}

impl Followers {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<NodeId, Follower>> {
        match self.inner.read() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Takes `grant`, sent by the node whose key is `sender`, if it holds on `registry` now and names
    /// that node.
    pub fn admit(
        &self,
        grant: FollowGrant,
        sender: &PartyKey,
        chain: &ChainId,
        registry: &Registry,
        now: Instant,
    ) -> Result<(), PeerRefusal> {
        if grant.body.node != *sender {
            return Err(PeerRefusal::GrantOfAnotherNode(sender.to_hex()));
        }
        grant.check(chain, registry).map_err(PeerRefusal::Grant)?;
        let mut followers = match self.inner.write() {
            Ok(f) => f,
            Err(poisoned) => poisoned.into_inner(),
        };
        followers.insert(
            node_id(sender),
            Follower {
                grant,
                renewed: now,
            },
        );
        Ok(())
    }

    /// The node key of a following node this node accepted.
    pub fn key(&self, id: NodeId) -> Option<PartyKey> {
        self.read().get(&id).map(|f| f.grant.body.node)
    }

    /// The followers whose grants hold on `registry` and were renewed within `FOLLOW_LAPSE_MS`, with
    /// where each is served; and those whose grants no longer hold (the auditor revoked).
    fn judged(&self, chain: &ChainId, registry: &Registry, now: Instant) -> Judged {
        let lapse = Duration::from_millis(FOLLOW_LAPSE_MS);
        let mut judged = Judged::default();
        for (id, f) in self.read().iter() {
            if f.grant.check(chain, registry).is_err() {
                judged.refused.insert(*id);
            } else if now.saturating_duration_since(f.renewed) < lapse {
                judged
                    .granted
                    .insert(*id, f.grant.body.peer_address.clone());
            }
        }
        judged
    }
}

/// The followers as the registry now judges their grants.
#[derive(Debug, Default)]
pub(super) struct Judged {
    /// Grants that hold and were renewed lately, with where each node is served.
    granted: HashMap<NodeId, String>,
    /// Grants that no longer hold.
    refused: BTreeSet<NodeId>,
}

/// What the leader changes in Raft's learners: the granted followers it lacks, and the learners that
/// are neither a member's node (a new member's catches up as a learner) nor a granted follower.
pub(super) fn changes(
    learners: &BTreeSet<NodeId>,
    member_nodes: &BTreeSet<NodeId>,
    judged: &Judged,
    known_since: Instant,
    now: Instant,
) -> (Vec<(NodeId, String)>, BTreeSet<NodeId>) {
    let granted = &judged.granted;
    let add = granted
        .iter()
        .filter(|(id, _)| !learners.contains(id) && !member_nodes.contains(id))
        .map(|(id, address)| (*id, address.clone()))
        .collect();
    // A grant that no longer holds is ended at once. A learner no grant is known for may be one whose
    // renewal a node that has just begun to lead has not heard yet: it is taken out only once a lapse
    // has passed.
    let settled =
        now.saturating_duration_since(known_since) >= Duration::from_millis(FOLLOW_LAPSE_MS);
    let remove = learners
        .iter()
        .filter(|id| !member_nodes.contains(id) && !granted.contains_key(id))
        .filter(|id| settled || judged.refused.contains(id))
        .copied()
        .collect();
    (add, remove)
}

/// The leader's part, each reconcile round: granted followers added as learners (without waiting for
/// them to catch up), learners no grant holds for taken out.
pub(super) async fn reconcile_learners(
    cluster: &Cluster,
    followers: &Followers,
    member_nodes: &BTreeSet<NodeId>,
    leading_since: Instant,
) {
    let (chain, registry) = match cluster.published.read() {
        Ok(p) => (p.ledger.chain_id(), p.ledger.registry().clone()),
        Err(poisoned) => {
            let p = poisoned.into_inner();
            (p.ledger.chain_id(), p.ledger.registry().clone())
        }
    };
    let now = Instant::now();
    let judged = followers.judged(&chain, &registry, now);
    let metrics = cluster.raft.metrics().borrow().clone();
    let learners: BTreeSet<NodeId> = metrics
        .membership_config
        .membership()
        .learner_ids()
        .collect();
    let (add, remove) = changes(&learners, member_nodes, &judged, leading_since, now);
    for (id, addr) in add {
        tracing::info!(node = id, %addr, "an auditor's node follows as a learner");
        if let Err(e) = cluster
            .raft
            .add_learner(id, BasicNode { addr }, false)
            .await
        {
            tracing::warn!(node = id, error = %e, "adding an auditor's node failed; trying again");
        }
    }
    if !remove.is_empty() {
        tracing::info!(nodes = ?remove, "learners without a holding grant are taken out");
        if let Err(e) = cluster
            .raft
            .change_membership(openraft::ChangeMembers::RemoveNodes(remove), false)
            .await
        {
            tracing::warn!(error = %e, "taking learners out failed; trying again");
        }
    }
}

/// Runs on a following node until Raft stops: sends its grant to every member node every
/// `FOLLOW_RENEW_MS`, and says so once when the consortium refuses it.
pub(super) async fn renew(cluster: Arc<Cluster>, grant: FollowGrant) {
    let body = ebl_core::codec::encode(&grant);
    let mut refused_before = BTreeSet::new();
    loop {
        if cluster.raft.metrics().borrow().state == openraft::ServerState::Shutdown {
            return;
        }
        let members = super::membership::members(&cluster.published);
        let answers = cluster.client.ask_each::<()>(
            members,
            PATH_FOLLOW,
            body.clone(),
            Duration::from_millis(RENEW_TIMEOUT_MS),
        );
        let refused = super::runtime::off_thread(move || {
            answers
                .iter()
                .filter_map(|(member, answer)| match answer {
                    Err(super::peer::PeerError::Refused { code, .. }) => Some((member.name, code)),
                    _ => None,
                })
                .collect::<BTreeSet<_>>()
        })
        .await
        .unwrap_or_default();
        for (member, code) in refused.difference(&refused_before) {
            tracing::warn!(%member, %code, "a member node refused this node's grant to follow");
        }
        refused_before = refused;
        tokio::time::sleep(Duration::from_millis(FOLLOW_RENEW_MS)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leader_adds_granted_followers_and_takes_out_learners_no_grant_holds_for() {
        let start = Instant::now();
        let later = start + Duration::from_millis(FOLLOW_LAPSE_MS);
        let members: BTreeSet<NodeId> = [1, 2, 3, 4].into();
        // 4 is a new member's node catching up as a learner; 7 a follower; 9 a lapsed one; 6 one
        // whose auditor was revoked.
        let learners: BTreeSet<NodeId> = [4, 6, 7, 9].into();
        let judged = Judged {
            granted: [(7, "a:1".to_owned()), (8, "b:1".to_owned())].into(),
            refused: [6].into(),
        };
        let (add, remove) = changes(&learners, &members, &judged, start, later);
        assert_eq!(add, vec![(8, "b:1".to_owned())]);
        assert_eq!(remove, [6, 9].into());
        // Just elected: a revoked auditor's node is taken out; a lapsed one only after a lapse.
        let (_, remove) = changes(&learners, &members, &judged, later, later);
        assert_eq!(remove, [6].into());
    }
}
