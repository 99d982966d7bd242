//! Keeps every member node's connection to every other open. At WAN latency a new connection costs a
//! round trip before its first byte, which the cluster's timings do not count: with the members 250 ms
//! apart, the vote after a leader's death and the new leader's first append went over new connections
//! and timed out, and the failover took 3.9 to 6.0 s instead of about 2.5 (issue 35).

use std::sync::Arc;
use std::time::Duration;

use super::peer::{KEEP_WARM_MS, KEEP_WARM_RETRY_MS};
use super::{node_id, Cluster};

/// Runs on every member node until Raft stops: every `KEEP_WARM_MS`, each other member's node is
/// called once through the peer transport (which keeps its connections); sooner, every
/// `KEEP_WARM_RETRY_MS`, while one did not answer.
pub(super) async fn keep_warm(cluster: Arc<Cluster>) {
    let mut all_answered = false;
    loop {
        let wait = if all_answered {
            KEEP_WARM_MS
        } else {
            KEEP_WARM_RETRY_MS
        };
        tokio::time::sleep(Duration::from_millis(wait)).await;
        if cluster.raft.metrics().borrow().state == openraft::ServerState::Shutdown {
            return;
        }
        all_answered = warm_every_peer(&cluster).await;
    }
}

/// Calls every other member's node once, all at once, and again at once one that did not answer: a
/// connection kept to a node that has restarted since is dead, and only the failed call finds out (the
/// second opens a new one). Whether every one answered.
pub(super) async fn warm_every_peer(cluster: &Arc<Cluster>) -> bool {
    let from = ebl_core::PartyKey::of(&cluster.client.key);
    let mut calls = tokio::task::JoinSet::new();
    for member in super::membership::members(&cluster.published)
        .into_iter()
        .filter(|m| node_id(&m.node) != cluster.id)
    {
        let transport = cluster.client.transport.clone();
        calls.spawn(super::runtime::off_thread(move || {
            transport.keep_warm(&member.peer_address, &from, &member.node)
                || transport.keep_warm(&member.peer_address, &from, &member.node)
        }));
    }
    let mut all_answered = true;
    while let Some(answered) = calls.join_next().await {
        all_answered &= matches!(answered, Ok(Ok(true)));
    }
    all_answered
}
