//! Named limits of the domain: every one is enforced where bytes or values enter, and tested at its boundary.

/// Largest encoded signed transaction the codec will decode (an `ISSUE` carries its whole document).
pub const TRANSACTION_BYTES_MAX: usize = 96 * 1024;
/// Largest PINT envelope (RFC 8785 form) a bill arriving from another platform may be imported with: it
/// rides inside one transaction, so it stays under `TRANSACTION_BYTES_MAX` with room for the rest.
pub const ENVELOPE_BYTES_MAX: usize = TRANSACTION_BYTES_MAX - 8 * 1024;
/// Largest canonical (RFC 8785) transport document, in bytes.
pub const DOCUMENT_BYTES_MAX: usize = 64 * 1024;
/// Deepest nesting of arrays and objects accepted in a document.
pub const DOCUMENT_DEPTH_MAX: usize = 32;
/// Most signatures one transaction may carry: a pledge needs two, a governance change up to one per
/// member.
pub const SIGNATURES_MAX: usize = MEMBERS_MAX;
/// Longest party name, in bytes.
pub const PARTY_NAME_BYTES_MAX: usize = 100;
/// Most identifiers (LEI, DCSA party code, ...) one party may register.
pub const PARTY_IDENTIFIERS_MAX: usize = 8;
/// Longest identifier scheme or value, in bytes.
pub const IDENTIFIER_BYTES_MAX: usize = 64;
/// Longest loan reference of a pledge, in bytes.
pub const LOAN_REFERENCE_BYTES_MAX: usize = 64;
/// Longest transport document reference (DCSA allows 20 characters).
pub const DOCUMENT_REFERENCE_BYTES_MAX: usize = 20;
/// Longest chain name in the genesis, in bytes.
pub const CHAIN_NAME_BYTES_MAX: usize = 64;
/// Most transactions one block may hold.
pub const BLOCK_TRANSACTIONS_MAX: usize = 4096;
/// Deepest Merkle inclusion proof accepted (enough for `BLOCK_TRANSACTIONS_MAX` leaves).
pub const MERKLE_PROOF_DEPTH_MAX: usize = 16;
/// Most leaves a registry commitment holds (the consortium and every party): an inclusion proof counts
/// them in 32 bits.
pub const REGISTRY_LEAVES_MAX: usize = u32::MAX as usize;
/// Deepest registry inclusion proof: a tree of [`REGISTRY_LEAVES_MAX`] leaves.
pub const REGISTRY_PROOF_DEPTH_MAX: usize = 32;
/// Most registry entries (parties, with the consortium's) a bundle proves: the parties one bill's
/// lineage names and the signers of its transactions.
pub const BUNDLE_ENTRIES_MAX: usize = 1024;
/// Largest document JSON accepted as input, before canonicalization strips its whitespace.
pub const DOCUMENT_INPUT_BYTES_MAX: usize = 4 * DOCUMENT_BYTES_MAX;
/// Most members a consortium genesis (or the registry after governance) may name.
pub const MEMBERS_MAX: usize = 16;
/// Longest peer address (`host:port`) a member's node serves other nodes on, in bytes.
pub const PEER_ADDRESS_BYTES_MAX: usize = 128;
/// Longest DCSA PINT platform code (`eblPlatform`): DCSA's schema allows 4 characters.
pub const PLATFORM_CODE_BYTES_MAX: usize = 4;
/// Largest encoded genesis: the members' keys, names and addresses.
pub const GENESIS_BYTES_MAX: usize = 16 * 1024;
/// Most void bills one replacement may name (a combine).
pub const REPLACED_BILLS_MAX: usize = 16;
/// Most bills that may replace the same void bills together (a split).
pub const REPLACEMENT_BILLS_MAX: u16 = 16;
/// Longest paper bill number a carrier notes when a bill is switched to paper, in bytes.
pub const PAPER_BILL_NUMBER_BYTES_MAX: usize = 64;
/// How far a signed read request's time may be from the node's clock: seconds, so that a captured
/// request is soon worthless; within it, each signature is accepted once. The wallet signs by the same
/// rule, so it is the protocol's, not one node's.
pub const REQUEST_SKEW_MS_MAX: u64 = 30 * 1000;
/// Most identifying codes a party on another platform is named by when a bill is sent to it (PINT's
/// `identifyingCodes`).
pub const FOREIGN_PARTY_CODES_MAX: usize = 8;
/// Longest code list provider or party code naming a party on another platform, in bytes (PINT allows
/// 100 for `partyCode`).
pub const FOREIGN_PARTY_CODE_BYTES_MAX: usize = 100;
/// Largest signed PINT answer (a compact JWS) a node records when a bill it sent is received or refused.
pub const PINT_ANSWER_BYTES_MAX: usize = 16 * 1024;
