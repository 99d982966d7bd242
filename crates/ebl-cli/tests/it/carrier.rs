//! `ebl carrier serve`, the carrier's connector, driven as a carrier's documentation system drives it:
//! DCSA eBL Issuance API 3.0 requests signed with the carrier's manifest key, answers taken at the
//! system's own `POST /v3/ebl-issuance-responses` (a small HTTP server in the test).

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ebl_core::{jcs, Hash, PartyKey};
use serde_json::{json, Value};

use super::support::{Trade, BUYER_LEI, PASSPHRASE};

/// How long an answer may take to arrive: a wait for an event, not a sleep.
const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// The carrier's documentation system: takes answers at `/v3/ebl-issuance-responses`, each answered
/// with the next scripted status (204 once the script is used up).
struct CarrierSystem {
    url: String,
    answers: mpsc::Receiver<(String, Value)>,
    statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl CarrierSystem {
    fn start() -> CarrierSystem {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let (send, answers) = mpsc::channel();
        let statuses = Arc::new(Mutex::new(VecDeque::new()));
        let script = statuses.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                reader.read_line(&mut line).expect("request line");
                let path = line.split_whitespace().nth(1).unwrap_or("").to_owned();
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).expect("header");
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some((name, value)) = header.split_once(':') {
                        if name.eq_ignore_ascii_case("content-length") {
                            length = value.trim().parse().expect("length");
                        }
                    }
                }
                let mut body = vec![0; length];
                reader.read_exact(&mut body).expect("body");
                let status = script.lock().expect("script").pop_front().unwrap_or(204);
                let mut stream = stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} Scripted\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
                );
                let _ = send.send((path, serde_json::from_slice(&body).unwrap_or(Value::Null)));
            }
        });
        CarrierSystem {
            url,
            answers,
            statuses,
        }
    }

    /// The next answer the connector delivered.
    fn answer(&self) -> (String, Value) {
        let (path, answer) = self
            .answers
            .recv_timeout(ANSWER_WAIT)
            .expect("an answer from the connector");
        if path == "/v3/ebl-surrender-requests" {
            assert_valid_in(SURRENDER_SCHEMA, "SurrenderRequestDetails", &answer);
        } else {
            assert_valid("IssuanceResponse", &answer);
        }
        (path, answer)
    }
}

/// `ebl carrier serve`, stopped (by its PID) when dropped.
struct Connector {
    child: Child,
    /// `PUT /v3/ebl-issuance-requests`.
    url: String,
    /// `POST /v3/ebl-surrender-responses`.
    answers: String,
}

