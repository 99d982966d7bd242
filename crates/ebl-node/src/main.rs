//! The `ebl-node` command: `init` a ledger, `run` the node, `verify` what it stored.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use ebl_core::PartyKey;
use ebl_node::{keyfile, DataDir};
use tracing::Level;

/// `println!` for a program whose output may be cut short (`ebl-node init … | head -1`): a closed stdout
/// ends the process quietly with success, as Unix tools end, instead of a panic with a backtrace (issue
/// 35). Any other write error is left to the next write.
macro_rules! say {
    ($($arg:tt)*) => {{
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

/// Exit codes: 0 success; 1 verification found a fault; 2 bad usage or input; 3 IO or storage failure;
/// 4 (verify) in use by a node it could not ask; 5 a format this release does not read.
const EXIT_FAULT: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_IO: u8 = 3;
/// `verify` found the store locked by a running node.
const EXIT_IN_USE: u8 = 4;
/// The data directory is in a format this release does not read (`format_too_old`, `format_too_new`):
/// nothing is wrong with it, and nothing of it was changed; the message names the release that reads it.
const EXIT_FORMAT: u8 = 5;

/// The format refusal behind a failure, if that is what it is.
fn format_refusal(e: &anyhow::Error) -> Option<&ebl_store::StoreError> {
    e.chain().find_map(|c| {
        c.downcast_ref::<ebl_store::StoreError>()
            .or_else(|| match c.downcast_ref::<ebl_node::NodeError>() {
                Some(ebl_node::NodeError::Store(s)) => Some(s),
                _ => None,
            })
            .filter(|s| matches!(s, ebl_store::StoreError::Format(_)))
    })
}

#[derive(Parser, Debug)]
#[command(
    name = "ebl-node",
    version,
    about = "A node of the ebl ledger of electronic bills of lading"
)]
struct Cli {
    /// The node's data directory (store, node key).
    #[arg(long, global = true, env = "EBL_DATA", default_value = "ebl-data")]
    data: PathBuf,
    /// Log as JSON lines instead of human-readable text.
    #[arg(long, global = true)]
    log_json: bool,
    /// Least severe log level shown: error, warn, info, debug or trace.
    #[arg(long, global = true, default_value = "info")]
    log_level: Level,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
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
struct RunArgs {
    /// Address to listen on [default: a cluster member's peer address from the genesis, otherwise
    /// 127.0.0.1:7878].
    #[arg(long, env = "EBL_LISTEN")]
    listen: Option<SocketAddr>,
    /// Most client connections open at once; further ones wait to be accepted.
    #[arg(long, default_value_t = ebl_node::limits::CONNECTIONS_MAX)]
    connections_max: usize,
    /// Most connections open at once from one address; more are closed as they arrive.
    #[arg(long, default_value_t = ebl_node::limits::CONNECTIONS_PER_ADDRESS_MAX)]
    connections_per_address_max: usize,
    /// Milliseconds a connection may sit with nothing sent or received before it is closed.
    #[arg(long, default_value_t = ebl_node::limits::CONNECTION_IDLE_MS)]
    idle_timeout_ms: u64,
    /// Milliseconds a client has to send a whole request header (and finish a TLS handshake).
    #[arg(long, default_value_t = ebl_node::limits::HEADER_READ_MS)]
    header_timeout_ms: u64,
    /// The certificate chain (PEM) to serve TLS with [default: tls/cert.pem in the data directory,
    /// if it exists].
    #[arg(long, env = "EBL_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM) [default: tls/key.pem in the data directory].
    #[arg(long, env = "EBL_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Serve plain HTTP on an address other than loopback: everything crosses the network readable.
    #[arg(long)]
    insecure_plain_http: bool,
    /// Where Prometheus metrics are served, apart from the API (port 0: any free port, printed).
    #[arg(long, env = "EBL_METRICS_LISTEN", default_value = "127.0.0.1:0")]
    metrics_listen: SocketAddr,
    /// A cluster member's Raft log entries between snapshots; the log before a snapshot is purged
    /// but for `--raft-keep-entries`, and a node that missed purged entries catches up from peers.
    #[arg(long, default_value_t = ebl_node::cluster::Timing::default().snapshot_entries)]
    raft_snapshot_entries: u64,
    /// Raft log entries kept behind the last snapshot.
    #[arg(long, default_value_t = ebl_node::cluster::Timing::default().keep_entries)]
    raft_keep_entries: u64,
}

/// The command line, with `run` supplied when no command is given, so that `ebl-node` alone reads
/// `run`'s flags from the environment (`EBL_LISTEN`, ...) exactly as `ebl-node run` does.
fn parse() -> Result<Cli, clap::Error> {
    let cli = Cli::try_parse()?;
    if cli.command.is_some() {
        return Ok(cli);
    }
    Cli::try_parse_from(std::env::args_os().chain([std::ffi::OsString::from("run")]))
}

fn main() -> ExitCode {
    // Everything this process makes is its account's alone: sled's files, the Raft log, the index runs,
    // snapshots, backups (finding 10 of the attack review: some were 0644 and 0755).
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    let cli = match parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(EXIT_USAGE)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    // openraft narrates its internal state at info (issue 35: 58 of a cluster node's 68 lines): the
    // operator sees its warnings, and the rest from --log-level debug.
    let openraft = if cli.log_level >= tracing::Level::DEBUG {
        cli.log_level
    } else {
        cli.log_level.min(tracing::Level::WARN)
    };
    let targets = tracing_subscriber::filter::Targets::new()
        .with_default(cli.log_level)
        .with_target("openraft", openraft);
    let builder = tracing_subscriber::fmt()
        .with_max_level(cli.log_level)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        if cli.log_json {
            builder.json().finish().with(targets).init();
        } else {
            builder.finish().with(targets).init();
        }
    }
    let dir = DataDir(cli.data.clone());
    let Some(command) = cli.command else {
        eprintln!("error: no command");
        return ExitCode::from(EXIT_USAGE);
    };
    let result = match command {
        Command::Init {
            genesis: Some(file),
            join,
            tls_self_signed,
            tls_names,
            ..
        } => init_from(&dir, &file, join)
            .and_then(|peer_host| self_signed(&dir, tls_self_signed, tls_names, peer_host)),
        Command::Init {
            genesis: None,
            chain_name,
            operator,
            platform,
            tls_self_signed,
            tls_names,
            ..
        } => init(&dir, &chain_name, operator.as_deref(), &platform)
            .and_then(|()| self_signed(&dir, tls_self_signed, tls_names, None)),
        Command::NodeKey { jwk } => ebl_node::node_key(&dir)
            .map(|key| {
                let public = PartyKey::of(&key);
                if jwk {
                    say!("{}", ebl_pint::public_jwk(&public));
                } else {
                    say!("{public}");
                }
            })
            .map_err(Into::into),
        Command::Genesis {
            members,
            threshold,
            faults,
            chain_name,
            platform,
            out,
        } => write_genesis(&members, threshold, faults, &chain_name, &platform, &out),
        Command::Run(args) => run(&dir, args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "ebl-node",
                &mut std::io::stdout(),
            );
            Ok(())
        }
        Command::Verify { json, node } => return verify(&dir, json, node.as_deref()),
        Command::Backup { to, node, json } => return backup(&dir, &to, node.as_deref(), json),
        Command::Restore { from, json } => return restore(&dir, &from, json),
        Command::Upgrade { json } => return upgrade(&dir, json),
        Command::Status { json, node } => return status(&dir, json, node.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(refusal) = format_refusal(&e) {
                eprintln!("error: {e:#} [{}]", refusal.code());
                return ExitCode::from(EXIT_FORMAT);
            }
            // A refusal with a stable code says it, as the wallet's errors do, for scripts to match.
            let code = e.chain().find_map(|c| {
                c.downcast_ref::<ebl_node::tls::TlsError>()
                    .map(ebl_node::tls::TlsError::code)
                    .or_else(|| {
                        c.downcast_ref::<ebl_node::NodeError>()
                            .and_then(|n| match n {
                                ebl_node::NodeError::Tls(t) => Some(t.code()),
                                ebl_node::NodeError::RaftStateLost { .. } => {
                                    Some("raft_state_lost")
                                }
                                _ => None,
                            })
                    })
            });
            match code {
                Some(code) => eprintln!("error: {e:#} [{code}]"),
                None => eprintln!("error: {e:#}"),
            }
            let usage = code.is_some()
                || e.chain()
                    .any(|c| c.downcast_ref::<ebl_core::Error>().is_some());
            ExitCode::from(if usage { EXIT_USAGE } else { EXIT_IO })
        }
    }
}

