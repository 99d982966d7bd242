//! `ebl carrier serve`: the carrier's connector. It serves DCSA's eBL Issuance and Surrender APIs 3.0
//! (platform side) to the carrier's documentation system and signs on the ledger with the carrier's own
//! key, held in this wallet: no member node signs as a carrier. The carrier's system authenticates each
//! issuance request by the manifest it signs (a key of the carrier's in the connector's trust directory),
//! and each surrender answer by a token it shares with the connector; the connector listens on loopback,
//! beside that system. What it sends the system (issuance answers, surrender requests) is retried until
//! acknowledged, and survives a restart (`records`).

pub mod issuance;
mod issuing;
pub mod records;
pub mod surrender;
mod surrendering;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{post as post_route, put};
use axum::Router;
use ebl_core::{Hash, SigningKey};
use ebl_pint::TrustStore;

use crate::error::{CliError, Result};
use crate::wallet::{Passphrase, Wallet};
use issuance::{Carrier, RequestRefusal};
use records::{Record, Records};
use surrender::SurrenderRequest;

/// The path DCSA gives the issuance request.
const ISSUANCE_REQUESTS: &str = "/v3/ebl-issuance-requests";
/// The path DCSA gives the carrier's answer endpoint.
const ISSUANCE_RESPONSES: &str = "/v3/ebl-issuance-responses";
/// The carrier system's endpoint for surrender requests.
const SURRENDER_REQUESTS: &str = "/v3/ebl-surrender-requests";
/// The platform's endpoint for the carrier system's surrender answers.
const SURRENDER_RESPONSES: &str = "/v3/ebl-surrender-responses";
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
    /// Where the carrier's system takes answers and surrender requests (the base of
    /// `/v3/ebl-issuance-responses` and `/v3/ebl-surrender-requests`).
    pub answers_to: String,
    /// The token the carrier's system shows (`Authorization: Bearer`) with its surrender answers; without
    /// one, surrender answers are refused and surrenders are answered with `ebl bill accept-surrender`.
    pub system_token: Option<String>,
    /// The first wait before trying again; it doubles up to `RETRY_DELAY_MAX`.
    pub retry: Duration,
    /// How often the ledger is read for surrenders of the carrier's bills.
    pub poll: Duration,
    /// Whether a switch to paper accepted by the system is noted as the paper bill with the electronic
    /// bill's reference, issued on the day of acceptance (else such an acceptance is refused).
    pub paper_bill_is_reference: bool,
}

/// The connector's state, shared by the HTTP handlers.
struct Connector {
    home: PathBuf,
    node: String,
    key: SigningKey,
    settings: Settings,
    trust: TrustStore,
    records: Records<Record>,
    surrenders: Records<SurrenderRequest>,
    /// Held across each read-change-write of a surrender record: the worker marks a request delivered
    /// while a handler records the system's answer to it, and neither may write over the other.
    surrender_writes: std::sync::Mutex<()>,
    /// The hash of the carrier system's token (compared as hashes: no timing of the token itself).
    token: Option<Hash>,
    wake: std::sync::Mutex<mpsc::Sender<()>>,
}

/// The connector's records directory in the wallet at `home`.
pub fn records_dir(home: &Path) -> PathBuf {
    home.join("carrier")
}

/// Serves until Ctrl-C or SIGTERM, signing issuances with `key`; prints its address first.
pub fn serve(home: &Path, node: &str, key: SigningKey, settings: Settings) -> Result<()> {
    crate::ui::check_listen(&settings.listen)?;
    let trust = ebl_pint::trust_dir::read_trust_dir(&settings.trust_dir)
        .map_err(|e| CliError::io(&format!("reading {}", settings.trust_dir.display()), e))?;
    let records = Records::open(&records_dir(home).join("issuance"))?;
    let surrenders = Records::open(&records_dir(home).join("surrender"))?;
    let token = settings
        .system_token
        .as_ref()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .map(|t| Hash::of(t.as_bytes()));
    let (wake, woken) = mpsc::channel();
    let connector = Arc::new(Connector {
        home: home.to_owned(),
        node: node.to_owned(),
        key,
        settings,
        trust,
        records,
        surrenders,
        surrender_writes: std::sync::Mutex::new(()),
        token,
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
            "ebl carrier serve: DCSA eBL Issuance API at http://{address}{ISSUANCE_REQUESTS}, Surrender API answers at http://{address}{SURRENDER_RESPONSES}; carrier {} on platform {}; answers and surrender requests to {}",
            connector.settings.carrier,
            connector.settings.platform,
            connector.settings.answers_to
        );
        let app = Router::new()
            .route(ISSUANCE_REQUESTS, put(issuing::issuance_request))
            .route(SURRENDER_RESPONSES, post_route(surrendering::surrender_response))
            .layer(axum::extract::DefaultBodyLimit::disable())
            .with_state(connector);
        axum::serve(listener, app)
            .with_graceful_shutdown(crate::ui::shutdown())
            .await
            .map_err(|e| CliError::io("serving the connector", e))
    })
}

