//! How many bytes of entries the next append to one peer carries: as many as it takes in and answers
//! within the time openraft gives an append, learnt from its answers.
//!
//! openraft 0.9 gives every append one heartbeat interval to be answered and sends the same entries
//! again after a timeout, so an append too large for the peer to take in by then is never taken: the
//! peer falls behind for good (issue 35, seen with 4 MiB appends at the one-site heartbeat of 60 ms).
//! What fits depends on the link and the peer (a 250 ms round trip leaves 70 ms of a 321 ms
//! heartbeat; 100 Mbit/s carries 4 MiB in 335 ms), so the budget starts at `APPEND_BYTES_MAX`, halves
//! at each timeout, and doubles again while appends that used it are answered in under half of the
//! time the link's quickest round trip leaves.

use std::time::Duration;

use super::peer::APPEND_BYTES_MAX;

/// The least budget; the first entry of an append is sent whatever its size.
pub(crate) const APPEND_BYTES_MIN: usize = 256 * 1024;

/// One peer's append budget.
#[derive(Debug, Clone)]
pub(crate) struct AppendBudget {
    bytes: usize,
    /// The quickest answer to an append seen from this peer: its round trip with nothing to take in.
    quickest: Option<Duration>,
}

impl Default for AppendBudget {
    fn default() -> AppendBudget {
        AppendBudget {
            bytes: APPEND_BYTES_MAX,
            quickest: None,
        }
    }
}

impl AppendBudget {
    /// How many bytes of entries the next append carries.
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
    }

    /// An append of `sent` bytes of entries was answered after `took`, of `allowed`.
    pub(crate) fn answered(&mut self, sent: usize, took: Duration, allowed: Duration) {
        let quickest = self.quickest.map_or(took, |q| q.min(took));
        self.quickest = Some(quickest);
        let left = allowed.saturating_sub(quickest);
        let taking_in = took.saturating_sub(quickest);
        if sent * 2 >= self.bytes && taking_in < left / 2 {
            self.bytes = (self.bytes * 2).min(APPEND_BYTES_MAX);
        }
    }

    /// An append was not answered in time.
    pub(crate) fn timed_out(&mut self) {
        self.bytes = (self.bytes / 2).max(APPEND_BYTES_MIN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn the_budget_halves_at_each_timeout_and_doubles_back_while_answers_come_quickly() {
        let mut budget = AppendBudget::default();
        assert_eq!(budget.bytes(), APPEND_BYTES_MAX);
        budget.timed_out();
        budget.timed_out();
        assert_eq!(budget.bytes(), APPEND_BYTES_MAX / 4);
        for _ in 0..10 {
            budget.timed_out();
        }
        assert_eq!(budget.bytes(), APPEND_BYTES_MIN);
        // A heartbeat (nothing sent) teaches the round trip but grows nothing.
        budget.answered(0, MS(10), MS(60));
        assert_eq!(budget.bytes(), APPEND_BYTES_MIN);
        // Used and answered quickly: doubles.
        budget.answered(APPEND_BYTES_MIN, MS(20), MS(60));
        assert_eq!(budget.bytes(), 2 * APPEND_BYTES_MIN);
        // Used, but the taking in took half of what the round trip leaves: stays.
        budget.answered(2 * APPEND_BYTES_MIN, MS(35), MS(60));
        assert_eq!(budget.bytes(), 2 * APPEND_BYTES_MIN);
    }

    #[test]
    fn a_wan_peer_grows_its_budget_by_what_the_round_trip_leaves_not_by_the_whole_timeout() {
        let mut budget = AppendBudget::default();
        budget.timed_out();
        // 250 ms away, 321 ms allowed: 71 ms to take an append in.
        budget.answered(0, MS(250), MS(321));
        budget.answered(budget.bytes(), MS(280), MS(321));
        assert_eq!(budget.bytes(), APPEND_BYTES_MAX);
        budget.timed_out();
        budget.answered(budget.bytes(), MS(290), MS(321));
        assert_eq!(
            budget.bytes(),
            APPEND_BYTES_MAX / 2,
            "40 of 71 ms: no growth"
        );
    }
}