/// Refuses a platform code PINT's schema would refuse, as a usage error.
fn platform_code(code: &str) -> Result<String, ebl_core::Error> {
    ebl_pint::check_platform_code(code).map(|()| code.to_owned())
}

fn init(
    dir: &DataDir,
    chain_name: &str,
    operator: Option<&str>,
    platform: &str,
) -> anyhow::Result<()> {
    let operator = match operator {
        Some(hex) => hex.parse::<PartyKey>().context("--operator")?,
        None => {
            // Shown once and never written: a governing key left in the data directory is readable by
            // whoever reads the node's disk or its backups.
            let key = keyfile::generate()?;
            let seed = zeroize::Zeroizing::new(ebl_core::bytes::to_hex(&key.to_bytes()));
            eprintln!(
                "made a new operator key; it is shown this once and not kept anywhere. Import it into a wallet now:\n  echo {} | ebl key import operator -",
                seed.as_str()
            );
            PartyKey::of(&key)
        }
    };
    let genesis = ebl_node::init(dir, chain_name, operator, platform)?;
    print_genesis(dir, &genesis);
    Ok(())
}

fn print_genesis(dir: &DataDir, genesis: &ebl_core::Genesis) {
    say!(
        "chain {} initialized in {}",
        genesis.chain_id(),
        dir.0.display()
    );
    for m in &genesis.members {
        say!(
            "member   {} (admin {}, node {}, peers at {})",
            m.name,
            m.admin,
            m.node,
            m.peer_address
        );
    }
    say!(
        "governance {} of {} admins",
        genesis.threshold,
        genesis.members.len()
    );
    say!("platform {} (PINT)", genesis.platform);
}

