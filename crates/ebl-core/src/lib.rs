//! `ebl-core`: the domain of an electronic bill of lading ledger, with no IO.
//!
//! Documents ([`document`]), parties ([`party`], [`registry`]), signed hash-chained transactions
//! ([`transaction`]), the bill state machine ([`bill`], [`ledger`]), blocks and inclusion proofs
//! ([`block`]), and the bank's chain verification ([`verify`]). Every byte that is hashed or signed goes
//! through [`codec`]. Nothing here touches a disk, a socket, a clock or a terminal: time arrives as a
//! value, and so this crate cannot fail for IO reasons.

// Every dependency is used by the library itself (tests and binaries bring their own).
#![warn(missing_docs)]
#![cfg_attr(not(test), warn(unused_crate_dependencies))]

pub mod api;
pub mod bill;
pub mod block;
pub mod bundle;
pub mod bytes;
pub mod certificate;
pub mod codec;
pub mod commitment;
pub mod document;
pub mod error;
pub mod follow;
pub mod foreign;
pub mod format;
pub mod genesis;
pub mod hash;
pub mod jcs;
pub mod keys;
pub mod ledger;
pub mod limits;
pub mod party;
pub mod proposal;
pub mod refusal;
pub mod registry;
pub mod sample;
pub mod statement;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod time;
pub mod transaction;
pub mod verify;
pub mod wire;

pub use bill::{Bill, Pledge, Status, Title};
pub use block::{
    merkle_root, BlockHeader, HeaderBinding, InclusionProof, MerkleTree, SignedBlockHeader,
};
pub use certificate::{Certificate, NodeSignature};
pub use document::{Document, DocumentFacts, DocumentType};
pub use ed25519_dalek::SigningKey;
pub use error::{Error, Result};
pub use follow::{FollowGrant, FollowGrantBody};
pub use foreign::{ForeignParty, PartyCode};
pub use genesis::{Genesis, Member};
pub use hash::Hash;
pub use keys::{PartyKey, SignatureBytes};
pub use ledger::{Applied, Ledger, Signatures};
pub use party::{Identifier, Party, PartyId, PartyProfile, Role, Roles};
pub use proposal::{Proposal, ProposalBody};
pub use registry::{Recovery, Registry, RegistryHead};
pub use statement::{CertifiedStatement, StatementBinding};
pub use transaction::{
    Action, AmendmentReason, BillId, ChainId, Loan, PaperBill, Replacement, Signature,
    SignedTransaction, Transaction, TxId,
};
pub use verify::{
    verify_chain, verify_chain_timed, ChainFailure, ChainReport, CustodyStep, EntryBlock,
    RecoveryNotice,
};
