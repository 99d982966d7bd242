//! The consortium's rules: t distinct member admins govern, nobody alone acts as a party, keys belong to
//! their parties, identifiers to one active party, and transactions expire.

use ebl_core::{
    verify_chain, Action, Genesis, Hash, Identifier, Ledger, Member, PartyKey, PartyProfile, Role,
    Roles, Signatures, SignedTransaction, SigningKey, Transaction,
};
use proptest::prelude::*;

use crate::support::{assert_refused, id_of, key, to_order_document, World};

fn member(name: &str, admin: &SigningKey, node: &SigningKey) -> Member {
    Member {
        name: name.to_owned(),
        admin: PartyKey::of(admin),
        node: PartyKey::of(node),
        peer_address: format!("127.0.0.1:{}", 7000 + u16::from(admin.to_bytes()[0])),
    }
}

/// A consortium of `admins.len()` members, threshold `t`, and its ledger.
struct Consortium {
    ledger: Ledger,
    admins: Vec<SigningKey>,
    clock: u64,
}

impl Consortium {
    fn new(n: u8, t: u16) -> Consortium {
        let admins: Vec<SigningKey> = (0..n).map(|i| key(200 + i)).collect();
        let members = admins
            .iter()
            .enumerate()
            .map(|(i, a)| member(&format!("Member {i}"), a, &key(220 + i as u8)))
            .collect();
        let genesis = Genesis::new("consortium", members, t, "EBL", 1).expect("genesis");
        Consortium {
            ledger: Ledger::new(genesis),
            admins,
            clock: 1,
        }
    }

    fn body(&mut self, action: Action) -> Transaction {
        self.clock += 1;
        Transaction {
            chain: self.ledger.chain_id(),
            prev: self.ledger.registry().head(),
            time_ms: self.clock,
            valid_until_ms: None,
            action,
        }
    }

    fn govern(&mut self, action: Action, signers: &[&SigningKey]) -> ebl_core::Result<()> {
        let tx = self.body(action).signed_by(signers);
        self.ledger.apply(&tx, Signatures::Verify).map(|_| ())
    }
}