/// Largest genesis file read.
const GENESIS_FILE_BYTES_MAX: u64 = 1024 * 1024;

fn read_genesis(file: &std::path::Path) -> anyhow::Result<ebl_core::Genesis> {
    let len = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    anyhow::ensure!(
        len <= GENESIS_FILE_BYTES_MAX,
        "{} is {len} bytes, more than a genesis file may be ({GENESIS_FILE_BYTES_MAX})",
        file.display()
    );
    let text = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let genesis: ebl_core::Genesis = serde_json::from_slice(&text)
        .map_err(|e| ebl_core::Error::MalformedJson {
            reason: e.to_string(),
        })
        .with_context(|| format!("{} is not a genesis", file.display()))?;
    genesis.check()?;
    Ok(genesis)
}

/// Initialises from a consortium genesis; returns the host this member's peers reach it at.
fn init_from(dir: &DataDir, file: &std::path::Path, join: bool) -> anyhow::Result<Option<String>> {
    let genesis = read_genesis(file)?;
    if join {
        ebl_node::node::init_joining(dir, &genesis)?;
    } else {
        ebl_node::init_from(dir, &genesis)?;
    }
    print_genesis(dir, &genesis);
    say!("compare the chain id with every other member before you trust it");
    let own = PartyKey::of(&ebl_node::node_key(dir)?);
    Ok(genesis.member_by_node(&own).and_then(|m| {
        m.peer_address.rsplit_once(':').map(|(host, _)| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned()
        })
    }))
}

