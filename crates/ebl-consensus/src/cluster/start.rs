//! Starting a member node of a cluster: its ledger loaded from its own store, its Raft log opened, the
//! state machine and the orderer started, and the cluster formed from the genesis's members (every
//! member may form it: the same membership proposed twice is one).

use std::collections::HashSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ebl_core::{PartyKey, SigningKey};
use ebl_store::{Kv, LedgerStore, SledKv, StoreError};
use openraft::network::RaftNetworkFactory;
use openraft::{Config, SnapshotPolicy};
use tokio::sync::mpsc;

use super::catchup::Catchup;
use super::log::LogStore;
use super::machine::{Applier, Machine};
use super::membership::KnownNodes;
use super::network::Network;
use super::order::{Orderer, RaftEngine};
use super::peer::{PeerClient, PeerTransport};
use super::{node_id, Cluster, Raft, Timing, TypeConfig};
use crate::load::seal_key;
use crate::metrics::Metrics;
use crate::{Consensus, ConsensusError, Options};

/// Where a member node keeps its Raft log and any evidence of a refused proposal.
#[derive(Debug, Clone)]
pub struct ClusterFiles {
    /// The Raft log's sled directory.
    pub raft: PathBuf,
    /// Where a refused proposal or a fork is kept as evidence.
    pub evidence: PathBuf,
    /// Present when the node was made to join a running cluster (`ebl-node init --join`): its key is
    /// no genesis member's, and it waits for governance to admit it and the leader to add it.
    pub join: PathBuf,
    /// How this node's signed requests reach its peers (the node's HTTP client, over the TLS of
    /// `tls/peers.pem` in its data directory).
    pub transport: Arc<dyn PeerTransport>,
    /// Present when the node is an auditor's, following as a learner (`ebl-node init --follow`): the
    /// auditor's grant, sent to the member nodes.
    pub follow: Option<ebl_core::FollowGrant>,
    /// What this node trusts of other platforms: a follower checks the answers recorded for bills the
    /// consortium sent out against it.
    pub pint_trust: ebl_pint::TrustStore,
}

/// Starts this member's node in the cluster of its genesis, its Raft messages signed and sent by
/// `files.transport`, its orderer on a thread of its own. Call inside a tokio runtime.
pub async fn start<K: Kv>(
    store: LedgerStore<K>,
    node_key: &SigningKey,
    options: &Options,
    files: ClusterFiles,
    timing: Timing,
) -> Result<Consensus<K>, ConsensusError> {
    // A member that lost its Raft log (a restored backup holds none) would vote and acknowledge as if it
    // still held what it acknowledged before: refused before the log is made anew.
    let height = store.height()?;
    if height > 0 && !files.raft.exists() {
        return Err(ConsensusError::RaftStateLost {
            height,
            raft: files.raft.clone(),
        });
    }
    let raft_log: Arc<dyn Kv> = Arc::new(SledKv::open(&files.raft)?);
    let (assembled, orderer) =
        assemble_with(store, node_key, options, files, raft_log, timing, |peers| {
            Network {
                client: peers.client.clone(),
                known: peers.known.clone(),
                contacts: peers.contacts.clone(),
                round_trip_budget: std::time::Duration::from_millis(timing.round_trip_budget_ms()),
            }
        })
        .await?;
    // Only here, not in `assemble`: a simulated node has no connections to keep.
    tokio::spawn(super::warm::keep_warm(assembled.cluster.clone()));
    let handle = tokio::runtime::Handle::current();
    let thread = std::thread::Builder::new()
        .name("orderer".into())
        .spawn(move || handle.block_on(orderer))
        .map_err(|source| ConsensusError::Thread {
            what: "orderer",
            source,
        })?;
    let Assembled {
        store,
        published,
        submissions,
        metrics,
        cluster,
    } = assembled;
    Ok(Consensus {
        store,
        published,
        submissions,
        metrics,
        cluster: Some(cluster),
        thread,
    })
}

