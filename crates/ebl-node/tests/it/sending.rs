//! The node's PINT sender against a scripted receiving platform: every kind of answer a receiver can
//! give, and what the node makes of it. Only an answer signed by the receiver's key and naming our
//! last entry decides; everything else is tried again, and the bill stays frozen meanwhile.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ebl_core::{Action, BillId, ForeignParty, Hash, PartyCode};
use ebl_pint::testkit::{ForeignPlatform as Foreign, FOREIGN};
use serde_json::{json, Value};

use ebl_node::Settings;

use crate::support::{assert_accepted, TestNode};

/// One scripted answer to a start.
#[derive(Debug, Clone, Copy)]
enum Answer {
    /// Signed by the receiving platform's key, about our envelope.
    Signed(u16, &'static str),
    /// Signed by a key the node does not bind to the receiver.
    ByStranger(u16, &'static str),
    /// Signed by the receiver, but naming another envelope's last entry.
    AboutAnother(u16, &'static str),
    /// The same answer as plain JSON, unsigned.
    Unsigned(u16, &'static str),
    /// A server error.
    Broken,
}

/// A receiving platform that answers each `POST /v3/envelopes` with the next scripted answer and
/// counts the requests.
struct Receiver {
    url: String,
    script: Arc<Mutex<VecDeque<Answer>>>,
    starts: Arc<Mutex<usize>>,
    /// The last envelope started.
    last: Arc<Mutex<Value>>,
}

impl Receiver {
    fn start(foreign: &Foreign) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let starts = Arc::new(Mutex::new(0));
        let last = Arc::new(Mutex::new(Value::Null));
        let (platform, stranger) = (foreign.platform.clone(), ebl_core::testkit::key(77));
        let (s, n, l) = (script.clone(), starts.clone(), last.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut length = 0;
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                        length = v.trim().parse().unwrap_or(0);
                    }
                    line.clear();
                }
                let mut body = vec![0; length];
                if reader.read_exact(&mut body).is_err() {
                    continue;
                }
                *n.lock().expect("lock") += 1;
                let envelope: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                let ours = ebl_pint::last_entry_checksum(&envelope).to_hex();
                *l.lock().expect("lock") = envelope;
                let payload = |code: &str, about: &str| {
                    json!({
                        "lastEnvelopeTransferChainEntrySignedContentChecksum": about,
                        "responseCode": code,
                        "reason": format!("scripted {code}"),
                    })
                };
                let next = s
                    .lock()
                    .expect("lock")
                    .pop_front()
                    .unwrap_or(Answer::Broken);
                let (status, text) = match next {
                    Answer::Signed(st, code) => (
                        st,
                        Value::from(ebl_pint::sign_jws(&platform, &payload(code, &ours)))
                            .to_string(),
                    ),
                    Answer::ByStranger(st, code) => (
                        st,
                        Value::from(ebl_pint::sign_jws(&stranger, &payload(code, &ours)))
                            .to_string(),
                    ),
                    Answer::AboutAnother(st, code) => {
                        let other = Hash::of(b"another envelope").to_hex();
                        let jws = ebl_pint::sign_jws(&platform, &payload(code, &other));
                        (st, Value::from(jws).to_string())
                    }
                    Answer::Unsigned(st, code) => (st, payload(code, &ours).to_string()),
                    Answer::Broken => (500, "{}".to_owned()),
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
            }
        });
        Receiver {
            url,
            script,
            starts,
            last,
        }
    }

    fn play(&self, answers: &[Answer]) {
        *self.starts.lock().expect("lock") = 0;
        self.script
            .lock()
            .expect("lock")
            .extend(answers.iter().copied());
    }

    fn starts(&self) -> usize {
        *self.starts.lock().expect("lock")
    }
}

/// A node on platform EBLT that trusts the foreign platform and knows where it receives.
fn sending_node(foreign: &Foreign, receiver: &Receiver) -> TestNode {
    let mut node = TestNode::start_on(Settings::default(), "EBLT");
    let dir = node.data().pint_trust();
    for (name, jwk) in foreign.jwks() {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("a platform's directory")).expect("mkdir");
        std::fs::write(path, jwk.to_string()).expect("write jwk");
    }
    std::fs::write(dir.join(FOREIGN).join("url"), &receiver.url).expect("url");
    node.restart();
    node
}

