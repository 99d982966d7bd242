//! A leader that lies: each committed proposal a follower applies is checked again there, and one that
//! fails halts the follower with the leader-signed proposal kept as evidence, writing nothing of it.
//! These drive a member node's state machine directly with the proposals a lying leader would send.

use std::sync::Arc;

use ebl_consensus::cluster::machine::Applier;
use ebl_consensus::cluster::{node_id, Outcome};
use ebl_core::testkit::{key, Cast};
use ebl_core::{Genesis, PartyKey, Proposal, ProposalBody, SigningKey};
use ebl_store::{LedgerStore, SledKv};

/// A three-member chain: member 0's admin is the cast's operator; node keys are testkit keys 21-23.
fn genesis() -> Genesis {
    let members = ebl_core::testkit::members(3, |i| format!("127.0.0.1:{}", 7200 + u16::from(i)));
    Genesis::new("lying", members, 1, "EBL", 1_000).expect("genesis")
}

/// Member 1's node, applying what the leader (member 0's node) commits.
fn follower(dir: &std::path::Path) -> Applier<SledKv> {
    member(dir, key(22))
}

/// The node of the member whose node key is `node`.
fn member(dir: &std::path::Path, node: SigningKey) -> Applier<SledKv> {
    let store = LedgerStore::new(SledKv::open(&dir.join("store")).expect("store"));
    store.init(&genesis()).expect("init");
    Applier::open(
        Arc::new(store),
        genesis(),
        node,
        Arc::default(),
        Arc::new(SledKv::open(&dir.join("raft")).expect("raft")),
        dir.join("evidence"),
        1000,
    )
    .expect("applier")
}

fn registrations(leader: &SigningKey, time_ms: u64) -> Proposal {
    let chain = genesis().chain_id();
    ProposalBody {
        chain,
        parent_height: 0,
        parent: chain,
        time_ms,
        transactions: Cast::new().registrations(chain),
    }
    .sign(leader)
}

/// The cast's registrations, then one governance change signed by the operator (member 0's admin, t = 1)
/// on the registry they leave.
fn registrations_then(change: ebl_core::Action) -> Vec<ebl_core::SignedTransaction> {
    let chain = genesis().chain_id();
    let mut transactions = Cast::new().registrations(chain);
    let registry_head = transactions.last().map(|t| t.id()).expect("registrations");
    transactions.push(ebl_core::testkit::signed(
        chain,
        registry_head,
        1,
        change,
        &[&key(1)],
    ));
    transactions
}

/// The proposal is refused for `why` (the fault's code): the follower halts, keeps the proposal, and
/// writes no block.
fn caught(proposal: &Proposal, why: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let mut follower = follower(dir.path());
    match follower.apply_proposal(proposal, 7) {
        Err(ebl_consensus::cluster::machine::Halt::Refused { fault, .. }) => {
            assert_eq!(fault.code(), why, "{fault}")
        }
        other => panic!("{why}: {other:?}"),
    }
    assert!(
        follower.halted.load(std::sync::atomic::Ordering::SeqCst),
        "{why}: not halted"
    );
    assert_eq!(
        follower.writer.store().height().expect("height"),
        0,
        "{why}"
    );
    let evidence = std::fs::read(dir.path().join("evidence").join("proposal-7.bin"))
        .expect("the proposal is kept as evidence");
    assert_eq!(
        Proposal::decode(&evidence).expect("evidence decodes"),
        *proposal,
        "{why}"
    );
}

#[test]
fn an_honest_proposal_becomes_the_followers_own_block() {
    let dir = tempfile::tempdir().expect("dir");
    let mut follower = follower(dir.path());
    let proposal = registrations(&key(21), 2_000);
    let outcome = follower.apply_proposal(&proposal, 3).expect("applies");
    let Outcome::Block { height, hash } = outcome else {
        panic!("no block: {outcome:?}");
    };
    let block = follower
        .writer
        .store()
        .block(height)
        .expect("read")
        .expect("stored");
    assert_eq!(block.header.header.hash(), hash);
    // Signed by the follower's own node key, over the header every node computes alike.
    assert_eq!(block.header.signer, PartyKey::of(&key(22)));
    assert_eq!(
        block.header.header,
        proposal.body.header(block.header.header.tx_root)
    );
    // The same proposal again (a re-applied entry after a crash) is recognised, not applied twice.
    assert_eq!(
        follower.apply_proposal(&proposal, 3).expect("again"),
        Outcome::Block { height, hash }
    );
}

