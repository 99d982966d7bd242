//! `ebl ui`: the wallet as a web app on 127.0.0.1, server-rendered from this binary. It reads with the
//! wallet's own keys (signed reads, as the CLI) and acts through the same `Wallet` functions the CLI
//! calls, asking the passphrase in the page for each action. Only the browser holding the session
//! token printed at start is served: a cookie set from it, `SameSite=Strict`, and a `Host` check
//! against DNS rebinding.

mod actions;
mod bill_view;
mod layout;
mod pages;
mod timeline;
mod verify;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use ebl_core::SigningKey;
use maud::Markup;

use crate::error::{CliError, Refusal, Result};
use crate::lang::Lang;
use crate::wallet::{Passphrase, Wallet};
use layout::Ctx;

/// The cookie that carries the session token.
const SESSION_COOKIE: &str = "ebl_ui_session";
/// The cookie that remembers the language the switch chose.
const LANG_COOKIE: &str = "ebl_ui_lang";
/// The largest form the app reads: a dropped file of `DROPPED_FILE_BYTES_MAX`, URL-encoded.
pub const FORM_BYTES_MAX: usize = 3 * verify::DROPPED_FILE_BYTES_MAX + 16 * 1024;

/// What `ebl ui` was started with.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The loopback address to serve on.
    pub listen: SocketAddr,
    /// A PINT trust directory, for verifying envelopes dropped on the app.
    pub pint_trust: Option<PathBuf>,
}

/// The app's state: the wallet it serves, the unlocked keys that sign its reads, the session token.
pub(crate) struct App {
    home: PathBuf,
    node: String,
    /// Keys unlocked at start, by name, for signed reads only; actions unlock their key anew.
    readers: Vec<(String, SigningKey)>,
    /// Which of `readers` signs the app's listing reads: the first the node answered, as the worklist
    /// last found (a key not registered yet, or rotated away, reads nothing and must not be the one).
    reader: std::sync::atomic::AtomicUsize,
    token: String,
    /// The `Host` values this server answers to.
    hosts: Vec<String>,
    pint_trust: Option<PathBuf>,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("home", &self.home)
            .field("node", &self.node)
            .field(
                "readers",
                &self.readers.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl App {
    /// A wallet for one request, whose listing reads are signed by the reader the node answers.
    fn wallet(&self) -> Wallet {
        self.wallet_with(Passphrase::Given(String::new()))
    }

    /// A wallet that unlocks keys with the passphrase typed for one action.
    fn acting_wallet(&self, passphrase: String) -> Wallet {
        self.wallet_with(Passphrase::Given(passphrase))
    }

    fn wallet_with(&self, passphrase: Passphrase) -> Wallet {
        let wallet = Wallet::new(&self.home, &self.node, passphrase);
        let at = self.reader.load(std::sync::atomic::Ordering::Relaxed);
        if let Some((_, key)) = self.readers.get(at).or(self.readers.first()) {
            wallet.node.set_reader(key);
        }
        wallet
    }
}

type Shared = Arc<App>;

/// Random hex for the session token.
fn session_token() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CliError::io("no randomness from the OS", e.to_string()))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Unlocks the keys that sign the app's reads: `names`, or every key of the wallet.
pub fn unlock_readers(wallet: &Wallet, names: &[String]) -> Result<Vec<(String, SigningKey)>> {
    let names = if names.is_empty() {
        wallet.keys.names()?
    } else {
        names.to_vec()
    };
    if names.is_empty() {
        return Err(crate::error::WalletRule::NoReader.into());
    }
    names
        .into_iter()
        .map(|name| wallet.signer(&name).map(|key| (name, key)))
        .collect()
}

/// The app signs with the wallet's keys: it listens on a loopback address only.
pub fn check_listen(listen: &SocketAddr) -> Result<()> {
    if listen.ip().is_loopback() {
        return Ok(());
    }
    Err(CliError::from(Refusal::NotLoopback {
        listen: listen.to_string(),
    }))
}

/// Serves the app until Ctrl-C or SIGTERM; prints its address (with the session token) first.
pub fn serve(
    home: &Path,
    node: &str,
    readers: Vec<(String, SigningKey)>,
    settings: Settings,
) -> Result<()> {
    check_listen(&settings.listen)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::io("starting the web app", e))?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(settings.listen)
            .await
            .map_err(|e| CliError::io(&format!("listening on {}", settings.listen), e))?;
        let address = listener
            .local_addr()
            .map_err(|e| CliError::io("the app's address", e))?;
        let port = address.port();
        let token = session_token()?;
        let app = Arc::new(App {
            home: home.to_owned(),
            node: node.to_owned(),
            readers,
            reader: std::sync::atomic::AtomicUsize::new(0),
            hosts: vec![
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ],
            token: token.clone(),
            pint_trust: settings.pint_trust,
        });
        // Written, not printed: a closed stdout must not stop the app.
        use std::io::Write as _;
        let mut stdout = std::io::stdout();
        let _ = writeln!(stdout, "ebl ui: open http://{address}/?token={token}");
        let _ = writeln!(stdout, "(only this address opens the app; Ctrl-C stops it)");
        let _ = stdout.flush();
        axum::serve(listener, router(app))
            .with_graceful_shutdown(shutdown())
            .await
            .map_err(|e| CliError::io("serving the web app", e))
    })
}