fn abroad() -> ForeignParty {
    ForeignParty {
        platform: FOREIGN.into(),
        name: "Buyer Abroad".into(),
        codes: vec![PartyCode {
            provider: FOREIGN.into(),
            code: "buyer-7".into(),
        }],
    }
}

/// The bill's status as the node shows it, once it is no longer `SENDING_OUT` (or after 30 s).
fn settled(node: &TestNode, bill: &BillId) -> Value {
    settled_from(node, bill, "sending_out")
}

/// The bill's status once it is no longer `state` (or after 30 s).
fn settled_from(node: &TestNode, bill: &BillId, state: &str) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = node.get_as(&format!("/v1/bills/{bill}"), &node.cast.operator);
        assert_eq!(status, 200, "{body}");
        let now = body["bill"]["status"].clone();
        if now.get(state).is_none() || Instant::now() > deadline {
            return now;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn send(node: &mut TestNode, reference: &str) -> BillId {
    let bill = node.issue(reference);
    let shipper = node.cast.shipper.key.clone();
    assert_accepted(&node.act(Action::SendOut { bill, to: abroad() }, &[&shipper]));
    bill
}

#[test]
fn only_a_signed_answer_about_our_envelope_decides_a_send() {
    let foreign = Foreign::new();
    let receiver = Receiver::start(&foreign);
    let mut node = sending_node(&foreign, &receiver);

    // Unsigned, signed by a stranger, about another envelope, a server error: each tried again; the
    // signed refusal gives the bill back.
    receiver.play(&[
        Answer::Unsigned(422, "BENV"),
        Answer::ByStranger(200, "RECE"),
        Answer::AboutAnother(200, "RECE"),
        Answer::Broken,
        Answer::Signed(422, "BENV"),
    ]);
    let refused = send(&mut node, "SCRIPT-1");
    assert_eq!(settled(&node, &refused), json!("issued"));
    assert_eq!(
        receiver.starts(),
        5,
        "four answers retried, the fifth decided"
    );

    // BSIG refuses too.
    receiver.play(&[Answer::Signed(422, "BSIG")]);
    let bsig = send(&mut node, "SCRIPT-2");
    assert_eq!(settled(&node, &bsig), json!("issued"));

    // DISE holds the bill, frozen, and it is offered again until the dispute is resolved there:
    // another DISE changes nothing, a RECE then lets it go.
    receiver.play(&[Answer::Signed(409, "DISE")]);
    let disputed = send(&mut node, "SCRIPT-3");
    assert!(settled(&node, &disputed)["disputed"].is_object());
    receiver.play(&[Answer::Signed(409, "DISE"), Answer::Signed(200, "RECE")]);
    assert!(settled_from(&node, &disputed, "disputed")["transferred_out"].is_object());
    assert!(receiver.starts() >= 2, "offered again after the dispute");
    // A dispute resolved the other way: the receiver refuses it, and the holder has it back.
    receiver.play(&[Answer::Signed(409, "DISE")]);
    let returned = send(&mut node, "SCRIPT-3B");
    assert!(settled(&node, &returned)["disputed"].is_object());
    receiver.play(&[Answer::Signed(422, "BENV")]);
    assert_eq!(settled_from(&node, &returned, "disputed"), json!("issued"));

    // An MDOC where no document was named is no answer to a start: tried again; then RECE.
    receiver.play(&[Answer::Signed(422, "MDOC"), Answer::Signed(200, "RECE")]);
    let received = send(&mut node, "SCRIPT-4");
    assert!(settled(&node, &received)["transferred_out"].is_object());
    // DUPE (an answer lost on the way, the transfer retried) retires it as well.
    receiver.play(&[Answer::Signed(200, "DUPE")]);
    let duplicate = send(&mut node, "SCRIPT-5");
    assert!(settled(&node, &duplicate)["transferred_out"].is_object());

    // The record keeps the receiver's signed answer and our last entry.
    let (_, history) = node.get_as(
        &format!("/v1/bills/{received}/history"),
        &node.cast.operator,
    );
    let last = history
        .as_array()
        .and_then(|h| h.last())
        .cloned()
        .expect("entries");
    let sent = &last["transaction"]["body"]["action"]["SENT_OUT"];
    assert!(
        sent["answer"]
            .as_str()
            .is_some_and(|a| a.split('.').count() == 3),
        "{last}"
    );
    assert!(
        sent["entry"]
            .as_str()
            .is_some_and(|e| e.split('.').count() == 3),
        "{last}"
    );
}

/// The payload of the last transfer chain entry of an envelope.
fn last_entry_payload(envelope: &Value) -> Value {
    let entry = envelope["envelopeTransferChain"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(Value::as_str)
        .expect("a last entry");
    let payload = entry.split('.').nth(1).expect("a JWS");
    serde_json::from_slice(&ebl_pint::base64url_decode(payload).expect("base64url")).expect("json")
}

/// Issue 16, finding 8: a surrender received from another platform is pending with the carrier here,
/// which accepts it, or rejects it: then the bill goes back over PINT to the surrenderer (`SREJ`), and
/// if that platform refuses it back, the surrender is the carrier's to answer again.
#[test]
fn a_surrender_from_abroad_is_answered_here_and_a_rejection_goes_back_over_pint() {
    let mut foreign = Foreign::new();
    let receiver = Receiver::start(&foreign);
    let mut node = sending_node(&foreign, &receiver);
    let carrier = crate::pint::local("Carrier", node.cast.carrier.id);
    let carrier_key = node.cast.carrier.key.clone();
    let mut surrendered = |node: &TestNode, reference: &str| -> BillId {
        let envelope =
            foreign.envelope_ending(reference, &[("SURRENDER_FOR_DELIVERY", &carrier)], &[]);
        let (status, body) = crate::pint::post(node, &envelope);
        assert_eq!(status, 200, "{body}");
        let bills = crate::pint::bills_of(node, &node.cast.carrier.key);
        let bill = bills
            .iter()
            .find(|b| b["reference"] == reference)
            .unwrap_or_else(|| panic!("the carrier holds {reference}: {bills:?}"));
        bill["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .expect("bill id")
    };

    // Accepted: the cargo is delivered, and nothing goes back.
    let accepted = surrendered(&node, "SURR-1");
    let (_, body) = node.get_as(&format!("/v1/bills/{accepted}"), &carrier_key);
    let pending = &body["bill"]["status"]["pending_delivery_from_abroad"]["surrendered_by"];
    assert_eq!(pending["platform"], FOREIGN, "{body}");
    assert_eq!(pending["name"], "Shipper Ltd", "{body}");
    assert_accepted(&node.act(Action::AcceptSurrender { bill: accepted }, &[&carrier_key]));
    assert_eq!(settled(&node, &accepted), json!("accomplished"));

    // Rejected, and refused by the surrenderer's platform: pending here again.
    receiver.play(&[Answer::Signed(422, "BENV")]);
    let rejected = surrendered(&node, "SURR-2");
    assert_accepted(&node.act(Action::RejectSurrender { bill: rejected }, &[&carrier_key]));
    assert!(settled(&node, &rejected)["pending_delivery_from_abroad"].is_object());
    // Rejected again and received there: the last entry hands it back with SREJ, signed by us.
    receiver.play(&[Answer::Signed(200, "RECE")]);
    assert_accepted(&node.act(Action::RejectSurrender { bill: rejected }, &[&carrier_key]));
    assert!(settled(&node, &rejected)["transferred_out"].is_object());
    let last = last_entry_payload(&receiver.last.lock().expect("lock"));
    assert_eq!(last["eblPlatform"], "EBLT", "{last}");
    let transactions = last["transactions"].as_array().expect("transactions");
    assert_eq!(
        transactions.len(),
        1,
        "the refused SREJ is not in it: {last}"
    );
    assert_eq!(transactions[0]["actionCode"], "SREJ", "{last}");
    assert_eq!(
        transactions[0]["recipient"]["partyName"], "Shipper Ltd",
        "{last}"
    );
    assert_eq!(
        transactions[0]["recipient"]["eblPlatform"], FOREIGN,
        "{last}"
    );
}