impl Connector {
    fn wallet(&self) -> Wallet {
        let wallet = Wallet::new(&self.home, &self.node, Passphrase::Prompt);
        wallet.node.set_reader(&self.key);
        wallet
    }

    /// The carrier's bill with `reference` on the ledger, if there is one.
    fn issued(&self, reference: &str) -> Result<Option<ebl_core::BillId>> {
        let carrier = &self.settings.carrier;
        let bills = self.wallet().node.visible_bills()?;
        Ok(bills
            .iter()
            .find(|b| b.reference == reference && carrier.names(&b.carrier_code))
            .map(|b| b.id))
    }
}

/// The worker: decides every recorded issuance request not yet answered and delivers every answer not yet
/// acknowledged, oldest first; finds the surrenders pending on the carrier's bills and tells the
/// carrier's system of each until it acknowledges; then waits for a new request, the next read of the
/// ledger, or the next try after a failure.
fn work(connector: &Connector, woken: &mpsc::Receiver<()>) {
    let mut delay = connector.settings.retry;
    loop {
        let issued = match connector.records.all() {
            Ok(records) => {
                // Every record is advanced, whether or not one before it could be: no short circuit.
                let mut done = true;
                for record in records.into_iter().filter(|r| !r.delivered) {
                    done &= issuing::advance(connector, record);
                }
                done
            }
            Err(e) => {
                say!("issuance records: {e}");
                false
            }
        };
        let told = surrendering::tell(connector);
        let wait = if issued && told {
            delay = connector.settings.retry;
            connector.settings.poll
        } else {
            let this = delay;
            delay = (delay * 2).min(RETRY_DELAY_MAX);
            this.min(connector.settings.poll)
        };
        if woken.recv_timeout(wait) == Err(mpsc::RecvTimeoutError::Disconnected) {
            return;
        }
    }
}

/// Why the carrier's system did not take what the connector sent (it is sent again).
#[derive(Debug, thiserror::Error)]
enum NotTaken {
    /// It could not be encoded.
    #[error("encoding it: {0}")]
    Encoding(#[from] serde_json::Error),
    /// The system could not be reached, or did not answer in `ANSWER_TIMEOUT`.
    #[error("{0}")]
    Transport(#[from] Box<ureq::Error>),
    /// It answered with another status than 2xx or 409.
    #[error("answered {0}")]
    Status(u16),
}

/// POSTs `body` to the carrier's system at `path`; it is delivered when acknowledged (2xx), or when the
/// system says it has it already (409).
fn post(
    answers_to: &str,
    path: &str,
    body: &serde_json::Value,
) -> std::result::Result<(), NotTaken> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(ANSWER_TIMEOUT))
        .build()
        .into();
    let body = serde_json::to_vec(body)?;
    let response = agent
        .post(&format!("{}{path}", answers_to.trim_end_matches('/')))
        .header("content-type", "application/json")
        .header("api-version", API_VERSION)
        .send(&body[..])
        .map_err(Box::new)?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) || status == 409 {
        Ok(())
    } else {
        Err(NotTaken::Status(status))
    }
}

fn with_version(mut response: Response) -> Response {
    response
        .headers_mut()
        .insert("api-version", HeaderValue::from_static(API_VERSION));
    response
}

fn refused(refusal: &RequestRefusal) -> Response {
    error_response(
        "PUT",
        ISSUANCE_REQUESTS,
        refusal.status(),
        refusal.number(),
        refusal.code(),
        &refusal.to_string(),
    )
}

fn internal(method: &str, uri: &str, message: &str) -> Response {
    error_response(method, uri, 500, 7999, "internal", message)
}

/// DCSA's `ErrorResponse`: the status, and one detailed error with our code (`errorCodeText`) and its
/// number (`errorCode`, 7000 to 9999).
fn error_response(
    method: &str,
    uri: &str,
    status: u16,
    number: u16,
    code: &str,
    message: &str,
) -> Response {
    let now = ebl_pint::date_time(crate::wallet::now_ms());
    let http = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = serde_json::json!({
        "httpMethod": method,
        "requestUri": uri,
        "statusCode": status,
        "statusCodeText": http.canonical_reason().unwrap_or("Error"),
        "statusCodeMessage": message.chars().take(200).collect::<String>(),
        "errorDateTime": now,
        "errors": [{"errorCode": number, "errorCodeText": code, "errorCodeMessage": message}],
    });
    with_version((http, axum::Json(body)).into_response())
}