/// A member node assembled but for where its orderer runs: what [`start`] puts on a thread, and a
/// simulation runs as a task on its one thread (with its own Raft network in place of HTTP).
#[derive(Debug)]
pub struct Assembled<K: Kv> {
    /// The node's store, sealed with its node key.
    pub store: Arc<LedgerStore<K>>,
    /// The state readers see.
    pub published: Arc<std::sync::RwLock<crate::Published>>,
    /// Where verified transactions go to be ordered.
    pub submissions: mpsc::Sender<crate::Submission>,
    /// The write path's counters.
    pub metrics: Arc<Metrics>,
    /// The member's cluster.
    pub cluster: Arc<Cluster>,
}

/// Assembles a member node whose Raft log is kept in `raft_log` and whose Raft messages travel by
/// `network` (a simulation's disk and network), and returns the orderer for the caller to run: it ends,
/// with a checkpoint, once every submission sender is gone. `files.raft` is not read.
pub async fn assemble<K: Kv, N: RaftNetworkFactory<TypeConfig>>(
    store: LedgerStore<K>,
    node_key: &SigningKey,
    options: &Options,
    files: ClusterFiles,
    raft_log: Arc<dyn Kv>,
    timing: Timing,
    network: N,
) -> Result<
    (
        Assembled<K>,
        impl Future<Output = Result<(), StoreError>> + Send + 'static,
    ),
    ConsensusError,
> {
    assemble_with(store, node_key, options, files, raft_log, timing, |_| {
        network
    })
    .await
}

/// What a Raft network over signed peer requests is made of.
struct PeerParts {
    client: PeerClient,
    known: KnownNodes,
    contacts: super::contact::Contacts,
}

async fn assemble_with<K: Kv, N: RaftNetworkFactory<TypeConfig>>(
    store: LedgerStore<K>,
    node_key: &SigningKey,
    options: &Options,
    files: ClusterFiles,
    raft_kv: Arc<dyn Kv>,
    timing: Timing,
    network: impl FnOnce(&PeerParts) -> N,
) -> Result<
    (
        Assembled<K>,
        impl Future<Output = Result<(), StoreError>> + Send + 'static,
    ),
    ConsensusError,
