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
}

impl Receiver {
    fn start(foreign: &Foreign) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let script = Arc::new(Mutex::new(VecDeque::new()));
        let starts = Arc::new(Mutex::new(0));
        let (platform, stranger) = (foreign.platform.clone(), ebl_core::testkit::key(77));
        let (s, n) = (script.clone(), starts.clone());
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
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = node.get_as(&format!("/v1/bills/{bill}"), &node.cast.operator);
        assert_eq!(status, 200, "{body}");
        let now = body["bill"]["status"].clone();
        if now.get("sending_out").is_none() || Instant::now() > deadline {
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

    // DISE holds the bill, frozen.
    receiver.play(&[Answer::Signed(409, "DISE")]);
    let disputed = send(&mut node, "SCRIPT-3");
    assert!(settled(&node, &disputed)["disputed"].is_object());

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
