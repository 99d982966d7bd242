//! Node-to-node traffic: every request is signed by the sending member node's key and every answer by
//! the answering node's, both over the chain id, so neither a stranger on the network nor a party's key
//! can speak for a member node; refusals are named, logged, and change nothing.

use std::sync::Arc;
use std::time::Duration;

use ebl_core::api::{sign_peer_request, verify_peer_answer};
use ebl_core::{
    codec, ChainId, PartyKey, SignatureBytes, SignedBlockHeader, SignedTransaction, SigningKey,
};
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::limits::REQUEST_SKEW_MS_MAX;

/// Raft's append-entries (and heartbeats).
pub const PATH_APPEND: &str = "/v1/peer/append";
/// Raft's vote requests.
pub const PATH_VOTE: &str = "/v1/peer/vote";
/// Raft's snapshot installs (a snapshot names only the head it reaches).
pub const PATH_SNAPSHOT: &str = "/v1/peer/snapshot";
/// Blocks with their transactions, for a node catching up behind a snapshot.
pub const PATH_BLOCKS: &str = "/v1/peer/blocks";
/// A block's signatures by this node, collected into finality certificates.
pub const PATH_CERTIFICATE: &str = "/v1/peer/certificate";
/// The leader's confirmation of its commit index, for linearizable reads.
pub const PATH_READ_INDEX: &str = "/v1/peer/read-index";
/// A member node's request that this node vouch for its status statement (chain format 7).
pub const PATH_STATEMENT: &str = "/v1/peer/statement";
/// An auditor's node sending its grant to follow as a learner (`super::follow`).
pub const PATH_FOLLOW: &str = "/v1/peer/follow";

/// The most blocks one catch-up request returns (fewer when they would pass `FETCH_BYTES_MAX`).
pub const FETCH_BLOCKS_MAX: u64 = 64;

/// The largest peer message: a Raft append of up to `APPEND_ENTRIES_MAX` full proposals, or a fetch
/// of blocks within `FETCH_BYTES_MAX`.
pub const PEER_MESSAGE_BYTES_MAX: usize = ebl_core::codec::MESSAGE_BYTES_MAX;

/// The most Raft entries one append carries (openraft's `max_payload_entries`); what bounds an append
/// is its bytes, `APPEND_BYTES_MAX`.
pub const APPEND_ENTRIES_MAX: u64 = 64;

/// The most bytes of entries one append carries: the network sends the longest run of the entries
/// openraft hands it that fits the peer's budget (`budget`, at most this), the first whatever its
/// size, and tells openraft how far it got (a partial success), so the rest go in the next append.
/// Issue 35: appends were bounded by count alone, as many of the largest possible proposals (24.6 MB)
/// as fit a peer message: two, whatever their real size (about 490 KB), so a leader whose nearest
/// member is a WAN away committed two proposals per round trip. Enough for 16 proposals of about 490 KB,
/// those a busy leader keeps in flight (`PROPOSALS_IN_FLIGHT_MAX`).
pub const APPEND_BYTES_MAX: usize = 8 * 1024 * 1024;
// Whatever one entry's size, an append of it alone fits a peer message, as does an append of
// `APPEND_BYTES_MAX` bytes of entries and one more entry past them (the run is cut after it exceeds).
const _: () = assert!(
    APPEND_BYTES_MAX + ebl_core::proposal::PROPOSAL_BYTES_MAX + 64 * 1024 <= PEER_MESSAGE_BYTES_MAX
);

/// How many of `entries`, from the first, one append carries, and their bytes: those whose encodings
/// fit in `budget` bytes together, and the first whatever its size.
pub(crate) fn entries_fitting<T: serde::Serialize>(entries: &[T], budget: usize) -> (usize, usize) {
    let mut total = 0usize;
    for (i, entry) in entries.iter().enumerate() {
        let size = codec::encoded_len(entry);
        if i > 0 && total.saturating_add(size) > budget {
            return (i, total);
        }
        total = total.saturating_add(size);
    }
    (entries.len(), total)
}

/// The most bytes of blocks one catch-up answer carries, past its first block (always sent): half a
/// peer message, so the answer's framing fits beside them.
pub const FETCH_BYTES_MAX: usize = PEER_MESSAGE_BYTES_MAX / 2;

