//! What the node and its clients exchange: receipts, signed status statements, submission outcomes and
//! signed read requests. Plain data and pure functions; the HTTP itself lives in the node and the wallet.

use ed25519_dalek::SigningKey;
use serde::{Deserialize, Serialize};

use crate::bill::{Bill, Pledge, Status, Title};
use crate::block::{BlockHeader, InclusionProof};
use crate::certificate::Certificate;
use crate::codec;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::keys::{sign_in_context, verify_in_context, verify_value, PartyKey, SignatureBytes};
use crate::party::PartyId;
use crate::transaction::{BillId, ChainId, SignedTransaction, TxId};

/// Context of the node's signature over a bill status statement.
pub const STATEMENT_CONTEXT: &[u8] = b"ebl/statement/v1\0";
/// Context of a party's signature over an HTTP read request.
pub const REQUEST_CONTEXT: &[u8] = b"ebl/request/v1\0";

/// Where an accepted transaction sits, with the proof that its block commits to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The transaction.
    pub tx: TxId,
    /// The height of the block holding it.
    pub height: u64,
    /// Its position in that block.
    pub index: u32,
    /// Hash of the block header holding it.
    pub block: Hash,
    /// The block's time (Unix milliseconds).
    pub block_time_ms: u64,
    /// The proof that the block's Merkle root commits to it.
    pub proof: InclusionProof,
}

impl Receipt {
    /// Checks the inclusion proof against a header (whose signatures the caller checks).
    pub fn verify(&self, header: &BlockHeader) -> Result<()> {
        if header.height != self.height || header.hash() != self.block {
            return Err(Error::BadInclusionProof);
        }
        if self.proof.index != self.index || self.proof.count != header.tx_count {
            return Err(Error::BadInclusionProof);
        }
        self.proof.verify(&self.tx, &header.tx_root)
    }
}

/// A rule's refusal as the API and CLI show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The broken rule's stable code.
    pub code: String,
    /// What is wrong, in words.
    pub message: String,
}

impl From<&Error> for ErrorBody {
    fn from(e: &Error) -> ErrorBody {
        ErrorBody {
            code: e.code().to_owned(),
            message: e.to_string(),
        }
    }
}

/// What became of one submitted transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum SubmitOutcome {
    /// Ordered, applied, and on stable storage.
    Accepted {
        /// The transaction's id.
        id: TxId,
        /// Where it sits.
        receipt: Receipt,
        /// The block's finality certificate, when the client asked for a final receipt (`?final=true`).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        certificate: Option<Certificate>,
    },
    /// Already on the ledger: the original receipt; nothing changed.
    Duplicate {
        /// The transaction's id.
        id: TxId,
        /// Where it already sits.
        receipt: Receipt,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        /// The block's finality certificate, when the client asked for a final receipt.
        certificate: Option<Certificate>,
    },
    /// Refused by a rule; nothing changed.
    Rejected {
        /// The transaction's id.
        id: TxId,
        /// The broken rule.
        error: ErrorBody,
    },
}

impl SubmitOutcome {
    /// The transaction's id, whatever became of it.
    pub fn id(&self) -> TxId {
        match self {
            SubmitOutcome::Accepted { id, .. }
            | SubmitOutcome::Duplicate { id, .. }
            | SubmitOutcome::Rejected { id, .. } => *id,
        }
    }

    /// Attaches the certificate of the block the receipt names.
    pub fn certify(&mut self, with: &Certificate) {
        match self {
            SubmitOutcome::Accepted {
                receipt,
                certificate,
                ..
            }
            | SubmitOutcome::Duplicate {
                receipt,
                certificate,
                ..
            } if with.header.hash() == receipt.block => *certificate = Some(with.clone()),
            _ => {}
        }
    }

    /// The receipt and, for a final receipt, its block's certificate; none for a refusal.
    pub fn certified(&self) -> Option<(&Receipt, Option<&Certificate>)> {
        match self {
            SubmitOutcome::Accepted {
                receipt,
                certificate,
                ..
            }
            | SubmitOutcome::Duplicate {
                receipt,
                certificate,
                ..
            } => Some((receipt, certificate.as_ref())),
            SubmitOutcome::Rejected { .. } => None,
        }
    }

    /// Where it sits, if it is on the ledger.
    pub fn receipt(&self) -> Option<&Receipt> {
        match self {
            SubmitOutcome::Accepted { receipt, .. } | SubmitOutcome::Duplicate { receipt, .. } => {
                Some(receipt)
            }
            SubmitOutcome::Rejected { .. } => None,
        }
    }
}

