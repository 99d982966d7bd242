//! The `ebl-node` command: `init` a ledger, `run` the node, `verify` what it stored.

use std::io::Write;
use std::process::ExitCode;

use ebl_core::PartyKey;
use ebl_node::DataDir;

/// `println!` for a program whose output may be cut short (`ebl-node init … | head -1`): a closed stdout
/// ends the process quietly with success, as Unix tools end, instead of a panic with a backtrace (issue
/// 35). Any other write error is left to the next write.
macro_rules! say_line {
    ($($arg:tt)*) => {{
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
        }
    }};
}

pub(crate) use say_line as say;

/// The language this run speaks to its operator in, chosen once at start (`--lang`, `EBL_LANG`, the
/// locale): every message of the binary reads it; codes, `--json` and logs do not change with it.
static LANG: std::sync::OnceLock<ebl_words::lang::Lang> = std::sync::OnceLock::new();

/// The language chosen at start (English before it is).
pub(crate) fn lang() -> ebl_words::lang::Lang {
    LANG.get().copied().unwrap_or_default()
}

/// `en` or `zh`, in the run's language.
pub(crate) fn said<'a>(en: &'a str, zh: &'a str) -> &'a str {
    match lang() {
        ebl_words::lang::Lang::En => en,
        ebl_words::lang::Lang::Zh => zh,
    }
}

mod backup;
mod cli;
mod init;
mod run;
mod status;
mod verify;

use backup::{backup, restore, upgrade};
use cli::{parse, Cli, Command};
use init::{init, init_from, self_signed, write_genesis};
use run::run;
use status::status;
use verify::verify;

/// Exit codes: 0 success; 1 verification found a fault; 2 bad usage or input; 3 IO or storage failure;
/// 4 (verify) in use by a node it could not ask; 5 a format this release does not read.
pub(crate) const EXIT_FAULT: u8 = 1;
pub(crate) const EXIT_USAGE: u8 = 2;
pub(crate) const EXIT_IO: u8 = 3;
/// `verify` found the store locked by a running node.
pub(crate) const EXIT_IN_USE: u8 = 4;
/// The data directory is in a format this release does not read (`format_too_old`, `format_too_new`):
/// nothing is wrong with it, and nothing of it was changed; the message names the release that reads it.
pub(crate) const EXIT_FORMAT: u8 = 5;

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
    let _ = LANG.set(ebl_words::lang::Lang::for_terminal(cli.lang, |v| {
        std::env::var(v).ok()
    }));
    start_logging(cli.log_json, cli.log_level);
    let dir = DataDir(cli.data.clone());
    let Some(command) = cli.command else {
        eprintln!("error: no command");
        return ExitCode::from(EXIT_USAGE);
    };
    let result = match command {
        Command::Init {
            genesis: Some(file),
            join,
            follow,
            tls_self_signed,
            tls_names,
            ..
        } => init_from(&dir, &file, join, follow.as_deref())
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
        Err(e) => failed(&e),
    }
}

/// Logs to standard error at `level`, as JSON lines or text.
fn start_logging(json: bool, level: tracing::Level) {
    // openraft narrates its internal state at info (issue 35: 58 of a cluster node's 68 lines): the
    // operator sees its warnings, and the rest from --log-level debug.
    let openraft = if level >= tracing::Level::DEBUG {
        level
    } else {
        level.min(tracing::Level::WARN)
    };
    let targets = tracing_subscriber::filter::Targets::new()
        .with_default(level)
        .with_target("openraft", openraft);
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    {
        use tracing_subscriber::layer::SubscriberExt as _;
        use tracing_subscriber::util::SubscriberInitExt as _;
        if json {
            builder.json().finish().with(targets).init();
        } else {
            builder.finish().with(targets).init();
        }
    }
}

/// Says why a command failed, with the stable code of a refusal that has one, and exits with the code
/// for its kind.
fn failed(e: &anyhow::Error) -> ExitCode {
    if let Some(refusal) = format_refusal(e) {
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
                        ebl_node::NodeError::Consensus(
                            ebl_consensus::ConsensusError::RaftStateLost { .. },
                        ) => Some("raft_state_lost"),
                        _ => None,
                    })
            })
    });
    // In Chinese, the code's meaning from the one catalogue first, then the error's own words.
    let meaning = code.and_then(|c| ebl_words::codes::explain(c, lang()));
    match (code, meaning, lang()) {
        (Some(code), Some(meaning), ebl_words::lang::Lang::Zh) => {
            eprintln!("错误：{meaning} [{code}]\n  原文：{e:#}");
        }
        (Some(code), _, _) => eprintln!("error: {e:#} [{code}]"),
        (None, _, _) => eprintln!("{}{e:#}", said("error: ", "错误：")),
    }
    let usage = code.is_some()
        || e.chain()
            .any(|c| c.downcast_ref::<ebl_core::Error>().is_some());
    ExitCode::from(if usage { EXIT_USAGE } else { EXIT_IO })
}