/// Why a peer request was refused. Each has a stable code, shown in the answer and the log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerRefusal {
    /// No node signature on the request.
    #[error("the request carries no node signature")]
    Unsigned,
    /// Signed by a key that is no member's node key.
    #[error("key {0} is not a member node of this chain")]
    NotAMemberNode(String),
    /// The signature does not verify.
    #[error("the node signature does not verify")]
    BadSignature,
    /// Signed too far from this node's clock (a replay, or a clock to fix).
    #[error("the request time is more than {REQUEST_SKEW_MS_MAX} ms from this node's clock")]
    TimeSkew,
    /// A Raft message naming another node as its sender than the one that signed it.
    #[error("the message speaks for node {claimed}, but node {sender} signed it")]
    NotTheSender {
        /// The node the message names.
        claimed: u64,
        /// The node that signed it.
        sender: u64,
    },
    /// A body that does not decode.
    #[error("the message is malformed: {0}")]
    Malformed(String),
    /// A peer request to a one-member chain's node.
    #[error("this node is not in a cluster")]
    NotClustered,
    /// A signed peer request this node answered before: each is taken once.
    #[error("this signed peer request was answered before")]
    Replayed,
    /// The memory of answered peer requests is full (`SEEN_PEER_REQUESTS_MAX`).
    #[error("this node remembers too many peer requests now; retry")]
    Busy,
    /// A vote or an append signed by a node that is no voter: an auditor's node follows; it does not
    /// campaign or lead.
    #[error("node key {0} is no voter: a following node may not campaign or lead")]
    NotAVoter(String),
    /// A grant to follow sent by another node than the one it names.
    #[error("the grant names another node than {0}, which sent it")]
    GrantOfAnotherNode(String),
    /// A grant to follow that does not hold on this node's registry.
    #[error("the grant to follow does not hold: {0}")]
    Grant(ebl_core::Error),
    /// This node does not vouch for the statement it was asked to sign.
    #[error("this node does not vouch for the statement: {0}")]
    Unvouched(#[from] super::vouch::Unvouched),
}

impl PeerRefusal {
    /// The stable code the answer and the log show.
    pub fn code(&self) -> &'static str {
        match self {
            PeerRefusal::Unsigned => "peer_unsigned",
            PeerRefusal::NotAMemberNode(_) => "peer_not_a_member",
            PeerRefusal::BadSignature => "peer_bad_signature",
            PeerRefusal::TimeSkew => "peer_time_skew",
            PeerRefusal::NotTheSender { .. } => "peer_not_the_sender",
            PeerRefusal::Malformed(_) => "peer_malformed",
            PeerRefusal::NotClustered => "peer_not_clustered",
            PeerRefusal::Replayed => "peer_request_replayed",
            PeerRefusal::Busy => "peer_busy",
            PeerRefusal::Unvouched(why) => why.code(),
            PeerRefusal::NotAVoter(_) => "peer_not_a_voter",
            PeerRefusal::GrantOfAnotherNode(_) => "peer_grant_of_another_node",
            PeerRefusal::Grant(why) => why.code(),
        }
    }
}

/// A request for blocks `from..from+count` with their transactions, to catch up.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BlocksRequest {
    /// The first height wanted.
    pub from: u64,
    /// How many (at most `FETCH_BLOCKS_MAX` are answered).
    pub count: u64,
}

/// A block as a peer sends it to a node catching up: checked there like any block before it is written.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchedBlock {
    /// Its signed header.
    pub header: SignedBlockHeader,
    /// Its transactions, in order.
    pub transactions: Vec<SignedTransaction>,
}

/// The heights a request for blocks is answered with: from `from` (at least 1), at most `count` and at
/// most `FETCH_BLOCKS_MAX` of them, none above `durable`. Checked arithmetic: a `count` of 0 asks for
/// nothing (it once underflowed into the whole chain, past the cap).
pub fn fetch_range(request: &BlocksRequest, durable: u64) -> std::ops::Range<u64> {
    let first = request.from.max(1);
    let count = request.count.min(FETCH_BLOCKS_MAX);
    // An overflow asks for nothing; so does a `count` of 0, or a `from` past the durable head.
    let end = first
        .checked_add(count)
        .map_or(first, |end| end.min(durable.saturating_add(1)));
    first..end.max(first)
}

