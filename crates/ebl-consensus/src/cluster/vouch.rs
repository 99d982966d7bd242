//! Member nodes vouching for a bill's status statement (chain format 7): a node signs another member
//! node's statement only when its own ledger says the same now, bound to the registry head after the
//! statement's block; the node that makes a statement asks the other members at once and stops at the
//! finality quorum. A lying node, or a removed member's, cannot make a bank believe a stale statement:
//! the honest nodes of any quorum would not sign it.

use std::time::Duration;

use ebl_core::api::BillStatement;
use ebl_core::{codec, CertifiedStatement, NodeSignature, SigningKey, StatementBinding};
use ebl_store::{Kv, LedgerStore, StoreError};

use super::peer::{PeerClient, PATH_STATEMENT};
use crate::state::Published;

/// How far a statement's time may be from this node's clock for it to vouch: a statement made to be
/// shown later, or dated ahead, is not vouched for.
pub const STATEMENT_SKEW_MS_MAX: u64 = 30_000;

/// How long one peer may take to vouch.
const ASK_TIMEOUT_MS: u64 = 2_000;

/// How long a node asked to vouch waits to apply the statement's block, when it is that far behind the
/// asker, before it refuses as `unvouched_behind` (within the asker's 2 s timeout).
pub const VOUCH_WAIT_MS: u64 = 1_000;

/// Why a node does not vouch for a statement: each a rule, with a stable code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unvouched {
    /// A statement of another chain.
    #[error("the statement is of another chain")]
    OtherChain,
    /// This node's member was removed: it vouches for nothing.
    #[error("this node's member was removed from the consortium: it vouches for nothing")]
    NotAMember,
    /// The statement's height is past what this node applied.
    #[error("this node has not applied height {height} yet")]
    Behind {
        /// The statement's height.
        height: u64,
    },
    /// The statement names another block at its height than this node's.
    #[error("the statement names another block at height {height} than this node applied")]
    OtherBlock {
        /// The statement's height.
        height: u64,
    },
    /// The bill is unknown here, or stands elsewhere now than the statement says.
    #[error("the bill does not stand here as the statement says")]
    BillDiffers,
    /// The statement's time is too far from this node's clock.
    #[error("the statement's time is more than {STATEMENT_SKEW_MS_MAX} ms from this node's clock")]
    TimeSkew,
    /// The chain format at the statement's height has no vouching (before format 7).
    #[error("statements at height {height} are signed by one node: the chain format there has no vouching")]
    NoVouching {
        /// The statement's height.
        height: u64,
    },
    /// The registry has changed since the statement's height (chain format 8): this node holds its
    /// root as of now only, and signs no root it cannot compute.
    #[error("the registry changed after height {height}: this node cannot sign its root there")]
    RegistryMoved {
        /// The statement's height.
        height: u64,
    },
}

impl Unvouched {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Unvouched::OtherChain => "unvouched_other_chain",
            Unvouched::NotAMember => "unvouched_not_a_member",
            Unvouched::Behind { .. } => "unvouched_behind",
            Unvouched::OtherBlock { .. } => "unvouched_other_block",
            Unvouched::BillDiffers => "unvouched_bill_differs",
            Unvouched::TimeSkew => "unvouched_time_skew",
            Unvouched::NoVouching { .. } => "unvouched_no_vouching",
            Unvouched::RegistryMoved { .. } => "unvouched_registry_moved",
        }
    }
}

/// How the statement at `height` is bound, by this node's ledger: the chain format there, and the
/// registry head after that block (found in the store when the registry has moved since); from chain
/// format 8 also the registry's root, which this node knows only as of now (`None` when the registry
/// has moved since `height`).
pub fn binding<K: Kv>(
    store: &LedgerStore<K>,
    published: &Published,
    height: u64,
) -> Result<Option<StatementBinding>, StoreError> {
    let registry = published.ledger.registry();
    let format = registry.formats().at(height);
    if format < ebl_core::format::FORMAT_STATEMENTS_CERTIFIED {
        return Ok(Some(StatementBinding::Unbound));
    }
    let head = store.registry_head_before(
        registry.head(),
        published.ledger.chain_id(),
        height.saturating_add(1),
    )?;
    if format >= ebl_core::format::FORMAT_REGISTRY_COMMITTED && head != registry.head() {
        return Ok(None);
    }
    Ok(Some(StatementBinding::of(format, head, || registry.root())))
}

