//! `ebl carrier serve`: the carrier's connector. It serves DCSA's eBL Issuance API 3.0 (platform side)
//! to the carrier's documentation system and issues on the ledger with the carrier's own key, held in
//! this wallet: no member node signs as a carrier. The carrier's system authenticates each request by
//! the issuance manifest it signs (a key of the carrier's in the connector's trust directory); the
//! connector listens on loopback, beside that system. Answers go to the carrier's
//! `POST /v3/ebl-issuance-responses`, retried until acknowledged, and survive a restart (`records`).

pub mod issuance;
pub mod records;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use axum::Router;
use ebl_core::{Action, Replacement, SigningKey};
use ebl_pint::TrustStore;

use crate::error::{CliError, Kind, Result};
use crate::wallet::{Passphrase, Wallet};
use issuance::{Answer, Carrier, IssuanceRequest, Reason, RequestRefusal, Verdict};
use records::{Record, Records};

/// The path DCSA gives the issuance request.
const ISSUANCE_REQUESTS: &str = "/v3/ebl-issuance-requests";
/// The path DCSA gives the carrier's answer endpoint.
const ISSUANCE_RESPONSES: &str = "/v3/ebl-issuance-responses";
/// The API version answered and sent (`API-Version`).
const API_VERSION: &str = "3.0.4";
/// Longest wait between two tries of an answer the carrier's system did not take, or of a ledger that
/// could not be reached.
const RETRY_DELAY_MAX: Duration = Duration::from_secs(60);
/// How long the carrier's system has to acknowledge an answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(30);

/// What `ebl carrier serve` was started with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The loopback address to serve on.
    pub listen: SocketAddr,
    /// This ledger's PINT platform code: the `sendToPlatform` of parties hosted here.
    pub platform: String,
    /// The carrier this connector issues for.
    pub carrier: Carrier,
    /// A PINT trust directory holding the carrier's manifest keys (`<PLATFORM>/carrier.<PROVIDER>.<CODE>.*`).
    pub trust_dir: PathBuf,
    /// Where the carrier's system takes answers (the base of `/v3/ebl-issuance-responses`).
    pub answers_to: String,
    /// The first wait before trying again; it doubles up to `RETRY_DELAY_MAX`.
    pub retry: Duration,
}

/// The connector's state, shared by the HTTP handlers.
struct Connector {
    home: PathBuf,
    node: String,
    key: SigningKey,
    settings: Settings,
    trust: TrustStore,
    records: Records,
    wake: std::sync::Mutex<mpsc::Sender<()>>,
}

/// The connector's records directory in the wallet at `home`.
pub fn records_dir(home: &Path) -> PathBuf {
    home.join("carrier").join("issuance")
}

/// Serves until Ctrl-C or SIGTERM, signing issuances with `key`; prints its address first.
pub fn serve(home: &Path, node: &str, key: SigningKey, settings: Settings) -> Result<()> {
    crate::ui::check_listen(&settings.listen)?;
    let trust = ebl_pint::trust_dir::read_trust_dir(&settings.trust_dir)
        .map_err(|e| CliError::io(&format!("reading {}", settings.trust_dir.display()), e))?;
    let records = Records::open(&records_dir(home))?;
    let (wake, woken) = mpsc::channel();
    let connector = Arc::new(Connector {
        home: home.to_owned(),
        node: node.to_owned(),
        key,
        settings,
        trust,
        records,
        wake: std::sync::Mutex::new(wake),
    });
    let worker = connector.clone();
    std::thread::Builder::new()
        .name("issuance".into())
        .spawn(move || work(&worker, &woken))
        .map_err(|e| CliError::io("starting the issuance worker", e))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::io("starting the connector", e))?;
    runtime.block_on(async move {
        let listen = connector.settings.listen;
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| CliError::io(&format!("listening on {listen}"), e))?;
        let address = listener
            .local_addr()
            .map_err(|e| CliError::io("the connector's address", e))?;
        say!(
            "ebl carrier serve: DCSA eBL Issuance API at http://{address}{ISSUANCE_REQUESTS}, issuing as carrier {} on platform {}; answers to {}{ISSUANCE_RESPONSES}",
            connector.settings.carrier,
            connector.settings.platform,
            connector.settings.answers_to
        );
        let app = Router::new()
            .route(ISSUANCE_REQUESTS, put(issuance_request))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(connector);
        axum::serve(listener, app)
            .with_graceful_shutdown(crate::ui::shutdown())
            .await
            .map_err(|e| CliError::io("serving the connector", e))
    })
}

