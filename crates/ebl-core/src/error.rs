//! Every way a byte string, a document or a transaction can be refused, one variant per rule, each with a stable code.

use crate::hash::Hash;
use crate::party::{PartyId, Role};

/// The result of anything in `ebl-core` that can be refused.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One variant per broken rule. `code()` is the stable, machine-readable name that the API and CLI show;
/// the `Display` text is for people and may be reworded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- bytes and encodings ---
    #[error("encoding is {len} bytes, more than the {max} allowed")]
    EncodingTooLarge { len: usize, max: usize },
    #[error("encoding has {extra} trailing bytes after the value")]
    TrailingBytes { extra: usize },
    #[error("malformed encoding: {reason}")]
    MalformedEncoding { reason: String },
    #[error("a block proposal holds {count} transactions, more than the {max} allowed")]
    ProposalTooLarge { count: usize, max: usize },
    #[error("malformed {what}: expected {expected_bytes} bytes as hex")]
    MalformedHex {
        what: &'static str,
        expected_bytes: usize,
    },
    #[error("not a valid ed25519 public key")]
    InvalidKey,
    #[error("weak (small-order) ed25519 public key refused")]
    WeakKey,
    #[error("signature by {signer} does not verify")]
    BadSignature { signer: String },
    #[error("transaction carries {count} signatures, more than the {max} allowed")]
    TooManySignatures { count: usize, max: usize },

    // --- documents ---
    #[error("malformed JSON: {reason}")]
    MalformedJson { reason: String },
    #[error("JSON object has the key {key:?} twice")]
    DuplicateJsonKey { key: String },
    #[error(
        "JSON number {number} cannot be represented exactly (RFC 8785 needs IEEE 754 doubles)"
    )]
    InexactNumber { number: String },
    #[error("document is {bytes} bytes, more than the {max} allowed")]
    DocumentTooLarge { bytes: usize, max: usize },
    #[error("document nests deeper than {max} levels")]
    DocumentTooDeep { max: usize },
    #[error("document is not a JSON object")]
    DocumentNotObject,
    #[error("document is not in RFC 8785 canonical form")]
    NonCanonicalDocument,
    #[error("document lacks the required field {field}")]
    MissingField { field: &'static str },
    #[error("document field {field} must be {expected}")]
    WrongFieldType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("field {field} is longer than {max} bytes")]
    FieldTooLong { field: &'static str, max: usize },
    #[error("field {field} must not be empty")]
    EmptyField { field: &'static str },
    #[error("unknown transportDocumentTypeCode {code:?} (expected BOL or SWB)")]
    UnknownDocumentType { code: String },
    #[error("a sea waybill (SWB) is never to order, but isToOrder is true")]
    SeaWaybillToOrder,
    #[error("a straight bill (isToOrder false) must name a consignee")]
    StraightWithoutConsignee,

    // --- field values ---
    #[error("currency {code:?} is not three upper-case letters (ISO 4217)")]
    InvalidCurrency { code: String },
    #[error("a pledge must secure a loan amount above zero")]
    ZeroAmount,
    #[error("a party needs at least one role")]
    NoRoles,
    #[error("unknown role {role:?}")]
    UnknownRole { role: String },
    #[error("a party may have at most {max} identifiers")]
    TooManyIdentifiers { max: usize },

    // --- ledger rules ---
    #[error("transaction is for chain {got}, this ledger is {expected}")]
    WrongChain { expected: Hash, got: Hash },
    #[error("transaction extends {got}, but the head is {expected}")]
    StaleHead { expected: Hash, got: Hash },
    #[error("the {who} has not signed")]
    MissingSignature { who: &'static str },
    #[error("party {party} signed but has no part in this action")]
    UnexpectedSigner { party: PartyId },
    #[error("party {party} signed twice")]
    DuplicateSigner { party: PartyId },
    #[error("no registered party holds this key")]
    UnknownKey,
    #[error("key was rotated out of party {party}")]
    RotatedKey { party: PartyId },
    #[error("key belongs to revoked party {party}")]
    RevokedKey { party: PartyId },
    #[error("party {party} is not registered")]
    UnknownParty { party: PartyId },
    #[error("party {party} is revoked")]
    RevokedParty { party: PartyId },
    #[error("party {party} lacks the {role} role")]
    MissingRole { party: PartyId, role: Role },
    #[error("a governance change needs {need} distinct member-admin signatures, it has {got}")]
    GovernanceQuorum { got: usize, need: usize },
    #[error("a member's admin and node keys must be distinct from each other and from every other member's")]
    MemberKeysShared,
    #[error("a consortium has 1 to {max} members, not {count}")]
    MemberCount { count: usize, max: usize },
    #[error("threshold {threshold} is not between 1 and the {members} members")]
    InvalidThreshold { threshold: u16, members: usize },
    #[error("a PINT platform code is 1 to 4 characters without spaces, not {code:?}")]
    InvalidPlatformCode { code: String },
    #[error("no member has this admin key")]
    UnknownMember,
    #[error("the key is a member's admin or node key, which no party may use")]
    MemberKeyInUse,
    #[error("identifier {identifier} already belongs to another active party")]
    IdentifierTaken { identifier: String },
    #[error(
        "the document names the {role} by {identifier}, which a different registered party holds"
    )]
    DocumentPartyMismatch {
        role: &'static str,
        identifier: String,
    },
    #[error("a replacement names 1 to 16 distinct void bills and 1 to 16 bills replacing them, not {bills} and {count}")]
    MalformedReplacement { bills: usize, count: u16 },
    #[error("only the recipient of the last transfer or endorsement may refuse it, as the very next action")]
    NothingToRefuse,
    #[error("the signer is not the recipient of the last transfer or endorsement")]
    NotRecipient,
    #[error("a surrender to switch to paper is accepted only with the note of the paper bill that replaces it")]
    PaperNoteMissing,
    #[error("the pending surrender is not to switch to paper (SWTP)")]
    NotSwitchToPaper,
    #[error("the transaction expired at {valid_until_ms} ms, before its block's time {block_time_ms} ms")]
    Expired {
        valid_until_ms: u64,
        block_time_ms: u64,
    },
    #[error("party {party} is already registered")]
    PartyExists { party: PartyId },
    #[error("key is already used by party {party}")]
    KeyInUse { party: PartyId },
    #[error("party name {name:?} is already taken")]
    NameTaken { name: String },
    #[error("bill {bill} is not on this ledger")]
    UnknownBill { bill: Hash },
    #[error("only the bill's issuing carrier may do this")]
    NotCarrier,
    #[error("document carrier {code} is not an identifier of the issuing carrier")]
    CarrierCodeMismatch { code: String },
    #[error("carrier already issued a bill with reference {reference:?}")]
    DuplicateReference { reference: String },
    #[error("issueTo must be the bill's shipper or consignee (for a replacement: who surrendered the void bill)")]
    IssueToNotNamed,
    #[error("a to-order bill names no consignee party; a straight bill must")]
    ConsigneeMismatch,
    #[error("the replaced bill {bill} is not void")]
    ReplacedBillNotVoid { bill: Hash },
    #[error("bill {bill} has already been replaced")]
    AlreadyReplaced { bill: Hash },
    #[error("not signed by a member's node key (imports, blocks and statements must be)")]
    NotNode,
    #[error("block {height} is not final: {have} member nodes signed it, {need} must")]
    NotFinal {
        height: u64,
        have: usize,
        need: usize,
    },
    #[error("envelope is {len} bytes, more than the {max} an import may carry")]
    EnvelopeTooLarge { len: usize, max: usize },
    #[error("malformed envelope: {reason}")]
    MalformedEnvelope { reason: String },
    #[error("an imported title must fit the document (to order or straight) and rest with the possessor")]
    ImportTitleMismatch,
    #[error("a surrender received from another platform must be held by the bill's carrier")]
    SurrenderNotToCarrier,
    #[error("the signer is not the bill's possessor")]
    NotPossessor,
    #[error("the possessor does not hold title to the bill")]
    NoTitle,
    #[error("a straight bill cannot be endorsed or pledged")]
    NotNegotiable,
    #[error("the endorsee may not endorse further (endorsed without ENDORSE_TO_ORDER)")]
    EndorsementRestricted,
    #[error("the recipient already possesses the bill")]
    AlreadyPossessor,
    #[error("the recipient is already the endorsee")]
    AlreadyEndorsee,
    #[error("the bill is already pledged")]
    AlreadyPledged,
    #[error("the bill is pledged: only the pledgee may act on it")]
    Pledged,
    #[error("the bill is not pledged")]
    NotPledged,
    #[error("the signer is not the bill's pledgee")]
    NotPledgee,
    #[error("a pledgee cannot lend against its own bill")]
    SelfPledge,
    #[error("a surrender is pending the carrier's answer")]
    SurrenderPending,
    #[error("no surrender is pending")]
    NoSurrenderPending,
    #[error("the bill is {status} and accepts no further action")]
    Terminal { status: &'static str },
    #[error("the bill is being sent to another platform: nothing may act on it until that platform answers")]
    SendingOut,
    #[error("the bill is not being sent to another platform")]
    NotSendingOut,
    #[error(
        "the platform the bill was sent to disputes it (DISE): it is held until people resolve it"
    )]
    Disputed,
    #[error("platform {platform} is this chain's own: a bill is sent only to another platform")]
    OwnPlatform { platform: String },
    #[error("a party on another platform is named by {count} codes, more than the {max} allowed")]
    TooManyPartyCodes { count: usize, max: usize },
    #[error("the recorded PINT {what} is {len} bytes, more than the {max} allowed")]
    PintRecordTooLarge {
        what: &'static str,
        len: usize,
        max: usize,
    },

    // --- chain verification ---
    #[error("transaction belongs to bill {bill}, not the one being verified")]
    ForeignTransaction { bill: Hash },
    #[error("the chain holds no ISSUE for bill {bill}")]
    BillNotInChain { bill: Hash },
    #[error("document checksum {got} does not match the issued {expected}")]
    DocumentChecksumMismatch { expected: Hash, got: Hash },
    #[error("the node's status statement does not describe the verified state of the bill (or is older than its history)")]
    StatementMismatch,
    #[error("Merkle proof does not lead to the block's root")]
    BadInclusionProof,
    #[error("block {height} does not link to the block before it")]
    BrokenBlockLink { height: u64 },
    #[error("the bundle is from chain {got}, not the chain {expected} the verifier trusts")]
    ChainMismatch { expected: Hash, got: Hash },
    #[error("chain {chain} is not pinned: verify with --chain {chain} if you trust it, or pin it with `ebl chain pin`")]
    UnpinnedChain { chain: Hash },
    #[error("entries are not in ledger order: {place} is out of place")]
    EntriesOutOfOrder { place: String },
}