/// A catch-up answer's blocks: read in height order from `blocks` (which stops at the first height not
/// stored), as many as fit `max` bytes encoded (`size`), and never fewer than one: a block larger than the
/// budget is still sent alone, so that a peer is never stuck behind it. Nothing past the budget is read.
pub fn within_fetch_bytes<T, E>(
    blocks: impl Iterator<Item = Result<T, E>>,
    size: impl Fn(&T) -> usize,
    max: usize,
) -> Result<Vec<T>, E> {
    let mut out = Vec::new();
    let mut bytes = 0usize;
    for block in blocks {
        let block = block?;
        bytes = bytes.saturating_add(size(&block));
        if !out.is_empty() && bytes > max {
            break;
        }
        out.push(block);
    }
    Ok(out)
}

/// One signed request to a peer, as the transport carries it: the signature covers the chain, the
/// path, the body and the time (`ebl_core::api::sign_peer_request`).
#[derive(Debug)]
pub struct PeerRequest<'a> {
    /// The peer's address (`host:port`).
    pub address: &'a str,
    /// The node key that serves there: its answer must be signed by it, and its TLS certificate be
    /// that member's (when the peer certificates name their nodes).
    pub to: &'a PartyKey,
    /// One of the `PATH_*`.
    pub path: &'a str,
    /// The codec's bytes of the message.
    pub body: &'a [u8],
    /// The sending node's key.
    pub key: PartyKey,
    /// When it was signed (ms since the epoch).
    pub time: u64,
    /// The sending node's signature.
    pub signature: SignatureBytes,
    /// How long the whole exchange may take.
    pub timeout: Duration,
}

/// A peer's answer as it arrived, before its signature is checked.
#[derive(Debug)]
pub struct PeerAnswer {
    /// The HTTP status (200 for an answer, else a refusal with its code in a JSON body).
    pub status: u16,
    /// The answering node's signature over the request's signature and the body, if it sent one.
    pub signature: Option<SignatureBytes>,
    /// The body.
    pub body: Vec<u8>,
}

/// How signed peer requests travel: the node's HTTP client in production (blocking; called off the
/// async threads). A request that reaches no one is [`PeerError::Unreachable`].
pub trait PeerTransport: Send + Sync + std::fmt::Debug {
    /// Sends `request` and returns the answer as it came.
    fn send(&self, request: &PeerRequest<'_>) -> Result<PeerAnswer, PeerError>;

    /// Keeps a connection to the peer at `address` (whose node key is `to`) open for the next request
    /// (blocking), naming `from`, the sending node. At WAN latency a new connection costs a round trip that the
    /// cluster's timings do not count: a vote or a new leader's first append over one timed out. Best
    /// effort: whether the peer answered (a transport without connections has none to keep: true).
    fn keep_warm(&self, _address: &str, _from: &PartyKey, _to: &PartyKey) -> bool {
        true
    }
}

/// How often every member node's connection to every other is used, if nothing else used it: well
/// within an HTTP client's idle limit (ureq's 15 s) and the nodes' (`CONNECTION_IDLE_MS`, 35 s).
pub const KEEP_WARM_MS: u64 = 5_000;
/// How soon a peer that did not answer is tried again (at start, the others' nodes may not be up yet).
pub const KEEP_WARM_RETRY_MS: u64 = 500;

/// Why a request to a peer failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// No answer.
    #[error("cannot reach {address}: {reason}")]
    Unreachable {
        /// The peer's address.
        address: String,
        /// The connection's error.
        reason: String,
    },
    /// The peer refused the request.
    #[error("{address} refused: {code} ({status})")]
    Refused {
        /// The peer's address.
        address: String,
        /// The HTTP status.
        status: u16,
        /// The refusal's code.
        code: String,
    },
    /// The peer at the address presented a certificate trusted for another member's node, not for the
    /// member that serves there (`peer_certificate_not_members`).
    #[error("{address} presented a certificate that is not member node {member}'s: refused [peer_certificate_not_members]")]
    NotMembersCertificate {
        /// The peer's address.
        address: String,
        /// The node key that serves there, by the registry.
        member: String,
    },
    /// An answer not signed by the peer's node key.
    #[error("{address} answered without a valid signature of its node key")]
    UnsignedAnswer {
        /// The peer's address.
        address: String,
    },
    /// An answer that does not decode.
    #[error("{address} answered something malformed: {reason}")]
    BadAnswer {
        /// The peer's address.
        address: String,
        /// What could not be read.
        reason: String,
    },
}

