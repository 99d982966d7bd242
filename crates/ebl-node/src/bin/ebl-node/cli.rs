//! `ebl-node`'s command line: its commands and their flags, as clap reads them.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Parser, Subcommand};
use tracing::Level;

#[derive(Parser, Debug)]
#[command(
    name = "ebl-node",
    version,
    about = "A node of the ebl ledger of electronic bills of lading"
)]
pub(crate) struct Cli {
    /// The node's data directory (store, node key).
    #[arg(long, global = true, env = "EBL_DATA", default_value = "ebl-data")]
    pub(crate) data: PathBuf,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    pub(crate) log_json: bool,
    /// Least severe log level shown: error, warn, info, debug or trace.
    #[arg(long, global = true, default_value = "info")]
    pub(crate) log_level: Level,
    /// The language of messages for people: en or zh (default: EBL_LANG, else from LC_ALL, LC_MESSAGES
    /// or LANG). Error codes, --json output and logs are the same in every language.
    #[arg(long, global = true, env = "EBL_LANG")]
    pub(crate) lang: Option<ebl_words::lang::Lang>,
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub(crate) enum Command {
    /// Create a new ledger: a one-member genesis naming the operator (the default), or, with
    /// --genesis, the consortium genesis every member's node is initialised from.
    Init {
        /// A consortium genesis file written by `ebl-node genesis`; this directory's node key must be
        /// one of its members' node keys (`ebl-node node-key` makes it).
        #[arg(long, conflicts_with_all = ["operator", "chain_name", "platform"])]
        genesis: Option<PathBuf>,
        /// With --genesis: this node's key is no genesis member's; the node joins the running cluster
        /// once governance admits its member (`ebl gov add-member`) and catches up from the others.
        #[arg(long, requires = "genesis")]
        join: bool,
        /// With --genesis: this node is an auditor's and follows the consortium as a learner, by the
        /// auditor's grant (`ebl party grant-follow`, naming this node's key); it votes on nothing and
        /// serves at the grant's peer address.
        #[arg(
            long,
            value_name = "GRANT",
            requires = "genesis",
            conflicts_with = "join"
        )]
        follow: Option<PathBuf>,
        /// Name of the chain, part of its identity.
        #[arg(long, default_value = "ebl-dev")]
        chain_name: String,
        /// The operator's public key (hex), e.g. `$(ebl key show operator)`. Without it, a new
        /// operator key is made and its seed printed once, for trying the node out; it is not kept.
        #[arg(long)]
        operator: Option<String>,
        /// Also make a self-signed development certificate and key (tls/cert.pem, tls/key.pem), which
        /// `run` then serves TLS with; give it to wallets with `ebl --node-cert`.
        #[arg(long)]
        tls_self_signed: bool,
        /// A host name or IP address the development certificate is for (repeat); default
        /// localhost, 127.0.0.1 and ::1, plus this member's peer host in a consortium genesis.
        #[arg(long = "tls-name", value_name = "NAME", requires = "tls_self_signed")]
        tls_names: Vec<String>,
        /// This platform's DCSA PINT code (eblPlatform, 1 to 4 characters), as other platforms know
        /// it. Kept in pint/platform in the data directory.
        #[arg(long, default_value = ebl_pint::PLATFORM_CODE_DEFAULT, value_parser = platform_code)]
        platform: String,
    },
    /// Print this node's public key, making the key (node.key in the data directory) if there is none:
    /// a member sends it to whoever writes the genesis.
    NodeKey {
        /// Print it as the JWK other PINT platforms trust it by (`pint/trust/<OUR CODE>/` on theirs).
        #[arg(long)]
        jwk: bool,
    },
    /// Write a consortium genesis from the members' public keys, and print its chain id for the members
    /// to compare.
    Genesis {
        /// A member as NAME,ADMIN_KEY,NODE_KEY,HOST:PORT (public keys in hex). Repeat for each.
        #[arg(long = "member", required = true, value_name = "MEMBER")]
        members: Vec<String>,
        /// Admin signatures a governance change needs (t of n); default a majority.
        #[arg(long)]
        threshold: Option<u16>,
        /// How many member nodes may lie (f); a block and a status statement are final at
        /// ⌊(n+f)/2⌋+1 member nodes' signatures. Default 1 from three members on, else 0.
        #[arg(long)]
        faults: Option<u16>,
        #[arg(long, default_value = "ebl-consortium")]
        chain_name: String,
        /// The consortium's DCSA PINT platform code (1 to 4 characters).
        #[arg(long, default_value = ebl_pint::PLATFORM_CODE_DEFAULT, value_parser = platform_code)]
        platform: String,
        /// Where to write the genesis (JSON).
        #[arg(short, long)]
        out: PathBuf,
    },
    /// Serve the ledger over HTTP (the default command). Initializes a development ledger if the data
    /// directory is empty.
    Run(RunArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell) to standard output.
    Completions { shell: clap_complete::Shell },
    /// Replay the stored ledger from the genesis and check every record, hash, signature, Merkle root and
    /// rule. Beside a running node (its store is locked) it asks that node to verify itself, signing with
    /// the node key, and the node replays its own store while it goes on serving. Exit codes: 0 sound; 1
    /// at the first fault (which it names); 2 bad usage; 3 the data directory cannot be read (no node
    /// key, an unreadable store); 4 the store is in use and the node using it could not be asked
    /// (store_in_use: give its address with --node, or stop it and verify again).
    Verify {
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
        /// The running node to ask when its store is in use [default: the address it wrote in
        /// <data>/listening].
        #[arg(long)]
        node: Option<String>,
    },
    /// Write a backup of the node in --data to a new file: its ledger (every block with its
    /// transactions and certificate, up to the head at the start) and its files (node key, TLS, PINT).
    /// Beside a running node it asks that node to write it, which goes on serving meanwhile. The file
    /// holds the node's private key: keep it as you keep the data directory. Exit codes: 0 written; 2
    /// bad usage; 3 not written (the code says why: backup_exists, storage_corrupt, ...); 4 the store
    /// is in use and the node using it could not be asked; 5 a format this release does not read.
    Backup {
        /// The backup file to write (it must not exist).
        #[arg(long)]
        to: PathBuf,
        /// The running node to ask when its store is in use [default: the address it wrote in
        /// <data>/listening].
        #[arg(long)]
        node: Option<String>,
        /// Print what was written as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the running node of --data (where it wrote it listens, or --node): its role, term and
    /// leader, its head, and for a leader each peer's replication lag and last contact. Exit codes: 0
    /// shown; 3 the data directory cannot be read (no node key); 4 the node could not be asked.
    Status {
        /// Print it as JSON.
        #[arg(long)]
        json: bool,
        /// The running node to ask [default: the address it wrote in <data>/listening].
        #[arg(long)]
        node: Option<String>,
    },
    /// Rewrite the stopped node's data directory in this release's store layout, keeping the old one
    /// beside it (DATA.previous-layout-N) as the way back until you remove it. Never needed (every
    /// release opens older layouts in place); it leaves nothing of the old layouts in the store. The new
    /// directory is verified before anything is moved; a kill at any moment leaves the old directory in
    /// place, or the new one complete beside it, which the next run puts in place. Exit codes: 0 done
    /// (or nothing to do); 3 not done (the code says why); 5 a format this release does not read.
    Upgrade {
        /// Print what was done as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Restore a backup into --data, a new (or empty) data directory: the backup is checked whole, the
    /// ledger written and verified from its genesis, and only then put in place; then `ebl-node run`
    /// serves it. Exit codes: 0 restored; 2 bad usage; 3 not restored (backup_truncated,
    /// backup_damaged, restore_target_not_empty, or the verify's code); 5 a format this release does
    /// not read.
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// Print what was restored as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args, Debug)]
pub(crate) struct RunArgs {
    /// Address to listen on [default: a cluster member's peer address from the genesis, otherwise
    /// 127.0.0.1:7878].
    #[arg(long, env = "EBL_LISTEN")]
    pub(crate) listen: Option<SocketAddr>,
    /// Most client connections open at once; further ones wait to be accepted.
    #[arg(long, default_value_t = ebl_node::limits::CONNECTIONS_MAX)]
    pub(crate) connections_max: usize,
    /// Most connections open at once from one address; more are closed as they arrive.
    #[arg(long, default_value_t = ebl_node::limits::CONNECTIONS_PER_ADDRESS_MAX)]
    pub(crate) connections_per_address_max: usize,
    /// Milliseconds a connection may sit with nothing sent or received before it is closed.
    #[arg(long, default_value_t = ebl_node::limits::CONNECTION_IDLE_MS)]
    pub(crate) idle_timeout_ms: u64,
    /// Milliseconds a client has to send a whole request header (and finish a TLS handshake).
    #[arg(long, default_value_t = ebl_node::limits::HEADER_READ_MS)]
    pub(crate) header_timeout_ms: u64,
    /// The certificate chain (PEM) to serve TLS with [default: tls/cert.pem in the data directory,
    /// if it exists].
    #[arg(long, env = "EBL_TLS_CERT", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM) [default: tls/key.pem in the data directory].
    #[arg(long, env = "EBL_TLS_KEY", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address other than loopback: everything crosses the network readable.
    #[arg(long)]
    pub(crate) insecure_plain_http: bool,
    /// Where Prometheus metrics are served, apart from the API (port 0: any free port, printed).
    #[arg(long, env = "EBL_METRICS_LISTEN", default_value = "127.0.0.1:0")]
    pub(crate) metrics_listen: SocketAddr,
    /// The longest round trip between two members, in milliseconds (measure it with `ebl-node status`
    /// on the leader): the heartbeat and election timeouts are derived from it, so that every member's
    /// appends are answered in time. 0: members on one site (heartbeat 60 ms, elections after 300 to
    /// 600 ms). Give every member the same value.
    #[arg(long, env = "EBL_ROUND_TRIP_MS", default_value_t = 0)]
    pub(crate) round_trip_ms: u64,
    /// A cluster member's Raft log entries between snapshots; the log before a snapshot is purged
    /// but for `--raft-keep-entries`, and a node that missed purged entries catches up from peers.
    #[arg(long, default_value_t = ebl_consensus::cluster::Timing::default().snapshot_entries)]
    pub(crate) raft_snapshot_entries: u64,
    /// Raft log entries kept behind the last snapshot.
    #[arg(long, default_value_t = ebl_consensus::cluster::Timing::default().keep_entries)]
    pub(crate) raft_keep_entries: u64,
}

/// The command line, with `run` supplied when no command is given, so that `ebl-node` alone reads
/// `run`'s flags from the environment (`EBL_LISTEN`, ...) exactly as `ebl-node run` does.
pub(crate) fn parse() -> Result<Cli, clap::Error> {
    let cli = Cli::try_parse()?;
    if cli.command.is_some() {
        return Ok(cli);
    }
    Cli::try_parse_from(std::env::args_os().chain([std::ffi::OsString::from("run")]))
}

/// Refuses a platform code PINT's schema would refuse, as a usage error.
pub(crate) fn platform_code(code: &str) -> Result<String, ebl_core::Error> {
    ebl_pint::check_platform_code(code).map(|()| code.to_owned())
}
