//! `ebl-node verify`: a stored ledger replayed from its genesis, in place or by the running node.

use std::io::Write;
use std::process::ExitCode;

use ebl_node::DataDir;

use crate::say;
use crate::{EXIT_FAULT, EXIT_FORMAT, EXIT_IN_USE, EXIT_IO};

/// Draws verify's progress on standard error, for a person at a terminal only: it redraws itself with
/// `\r`, never into a file or a pipe, and never under `--json`.
#[derive(Debug)]
pub(crate) struct ProgressBar {
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
pub(crate) fn print_verdict(
    verdict: &ebl_node::admin::Verdict,
    json: bool,
    by: Option<&str>,
) -> ExitCode {
    use ebl_node::admin::Verdict;
    if json {
        say!("{}", serde_json::json!(verdict));
    }
    match verdict {
        Verdict::Ok { report } => {
            if !json {
                let (chain, blocks, txs, bills, parties) = (
                    &report.chain,
                    report.blocks,
                    report.transactions,
                    report.bills,
                    report.parties,
                );
                match crate::lang() {
                    ebl_words::lang::Lang::En => {
                        let by = by.map_or(String::new(), |url| {
                            format!(" by the running node at {url}")
                        });
                        say!("ok: chain {chain} verified{by}, {blocks} blocks, {txs} transactions, {bills} bills, {parties} parties");
                    }
                    ebl_words::lang::Lang::Zh => {
                        let by = by.map_or(String::new(), |url| {
                            format!("（由运行中的节点 {url} 校验）")
                        });
                        say!("完好：链 {chain} 已校验{by}，{blocks} 个区块，{txs} 笔交易，{bills} 张提单，{parties} 个参与方");
                    }
                }
            }
            ExitCode::SUCCESS
        }
        Verdict::Fault { failure } => {
            if !json {
                let meaning = ebl_words::codes::explain(&failure.code, crate::lang());
                match (crate::lang(), meaning) {
                    (ebl_words::lang::Lang::Zh, Some(meaning)) => say!(
                        "故障，位置 {}：{meaning} [{}]\n  原文：{}",
                        failure.place,
                        failure.code,
                        failure.message
                    ),
                    _ => say!(
                        "FAULT at {}: {} [{}]",
                        failure.place,
                        failure.message,
                        failure.code
                    ),
                }
            }
            ExitCode::from(EXIT_FAULT)
        }
    }
}

/// The running node that holds the store (at `node`, or where it said it listens in
/// `<data>/listening`), to be asked with the node key; or, said on standard error, the exit code of not
/// finding it.
pub(crate) fn running_node(
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
pub(crate) fn verify_live(
    dir: &DataDir,
    key: ebl_core::SigningKey,
    node: Option<&str>,
    json: bool,
    in_use: &ebl_store::StoreError,
) -> ExitCode {
    let hint = crate::said(
        "  hint: give the running node's address with --node URL, or stop it (SIGTERM lets it finish its last block), run verify, start it again",
        "  提示：用 --node 地址 指定运行中节点的地址，或停止该节点（SIGTERM 会让它写完最后一个区块），运行 verify 后再启动",
    );
    let (url, operator) = match running_node(dir, key, node, in_use) {
        Ok(found) => found,
        Err(code) => {
            eprintln!("{hint}");
            return code;
        }
    };
    if !json {
        match crate::lang() {
            ebl_words::lang::Lang::En => eprintln!(
                "the store is in use by a running node: asking it at {url} to verify itself"
            ),
            ebl_words::lang::Lang::Zh => {
                eprintln!("存储正被运行中的节点使用：请求 {url} 上的该节点自行校验")
            }
        }
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

pub(crate) fn verify(dir: &DataDir, json: bool, node: Option<&str>) -> ExitCode {
    // Checkpoint states are checked under the node's seal, so verify needs the node key.
    let key = match ebl_node::keyfile::read(&dir.node_key()) {
        Ok(key) => key,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_IO);
        }
    };
    let store = match ebl_store::SledKv::open(&dir.store()) {
        Ok(kv) => ebl_store::LedgerStore::new(kv).sealed_with(ebl_consensus::load::seal_key(&key)),
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
    // An auditor's node signs its own copies: its key is the grant's (checked at `init --follow`).
    let follower = match ebl_node::node::follow_grant(dir) {
        Ok(grant) => grant.map(|g| g.body.node),
        Err(e) => {
            say!("NOT READ: {e}");
            return ExitCode::from(EXIT_FORMAT);
        }
    };
    let verdict = ebl_node::admin::Verdict::of(ebl_node::verify::verify_store_of(
        &store,
        follower,
        |done, total| bar.draw(done, total),
    ));
    if !matches!(verdict, ebl_node::admin::Verdict::Ok { .. }) {
        bar.end();
    }
    print_verdict(&verdict, json, None)
}