/// `init --tls-self-signed`: a development certificate for `names` (or this machine's local names and
/// the member's peer host).
fn self_signed(
    dir: &DataDir,
    wanted: bool,
    names: Vec<String>,
    peer_host: Option<String>,
) -> anyhow::Result<()> {
    if !wanted {
        return Ok(());
    }
    let names = if names.is_empty() {
        let mut names = ebl_node::tls::default_names();
        names.extend(peer_host.filter(|h| !names.contains(h)));
        names
    } else {
        names
    };
    ebl_node::tls::write_self_signed(&dir.tls_cert(), &dir.tls_key(), &names)?;
    ebl_node::private::make_private(&dir.0)?;
    say!(
        "development certificate for {} in {} (wallets pin it with --node-cert {})",
        names.join(", "),
        dir.tls_cert().display(),
        dir.tls_cert().display()
    );
    Ok(())
}

fn write_genesis(
    members: &[String],
    threshold: Option<u16>,
    faults: Option<u16>,
    chain_name: &str,
    platform: &str,
    out: &std::path::Path,
) -> anyhow::Result<()> {
    let members = members
        .iter()
        .map(|text| {
            let parts: Vec<&str> = text.split(',').map(str::trim).collect();
            let [name, admin, node, peer] = parts[..] else {
                return Err(ebl_core::Error::MalformedEncoding {
                    reason: format!("member {text:?} is not NAME,ADMIN_KEY,NODE_KEY,HOST:PORT"),
                });
            };
            Ok(ebl_core::Member {
                name: name.to_owned(),
                admin: admin.parse()?,
                node: node.parse()?,
                peer_address: peer.to_owned(),
            })
        })
        .collect::<Result<Vec<_>, ebl_core::Error>>()?;
    let threshold = threshold.unwrap_or(ebl_core::genesis::majority(members.len()));
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0);
    let mut genesis = ebl_core::Genesis::new(chain_name, members, threshold, platform, time)?;
    if let Some(faults) = faults {
        genesis.faults = Some(faults);
        genesis.check()?;
    }
    anyhow::ensure!(
        !out.exists(),
        "{} exists: refusing to overwrite a genesis",
        out.display()
    );
    let text = serde_json::to_vec_pretty(&genesis)?;
    std::fs::write(out, text).with_context(|| format!("writing {}", out.display()))?;
    say!("chain {} written to {}", genesis.chain_id(), out.display());
    say!(
        "{} members, governance {} of {}, finality {} of {} (f = {} lying node(s) tolerated); every member runs `ebl-node init --genesis {}` and compares the chain id",
        genesis.members.len(),
        genesis.threshold,
        genesis.members.len(),
        ebl_core::Registry::new(&genesis).finality_quorum(),
        genesis.members.len(),
        genesis.stated_faults().unwrap_or(0),
        out.display()
    );
    Ok(())
}

/// Where a node listens when not told: a cluster member where the other members reach it (its peer
/// address in the genesis), the one-member chain's node on the usual local port.
fn default_listen(dir: &DataDir) -> anyhow::Result<SocketAddr> {
    let local = SocketAddr::from(([127, 0, 0, 1], 7878));
    let store = ebl_store::LedgerStore::new(ebl_store::SledKv::open(&dir.store())?);
    let Some(genesis) = store.genesis()? else {
        return Ok(local);
    };
    if genesis.members.len() < 2 {
        return Ok(local);
    }
    let key = ebl_node::node_key(dir)?;
    let member = genesis
        .member_by_node(&PartyKey::of(&key))
        .context("this node key is not a member's node key in the genesis")?;
    member.peer_address.parse().with_context(|| {
        format!(
            "the genesis's peer address {:?} is not HOST:PORT",
            member.peer_address
        )
    })
}

