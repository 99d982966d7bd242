//! `ebl-node backup`, `restore` and `upgrade`: a node's ledger and files carried to another directory or release.

use std::io::Write;
use std::process::ExitCode;

use ebl_node::DataDir;

use crate::say;
use crate::verify::running_node;
use crate::{EXIT_FORMAT, EXIT_IN_USE, EXIT_IO, EXIT_USAGE};

/// Prints what a backup or a restore did, or why not, and returns the exit code it stands for.
pub(crate) fn report_backup(
    what: (&str, &str),
    result: Result<ebl_node::backup::BackupSummary, (String, String)>,
    json: bool,
) -> ExitCode {
    let what = crate::said(what.0, what.1);
    match result {
        Ok(summary) => {
            if json {
                say!("{}", serde_json::json!(summary));
            } else {
                let (chain, height, txs, files, bytes) = (
                    &summary.chain,
                    summary.height,
                    summary.transactions,
                    summary.files,
                    summary.bytes,
                );
                match crate::lang() {
                    ebl_words::lang::Lang::En => say!("{what}: chain {chain} to height {height}, {txs} transactions, {files} files, {bytes} bytes"),
                    ebl_words::lang::Lang::Zh => say!("{what}：链 {chain}，至高度 {height}，{txs} 笔交易，{files} 个文件，{bytes} 字节"),
                }
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
                match (
                    crate::lang(),
                    ebl_words::codes::explain(&code, crate::lang()),
                ) {
                    (ebl_words::lang::Lang::Zh, Some(meaning)) => {
                        eprintln!("错误：{meaning} [{code}]\n  原文：{message}");
                    }
                    _ => eprintln!("error: {message} [{code}]"),
                }
            }
            let format = code == "format_too_old" || code == "format_too_new";
            ExitCode::from(if format { EXIT_FORMAT } else { EXIT_IO })
        }
    }
}

pub(crate) fn backup(
    dir: &DataDir,
    to: &std::path::Path,
    node: Option<&str>,
    json: bool,
) -> ExitCode {
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
            let store =
                ebl_store::LedgerStore::new(kv).sealed_with(ebl_consensus::load::seal_key(&key));
            let now = ebl_core::time::unix_ms(std::time::SystemTime::now());
            report_backup(
                ("backed up", "已备份"),
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
                Ok(ebl_node::admin::BackupOutcome::Written { summary, .. }) => report_backup(
                    ("backed up by the running node", "已由运行中的节点备份"),
                    Ok(summary),
                    json,
                ),
                Ok(ebl_node::admin::BackupOutcome::Failed { code, message }) => {
                    report_backup(("backed up", "已备份"), Err((code, message)), json)
                }
                Err(e) => {
                    eprintln!("error: {e} [{}]", in_use.code());
                    ExitCode::from(EXIT_IN_USE)
                }
            }
        }
        Err(e) => report_backup(
            ("backed up", "已备份"),
            Err((e.code().to_owned(), e.to_string())),
            json,
        ),
    }
}

pub(crate) fn restore(dir: &DataDir, from: &std::path::Path, json: bool) -> ExitCode {
    report_backup(
        ("restored", "已恢复"),
        ebl_node::backup::restore(from, &dir.0).map_err(|e| (e.code().to_owned(), e.to_string())),
        json,
    )
}

pub(crate) fn upgrade(dir: &DataDir, json: bool) -> ExitCode {
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
        Err(e) => report_backup(
            ("upgraded", "已升级"),
            Err((e.code().to_owned(), e.to_string())),
            json,
        ),
    }
}