/// Sends signed requests to peers and checks their signed answers (blocking; call off async threads).
#[derive(Debug, Clone)]
pub struct PeerClient {
    /// The chain every request is signed for.
    pub chain: ChainId,
    /// This node's key, which signs every request.
    pub key: SigningKey,
    /// How the requests travel (the node's HTTP client).
    pub transport: Arc<dyn PeerTransport>,
    /// The clock the request times are read from.
    pub clock: Arc<dyn Clock>,
    last_time: Arc<std::sync::atomic::AtomicU64>,
}

impl PeerClient {
    /// A client signing for `chain` with `key`, its requests carried by `transport`.
    pub fn new(
        chain: ChainId,
        key: SigningKey,
        transport: Arc<dyn PeerTransport>,
        clock: Arc<dyn Clock>,
    ) -> PeerClient {
        PeerClient {
            chain,
            key,
            transport,
            clock,
            last_time: Arc::new(std::sync::atomic::AtomicU64::new(0)),
        }
    }

    /// A request time that never repeats in this process: two requests in one millisecond with the
    /// same body would otherwise carry the same signature.
    fn time(&self) -> u64 {
        let now = self.clock.now_ms();
        let mut last = self.last_time.load(std::sync::atomic::Ordering::SeqCst);
        loop {
            let next = now.max(last + 1);
            match self.last_time.compare_exchange(
                last,
                next,
                std::sync::atomic::Ordering::SeqCst,
                std::sync::atomic::Ordering::SeqCst,
            ) {
                Ok(_) => return next,
                Err(seen) => last = seen,
            }
        }
    }

