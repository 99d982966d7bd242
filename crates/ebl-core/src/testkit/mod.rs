//! Deterministic parties, real DCSA documents and transaction builders for tests, the demo and benchmarks.
//! Compiled only with the `testkit` feature; nothing here is used by the ledger itself.

use crate::{
    Action, Document, Genesis, Hash, Identifier, Loan, PartyId, PartyKey, PartyProfile, Role,
    Roles, SignedTransaction, SigningKey, Transaction,
};

/// The DCSA example to-order bill of lading (carrier `SMDG:MSC`), as published in the eBL 3.0 spec.
pub use crate::sample::DCSA_TO_ORDER_BOL;

/// The carrier code the DCSA example document names, which the issuing carrier must hold.
pub const DCSA_CARRIER_CODE: (&str, &str) = ("SMDG", "MSC");

/// A key from a one-byte seed: reproducible, and never to be used for real.
pub fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

/// The party id of a test key.
pub fn id_of(key: &SigningKey) -> PartyId {
    PartyId::from(PartyKey::of(key))
}

fn dcsa_value(reference: &str) -> serde_json::Value {
    let mut value: serde_json::Value = serde_json::from_str(DCSA_TO_ORDER_BOL).unwrap_or_default();
    value["transportDocumentReference"] = reference.into();
    value
}

/// The DCSA example to-order bill with its reference replaced, so that each bill is new.
pub fn to_order_document(reference: &str) -> crate::Result<Document> {
    Document::from_value(&dcsa_value(reference))
}

/// The same document made straight (not to order), naming `consignee` as consignee.
pub fn straight_document(reference: &str, consignee: &str) -> crate::Result<Document> {
    let mut value = dcsa_value(reference);
    value["isToOrder"] = false.into();
    value["documentParties"]["consignee"] = serde_json::json!({ "partyName": consignee });
    Document::from_value(&value)
}

/// A party of a test or demo: its key, id and what to register.
#[derive(Debug, Clone)]
pub struct Actor {
    /// The name it registers under.
    pub name: String,
    /// Its signing key.
    pub key: SigningKey,
    /// Its party id.
    pub id: PartyId,
    /// The roles it registers with.
    pub roles: Vec<Role>,
    /// The identifiers it registers with.
    pub identifiers: Vec<Identifier>,
}

impl Actor {
    /// An actor whose key comes from the one-byte `seed`.
    pub fn new(seed: u8, name: &str, roles: &[Role], identifiers: Vec<Identifier>) -> Actor {
        let key = key(seed);
        Actor {
            name: name.to_owned(),
            id: id_of(&key),
            key,
            roles: roles.to_vec(),
            identifiers,
        }
    }

    /// Its public key.
    pub fn public(&self) -> PartyKey {
        PartyKey::of(&self.key)
    }

    /// The registry action that admits this actor.
    pub fn registration(&self) -> crate::Result<Action> {
        Ok(Action::RegisterParty {
            key: self.public(),
            profile: PartyProfile {
                name: self.name.clone(),
                roles: Roles::new(&self.roles)?,
                identifiers: self.identifiers.clone(),
            },
        })
    }
}

/// The cast of a trade: the one member's admin (`operator`) and node, a carrier that can issue the DCSA document, traders and banks.
#[derive(Debug, Clone)]
pub struct Cast {
    /// The one member's admin key.
    pub operator: SigningKey,
    /// The one member's node key.
    pub node: SigningKey,
    /// The carrier, whose code the DCSA document carries.
    pub carrier: Actor,
    /// The shipper the document names.
    pub shipper: Actor,
    /// A trader.
    pub buyer: Actor,
    /// Another trader.
    pub buyer2: Actor,
    /// A bank.
    pub bank: Actor,
    /// Another bank.
    pub bank2: Actor,
    /// An auditor.
    pub auditor: Actor,
}