fn run(dir: &DataDir, args: RunArgs) -> anyhow::Result<()> {
    let limits = ebl_node::listener::ConnectionLimits {
        max: args.connections_max,
        per_address_max: args.connections_per_address_max,
        idle_ms: args.idle_timeout_ms,
    };
    let timing = ebl_node::cluster::Timing {
        snapshot_entries: args.raft_snapshot_entries.max(1),
        keep_entries: args.raft_keep_entries,
        ..ebl_node::cluster::Timing::default()
    };
    let metrics_listen = args.metrics_listen;
    // Everything that can be refused is checked before anything is made: a busy port or a bad
    // certificate must not leave a new ledger behind.
    let (cert, key) = match (args.tls_cert, args.tls_key) {
        (Some(cert), Some(key)) => (Some(cert), Some(key)),
        _ if dir.tls_cert().exists() => (Some(dir.tls_cert()), Some(dir.tls_key())),
        _ => (None, None),
    };
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(ebl_node::tls::server_config(&cert, &key)?),
        _ => None,
    };
    let fresh = !dir.store().exists();
    let listen = match args.listen {
        Some(listen) => listen,
        None if fresh => SocketAddr::from(([127, 0, 0, 1], 7878)),
        None => default_listen(dir)?,
    };
    if tls.is_none() {
        ebl_node::tls::check_plain(listen, args.insecure_plain_http)?;
    }
    let bound =
        std::net::TcpListener::bind(listen).with_context(|| format!("listening on {listen}"))?;
    bound.set_nonblocking(true)?;
    if fresh {
        tracing::info!(dir = %dir.0.display(), "no ledger here yet: initializing a development ledger");
        init(dir, "ebl-dev", None, ebl_pint::PLATFORM_CODE_DEFAULT)?;
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = ebl_node::Settings {
            connections_max: limits.max.max(1),
            connections_per_address_max: limits.per_address_max.max(1),
            connection_idle_ms: limits.idle_ms.max(1),
            header_read_ms: args.header_timeout_ms.max(1),
            ..ebl_node::Settings::default()
        };
        let running = ebl_node::node::open_member(dir, settings, timing).await?;
        let listener = tokio::net::TcpListener::from_std(bound)?;
        let chain = running
            .app
            .published
            .read()
            .map(|p| p.ledger.chain_id())
            .unwrap_or_default();
        tracing::info!(address = %listener.local_addr()?, %chain, "serving");
        let metrics = tokio::net::TcpListener::bind(metrics_listen)
            .await
            .with_context(|| format!("serving metrics on {metrics_listen}"))?;
        // One line, printed for scripts that start the node on port 0 and need to know where it is.
        say!(
            "listening on {scheme}://{} metrics on http://{}/metrics",
            listener.local_addr()?,
            metrics.local_addr()?
        );
        let _ = std::io::stdout().flush();
        // For `ebl-node verify` beside this node: where to ask (a wildcard address is asked on loopback).
        let mut own = listener.local_addr()?;
        if own.ip().is_unspecified() {
            own.set_ip(match own {
                SocketAddr::V4(_) => std::net::Ipv4Addr::LOCALHOST.into(),
                SocketAddr::V6(_) => std::net::Ipv6Addr::LOCALHOST.into(),
            });
        }
        std::fs::write(dir.listening(), format!("{scheme}://{own}\n"))
            .with_context(|| format!("writing {}", dir.listening().display()))?;
        let served =
            ebl_node::serve(listener, Some(metrics), running, tls, shutdown_signal()).await;
        let _ = std::fs::remove_file(dir.listening());
        served?;
        tracing::info!("stopped; every acknowledged transaction is on disk");
        Ok(())
    })
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {},
                    _ = term.recv() => {},
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("shutting down: finishing in-flight commits");
}

/// Draws verify's progress on standard error, for a person at a terminal only: it redraws itself with
/// `\r`, never into a file or a pipe, and never under `--json`.
#[derive(Debug)]
struct ProgressBar {
    shown: Option<u64>,
    on: bool,
}

impl ProgressBar {
    fn new(json: bool) -> ProgressBar {
        ProgressBar {
            shown: None,
            on: !json && std::io::IsTerminal::is_terminal(&std::io::stderr()),
        }
    }

    fn draw(&mut self, done: u64, total: u64) {
        if !self.on || total == 0 {
            return;
        }
        let percent = done * 100 / total;
        if self.shown != Some(percent) || done == total {
            self.shown = Some(percent);
            let filled = usize::try_from(percent / 5).unwrap_or(20).min(20);
            eprint!(
                "\r[{}{}] {percent:>3}% block {done}/{total}",
                "#".repeat(filled),
                " ".repeat(20 - filled)
            );
            if done == total {
                eprintln!();
            }
        }
    }