/// This node's signature over another member node's `statement`, if this node's own ledger says the
/// same now: the same chain, the same block at its height, the bill standing exactly so still, a time
/// near this node's clock, and this node a member's.
pub fn vouch<K: Kv>(
    store: &LedgerStore<K>,
    published: &Published,
    node: &SigningKey,
    statement: &BillStatement,
    now_ms: u64,
) -> Result<Result<NodeSignature, Unvouched>, StoreError> {
    let ledger = &published.ledger;
    if statement.chain != ledger.chain_id() {
        return Ok(Err(Unvouched::OtherChain));
    }
    if ledger
        .registry()
        .member_by_node(&ebl_core::PartyKey::of(node))
        .is_none()
    {
        return Ok(Err(Unvouched::NotAMember));
    }
    let height = statement.height;
    let head = published.head_view();
    if height > head.height {
        return Ok(Err(Unvouched::Behind { height }));
    }
    let block = if height == head.height {
        Some(head.block)
    } else {
        store.block(height)?.map(|b| b.header.header.hash())
    };
    if block != Some(statement.block) {
        return Ok(Err(Unvouched::OtherBlock { height }));
    }
    if now_ms.abs_diff(statement.time_ms) > STATEMENT_SKEW_MS_MAX {
        return Ok(Err(Unvouched::TimeSkew));
    }
    if !ledger
        .bill(&statement.bill)
        .is_some_and(|b| statement.matches(b))
    {
        return Ok(Err(Unvouched::BillDiffers));
    }
    match binding(store, published, height)? {
        None => Ok(Err(Unvouched::RegistryMoved { height })),
        Some(StatementBinding::Unbound) => Ok(Err(Unvouched::NoVouching { height })),
        Some(bound) => Ok(Ok(bound.sign(statement, node))),
    }
}

/// `statement`, signed by this node (`own`, bound as `binding`) and vouched for by as many other member
/// nodes as answer, asked at once, until the finality quorum of `registry` signed (blocking: call off
/// the async threads). Peers that do not answer, or will not vouch, are passed over; the caller checks
/// whether enough did.
pub fn collect(
    client: &PeerClient,
    registry: &ebl_core::Registry,
    statement: BillStatement,
    own: NodeSignature,
    binding: StatementBinding,
) -> CertifiedStatement {
    let mut certified = CertifiedStatement::new(statement);
    certified.add(own, binding);
    let need = binding.need(registry);
    if certified.signatures.len() >= need {
        return certified;
    }
    let asked = registry
        .members()
        .iter()
        .filter(|m| !certified.signatures.iter().any(|s| s.signer == m.node))
        .cloned()
        .collect();
    let arriving = client.ask_each::<NodeSignature>(
        asked,
        PATH_STATEMENT,
        codec::encode(&certified.statement),
        Duration::from_millis(ASK_TIMEOUT_MS),
    );
    for (member, answer) in arriving {
        let signature = match answer {
            Ok(s) => s,
            Err(e) => {
                tracing::debug!(peer = %member.peer_address, error = %e, "a peer did not vouch for a statement");
                continue;
            }
        };
        // Only the asked member's own signature counts; `add` checks it.
        if signature.signer != member.node || !certified.add(signature, binding) {
            tracing::warn!(peer = %member.peer_address, "a peer vouched with a signature that does not verify");
            continue;
        }
        if certified.signatures.len() >= need {
            break;
        }
    }
    certified
}
