//! A consortium's member nodes as one openraft cluster: the voters are the member nodes of the genesis,
//! what is replicated is the leader's signed block proposal, and every node applies each committed
//! proposal to its own ledger, checking it again, and signs the block it wrote.
//!
//! `log` keeps the Raft log durably; [`machine`] applies committed proposals; `order` is the leader's
//! side; `network` and [`peer`] carry Raft's messages over signed HTTP; `catchup` brings a node past a
//! purged log. The node serves the peer routes and forwards a follower's submissions to the leader.

mod budget;
mod campaign;
mod catchup;
pub mod certify;
mod contact;
mod fault;
pub mod follow;
#[cfg(feature = "lying-leader")]
mod lie;
mod log;
pub mod machine;
mod membership;
mod network;
mod order;
pub mod peer;
pub mod runtime;
mod start;
pub mod vouch;
mod warm;

pub use order::{Applying, Engine, RaftEngine};
pub use start::{assemble, start, Assembled, ClusterFiles};

use std::collections::BTreeMap;
use std::io::Cursor;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, RwLock};

use ebl_core::{Hash, PartyKey, Proposal};
use serde::{Deserialize, Serialize};

use crate::state::Published;

pub use openraft::BasicNode;

/// A node's id in the cluster: the first eight bytes of the SHA-256 of its node key, so it is fixed by
/// the genesis and needs no numbering of members.
pub type NodeId = u64;

/// What applying one log entry did on this node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The proposal became this block.
    Block {
        /// Its height.
        height: u64,
        /// Its header's hash.
        hash: Hash,
    },
    /// The proposal named a parent that was no longer the head: skipped by every node alike.
    Stale,
    /// A leader's blank entry or a membership change: no block.
    Nothing,
}

openraft::declare_raft_types!(
    /// The cluster's types: proposals in, outcomes out, nodes known by their address.
    pub TypeConfig:
        D = Proposal,
        R = Outcome,
        NodeId = NodeId,
        Node = BasicNode,
        AsyncRuntime = runtime::EblRuntime,
);

/// The Raft engine of this node.
pub type Raft = openraft::Raft<TypeConfig>;

/// A member node's Raft id: the first 8 bytes of its node key's SHA-256, so every node derives the same ids from the genesis.
pub fn node_id(key: &PartyKey) -> NodeId {
    let hash = Hash::of(key.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&hash.as_bytes()[..8]);
    u64::from_be_bytes(first)
}

/// ReadIndex on the leader (`ensure_linearizable`), bounded by `LEADER_WAIT_MS`. openraft waits for
/// the read index to be applied without a limit, and the index can be one that never will be: a blank
/// entry of a term whose entries a later leader truncated, past the new log's end. The leader's orderer
/// waited there for good (the simulation's seed 187, once several proposals were in flight), and since
/// it writes every entry but blanks, the index was never reached.
pub async fn linearizable(
    raft: &Raft,
) -> Result<Option<openraft::LogId<NodeId>>, ebl_core::refusal::RequestRefusal> {
    use ebl_core::refusal::RequestRefusal::NotLinearizable;
    match tokio::time::timeout(
        std::time::Duration::from_millis(LEADER_WAIT_MS),
        raft.ensure_linearizable(),
    )
    .await
    {
        Ok(read) => read.map_err(|e| NotLinearizable(e.to_string())),
        Err(_) => Err(NotLinearizable(format!(
            "the read index was not applied within {LEADER_WAIT_MS} ms"
        ))),
    }
}

/// How long a submission waits for a leader to be elected before it is refused with `no_leader`.
pub const LEADER_WAIT_MS: u64 = 3_000;

/// The least heartbeat interval, and the heartbeat of members on one site.
pub const HEARTBEAT_MS_MIN: u64 = 60;
/// What an append takes beyond the network's round trip: the follower's sync to disk and both sides'
/// work on the message.
pub const APPEND_MARGIN_MS: u64 = 40;
/// The least wait without a heartbeat before a follower campaigns.
pub const ELECTION_MIN_MS_MIN: u64 = 300;
/// The least spread of the followers' waits (each picks one in it, so two rarely campaign together).
pub const ELECTION_SPREAD_MS_MIN: u64 = 300;

