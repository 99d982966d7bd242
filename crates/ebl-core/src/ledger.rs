//! The ledger state machine: the registry and every bill, advanced one ordered transaction at a time.
//!
//! `Ledger::apply` is deterministic and does no IO: the same genesis and the same ordered transactions give
//! the same state on every machine, which is what lets a bank replay a bill offline and lets nodes of
//! several organisations replicate the log without trusting each other's state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::bill::{self, sole_signer, Bill, Status, Title};
use crate::document::Document;
use crate::error::{Error, Result};
use crate::genesis::Genesis;
use crate::hash::Hash;
use crate::party::{Identifier, PartyId, Role};
use crate::registry::Registry;
use crate::transaction::{Action, BillId, ChainId, Replacement, SignedTransaction, TxId};

/// The key a bill's reference is unique under: its document's carrier code, scheme without case.
fn reference_key(carrier_code: &str, reference: &str) -> (String, String) {
    (carrier_code.to_owned(), reference.to_owned())
}

/// A carrier code in the one form bills record it: `SCHEME:VALUE`, the scheme in upper case.
fn carrier_code(identifier: &Identifier) -> String {
    let (scheme, value) = identifier.key();
    format!("{scheme}:{value}")
}

/// What one accepted transaction changed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Applied {
    /// The transaction's id.
    pub tx: TxId,
    /// The bill it created or moved; `None` for a registry change.
    pub bill: Option<BillId>,
    /// The void bills an `ISSUE` replaced, whose states changed too.
    pub replaced: Vec<BillId>,
    /// The party a registry change admitted, re-keyed or revoked.
    pub party: Option<PartyId>,
}

impl Applied {
    /// Every bill whose state the transaction changed.
    pub fn bills(&self) -> impl Iterator<Item = BillId> + '_ {
        self.bill.into_iter().chain(self.replaced.iter().copied())
    }
}

/// Whether `apply` checks signatures itself, or the caller already did (a node verifies them in parallel,
/// before ordering, and must not pay for them twice).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signatures {
    /// Check every signature.
    Verify,
    /// The caller checked them (with `verify_strict`), over these very bytes.
    AlreadyVerified,
}

/// The whole state: registry, bills and the (carrier code, reference) uniqueness index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ledger {
    genesis: Genesis,
    chain: ChainId,
    registry: Registry,
    bills: BTreeMap<BillId, Bill>,
    references: BTreeMap<(String, String), BillId>,
    /// The time of the block being ordered or replayed: transactions that expired before it are refused.
    block_time_ms: u64,
    /// The height of the block being ordered or replayed (0: unknown): a format change must be
    /// scheduled above it.
    block_height: u64,
    /// Whether the registry replayed is an extract: a bundle's from chain format 8, which carries the
    /// consortium's changes and the history of the parties its bill names, each proven in its certified
    /// block, and not every registry transaction. Its registry transactions do not link to one another
    /// (the ones between are not there), so the link to the registry head is not asked; whether the
    /// extract left out an event of a party it relies on is what the proofs of the parties' entries
    /// show (see [`crate::bundle`]).
    registry_extract: bool,
}

impl Ledger {
    /// An empty ledger of the chain `genesis` starts.
    pub fn new(genesis: Genesis) -> Ledger {
        Ledger {
            chain: genesis.chain_id(),
            registry: Registry::new(&genesis),
            genesis,
            bills: BTreeMap::new(),
            references: BTreeMap::new(),
            block_time_ms: 0,
            block_height: 0,
            registry_extract: false,
        }
    }

    /// An empty ledger that replays an extract of the registry (see the field's documentation): for a
    /// bundle of chain format 8, never for a node.
    pub fn for_registry_extract(genesis: Genesis) -> Ledger {
        Ledger {
            registry_extract: true,
            ..Ledger::new(genesis)
        }
    }

    /// Sets the block the next transactions are ordered into (or replayed from): its height and time.
    /// A transaction whose `valid_until_ms` is earlier than the time is refused as expired; a
    /// `SCHEDULE_FORMAT` must take effect above the height. Whoever orders and whoever replays set the
    /// same two, so they agree on every rule.
    pub fn set_block(&mut self, height: u64, time_ms: u64) {
        self.block_height = height;
        self.block_time_ms = time_ms;
    }