/// Ctrl-C or SIGTERM: how the app and the carrier's connector stop.
pub(crate) async fn shutdown() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => {
                    let _ = interrupt.await;
                    return;
                }
            };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

fn router(app: Shared) -> Router {
    Router::new()
        .route("/", get(pages::worklist))
        .route("/bill/{id}", get(pages::bill))
        .route("/bill/{id}/act", post(actions::act))
        .route("/bill/{id}/bundle", get(pages::bundle))
        .route("/verify", get(verify::show).post(verify::dropped))
        .route("/offer/accept", post(actions::accept_offer))
        .route("/block/{height}", get(pages::block))
        .route("/party/{who}", get(pages::party))
        .route("/lang", get(switch_language))
        .route("/style.css", get(stylesheet))
        .route("/app.js", get(script))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_BYTES_MAX))
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn query_value(uri: &Uri, name: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| v.to_owned())
    })
}

/// The form token of a session: derived from its token by a hash, so the page can carry it while the
/// session token stays in its `HttpOnly` cookie.
fn form_token(session: &str) -> String {
    ebl_core::Hash::of_parts(&[b"ebl-ui/form-token/v1\0", session.as_bytes()]).to_hex()
}

/// Headers on every answer: no other page may frame this app or load anything into it but its own
/// stylesheet and script, and nothing of it is sniffed or sent on as a referrer.
const SECURITY_HEADERS: [(&str, &str); 4] = [
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
         form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    // Not `no-referrer`: under it a browser sends `Origin: null` on the app's own form posts, and
    // the origin check below could not tell them from another page's.
    ("referrer-policy", "same-origin"),
];

fn secured(mut response: Response) -> Response {
    for (name, value) in SECURITY_HEADERS {
        response
            .headers_mut()
            .insert(name, HeaderValue::from_static(value));
    }
    response
}

/// Whether a request that changes something comes from this app's own pages: its `Origin` is one of
/// this server's, or (a browser that sends none, or `null`) its `Sec-Fetch-Site` says same-origin.
/// SameSite cookies treat every port of 127.0.0.1 as one site, so a page on another port would
/// otherwise pass.
fn same_origin(headers: &HeaderMap, hosts: &[String]) -> bool {
    let value = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match value(header::ORIGIN.as_str()) {
        Some(origin) if origin != "null" => hosts.iter().any(|h| origin == format!("http://{h}")),
        _ => value("sec-fetch-site") == Some("same-origin"),
    }
}

/// The `csrf` field of a URL-encoded form (hex, so nothing to decode).
fn form_field<'a>(body: &'a [u8], name: &str) -> Option<&'a str> {
    std::str::from_utf8(body).ok()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then_some(v)
    })
}

/// Compares two tokens in time independent of where they differ.
fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// Admits only requests for this server's host from the browser holding the session; a request that
/// changes something only from this app's own pages, with the session's form token (finding 13 of the
/// attack review: a page on another port of 127.0.0.1 auto-submitted a transfer). Every answer carries
/// the security headers.
async fn guard(State(app): State<Shared>, request: Request, next: Next) -> Response {
    secured(admit(app, request, next).await)
}

