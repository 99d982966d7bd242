//! The bounds ordering keeps: how many transactions a block holds and how long a block waits to fill.
//! The node's `limits` module re-exports them beside its own.

/// Most transactions in one block (group commit closes the block earlier when the queue is empty).
pub const BLOCK_TRANSACTIONS_MAX: usize = ebl_core::limits::BLOCK_TRANSACTIONS_MAX;
/// How long the sequencer waits for more transactions before closing a block: none. A block takes what
/// is queued when the one before it is written; under load that is a large block anyway (submissions
/// gather while the previous block is written and synced, and the durability stage takes one block at a
/// time). Measured on the 2-core machine against 2 ms: one client's single transactions 4.5 -> 1.8 ms
/// p50, and 4 x 64 within 50 ms 55.6 % of the limit against 51.3 % (docs/benchmarks.md).
pub const BLOCK_WAIT_MS: u64 = 0;
/// How long a cluster's leader waits for more transactions before proposing them: each proposal is a
/// Raft entry, sent to every member and synced by a quorum, so it is worth filling (not measured at 0).
pub const PROPOSAL_WAIT_MS: u64 = 2;
/// How far a signed peer request's time may be from this node's clock (the protocol's limit).
pub const REQUEST_SKEW_MS_MAX: u64 = ebl_core::limits::REQUEST_SKEW_MS_MAX;
/// How many proposals a cluster's leader keeps in flight: each names the block the one before it will
/// make, so several are replicated in one append instead of one commit (two round trips to the nearest
/// member) each (issue 35: at WAN latency one in flight held the leader to 256 transactions a commit).
/// Each proposal stays in flight for about two round trips to the nearest member (it waits for the
/// append in flight before it, then its own), so a leader commits about half of these per round trip:
/// with four, a leader 150 ms from its nearest member was held to about 3 400 tx/s, with eight to
/// 3 436; sixteen fit one append of `cluster::peer::APPEND_BYTES_MAX` (docs/benchmarks.md).
pub const PROPOSALS_IN_FLIGHT_MAX: usize = 16;