fn registration(seed: u8, name: &str, ids: Vec<Identifier>) -> Action {
    Action::RegisterParty {
        key: PartyKey::of(&key(seed)),
        profile: PartyProfile {
            name: name.to_owned(),
            roles: Roles::new(&[Role::Trader]).expect("roles"),
            identifiers: ids,
        },
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Against a simple model: a change passes exactly when the distinct signatures of current admins
    /// reach t; repeats, parties, strangers and a removed member count for nothing, and a refused change
    /// leaves the ledger as it was.
    #[test]
    fn governance_counts_distinct_current_admins(picks in proptest::collection::vec(0usize..6, 0..10), t in 1u16..=3) {
        let mut c = Consortium::new(4, 3);
        // Member 3 leaves (3 of 4 sign), then t is set.
        let removed = c.admins[3].clone();
        let (a0, a1, a2) = (c.admins[0].clone(), c.admins[1].clone(), c.admins[2].clone());
        c.govern(Action::RemoveMember { admin: PartyKey::of(&removed) }, &[&a0, &a1, &a2]).expect("remove");
        c.govern(Action::SetThreshold { threshold: t }, &[&a0, &a1, &a2]).expect("threshold");
        c.govern(registration(90, "A Party", vec![]), &[&a0, &a1, &a2]).expect("party");
        let party = key(90);
        let stranger = key(91);
        let keys = [&a0, &a1, &a2, &removed, &party, &stranger];
        let signers: Vec<&SigningKey> = picks.iter().map(|i| keys[*i]).collect();
        let mut distinct: Vec<usize> = picks.iter().copied().filter(|i| *i < 3).collect();
        distinct.sort_unstable();
        distinct.dedup();
        let before = c.ledger.clone();
        let got = c.govern(registration(92, "Newcomer", vec![]), &signers);
        if distinct.len() >= usize::from(t) {
            prop_assert!(got.is_ok(), "{got:?} with {picks:?}, t {t}");
        } else {
            prop_assert_eq!(got.map_err(|e| e.code()), Err("governance_quorum"));
            prop_assert!(c.ledger == before);
        }
    }
}

#[test]
fn t_minus_one_admins_are_refused_and_t_accepted() {
    let mut c = Consortium::new(3, 2);
    let (a0, a1) = (c.admins[0].clone(), c.admins[1].clone());
    assert_refused(
        c.govern(registration(90, "P", vec![]), &[&a0]),
        "governance_quorum",
    );
    assert_refused(
        c.govern(registration(90, "P", vec![]), &[&a0, &a0]),
        "governance_quorum",
    );
    c.govern(registration(90, "P", vec![]), &[&a0, &a1])
        .expect("two of three");
}

#[test]
fn a_removed_members_signature_is_refused() {
    let mut c = Consortium::new(3, 2);
    let (a0, a1, a2) = (
        c.admins[0].clone(),
        c.admins[1].clone(),
        c.admins[2].clone(),
    );
    c.govern(
        Action::RemoveMember {
            admin: PartyKey::of(&a2),
        },
        &[&a0, &a1],
    )
    .expect("remove");
    assert_refused(
        c.govern(registration(90, "P", vec![]), &[&a0, &a2]),
        "governance_quorum",
    );
    // Removing another would leave fewer members than t.
    assert_refused(
        c.govern(
            Action::RemoveMember {
                admin: PartyKey::of(&a1),
            },
            &[&a0, &a1],
        ),
        "invalid_threshold",
    );
    // A new member's admin counts from its admission on.
    let a9 = key(209);
    c.govern(
        Action::AddMember {
            member: member("Member 9", &a9, &key(229)),
        },
        &[&a0, &a1],
    )
    .expect("add");
    c.govern(registration(90, "P", vec![]), &[&a9, &a1])
        .expect("the new member co-signs");
}

#[test]
fn members_keys_are_nobodys_party_keys() {
    let mut c = Consortium::new(2, 1);
    let a0 = c.admins[0].clone();
    let admin = Action::RegisterParty {
        key: PartyKey::of(&c.admins[1]),
        profile: PartyProfile {
            name: "Sneaky".into(),
            roles: Roles::new(&[Role::Trader]).expect("roles"),
            identifiers: vec![],
        },
    };
    assert_refused(c.govern(admin, &[&a0]), "member_key_in_use");
    let node = Action::RegisterParty {
        key: PartyKey::of(&key(220)),
        profile: PartyProfile {
            name: "Sneaky".into(),
            roles: Roles::new(&[Role::Trader]).expect("roles"),
            identifiers: vec![],
        },
    };
    assert_refused(c.govern(node, &[&a0]), "member_key_in_use");
}

#[test]
fn genesis_rules() {
    let (a, b) = (key(200), key(201));
    let one = vec![member("A", &a, &key(220))];
    assert_eq!(
        Genesis::new("c", one.clone(), 0, "EBL", 0).map_err(|e| e.code()),
        Err("invalid_threshold")
    );
    assert_eq!(
        Genesis::new("c", one.clone(), 2, "EBL", 0).map_err(|e| e.code()),
        Err("invalid_threshold")
    );
    assert_eq!(
        Genesis::new("c", one.clone(), 1, "EBL55", 0).map_err(|e| e.code()),
        Err("invalid_platform_code")
    );
    assert_eq!(
        Genesis::new("c", vec![], 1, "EBL", 0).map_err(|e| e.code()),
        Err("member_count")
    );
    let shared = vec![member("A", &a, &key(220)), member("B", &b, &key(220))];
    assert_eq!(
        Genesis::new("c", shared, 1, "EBL", 0).map_err(|e| e.code()),
        Err("member_keys_shared")
    );
    let max: Vec<Member> = (0..ebl_core::limits::MEMBERS_MAX as u8)
        .map(|i| member(&format!("M{i}"), &key(100 + i), &key(150 + i)))
        .collect();
    assert!(Genesis::new("c", max.clone(), 1, "EBL", 0).is_ok());
    let mut over = max;
    over.push(member("One more", &key(230), &key(231)));
    assert_eq!(
        Genesis::new("c", over, 1, "EBL", 0).map_err(|e| e.code()),
        Err("member_count")
    );
    // A peer address at its bound and one byte over it.
    let mut long = member("A", &a, &key(220));
    long.peer_address = "a".repeat(ebl_core::limits::PEER_ADDRESS_BYTES_MAX);
    let largest: Vec<Member> = (0..ebl_core::limits::MEMBERS_MAX as u8)
        .map(|i| Member {
            name: format!(
                "{i:0>width$}",
                width = ebl_core::limits::PARTY_NAME_BYTES_MAX
            ),
            peer_address: "a".repeat(ebl_core::limits::PEER_ADDRESS_BYTES_MAX),
            ..member("x", &key(100 + i), &key(150 + i))
        })
        .collect();
    assert!(Genesis::new("c", vec![long.clone()], 1, "EBL", 0).is_ok());
    long.peer_address.push('a');
    assert_eq!(
        Genesis::new("c", vec![long], 1, "EBL", 0).map_err(|e| e.code()),
        Err("field_too_long")
    );
    // The largest genesis the limits allow decodes within GENESIS_BYTES_MAX; more bytes never do.
    let genesis = Genesis::new("c", largest, 1, "EBL", 0).expect("largest");
    let bytes = genesis.encode();
    assert!(bytes.len() <= ebl_core::limits::GENESIS_BYTES_MAX);
    assert_eq!(Genesis::decode(&bytes).expect("decodes"), genesis);
    let mut over = bytes;
    over.resize(ebl_core::limits::GENESIS_BYTES_MAX + 1, 0);
    assert_eq!(
        Genesis::decode(&over).map_err(|e| e.code()),
        Err("encoding_too_large")
    );
    assert_eq!(ebl_core::genesis::majority(3), 2);
    assert_eq!(ebl_core::genesis::majority(4), 3);
}

/// Attack 1 of issue 11: the operator rotated a trader's key to one it held, then signed as the trader.
#[test]
fn regression_operator_rotates_a_partys_key_and_acts_as_it() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let shipper = w.shipper.id;
    let stolen = key(66);
    let operator = w.operator.clone();
    // The admin alone, or the admin with the new key: the party's own key is missing.
    assert_refused(
        w.registry_act(Action::RotateKey {
            party: shipper,
            new_key: PartyKey::of(&stolen),
        }),
        "missing_signature",
    );
    assert_refused(
        w.registry_act_as(
            Action::RotateKey {
                party: shipper,
                new_key: PartyKey::of(&stolen),
            },
            &[&operator, &stolen],
        ),
        "missing_signature",
    );
    // And the admin's key signs for no party.
    w.refuse(
        Action::EndorseToOrder {
            bill,
            to: w.buyer.id,
        },
        &[&operator],
        "unknown_key",
    );
}

