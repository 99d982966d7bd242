//! When each peer last answered this node's appends: how a leader tells whether it still has its
//! quorum. openraft's own figure (`millis_since_quorum_ack`) is reported only when its metrics change,
//! and a leader cut off from everyone changes nothing, so it would say `leader` with a fresh-looking
//! figure for the whole cut (issue 35).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::NodeId;

/// The last answer to an append from each peer, shared by the network (which records) and the view
/// (which reads).
#[derive(Debug, Clone, Default)]
pub(crate) struct Contacts(Arc<Mutex<BTreeMap<NodeId, Instant>>>);

impl Contacts {
    /// `peer` answered an append now.
    pub(crate) fn heard(&self, peer: NodeId) {
        self.heard_at(peer, Instant::now());
    }

    fn heard_at(&self, peer: NodeId, at: Instant) {
        let mut last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        last.insert(peer, at);
    }

    /// How long before `now` `peer` last answered an append (never, since this process started: none).
    pub(crate) fn since(&self, peer: NodeId, now: Instant) -> Option<Duration> {
        let last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        last.get(&peer).map(|at| now.saturating_duration_since(*at))
    }

    /// Whether this node, counting itself, heard from a majority of `voters` within `within` of `now`.
    pub(crate) fn quorum(
        &self,
        own: NodeId,
        voters: &[NodeId],
        within: Duration,
        now: Instant,
    ) -> bool {
        let last = self.0.lock().unwrap_or_else(|p| p.into_inner());
        let heard = voters
            .iter()
            .filter(|v| {
                **v == own
                    || last
                        .get(v)
                        .is_some_and(|at| now.duration_since(*at) <= within)
            })
            .count();
        heard > voters.len() / 2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_leader_has_its_quorum_while_a_majority_answered_within_the_window() {
        let contacts = Contacts::default();
        let t0 = Instant::now();
        let within = Duration::from_millis(1_000);
        let voters = [1, 2, 3];
        // Alone, a leader of three has no quorum.
        assert!(!contacts.quorum(1, &voters, within, t0));
        contacts.heard_at(2, t0);
        assert!(contacts.quorum(1, &voters, within, t0 + within));
        // Past the window without another answer: lost.
        assert!(!contacts.quorum(1, &voters, within, t0 + within + Duration::from_millis(1)));
        // Four voters need three.
        contacts.heard_at(3, t0);
        assert!(!contacts.quorum(
            1,
            &[1, 2, 3, 4],
            within,
            t0 + within + Duration::from_millis(1)
        ));
        assert!(contacts.quorum(1, &[1, 2, 3, 4], within, t0));
    }
}