impl Error {
    /// The stable code for this rule: safe to match on in scripts, shown by the API and CLI.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            EncodingTooLarge { .. } => "encoding_too_large",
            TrailingBytes { .. } => "trailing_bytes",
            MalformedEncoding { .. } => "malformed_encoding",
            ProposalTooLarge { .. } => "proposal_too_large",
            MalformedHex { .. } => "malformed_hex",
            InvalidKey => "invalid_key",
            WeakKey => "weak_key",
            BadSignature { .. } => "bad_signature",
            TooManySignatures { .. } => "too_many_signatures",
            MalformedJson { .. } => "malformed_json",
            DuplicateJsonKey { .. } => "duplicate_json_key",
            InexactNumber { .. } => "inexact_number",
            DocumentTooLarge { .. } => "document_too_large",
            DocumentTooDeep { .. } => "document_too_deep",
            DocumentNotObject => "document_not_object",
            NonCanonicalDocument => "non_canonical_document",
            MissingField { .. } => "missing_field",
            WrongFieldType { .. } => "wrong_field_type",
            FieldTooLong { .. } => "field_too_long",
            EmptyField { .. } => "empty_field",
            UnknownDocumentType { .. } => "unknown_document_type",
            SeaWaybillToOrder => "sea_waybill_to_order",
            StraightWithoutConsignee => "straight_without_consignee",
            InvalidCurrency { .. } => "invalid_currency",
            ZeroAmount => "zero_amount",
            NoRoles => "no_roles",
            UnknownRole { .. } => "unknown_role",
            TooManyIdentifiers { .. } => "too_many_identifiers",
            WrongChain { .. } => "wrong_chain",
            StaleHead { .. } => "stale_head",
            MissingSignature { .. } => "missing_signature",
            UnexpectedSigner { .. } => "unexpected_signer",
            DuplicateSigner { .. } => "duplicate_signer",
            UnknownKey => "unknown_key",
            RotatedKey { .. } => "rotated_key",
            RevokedKey { .. } => "revoked_key",
            UnknownParty { .. } => "unknown_party",
            RevokedParty { .. } => "revoked_party",
            MissingRole { .. } => "missing_role",
            GovernanceQuorum { .. } => "governance_quorum",
            MemberKeysShared => "member_keys_shared",
            MemberCount { .. } => "member_count",
            InvalidThreshold { .. } => "invalid_threshold",
            InvalidPlatformCode { .. } => "invalid_platform_code",
            UnknownMember => "unknown_member",
            MemberKeyInUse => "member_key_in_use",
            IdentifierTaken { .. } => "identifier_taken",
            DocumentPartyMismatch { .. } => "document_party_mismatch",
            Expired { .. } => "expired",
            MalformedReplacement { .. } => "malformed_replacement",
            NothingToRefuse => "nothing_to_refuse",
            NotRecipient => "not_recipient",
            PaperNoteMissing => "paper_note_missing",
            NotSwitchToPaper => "not_switch_to_paper",
            PartyExists { .. } => "party_exists",
            KeyInUse { .. } => "key_in_use",
            NameTaken { .. } => "name_taken",
            UnknownBill { .. } => "unknown_bill",
            NotCarrier => "not_carrier",
            NotNode => "not_node",
            NotFinal { .. } => "not_final",
            EnvelopeTooLarge { .. } => "envelope_too_large",
            MalformedEnvelope { .. } => "malformed_envelope",
            ImportTitleMismatch => "import_title_mismatch",
            SurrenderNotToCarrier => "surrender_not_to_carrier",
            CarrierCodeMismatch { .. } => "carrier_code_mismatch",
            DuplicateReference { .. } => "duplicate_reference",
            IssueToNotNamed => "issue_to_not_named",
            ConsigneeMismatch => "consignee_mismatch",
            ReplacedBillNotVoid { .. } => "replaced_bill_not_void",
            AlreadyReplaced { .. } => "already_replaced",
            NotPossessor => "not_possessor",
            NoTitle => "no_title",
            NotNegotiable => "not_negotiable",
            EndorsementRestricted => "endorsement_restricted",
            AlreadyPossessor => "already_possessor",
            AlreadyEndorsee => "already_endorsee",
            AlreadyPledged => "already_pledged",
            Pledged => "pledged",
            NotPledged => "not_pledged",
            NotPledgee => "not_pledgee",
            SelfPledge => "self_pledge",
            SurrenderPending => "surrender_pending",
            NoSurrenderPending => "no_surrender_pending",
            Terminal { .. } => "terminal",
            SendingOut => "sending_out",
            NotSendingOut => "not_sending_out",
            Disputed => "disputed",
            OwnPlatform { .. } => "own_platform",
            TooManyPartyCodes { .. } => "too_many_party_codes",
            PintRecordTooLarge { .. } => "pint_record_too_large",
            ForeignTransaction { .. } => "foreign_transaction",
            BillNotInChain { .. } => "bill_not_in_chain",
            DocumentChecksumMismatch { .. } => "document_checksum_mismatch",
            StatementMismatch => "statement_mismatch",
            BadInclusionProof => "bad_inclusion_proof",
            BrokenBlockLink { .. } => "broken_block_link",
            ChainMismatch { .. } => "chain_mismatch",
            UnpinnedChain { .. } => "unpinned_chain",
            EntriesOutOfOrder { .. } => "entries_out_of_order",
        }
    }
}
