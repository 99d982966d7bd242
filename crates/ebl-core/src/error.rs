//! Every way a byte string, a document or a transaction can be refused, one variant per rule, each with a stable code.

use crate::hash::Hash;
use crate::party::{PartyId, Role};

/// The part of a party's registry entry a bundle's replay got otherwise than its proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryPart {
    /// Its current or retired keys.
    Keys,
    /// The keys governance gave it.
    Recoveries,
    /// Whether it is revoked.
    Revocation,
    /// Its name, roles or identifiers.
    Profile,
}

impl std::fmt::Display for EntryPart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EntryPart::Keys => "keys",
            EntryPart::Recoveries => "recoveries",
            EntryPart::Revocation => "revocation",
            EntryPart::Profile => "profile",
        })
    }
}

/// The result of anything in `ebl-core` that can be refused.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One variant per broken rule. `code()` is the stable, machine-readable name that the API and CLI show;
/// the `Display` text is for people and may be reworded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    // --- bytes and encodings ---
    /// An encoding longer than the codec accepts.
    #[error("encoding is {len} bytes, more than the {max} allowed")]
    EncodingTooLarge {
        /// Its length, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Bytes left over after a value: one value has one encoding.
    #[error("encoding has {extra} trailing bytes after the value")]
    TrailingBytes {
        /// How many bytes are left over.
        extra: usize,
    },
    /// Bytes that do not decode as the value expected.
    #[error("malformed encoding: {reason}")]
    MalformedEncoding {
        /// What is wrong, in words.
        reason: String,
    },
    /// An object written in a format older than this release reads: before the compatibility promise
    /// began (format 4). Not corrupt, not forged: read it with the release named.
    #[error("this {object} is in format {format}, older than this release reads (from {oldest}); release {read_by} reads it")]
    FormatTooOld {
        /// What kind of object.
        object: crate::format::Encoded,
        /// The format it names.
        format: u16,
        /// The oldest this release reads.
        oldest: u16,
        /// The last release that reads it.
        read_by: &'static str,
    },
    /// An object written by a later release, in a format this release does not know yet. Not corrupt,
    /// not forged: read it with a later release; nothing of it is rewritten.
    #[error("this {object} is in format {format}, newer than this release reads (up to {newest}): use a later release")]
    FormatTooNew {
        /// What kind of object.
        object: crate::format::Encoded,
        /// The format it names.
        format: u16,
        /// The newest this release reads.
        newest: u16,
    },
    /// A `SCHEDULE_FORMAT` that skips a format or goes back: formats follow one another.
    #[error("chain format {format} cannot be scheduled: the next format of this chain is {next}")]
    FormatNotNext {
        /// The format scheduled.
        format: u16,
        /// The only format that may be scheduled next.
        next: u16,
    },
    /// A `SCHEDULE_FORMAT` from a height not after the block it is in (or an earlier activation).
    #[error("a format change must take effect after height {after}, not at {height}")]
    FormatHeightPast {
        /// The height asked for.
        height: u64,
        /// The height it must be above.
        after: u64,
    },
    /// A `SCHEDULE_FORMAT` of a chain format this release cannot write or read: a node of this
    /// release would stop at its height, so it is not ordered here.
    #[error("chain format {format} is unknown to this release (it knows up to {newest}): schedule it from a release that knows it")]
    FormatUnknown {
        /// The format asked for.
        format: u16,
        /// The newest this release knows.
        newest: u16,
    },
    /// A block proposal with more transactions than a block may hold.
    #[error("a block proposal holds {count} transactions, more than the {max} allowed")]
    ProposalTooLarge {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// Hex that is not the expected number of bytes.
    #[error("malformed {what}: expected {expected_bytes} bytes as hex")]
    MalformedHex {
        /// What was being read.
        what: &'static str,
        /// How many bytes it must be.
        expected_bytes: usize,
    },
    /// Bytes that are not an ed25519 public key.
    #[error("not a valid ed25519 public key")]
    InvalidKey,
    /// A small-order ed25519 key, which would verify forged signatures.
    #[error("weak (small-order) ed25519 public key refused")]
    WeakKey,
    /// A signature that `verify_strict` refuses.
    #[error("signature by {signer} does not verify")]
    BadSignature {
        /// Who signed, as a key or party id.
        signer: String,
    },
    /// More signatures than a transaction may carry.
    #[error("transaction carries {count} signatures, more than the {max} allowed")]
    TooManySignatures {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },

    // --- documents ---
    /// Text that is not JSON.
    #[error("malformed JSON: {reason}")]
    MalformedJson {
        /// What is wrong, in words.
        reason: String,
    },
    /// A JSON object naming one key twice, which readers would disagree on.
    #[error("JSON object has the key {key:?} twice")]
    DuplicateJsonKey {
        /// The key.
        key: String,
    },
    /// A JSON number that a double cannot hold exactly.
    #[error(
        "JSON number {number} cannot be represented exactly (RFC 8785 needs IEEE 754 doubles)"
    )]
    InexactNumber {
        /// The number as written.
        number: String,
    },
    /// A transport document longer than the limit.
    #[error("document is {bytes} bytes, more than the {max} allowed")]
    DocumentTooLarge {
        /// Its length, in bytes.
        bytes: usize,
        /// The limit.
        max: usize,
    },
    /// A transport document nested deeper than the limit.
    #[error("document nests deeper than {max} levels")]
    DocumentTooDeep {
        /// The limit.
        max: usize,
    },
    /// A transport document that is not a JSON object.
    #[error("document is not a JSON object")]
    DocumentNotObject,
    /// A document not in the RFC 8785 form its checksum is taken over.
    #[error("document is not in RFC 8785 canonical form")]
    NonCanonicalDocument,
    /// A required DCSA field absent.
    #[error("document lacks the required field {field}")]
    MissingField {
        /// The field's DCSA name.
        field: &'static str,
    },
    /// A DCSA field of the wrong JSON type.
    #[error("document field {field} must be {expected}")]
    WrongFieldType {
        /// The field's DCSA name.
        field: &'static str,
        /// What was expected.
        expected: &'static str,
    },
    /// A field longer than its limit.
    #[error("field {field} is longer than {max} bytes")]
    FieldTooLong {
        /// The field's DCSA name.
        field: &'static str,
        /// The limit.
        max: usize,
    },
    /// A field that must not be empty, empty.
    #[error("field {field} must not be empty")]
    EmptyField {
        /// The field's DCSA name.
        field: &'static str,
    },
    /// A transport document type other than BOL or SWB.
    #[error("unknown transportDocumentTypeCode {code:?} (expected BOL or SWB)")]
    UnknownDocumentType {
        /// The code as given.
        code: String,
    },
    /// A sea waybill marked to order.
    #[error("a sea waybill (SWB) is never to order, but isToOrder is true")]
    SeaWaybillToOrder,
    /// A straight bill that names no consignee.
    #[error("a straight bill (isToOrder false) must name a consignee")]
    StraightWithoutConsignee,

    // --- field values ---
    /// A currency that is not three upper-case letters.
    #[error("currency {code:?} is not three upper-case letters (ISO 4217)")]
    InvalidCurrency {
        /// The code as given.
        code: String,
    },
    /// A pledge securing no amount.
    #[error("a pledge must secure a loan amount above zero")]
    ZeroAmount,
    /// A party registered without a role.
    #[error("a party needs at least one role")]
    NoRoles,
    /// A role the ledger does not know.
    #[error("unknown role {role:?}")]
    UnknownRole {
        /// The role.
        role: String,
    },
    /// A party with more identifiers than allowed.
    #[error("a party may have at most {max} identifiers")]
    TooManyIdentifiers {
        /// The limit.
        max: usize,
    },

    // --- ledger rules ---
    /// A transaction signed for another chain.
    #[error("transaction is for chain {got}, this ledger is {expected}")]
    WrongChain {
        /// What was expected.
        expected: Hash,
        /// What was found.
        got: Hash,
    },
    /// A transaction that does not extend the bill's (or registry's) head.
    #[error("transaction extends {got}, but the head is {expected}")]
    StaleHead {
        /// What was expected.
        expected: Hash,
        /// What was found.
        got: Hash,
    },
    /// A signer the action needs has not signed.
    #[error("the {who} has not signed")]
    MissingSignature {
        /// Whose signature.
        who: &'static str,
    },
    /// A signature by a party with no part in the action.
    #[error("party {party} signed but has no part in this action")]
    UnexpectedSigner {
        /// The party.
        party: PartyId,
    },
    /// One party signing twice.
    #[error("party {party} signed twice")]
    DuplicateSigner {
        /// The party.
        party: PartyId,
    },
    /// A key no registered party holds.
    #[error("no registered party holds this key")]
    UnknownKey,
    /// A key its party has rotated out.
    #[error("key was rotated out of party {party}")]
    RotatedKey {
        /// The party.
        party: PartyId,
    },
    /// A key of a revoked party.
    #[error("key belongs to revoked party {party}")]
    RevokedKey {
        /// The party.
        party: PartyId,
    },
    /// A party id not registered.
    #[error("party {party} is not registered")]
    UnknownParty {
        /// The party.
        party: PartyId,
    },
    /// A party that governance revoked.
    #[error("party {party} is revoked")]
    RevokedParty {
        /// The party.
        party: PartyId,
    },
    /// A party without the role the action needs.
    #[error("party {party} lacks the {role} role")]
    MissingRole {
        /// The party.
        party: PartyId,
        /// The role.
        role: Role,
    },
    /// A governance change with fewer member-admin signatures than the threshold.
    #[error("a governance change needs {need} distinct member-admin signatures, it has {got}")]
    GovernanceQuorum {
        /// What was found.
        got: usize,
        /// How many are needed.
        need: usize,
    },
    /// Member keys that are not all distinct.
    #[error("a member's admin and node keys must be distinct from each other and from every other member's")]
    MemberKeysShared,
    /// A consortium with no members, or more than the limit.
    #[error("a consortium has 1 to {max} members, not {count}")]
    MemberCount {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A threshold outside 1 to the number of members.
    #[error("threshold {threshold} is not between 1 and the {members} members")]
    InvalidThreshold {
        /// The threshold given.
        threshold: u16,
        /// How many members there are.
        members: usize,
    },
    /// A PINT platform code that is empty, too long or has spaces.
    #[error("a PINT platform code is 1 to 4 characters without spaces, not {code:?}")]
    InvalidPlatformCode {
        /// The code as given.
        code: String,
    },
    /// An admin key no member holds.
    #[error("no member has this admin key")]
    UnknownMember,
    /// A member's admin or node key offered as a party's key.
    #[error("the key is a member's admin or node key, which no party may use")]
    MemberKeyInUse,
    /// An identifier already held by another active party.
    #[error("identifier {identifier} already belongs to another active party")]
    IdentifierTaken {
        /// The identifier.
        identifier: String,
    },
    /// A document naming a party by an identifier another party holds.
    #[error(
        "the document names the {role} by {identifier}, which a different registered party holds"
    )]
    DocumentPartyMismatch {
        /// The role.
        role: &'static str,
        /// The identifier.
        identifier: String,
    },
    /// A replacement naming too few, too many or repeated bills.
    #[error("a replacement names 1 to 16 distinct void bills and 1 to 16 bills replacing them, not {bills} and {count}")]
    MalformedReplacement {
        /// How many void bills it names.
        bills: usize,
        /// How many there are.
        count: u16,
    },
    /// A refusal with no transfer or endorsement just before it.
    #[error("only the recipient of the last transfer or endorsement may refuse it, as the very next action")]
    NothingToRefuse,
    /// A refusal by someone other than the last recipient.
    #[error("the signer is not the recipient of the last transfer or endorsement")]
    NotRecipient,
    /// A switch to paper accepted without the paper bill's note.
    #[error("a surrender to switch to paper is accepted only with the note of the paper bill that replaces it")]
    PaperNoteMissing,
    /// A paper note on a surrender that is not to switch to paper.
    #[error("the pending surrender is not to switch to paper (SWTP)")]
    NotSwitchToPaper,
    /// A transaction whose validity ended before its block's time.
    #[error("the transaction expired at {valid_until_ms} ms, before its block's time {block_time_ms} ms")]
    Expired {
        /// When it stopped being valid (Unix milliseconds).
        valid_until_ms: u64,
        /// The block's time (Unix milliseconds).
        block_time_ms: u64,
    },
    /// A party registered twice.
    #[error("party {party} is already registered")]
    PartyExists {
        /// The party.
        party: PartyId,
    },
    /// A key already held by another party.
    #[error("key is already used by party {party}")]
    KeyInUse {
        /// The party.
        party: PartyId,
    },
    /// A party name already held by another party.
    #[error("party name {name:?} is already taken")]
    NameTaken {
        /// The name.
        name: String,
    },
    /// A bill not on this ledger.
    #[error("bill {bill} is not on this ledger")]
    UnknownBill {
        /// The bill.
        bill: Hash,
    },
    /// An action only the issuing carrier may take, signed by someone else.
    #[error("only the bill's issuing carrier may do this")]
    NotCarrier,
    /// A document whose carrier code is not the issuing carrier's.
    #[error("document carrier {code} is not an identifier of the issuing carrier")]
    CarrierCodeMismatch {
        /// The code as given.
        code: String,
    },
    /// A transport document reference the carrier already used.
    #[error("carrier already issued a bill with reference {reference:?}")]
    DuplicateReference {
        /// The reference.
        reference: String,
    },
    /// A bill issued to a party the document does not name.
    #[error("issueTo must be the bill's shipper or consignee (for a replacement: who surrendered the void bill)")]
    IssueToNotNamed,
    /// A consignee party that does not fit the document's title.
    #[error("a to-order bill names no consignee party; a straight bill must")]
    ConsigneeMismatch,
    /// A replacement naming a bill that is not void.
    #[error("the replaced bill {bill} is not void")]
    ReplacedBillNotVoid {
        /// The bill.
        bill: Hash,
    },
    /// A void bill replaced twice.
    #[error("bill {bill} has already been replaced")]
    AlreadyReplaced {
        /// The bill.
        bill: Hash,
    },
    /// An import, block or statement not signed by a member node's key.
    #[error("not signed by a member's node key (imports, blocks and statements must be)")]
    NotNode,
    /// An auditor's grant for a node that is a member's: a member's node votes, it does not follow.
    #[error("node {node} is a member's node: it votes, it does not follow")]
    FollowerIsMemberNode {
        /// The node's key.
        node: String,
    },
    /// A block with fewer member node signatures than the threshold.
    #[error("block {height} is not final: {have} member nodes signed it, {need} must")]
    NotFinal {
        /// The block's height.
        height: u64,
        /// How many signed it.
        have: usize,
        /// How many are needed.
        need: usize,
    },
    /// A genesis stating more lying nodes than its members can outvote (f must be below n).
    #[error("the genesis states {faults} lying nodes tolerated among {members} members: f must be below n")]
    InvalidFaults {
        /// The f stated.
        faults: u16,
        /// The members.
        members: usize,
    },
    /// A status statement vouched for by fewer member nodes than the chain format at its height needs
    /// (from format 7, the finality quorum).
    #[error("the status statement at height {height} is vouched for by {have} member nodes, {need} must")]
    StatementUncertified {
        /// The statement's height.
        height: u64,
        /// How many member nodes signed it.
        have: usize,
        /// How many are needed.
        need: usize,
    },
    /// A PINT envelope larger than an import may carry.
    #[error("envelope is {len} bytes, more than the {max} an import may carry")]
    EnvelopeTooLarge {
        /// Its length, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// A PINT envelope that cannot be read.
    #[error("malformed envelope: {reason}")]
    MalformedEnvelope {
        /// What is wrong, in words.
        reason: String,
    },
    /// An imported title that does not fit the document or the possessor.
    #[error("an imported title must fit the document (to order or straight) and rest with the possessor")]
    ImportTitleMismatch,
    /// A surrender from abroad not held by the bill's carrier.
    #[error("a surrender received from another platform must be held by the bill's carrier")]
    SurrenderNotToCarrier,
    /// An action only the possessor may take, signed by someone else.
    #[error("the signer is not the bill's possessor")]
    NotPossessor,
    /// A possessor acting as if it held title, without it.
    #[error("the possessor does not hold title to the bill")]
    NoTitle,
    /// An endorsement or pledge of a straight bill.
    #[error("a straight bill cannot be endorsed or pledged")]
    NotNegotiable,
    /// An endorsement by an endorsee not allowed to endorse on.
    #[error("the endorsee may not endorse further (endorsed without ENDORSE_TO_ORDER)")]
    EndorsementRestricted,
    /// A transfer to the party that already possesses the bill.
    #[error("the recipient already possesses the bill")]
    AlreadyPossessor,
    /// An endorsement to the party that already is the endorsee.
    #[error("the recipient is already the endorsee")]
    AlreadyEndorsee,
    /// A pledge of a pledged bill.
    #[error("the bill is already pledged")]
    AlreadyPledged,
    /// An action by anyone but the pledgee on a pledged bill.
    #[error("the bill is pledged: only the pledgee may act on it")]
    Pledged,
    /// A release or enforcement of a bill not pledged.
    #[error("the bill is not pledged")]
    NotPledged,
    /// A release or enforcement by someone other than the pledgee.
    #[error("the signer is not the bill's pledgee")]
    NotPledgee,
    /// A pledge to the party pledging.
    #[error("a pledgee cannot lend against its own bill")]
    SelfPledge,
    /// An action on a bill whose surrender awaits the carrier.
    #[error("a surrender is pending the carrier's answer")]
    SurrenderPending,
    /// An answer to a surrender that nobody made.
    #[error("no surrender is pending")]
    NoSurrenderPending,
    /// An action on a bill that has ended its life here.
    #[error("the bill is {status} and accepts no further action")]
    Terminal {
        /// How the bill ended.
        status: &'static str,
    },
    /// An action on a bill being sent to another platform.
    #[error("the bill is being sent to another platform: nothing may act on it until that platform answers")]
    SendingOut,
    /// A platform's answer recorded for a bill not being sent.
    #[error("the bill is not being sent to another platform")]
    NotSendingOut,
    /// An action on a bill the receiving platform disputes.
    #[error(
        "the platform the bill was sent to disputes it (DISE): it is held until people resolve it"
    )]
    Disputed,
    /// A send to this chain's own platform.
    #[error("platform {platform} is this chain's own: a bill is sent only to another platform")]
    OwnPlatform {
        /// The platform code.
        platform: String,
    },
    /// A foreign party named by more codes than allowed.
    #[error("a party on another platform is named by {count} codes, more than the {max} allowed")]
    TooManyPartyCodes {
        /// How many there are.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A recorded PINT entry or answer over its limit.
    #[error("the recorded PINT {what} is {len} bytes, more than the {max} allowed")]
    PintRecordTooLarge {
        /// What was being read.
        what: &'static str,
        /// Its length, in bytes.
        len: usize,
        /// The limit.
        max: usize,
    },

    // --- chain verification ---
    /// A transaction of another bill in a bill's chain.
    #[error("transaction belongs to bill {bill}, not the one being verified")]
    ForeignTransaction {
        /// The bill.
        bill: Hash,
    },
    /// A chain without the bill's issue.
    #[error("the chain holds no ISSUE for bill {bill}")]
    BillNotInChain {
        /// The bill.
        bill: Hash,
    },
    /// A document that is not the one issued.
    #[error("document checksum {got} does not match the issued {expected}")]
    DocumentChecksumMismatch {
        /// What was expected.
        expected: Hash,
        /// What was found.
        got: Hash,
    },
    /// A node statement that does not describe the verified bill.
    #[error("the node's status statement does not describe the verified state of the bill (or is older than its history)")]
    StatementMismatch,
    /// A party's entry whose proof does not lead to the registry root the member nodes signed (a proof
    /// from another height, cut short or padded, or of another entry).
    #[error(
        "the registry proof of party {party} does not lead to the root the member nodes signed"
    )]
    PartyProofMismatch {
        /// The party.
        party: PartyId,
    },
    /// The consortium's entry whose proof does not lead to the registry root the member nodes signed.
    #[error(
        "the registry proof of the consortium does not lead to the root the member nodes signed"
    )]
    ConsortiumProofMismatch,
    /// A party whose history in the bundle does not replay to its proven entry: an event of it (a
    /// rotation, a recovery, a revocation, a change of profile) is missing or added.
    #[error("the history of party {party} in the bundle does not give its proven entry: its {differs} differ ({events} of its registry events carried)")]
    PartyHistoryMismatch {
        /// The party.
        party: PartyId,
        /// What differs.
        differs: EntryPart,
        /// How many of the party's registry events the bundle carried.
        events: usize,
    },
    /// The consortium replayed from the bundle's governance entries is not the proven one: a change to
    /// the members, threshold or formats is missing or added.
    #[error("the consortium replayed from the bundle is not the one the member nodes signed: a governance change is missing")]
    ConsortiumHistoryMismatch,
    /// A bundle proving more registry entries than a bill relies on could ever need.
    #[error("the bundle proves {count} registry entries, more than the {max} allowed")]
    TooManyRegistryProofs {
        /// How many.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A party the bundle's replay relied on with no proven entry: nothing is taken on the strength of
    /// an entry the bundle does not prove.
    #[error("party {party} is relied on but the bundle proves no entry of it")]
    PartyUnproven {
        /// The party.
        party: PartyId,
    },
    /// A Merkle proof that does not reach the block's root.
    #[error("Merkle proof does not lead to the block's root")]
    BadInclusionProof,
    /// A block that does not name the block before it.
    #[error("block {height} does not link to the block before it")]
    BrokenBlockLink {
        /// The block's height.
        height: u64,
    },
    /// A bundle from a chain other than the one trusted.
    #[error("the bundle is from chain {got}, not the chain {expected} the verifier trusts")]
    ChainMismatch {
        /// What was expected.
        expected: Hash,
        /// What was found.
        got: Hash,
    },
    /// A bundle from a chain the verifier has not pinned.
    #[error("chain {chain} is not pinned: verify with --chain {chain} if you trust it, or pin it with `ebl chain pin`")]
    UnpinnedChain {
        /// The chain.
        chain: Hash,
    },
    /// A bundle's entries out of ledger order.
    #[error("entries are not in ledger order: {place} is out of place")]
    EntriesOutOfOrder {
        /// Where, in words.
        place: String,
    },
}