/// Timings of the cluster, derived from the largest round trip between two members
/// ([`Timing::for_round_trip`]); the default is members on one site (round trip 0), which keeps a
/// failover within two seconds on one loaded machine: a follower waits 300 to 600 ms without a
/// heartbeat before it campaigns, and a vote round and the new leader's first commit take the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// How often the leader sends heartbeats.
    pub heartbeat_ms: u64,
    /// The shortest wait without a heartbeat before a follower campaigns.
    pub election_min_ms: u64,
    /// The longest such wait (each follower picks one in between).
    pub election_max_ms: u64,
    /// Entries since the last snapshot that make a new one (and let the log before it be purged).
    pub snapshot_entries: u64,
    /// Entries kept in the log behind a snapshot, for followers a little behind.
    pub keep_entries: u64,
}

impl Timing {
    /// Timings for members whose slowest link has a round trip of `round_trip_ms`.
    ///
    /// openraft 0.9 gives every append one heartbeat interval to be answered, and a member whose
    /// answers come later is never brought up to date (the simulation's seed 753, and
    /// `members_a_wan_apart_keep_up_with_timings_from_their_round_trip`). So the heartbeat is the round
    /// trip, an eighth of it again for jitter, and `APPEND_MARGIN_MS`. A failover is then bounded by
    /// openraft's rules: a follower campaigns once the leader's lease (the longest election timeout)
    /// and its own election timeout have passed without a heartbeat, checked at ticks of one and a half
    /// heartbeats; so the election timeouts are kept as short as the rest allows: half a round trip
    /// above the heartbeat (a vote has the shortest election timeout to be answered, over a connection
    /// kept open: `KEEP_WARM_MS`), spread over a round trip (at least `ELECTION_SPREAD_MS_MIN`) so
    /// that one candidate's vote usually arrives before another's timer fires. Followers campaign
    /// sooner than these rules (`campaign`): a heartbeat after the lease, in turns by rank. At
    /// 250 ms: heartbeat 321 ms, elections after 446 to 746 ms, the first campaign 1 067 ms after the
    /// leader's last word (openraft's own timers: within 2.0 s).
    pub fn for_round_trip(round_trip_ms: u64) -> Timing {
        let heartbeat_ms = HEARTBEAT_MS_MIN.max(round_trip_ms * 9 / 8 + APPEND_MARGIN_MS);
        let election_min_ms = ELECTION_MIN_MS_MIN.max(heartbeat_ms + round_trip_ms / 2);
        let election_max_ms = election_min_ms + ELECTION_SPREAD_MS_MIN.max(round_trip_ms);
        Timing {
            heartbeat_ms,
            election_min_ms,
            election_max_ms,
            snapshot_entries: 10_000,
            keep_entries: 1_000,
        }
    }

    /// When the first-ranked follower campaigns after the leader's last word (`campaign`): the
    /// leader's lease and a heartbeat.
    pub fn first_campaign_ms(&self) -> u64 {
        self.election_max_ms + self.heartbeat_ms
    }

    /// The longest a follower goes without a heartbeat before openraft's own timers make it campaign,
    /// when the prompt campaign (`campaign`) did not elect a leader: the leader's lease and the
    /// longest election timeout, and a tick's lateness (openraft 0.9's rules).
    pub fn leader_loss_noticed_ms(&self) -> u64 {
        2 * self.election_max_ms + self.heartbeat_ms * 3 / 2
    }

    /// The largest round trip to a member these timings leave an append time for.
    pub fn round_trip_budget_ms(&self) -> u64 {
        self.heartbeat_ms.saturating_sub(APPEND_MARGIN_MS)
    }
}

impl Default for Timing {
    fn default() -> Timing {
        Timing::for_round_trip(0)
    }
}

