//! When each peer last answered this node's appends: how a leader tells whether it still has its
//! quorum. openraft's own figure (`millis_since_quorum_ack`) is reported only when its metrics change,
//! and a leader cut off from everyone changes nothing, so it would say `leader` with a fresh-looking
//! figure for the whole cut (issue 35). It also keeps each peer's last measured round trip, which the
//! cluster's timings must leave room for (`Timing::for_round_trip`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::NodeId;

/// The last answer to an append from each peer, shared by the network (which records) and the view
/// (which reads).
#[derive(Debug, Clone, Default)]
pub(crate) struct Contacts(Arc<Mutex<Record>>);

#[derive(Debug, Default)]
struct Record {
    /// When each peer last answered an append in time.
    answered: BTreeMap<NodeId, Instant>,
    /// Each peer's last measured round trip, an answer that came too late for openraft included.
    round_trips: BTreeMap<NodeId, Duration>,
    /// Peers whose round trip was already reported as too long for the timings.
    reported: BTreeSet<NodeId>,
}

impl Contacts {
    fn record(&self) -> std::sync::MutexGuard<'_, Record> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `peer` answered an append now.
    pub(crate) fn heard(&self, peer: NodeId) {
        self.heard_at(peer, Instant::now());
    }

    fn heard_at(&self, peer: NodeId, at: Instant) {
        self.record().answered.insert(peer, at);
    }

    /// How long before `now` `peer` last answered an append (never, since this process started: none).
    pub(crate) fn since(&self, peer: NodeId, now: Instant) -> Option<Duration> {
        let record = self.record();
        record
            .answered
            .get(&peer)
            .map(|at| now.saturating_duration_since(*at))
    }

    /// A request to `peer` was answered `round_trip` after it was sent. Returns true the first time
    /// a round trip over `budget` is measured for `peer` (to be reported once, not at every heartbeat).
    pub(crate) fn measured(&self, peer: NodeId, round_trip: Duration, budget: Duration) -> bool {
        let mut record = self.record();
        record.round_trips.insert(peer, round_trip);
        round_trip > budget && record.reported.insert(peer)
    }

    /// `peer`'s last measured round trip.
    pub(crate) fn round_trip(&self, peer: NodeId) -> Option<Duration> {
        self.record().round_trips.get(&peer).copied()
    }

    /// Whether this node, counting itself, heard from a majority of `voters` within `within` of `now`.
    pub(crate) fn quorum(
        &self,
        own: NodeId,
        voters: &[NodeId],
        within: Duration,
        now: Instant,
    ) -> bool {
        let record = self.record();
        let last = &record.answered;
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

    #[test]
    fn a_round_trip_over_the_budget_is_reported_once_and_kept() {
        let contacts = Contacts::default();
        let budget = Duration::from_millis(100);
        assert!(!contacts.measured(2, Duration::from_millis(30), budget));
        assert!(contacts.measured(2, Duration::from_millis(180), budget));
        assert!(!contacts.measured(2, Duration::from_millis(190), budget));
        assert_eq!(contacts.round_trip(2), Some(Duration::from_millis(190)));
        assert_eq!(contacts.round_trip(3), None);
    }
}
