//! A carrier's documentation system, as DCSA's eBL Issuance and Surrender APIs 3.0 have it speak to a
//! platform: a small HTTP server that takes what the connector (`ebl carrier serve`) sends it, the
//! connector started and stopped by PID, and DCSA's schemas that every request and answer is held to.
//! Used by the wallet's tests and the flows.

use std::collections::VecDeque;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ebl_core::{jcs, Hash, PartyKey, SigningKey};
use serde_json::{json, Value};

use crate::PASSPHRASE;

/// How long an answer may take to arrive: a wait for an event, not a sleep.
const ANSWER_WAIT: Duration = Duration::from_secs(60);

/// The carrier's documentation system: takes answers at `/v3/ebl-issuance-responses`, each answered
/// with the next scripted status (204 once the script is used up).
#[derive(Debug)]
pub struct CarrierSystem {
    /// Its base URL.
    pub url: String,
    answers: mpsc::Receiver<(String, Value)>,
    /// The statuses its next answers are given, in order (204 after them).
    pub statuses: Arc<Mutex<VecDeque<u16>>>,
}

impl CarrierSystem {
    /// Listens on a free loopback port.
    pub fn start() -> CarrierSystem {
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

    /// The next request the connector made of it (its path and body), validated against DCSA's
    /// schema for its kind.
    pub fn answer(&self) -> (String, Value) {
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

    /// Forgets every request received so far.
    pub fn drain(&self) {
        while self.answers.try_recv().is_ok() {}
    }
}

/// `ebl carrier serve`, stopped (by its PID) when dropped.
#[derive(Debug)]
pub struct Connector {
    child: Child,
    /// `PUT /v3/ebl-issuance-requests`.
    pub url: String,
    /// `POST /v3/ebl-surrender-responses`.
    pub answers: String,
}

impl Drop for Connector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Connector {
    /// `ebl` (binary `ebl`) serving as carrier SMDG:MSC from the wallet at `home` (its key `carrier`)
    /// against `node`, with the manifest keys in `keys`, answering to `answers_to`; waits for its
    /// address.
    pub fn start(ebl: &Path, home: &Path, node: &str, keys: &Path, answers_to: &str) -> Connector {
        Connector::start_with(ebl, home, node, keys, answers_to, &[])
    }

    /// [`Connector::start`] with more flags.
    pub fn start_with(
        ebl: &Path,
        home: &Path,
        node: &str,
        keys: &Path,
        answers_to: &str,
        flags: &[&str],
    ) -> Connector {
        let token = keys.with_file_name("system-token");
        std::fs::write(&token, SYSTEM_TOKEN).expect("token file");
        let mut child = Command::new(ebl)
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
            .args(flags)
            .env("EBL_HOME", home)
            .env("EBL_NODE", node)
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
    pub fn put(&self, body: &Value) -> (u16, Value) {
        let response = agent()
            .put(&self.url)
            .header("content-type", "application/json")
            .send(&serde_json::to_vec(body).expect("json")[..])
            .expect("the connector answers");
        read_answer(response, SCHEMA)
    }

    /// POSTs `body` as a surrender answer showing `token`: the status and the JSON answered.
    pub fn answer_surrender(&self, body: &Value, token: Option<&str>) -> (u16, Value) {
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
pub const SYSTEM_TOKEN: &str = "d6c1f0e2-carrier-system-token";

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
pub const SCHEMA: &str = include_str!("../fixtures/dcsa/ebl-iss-v3.0.4.bundle.schema.json");

/// DCSA's eBL Surrender API 3.0.4 schemas, as JSON Schema (derived mechanically; Apache 2.0).
pub const SURRENDER_SCHEMA: &str =
    include_str!("../fixtures/dcsa/ebl-sur-v3.0.4.bundle.schema.json");

/// `value` is valid as DCSA's Issuance API `definition`.
#[track_caller]
pub fn assert_valid(definition: &str, value: &Value) {
    assert_valid_in(SCHEMA, definition, value);
}

/// `value` is valid as `definition` of the bundled `schema`.
#[track_caller]
pub fn assert_valid_in(schema: &str, definition: &str, value: &Value) {
    let mut schema: Value = serde_json::from_str(schema).expect("schema");
    schema["$ref"] = format!("#/$defs/{definition}").into();
    let validator = jsonschema::draft202012::new(&schema).expect("a valid schema");
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{definition}: {errors:#?}\n{value}");
}

/// SHA-256 of the RFC 8785 form, as DCSA's manifests make their checksums.
pub fn checksum(value: &Value) -> String {
    Hash::of(jcs::canonicalize(value).expect("jcs").as_bytes()).to_hex()
}

/// DCSA's to-order sample transport document under `reference`.
pub fn sample_document(reference: &str) -> Value {
    let mut document: Value =
        serde_json::from_str(ebl_core::sample::DCSA_TO_ORDER_BOL).expect("sample");
    document["transportDocumentReference"] = json!(reference);
    document
}

/// The party that is to receive the bill, as `issueTo` names it: by its LEI, on `platform`.
pub fn issue_to(name: &str, lei: &str, platform: &str) -> Value {
    json!({
        "partyName": name,
        "sendToPlatform": platform,
        "identifyingCodes": lei_codes(lei),
    })
}

/// A party's identifying codes in DCSA's form, by its LEI.
pub fn lei_codes(lei: &str) -> Value {
    json!([{"codeListProvider": "GLEIF", "codeListName": "LEI", "partyCode": lei}])
}

/// An issuance request of `document` to `issue_to`, its manifest signed with `key`, valid as DCSA's
/// `IssuanceRequest`.
pub fn request_for(document: Value, issue_to: Value, key: &SigningKey) -> Value {
    let manifest = ebl_pint::sign_jws(
        key,
        &json!({"documentChecksum": checksum(&document), "issueToChecksum": checksum(&issue_to)}),
    );
    let request = json!({"document": document, "issueTo": issue_to, "issuanceManifestSignedContent": manifest});
    assert_valid("IssuanceRequest", &request);
    request
}

/// Writes `key` as the carrier SMDG:MSC's manifest key on platform `platform` into a trust directory
/// under `dir`; returns the directory.
pub fn manifest_keys(dir: &Path, platform: &str, key: &SigningKey) -> std::path::PathBuf {
    let keys = dir.join("carrier-keys");
    std::fs::create_dir_all(keys.join(platform)).expect("mkdir");
    std::fs::write(
        keys.join(platform).join("carrier.SMDG.MSC.jwk"),
        ebl_pint::public_jwk(&PartyKey::of(key)).to_string(),
    )
    .expect("write key");
    keys
}