async fn admit(app: Shared, request: Request, next: Next) -> Response {
    let ctx = context(request.headers(), request.uri());
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if !app.hosts.iter().any(|h| h == host) {
        let refusal = Refusal::WrongHost {
            hosts: app.hosts.join(", "),
            host: host.to_string(),
        };
        return refused(&ctx, StatusCode::MISDIRECTED_REQUEST, refusal);
    }
    if let Some(given) = query_value(request.uri(), "token") {
        if same_token(&given, &app.token) {
            let mut response = Redirect::to("/").into_response();
            if let Ok(value) = HeaderValue::from_str(&format!(
                "{SESSION_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/",
                app.token
            )) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            return response;
        }
    }
    let admitted =
        cookie(request.headers(), SESSION_COOKIE).is_some_and(|t| same_token(t, &app.token));
    if !admitted {
        let refusal = Refusal::NoSession {
            said: ctx.t(crate::words::W::Forbidden).to_owned(),
        };
        return refused(&ctx, StatusCode::FORBIDDEN, refusal);
    }
    if request.method() == axum::http::Method::GET || request.method() == axum::http::Method::HEAD {
        return next.run(request).await;
    }
    if !same_origin(request.headers(), &app.hosts) {
        let refusal = Refusal::ForeignOrigin;
        return refused(&ctx, StatusCode::FORBIDDEN, refusal);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, FORM_BYTES_MAX).await else {
        let refusal = Refusal::FormTooLarge;
        return refused(&ctx, StatusCode::PAYLOAD_TOO_LARGE, refusal);
    };
    if !form_field(&bytes, "csrf").is_some_and(|t| same_token(t, &ctx.csrf)) {
        let refusal = Refusal::NoFormToken;
        return refused(&ctx, StatusCode::FORBIDDEN, refusal);
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The page context of a request: its language (the switch's cookie, else the browser's
/// `Accept-Language`) and whether the print view was asked for.
fn context(headers: &HeaderMap, uri: &Uri) -> Ctx {
    let lang = cookie(headers, LANG_COOKIE)
        .and_then(Lang::from_tag)
        .unwrap_or_else(|| {
            Lang::from_accept_language(
                headers
                    .get(header::ACCEPT_LANGUAGE)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or(""),
            )
        });
    Ctx {
        csrf: cookie(headers, SESSION_COOKIE).map_or_else(String::new, form_token),
        lang,
        path: uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
        print: query_value(uri, "print").is_some(),
    }
}

/// A rendered page as a response.
fn html(markup: Markup) -> Response {
    (
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        markup.into_string(),
    )
        .into_response()
}

/// An error as a page, with a status that says whose fault it was.
fn error_response(ctx: &Ctx, e: &CliError) -> Response {
    let status = match e.kind() {
        crate::error::Kind::Usage => StatusCode::BAD_REQUEST,
        crate::error::Kind::Unreachable => StatusCode::BAD_GATEWAY,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    (status, html(layout::error_page(ctx, e))).into_response()
}

/// A refusal of the request itself, as a page with the status that fits it.
fn refused(ctx: &Ctx, status: StatusCode, refusal: Refusal) -> Response {
    (
        status,
        html(layout::error_page(ctx, &CliError::from(refusal))),
    )
        .into_response()
}

/// Runs wallet code (blocking HTTP to the node, key unlocking) off the async workers.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(CliError::from(Refusal::Internal {
            source: crate::error::source(e),
        }))
    })
}

/// A path inside this app to return to: `/...`, never `//host` or a scheme.
fn local_path(back: &str) -> &str {
    if back.starts_with('/') && !back.starts_with("//") && !back.contains('\\') {
        back
    } else {
        "/"
    }
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let pair = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                match pair.and_then(|p| u8::from_str_radix(p, 16).ok()) {
                    Some(b) => {
                        out.push(b);
                        i += 3;
                    }
                    None => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn switch_language(uri: Uri) -> Response {
    let to = query_value(&uri, "to")
        .and_then(|t| Lang::from_tag(&t))
        .unwrap_or_default();
    let back = query_value(&uri, "back")
        .map(|b| percent_decode(&b))
        .unwrap_or_default();
    let mut response = Redirect::to(local_path(&back)).into_response();
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LANG_COOKIE}={}; SameSite=Strict; Path=/",
        to.code()
    )) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

async fn stylesheet() -> Response {
    (
        [(header::CONTENT_TYPE, "text/css; charset=utf-8")],
        Body::from(include_str!("style.css")),
    )
        .into_response()
}

async fn script() -> Response {
    (
        [(header::CONTENT_TYPE, "text/javascript; charset=utf-8")],
        Body::from(include_str!("app.js")),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_language_switch_returns_only_to_this_app() {
        assert_eq!(local_path("/bill/ab?x=1"), "/bill/ab?x=1");
        assert_eq!(local_path("//evil.example/"), "/");
        assert_eq!(local_path("https://evil.example/"), "/");
        assert_eq!(local_path("/\\evil.example"), "/");
        assert_eq!(
            percent_decode("%2Fbill%2Fab%3Fprint%3D1"),
            "/bill/ab?print=1"
        );
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn tokens_compare_whole() {
        assert!(same_token("abc", "abc"));
        assert!(!same_token("abc", "abd"));
        assert!(!same_token("abc", "ab"));
    }
}
