//! The `ebl` command: parse, run, print, and exit with the documented code.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};
use ebl_cli::cli::{self, Cli, Command};
use ebl_cli::error::{exit, CliError};
use ebl_cli::wallet::{Passphrase, Wallet};

fn default_home() -> PathBuf {
    std::env::var_os("HOME")
        .map_or_else(|| PathBuf::from(".ebl"), |h| PathBuf::from(h).join(".ebl"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // A script asking for JSON gets its usage error as JSON too, with the usage code.
            if e.use_stderr() && std::env::args().any(|a| a == "--json") {
                let refusal = ebl_cli::error::Refusal::BadUsage {
                    source: ebl_cli::error::source(e.kind().to_string()),
                };
                let body = serde_json::json!({"error": {
                    "code": refusal.code(),
                    "message": e.render().to_string().trim_end(),
                    "hint": "see `ebl help`",
                }});
                // A closed stdout (`| head`) is no reason to panic: the exit code says it.
                let _ = writeln!(std::io::stdout(), "{body}");
                return ExitCode::from(exit::USAGE);
            }
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            });
        }
    };
    let json = cli.json;
    let lang = ebl_cli::lang::Lang::for_terminal(cli.lang, |v| std::env::var(v).ok());
    let result = match &cli.command {
        Command::Demo {
            keep,
            cluster: None,
        } => ebl_cli::demo::embedded::run(keep.clone()).map(|()| None),
        Command::Demo {
            keep,
            cluster: Some(count),
        } => ebl_cli::demo::cluster::run(*count, keep.clone()).map(|()| None),
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut Cli::command(), "ebl", &mut std::io::stdout());
            Ok(None)
        }
        _ => {
            let home = cli.home.clone().unwrap_or_else(default_home);
            let passphrase =
                std::env::var("EBL_PASSPHRASE").map_or(Passphrase::Prompt, Passphrase::Given);
            let trust = match &cli.node_cert {
                Some(path) => ebl_cli::client::NodeTrust::pinned(path),
                None => Ok(ebl_cli::client::NodeTrust::System),
            };
            ebl_cli::client::check_node_address(&cli.node, cli.insecure_plain_http)
                .and(trust)
                .and_then(|trust| {
                    let mut wallet = Wallet::new(&home, &cli.node, passphrase);
                    wallet.node.trust(&trust);
                    cli::run(cli, &wallet).map(Some)
                })
        }
    };
    match result {
        Ok(Some(out)) => {
            let mut stdout = std::io::stdout();
            let _ = if json {
                writeln!(stdout, "{}", out.json)
            } else {
                writeln!(stdout, "{}", out.human)
            };
            ExitCode::from(exit::OK)
        }
        Ok(None) => ExitCode::from(exit::OK),
        Err(e) => {
            report(&e, json, lang);
            ExitCode::from(e.exit_code())
        }
    }
}

fn report(e: &CliError, json: bool, lang: ebl_cli::lang::Lang) {
    if json {
        let body = serde_json::json!({"error": {"code": e.code(), "message": e.message(), "hint": e.hint}});
        let _ = writeln!(std::io::stdout(), "{body}");
    } else if lang == ebl_cli::lang::Lang::Zh {
        // The kind and the code's meaning in Chinese (one catalogue, ebl_words::codes); then the rule's
        // own words, with their names and figures, marked as the original.
        let code = e.code();
        match ebl_words::codes::explain(&code, lang) {
            Some(meaning) => {
                eprintln!("错误（{}）：{meaning} [{code}]", e.kind().in_words(lang));
                eprintln!("  原文：{}", e.message());
                // The meaning says what to do; the hint, with its names and figures, is the original's.
                if let Some(hint) = &e.hint {
                    eprintln!("  原文提示：{hint}");
                }
            }
            None => {
                eprintln!(
                    "错误（{}）：{} [{code}]",
                    e.kind().in_words(lang),
                    e.message()
                );
                if let Some(hint) = &e.hint {
                    eprintln!("  提示：{hint}");
                }
            }
        }
    } else {
        eprintln!("error: {} [{}]", e.message(), e.code());
        if let Some(hint) = &e.hint {
            eprintln!("  hint: {hint}");
        }
    }
}