    /// The height of the block being ordered or replayed (0: unknown).
    pub fn block_height(&self) -> u64 {
        self.block_height
    }

    /// The chain format of the block at `height`.
    pub fn format_at(&self, height: u64) -> u16 {
        self.registry.formats().at(height)
    }

    /// Rebuilds a ledger from stored state: the registry and every bill. The reference index is derived.
    pub fn from_parts(
        genesis: Genesis,
        registry: Registry,
        bills: impl IntoIterator<Item = Bill>,
    ) -> Ledger {
        let mut ledger = Ledger::new(genesis);
        ledger.registry = registry;
        for bill in bills {
            ledger.bills.insert(bill.id, bill);
        }
        // A void bill's reference may have passed to its replacement: the one not yet replaced holds it.
        for bill in ledger.bills.values() {
            let key = reference_key(&bill.carrier_code, &bill.reference);
            let superseded = |id: &BillId| {
                ledger
                    .bills
                    .get(id)
                    .is_some_and(|b| b.status.has_passed_on())
            };
            match ledger.references.get(&key) {
                Some(holder) if !superseded(holder) => {}
                _ => {
                    ledger.references.insert(key, bill.id);
                }
            }
        }
        ledger
    }

    /// The genesis.
    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    /// The chain id.
    pub fn chain_id(&self) -> ChainId {
        self.chain
    }

    /// The party registry and consortium now.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The bill `id`, if there is one.
    pub fn bill(&self, id: &BillId) -> Option<&Bill> {
        self.bills.get(id)
    }

    /// Every bill, in id order.
    pub fn bills(&self) -> impl Iterator<Item = &Bill> {
        self.bills.values()
    }

    /// The live bill (the one not replaced) with this reference under this carrier code (`SMDG:MSC`).
    pub fn bill_by_reference(&self, carrier_code: &Identifier, reference: &str) -> Option<&Bill> {
        self.references
            .get(&reference_key(&self::carrier_code(carrier_code), reference))
            .and_then(|id| self.bills.get(id))
    }

    /// Takes over state that another copy of this ledger already reached by applying transactions: the
    /// bills they changed and the registry after them. For a reader's copy that follows a writer (the
    /// node publishes durable state this way) instead of applying every transaction twice.
    pub fn adopt(&mut self, bills: impl IntoIterator<Item = Bill>, registry: Option<Registry>) {
        if let Some(registry) = registry {
            self.registry = registry;
        }
        for bill in bills {
            // The (carrier code, reference) belongs to the one bill of that key not yet replaced.
            let key = reference_key(&bill.carrier_code, &bill.reference);
            let replaced = bill.status.has_passed_on();
            if !replaced || !self.references.contains_key(&key) {
                self.references.insert(key, bill.id);
            }
            self.bills.insert(bill.id, bill);
        }
    }

    /// The head a new transaction for `bill` (or, with `None`, for the registry) must name as `prev`.
    pub fn head_for(&self, bill: Option<&BillId>) -> Option<Hash> {
        match bill {
            Some(id) => self.bills.get(id).map(|b| b.head),
            None => Some(self.registry.head()),
        }
    }

    /// Checks `tx` against every rule and, only if it passes, changes the state. A refused transaction
    /// leaves the ledger exactly as it was.
    pub fn apply(&mut self, tx: &SignedTransaction, signatures: Signatures) -> Result<Applied> {
        self.apply_identified(tx, tx.id(), signatures)
    }