/// A node's place in the cluster, as `GET /v1/cluster` shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct View {
    /// This node's Raft id.
    pub id: NodeId,
    /// leader, follower, candidate, learner, shutdown, or halted (a committed proposal failed here).
    pub role: String,
    /// The Raft term it is in.
    pub term: u64,
    /// The leader it knows of.
    pub leader: Option<NodeId>,
    /// Where that leader's node serves its peers.
    pub leader_address: Option<String>,
    /// The Raft log index this node has applied.
    pub last_applied: u64,
    /// The log index its last snapshot reaches, and the one up to which its log was purged.
    pub snapshot: Option<u64>,
    /// The log index up to which its log was purged.
    pub purged: Option<u64>,
    /// The voting members' ids.
    pub voters: Vec<NodeId>,
    /// The learners' ids: auditors' nodes that follow, and new members' nodes catching up.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub learners: Vec<NodeId>,
    /// For a leader: whether a majority of the voters (itself among them) answered its appends within
    /// the longest election timeout. A leader cut off from its quorum says `false` while it still
    /// believes it leads; the others will have elected another.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_quorum: Option<bool>,
    /// For a leader: each other voter's replication, as this node sees it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<PeerLag>,
}

/// How far one peer's log trails the leader's, and when it last answered the leader's appends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeerLag {
    /// The peer's Raft id.
    pub id: NodeId,
    /// The last log index the leader knows the peer holds (none yet: 0).
    pub matched: u64,
    /// Log entries the peer lacks of the leader's.
    pub lag: u64,
    /// Milliseconds since the peer last answered an append (none since this node led: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_contact_ms: Option<u64>,
    /// The peer's last measured round trip in milliseconds (an answer too late to count included):
    /// what `--round-trip-ms` must cover.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round_trip_ms: Option<u64>,
}

/// This node's view of the cluster.
pub struct Cluster {
    /// The Raft engine.
    pub raft: Raft,
    /// This node's Raft id.
    pub id: NodeId,
    /// The state readers see: what this node applied and made durable.
    pub published: Arc<RwLock<Published>>,
    /// Set when this node refused a committed proposal: it applies nothing more.
    pub halted: Arc<AtomicBool>,
    /// Signs this node's requests to its peers (certificates, forwarded catch-up).
    pub client: peer::PeerClient,
    /// Where a fork found while collecting certificates is recorded.
    pub fork: certify::ForkWatch,
    /// When each peer last answered this node's appends.
    pub(crate) contacts: contact::Contacts,
    /// How long a leader may go without hearing from its quorum before it says it has lost it: the
    /// longest election timeout, by when the others will have elected another.
    pub(crate) quorum_window: std::time::Duration,
    /// Auditors' nodes whose grants to follow this node accepted.
    pub followers: follow::Followers,
    /// This node is an auditor's, following as a learner (it signs its own copies of every block).
    pub follows: bool,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Cluster {
    /// The leader this node knows of now.
    pub fn leader(&self) -> Option<NodeId> {
        self.raft.metrics().borrow().current_leader
    }

    /// The leader, waiting up to `limit` for one to be known (during an election there is none).
    pub async fn await_leader(&self, limit: std::time::Duration) -> Option<NodeId> {
        let mut metrics = self.raft.metrics();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Some(leader) = metrics.borrow().current_leader {
                return Some(leader);
            }
            match tokio::time::timeout_at(deadline, metrics.changed()).await {
                Ok(Ok(())) => continue,
                _ => return None,
            }
        }
    }

