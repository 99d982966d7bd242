//! Wiring: a data directory, the store, the sequencer thread and the HTTP server, started and stopped.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::thread::JoinHandle;

use ebl_consensus::ConsensusError;
use ebl_core::{Genesis, PartyKey, SigningKey};
use ebl_store::{Kv, LedgerStore, SledKv, StoreError};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::api::{router, App};
use crate::keyfile;
use crate::limits::{
    CHECKPOINT_TRANSACTIONS, CONNECTIONS_MAX, CONNECTIONS_PER_ADDRESS_MAX, CONNECTION_IDLE_MS,
    HEADER_READ_MS, PENDING_TRANSACTIONS_MAX, REQUEST_TIMEOUT_MS,
};
use crate::listener::LimitedListener;
use crate::pint::Receiver;
use crate::tls::PeerTls;

/// Why the node could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// Storage failed or refused the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A file, a socket or a thread of the node's own failed: `what` says which, the source why.
    #[error("{what}: {source}")]
    Io {
        /// What was being done (`writing <path>`, `binding the listener`, ...).
        what: String,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The operating system gave no randomness for a new key.
    #[error("no randomness for a new key: {0}")]
    NoRandomness(getrandom::Error),
    /// A node key file that is not 64 hex digits.
    #[error("{0} does not hold a 32-byte hex key")]
    BadKeyFile(PathBuf),
    /// `init --join` of a one-member chain: its node orders alone.
    #[error("a one-member chain's node orders alone: no other node can join it")]
    JoinAlone,
    /// `init --follow` with a grant for another chain or another node key.
    #[error("the grant to follow is for {what}")]
    GrantMismatch {
        /// What differs: "another chain", "another node key".
        what: &'static str,
    },
    /// `init --join` with the node key of a genesis member.
    #[error("this node key is a genesis member's: initialise it without --join")]
    JoinAsMember,
    /// The node's thread panicked, or did not say it started.
    #[error("the node's thread: {0}")]
    Thread(&'static str),
    /// A cluster node whose key no member of the genesis names.
    #[error("the node key in {0} is not a member's node key in this genesis")]
    NotAMember(PathBuf),
    /// The genesis breaks a ledger rule.
    #[error("invalid genesis: {0}")]
    Genesis(#[from] ebl_core::Error),
    /// The PINT trust directory could not be read.
    #[error("the PINT trust directory: {0}")]
    Trust(#[from] ebl_pint::trust_dir::TrustDirError),
    /// The platform's X.509 signing key (`pint/signing/`) could not be used.
    #[error("the PINT signing key in {path}: {source}")]
    PintSigning {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: ebl_pint::CertifiedKeyError,
    },
    /// TLS could not be set up.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// Ordering would not start (`ebl_consensus`); a storage failure there is `Store`.
    #[error(transparent)]
    Consensus(ConsensusError),
}

impl From<ConsensusError> for NodeError {
    fn from(e: ConsensusError) -> NodeError {
        match e {
            // One way to tell a storage failure, whichever layer met it.
            ConsensusError::Store(e) => NodeError::Store(e),
            other => NodeError::Consensus(other),
        }
    }
}

impl NodeError {
    /// An IO failure while doing `what`.
    pub fn io(what: impl Into<String>, source: std::io::Error) -> NodeError {
        NodeError::Io {
            what: what.into(),
            source,
        }
    }
}

/// Where a node keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    /// The store: sled's files, and beside them the transaction log and the head witness.
    pub fn store(&self) -> PathBuf {
        self.0.join("store")
    }
    /// What the PINT receiver keeps: `trust/`, `documents/`, `finished/`.
    pub fn pint(&self) -> PathBuf {
        self.0.join("pint")
    }

    /// Keys and certificates trusted to send PINT envelopes here, one directory per platform code
    /// (`ebl_pint::trust_dir::read_trust_dir`).
    pub fn pint_trust(&self) -> PathBuf {
        self.pint().join("trust")
    }

    /// The platform's own X.509 signing key, if the operator gave one: `key.pem` (PKCS#8 or SEC1, P-256)
    /// and `chain.pem` (its certificate first, then the CAs). Without it the node signs
    /// its PINT JWS with its Ed25519 node key.
    pub fn pint_signing(&self) -> PathBuf {
        self.pint().join("signing")
    }

    /// Additional documents of accepted PINT transfers, named by their SHA-256.
    pub fn pint_documents(&self) -> PathBuf {
        self.pint().join("documents")
    }

    /// The node's own key (hex seed, 0600): it signs blocks, statements and PINT answers, and seals checkpoints.
    pub fn node_key(&self) -> PathBuf {
        self.0.join("node.key")
    }

    /// Written by `ebl-node init --join`: this node's key is no genesis member's; it joins once
    /// governance admits its member.
    pub fn join_marker(&self) -> PathBuf {
        self.0.join("join")
    }
    /// Present when the node is an auditor's, following the consortium as a learner: the auditor's
    /// grant (`ebl party grant-follow`), as `init --follow` copied it.
    pub fn follow_grant(&self) -> PathBuf {
        self.0.join("follow.grant")
    }
    /// Written only when the node initialized itself for a first try: the operator key of that chain.
    pub fn operator_key(&self) -> PathBuf {
        self.0.join("operator.key")
    }

    /// Where a running node says it serves its API (`http://127.0.0.1:7878`): written once it listens,
    /// removed when it stops, so `ebl-node verify` beside it knows whom to ask.
    pub fn listening(&self) -> PathBuf {
        self.0.join("listening")
    }

    /// The certificate chain (PEM) the node serves TLS with, when it has one.
    pub fn tls_cert(&self) -> PathBuf {
        self.0.join("tls").join("cert.pem")
    }

    /// The private key (PEM) of [`DataDir::tls_cert`].
    pub fn tls_key(&self) -> PathBuf {
        self.0.join("tls").join("key.pem")
    }

    /// Certificates (PEM) this node trusts when it calls the other members' nodes over TLS: their
    /// development certificates, or the CA that signed them.
    pub fn tls_peers(&self) -> PathBuf {
        self.0.join("tls").join("peers.pem")
    }
}

use crate::api::now_ms;

/// Creates a new one-member ledger in `dir`: a node key and the genesis naming `operator` as the one
/// member's admin, with PINT platform code `platform`.
pub fn init(
    dir: &DataDir,
    chain_name: &str,
    operator: PartyKey,
    platform: &str,
) -> Result<Genesis, NodeError> {
    let node_key = node_key(dir)?;
    let genesis = Genesis::single(
        chain_name,
        operator,
        PartyKey::of(&node_key),
        platform,
        now_ms(),
    )?;
    init_from(dir, &genesis)?;
    Ok(genesis)
}

/// The node key in `dir`, made (and saved) if there is none yet: a member makes it before the genesis
/// that names it is written.
pub fn node_key(dir: &DataDir) -> Result<SigningKey, NodeError> {
    if dir.node_key().exists() {
        return keyfile::read(&dir.node_key());
    }
    std::fs::create_dir_all(&dir.0)
        .map_err(|e| NodeError::io(format!("creating {}", dir.0.display()), e))?;
    let key = keyfile::generate()?;
    keyfile::write(&dir.node_key(), &key)?;
    Ok(key)
}

/// Initialises the store in `dir` from a genesis whose members include this directory's node key.
pub fn init_from(dir: &DataDir, genesis: &Genesis) -> Result<(), NodeError> {
    genesis.check()?;
    let key = node_key(dir)?;
    if genesis.member_by_node(&PartyKey::of(&key)).is_none() {
        return Err(NodeError::NotAMember(dir.node_key()));
    }
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    if let Some(g) = store.genesis()? {
        return Err(StoreError::AlreadyInitialized(g.chain_id().to_hex()).into());
    }
    store.init(genesis)?;
    drop(store);
    crate::private::make_private(&dir.0)
}

/// Initialises the store in `dir` for a node that joins a running cluster: its key is no genesis
/// member's, so it waits (as a learner) for governance to admit it.
pub fn init_joining(dir: &DataDir, genesis: &Genesis) -> Result<(), NodeError> {
    genesis.check()?;
    if genesis.members.len() < 2 {
        return Err(NodeError::JoinAlone);
    }
    let key = node_key(dir)?;
    if genesis.member_by_node(&PartyKey::of(&key)).is_some() {
        return Err(NodeError::JoinAsMember);
    }
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    if let Some(g) = store.genesis()? {
        return Err(StoreError::AlreadyInitialized(g.chain_id().to_hex()).into());
    }
    store.init(genesis)?;
    drop(store);
    std::fs::write(dir.join_marker(), b"joining\n")
        .map_err(|e| NodeError::io(format!("writing {}", dir.join_marker().display()), e))?;
    crate::private::make_private(&dir.0)
}

/// Makes `dir` an auditor's node that follows the consortium of `genesis` as a learner, by the
/// auditor's grant (the file `ebl party grant-follow` wrote): the grant must name this chain and this node's
/// key. Whether the auditor is one is the member nodes' to judge, on their registry, when the node
/// sends the grant.
pub fn init_following(
    dir: &DataDir,
    genesis: &Genesis,
    grant: &[u8],
) -> Result<ebl_core::FollowGrant, NodeError> {
    genesis.check()?;
    if genesis.members.len() < 2 {
        return Err(NodeError::JoinAlone);
    }
    let parsed = ebl_core::FollowGrant::from_file(grant)?;
    if parsed.chain != genesis.chain_id() {
        return Err(NodeError::GrantMismatch {
            what: "another chain",
        });
    }
    let key = node_key(dir)?;
    if parsed.body.node != PartyKey::of(&key) {
        return Err(NodeError::GrantMismatch {
            what: "another node key",
        });
    }
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    if let Some(g) = store.genesis()? {
        return Err(StoreError::AlreadyInitialized(g.chain_id().to_hex()).into());
    }
    store.init(genesis)?;
    drop(store);
    std::fs::write(dir.follow_grant(), grant)
        .map_err(|e| NodeError::io(format!("writing {}", dir.follow_grant().display()), e))?;
    crate::private::make_private(&dir.0)?;
    Ok(parsed)
}

/// The grant an auditor's node follows by, if it is one.
pub fn follow_grant(dir: &DataDir) -> Result<Option<ebl_core::FollowGrant>, NodeError> {
    match std::fs::read(dir.follow_grant()) {
        Ok(text) => Ok(Some(ebl_core::FollowGrant::from_file(&text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(NodeError::io(
            format!("reading {}", dir.follow_grant().display()),
            e,
        )),
    }
}

/// Limits a node runs with; the defaults are the named constants in [`crate::limits`], and tests lower
/// them to reach each boundary quickly.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Most transactions waiting to be ordered (`PENDING_TRANSACTIONS_MAX`).
    pub pending_transactions_max: usize,
    /// Most open client connections (`CONNECTIONS_MAX`).
    pub connections_max: usize,
    /// Most open connections from one address (`CONNECTIONS_PER_ADDRESS_MAX`).
    pub connections_per_address_max: usize,
    /// How long an idle connection is kept (`CONNECTION_IDLE_MS`).
    pub connection_idle_ms: u64,
    /// How long a client has to send a request's whole header (`HEADER_READ_MS`).
    pub header_read_ms: u64,
    /// How long a PINT envelope transfer may stay open (`pint::TRANSFER_OPEN_MS_MAX`).
    pub pint_transfer_open_ms: u64,
    /// Transactions between two state checkpoints (`CHECKPOINT_TRANSACTIONS`).
    pub checkpoint_transactions: usize,
    /// How long one request may take (`REQUEST_TIMEOUT_MS`).
    pub request_timeout_ms: u64,
    /// The newest chain format this node orders: its release's own (`FORMAT_VERSION`). The binary
    /// has no flag for it; a test sets another to play a release that knows more formats, or fewer.
    pub newest_format: u16,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            pending_transactions_max: PENDING_TRANSACTIONS_MAX,
            connections_max: CONNECTIONS_MAX,
            connections_per_address_max: CONNECTIONS_PER_ADDRESS_MAX,
            connection_idle_ms: CONNECTION_IDLE_MS,
            header_read_ms: HEADER_READ_MS,
            pint_transfer_open_ms: crate::pint::TRANSFER_OPEN_MS_MAX,
            checkpoint_transactions: CHECKPOINT_TRANSACTIONS,
            request_timeout_ms: REQUEST_TIMEOUT_MS,
            newest_format: ebl_core::format::FORMAT_VERSION,
        }
    }
}

/// A started node: the shared application state and the sequencer thread.
#[derive(Debug)]
pub struct Running<K: Kv> {
    /// What the handlers share: the store, the published state, the queue to the sequencer, ...
    pub app: Arc<App<K>>,
    /// The limits it runs with.
    pub settings: Settings,
    sequencer: JoinHandle<Result<(), StoreError>>,
}

/// Loads the ledger from `store` and starts the sequencer, with the default limits.
pub fn start<K: Kv>(store: LedgerStore<K>, node_key: SigningKey) -> Result<Running<K>, NodeError> {
    start_with(store, node_key, Settings::default())
}

/// Loads the ledger from `store` and starts the sequencer, receiving no PINT transfers (trusting nobody).
pub fn start_with<K: Kv>(
    store: LedgerStore<K>,
    node_key: SigningKey,
    settings: Settings,
) -> Result<Running<K>, NodeError> {
    start_receiving(store, node_key, settings, Receiver::default())
}

/// Loads the ledger from `store` and starts the sequencer, with a PINT receiver.
pub fn start_receiving<K: Kv>(
    store: LedgerStore<K>,
    node_key: SigningKey,
    settings: Settings,
    pint: Receiver,
) -> Result<Running<K>, NodeError> {
    let consensus = ebl_consensus::solo::start(store, &node_key, &options(&settings))?;
    Ok(running(
        consensus,
        settings,
        node_key,
        pint,
        PeerTls::default(),
    ))
}

/// What ordering is started with, of the node's settings.
fn options(settings: &Settings) -> ebl_consensus::Options {
    ebl_consensus::Options {
        pending_transactions_max: settings.pending_transactions_max,
        checkpoint_transactions: settings.checkpoint_transactions,
        newest_format: settings.newest_format,
        clock: Arc::new(ebl_consensus::clock::SystemClock),
    }
}

/// The node around its ordering, one way for both: the state the handlers share, built once.
fn running<K: Kv>(
    consensus: ebl_consensus::Consensus<K>,
    settings: Settings,
    node_key: SigningKey,
    mut pint: Receiver,
    peer_tls: PeerTls,
) -> Running<K> {
    let ebl_consensus::Consensus {
        store,
        published,
        submissions,
        metrics,
        cluster,
        thread,
    } = consensus;
    {
        let state = published
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pint.platform = state.ledger.genesis().platform.clone();
    }
    pint.transfer_open_ms = settings.pint_transfer_open_ms;
    Running {
        app: Arc::new(App {
            store,
            published,
            submissions,
            queue: Arc::new(Semaphore::new(settings.pending_transactions_max)),
            checks: crate::checks::SignatureChecks::new(crate::checks::default_lanes()),
            metrics,
            node_key,
            pint,
            seen_requests: crate::auth::SeenRequests::default(),
            seen_peer_requests: crate::auth::SeenRequests::with_limits(
                crate::limits::SEEN_PEER_REQUESTS_MAX,
                crate::limits::SEEN_PEER_REQUESTS_MAX,
            ),
            cluster,
            peer_tls,
            verifications: crate::admin::Verifications::default(),
            backups: crate::admin::Backups::default(),
            registry_index: std::sync::Mutex::default(),
        }),
        settings,
        sequencer: thread,
    }
}

/// Opens the node in `dir`: its sled store and node key.
pub fn open(dir: &DataDir) -> Result<Running<SledKv>, NodeError> {
    open_with(dir, Settings::default())
}

/// Opens the node in `dir` with the given limits.
pub fn open_with(dir: &DataDir, settings: Settings) -> Result<Running<SledKv>, NodeError> {
    crate::private::make_private(&dir.0)?;
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    let key = keyfile::read(&dir.node_key())?;
    let trust = Receiver::load_trust(&dir.pint_trust())?;
    // The platform code is the genesis's (sealed in the store, part of the chain id).
    let mut pint = Receiver::new(
        ebl_pint::PLATFORM_CODE_DEFAULT.to_owned(),
        trust,
        Some(dir.pint()),
    );
    pint.trust_dir = Some(dir.pint_trust());
    pint.signer = Receiver::load_signer(&dir.pint_signing())?;
    let running = start_receiving(store, key, settings, pint).map_err(|e| match e {
        NodeError::Consensus(ConsensusError::WrongNodeKey(_)) => {
            NodeError::Consensus(ConsensusError::WrongNodeKey(dir.node_key()))
        }
        other => other,
    })?;
    running.app.backups.serve_from(dir.clone());
    Ok(running)
}

/// Opens the node in `dir` as its genesis wants it: the one member's node alone, or a member node of
/// the cluster of several. Call inside a tokio runtime.
pub async fn open_member(
    dir: &DataDir,
    settings: Settings,
    timing: ebl_consensus::cluster::Timing,
) -> Result<Running<SledKv>, NodeError> {
    crate::private::make_private(&dir.0)?;
    let store = LedgerStore::new(SledKv::open(&dir.store())?);
    let genesis = store.genesis()?.ok_or(StoreError::NotInitialized)?;
    if genesis.members.len() < 2 {
        drop(store);
        return open_with(dir, settings);
    }
    let key = keyfile::read(&dir.node_key())?;
    let trust = Receiver::load_trust(&dir.pint_trust())?;
    let mut pint = Receiver::new(
        ebl_pint::PLATFORM_CODE_DEFAULT.to_owned(),
        trust,
        Some(dir.pint()),
    );
    pint.trust_dir = Some(dir.pint_trust());
    pint.signer = Receiver::load_signer(&dir.pint_signing())?;
    let peer_tls = PeerTls::load(&dir.tls_peers())?;
    let files = ebl_consensus::cluster::ClusterFiles {
        raft: dir.0.join("raft"),
        evidence: dir.0.join("evidence"),
        join: dir.join_marker(),
        follow: follow_grant(dir)?,
        transport: Arc::new(crate::peer_client::HttpPeers::new(peer_tls.clone())),
        pint_trust: pint.trust.clone(),
    };
    let consensus = ebl_consensus::cluster::start(store, &key, &options(&settings), files, timing)
        .await
        .map_err(|e| match e {
            ConsensusError::NotAMember(_) => ConsensusError::NotAMember(dir.node_key()),
            other => other,
        })?;
    let running = running(consensus, settings, key, pint, peer_tls);
    running.app.backups.serve_from(dir.clone());
    Ok(running)
}

/// Serves HTTP until `shutdown` resolves, then finishes in-flight requests, lets the sequencer make its
/// last block durable, and returns.
pub async fn serve<K: Kv>(
    listener: TcpListener,
    metrics: Option<TcpListener>,
    running: Running<K>,
    tls: Option<Arc<rustls::ServerConfig>>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), NodeError> {
    let app = running.app.clone();
    // Metrics on a listener of their own (loopback by default), so the operator's scraper needs no key
    // and the API's clients see none of them. It ends with the process.
    if let Some(metrics) = metrics {
        let routes = crate::api::metrics_router(app.metrics.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(metrics, routes).await {
                tracing::warn!(error = %e, "the metrics listener stopped");
            }
        });
    }
    // The PINT sender works through the bills being sent; it holds no transaction queue of its own,
    // so stopping it below lets the sequencer drain.
    let sender = tokio::spawn(crate::pint::sender::run(app.clone()));
    let limit_ms = running.settings.request_timeout_ms;
    let routes = router(app)
        .layer(axum::middleware::from_fn(move |request, next| {
            timeout(limit_ms, request, next)
        }))
        .layer(axum::middleware::map_response(close_after_unread_body));
    crate::server::serve_connections(
        LimitedListener::new(
            listener,
            crate::listener::ConnectionLimits {
                max: running.settings.connections_max,
                per_address_max: running.settings.connections_per_address_max,
                idle_ms: running.settings.connection_idle_ms,
            },
        ),
        routes,
        crate::server::Transport {
            tls,
            header_read_ms: running.settings.header_read_ms,
        },
        limit_ms,
        shutdown,
    )
    .await;
    sender.abort();
    let _ = sender.await;
    stop(running).await
}

/// Drops the last sender and waits for the sequencer to drain.
pub async fn stop<K: Kv>(running: Running<K>) -> Result<(), NodeError> {
    let Running { app, sequencer, .. } = running;
    let cluster = app.cluster.clone();
    drop(app);
    // Raft first: an orderer waiting on a proposal is then answered, and can drain and checkpoint.
    if let Some(cluster) = cluster {
        if let Err(e) = cluster.raft.shutdown().await {
            tracing::warn!(error = %e, "Raft did not shut down cleanly");
        }
    }
    tokio::task::spawn_blocking(move || sequencer.join())
        .await
        .map_err(|_| NodeError::Thread("the wait for the sequencer's thread was cancelled"))?
        .map_err(|_| NodeError::Thread("the sequencer's thread panicked"))?
        .map_err(NodeError::Store)
}

/// An early refusal leaves bytes on the connection (a body refused unread, 413; headers refused, 431) or
/// asks the client to come back later (503): the answer says `connection: close`, so the client knows to
/// open a new connection rather than find this one reset under its next request.
async fn close_after_unread_body(
    mut response: axum::response::Response,
) -> axum::response::Response {
    use axum::http::StatusCode;
    if matches!(
        response.status(),
        StatusCode::PAYLOAD_TOO_LARGE
            | StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            | StatusCode::SERVICE_UNAVAILABLE
    ) {
        response.headers_mut().insert(
            axum::http::header::CONNECTION,
            axum::http::HeaderValue::from_static("close"),
        );
    }
    response
}

/// Cuts off a request (its body included) that takes longer than `limit_ms`.
async fn timeout(
    limit_ms: u64,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match tokio::time::timeout(
        std::time::Duration::from_millis(limit_ms),
        next.run(request),
    )
    .await
    {
        Ok(response) => response,
        Err(_) => crate::api::ApiError::from(crate::refusal::RequestRefusal::RequestTimeout(
            String::from(&format!("the request took longer than {limit_ms} ms")),
        ))
        .into_response(),
    }
}

/// The data directory a node uses when none is given.
pub fn default_data_dir() -> DataDir {
    DataDir(Path::new("ebl-data").to_owned())
}
