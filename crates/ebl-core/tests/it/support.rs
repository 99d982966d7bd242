//! A small world for tests: a genesis, an operator, registered parties and real DCSA documents.

use ebl_core::{
    Action, Applied, BillId, Document, Genesis, Hash, Identifier, Ledger, PartyId, PartyKey,
    PartyProfile, Role, Roles, Signatures, SignedTransaction, SigningKey, Transaction,
};

/// DCSA's `regularSTDExample`, kept once: the sample the core embeds.
pub(crate) const TO_ORDER_BOL: &str = ebl_core::sample::DCSA_TO_ORDER_BOL;

/// A deterministic key: tests must be reproducible.
pub(crate) fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

pub(crate) fn id_of(key: &SigningKey) -> PartyId {
    PartyId::from(PartyKey::of(key))
}

/// The DCSA example to-order bill (carrier SMDG:MSC), with its reference replaced so each test bill is new.
pub(crate) fn to_order_document(reference: &str) -> Document {
    let mut value: serde_json::Value = serde_json::from_str(TO_ORDER_BOL).expect("fixture is JSON");
    value["transportDocumentReference"] = reference.into();
    Document::from_value(&value).expect("fixture is a valid to-order bill")
}

/// The same document made straight: not to order, with a named consignee.
pub(crate) fn straight_document(reference: &str) -> Document {
    let mut value: serde_json::Value = serde_json::from_str(TO_ORDER_BOL).expect("fixture is JSON");
    value["transportDocumentReference"] = reference.into();
    value["isToOrder"] = false.into();
    value["documentParties"]["consignee"] = serde_json::json!({"partyName": "Buyer One"});
    Document::from_value(&value).expect("valid straight bill")
}

pub(crate) struct Actor {
    pub key: SigningKey,
    pub id: PartyId,
}

impl Actor {
    fn new(seed: u8) -> Actor {
        let key = key(seed);
        Actor {
            id: id_of(&key),
            key,
        }
    }
}

/// A ledger with a carrier, a shipper, two buyers, two banks and an unrelated trader already registered.
pub(crate) struct World {
    pub ledger: Ledger,
    pub operator: SigningKey,
    pub carrier: Actor,
    pub shipper: Actor,
    pub buyer: Actor,
    pub buyer2: Actor,
    pub bank: Actor,
    pub bank2: Actor,
    pub stranger: Actor,
    /// Every accepted transaction, in ledger order.
    pub log: Vec<SignedTransaction>,
    clock: u64,
    references: u32,
}

impl World {
    pub(crate) fn new() -> World {
        let operator = key(1);
        let node = key(2);
        let genesis = Genesis::single(
            "test-chain",
            PartyKey::of(&operator),
            PartyKey::of(&node),
            "EBL",
            1_700_000_000_000,
        )
        .expect("valid genesis");
        let mut world = World {
            ledger: Ledger::new(genesis),
            operator,
            carrier: Actor::new(10),
            shipper: Actor::new(11),
            buyer: Actor::new(12),
            buyer2: Actor::new(13),
            bank: Actor::new(14),
            bank2: Actor::new(15),
            stranger: Actor::new(16),
            log: Vec::new(),
            clock: 1_700_000_000_000,
            references: 0,
        };
        let parties = [
            (
                world.carrier.key.clone(),
                "Mediterranean Shipping",
                vec![Role::Carrier],
                vec![Identifier::new("SMDG", "MSC")],
            ),
            (
                world.shipper.key.clone(),
                "DCSA CTK",
                vec![Role::Trader],
                vec![Identifier::new("LEI", "5493001KJTIIGC8Y1R12")],
            ),
            (
                world.buyer.key.clone(),
                "Buyer One",
                vec![Role::Trader],
                vec![],
            ),
            (
                world.buyer2.key.clone(),
                "Buyer Two",
                vec![Role::Trader],
                vec![],
            ),
            (
                world.bank.key.clone(),
                "First Bank",
                vec![Role::Bank],
                vec![],
            ),
            (
                world.bank2.key.clone(),
                "Second Bank",
                vec![Role::Bank],
                vec![],
            ),
            (
                world.stranger.key.clone(),
                "Stranger",
                vec![Role::Trader],
                vec![],
            ),
        ];
        for (k, name, roles, identifiers) in parties {
            world
                .register(&k, name, &roles, identifiers)
                .expect("registration in a fresh world");
        }
        world
    }

    pub(crate) fn chain(&self) -> Hash {
        self.ledger.chain_id()
    }

    /// A body on this chain with the given head, stamped with a fresh client time.
    pub(crate) fn body(&mut self, prev: Hash, action: Action) -> Transaction {
        self.clock += 1;
        Transaction {
            chain: self.chain(),
            prev,
            time_ms: self.clock,
            valid_until_ms: None,
            action,
        }
    }

