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
    match crate::lang() {
        ebl_words::lang::Lang::En => english(&url, &shown),
        ebl_words::lang::Lang::Zh => chinese(&url, &shown),
    }
    ExitCode::SUCCESS
}

fn english(url: &str, shown: &ebl_node::operator::NodeStatus) {
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
                let contact = match peer.round_trip_ms {
                    Some(ms) => format!("{contact}, round trip {ms} ms"),
                    None => contact,
                };
                say!(
                    "peer      node {}: {} entries behind (holds {}), {contact}",
                    peer.id,
                    peer.lag,
                    peer.matched
                );
            }
        }
    }
}

/// The same facts as [`english`], laid out in Chinese (the role's own name, `leader` or `follower`,
/// is Raft's and stays as the API gives it).
fn chinese(url: &str, shown: &ebl_node::operator::NodeStatus) {
    let head = &shown.head;
    say!("节点      {url}");
    say!(
        "链头      高度 {}，区块 {}，{} 笔交易",
        head.height,
        head.block,
        head.transactions
    );
    match &shown.cluster {
        None => say!("角色      唯一成员的节点：独自排序"),
        Some(view) => {
            let quorum = match view.has_quorum {
                Some(true) => "，法定多数在线",
                Some(false) => "，失去法定多数（已被隔离：其他节点将另选领导）",
                None => "",
            };
            say!(
                "角色      {}{quorum}（节点 {}，任期 {}）",
                view.role,
                view.id,
                view.term
            );
            match (&view.leader, &view.leader_address) {
                (Some(leader), Some(address)) => say!("领导节点  节点 {leader}，地址 {address}"),
                (Some(leader), None) => say!("领导节点  节点 {leader}"),
                _ => say!("领导节点  未知"),
            }
            say!("已应用    日志索引 {}", view.last_applied);
            for peer in &view.peers {
                let contact = peer
                    .last_contact_ms
                    .map_or("从未响应".to_owned(), |ms| format!("{ms} 毫秒前响应"));
                let contact = match peer.round_trip_ms {
                    Some(ms) => format!("{contact}，往返 {ms} 毫秒"),
                    None => contact,
                };
                say!(
                    "对等节点  节点 {}：落后 {} 条（已有 {}），{contact}",
                    peer.id,
                    peer.lag,
                    peer.matched
                );
            }
        }
    }
}