/// A batch of transactions submitted together, ordered in the order given.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BatchRequest {
    /// The transactions, in order.
    pub transactions: Vec<SignedTransaction>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
/// What became of each transaction of a batch, in the order given.
pub struct BatchResponse {
    /// One outcome per transaction.
    pub results: Vec<SubmitOutcome>,
}

/// One transaction of a bill's history with its place on the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// The transaction.
    pub transaction: SignedTransaction,
    /// Where it sits.
    pub receipt: Receipt,
}

/// The registry as a bill's bundle needs it, as `GET /v1/registry/extract` answers (see
/// [`crate::bundle::RegistryProofs`]): the proven entries of the parties asked for and of the consortium,
/// their registry history and the consortium's, and the registry head before each block asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryExtract {
    /// The chain format at the height asked for: the proofs stand in a bundle only from format 8.
    pub format: u16,
    /// The proofs, as of the height asked for.
    pub proofs: crate::bundle::RegistryProofs,
    /// The registry transactions of those parties and of the consortium, in ledger order.
    pub history: Vec<HistoryEntry>,
}

/// The ledger head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// The chain.
    pub chain: ChainId,
    /// The height of the last block (0 before any).
    pub height: u64,
    /// The last block's header hash (the chain id before any).
    pub block: Hash,
    /// The last block's time (Unix milliseconds).
    pub time_ms: u64,
    /// Transactions on the ledger in all.
    pub transactions: u64,
}

/// What the node states about a bill at a height: the freshness proof a bank asks for before lending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BillStatement {
    /// The chain.
    pub chain: ChainId,
    /// The bill.
    pub bill: BillId,
    /// Its last transaction.
    pub head: TxId,
    /// How many transactions it has.
    pub transactions: u32,
    /// Who holds it.
    pub possessor: PartyId,
    /// Where title rests.
    pub title: Title,
    /// The pledge in force, if any.
    pub pledge: Option<Pledge>,
    /// Where it is in its life.
    pub status: Status,
    /// The ledger height and block the statement was made at.
    pub height: u64,
    /// The block's header hash.
    pub block: Hash,
    /// The node's clock when it signed.
    pub time_ms: u64,
}

impl BillStatement {
    /// The statement of `bill` as it stands at `height`, made at `time_ms`.
    pub fn of(
        bill: &Bill,
        chain: ChainId,
        height: u64,
        block: Hash,
        time_ms: u64,
    ) -> BillStatement {
        BillStatement {
            chain,
            bill: bill.id,
            head: bill.head,
            transactions: bill.transactions,
            possessor: bill.possessor,
            title: bill.title.clone(),
            pledge: bill.pledge().cloned(),
            status: bill.status.clone(),
            height,
            block,
            time_ms,
        }
    }

    /// Signs the statement with a member's node key.
    pub fn sign(self, node: &SigningKey) -> SignedStatement {
        let signature = sign_in_context(
            node,
            STATEMENT_CONTEXT,
            self.chain.as_bytes(),
            &codec::encode(&self),
        );
        SignedStatement {
            statement: self,
            signer: PartyKey::of(node),
            signature,
        }
    }

