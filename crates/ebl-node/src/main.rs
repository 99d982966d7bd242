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

/// Exit codes: 0 success; 1 verification found a fault; 2 bad usage or input; 3 IO or storage failure.
const EXIT_FAULT: u8 = 1;
const EXIT_USAGE: u8 = 2;
const EXIT_IO: u8 = 3;

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
    /// Create a new ledger: a genesis naming the operator, and a node key.
    Init {
        /// Name of the chain, part of its identity.
        #[arg(long, default_value = "ebl-dev")]
        chain_name: String,
        /// The operator's public key (hex). Without it, a new operator key is made and saved as
        /// operator.key in the data directory, for trying the node out.
        #[arg(long)]
        operator: Option<String>,
        /// This platform's DCSA PINT code (eblPlatform, 1 to 4 characters), as other platforms know
        /// it. Kept in pint/platform in the data directory.
        #[arg(long, default_value = ebl_pint::PLATFORM_CODE_DEFAULT, value_parser = platform_code)]
        platform: String,
    },
    /// Serve the ledger over HTTP (the default command). Initializes a development ledger if the data
    /// directory is empty.
    Run {
        /// Address to listen on.
        #[arg(long, env = "EBL_LISTEN", default_value = "127.0.0.1:7878")]
        listen: SocketAddr,
        /// Most client connections open at once; further ones wait to be accepted.
        #[arg(long, default_value_t = ebl_node::limits::CONNECTIONS_MAX)]
        connections_max: usize,
    },
    /// Replay the stored ledger from the genesis and check every record, hash, signature, Merkle root and
    /// rule. Exit code 0 if it is sound, 1 at the first fault (which it names).
    Verify {
        /// Print the verdict as JSON.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
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
    let builder = tracing_subscriber::fmt()
        .with_max_level(cli.log_level)
        .with_writer(std::io::stderr);
    if cli.log_json {
        builder.json().init();
    } else {
        builder.init();
    }
    let dir = DataDir(cli.data.clone());
    let result = match cli.command.unwrap_or(Command::Run {
        listen: SocketAddr::from(([127, 0, 0, 1], 7878)),
        connections_max: ebl_node::limits::CONNECTIONS_MAX,
    }) {
        Command::Init {
            chain_name,
            operator,
            platform,
        } => init(&dir, &chain_name, operator.as_deref(), &platform),
        Command::Run {
            listen,
            connections_max,
        } => run(&dir, listen, connections_max),
        Command::Verify { json } => return verify(&dir, json),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            let usage = e
                .chain()
                .any(|c| c.downcast_ref::<ebl_core::Error>().is_some());
            ExitCode::from(if usage { EXIT_USAGE } else { EXIT_IO })
        }
    }
}

/// Refuses a platform code PINT's schema would refuse, as a usage error.
fn platform_code(code: &str) -> Result<String, String> {
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
            std::fs::create_dir_all(&dir.0)
                .with_context(|| format!("creating {}", dir.0.display()))?;
            let key = keyfile::generate()?;
            keyfile::write(&dir.operator_key(), &key)?;
            eprintln!(
                "made a new operator key in {} (import it into a wallet with `ebl key import operator {}`)",
                dir.operator_key().display(),
                dir.operator_key().display()
            );
            PartyKey::of(&key)
        }
    };
    let genesis = ebl_node::init(dir, chain_name, operator)?;
    dir.set_platform(platform)?;
    println!(
        "chain {} initialized in {}",
        genesis.chain_id(),
        dir.0.display()
    );
    println!("operator {}", genesis.operator);
    println!("node     {}", genesis.node);
    println!("platform {platform} (PINT)");
    Ok(())
}

fn run(dir: &DataDir, listen: SocketAddr, connections_max: usize) -> anyhow::Result<()> {
    if !dir.store().exists() {
        tracing::info!(dir = %dir.0.display(), "no ledger here yet: initializing a development ledger");
        init(dir, "ebl-dev", None, ebl_pint::PLATFORM_CODE_DEFAULT)?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let settings = ebl_node::Settings {
            connections_max: connections_max.max(1),
            ..ebl_node::Settings::default()
        };
        let running = ebl_node::open_with(dir, settings)?;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .with_context(|| format!("listening on {listen}"))?;
        let chain = running
            .app
            .published
            .read()
            .map(|p| p.ledger.chain_id())
            .unwrap_or_default();
        tracing::info!(address = %listener.local_addr()?, %chain, "serving");
        // Printed for scripts that start the node on port 0 and need to know where it is.
        println!("listening on http://{}", listener.local_addr()?);
        let _ = std::io::stdout().flush();
        ebl_node::serve(listener, running, shutdown_signal()).await?;
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

fn verify(dir: &DataDir, json: bool) -> ExitCode {
    let store = match ebl_store::SledKv::open(&dir.store()) {
        Ok(kv) => ebl_store::LedgerStore::new(kv),
        Err(e @ ebl_store::StoreError::Corrupt { .. }) => {
            // A store too damaged to open is a verdict, not an IO failure.
            if json {
                println!(
                    "{}",
                    serde_json::json!({"verdict": "fault", "failure": {"place": "store files", "code": e.code(), "message": e.to_string()}})
                );
            } else {
                println!("FAULT at store files: {e} [{}]", e.code());
            }
            return ExitCode::from(EXIT_FAULT);
        }
        Err(e) => {
            eprintln!("error: cannot open the store in {}: {e}", dir.0.display());
            return ExitCode::from(EXIT_IO);
        }
    };
    let mut shown = 0;
    let result = ebl_node::verify::verify_store(&store, |done, total| {
        if json || total == 0 {
            return;
        }
        let percent = done * 100 / total;
        if percent != shown || done == total {
            shown = percent;
            let filled = (percent / 5) as usize;
            eprint!(
                "\r[{}{}] {percent:>3}% block {done}/{total}",
                "#".repeat(filled),
                " ".repeat(20 - filled)
            );
            if done == total {
                eprintln!();
            }
        }
    });
    match result {
        Ok(report) => {
            if json {
                println!("{}", serde_json::json!({"verdict": "ok", "report": report}));
            } else {
                println!(
                    "ok: chain {} verified, {} blocks, {} transactions, {} bills, {} parties",
                    report.chain, report.blocks, report.transactions, report.bills, report.parties
                );
            }
            ExitCode::SUCCESS
        }
        Err(failure) => {
            if json {
                println!(
                    "{}",
                    serde_json::json!({"verdict": "fault", "failure": failure})
                );
            } else {
                eprintln!();
                println!(
                    "FAULT at {}: {} [{}]",
                    failure.place, failure.message, failure.code
                );
            }
            ExitCode::from(EXIT_FAULT)
        }
    }
}