#[test]
fn a_recovery_is_reported_wherever_the_recovered_key_acts() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (shipper, buyer) = (w.shipper.id, w.buyer.id);
    let new = key(67);
    w.registry_act(Action::RecoverKey {
        party: shipper,
        new_key: PartyKey::of(&new),
    })
    .expect("governance recovers");
    let recovery = w.log.last().expect("logged").id();
    w.act(Action::Transfer { bill, to: buyer }, &[&new])
        .expect("the recovered key signs");
    let entries: Vec<SignedTransaction> = w.log.clone();
    let report = verify_chain(w.ledger.genesis(), &entries, bill, None).expect("verifies");
    assert_eq!(report.recoveries.len(), 1);
    let notice = &report.recoveries[0];
    assert_eq!(
        (notice.party, notice.recovery, notice.admins.clone()),
        (shipper, recovery, vec![PartyKey::of(&w.operator)])
    );
    // A chain where nobody recovered reports nothing.
    let mut clean = World::new();
    let b = clean.issue_to_order_bill();
    let report = verify_chain(clean.ledger.genesis(), &clean.log.clone(), b, None).expect("ok");
    assert!(report.recoveries.is_empty());
}

/// Attack 2 of issue 11: a second carrier registered with the first one's code issued the same
/// document, and the two bills were pledged to two banks.
#[test]
fn regression_a_second_carrier_with_the_same_code_double_issues() {
    let mut w = World::new();
    let doc = to_order_document("DOUBLE-1");
    w.issue_document(doc.clone())
        .expect("the real carrier issues");
    let impostor = key(68);
    assert_refused(
        w.register(
            &impostor,
            "Evil Lines",
            &[Role::Carrier],
            vec![Identifier::new("smdg", "MSC")],
        ),
        "identifier_taken",
    );
    // Even once the real carrier is revoked and its code passes to another, a reference stays unique
    // under the code.
    let carrier = w.carrier.id;
    w.registry_act(Action::RevokeParty { party: carrier })
        .expect("revoke");
    w.register(
        &impostor,
        "Evil Lines",
        &[Role::Carrier],
        vec![Identifier::new("SMDG", "MSC")],
    )
    .expect("the code is free again");
    let issue = Action::Issue {
        document: doc,
        issue_to: w.shipper.id,
        shipper: w.shipper.id,
        consignee: None,
        replaces: None,
    };
    let tx = w.body(Hash::ZERO, issue).signed_by(&[&impostor]);
    assert_refused(w.submit(tx), "duplicate_reference");
}

#[test]
fn identifiers_belong_to_one_active_party() {
    let mut w = World::new();
    assert_refused(
        w.register(
            &key(69),
            "Twice",
            &[Role::Trader],
            vec![Identifier::new("LEI", "A"), Identifier::new("lei", "A")],
        ),
        "identifier_taken",
    );
    let buyer = w.buyer.id;
    let profile = PartyProfile {
        name: "Buyer One".into(),
        roles: Roles::new(&[Role::Trader]).expect("roles"),
        identifiers: vec![Identifier::new("LEI", "5493001KJTIIGC8Y1R12")],
    };
    assert_refused(
        w.registry_act(Action::UpdateParty {
            party: buyer,
            profile: profile.clone(),
        }),
        "identifier_taken",
    );
    let own = PartyProfile {
        identifiers: vec![Identifier::new("LEI", "BUYERLEI")],
        roles: Roles::new(&[Role::Trader, Role::Bank]).expect("roles"),
        ..profile
    };
    w.registry_act(Action::UpdateParty {
        party: buyer,
        profile: own,
    })
    .expect("its own identifier and a new role");
    let party = w.ledger.registry().party(buyer).expect("party");
    assert!(party.has_role(Role::Bank));
    assert_eq!(
        w.ledger
            .registry()
            .by_identifier("lei", "BUYERLEI")
            .map(|p| p.id),
        Some(buyer)
    );
}