    /// Ends a bar cut short, so what follows starts on a line of its own.
    fn end(&self) {
        if self.on && self.shown.is_some() {
            eprintln!();
        }
    }
}

/// Prints a verdict, as text or JSON, and returns the exit code it stands for.
fn print_verdict(verdict: &ebl_node::admin::Verdict, json: bool, by: Option<&str>) -> ExitCode {
    use ebl_node::admin::Verdict;
    if json {
        say!("{}", serde_json::json!(verdict));
    }
    match verdict {
        Verdict::Ok { report } => {
            if !json {
                let by = by.map_or(String::new(), |url| {
                    format!(" by the running node at {url}")
                });
                say!(
                    "ok: chain {} verified{by}, {} blocks, {} transactions, {} bills, {} parties",
                    report.chain,
                    report.blocks,
                    report.transactions,
                    report.bills,
                    report.parties
                );
            }
            ExitCode::SUCCESS
        }
        Verdict::Fault { failure } => {
            if !json {
                say!(
                    "FAULT at {}: {} [{}]",
                    failure.place,
                    failure.message,
                    failure.code
                );
            }
            ExitCode::from(EXIT_FAULT)
        }
    }
}

/// The running node that holds the store (at `node`, or where it said it listens in
/// `<data>/listening`), to be asked with the node key; or, said on standard error, the exit code of not
/// finding it.
fn running_node(
    dir: &DataDir,
    key: ebl_core::SigningKey,
    node: Option<&str>,
    in_use: &ebl_store::StoreError,
) -> Result<(String, ebl_node::operator::Operator), ExitCode> {
    let url = match node {
        Some(url) => url.to_owned(),
        None => match std::fs::read_to_string(dir.listening()) {
            Ok(text) => text.trim().to_owned(),
            Err(_) => {
                eprintln!(
                    "error: {in_use} [{}], and it wrote no address in {}",
                    in_use.code(),
                    dir.listening().display()
                );
                return Err(ExitCode::from(EXIT_IN_USE));
            }
        },
    };
    match ebl_node::operator::Operator::new(&url, key, &dir.tls_cert()) {
        Ok(operator) => Ok((url, operator)),
        Err(e) => {
            eprintln!("error: {e} [{}]", e.code());
            Err(ExitCode::from(EXIT_IO))
        }
    }
}

/// The store is locked by a running node: ask that node (at `node`, or where it said it listens).
fn verify_live(
    dir: &DataDir,
    key: ebl_core::SigningKey,
    node: Option<&str>,
    json: bool,
    in_use: &ebl_store::StoreError,
) -> ExitCode {
    let hint = "  hint: give the running node's address with --node URL, or stop it (SIGTERM lets it finish its last block), run verify, start it again";
    let (url, operator) = match running_node(dir, key, node, in_use) {
        Ok(found) => found,
        Err(code) => {
            eprintln!("{hint}");
            return code;
        }
    };
    if !json {
        eprintln!("the store is in use by a running node: asking it at {url} to verify itself");
    }
    let mut bar = ProgressBar::new(json);
    match operator.verify(|done, total| bar.draw(done, total)) {
        Ok(verdict) => {
            if !matches!(verdict, ebl_node::admin::Verdict::Ok { .. }) {
                bar.end();
            }
            print_verdict(&verdict, json, Some(&url))
        }
        Err(e) => {
            bar.end();
            eprintln!("error: {e} [{}]", in_use.code());
            eprintln!("{hint}");
            ExitCode::from(EXIT_IN_USE)
        }
    }
}