impl Drop for Connector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Connector {
    fn start(trade: &Trade, keys: &std::path::Path, answers_to: &str) -> Connector {
        let token = keys.with_file_name("system-token");
        std::fs::write(&token, SYSTEM_TOKEN).expect("token file");
        let mut child = Command::new(env!("CARGO_BIN_EXE_ebl"))
            .args([
                "carrier",
                "serve",
                "--as",
                "carrier",
                "--carrier",
                "SMDG:MSC",
                "--carrier-keys",
                keys.to_str().expect("path"),
                "--answers-to",
                answers_to,
                "--platform",
                "EBL",
                "--retry-ms",
                "50",
                "--poll-ms",
                "50",
                "--system-token-file",
                token.to_str().expect("path"),
            ])
            .env("EBL_HOME", trade.home("carrier"))
            .env("EBL_NODE", trade.node_url())
            .env("EBL_PASSPHRASE", PASSPHRASE)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start ebl carrier serve");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let first = lines.next().expect("a first line").expect("text");
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("http://") && w.ends_with("/v3/ebl-issuance-requests,"))
            .map(|w| w.trim_end_matches(','))
            .unwrap_or_else(|| panic!("no address in {first:?}"))
            .to_owned();
        let answers = url.replace("/v3/ebl-issuance-requests", "/v3/ebl-surrender-responses");
        // The rest of its output is read so that it never blocks on a full pipe, and shown with a
        // failing test's output.
        std::thread::spawn(move || {
            lines
                .map_while(Result::ok)
                .for_each(|l| eprintln!("connector: {l}"))
        });
        Connector {
            child,
            url,
            answers,
        }
    }

    /// PUTs `body` as an issuance request: the status and the JSON answered.
    fn put(&self, body: &Value) -> (u16, Value) {
        let response = agent()
            .put(&self.url)
            .header("content-type", "application/json")
            .send(&serde_json::to_vec(body).expect("json")[..])
            .expect("the connector answers");
        read_answer(response, SCHEMA)
    }

    /// POSTs `body` as a surrender answer showing `token`: the status and the JSON answered.
    fn answer_surrender(&self, body: &Value, token: Option<&str>) -> (u16, Value) {
        assert_valid_in(SURRENDER_SCHEMA, "SurrenderRequestAnswer", body);
        let mut request = agent()
            .post(&self.answers)
            .header("content-type", "application/json");
        if let Some(token) = token {
            request = request.header("authorization", &format!("Bearer {token}"));
        }
        let response = request
            .send(&serde_json::to_vec(body).expect("json")[..])
            .expect("the connector answers");
        read_answer(response, SURRENDER_SCHEMA)
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// The token the carrier's system and its connector share.
const SYSTEM_TOKEN: &str = "d6c1f0e2-carrier-system-token";

/// The status and JSON of an answer of the connector: its API version, and DCSA's error body (of the
/// API whose `schema` is given) on an error.
fn read_answer(mut response: ureq::http::Response<ureq::Body>, schema: &str) -> (u16, Value) {
    let status = response.status().as_u16();
    let version = response.headers().get("api-version").cloned();
    let text = response.body_mut().read_to_string().unwrap_or_default();
    let answer = serde_json::from_str(&text).unwrap_or(Value::Null);
    assert_eq!(
        version.as_ref().and_then(|v| v.to_str().ok()),
        Some("3.0.4")
    );
    if status != 204 {
        assert_valid_in(schema, "ErrorResponse", &answer);
    }
    (status, answer)
}

/// DCSA's eBL Issuance API 3.0.4 schemas, as JSON Schema (derived mechanically; Apache 2.0).
const SCHEMA: &str = include_str!("../fixtures/dcsa/ebl-iss-v3.0.4.bundle.schema.json");

/// DCSA's eBL Surrender API 3.0.4 schemas, as JSON Schema (derived mechanically; Apache 2.0).
const SURRENDER_SCHEMA: &str = include_str!("../fixtures/dcsa/ebl-sur-v3.0.4.bundle.schema.json");

/// `value` is valid as DCSA's Issuance API `definition`.
#[track_caller]
fn assert_valid(definition: &str, value: &Value) {
    assert_valid_in(SCHEMA, definition, value);
}

/// `value` is valid as `definition` of the bundled `schema`.
#[track_caller]
fn assert_valid_in(schema: &str, definition: &str, value: &Value) {
    let mut schema: Value = serde_json::from_str(schema).expect("schema");
    schema["$ref"] = format!("#/$defs/{definition}").into();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{definition}: {errors:#?}\n{value}");
}

fn checksum(value: &Value) -> String {
    Hash::of(jcs::canonicalize(value).expect("jcs").as_bytes()).to_hex()
}

/// An issuance request for `reference` to the buyer (named by its LEI on `platform`), its manifest
/// signed with `key`.
fn request(trade: &Trade, reference: &str, platform: &str, key: &ebl_core::SigningKey) -> Value {
    let path = trade.document(reference);
    let document: Value =
        serde_json::from_slice(&std::fs::read(path).expect("document")).expect("json");
    request_for(document, platform, key)
}

/// The buyer as DCSA party objects name it: by its LEI.
fn buyer_codes() -> Value {
    json!([{"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": BUYER_LEI}])
}

/// An issuance request of `document` to the buyer on `platform`, its manifest signed with `key`.
fn request_for(document: Value, platform: &str, key: &ebl_core::SigningKey) -> Value {
    let issue_to = json!({
        "partyName": "Buyer One",
        "sendToPlatform": platform,
        "identifyingCodes": [{"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": BUYER_LEI}],
    });
    let manifest = ebl_pint::sign_jws(
        key,
        &json!({"documentChecksum": checksum(&document), "issueToChecksum": checksum(&issue_to)}),
    );
    let request = json!({"document": document, "issueTo": issue_to, "issuanceManifestSignedContent": manifest});
    assert_valid("IssuanceRequest", &request);
    request
}

/// A ledger with the carrier (SMDG:MSC) and the buyer (by its LEI), and a trust directory holding
/// the carrier system's manifest key.
fn carrier_ledger() -> (Trade, ebl_core::SigningKey, std::path::PathBuf) {
    let t = Trade::new();
    t.admit(
        "carrier",
        "Mediterranean Shipping",
        "carrier",
        &["SMDG:MSC"],
    );
    t.admit(
        "buyer1",
        "Buyer One",
        "trader",
        &[&format!("LEI:{BUYER_LEI}")],
    );
    let manifest_key = ebl_core::testkit::key(61);
    let keys = t.dir.path().join("carrier-keys");
    std::fs::create_dir_all(keys.join("EBL")).expect("mkdir");
    std::fs::write(
        keys.join("EBL").join("carrier.SMDG.MSC.jwk"),
        ebl_pint::public_jwk(&PartyKey::of(&manifest_key)).to_string(),
    )
    .expect("write key");
    (t, manifest_key, keys)
}

fn held_by_buyer(trade: &Trade, reference: &str) -> bool {
    trade
        .json("buyer1", &["bill", "list", "--as", "buyer1"])
        .as_array()
        .expect("bills")
        .iter()
        .any(|b| b["reference"] == reference)
}

#[test]
fn a_carriers_system_issues_a_bill_through_the_dcsa_issuance_api_and_is_answered_issu() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = Connector::start(&t, &keys, &system.url);

    // The first answer is refused by the carrier's system (503): the connector tries again.
    system.statuses.lock().expect("script").push_back(503);
    let (status, _) = connector.put(&request(&t, "ISS-1", "EBL", &manifest_key));
    assert_eq!(status, 204);
    let (path, first) = system.answer();
    assert_eq!(path, "/v3/ebl-issuance-responses");
    assert_eq!(first["issuanceResponseCode"], "ISSU", "{first}");
    let (_, again) = system.answer();
    assert_eq!(
        again, first,
        "the refused answer is delivered again, unchanged"
    );
    assert_eq!(first["transportDocumentReference"], "ISS-1");
    assert!(first.get("reason").is_none(), "no reason on ISSU: {first}");
    assert!(held_by_buyer(&t, "ISS-1"), "the buyer holds the bill");

    // The same reference again: 409 with DCSA's error body, and nothing issued twice.
    let (status, body) = connector.put(&request(&t, "ISS-1", "EBL", &manifest_key));
    assert_eq!(status, 409, "{body}");
    assert_eq!(body["errors"][0]["errorCodeText"], "already_requested");
    assert_eq!(body["statusCode"], 409);
}

#[test]
fn regression_an_issuance_request_not_signed_by_the_carrier_changes_nothing() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = Connector::start(&t, &keys, &system.url);

    // Signed by a key the carrier never registered: 401, no bill, no record (the same reference,
    // properly signed afterwards, is issued).
    let stranger = ebl_core::testkit::key(62);
    let (status, body) = connector.put(&request(&t, "FORGED-1", "EBL", &stranger));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["errorCodeText"], "bad_manifest_signature");

    // The document altered after the carrier signed it: 400.
    let mut altered = request(&t, "FORGED-1", "EBL", &manifest_key);
    altered["document"]["shippingMarks"] = json!(["ALTERED"]);
    let (status, body) = connector.put(&altered);
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["errorCodeText"],
        "manifest_checksum_mismatch"
    );

    // issueTo changed to another party after signing: 400.
    let mut redirected = request(&t, "FORGED-1", "EBL", &manifest_key);
    redirected["issueTo"]["identifyingCodes"][0]["partyCode"] = json!("5493001KJTIIGC8Y1R12");
    let (status, body) = connector.put(&redirected);
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["errors"][0]["errorCodeText"],
        "manifest_checksum_mismatch"
    );

    // Not JSON, and no manifest.
    let (status, body) = connector.put(&json!("not an issuance request"));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (400, &json!("missing_field"))
    );
    assert!(!held_by_buyer(&t, "FORGED-1"));

    let (status, _) = connector.put(&request(&t, "FORGED-1", "EBL", &manifest_key));
    assert_eq!(status, 204, "a refused request left nothing behind");
    assert_eq!(system.answer().1["issuanceResponseCode"], "ISSU");

    // A reference the carrier issued by hand, never asked of the connector: a conflict too.
    let document = t.document("BY-HAND-1");
    t.json(
        "carrier",
        &[
            "bill",
            "issue",
            &document,
            "--to",
            "Buyer One",
            "--as",
            "carrier",
        ],
    );
    let (status, body) = connector.put(&request(&t, "BY-HAND-1", "EBL", &manifest_key));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (409, &json!("already_requested"))
    );
}