#[test]
fn a_document_naming_a_registered_party_by_code_binds_it() {
    let mut w = World::new();
    let mut value: serde_json::Value =
        serde_json::from_str(crate::support::TO_ORDER_BOL).expect("fixture");
    value["transportDocumentReference"] = "CODES-1".into();
    value["documentParties"]["shipper"]["identifyingCodes"] = serde_json::json!([
        {"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": "5493001KJTIIGC8Y1R12"}
    ]);
    let doc = ebl_core::Document::from_value(&value).expect("document");
    let buyer = w.buyer.id;
    let wrong = Action::Issue {
        document: doc.clone(),
        issue_to: buyer,
        shipper: buyer,
        consignee: None,
        replaces: None,
    };
    let carrier = w.carrier.key.clone();
    let tx = w.body(Hash::ZERO, wrong).signed_by(&[&carrier]);
    assert_refused(w.submit(tx), "document_party_mismatch");
    let shipper = w.shipper.id;
    let right = Action::Issue {
        document: doc,
        issue_to: shipper,
        shipper,
        consignee: None,
        replaces: None,
    };
    let tx = w.body(Hash::ZERO, right).signed_by(&[&carrier]);
    w.submit(tx).expect("the shipper the code names");
}

#[test]
fn an_expired_transaction_is_refused_at_its_block_time() {
    let mut w = World::new();
    let bill = w.issue_to_order_bill();
    let (s, buyer) = (w.shipper.key.clone(), w.buyer.id);
    let head = w.bill(&bill).head;
    let mut body = w.body(head, Action::Transfer { bill, to: buyer });
    body.valid_until_ms = Some(5_000);
    let tx = body.signed_by(&[&s]);
    w.ledger.set_block(1, 5_001);
    let before = w.ledger.clone();
    assert_refused(w.ledger.apply(&tx, Signatures::Verify), "expired");
    assert!(w.ledger == before);
    w.ledger.set_block(1, 5_000);
    w.ledger
        .apply(&tx, Signatures::Verify)
        .expect("valid up to and including its last moment");
    let _ = id_of;
}

/// A format change is governance: t admins schedule the next format at a height above the block that
/// orders it; anything else is refused by name and changes nothing, and a replay with the blocks'
/// heights agrees with the ledger that ordered it.
#[test]
fn t_admins_schedule_the_next_format_above_the_current_block() {
    let mut c = Consortium::new(3, 2);
    let genesis_format = c.ledger.genesis().version;
    let (a0, a1) = (c.admins[0].clone(), c.admins[1].clone());
    let next = genesis_format + 1;
    c.ledger.set_block(7, 7);
    let before = c.ledger.clone();
    let schedule = |format, height| Action::ScheduleFormat { format, height };
    assert_refused(c.govern(schedule(next, 9), &[&a0]), "governance_quorum");
    assert_refused(
        c.govern(schedule(next + 1, 9), &[&a0, &a1]),
        "format_not_next",
    );
    assert_refused(
        c.govern(schedule(genesis_format, 9), &[&a0, &a1]),
        "format_not_next",
    );
    // The block that orders it is the last one of the old format at the earliest.
    assert_refused(
        c.govern(schedule(next, 7), &[&a0, &a1]),
        "format_height_past",
    );
    assert!(c.ledger == before, "refusals change nothing");
    let tx = c.body(schedule(next, 8)).signed_by(&[&a0, &a1]);
    c.ledger.apply(&tx, Signatures::Verify).expect("scheduled");
    assert_eq!(
        (c.ledger.format_at(7), c.ledger.format_at(8)),
        (genesis_format, next)
    );
    assert_eq!(c.ledger.registry().head(), tx.id(), "a registry entry");
    // A replay that knows the block heights reaches the same schedule; one that places the entry in
    // a block at or past the activation height refuses it.
    let replay = |height| {
        let mut ledger = Ledger::new(c.ledger.genesis().clone());
        ledger.set_block(height, 7);
        ledger.apply(&tx, Signatures::Verify).map(|_| ledger)
    };
    assert_eq!(replay(7).expect("replayed").format_at(8), next);
    assert_refused(replay(8).map(|_| ()), "format_height_past");
}