impl Error {
    /// The stable code for this rule: safe to match on in scripts, shown by the API and CLI.
    pub fn code(&self) -> &'static str {
        use Error::*;
        match self {
            EncodingTooLarge { .. } => "encoding_too_large",
            TrailingBytes { .. } => "trailing_bytes",
            MalformedEncoding { .. } => "malformed_encoding",
            FormatTooOld { .. } => "format_too_old",
            FormatTooNew { .. } => "format_too_new",
            FormatNotNext { .. } => "format_not_next",
            FormatHeightPast { .. } => "format_height_past",
            FormatUnknown { .. } => "format_unknown",
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
            FollowerIsMemberNode { .. } => "follower_is_member_node",
            NotFinal { .. } => "not_final",
            StatementUncertified { .. } => "statement_uncertified",
            InvalidFaults { .. } => "invalid_faults",
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
            PartyProofMismatch { .. } => "party_proof_mismatch",
            ConsortiumProofMismatch => "consortium_proof_mismatch",
            PartyHistoryMismatch { .. } => "party_history_mismatch",
            ConsortiumHistoryMismatch => "consortium_history_mismatch",
            PartyUnproven { .. } => "party_unproven",
            TooManyRegistryProofs { .. } => "too_many_registry_proofs",
            BrokenBlockLink { .. } => "broken_block_link",
            ChainMismatch { .. } => "chain_mismatch",
            UnpinnedChain { .. } => "unpinned_chain",
            EntriesOutOfOrder { .. } => "entries_out_of_order",
        }
    }
}
