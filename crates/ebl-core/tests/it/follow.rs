//! An auditor's grant for its node to follow: it holds for an active auditor's signature over a node
//! that is no member's, and each broken rule is refused by its code.

use ebl_core::{Action, FollowGrant, PartyKey, Role, SigningKey};

use crate::support::{id_of, key, World};

fn grant(world: &World, signer: &SigningKey, node: PartyKey) -> FollowGrant {
    FollowGrant::sign(world.chain(), signer, node, "10.0.0.9:7805", 1).expect("grant")
}

fn checked(world: &World, grant: &FollowGrant) -> Result<(), &'static str> {
    grant
        .check(&world.chain(), world.ledger.registry())
        .map_err(|e| e.code())
}

#[test]
fn an_auditors_grant_holds_and_every_broken_rule_is_named() {
    let mut world = World::new();
    let auditor = key(17);
    world
        .register(&auditor, "Audit House", &[Role::Auditor], vec![])
        .expect("auditor");
    let node = PartyKey::of(&key(90));
    assert_eq!(checked(&world, &grant(&world, &auditor, node)), Ok(()));

    let mut other_chain = grant(&world, &auditor, node);
    other_chain.chain = ebl_core::Hash::of(b"another chain");
    assert_eq!(checked(&world, &other_chain), Err("wrong_chain"));
    // A trader is no auditor; a stranger's key no party's.
    let trader = world.buyer.key.clone();
    assert_eq!(
        checked(&world, &grant(&world, &trader, node)),
        Err("missing_role")
    );
    assert_eq!(
        checked(&world, &grant(&world, &key(91), node)),
        Err("unknown_key")
    );
    // The address is what the auditor signed: moved elsewhere, the grant no longer verifies.
    let mut moved = grant(&world, &auditor, node);
    moved.body.peer_address = "10.0.0.66:7805".into();
    assert_eq!(checked(&world, &moved), Err("bad_signature"));
    // A member's node votes; it does not follow.
    let member_node = world.ledger.registry().members()[0].node;
    assert_eq!(
        checked(&world, &grant(&world, &auditor, member_node)),
        Err("follower_is_member_node")
    );
    assert_eq!(
        FollowGrant::sign(world.chain(), &auditor, node, "", 1).map_err(|e| e.code()),
        Err("empty_field")
    );
    // The grant holds while its auditor does.
    let given = grant(&world, &auditor, node);
    world
        .registry_act(Action::RevokeParty {
            party: id_of(&auditor),
        })
        .expect("revoke");
    assert_eq!(checked(&world, &given), Err("revoked_key"));
}