impl Cast {
    /// The cast, with its fixed seeds.
    pub fn new() -> Cast {
        let (scheme, code) = DCSA_CARRIER_CODE;
        Cast {
            operator: key(1),
            node: key(2),
            carrier: Actor::new(
                10,
                "Mediterranean Shipping",
                &[Role::Carrier],
                vec![Identifier::new(scheme, code)],
            ),
            shipper: Actor::new(
                11,
                "DCSA CTK",
                &[Role::Trader],
                vec![Identifier::new("LEI", "5493001KJTIIGC8Y1R12")],
            ),
            buyer: Actor::new(12, "Buyer One", &[Role::Trader], vec![]),
            buyer2: Actor::new(13, "Buyer Two", &[Role::Trader], vec![]),
            bank: Actor::new(14, "First Bank", &[Role::Bank], vec![]),
            bank2: Actor::new(15, "Second Bank", &[Role::Bank], vec![]),
            auditor: Actor::new(16, "Auditor", &[Role::Auditor], vec![]),
        }
    }

    /// Every party of the cast, in registration order.
    pub fn actors(&self) -> [&Actor; 7] {
        [
            &self.carrier,
            &self.shipper,
            &self.buyer,
            &self.buyer2,
            &self.bank,
            &self.bank2,
            &self.auditor,
        ]
    }

    /// The operator's registrations of every actor, each extending the one before from the registry's
    /// first head (the chain id): valid as one batch on a fresh ledger.
    pub fn registrations(&self, chain: Hash) -> Vec<SignedTransaction> {
        let mut prev = chain;
        self.actors()
            .iter()
            .filter_map(|actor| actor.registration().ok())
            .map(|action| {
                let tx = signed(chain, prev, 1, action, &[&self.operator]);
                prev = tx.id();
                tx
            })
            .collect()
    }

    /// The carrier issues the DCSA to-order bill with `reference` to the shipper (possessor and
    /// endorsee); the bill's id is the transaction's id.
    pub fn issue(
        &self,
        chain: Hash,
        reference: &str,
        time_ms: u64,
    ) -> crate::Result<SignedTransaction> {
        let action = Action::Issue {
            document: to_order_document(reference)?,
            issue_to: self.shipper.id,
            shipper: self.shipper.id,
            consignee: None,
            replaces: None,
        };
        Ok(signed(
            chain,
            Hash::ZERO,
            time_ms,
            action,
            &[&self.carrier.key],
        ))
    }

    /// A one-member genesis of the operator and node.
    pub fn genesis(&self, time_ms: u64) -> crate::Result<Genesis> {
        Genesis::single(
            "testkit",
            PartyKey::of(&self.operator),
            PartyKey::of(&self.node),
            "EBL",
            time_ms,
        )
    }
}

impl Default for Cast {
    fn default() -> Cast {
        Cast::new()
    }
}

/// `n` members of a consortium, for tests: member 0's admin is the cast's operator (key 1), the
/// others' admins are keys 31 on, their node keys 21 on; `address` gives member `i`'s peer address.
pub fn members(n: u8, address: impl Fn(u8) -> String) -> Vec<crate::Member> {
    (0..n)
        .map(|i| crate::Member {
            name: format!("Member {i}"),
            admin: if i == 0 {
                PartyKey::of(&key(1))
            } else {
                PartyKey::of(&key(30 + i))
            },
            node: PartyKey::of(&key(21 + i)),
            peer_address: address(i),
        })
        .collect()
}

/// Builds and signs a transaction body.
pub fn signed(
    chain: Hash,
    prev: Hash,
    time_ms: u64,
    action: Action,
    signers: &[&SigningKey],
) -> SignedTransaction {
    Transaction {
        chain,
        prev,
        time_ms,
        valid_until_ms: None,
        action,
    }
    .signed_by(signers)
}

/// A loan for pledges in tests.
pub fn loan(reference: &str, amount_minor: u64) -> Loan {
    Loan {
        reference: reference.to_owned(),
        amount_minor,
        currency: "USD".to_owned(),
    }
}