    pub(crate) fn submit(&mut self, tx: SignedTransaction) -> ebl_core::Result<Applied> {
        let applied = self.ledger.apply(&tx, Signatures::Verify)?;
        self.log.push(tx);
        Ok(applied)
    }

    pub(crate) fn register(
        &mut self,
        k: &SigningKey,
        name: &str,
        roles: &[Role],
        identifiers: Vec<Identifier>,
    ) -> ebl_core::Result<Applied> {
        let action = Action::RegisterParty {
            key: PartyKey::of(k),
            profile: PartyProfile {
                name: name.to_owned(),
                roles: Roles::new(roles)?,
                identifiers,
            },
        };
        self.registry_act(action)
    }

    /// A registry action signed by the operator against the current registry head.
    /// A governance change signed by the one member's admin (t = 1 of 1).
    pub(crate) fn registry_act(&mut self, action: Action) -> ebl_core::Result<Applied> {
        let operator = self.operator.clone();
        self.registry_act_as(action, &[&operator])
    }

    /// A registry change against the registry's head, signed by `signers`.
    pub(crate) fn registry_act_as(
        &mut self,
        action: Action,
        signers: &[&SigningKey],
    ) -> ebl_core::Result<Applied> {
        let head = self.ledger.registry().head();
        let tx = self.body(head, action).signed_by(signers);
        self.submit(tx)
    }

    /// A bill action against the bill's current head, signed by `signers`.
    pub(crate) fn act(
        &mut self,
        action: Action,
        signers: &[&SigningKey],
    ) -> ebl_core::Result<Applied> {
        let bill = action.bill().expect("a bill action");
        let head = self
            .ledger
            .bill(&bill)
            .map(|b| b.head)
            .unwrap_or(Hash::ZERO);
        let tx = self.body(head, action).signed_by(signers);
        self.submit(tx)
    }

    pub(crate) fn next_reference(&mut self) -> String {
        self.references += 1;
        format!("EBLTEST{:05}", self.references)
    }

    pub(crate) fn issue(
        &mut self,
        document: Document,
        issue_to: PartyId,
        consignee: Option<PartyId>,
    ) -> ebl_core::Result<BillId> {
        let action = Action::Issue {
            document,
            issue_to,
            shipper: self.shipper.id,
            consignee,
            replaces: None,
        };
        let carrier = self.carrier.key.clone();
        let tx = self.body(Hash::ZERO, action).signed_by(&[&carrier]);
        Ok(self.submit(tx)?.tx)
    }

    /// A to-order bill issued to the shipper, who is possessor and endorsee.
    pub(crate) fn issue_to_order_bill(&mut self) -> BillId {
        let reference = self.next_reference();
        let shipper = self.shipper.id;
        self.issue(to_order_document(&reference), shipper, None)
            .expect("issue a to-order bill")
    }

    /// A straight bill to the shipper, naming `buyer` as consignee.
    pub(crate) fn issue_straight_bill(&mut self) -> BillId {
        let reference = self.next_reference();
        let (shipper, buyer) = (self.shipper.id, self.buyer.id);
        self.issue(straight_document(&reference), shipper, Some(buyer))
            .expect("issue a straight bill")
    }

    pub(crate) fn bill(&self, id: &BillId) -> &ebl_core::Bill {
        self.ledger.bill(id).expect("bill exists")
    }

    /// Submits and expects refusal with `code`, with the ledger unchanged.
    #[track_caller]
    pub(crate) fn refuse(&mut self, action: Action, signers: &[&SigningKey], code: &str) {
        let before = self.ledger.clone();
        assert_refused(self.act(action, signers), code);
        assert!(
            self.ledger == before,
            "a refused transaction changed the ledger"
        );
    }

    /// The carrier issues `document` to the shipper.
    pub(crate) fn issue_document(&mut self, document: Document) -> ebl_core::Result<BillId> {
        let shipper = self.shipper.id;
        self.issue(document, shipper, None)
    }
}

/// The key of the world's one member node: it signs imports and records other platforms' answers.
pub(crate) fn node() -> SigningKey {
    key(2)
}

/// An envelope as the node would import it: RFC 8785 form, the document inside, the chain opaque here.
pub(crate) fn envelope(document: &ebl_core::Document) -> String {
    let value = serde_json::json!({
        "transportDocument": document.to_value(),
        "envelopeManifestSignedContent": "e30.e30.c2ln",
        "envelopeTransferChain": ["e30.e30.c2ln"],
    });
    ebl_core::jcs::canonicalize(&value).expect("canonical")
}

/// Asserts that a result is the refusal with `code`, and shows the whole error otherwise.
#[track_caller]
pub(crate) fn assert_refused<T: std::fmt::Debug>(result: ebl_core::Result<T>, code: &str) {
    match result {
        Err(e) => assert_eq!(e.code(), code, "refused for the wrong reason: {e}"),
        Ok(v) => panic!("expected refusal {code}, but it was accepted: {v:?}"),
    }
}