    /// [`Ledger::apply`] for a caller that already holds the transaction's id (`tx.id()`), so that a
    /// node does not hash every body again. A wrong `id` corrupts the ledger: pass only `tx.id()`.
    pub fn apply_identified(
        &mut self,
        tx: &SignedTransaction,
        id: TxId,
        signatures: Signatures,
    ) -> Result<Applied> {
        debug_assert_eq!(id, tx.id());
        if tx.body.chain != self.chain {
            return Err(Error::WrongChain {
                expected: self.chain,
                got: tx.body.chain,
            });
        }
        match signatures {
            Signatures::Verify => tx.verify_signatures()?,
            Signatures::AlreadyVerified => tx.check_structure()?,
        }
        if let Some(valid_until_ms) = tx.body.valid_until_ms {
            if valid_until_ms < self.block_time_ms {
                return Err(Error::Expired {
                    valid_until_ms,
                    block_time_ms: self.block_time_ms,
                });
            }
        }
        // A member's node key belongs to no party: an import is checked against the members.
        if let Action::Import { .. } = &tx.body.action {
            return self.import(tx, id);
        }
        let action = &tx.body.action;

        // Governance counts member-admin signatures, and a rotation is signed by a key not yet
        // registered: the registry checks its own signers.
        if action.is_registry() {
            if !self.registry_extract && tx.body.prev != self.registry.head() {
                return Err(Error::StaleHead {
                    expected: self.registry.head(),
                    got: tx.body.prev,
                });
            }
            let party = self
                .registry
                .apply(action, &tx.signatures, id, self.block_height)?;
            return Ok(Applied {
                tx: id,
                bill: None,
                replaced: Vec::new(),
                party,
            });
        }
        // Another platform's answer to a send is vouched for by a member's node, which belongs to no
        // party: it is checked against the members, like an import.
        let signers = if action.is_send_outcome() {
            self.node_signed(tx)?;
            Vec::new()
        } else {
            self.signers(tx)?
        };
        if let Action::SendOut { to, .. } = action {
            if to.platform == self.genesis.platform {
                return Err(Error::OwnPlatform {
                    platform: to.platform.clone(),
                });
            }
        }

        if let Action::Issue { .. } = action {
            return self.issue(tx, id, &signers);
        }

        let bill_id = action.bill().ok_or_else(|| Error::MalformedEncoding {
            reason: "bill action without a bill".to_owned(),
        })?;
        let bill = self
            .bills
            .get(&bill_id)
            .ok_or(Error::UnknownBill { bill: bill_id })?;
        if tx.body.prev != bill.head {
            return Err(Error::StaleHead {
                expected: bill.head,
                got: tx.body.prev,
            });
        }
        let mut next = bill::transition(bill, action, &signers, &self.registry)?;
        next.head = id;
        next.transactions = bill.transactions.saturating_add(1);
        self.bills.insert(bill_id, next);
        Ok(Applied {
            tx: id,
            bill: Some(bill_id),
            replaced: Vec::new(),
            party: None,
        })
    }

    /// Resolves each signature's key to its party, refusing unknown, rotated-out and revoked keys and a
    /// party signing twice.
    fn signers(&self, tx: &SignedTransaction) -> Result<Vec<PartyId>> {
        let mut signers = Vec::with_capacity(tx.signatures.len());
        for s in &tx.signatures {
            let party = self.registry.signer(&s.signer)?;
            if signers.contains(&party) {
                return Err(Error::DuplicateSigner { party });
            }
            signers.push(party);
        }
        Ok(signers)
    }