#[test]
fn regression_a_transaction_changed_after_its_parties_signed_is_caught() {
    let mut proposal = registrations(&key(21), 2_000);
    proposal.body.transactions[2].body.time_ms += 1;
    // The leader signs the changed proposal: its own signature holds, the party's does not.
    let proposal = proposal.body.sign(&key(21));
    caught(&proposal, "block_bad_transaction");
}

#[test]
fn regression_a_proposal_from_a_node_that_is_no_members_is_caught() {
    caught(&registrations(&key(99), 2_000), "block_not_a_proposer");
}

#[test]
fn regression_a_proposal_whose_signature_is_not_its_proposers_is_caught() {
    let mut proposal = registrations(&key(21), 2_000);
    proposal.proposer = PartyKey::of(&key(23));
    caught(&proposal, "block_bad_proposal_signature");
}

#[test]
fn regression_a_block_time_before_the_genesis_is_caught() {
    caught(&registrations(&key(21), 999), "block_time_backwards");
}

#[test]
fn regression_a_transaction_the_rules_refuse_is_caught() {
    let chain = genesis().chain_id();
    let mut transactions = Cast::new().registrations(chain);
    // The same registration twice: the second one cannot apply.
    transactions.push(transactions[0].clone());
    let proposal = ProposalBody {
        chain,
        parent_height: 0,
        parent: chain,
        time_ms: 2_000,
        transactions,
    }
    .sign(&key(21));
    caught(&proposal, "block_transaction_refused");
}