/// `PUT /v3/ebl-issuance-requests`: checked, recorded once, answered 204; the issuance follows.
async fn issuance_request(State(connector): State<Arc<Connector>>, body: Body) -> Response {
    let body = match axum::body::to_bytes(body, issuance::ISSUANCE_REQUEST_BYTES_MAX + 1).await {
        Ok(body) => body,
        Err(_) => return refused(&RequestRefusal::TooLarge),
    };
    let shared = connector.clone();
    let accepted = tokio::task::spawn_blocking(move || accept(&shared, &body)).await;
    match accepted {
        Ok(Ok(Ok(reference))) => {
            say!("issuance request {reference}: accepted");
            if let Ok(wake) = connector.wake.lock() {
                let _ = wake.send(());
            }
            with_version(StatusCode::NO_CONTENT.into_response())
        }
        Ok(Ok(Err(refusal))) => {
            say!("issuance request refused: {} ({refusal})", refusal.code());
            refused(&refusal)
        }
        Ok(Err(e)) => internal(&e.to_string()),
        Err(e) => internal(&e.to_string()),
    }
}

/// Checks a request and records it, unless its reference was requested or issued before.
fn accept(
    connector: &Connector,
    body: &Bytes,
) -> Result<std::result::Result<String, RequestRefusal>> {
    let trust = connector.trust.clone().at_time(crate::wallet::now_ms());
    let settings = &connector.settings;
    let request = match issuance::check_request(body, &trust, &settings.platform, &settings.carrier)
    {
        Ok(request) => request,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let already = || RequestRefusal::AlreadyRequested {
        reference: request.reference.clone(),
    };
    if connector.issued(&request.reference)?.is_some() {
        return Ok(Err(already()));
    }
    let record = Record {
        request: request.clone(),
        received_ms: crate::wallet::now_ms(),
        submitted: false,
        answer: None,
        delivered: false,
    };
    if !connector.records.create(&record)? {
        return Ok(Err(already()));
    }
    Ok(Ok(request.reference))
}

impl Connector {
    fn wallet(&self) -> Wallet {
        let wallet = Wallet::new(&self.home, &self.node, Passphrase::Prompt);
        wallet.node.set_reader(&self.key);
        wallet
    }

    /// The carrier's bill with `reference` on the ledger, if there is one.
    fn issued(&self, reference: &str) -> Result<Option<ebl_core::BillId>> {
        let carrier = &self.settings.carrier.code;
        let bills = self.wallet().node.visible_bills()?;
        Ok(bills
            .iter()
            .find(|b| b.reference == reference && b.carrier_code == *carrier)
            .map(|b| b.id))
    }
}

/// The worker: decides every recorded request not yet answered and delivers every answer not yet
/// acknowledged, oldest first; waits for a new request, or to try again after a failure.
fn work(connector: &Connector, woken: &mpsc::Receiver<()>) {
    let mut delay = connector.settings.retry;
    loop {
        let all_done = match connector.records.all() {
            Ok(records) => {
                // Every record is advanced, whether or not one before it could be: no short circuit.
                let mut done = true;
                for record in records.into_iter().filter(|r| !r.delivered) {
                    done &= advance(connector, record);
                }
                done
            }
            Err(e) => {
                say!("issuance records: {e}");
                false
            }
        };
        let wait = if all_done {
            delay = connector.settings.retry;
            None
        } else {
            let this = delay;
            delay = (delay * 2).min(RETRY_DELAY_MAX);
            Some(this)
        };
        let got = match wait {
            None => woken
                .recv()
                .map_err(|_| mpsc::RecvTimeoutError::Disconnected),
            Some(wait) => woken.recv_timeout(wait),
        };
        if got == Err(mpsc::RecvTimeoutError::Disconnected) {
            return;
        }
    }
}

/// Takes one record as far as it goes now; whether it is done.
fn advance(connector: &Connector, mut record: Record) -> bool {
    let reference = record.request.reference.clone();
    if record.answer.is_none() {
        if !record.submitted {
            record.submitted = true;
            if let Err(e) = connector.records.update(&record) {
                say!("issuance request {reference}: {e}");
                return false;
            }
        }
        match decide(connector, &record.request) {
            Ok(answer) => {
                say!(
                    "issuance request {reference}: {}",
                    serde_json::to_string(&answer.verdict).unwrap_or_default()
                );
                record.answer = Some(answer);
                if let Err(e) = connector.records.update(&record) {
                    say!("issuance request {reference}: {e}");
                    return false;
                }
            }
            Err(e) => {
                say!("issuance request {reference}: the ledger could not be reached, trying again: {e}");
                return false;
            }
        }
    }
    let Some(answer) = &record.answer else {
        return false;
    };
    match deliver(&connector.settings.answers_to, answer) {
        Ok(()) => {
            record.delivered = true;
            if let Err(e) = connector.records.update(&record) {
                say!("issuance request {reference}: {e}");
                return false;
            }
            say!("issuance request {reference}: answer delivered");
            true
        }
        Err(e) => {
            say!("issuance request {reference}: the carrier's system did not take the answer, trying again: {e}");
            false
        }
    }
}

/// The platform's verdict on a request: issued on the ledger with the carrier's key, or why not. An
/// error is a failure to reach the ledger, to be tried again; everything the ledger or the request
/// decides is an answer.
fn decide(connector: &Connector, request: &IssuanceRequest) -> Result<Answer> {
    let answer = |verdict, reasons: Vec<(&str, String)>| Answer {
        reference: request.reference.clone(),
        verdict,
        reasons: reasons
            .into_iter()
            .map(|(code, words)| Reason {
                code: code.to_owned(),
                words,
            })
            .collect(),
    };
    // After a crash between submitting and recording the answer, the bill is on the ledger: ours.
    if connector.issued(&request.reference)?.is_some() {
        return Ok(answer(Verdict::Issued, Vec::new()));
    }
    let settings = &connector.settings;
    let platform = request
        .issue_to
        .get("sendToPlatform")
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    if platform != settings.platform {
        return Ok(answer(
            Verdict::Refused,
            vec![(
                "other_platform",
                format!(
                    "issueTo is on platform {platform:?}; this connector issues on platform {} only (issue to a party here, then send the bill on over PINT)",
                    settings.platform
                ),
            )],
        ));
    }
    let document = match issuance::ledger_document(request) {
        Ok(document) => document,
        Err(e) => return Ok(answer(Verdict::BadRequest, vec![(e.code(), e.to_string())])),
    };
    let wallet = connector.wallet();
    let parties = wallet.node.parties()?;
    let Some(issue_to) = ebl_pint::named_party(&parties, platform, &request.issue_to) else {
        return Ok(answer(
            Verdict::BadRequest,
            vec![(
                "unknown_party",
                "issueTo names no party registered on this ledger by its identifying codes"
                    .to_owned(),
            )],
        ));
    };
    let by_codes = |codes: &[ebl_core::Identifier]| {
        parties
            .iter()
            .filter(|p| !p.revoked)
            .find(|p| {
                codes.iter().any(|c| {
                    p.profile
                        .identifiers
                        .iter()
                        .any(|i| i.scheme.eq_ignore_ascii_case(&c.scheme) && i.value == c.value)
                })
            })
            .map(|p| p.id)
    };
    let facts = document.facts();
    let shipper = by_codes(&facts.shipper_codes).unwrap_or(issue_to);
    let consignee = by_codes(&facts.consignee_codes);
    let replaces = match replaced_bills(&wallet, &settings.carrier, request)? {
        Ok(replaces) => replaces,
        Err(reason) => {
            return Ok(answer(
                Verdict::BadRequest,
                vec![("unknown_replaced_bill", reason)],
            ))
        }
    };
    let action = Action::Issue {
        document,
        issue_to,
        shipper,
        consignee,
        replaces,
    };
    match wallet.act(&connector.key, action) {
        Ok(_) => Ok(answer(Verdict::Issued, Vec::new())),
        Err(e) if e.kind() == Kind::Rejected || e.kind() == Kind::Usage => Ok(answer(
            Verdict::BadRequest,
            vec![(e.code().as_ref(), e.message())],
        )),
        Err(e) => Err(e),
    }
}

/// The bills a replacement request names, as a ledger `Replacement`; `Ok(Err(reason))` when one is not
/// the carrier's bill here.
fn replaced_bills(
    wallet: &Wallet,
    carrier: &Carrier,
    request: &IssuanceRequest,
) -> Result<std::result::Result<Option<Replacement>, String>> {
    if request.replaces.is_empty() {
        return Ok(Ok(None));
    }
    let bills = wallet.node.visible_bills()?;
    let mut ids = Vec::new();
    for reference in &request.replaces {
        match bills
            .iter()
            .find(|b| b.reference == *reference && b.carrier_code == carrier.code)
        {
            Some(bill) => ids.push(bill.id),
            None => {
                return Ok(Err(format!(
                    "oldTransportDocumentReferences names {reference}, no bill of carrier {carrier} on this ledger"
                )))
            }
        }
    }
    Ok(Ok(Some(Replacement {
        bills: ids,
        count: u16::try_from(request.replaced_by).unwrap_or(u16::MAX),
    })))
}

/// Sends `answer` to the carrier's system; it is delivered when acknowledged (2xx), or when the system
/// says it has it already (409).
fn deliver(answers_to: &str, answer: &Answer) -> std::result::Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(ANSWER_TIMEOUT))
        .build()
        .into();
    let body = serde_json::to_vec(&answer.body()).map_err(|e| e.to_string())?;
    let response = agent
        .post(&format!(
            "{}{ISSUANCE_RESPONSES}",
            answers_to.trim_end_matches('/')
        ))
        .header("content-type", "application/json")
        .header("api-version", API_VERSION)
        .send(&body[..])
        .map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) || status == 409 {
        Ok(())
    } else {
        Err(format!("answered {status}"))
    }
}

fn with_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("api-version", HeaderValue::from_static(API_VERSION));
    response
}

fn refused(refusal: &RequestRefusal) -> Response {
    let now = ebl_pint::date_time(crate::wallet::now_ms());
    let status = StatusCode::from_u16(refusal.status()).unwrap_or(StatusCode::BAD_REQUEST);
    with_version((status, axum::Json(refusal.body(ISSUANCE_REQUESTS, &now))).into_response())
}

fn internal(message: &str) -> Response {
    let now = ebl_pint::date_time(crate::wallet::now_ms());
    with_version(
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(serde_json::json!({
                "httpMethod": "PUT",
                "requestUri": ISSUANCE_REQUESTS,
                "statusCode": 500,
                "statusCodeText": "Internal Server Error",
                "errorDateTime": now,
                "errors": [{"errorCode": 7999, "errorCodeText": "internal", "errorCodeMessage": message}],
            })),
        )
            .into_response(),
    )
}
