//! `ebl-node status`: a running node's role, quorum, leader, head and peers.

use std::io::Write;
use std::process::ExitCode;

use ebl_node::DataDir;

use crate::say;
use crate::verify::running_node;
use crate::{EXIT_IN_USE, EXIT_IO};

/// `ebl-node status`: asks the running node (signing nothing: head and cluster view are public).
pub(crate) fn status(dir: &DataDir, json: bool, node: Option<&str>) -> ExitCode {
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
    print(&url, &shown);
    ExitCode::SUCCESS
}

/// The status laid out once, each line in the run's language (the role's own name, `leader` or
/// `follower`, is Raft's and stays as the API gives it).
fn print(url: &str, shown: &ebl_node::operator::NodeStatus) {
    use ebl_words::lang::Lang::{En, Zh};
    let zh = crate::lang() == Zh;
    let head = &shown.head;
    let (height, block, txs) = (head.height, head.block, head.transactions);
    match crate::lang() {
        En => {
            say!("node      {url}");
            say!("head      height {height}, block {block}, {txs} transactions");
        }
        Zh => {
            say!("节点      {url}");
            say!("链头      高度 {height}，区块 {block}，{txs} 笔交易");
        }
    }
    let Some(view) = &shown.cluster else {
        say!(
            "{}",
            crate::said(
                "role      the one member's node: it orders alone",
                "角色      唯一成员的节点：独自排序"
            )
        );
        return;
    };
    let quorum = match view.has_quorum {
        Some(true) => crate::said(", with its quorum", "，法定多数在线"),
        Some(false) => crate::said(
            ", WITHOUT its quorum (cut off: the others will elect another)",
            "，失去法定多数（已被隔离：其他节点将另选领导）",
        ),
        None => "",
    };
    let (role, id, term) = (&view.role, view.id, view.term);
    if zh {
        say!("角色      {role}{quorum}（节点 {id}，任期 {term}）");
    } else {
        say!("role      {role}{quorum} (node {id}, term {term})");
    }
    match (&view.leader, &view.leader_address, zh) {
        (Some(leader), Some(address), false) => say!("leader    node {leader} at {address}"),
        (Some(leader), Some(address), true) => say!("领导节点  节点 {leader}，地址 {address}"),
        (Some(leader), None, false) => say!("leader    node {leader}"),
        (Some(leader), None, true) => say!("领导节点  节点 {leader}"),
        (None, _, false) => say!("leader    none known"),
        (None, _, true) => say!("领导节点  未知"),
    }
    if zh {
        say!("已应用    日志索引 {}", view.last_applied);
    } else {
        say!("applied   log index {}", view.last_applied);
    }
    for peer in &view.peers {
        let contact = match (peer.last_contact_ms, zh) {
            (None, false) => "never answered".to_owned(),
            (None, true) => "从未响应".to_owned(),
            (Some(ms), false) => format!("answered {ms} ms ago"),
            (Some(ms), true) => format!("{ms} 毫秒前响应"),
        };
        let contact = match (peer.round_trip_ms, zh) {
            (Some(ms), false) => format!("{contact}, round trip {ms} ms"),
            (Some(ms), true) => format!("{contact}，往返 {ms} 毫秒"),
            (None, _) => contact,
        };
        let (id, lag, holds) = (peer.id, peer.lag, peer.matched);
        if zh {
            say!("对等节点  节点 {id}：落后 {lag} 条（已有 {holds}），{contact}");
        } else {
            say!("peer      node {id}: {lag} entries behind (holds {holds}), {contact}");
        }
    }
}