#[test]
fn a_proposal_on_a_head_that_moved_is_skipped_by_every_node_alike() {
    let dir = tempfile::tempdir().expect("dir");
    let mut follower = follower(dir.path());
    let mut stale = registrations(&key(21), 2_000).body;
    stale.parent = ebl_core::Hash::of(b"another head");
    let outcome = follower
        .apply_proposal(&stale.sign(&key(21)), 4)
        .expect("not an error");
    assert_eq!(outcome, Outcome::Stale);
    assert!(!follower.halted.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn regression_a_proposal_under_this_nodes_own_key_that_this_process_did_not_make_is_checked_in_full(
) {
    // The leader skips re-checking signatures only for proposals this very process ordered (it
    // checked them before ordering); its own key's proposal replayed after a restart, or forged with
    // a stolen key, is checked like any other.
    let dir = tempfile::tempdir().expect("dir");
    let mut leader = member(dir.path(), key(21));
    let mut proposal = registrations(&key(21), 2_000);
    proposal.body.transactions[1].body.time_ms += 1;
    let proposal = proposal.body.sign(&key(21));
    assert!(leader.apply_proposal(&proposal, 9).is_err());
    assert!(leader.halted.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn the_leaders_own_proposal_is_applied_with_its_rules_checked_again() {
    let dir = tempfile::tempdir().expect("dir");
    let mut leader = member(dir.path(), key(21));
    let chain = genesis().chain_id();
    let mut transactions = Cast::new().registrations(chain);
    transactions.push(transactions[0].clone());
    let proposal = ProposalBody {
        chain,
        parent_height: 0,
        parent: chain,
        time_ms: 2_000,
        transactions,
    }
    .sign(&key(21));
    // Vouched for (this process made it): signatures are not checked again, the rules are.
    leader.vouched.insert(&proposal);
    assert!(
        leader.apply_proposal(&proposal, 2).is_err(),
        "a rule broken"
    );
}

/// Registrations and governance's removal of member 2 (admin key 32), in one block by member 0's
/// node; then member 2's node (key 23) proposes the next block. Returns the outcome of that one.
fn after_removal(
    voters: &[SigningKey],
) -> Result<Outcome, Box<ebl_consensus::cluster::machine::Halt>> {
    let dir = tempfile::tempdir().expect("dir");
    let mut follower = follower(dir.path());
    let ids: std::collections::BTreeSet<u64> =
        voters.iter().map(|k| node_id(&PartyKey::of(k))).collect();
    follower.membership =
        openraft::StoredMembership::new(None, openraft::Membership::new(vec![ids], None));
    let chain = genesis().chain_id();
    let cast = Cast::new();
    let transactions = registrations_then(ebl_core::Action::RemoveMember {
        admin: PartyKey::of(&key(32)),
    });
    let first = ProposalBody {
        chain,
        parent_height: 0,
        parent: chain,
        time_ms: 2_000,
        transactions,
    }
    .sign(&key(21));
    let Outcome::Block { height, hash } = follower.apply_proposal(&first, 3).expect("applies")
    else {
        panic!("no block");
    };
    let next = ProposalBody {
        chain,
        parent_height: height,
        parent: hash,
        time_ms: 2_001,
        transactions: vec![cast.issue(chain, "AFTER-REMOVAL", 1).expect("issue")],
    }
    .sign(&key(23));
    follower.apply_proposal(&next, 4).map_err(Box::new)
}

#[test]
fn regression_a_removed_members_node_still_leading_may_propose_until_raft_drops_it() {
    // Found in the consortium flow: governance removed the leader's member, and every node halted on
    // the leader's next proposal, before Raft's membership change could take its node out.
    let outcome = after_removal(&[key(21), key(22), key(23)]).expect("applies");
    assert!(matches!(outcome, Outcome::Block { .. }), "{outcome:?}");
}

#[test]
fn a_removed_members_node_that_raft_no_longer_holds_is_caught() {
    assert!(after_removal(&[key(21), key(22)]).is_err());
}

/// Issue 31: a leader sends one follower P and the other P′ at the same height. Each follower checks
/// and applies the one it got and signs its own header; the liar signs both. Each header then holds two
/// signatures of three. This chain's governance threshold is 1, which before chain format 6 made each
/// block final on its own; from format 6 (this chain's) a block is final at the finality quorum, three
/// of three, so neither is, and the liar cannot complete either: each honest follower signed only its
/// own header.
#[test]
fn regression_a_lying_leaders_two_blocks_at_one_height_are_neither_final() {
    use ebl_core::{Certificate, HeaderBinding, Registry};

    let (first, second) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let mut one = member(first.path(), key(22));
    let mut two = member(second.path(), key(23));
    let p = registrations(&key(21), 2_000);
    let p_prime = registrations(&key(21), 2_001);
    assert!(matches!(
        one.apply_proposal(&p, 3),
        Ok(Outcome::Block { .. })
    ));
    assert!(matches!(
        two.apply_proposal(&p_prime, 3),
        Ok(Outcome::Block { .. })
    ));
    let signed = |a: &Applier<SledKv>| {
        a.writer
            .store()
            .block(1)
            .expect("read")
            .expect("block 1")
            .header
    };
    let (ours, theirs) = (signed(&one), signed(&two));
    assert_ne!(
        ours.header, theirs.header,
        "two different blocks at height 1"
    );
    let registry = Registry::new(&genesis());
    assert_eq!(registry.threshold(), 1);
    let binding = HeaderBinding::before(&registry, 1);
    for (honest, other) in [(&ours, &theirs), (&theirs, &ours)] {
        let mut certificate = Certificate::of(honest);
        let liar = honest.header.clone().sign(&key(21), binding);
        assert!(certificate.add(&liar, binding));
        assert!(
            !certificate.add(other, binding),
            "the other follower signed the other header"
        );
        assert_eq!(
            certificate.check_final(&registry),
            Err(ebl_core::Error::NotFinal {
                height: 1,
                have: 2,
                need: 3
            })
        );
    }
}

/// A member node whose release does not know a format governance scheduled stops before the first
/// block at its height: it halts with `block_format_unknown`, keeps the proposal as evidence and
/// writes nothing of it; the blocks before the height it applied as usual.
#[test]
fn a_member_node_halts_at_the_height_of_a_format_its_release_does_not_know() {
    let dir = tempfile::tempdir().expect("dir");
    let mut follower = follower(dir.path());
    let chain = genesis().chain_id();
    let cast = Cast::new();
    // The next format after this release's: a later release's, scheduled from height 3.
    let transactions = registrations_then(ebl_core::Action::ScheduleFormat {
        format: ebl_core::format::FORMAT_VERSION + 1,
        height: 3,
    });
    let propose = |parent_height: u64, parent, time_ms, transactions| {
        ProposalBody {
            chain,
            parent_height,
            parent,
            time_ms,
            transactions,
        }
        .sign(&key(21))
    };
    let Outcome::Block { height, hash } = follower
        .apply_proposal(&propose(0, chain, 2_000, transactions), 3)
        .expect("the schedule is applied: replay never asks what a release knows")
    else {
        panic!("no block");
    };
    let issue = |reference: &str| cast.issue(chain, reference, 1).expect("issue");
    let Outcome::Block { height, hash } = follower
        .apply_proposal(&propose(height, hash, 2_001, vec![issue("BEFORE")]), 4)
        .expect("the last block of the old format")
    else {
        panic!("no block");
    };
    assert_eq!(height, 2);
    match follower.apply_proposal(&propose(height, hash, 2_002, vec![issue("AT")]), 5) {
        Err(ebl_consensus::cluster::machine::Halt::Refused {
            fault, evidence, ..
        }) => {
            assert_eq!(fault.code(), "block_format_unknown", "{fault}");
            assert!(std::path::Path::new(&evidence).exists(), "{evidence}");
        }
        other => panic!("applied past a format it does not know: {other:?}"),
    }
    assert!(follower.halted.load(std::sync::atomic::Ordering::SeqCst));
    assert_eq!(follower.writer.store().height().expect("height"), 2);
}

/// Registrations, the cast's bill issued to the shipper, the shipper sending it to a buyer on platform
/// WAVE, and the leader's (node key 21) record of WAVE's answer `answer`: one proposal.
fn sent_then_refused(answer: &str) -> Proposal {
    let chain = genesis().chain_id();
    let cast = Cast::new();
    let mut transactions = cast.registrations(chain);
    let issue = cast.issue(chain, "SENT-ABROAD-1", 1_500).expect("issue");
    let bill = issue.id();
    let to = ebl_core::ForeignParty {
        platform: "WAVE".into(),
        name: "Buyer Abroad".into(),
        codes: vec![ebl_core::PartyCode {
            provider: "WAVE".into(),
            code: "buyer-7".into(),
        }],
    };
    let send = ebl_core::testkit::signed(
        chain,
        bill,
        1_600,
        ebl_core::Action::SendOut { bill, to },
        &[&cast.shipper.key],
    );
    let record = ebl_core::testkit::signed(
        chain,
        send.id(),
        1_700,
        ebl_core::Action::SendRefused {
            bill,
            answer: answer.to_owned(),
        },
        &[&key(21)],
    );
    transactions.extend([issue, send, record]);
    ProposalBody {
        chain,
        parent_height: 0,
        parent: chain,
        time_ms: 2_000,
        transactions,
    }
    .sign(&key(21))
}

/// WAVE's key, and a trust store holding it for platform WAVE.
fn wave() -> (SigningKey, ebl_pint::TrustStore) {
    let wave = key(77);
    let mut trust = ebl_pint::TrustStore::default();
    let jwk = ebl_pint::public_jwk(&PartyKey::of(&wave)).to_string();
    trust
        .add_jwks(jwk.as_bytes(), &ebl_pint::Binding::platform("WAVE"))
        .expect("jwk");
    (wave, trust)
}

fn benv_by(signer: &SigningKey) -> String {
    ebl_pint::sign_jws(
        signer,
        &serde_json::json!({
            "responseCode": "BENV",
            "reason": "not for us",
            "lastEnvelopeTransferChainEntrySignedContentChecksum": ebl_core::Hash::of(b"entry").to_hex(),
        }),
    )
}

/// Finding 6 of the attack review: one member node recorded `SEND_REFUSED` with an answer no platform
/// signed, and every node applied it, handing a bill that may live abroad back to its holder here. Now
/// each follower checks the answer against its own PINT trust and halts on one it cannot back.
#[test]
fn regression_a_send_outcome_no_platform_signed_is_caught() {
    caught(
        &sent_then_refused("eyJhbGciOiJub25lIn0.eyJyZXNwb25zZUNvZGUiOiJCRU5WIn0."),
        "block_send_outcome_unbacked",
    );
    // Signed, but by the lying leader's own node key rather than by WAVE's.
    caught(
        &sent_then_refused(&benv_by(&key(21))),
        "block_send_outcome_unbacked",
    );
    // WAVE's genuine answer, but this follower trusts no key of WAVE: it cannot back it either.
    caught(
        &sent_then_refused(&benv_by(&wave().0)),
        "block_send_outcome_unbacked",
    );
}

#[test]
fn a_send_outcome_signed_by_the_receiving_platform_is_applied_by_a_follower_trusting_it() {
    let dir = tempfile::tempdir().expect("dir");
    let mut follower = follower(dir.path());
    let (wave, trust) = wave();
    follower.pint_trust = trust;
    let proposal = sent_then_refused(&benv_by(&wave));
    let outcome = follower.apply_proposal(&proposal, 3).expect("applies");
    assert!(
        matches!(outcome, Outcome::Block { height: 1, .. }),
        "{outcome:?}"
    );
    let bill = proposal.body.transactions[7].id();
    assert_eq!(
        follower.ledger.bill(&bill).expect("bill").status,
        ebl_core::Status::Issued,
        "the holder has the bill again"
    );
}

/// The same with real processes: three member nodes built with a leader that lies (`cluster::lie`,
/// compiled only into the tests' build), whichever of them leads sends its first other voter another
/// proposal than the rest. Each follower applies the one it got and signs its own header, so at that
/// height two different blocks exist; neither reaches the finality quorum (three of three), a final
/// receipt comes without a certificate, and the honest follower keeps both headers as evidence.
#[test]
fn a_leader_process_that_lies_makes_neither_of_its_two_blocks_final() {
    use ebl_tests::cluster::Members;

    let lying = ebl_tests::lying::lying_node();
    let members = Members::start_release(3, 1, &lying);
    let leader = members
        .leader(std::time::Duration::from_secs(20))
        .expect("a leader");
    let (status, answer, outcome) = crate::support::register_bank_at(
        &members,
        leader,
        "/v1/transactions?final=true",
        &[&key(1)],
    );
    assert_eq!(status, 200, "{answer}");
    let outcome = outcome.expect("an outcome");
    let (receipt, certificate) = outcome.certified().expect("ordered");
    assert!(
        certificate.is_none(),
        "a block of a lying leader came back final: {answer}"
    );
    let height = receipt.height;
    // Each node's header at that height, and the signatures it holds over it: asked of every node,
    // which asks the others in turn.
    let operator = key(1);
    let mut headers = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    for i in 0..3 {
        let block = loop {
            let (status, block) = members
                .http(i)
                .get_as(&format!("/v1/blocks/{height}"), &operator)
                .expect("the node answers");
            if status == 200 {
                break block;
            }
            assert!(std::time::Instant::now() < deadline, "node {i}: {block}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        };
        let signatures = block["certificate"]["signatures"]
            .as_array()
            .map_or(0, Vec::len);
        assert!(
            signatures < 3,
            "node {i} holds a final certificate for a lying leader's block: {block}"
        );
        headers.push(block["header"]["header"].clone());
    }
    let distinct: std::collections::BTreeSet<String> =
        headers.iter().map(ToString::to_string).collect();
    assert_eq!(
        distinct.len(),
        2,
        "the leader lied to one follower: {headers:?}"
    );
    // The two followers that got different blocks: whichever asked the other found its header and kept
    // both as evidence.
    let evidence = (0..3).any(|i| {
        members.nodes[i]
            .data
            .join("evidence")
            .join(format!("equivocation-{height}.bin"))
            .exists()
    });
    assert!(evidence, "no node kept the two headers as evidence");
}
