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
        let peers: Vec<(String, ebl_core::PartyKey)> =
            super::membership::members(&cluster.published)
                .into_iter()
                .filter(|m| node_id(&m.node) != cluster.id)
                .map(|m| (m.peer_address, m.node))
                .collect();
        let transport = cluster.client.transport.clone();
        let from = ebl_core::PartyKey::of(&cluster.client.key);
        all_answered = super::runtime::off_thread(move || {
            // Every member is called, whichever did not answer.
            let answered: Vec<bool> = peers
                .iter()
                .map(|(address, to)| transport.keep_warm(address, &from, to))
                .collect();
            answered.into_iter().all(|a| a)
        })
        .await
        .unwrap_or(false);
    }
}