#[test]
fn an_unknown_recipient_is_answered_breq_and_another_platforms_refu() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = Connector::start(&t, &keys, &system.url);

    let mut unknown = request(&t, "ISS-NOBODY", "EBL", &manifest_key);
    unknown["issueTo"]["identifyingCodes"][0]["partyCode"] = json!("5493001KJTIIGC8Y1R12");
    let issue_to = unknown["issueTo"].clone();
    unknown["issuanceManifestSignedContent"] = json!(ebl_pint::sign_jws(
        &manifest_key,
        &json!({"documentChecksum": checksum(&unknown["document"]), "issueToChecksum": checksum(&issue_to)}),
    ));
    assert_eq!(connector.put(&unknown).0, 204);
    let answer = system.answer().1;
    assert_eq!(answer["issuanceResponseCode"], "BREQ", "{answer}");
    assert_eq!(answer["errors"][0]["errorCode"], "unknown_party");
    assert!(answer["reason"].as_str().is_some_and(|r| !r.is_empty()));

    assert_eq!(
        connector
            .put(&request(&t, "ISS-WAVE", "WAVE", &manifest_key))
            .0,
        204
    );
    let answer = system.answer().1;
    assert_eq!(answer["issuanceResponseCode"], "REFU", "{answer}");
    assert_eq!(answer["errors"][0]["errorCode"], "other_platform");
    assert!(!held_by_buyer(&t, "ISS-NOBODY") && !held_by_buyer(&t, "ISS-WAVE"));
}