    /// Whether the statement describes exactly this bill state.
    pub fn matches(&self, bill: &Bill) -> bool {
        self.bill == bill.id
            && self.head == bill.head
            && self.transactions == bill.transactions
            && self.possessor == bill.possessor
            && self.title == bill.title
            && self.pledge.as_ref() == bill.pledge()
            && self.status == bill.status
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
/// A bill statement with the node signature that vouches for it.
pub struct SignedStatement {
    /// What is stated.
    pub statement: BillStatement,
    /// The member node key that signed.
    pub signer: PartyKey,
    /// The node's signature over it, in the statement context.
    pub signature: SignatureBytes,
}

impl SignedStatement {
    /// Checks the signature, and that `node` made it.
    pub fn verify(&self, node: &PartyKey) -> Result<()> {
        if self.signer != *node {
            return Err(Error::NotNode);
        }
        verify_value(
            node,
            STATEMENT_CONTEXT,
            self.statement.chain.as_bytes(),
            &self.statement,
            &self.signature,
        )
    }
}

/// HTTP headers that carry a signed read request.
pub const HEADER_KEY: &str = "x-ebl-key";
/// The request's time (Unix milliseconds), inside the signature.
pub const HEADER_TIME: &str = "x-ebl-time";
/// The request's signature, hex.
pub const HEADER_SIGNATURE: &str = "x-ebl-signature";

/// The bytes a party signs to read: method, path with query, SHA-256 of the body, and the time.
/// The node refuses times outside its stated skew, so a captured request cannot be replayed later.
pub fn request_body(method: &str, path: &str, body: &[u8], time_ms: u64) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(path.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(Hash::of(body).as_bytes());
    out.extend_from_slice(&time_ms.to_le_bytes());
    out
}

/// Signs a read request for `chain`.
pub fn sign_request(
    key: &SigningKey,
    chain: &ChainId,
    method: &str,
    path: &str,
    body: &[u8],
    time_ms: u64,
) -> SignatureBytes {
    sign_in_context(
        key,
        REQUEST_CONTEXT,
        chain.as_bytes(),
        &request_body(method, path, body, time_ms),
    )
}

/// Verifies a read request signature.
pub fn verify_request(
    key: &PartyKey,
    chain: &ChainId,
    method: &str,
    path: &str,
    body: &[u8],
    time_ms: u64,
    signature: &SignatureBytes,
) -> bool {
    verify_in_context(
        key,
        REQUEST_CONTEXT,
        chain.as_bytes(),
        &request_body(method, path, body, time_ms),
        signature,
    )
}

/// One transaction that moved a bill after a pledge offer was written: only what it was and when, so a
/// prospective pledgee learns that the offer went stale without reading anyone else's terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Move {
    /// The action's code (`TRANSFER`, `PLEDGE`, ...).
    pub action: String,
    /// The height of the block it is in.
    pub height: u64,
    /// That block's time (Unix milliseconds).
    pub block_time_ms: u64,
}

/// The node's answer to a bank holding a pledge offer: whether the bill still stands where the offer
/// found it, and what moved it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfferFreshness {
    /// The bill the offer is for.
    pub bill: BillId,
    /// The head the offer's pledge extends.
    pub offered_head: TxId,
    /// The bill's head now.
    pub head: TxId,
    /// Nothing happened to the bill since the offer.
    pub fresh: bool,
    /// What happened since, oldest first.
    pub moved: Vec<Move>,
    /// The node's clock when it answered.
    pub checked_at_ms: u64,
}

/// Context strings of a node's signature over a request to a peer node, and over its answer: apart from
/// a party's read, so a node's peer traffic can never be replayed as a read, nor an answer as a request.
pub const PEER_REQUEST_CONTEXT: &[u8] = b"ebl/peer-request/v1\0";
/// Context of a node's signature over its answer to a peer.
pub const PEER_ANSWER_CONTEXT: &[u8] = b"ebl/peer-answer/v1\0";

/// Signs a request from one member node to another: the path, the body and the time.
pub fn sign_peer_request(
    node: &SigningKey,
    chain: &ChainId,
    path: &str,
    body: &[u8],
    time_ms: u64,
) -> SignatureBytes {
    sign_in_context(
        node,
        PEER_REQUEST_CONTEXT,
        chain.as_bytes(),
        &request_body("POST", path, body, time_ms),
    )
}

/// Checks a member node's signature over a request (`sign_peer_request`).
pub fn verify_peer_request(
    node: &PartyKey,
    chain: &ChainId,
    path: &str,
    body: &[u8],
    time_ms: u64,
    signature: &SignatureBytes,
) -> bool {
    verify_in_context(
        node,
        PEER_REQUEST_CONTEXT,
        chain.as_bytes(),
        &request_body("POST", path, body, time_ms),
        signature,
    )
}

/// The bytes a node signs to answer a peer: the request's signature (binding the answer to it) and the
/// answer's body.
fn peer_answer_body(request: &SignatureBytes, body: &[u8]) -> Vec<u8> {
    let mut out = request.0.to_vec();
    out.extend_from_slice(Hash::of(body).as_bytes());
    out
}

/// Signs an answer to a peer's request, bound to the request's signature.
pub fn sign_peer_answer(
    node: &SigningKey,
    chain: &ChainId,
    request: &SignatureBytes,
    body: &[u8],
) -> SignatureBytes {
    sign_in_context(
        node,
        PEER_ANSWER_CONTEXT,
        chain.as_bytes(),
        &peer_answer_body(request, body),
    )
}

/// Checks a member node's signature over an answer (`sign_peer_answer`).
pub fn verify_peer_answer(
    node: &PartyKey,
    chain: &ChainId,
    request: &SignatureBytes,
    body: &[u8],
    signature: &SignatureBytes,
) -> bool {
    verify_in_context(
        node,
        PEER_ANSWER_CONTEXT,
        chain.as_bytes(),
        &peer_answer_body(request, body),
        signature,
    )
}