    /// Asks every one of `members` at once (a thread each) to answer `path` with `body`, and hands
    /// over their decoded answers as they come, or why each gave none: the caller takes what it needs
    /// and stops, without waiting out a member that is cut off. A late answer finds the channel gone
    /// and is dropped with its thread.
    pub fn ask_each<T: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        members: Vec<ebl_core::Member>,
        path: &'static str,
        body: Vec<u8>,
        timeout: Duration,
    ) -> std::sync::mpsc::Receiver<(ebl_core::Member, Result<T, PeerError>)> {
        let (answers, arriving) = std::sync::mpsc::channel();
        for member in members {
            let (client, body, answers) = (self.clone(), body.clone(), answers.clone());
            std::thread::spawn(move || {
                let answer = client
                    .post(&member.peer_address, &member.node, path, &body, timeout)
                    .and_then(|b| {
                        codec::decode_message(&b, PEER_MESSAGE_BYTES_MAX).map_err(|e| {
                            PeerError::BadAnswer {
                                address: member.peer_address.clone(),
                                reason: e.to_string(),
                            }
                        })
                    });
                let _ = answers.send((member, answer));
            });
        }
        arriving
    }

    /// POSTs `body` to `path` at `address` (`host:port`), and returns the answer's body once `expected`
    /// (the node key that serves there) has signed it.
    pub fn post(
        &self,
        address: &str,
        expected: &PartyKey,
        path: &str,
        body: &[u8],
        timeout: Duration,
    ) -> Result<Vec<u8>, PeerError> {
        let time = self.time();
        let signature = sign_peer_request(&self.key, &self.chain, path, body, time);
        let PeerAnswer {
            status,
            signature: answer_signature,
            body: answer,
        } = self.transport.send(&PeerRequest {
            address,
            to: expected,
            path,
            body,
            key: PartyKey::of(&self.key),
            time,
            signature,
            timeout,
        })?;
        if status != 200 {
            let code = serde_json::from_slice::<serde_json::Value>(&answer)
                .ok()
                .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "unknown".into());
            return Err(PeerError::Refused {
                address: address.to_owned(),
                status,
                code,
            });
        }
        match answer_signature {
            Some(s) if verify_peer_answer(expected, &self.chain, &signature, &answer, &s) => {
                Ok(answer)
            }
            _ => Err(PeerError::UnsignedAnswer {
                address: address.to_owned(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An append carries entries up to its budget of their bytes, and the first one always.
    #[test]
    fn an_append_carries_the_entries_that_fit_its_bytes_and_the_first_always() {
        const MIB: usize = 1024 * 1024;
        // A byte vector encodes as its 8-byte length and its bytes.
        let entries = |sizes: &[usize]| -> Vec<Vec<u8>> {
            sizes.iter().map(|mib| vec![0u8; mib * MIB - 8]).collect()
        };
        let fitting = |sizes: &[usize]| entries_fitting(&entries(sizes), 4 * MIB).0;
        assert_eq!(fitting(&[1, 1, 1, 1]), 4, "exactly the bound");
        assert_eq!(
            fitting(&[1, 1, 1, 1, 1]),
            4,
            "one past it waits for the next"
        );
        assert_eq!(fitting(&[3, 3]), 1);
        assert_eq!(fitting(&[20, 1]), 1, "a large first entry goes alone");
        assert_eq!(fitting(&[1]), 1);
        assert_eq!(fitting(&[]), 0);
        let small: Vec<Vec<u8>> = (0..64).map(|_| vec![0u8; 1_000]).collect();
        assert_eq!(entries_fitting(&small, APPEND_BYTES_MAX), (64, 64 * 1_008));
        // The bytes are those of the entries carried, not of those left for the next append.
        assert_eq!(entries_fitting(&entries(&[3, 3]), 4 * MIB), (1, 3 * MIB));
    }

    /// Finding 11 of the attack review: `count: 0` underflowed and answered the whole chain, past the
    /// cap.
    #[test]
    fn regression_a_request_for_no_blocks_gets_none() {
        let range = |from, count| fetch_range(&BlocksRequest { from, count }, 1_000);
        for from in [0, 1, 5, u64::MAX] {
            assert!(range(from, 0).is_empty(), "from {from}");
        }
        assert_eq!(range(0, 3), 1..4);
        assert_eq!(range(999, 10), 999..1_001);
        assert!(range(1_001, 10).is_empty());
        assert!(range(u64::MAX, 2).is_empty());
        // FETCH_BLOCKS_MAX at its bound.
        assert_eq!(range(1, u64::MAX), 1..FETCH_BLOCKS_MAX + 1);
    }

    /// `FETCH_BYTES_MAX` at its bound (issue 35 left it untested): blocks that fill the budget exactly are
    /// all sent, one byte more stops before the block that passes it, and a block over the budget on its
    /// own is still sent, alone.
    #[test]
    fn a_catch_up_answer_fills_fetch_bytes_max_and_no_more() {
        let take = |sizes: &[usize]| -> Vec<usize> {
            let blocks = sizes.iter().map(|s| Ok::<_, ()>(*s));
            within_fetch_bytes(blocks, |s| *s, FETCH_BYTES_MAX).unwrap_or_default()
        };
        let half = FETCH_BYTES_MAX / 2;
        let rest = FETCH_BYTES_MAX - half;
        assert_eq!(take(&[half, rest]), [half, rest], "exactly the budget");
        assert_eq!(take(&[half, rest + 1, 1]), [half], "one byte over");
        assert_eq!(take(&[half, rest, 1]), [half, rest], "the budget full");
        assert_eq!(
            take(&[FETCH_BYTES_MAX + 1, 1]),
            [FETCH_BYTES_MAX + 1],
            "an oversized block goes alone"
        );
        assert!(take(&[]).is_empty());
        // A block that cannot be read ends the answer with its error, nothing after it read.
        let mut read = 0;
        let blocks = [Ok(1), Err("unreadable"), Ok(1)]
            .into_iter()
            .inspect(|_| read += 1);
        assert_eq!(
            within_fetch_bytes(blocks, |s: &usize| *s, FETCH_BYTES_MAX),
            Err("unreadable")
        );
        assert_eq!(read, 2);
    }
}