    /// Waits until this node has applied everything committed before now, cluster-wide (ReadIndex):
    /// on the leader after a heartbeat round confirms it leads; on a follower with the index the
    /// leader confirms. A read after this sees every write acknowledged before it began.
    pub async fn linearize(&self) -> Result<(), ebl_core::refusal::RequestRefusal> {
        use ebl_core::refusal::RequestRefusal::{NoLeader, NotLinearizable};
        let limit = std::time::Duration::from_millis(LEADER_WAIT_MS);
        let leader = self
            .await_leader(limit)
            .await
            .ok_or_else(|| NoLeader("no leader is known".into()))?;
        let index = if leader == self.id {
            linearizable(&self.raft).await?.map_or(0, |l| l.index)
        } else {
            let (address, known) = self
                .member_node(leader)
                .ok_or_else(|| NoLeader("the leader is no member node this node knows".into()))?;
            let client = self.client.clone();
            let answer = tokio::task::spawn_blocking(move || {
                client.post(
                    &address,
                    &known,
                    peer::PATH_READ_INDEX,
                    &[],
                    std::time::Duration::from_millis(LEADER_WAIT_MS),
                )
            })
            .await
            .map_err(|e| NotLinearizable(e.to_string()))?
            .map_err(|e| NotLinearizable(e.to_string()))?;
            ebl_core::codec::decode::<u64>(&answer, 64)
                .map_err(|e| NotLinearizable(e.to_string()))?
        };
        self.raft
            .wait(Some(std::time::Duration::from_millis(2 * LEADER_WAIT_MS)))
            .applied_index_at_least(Some(index), "linearizable read")
            .await
            .map(|_| ())
            .map_err(|e| NotLinearizable(e.to_string()))
    }

    /// Returns once a leader other than `leader` is known (never while `leader` leads).
    pub async fn leader_other_than(&self, leader: Option<NodeId>) {
        let mut metrics = self.raft.metrics();
        loop {
            let now = metrics.borrow().current_leader;
            if now.is_some() && now != leader {
                return;
            }
            if metrics.changed().await.is_err() {
                // Raft stopped: no leader will follow; the caller's own request decides.
                std::future::pending::<()>().await;
            }
        }
    }

    /// The term this node leads in now, if it leads.
    pub fn leading_term(&self) -> Option<u64> {
        let metrics = self.raft.metrics().borrow().clone();
        (metrics.current_leader == Some(self.id)).then_some(metrics.current_term)
    }

    /// Whether this node leads now.
    pub fn is_leader(&self) -> bool {
        self.leader() == Some(self.id)
    }

    /// The leader's address (`host:port`), from the membership Raft holds.
    pub fn leader_address(&self) -> Option<String> {
        let metrics = self.raft.metrics().borrow().clone();
        let leader = metrics.current_leader?;
        metrics
            .membership_config
            .membership()
            .get_node(&leader)
            .map(|n| n.addr.clone())
    }

    /// Answers a Raft vote request (`campaign::answer_vote`: a refusal for a log behind this node's
    /// makes this node campaign, once the leader is silent here too).
    pub async fn answer_vote(
        self: &Arc<Self>,
        request: openraft::raft::VoteRequest<NodeId>,
    ) -> Result<openraft::raft::VoteResponse<NodeId>, openraft::error::RaftError<NodeId>> {
        campaign::answer_vote(self, request).await
    }

    /// The leader's address and its node key (a member's: only member nodes vote), so a caller can
    /// reach it over the connections kept open to that member.
    pub fn leader_node(&self) -> Option<(String, PartyKey)> {
        self.member_node(self.leader()?)
    }

    /// Where the member node with Raft id `id` serves its peers (from the membership Raft holds), and
    /// its node key (from the registry).
    fn member_node(&self, id: NodeId) -> Option<(String, PartyKey)> {
        let address = self
            .raft
            .metrics()
            .borrow()
            .membership_config
            .membership()
            .get_node(&id)
            .map(|n| n.addr.clone())?;
        let key = membership::members(&self.published)
            .into_iter()
            .map(|m| m.node)
            .find(|node| node_id(node) == id)?;
        Some((address, key))
    }