    fn issue(&mut self, tx: &SignedTransaction, id: TxId, signers: &[PartyId]) -> Result<Applied> {
        let Action::Issue {
            document,
            issue_to,
            shipper,
            consignee,
            replaces,
        } = &tx.body.action
        else {
            return Err(Error::MalformedEncoding {
                reason: "not an ISSUE".to_owned(),
            });
        };
        if tx.body.prev != Hash::ZERO {
            return Err(Error::StaleHead {
                expected: Hash::ZERO,
                got: tx.body.prev,
            });
        }
        let carrier_id = sole_signer(signers, "carrier")?;
        self.carrier_of(carrier_id, document)?;
        let facts = document.facts();
        self.registry.active_party(*shipper)?;
        self.registry.active_party(*issue_to)?;
        // Where the document names a party by a code a registered party holds, it is that party.
        self.document_party("shipper", &facts.shipper_codes, Some(*shipper))?;
        self.document_party("consignee", &facts.consignee_codes, *consignee)?;
        let endorsee = facts.is_to_order.then_some(*issue_to);
        self.document_party("endorsee", &facts.endorsee_codes, endorsee)?;
        let title = if facts.is_to_order {
            if let Some(c) = consignee {
                self.registry.active_party(*c)?;
            }
            Title::Order {
                endorsee: *issue_to,
                may_endorse: true,
            }
        } else {
            let c = consignee.ok_or(Error::ConsigneeMismatch)?;
            self.registry.active_party(c)?;
            Title::Straight { consignee: c }
        };
        // A first issue goes to the shipper or the named consignee; a replacement goes back to whoever
        // surrendered the bill it replaces (checked below).
        if replaces.is_none() && issue_to != shipper && Some(*issue_to) != *consignee {
            return Err(Error::IssueToNotNamed);
        }
        let reference = facts.transport_document_reference.clone();
        let code = carrier_code(&facts.carrier_identifier());
        let existing = self
            .references
            .get(&reference_key(&code, &reference))
            .copied();
        if let Some(r) = replaces {
            self.check_replacement(r, carrier_id, issue_to)?;
        }
        // A reference is used once per carrier code, except by a replacement of the void bill that used
        // it (the first to claim it).
        if let Some(holder) = existing {
            let reusable = replaces.as_ref().is_some_and(|r| r.bills.contains(&holder));
            if !reusable {
                return Err(Error::DuplicateReference { reference });
            }
        }
        if self.bills.contains_key(&id) {
            return Err(Error::DuplicateReference { reference });
        }
        let bill = Bill {
            id,
            head: id,
            transactions: 1,
            carrier: carrier_id,
            carrier_code: code.clone(),
            reference: reference.clone(),
            document_checksum: document.checksum(),
            document_type: facts.transport_document_type_code,
            negotiable: facts.is_to_order,
            shipper: *shipper,
            possessor: *issue_to,
            title,
            status: Status::Issued,
            replaces: replaces
                .as_ref()
                .map(|r| r.bills.clone())
                .unwrap_or_default(),
            refusable: None,
            earlier: None,
        };
        for old in replaces.iter().flat_map(|r| &r.bills) {
            if let Some(replaced) = self.bills.get_mut(old) {
                if let Status::Void {
                    replaced_by,
                    replacement,
                    ..
                } = &mut replaced.status
                {
                    replaced_by.push(id);
                    *replacement = replaces.clone();
                }
            }
        }
        self.references.insert(reference_key(&code, &reference), id);
        self.bills.insert(id, bill);
        Ok(Applied {
            tx: id,
            bill: Some(id),
            replaced: replaces
                .as_ref()
                .map(|r| r.bills.clone())
                .unwrap_or_default(),
            party: None,
        })
    }

    /// A replacement names void bills of this carrier, surrendered by the party it is issued to, and
    /// replaced once: the first replacement fixes the set and the count.
    fn check_replacement(
        &self,
        r: &Replacement,
        carrier_id: PartyId,
        issue_to: &PartyId,
    ) -> Result<()> {
        for old in &r.bills {
            let replaced = self
                .bills
                .get(old)
                .ok_or(Error::UnknownBill { bill: *old })?;
            if replaced.carrier != carrier_id {
                return Err(Error::NotCarrier);
            }
            match &replaced.status {
                Status::Void {
                    surrendered_by,
                    replaced_by,
                    replacement,
                } => {
                    if issue_to != surrendered_by {
                        return Err(Error::IssueToNotNamed);
                    }
                    // Replaced once: the first replacement fixes the set and the count, and no
                    // more bills than that count may name it.
                    let same = replacement.as_ref().is_none_or(|first| first == r);
                    if !same || replaced_by.len() >= usize::from(r.count) {
                        return Err(Error::AlreadyReplaced { bill: *old });
                    }
                }
                _ => return Err(Error::ReplacedBillNotVoid { bill: *old }),
            }
        }
        Ok(())
    }