fn verify(dir: &DataDir, json: bool, node: Option<&str>) -> ExitCode {
    // Checkpoint states are checked under the node's seal, so verify needs the node key.
    let key = match ebl_node::keyfile::read(&dir.node_key()) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    let store = match ebl_store::SledKv::open(&dir.store()) {
        Ok(kv) => ebl_store::LedgerStore::new(kv).sealed_with(ebl_node::node::seal_key(&key)),
        Err(e @ ebl_store::StoreError::Corrupt { .. }) => {
            // A store too damaged to open is a verdict, not an IO failure.
            if json {
                say!(
                    "{}",
                    serde_json::json!({"verdict": "fault", "failure": {"place": "store files", "code": e.code(), "message": e.to_string()}})
                );
            } else {
                say!("FAULT at store files: {e} [{}]", e.code());
            }
            return ExitCode::from(EXIT_FAULT);
        }
        Err(e @ ebl_store::StoreError::InUse { .. }) => {
            return verify_live(dir, key, node, json, &e)
        }
        Err(e) => {
            eprintln!("error: cannot open the store in {}: {e}", dir.0.display());
            return ExitCode::from(EXIT_IO);
        }
    };
    // A store of a format this release does not read is no fault of the store: said as such, before
    // anything is replayed.
    if let Err(e @ ebl_store::StoreError::Format(_)) = store.genesis() {
        if json {
            say!(
                "{}",
                serde_json::json!({"verdict": "unreadable_format", "code": e.code(), "message": e.to_string()})
            );
        } else {
            say!("NOT READ: {e} [{}]", e.code());
        }
        return ExitCode::from(EXIT_FORMAT);
    }
    let mut bar = ProgressBar::new(json);
    let verdict =
        ebl_node::admin::Verdict::of(ebl_node::verify::verify_store(&store, |done, total| {
            bar.draw(done, total)
        }));
    if !matches!(verdict, ebl_node::admin::Verdict::Ok { .. }) {
        bar.end();
    }
    print_verdict(&verdict, json, None)
}

/// Prints what a backup or a restore did, or why not, and returns the exit code it stands for.
fn report_backup(
    what: &str,
    result: Result<ebl_node::backup::BackupSummary, (String, String)>,
    json: bool,
) -> ExitCode {
    match result {
        Ok(summary) => {
            if json {
                say!("{}", serde_json::json!(summary));
            } else {
                say!(
                    "{what}: chain {} to height {}, {} transactions, {} files, {} bytes",
                    summary.chain,
                    summary.height,
                    summary.transactions,
                    summary.files,
                    summary.bytes
                );
            }
            ExitCode::SUCCESS
        }
        Err((code, message)) => {
            if json {
                say!(
                    "{}",
                    serde_json::json!({"error": {"code": code, "message": message}})
                );
            } else {
                eprintln!("error: {message} [{code}]");
            }
            let format = code == "format_too_old" || code == "format_too_new";
            ExitCode::from(if format { EXIT_FORMAT } else { EXIT_IO })
        }
    }
}