#[test]
fn an_answer_not_taken_before_the_connector_stops_is_delivered_after_it_starts_again() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    system.statuses.lock().expect("script").extend([503; 1000]);
    let connector = Connector::start(&t, &keys, &system.url);
    assert_eq!(
        connector.put(&request(&t, "ISS-R", "EBL", &manifest_key)).0,
        204
    );
    let (_, refused) = system.answer();
    assert_eq!(refused["issuanceResponseCode"], "ISSU");
    drop(connector);
    system.statuses.lock().expect("script").clear();
    while system.answers.try_recv().is_ok() {}

    let again = Connector::start(&t, &keys, &system.url);
    assert_eq!(
        system.answer().1,
        refused,
        "the recorded answer, delivered after the restart"
    );
    // Issued once: the same reference is still a conflict, and the bill is the buyer's.
    assert_eq!(
        again.put(&request(&t, "ISS-R", "EBL", &manifest_key)).0,
        409
    );
    assert!(held_by_buyer(&t, "ISS-R"));
}

/// Issues `reference` to the buyer through the connector.
fn issued_through(
    connector: &Connector,
    system: &CarrierSystem,
    t: &Trade,
    reference: &str,
    key: &ebl_core::SigningKey,
) {
    assert_eq!(connector.put(&request(t, reference, "EBL", key)).0, 204);
    let (_, answer) = system.answer();
    assert_eq!(answer["issuanceResponseCode"], "ISSU", "{answer}");
}

fn shown(t: &Trade, reference: &str) -> String {
    t.ebl("buyer1", &["bill", "show", reference, "--as", "buyer1"])
        .ok()
        .stdout
}

