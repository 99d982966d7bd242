//! Why a member node refuses a committed proposal or a block a peer sent: one variant per check, each
//! with its stable code, kept with the evidence and in the log.

use ebl_core::TxId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockFault {
    #[error("it is for another chain")]
    OtherChain,
    #[error("the proposer is neither a member node nor a voter")]
    NotAProposer,
    #[error("the proposer's signature does not verify: {0}")]
    BadProposalSignature(ebl_core::Error),
    #[error("it holds no transaction")]
    Empty,
    #[error("its time {time_ms} is before its parent's {parent_ms}")]
    TimeBackwards { time_ms: u64, parent_ms: u64 },
    #[error("it does not follow this node's head")]
    DoesNotFollow,
    #[error("its transactions do not match its header")]
    NotItsTransactions,
    #[error("it is not signed by a member node")]
    NotSignedByMember,
    #[error("transaction {id}: {error}")]
    BadTransaction { id: TxId, error: ebl_core::Error },
    #[error("transaction {id} does not apply: {error}")]
    TransactionRefused { id: TxId, error: ebl_core::Error },
    #[error("it is at height {height}, where governance moved the chain to format {format}, which this release does not know (it knows up to {newest}): run a release that knows it, and the node goes on from here")]
    FormatUnknown {
        height: u64,
        format: u16,
        newest: u16,
    },
    #[error(
        "transaction {id} records another platform's answer that this node cannot check: {fault}"
    )]
    SendOutcomeUnbacked {
        id: TxId,
        fault: ebl_pint::AnswerFault,
    },
}

impl BlockFault {
    /// The stable code the log and the evidence name.
    pub fn code(&self) -> &'static str {
        match self {
            BlockFault::OtherChain => "block_other_chain",
            BlockFault::NotAProposer => "block_not_a_proposer",
            BlockFault::BadProposalSignature(_) => "block_bad_proposal_signature",
            BlockFault::Empty => "block_empty",
            BlockFault::TimeBackwards { .. } => "block_time_backwards",
            BlockFault::DoesNotFollow => "block_does_not_follow",
            BlockFault::NotItsTransactions => "block_not_its_transactions",
            BlockFault::NotSignedByMember => "block_not_signed_by_member",
            BlockFault::BadTransaction { .. } => "block_bad_transaction",
            BlockFault::TransactionRefused { .. } => "block_transaction_refused",
            BlockFault::FormatUnknown { .. } => "block_format_unknown",
            BlockFault::SendOutcomeUnbacked { .. } => "block_send_outcome_unbacked",
        }
    }
}