    /// What the node tells about its place in the cluster.
    pub fn view(&self) -> View {
        let metrics = self.raft.metrics().borrow().clone();
        let now = std::time::Instant::now();
        let last_log = metrics.last_log_index.unwrap_or(0);
        let peers = metrics
            .replication
            .as_ref()
            .map(|replication| {
                replication
                    .iter()
                    .filter(|(id, _)| **id != self.id)
                    .map(|(id, matched)| {
                        let matched = matched.map_or(0, |l| l.index);
                        PeerLag {
                            id: *id,
                            matched,
                            lag: last_log.saturating_sub(matched),
                            last_contact_ms: self
                                .contacts
                                .since(*id, now)
                                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                            round_trip_ms: self
                                .contacts
                                .round_trip(*id)
                                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
        let role = match metrics.state {
            openraft::ServerState::Leader => "leader",
            openraft::ServerState::Follower => "follower",
            openraft::ServerState::Candidate => "candidate",
            openraft::ServerState::Learner => "learner",
            openraft::ServerState::Shutdown => "shutdown",
        };
        View {
            id: self.id,
            role: if self.halted.load(std::sync::atomic::Ordering::SeqCst) {
                "halted"
            } else {
                role
            }
            .to_owned(),
            term: metrics.current_term,
            leader: metrics.current_leader,
            leader_address: self.leader_address(),
            last_applied: metrics.last_applied.map_or(0, |l| l.index),
            snapshot: metrics.snapshot.map(|l| l.index),
            purged: metrics.purged.map(|l| l.index),
            voters: metrics.membership_config.membership().voter_ids().collect(),
            learners: metrics
                .membership_config
                .membership()
                .learner_ids()
                .collect(),
            has_quorum: (metrics.state == openraft::ServerState::Leader).then(|| {
                let voters: Vec<NodeId> =
                    metrics.membership_config.membership().voter_ids().collect();
                self.contacts
                    .quorum(self.id, &voters, self.quorum_window, now)
            }),
            peers,
        }
    }

    /// Keeps the Prometheus gauges of this member's Raft state (term, elections, role, each peer's lag)
    /// as openraft reports changes, until Raft shuts down.
    pub async fn watch_metrics(self: Arc<Self>, metrics: Arc<crate::metrics::Metrics>) {
        let mut changes = self.raft.metrics();
        loop {
            let view = self.view();
            metrics.raft(crate::metrics::RaftGauges {
                term: view.term,
                leader: view.role == "leader",
                lag: view.peers.iter().map(|p| (p.id, p.lag)).collect(),
            });
            if changes.changed().await.is_err() {
                return;
            }
        }
    }

    /// The voters of the genesis's members, by id.
    pub fn voters(members: &[ebl_core::Member]) -> BTreeMap<NodeId, BasicNode> {
        members
            .iter()
            .map(|m| {
                (
                    node_id(&m.node),
                    BasicNode {
                        addr: m.peer_address.clone(),
                    },
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_site_keeps_the_timings_failover_was_measured_with() {
        let t = Timing::default();
        assert_eq!(
            (t.heartbeat_ms, t.election_min_ms, t.election_max_ms),
            (60, 300, 600)
        );
    }

    #[test]
    fn every_round_trip_leaves_an_append_its_round_trip_and_openraft_accepts_the_timings() {
        for rtt in [0, 1, 30, 150, 250, 400, 1_000] {
            let t = Timing::for_round_trip(rtt);
            assert!(t.round_trip_budget_ms() >= rtt, "{rtt}: {t:?}");
            assert!(t.election_min_ms > t.heartbeat_ms, "{rtt}: {t:?}");
            assert!(t.election_min_ms > rtt + t.heartbeat_ms / 2, "{rtt}: {t:?}");
            assert!(t.election_max_ms - t.election_min_ms >= rtt, "{rtt}: {t:?}");
            let config = openraft::Config {
                heartbeat_interval: t.heartbeat_ms,
                election_timeout_min: t.election_min_ms,
                election_timeout_max: t.election_max_ms,
                ..openraft::Config::default()
            };
            assert!(config.validate().is_ok(), "{rtt}: {t:?}");
        }
        let wan = Timing::for_round_trip(250);
        assert_eq!(
            (wan.heartbeat_ms, wan.election_min_ms, wan.election_max_ms),
            (321, 446, 746)
        );
        assert_eq!(wan.leader_loss_noticed_ms(), 1_973);
    }
}
