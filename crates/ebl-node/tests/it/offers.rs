//! `POST /v1/bills/{id}/offer-freshness`: a bank holding a holder's pledge offer learns what moved the
//! bill since; no one else learns anything by it.

use ebl_core::api::{sign_request, HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME};
use ebl_core::testkit::loan;
use ebl_core::{Action, PartyKey, SignedTransaction, SigningKey, Transaction};

use crate::support::{agent, assert_accepted, now_ms, TestNode};

/// Asks the node whether `offer` is fresh, signed by `asker`; (status, code, body).
fn ask(
    node: &TestNode,
    offer: &SignedTransaction,
    asker: &SigningKey,
) -> (u16, String, serde_json::Value) {
    let bill = offer.body.action.bill().expect("a bill");
    let path = format!("/v1/bills/{bill}/offer-freshness");
    let body = serde_json::to_vec(offer).expect("json");
    let time = now_ms();
    let signature = sign_request(asker, &node.chain, "POST", &path, &body, time);
    let mut answer = agent()
        .post(&node.url(&path))
        .header("content-type", "application/json")
        .header(HEADER_KEY, &PartyKey::of(asker).to_hex())
        .header(HEADER_TIME, &time.to_string())
        .header(HEADER_SIGNATURE, &ebl_core::bytes::to_hex(&signature.0))
        .send(&body[..])
        .expect("an answer");
    let status = answer.status().as_u16();
    let value: serde_json::Value =
        serde_json::from_str(&answer.body_mut().read_to_string().unwrap_or_default())
            .unwrap_or_default();
    let code = value["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    (status, code, value)
}

/// A pledge of `bill` at `prev` to `pledgee`, valid until `valid_until_ms`, signed by `signer`.
fn offer(
    node: &TestNode,
    bill: ebl_core::BillId,
    prev: ebl_core::Hash,
    pledgee: ebl_core::PartyId,
    valid_until_ms: Option<u64>,
    signer: &SigningKey,
) -> SignedTransaction {
    Transaction {
        chain: node.chain,
        prev,
        time_ms: now_ms(),
        valid_until_ms,
        action: Action::Pledge {
            bill,
            pledgee,
            loan: loan("L-FRESH", 1_000),
        },
    }
    .signed_by(&[signer])
}

/// Finding 8 of the attack review: a former party signed a fake pledge offer naming itself as the bank
/// and asked offer-freshness; refused the bill's state, it still learned every later action with
/// heights and times, and an offer's expiry was not checked there.
#[test]
fn regression_offer_freshness_answers_only_a_bank_holding_a_live_offer_of_the_holder() {
    let mut node = TestNode::start();
    let c = node.cast.clone();
    let bill = node.issue("FRESH-1");
    let issued_head = node.head_of(&bill);
    assert_accepted(&node.act(
        Action::EndorseToOrder {
            bill,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    ));
    assert_accepted(&node.act(
        Action::Transfer {
            bill,
            to: c.buyer.id,
        },
        &[&c.shipper.key],
    ));
    // The shipper, holder no more, names itself as the bank of an offer at the head it held.
    let own = offer(&node, bill, issued_head, c.shipper.id, None, &c.shipper.key);
    let (status, code, body) = ask(&node, &own, &c.shipper.key);
    assert_eq!((status, code.as_str()), (403, "forbidden"), "{body}");
    assert!(
        body.to_string().contains("signed by the bank that asks"),
        "{body}"
    );
    assert!(body.get("moved").is_none(), "{body}");
    // The holder's offer to the bank, past its expiry.
    let head = node.head_of(&bill);
    let expired = offer(
        &node,
        bill,
        head,
        c.bank.id,
        Some(now_ms() - 1),
        &c.buyer.key,
    );
    let (status, code, body) = ask(&node, &expired, &c.bank.key);
    assert_eq!((status, code.as_str()), (403, "expired"), "{body}");
    // The holder's live offer to the bank is answered.
    let live = offer(
        &node,
        bill,
        head,
        c.bank.id,
        Some(now_ms() + 3_600_000),
        &c.buyer.key,
    );
    let (status, _, body) = ask(&node, &live, &c.bank.key);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["fresh"], true, "{body}");
}
