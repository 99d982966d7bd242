//! The node's limits, each enforced at the boundary with its own error code and tested at its edge.

/// Largest HTTP request body (a batch of transactions, or one `ISSUE` with its document).
pub const REQUEST_BODY_BYTES_MAX: usize = 4 * 1024 * 1024;
/// Most transactions in one submitted batch.
pub const BATCH_TRANSACTIONS_MAX: usize = 1024;
/// Most transactions waiting to be ordered; past this, submissions get `queue_full` (back-pressure).
pub const PENDING_TRANSACTIONS_MAX: usize = 16 * 1024;
/// Most open client connections; further connections wait to be accepted.
pub const CONNECTIONS_MAX: usize = 512;
/// Most connections open at once from one address: more are closed as they arrive, so that one client
/// cannot take every connection and lock the others out.
pub const CONNECTIONS_PER_ADDRESS_MAX: usize = 64;
/// How long a connection may sit with nothing read or written before it is closed (an idle keep-alive
/// or a request that stopped half-way); longer than `REQUEST_TIMEOUT_MS`, so a request the node is still
/// working on is never cut by it.
pub const CONNECTION_IDLE_MS: u64 = 35_000;
// The promise above, checked where the numbers are: an idle cut never ends a request still in time.
const _: () = assert!(CONNECTION_IDLE_MS > REQUEST_TIMEOUT_MS);
/// How long a client has to send a whole request header (and to finish a TLS handshake), counted from
/// the connection's start or the end of its previous request: a client that trickles a header byte by
/// byte is closed after it, however often a byte arrives.
pub const HEADER_READ_MS: u64 = 10_000;
pub use ebl_consensus::limits::{BLOCK_TRANSACTIONS_MAX, BLOCK_WAIT_MS, PROPOSAL_WAIT_MS};
/// How far a signed read request's time may be from the node's clock (the protocol's limit).
pub const REQUEST_SKEW_MS_MAX: u64 = ebl_core::limits::REQUEST_SKEW_MS_MAX;
/// Most signed requests remembered at once (each for twice the skew), to refuse a replay; past it the
/// node answers 503 rather than forget one early.
pub const SEEN_REQUESTS_MAX: usize = 100_000;
/// Most signed requests of one key remembered at once: a party reading 100 times a second for the
/// whole window fits; one key cannot fill the memory for the rest.
pub const SEEN_PER_KEY_MAX: usize = 10_000;
/// Most peer requests remembered at once (each for twice the skew), to refuse a replayed one: a
/// leader's appends and heartbeats to one follower at full load are about 600 a second, 36 000 in the
/// window; past this the node answers 503 (Raft retries) rather than forget one early.
pub const SEEN_PEER_REQUESTS_MAX: usize = 200_000;
/// How long one request may take, body included, before it is cut off (slow clients hold no slot forever).
pub const REQUEST_TIMEOUT_MS: u64 = 30_000;
/// Transactions between two state checkpoints: bill and party states are written at most this far apart
/// (and at every graceful stop), and at most this many transactions are replayed when the node starts.
pub const CHECKPOINT_TRANSACTIONS: usize = 100_000;