#[test]
fn a_carriers_system_settles_surrenders_through_the_dcsa_surrender_api() {
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = Connector::start(&t, &keys, &system.url);
    issued_through(&connector, &system, &t, "SUR-1", &manifest_key);
    issued_through(&connector, &system, &t, "SUR-2", &manifest_key);

    // The buyer surrenders SUR-1 for delivery: the carrier's system is sent an SREQ with the chain.
    t.json("buyer1", &["bill", "surrender", "SUR-1", "--as", "buyer1"]);
    let (path, sreq) = system.answer();
    assert_eq!(path, "/v3/ebl-surrender-requests");
    assert_eq!(sreq["surrenderRequestCode"], "SREQ", "{sreq}");
    assert_eq!(sreq["transportDocumentReference"], "SUR-1");
    let chain = sreq["endorsementChain"].as_array().expect("chain");
    assert_eq!(chain[0]["actionCode"], "ISSUE", "{sreq}");
    let reference = sreq["surrenderRequestReference"].clone();

    // Without the system's token, or an SREJ without comments: refused, nothing signed.
    let surr = json!({"surrenderRequestReference": reference, "action": "SURR"});
    let (status, body) = connector.answer_surrender(&surr, None);
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (401, &json!("unauthenticated"))
    );
    assert_eq!(connector.answer_surrender(&surr, Some("a guess")).0, 401);
    let bare_srej = json!({"surrenderRequestReference": reference, "action": "SREJ"});
    let (status, body) = connector.answer_surrender(&bare_srej, Some(SYSTEM_TOKEN));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (400, &json!("rejection_without_comments"))
    );
    let unknown = json!({"surrenderRequestReference": "NO-SUCH-REQUEST", "action": "SURR"});
    assert_eq!(
        connector.answer_surrender(&unknown, Some(SYSTEM_TOKEN)).0,
        404
    );
    let before = shown(&t, "SUR-1");
    assert!(!before.contains("ACCOMPLISHED"), "{before}");

    // SURR: accepted on the ledger, signed with the carrier's key; a second answer is a conflict.
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);
    let after = shown(&t, "SUR-1");
    assert!(after.contains("ACCOMPLISHED"), "{after}");
    let (status, body) = connector.answer_surrender(&surr, Some(SYSTEM_TOKEN));
    assert_eq!(
        (status, &body["errors"][0]["errorCodeText"]),
        (409, &json!("already_answered"))
    );

    // SUR-2 surrendered for amendment (change of destination): an AREQ with the reason; SREJ gives the
    // bill back to the buyer, who surrenders it anew.
    t.json(
        "buyer1",
        &[
            "bill",
            "surrender",
            "SUR-2",
            "--amend",
            "COD",
            "--as",
            "buyer1",
        ],
    );
    let (_, areq) = system.answer();
    assert_eq!(
        (&areq["surrenderRequestCode"], &areq["reasonCode"]),
        (&json!("AREQ"), &json!("COD")),
        "{areq}"
    );
    let srej = json!({
        "surrenderRequestReference": areq["surrenderRequestReference"],
        "action": "SREJ",
        "comments": "The new destination is not served by this vessel",
    });
    assert_eq!(connector.answer_surrender(&srej, Some(SYSTEM_TOKEN)).0, 204);
    t.json("buyer1", &["bill", "surrender", "SUR-2", "--as", "buyer1"]);
    let (_, again) = system.answer();
    assert_eq!(again["surrenderRequestCode"], "SREQ", "{again}");
    assert_ne!(
        again["surrenderRequestReference"],
        areq["surrenderRequestReference"]
    );

    // A straight bill, its consignee the buyer: surrendered for delivery and accepted alike.
    let mut straight: Value =
        serde_json::from_str(ebl_core::sample::DCSA_TO_ORDER_BOL).expect("sample");
    straight["transportDocumentReference"] = json!("SUR-STRAIGHT");
    straight["isToOrder"] = json!(false);
    straight["documentParties"]["consignee"] =
        json!({"partyName": "Buyer One", "identifyingCodes": buyer_codes()});
    assert_eq!(
        connector
            .put(&request_for(straight, "EBL", &manifest_key))
            .0,
        204
    );
    assert_eq!(system.answer().1["issuanceResponseCode"], "ISSU");
    t.json(
        "buyer1",
        &["bill", "surrender", "SUR-STRAIGHT", "--as", "buyer1"],
    );
    let (_, sreq) = system.answer();
    assert_eq!(
        (
            &sreq["transportDocumentReference"],
            &sreq["surrenderRequestCode"]
        ),
        (&json!("SUR-STRAIGHT"), &json!("SREQ"))
    );
    let surr =
        json!({"surrenderRequestReference": sreq["surrenderRequestReference"], "action": "SURR"});
    assert_eq!(connector.answer_surrender(&surr, Some(SYSTEM_TOKEN)).0, 204);
    let after = shown(&t, "SUR-STRAIGHT");
    assert!(after.contains("ACCOMPLISHED"), "{after}");
}