fn backup(dir: &DataDir, to: &std::path::Path, node: Option<&str>, json: bool) -> ExitCode {
    let key = match ebl_node::keyfile::read(&dir.node_key()) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    // The running node writes the file on this host: the path must be absolute for it.
    let to = match std::path::absolute(to) {
        Ok(to) => to,
        Err(e) => {
            eprintln!("error: {}: {e}", to.display());
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let failed = |e: ebl_node::backup::BackupError| (e.code().to_owned(), e.to_string());
    match ebl_store::SledKv::open(&dir.store()) {
        Ok(kv) => {
            let store = ebl_store::LedgerStore::new(kv).sealed_with(ebl_node::node::seal_key(&key));
            let now = ebl_core::time::unix_ms(std::time::SystemTime::now());
            report_backup(
                "backed up",
                ebl_node::backup::write_backup(&store, dir, &to, now).map_err(failed),
                json,
            )
        }
        Err(in_use @ ebl_store::StoreError::InUse { .. }) => {
            let (url, operator) = match running_node(dir, key, node, &in_use) {
                Ok(found) => found,
                Err(code) => return code,
            };
            if !json {
                eprintln!(
                    "the store is in use by a running node: asking it at {url} to write the backup"
                );
            }
            match operator.backup(&to) {
                Ok(ebl_node::admin::BackupOutcome::Written { summary, .. }) => {
                    report_backup("backed up by the running node", Ok(summary), json)
                }
                Ok(ebl_node::admin::BackupOutcome::Failed { code, message }) => {
                    report_backup("backed up", Err((code, message)), json)
                }
                Err(e) => {
                    eprintln!("error: {e} [{}]", in_use.code());
                    ExitCode::from(EXIT_IN_USE)
                }
            }
        }
        Err(e) => report_backup("backed up", Err((e.code().to_owned(), e.to_string())), json),
    }
}

fn restore(dir: &DataDir, from: &std::path::Path, json: bool) -> ExitCode {
    report_backup(
        "restored",
        ebl_node::backup::restore(from, &dir.0).map_err(|e| (e.code().to_owned(), e.to_string())),
        json,
    )
}

/// `ebl-node status`: asks the running node (signing nothing: head and cluster view are public).
fn status(dir: &DataDir, json: bool, node: Option<&str>) -> ExitCode {
    let key = match ebl_node::keyfile::read(&dir.node_key()) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    if node.is_none() && !dir.listening().exists() {
        eprintln!(
            "error: no running node wrote its address in {} (it is stopped, or give its address with --node URL) [node_not_running]",
            dir.listening().display()
        );
        return ExitCode::from(EXIT_IN_USE);
    }
    let not_running = ebl_store::StoreError::InUse {
        path: dir.store().display().to_string(),
    };
    let (url, operator) = match running_node(dir, key, node, &not_running) {
        Ok(found) => found,
        Err(code) => return code,
    };
    let shown = match operator.status() {
        Ok(shown) => shown,
        Err(e) => {
            eprintln!("error: {e} [node_unreachable]");
            return ExitCode::from(EXIT_IN_USE);
        }
    };
    if json {
        say!("{}", serde_json::json!(shown));
        return ExitCode::SUCCESS;
    }
    let head = &shown.head;
    say!("node      {url}");
    say!(
        "head      height {}, block {}, {} transactions",
        head.height,
        head.block,
        head.transactions
    );
    match &shown.cluster {
        None => say!("role      the one member's node: it orders alone"),
        Some(view) => {
            let quorum = match view.has_quorum {
                Some(true) => ", with its quorum",
                Some(false) => ", WITHOUT its quorum (cut off: the others will elect another)",
                None => "",
            };
            say!(
                "role      {}{quorum} (node {}, term {})",
                view.role,
                view.id,
                view.term
            );
            match (&view.leader, &view.leader_address) {
                (Some(leader), Some(address)) => say!("leader    node {leader} at {address}"),
                (Some(leader), None) => say!("leader    node {leader}"),
                _ => say!("leader    none known"),
            }
            say!("applied   log index {}", view.last_applied);
            for peer in &view.peers {
                let contact = peer
                    .last_contact_ms
                    .map_or("never answered".to_owned(), |ms| {
                        format!("answered {ms} ms ago")
                    });
                say!(
                    "peer      node {}: {} entries behind (holds {}), {contact}",
                    peer.id,
                    peer.lag,
                    peer.matched
                );
            }
        }
    }
    ExitCode::SUCCESS
}

fn upgrade(dir: &DataDir, json: bool) -> ExitCode {
    let now = ebl_core::time::unix_ms(std::time::SystemTime::now());
    match ebl_node::upgrade::upgrade(dir, now) {
        Ok(done) => {
            if json {
                say!("{}", serde_json::json!(done));
            } else {
                use ebl_node::upgrade::Upgraded;
                match &done {
                    Upgraded::Current { layout } => {
                        say!("already in store layout {layout}: nothing to do");
                    }
                    Upgraded::Finished { layout } => say!(
                        "finished an upgrade cut short: the new directory (layout {layout}) is in place"
                    ),
                    Upgraded::Rewritten {
                        from,
                        to,
                        height,
                        previous,
                    } => say!(
                        "upgraded from store layout {from} to {to}: {height} blocks, verified; the old directory is kept at {previous} until you remove it"
                    ),
                }
            }
            ExitCode::SUCCESS
        }
        Err(e) => report_backup("upgraded", Err((e.code().to_owned(), e.to_string())), json),
    }
}