    /// Checks that every code `codes` gives for the document's `role` is held by no registered party
    /// other than `party`, the ledger's party in that role.
    fn document_party(
        &self,
        role: &'static str,
        codes: &[Identifier],
        party: Option<PartyId>,
    ) -> Result<()> {
        for code in codes {
            if let Some(holder) = self.registry.by_identifier(&code.scheme, &code.value) {
                if Some(holder.id) != party {
                    return Err(Error::DocumentPartyMismatch {
                        role,
                        identifier: code.to_string(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Checks that `carrier` is an active carrier whose identifiers include the document's carrier code.
    fn carrier_of(&self, carrier: PartyId, document: &Document) -> Result<()> {
        let party = self.registry.active_party(carrier)?;
        if !party.has_role(Role::Carrier) {
            return Err(Error::NotCarrier);
        }
        let facts = document.facts();
        let code_matches = party.profile.identifiers.iter().any(|i| {
            i.scheme
                .eq_ignore_ascii_case(&facts.carrier_code_list_provider)
                && i.value == facts.carrier_code
        });
        if !code_matches {
            return Err(Error::CarrierCodeMismatch {
                code: format!(
                    "{}:{}",
                    facts.carrier_code_list_provider, facts.carrier_code
                ),
            });
        }
        Ok(())
    }

    /// Exactly one signature, by a member's node key.
    fn node_signed(&self, tx: &SignedTransaction) -> Result<()> {
        match tx.signatures.as_slice() {
            [] => Err(Error::MissingSignature { who: "node" }),
            [one] if self.registry.member_by_node(&one.signer).is_some() => Ok(()),
            _ => Err(Error::NotNode),
        }
    }

    /// A bill from another platform. The node vouches for the envelope (the core cannot check JWS from
    /// other platforms); the ledger checks what it can: the node's signature, the document, a local
    /// carrier to surrender to, and a title that fits the document and rests with the possessor. The
    /// original shipper lives on another platform, so `shipper` names the local party it arrived to.
    fn import(&mut self, tx: &SignedTransaction, id: TxId) -> Result<Applied> {
        let Action::Import {
            envelope,
            carrier,
            possessor,
            title,
            surrendered_by,
        } = &tx.body.action
        else {
            return Err(Error::MalformedEncoding {
                reason: "not an IMPORT".to_owned(),
            });
        };
        if tx.body.prev != Hash::ZERO {
            return Err(Error::StaleHead {
                expected: Hash::ZERO,
                got: tx.body.prev,
            });
        }
        self.node_signed(tx)?;
        let document = Document::from_envelope(envelope)?;
        self.carrier_of(*carrier, &document)?;
        self.registry.active_party(*possessor)?;
        let facts = document.facts();
        let fits = match title {
            Title::Straight { consignee } => !facts.is_to_order && consignee == possessor,
            Title::Order { endorsee, .. } => facts.is_to_order && endorsee == possessor,
            Title::Bearer => facts.is_to_order,
        };
        if !fits {
            return Err(Error::ImportTitleMismatch);
        }
        // A surrender is addressed to the issuing carrier, who holds the bill while it answers.
        if surrendered_by.is_some() && possessor != carrier {
            return Err(Error::SurrenderNotToCarrier);
        }
        let reference = facts.transport_document_reference.clone();
        let code = carrier_code(&facts.carrier_identifier());
        // A bill this platform sent away may come back: a new bill, linked to its earlier life here.
        let earlier = match self.references.get(&reference_key(&code, &reference)) {
            None => None,
            Some(b)
                if self
                    .bills
                    .get(b)
                    .is_some_and(|b| matches!(b.status, Status::TransferredOut { .. })) =>
            {
                Some(*b)
            }
            Some(_) => return Err(Error::DuplicateReference { reference }),
        };
        if self.bills.contains_key(&id) {
            return Err(Error::DuplicateReference { reference });
        }
        let bill = Bill {
            id,
            head: id,
            transactions: 1,
            carrier: *carrier,
            carrier_code: code.clone(),
            reference: reference.clone(),
            document_checksum: document.checksum(),
            document_type: facts.transport_document_type_code,
            negotiable: facts.is_to_order,
            shipper: *possessor,
            possessor: *possessor,
            title: title.clone(),
            status: match surrendered_by {
                Some(party) => Status::PendingDeliveryFromAbroad {
                    surrendered_by: party.clone(),
                },
                None => Status::Issued,
            },
            replaces: Vec::new(),
            refusable: None,
            earlier,
        };
        self.references.insert(reference_key(&code, &reference), id);
        self.bills.insert(id, bill);
        Ok(Applied {
            tx: id,
            bill: Some(id),
            replaced: Vec::new(),
            party: None,
        })
    }
}