#[test]
fn every_ebl_type_of_dcsas_issuance_scenarios_is_issued() {
    // The Conformance-Gateway's "eBL types": straight (to a consignee), negotiable (to the order of a
    // named endorsee) and blank (to order, no endorsee); each answered ISSU.
    let (t, manifest_key, keys) = carrier_ledger();
    let system = CarrierSystem::start();
    let connector = Connector::start(&t, &keys, &system.url);
    let sample = |reference: &str| -> Value {
        let mut document: Value =
            serde_json::from_str(ebl_core::sample::DCSA_TO_ORDER_BOL).expect("sample");
        document["transportDocumentReference"] = json!(reference);
        document
    };
    let mut straight = sample("TYPE-STRAIGHT");
    straight["isToOrder"] = json!(false);
    straight["documentParties"]["consignee"] =
        json!({"partyName": "Buyer One", "identifyingCodes": buyer_codes()});
    let mut negotiable = sample("TYPE-NEGOTIABLE");
    negotiable["documentParties"]["endorsee"] =
        json!({"partyName": "Buyer One", "identifyingCodes": buyer_codes()});
    let blank = sample("TYPE-BLANK");
    for document in [straight, negotiable, blank] {
        let reference = document["transportDocumentReference"].clone();
        assert_eq!(
            connector
                .put(&request_for(document, "EBL", &manifest_key))
                .0,
            204
        );
        let (_, answer) = system.answer();
        assert_eq!(
            (
                &answer["transportDocumentReference"],
                &answer["issuanceResponseCode"]
            ),
            (&reference, &json!("ISSU")),
            "{answer}"
        );
        assert!(held_by_buyer(&t, reference.as_str().expect("text")));
    }
}

/// A manifest signed ES256 by `key`, with no `kid`, as DCSA's conformance tooling signs with the key of
/// the certificate it gives the platform.
fn es256_manifest(key: &rcgen::KeyPair, payload: &Value) -> String {
    use rcgen::SigningKey as _;
    let header = ebl_pint::base64url_encode(br#"{"alg":"ES256"}"#);
    let body = ebl_pint::base64url_encode(payload.to_string().as_bytes());
    let input = format!("{header}.{body}");
    let der = key.sign(input.as_bytes()).expect("signed");
    let signature = p256::ecdsa::Signature::from_der(&der).expect("DER signature");
    format!(
        "{input}.{}",
        ebl_pint::base64url_encode(&signature.to_bytes())
    )
}

#[test]
fn a_manifest_signed_by_the_key_of_the_carriers_x509_certificate_is_issued() {
    let (t, _, keys) = carrier_ledger();
    // The carrier registers a certificate instead of a JWK: its key signs ES256, without a kid.
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    let certificate = rcgen::CertificateParams::new(vec!["docs.carrier.example".to_owned()])
        .expect("params")
        .self_signed(&key)
        .expect("certificate");
    std::fs::remove_file(keys.join("EBL").join("carrier.SMDG.MSC.jwk")).expect("no JWK");
    std::fs::write(
        keys.join("EBL").join("carrier.SMDG.MSC.pem"),
        certificate.pem(),
    )
    .expect("pem");
    let system = CarrierSystem::start();
    let connector = Connector::start(&t, &keys, &system.url);

    let stranger = ebl_core::testkit::key(63);
    let mut body = request(&t, "X509-1", "EBL", &stranger);
    let signed = json!({
        "documentChecksum": checksum(&body["document"]),
        "issueToChecksum": checksum(&body["issueTo"]),
    });
    // Signed by another certificate's key: refused.
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key");
    body["issuanceManifestSignedContent"] = json!(es256_manifest(&other, &signed));
    assert_eq!(connector.put(&body).0, 401);
    body["issuanceManifestSignedContent"] = json!(es256_manifest(&key, &signed));
    assert_eq!(connector.put(&body).0, 204);
    assert_eq!(system.answer().1["issuanceResponseCode"], "ISSU");
}