> {
    let node_key = node_key.clone();
    let store = store.sealed_with(seal_key(&node_key));
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    store.check_witness()?;
    let own = PartyKey::of(&node_key);
    let founding = genesis.member_by_node(&own).is_some();
    if !founding && !files.join.exists() && files.follow.is_none() {
        return Err(ConsensusError::NotAMember(PathBuf::from("node.key")));
    }
    let ids: HashSet<u64> = genesis.members.iter().map(|m| node_id(&m.node)).collect();
    if ids.len() != genesis.members.len() {
        return Err(ConsensusError::ClusterIdCollision);
    }
    let voters = Cluster::voters(&genesis.members);
    let genesis_members = genesis.members.clone();
    let store = Arc::new(store);
    let metrics = Arc::new(Metrics::default());
    let log_store = LogStore::open(raft_kv.clone())?;
    let applier = Applier::open(
        store.clone(),
        genesis,
        node_key.clone(),
        metrics.clone(),
        raft_kv,
        files.evidence.clone(),
        options.checkpoint_transactions,
    )?;
    let mut applier = applier;
    applier.pint_trust = files.pint_trust.clone();
    let chain = applier.ledger.chain_id();
    let published = applier.published.clone();
    let halted = applier.halted.clone();
    let applier = Arc::new(Mutex::new(applier));
    let client = PeerClient::new(
        chain,
        node_key.clone(),
        files.transport.clone(),
        options.clock.clone(),
    );
    let machine = Machine {
        applier: applier.clone(),
        catchup: Catchup {
            client: client.clone(),
            published: published.clone(),
        },
    };
    let followers = super::follow::Followers::default();
    let mut known = KnownNodes::default();
    known.followers = followers.clone();
    known.learn(&genesis_members);
    let contacts = super::contact::Contacts::default();
    let parts = PeerParts {
        client: client.clone(),
        known: known.clone(),
        contacts: contacts.clone(),
    };
    let network = network(&parts);
    let config = raft_config(chain, &timing)?;
    let id = node_id(&own);
    let raft = Raft::new(id, Arc::new(config), network, log_store, machine)
        .await
        .map_err(|e| ConsensusError::Raft(Box::new(e)))?;
    let initialized = raft
        .is_initialized()
        .await
        .map_err(|e| ConsensusError::Raft(Box::new(e)))?;
    if !initialized && founding {
        // Every member proposes the genesis's membership; the same membership twice is one.
        if let Err(e) = raft.initialize(voters).await {
            tracing::info!(error = %e, "the cluster was formed already");
        }
    }
    let cluster = Arc::new(Cluster {
        raft,
        id,
        published: published.clone(),
        halted: halted.clone(),
        client,
        fork: super::certify::ForkWatch {
            halted,
            evidence: files.evidence.clone(),
        },
        contacts,
        quorum_window: std::time::Duration::from_millis(timing.election_max_ms),
        followers,
        follows: files.follow.is_some(),
    });
    let (submissions, rx) = mpsc::channel(options.pending_transactions_max.max(1));
    spawn_watches(&cluster, &files, known, timing, &metrics, &submissions);
    let orderer = Orderer::new(
        RaftEngine {
            cluster: cluster.clone(),
        },
        applier,
        store.clone(),
        node_key,
        options.clock.clone(),
    );
    Ok((
        Assembled {
            store,
            published,
            submissions,
            metrics,
            cluster,
        },
        orderer.run(rx),
    ))
}

/// The tasks that run beside Raft on every node until it stops.
fn spawn_watches(
    cluster: &Arc<Cluster>,
    files: &ClusterFiles,
    known: KnownNodes,
    timing: Timing,
    metrics: &Arc<crate::metrics::Metrics>,
    submissions: &mpsc::Sender<crate::Submission>,
) {
    if let Some(grant) = files.follow.clone() {
        tokio::spawn(super::follow::renew(cluster.clone(), grant));
    }
    tokio::spawn(super::membership::reconcile(cluster.clone(), known));
    tokio::spawn(super::campaign::campaign_promptly(cluster.clone(), timing));
    tokio::spawn(super::campaign::heartbeat_steadily(cluster.clone(), timing));
    tokio::spawn(cluster.clone().watch_metrics(metrics.clone()));
    tokio::spawn(super::order::settle_when_elected(
        cluster.clone(),
        submissions.downgrade(),
    ));
}

/// openraft's configuration from the timings (logged, so an operator sees what the round trip gave).
fn raft_config(chain: ebl_core::ChainId, timing: &Timing) -> Result<Config, ConsensusError> {
    let config = Config {
        cluster_name: chain.to_hex(),
        heartbeat_interval: timing.heartbeat_ms,
        election_timeout_min: timing.election_min_ms,
        election_timeout_max: timing.election_max_ms,
        snapshot_policy: SnapshotPolicy::LogsSinceLast(timing.snapshot_entries),
        max_in_snapshot_log_to_keep: timing.keep_entries,
        max_payload_entries: super::peer::APPEND_ENTRIES_MAX,
        ..Config::default()
    }
    .validate()
    .map_err(|e| ConsensusError::Timing(Box::new(e)))?;
    tracing::info!(
        heartbeat_ms = timing.heartbeat_ms,
        election_min_ms = timing.election_min_ms,
        election_max_ms = timing.election_max_ms,
        round_trip_budget_ms = timing.round_trip_budget_ms(),
        first_campaign_ms = timing.first_campaign_ms(),
        leader_loss_noticed_ms = timing.leader_loss_noticed_ms(),
        "cluster timings"
    );
    Ok(config)
}
