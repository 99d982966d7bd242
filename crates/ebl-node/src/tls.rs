//! The node's TLS: its certificate and key from PEM files, a development certificate made by
//! `ebl-node init --tls-self-signed`, the certificates it trusts when it calls other members' nodes,
//! and the rule that plain HTTP is for loopback only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// Largest certificate, key or trusted-certificates file read (a chain of a few certificates is a
/// few kilobytes).
pub const TLS_FILE_BYTES_MAX: u64 = 1024 * 1024;
/// How long a development certificate is valid.
pub const SELF_SIGNED_VALID_DAYS: i64 = 365;

/// Why the node will not serve (or call) with the TLS it was given.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A certificate or key file that could not be read.
    #[error("reading {path}: {reason}")]
    Unreadable {
        /// Which.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A certificate or key file that could not be written.
    #[error("writing {path}: {reason}")]
    Unwritable {
        /// Which.
        path: PathBuf,
        /// The operating system's reason.
        reason: String,
    },
    /// A file over `TLS_FILE_BYTES_MAX`, not read.
    #[error("{path} is {len} bytes, more than a TLS file may be ({TLS_FILE_BYTES_MAX})")]
    TooLarge {
        /// Which.
        path: PathBuf,
        /// Its size.
        len: u64,
    },
    /// A certificate file without a certificate.
    #[error("{path} holds no PEM certificate")]
    NoCertificate {
        /// Which.
        path: PathBuf,
    },
    /// A key file without a private key.
    #[error("{path} holds no PEM private key")]
    NoKey {
        /// Which.
        path: PathBuf,
    },
    /// rustls will not serve with this certificate and key (rustls's reason).
    #[error("the certificate and key cannot serve TLS: {0}")]
    Unusable(String),
    /// Plain HTTP on an address off loopback, not asked for.
    #[error("plain HTTP on {0}, which is not a loopback address: serve TLS (--tls-cert and --tls-key, or `ebl-node init --tls-self-signed`), or pass --insecure-plain-http to accept that everything crosses the network readable")]
    PlainOffLoopback(SocketAddr),
    /// The development certificate could not be made (rcgen's reason).
    #[error("making a development certificate: {0}")]
    SelfSigned(String),
    /// A certificate or key that is already there is never replaced.
    #[error("{0} exists: refusing to replace a certificate or key")]
    Exists(PathBuf),
}

impl TlsError {
    /// The stable code the operator's tools match.
    pub fn code(&self) -> &'static str {
        match self {
            TlsError::Unreadable { .. } => "tls_file_unreadable",
            TlsError::Unwritable { .. } => "tls_file_unwritable",
            TlsError::TooLarge { .. } => "tls_file_too_large",
            TlsError::NoCertificate { .. } => "tls_no_certificate",
            TlsError::NoKey { .. } => "tls_no_key",
            TlsError::Unusable(_) => "tls_unusable",
            TlsError::PlainOffLoopback(_) => "plain_http_off_loopback",
            TlsError::SelfSigned(_) => "tls_self_signed_failed",
            TlsError::Exists(_) => "tls_file_exists",
        }
    }
}

fn read_bounded(path: &Path) -> Result<Vec<u8>, TlsError> {
    let unreadable = |e: std::io::Error| TlsError::Unreadable {
        path: path.to_owned(),
        reason: e.to_string(),
    };
    let len = std::fs::metadata(path).map_err(unreadable)?.len();
    if len > TLS_FILE_BYTES_MAX {
        return Err(TlsError::TooLarge {
            path: path.to_owned(),
            len,
        });
    }
    std::fs::read(path).map_err(unreadable)
}

/// Every certificate in a PEM file, in order (a leaf and its chain, or a set of trusted ones).
pub fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let text = read_bounded(path)?;
    let certs = CertificateDer::pem_slice_iter(&text)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::Unreadable {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The server side of TLS from a PEM certificate chain and its PEM private key.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = read_certificates(cert)?;
    let key_text = read_bounded(key)?;
    let key = PrivateKeyDer::from_pem_slice(&key_text).map_err(|_| TlsError::NoKey {
        path: key.to_owned(),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Unusable(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Unusable(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Plain HTTP is allowed where nobody else is on the wire: a loopback address. Anywhere else only when
/// the operator said so, out loud.
pub fn check_plain(listen: SocketAddr, insecure_plain_http: bool) -> Result<(), TlsError> {
    if listen.ip().is_loopback() {
        return Ok(());
    }
    if insecure_plain_http {
        tracing::warn!(%listen, "serving plain HTTP off loopback (--insecure-plain-http): requests, answers and documents cross the network readable");
        return Ok(());
    }
    Err(TlsError::PlainOffLoopback(listen))
}

/// The names a development certificate is made for when none are given: this machine by every local
/// name.
pub fn default_names() -> Vec<String> {
    vec!["localhost".into(), "127.0.0.1".into(), "::1".into()]
}

/// Writes a self-signed certificate for `names` (host names or IP addresses) and its key, both PEM,
/// the key readable by the owner only. Refuses to replace either.
///
/// With `node`, the certificate names the node key (`member_certificates::node_name`), so that peers
/// trust it for that member's node alone.
pub fn write_self_signed(
    cert: &Path,
    key: &Path,
    names: &[String],
    node: Option<&ebl_core::PartyKey>,
) -> Result<(), TlsError> {
    for path in [cert, key] {
        if path.exists() {
            return Err(TlsError::Exists(path.to_owned()));
        }
    }
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    let today = days_since_epoch();
    let (y, m, d) = ymd(today);
    params.not_before = rcgen::date_time_ymd(y, m, d);
    let (y, m, d) = ymd(today + SELF_SIGNED_VALID_DAYS);
    params.not_after = rcgen::date_time_ymd(y, m, d);
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "ebl-node development certificate",
    );
    if let Some(node) = node {
        let name = rcgen::string::Ia5String::try_from(crate::member_certificates::node_name(node))
            .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
        params.subject_alt_names.push(rcgen::SanType::URI(name));
    }
    let signing = rcgen::KeyPair::generate().map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    let certificate = params
        .self_signed(&signing)
        .map_err(|e| TlsError::SelfSigned(e.to_string()))?;
    if let Some(dir) = cert.parent() {
        std::fs::create_dir_all(dir).map_err(|e| TlsError::Unwritable {
            path: dir.to_owned(),
            reason: e.to_string(),
        })?;
    }
    write_private(key, signing.serialize_pem().as_bytes())?;
    write_private(cert, certificate.pem().as_bytes())
}

fn days_since_epoch() -> i64 {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    i64::try_from(secs / 86_400).unwrap_or(0)
}

/// The calendar date `days` after 1970-01-01 (Howard Hinnant's civil-from-days), as rcgen takes it.
fn ymd(days: i64) -> (i32, u8, u8) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (
        i32::try_from(year).unwrap_or(i32::MAX),
        u8::try_from(month).unwrap_or(1),
        u8::try_from(day).unwrap_or(1),
    )
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<(), TlsError> {
    crate::private::write_new(path, bytes).map_err(|e| TlsError::Unwritable {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

/// How this node calls the other members' nodes: over TLS, trusting the certificates in
/// `tls/peers.pem` (and nothing else), when that file exists; plain HTTP otherwise.
///
/// The file is read again when it changes, so that a member joining needs no restart of the others
/// (issue 35: they read it only at start, and refused the new node's certificate, `BadSignature`,
/// until restarted). Every call looks at the file's modification time and size (a `stat`, beside an
/// HTTP request); a file that no longer reads as certificates leaves those trusted before in place,
/// said once in the log, and a file removed changes nothing (trust is never dropped to plain HTTP).
#[derive(Debug, Clone, Default)]
pub struct PeerTls {
    /// `tls/peers.pem`; none: plain HTTP for good (tools and tests).
    path: Option<PathBuf>,
    trusted: Arc<std::sync::RwLock<Trusted>>,
    /// One agent per member node called, so that its connections stay open between calls: Raft's
    /// messages, the calls that keep them warm, and the writes forwarded to the leader all go through
    /// it (a new connection costs a round trip or two more: at 250 ms, half a second of a failover,
    /// issue 35). It trusts that member's certificates (`member_certificates`); made again, with the
    /// generation of the certificates it trusts, when `tls/peers.pem` changes.
    members: Arc<std::sync::Mutex<MemberAgents>>,
}

/// Each member node's agent, with the generation of the certificates it was made for.
type MemberAgents = std::collections::HashMap<ebl_core::PartyKey, (u64, ureq::Agent)>;

/// The certificates trusted now, and what the file was when they were read.
#[derive(Debug, Default)]
struct Trusted {
    /// The file's modification time and size when last read (or last found unreadable).
    seen: Option<(std::time::SystemTime, u64)>,
    roots: Option<Arc<Vec<ureq::tls::Certificate<'static>>>>,
    /// The same certificates, each with the member node it names, if any (`member_certificates`).
    named: Arc<Vec<(Option<ebl_core::PartyKey>, ureq::tls::Certificate<'static>)>>,
    /// How many times the roots changed: an agent made for an earlier one is made again.
    generation: u64,
}

fn roots_of(certs: &[CertificateDer<'static>]) -> Arc<Vec<ureq::tls::Certificate<'static>>> {
    Arc::new(
        certs
            .iter()
            .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
            .collect(),
    )
}

#[allow(clippy::type_complexity, reason = "one list, read in one place")]
fn named_of(
    certs: &[CertificateDer<'static>],
) -> Arc<Vec<(Option<ebl_core::PartyKey>, ureq::tls::Certificate<'static>)>> {
    Arc::new(
        certs
            .iter()
            .map(|der| {
                (
                    crate::member_certificates::named_node(der),
                    ureq::tls::Certificate::from_der(der.as_ref()).to_owned(),
                )
            })
            .collect(),
    )
}

impl PeerTls {
    /// TLS to peers if `path` exists (its certificates must read), plain HTTP until it does.
    pub fn load(path: &Path) -> Result<PeerTls, TlsError> {
        let tls = PeerTls {
            path: Some(path.to_owned()),
            ..PeerTls::default()
        };
        if let Ok(meta) = std::fs::metadata(path) {
            let certs = read_certificates(path)?;
            let mut trusted = tls.write();
            trusted.seen = meta.modified().ok().map(|t| (t, meta.len()));
            trusted.roots = Some(roots_of(&certs));
            trusted.named = named_of(&certs);
        }
        Ok(tls)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Trusted> {
        self.trusted
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The trusted certificates now, with their generation: the file read again if it changed.
    fn current(&self) -> (u64, Option<Arc<Vec<ureq::tls::Certificate<'static>>>>) {
        self.reread();
        let trusted = self
            .trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        (trusted.generation, trusted.roots.clone())
    }

    /// Reads `tls/peers.pem` again if its modification time or size changed since it was last read.
    fn reread(&self) {
        let Some(path) = &self.path else { return };
        let Ok(meta) = std::fs::metadata(path) else {
            return;
        };
        let Some(stamp) = meta.modified().ok().map(|t| (t, meta.len())) else {
            return;
        };
        let unchanged = |t: &Trusted| t.seen == Some(stamp);
        if unchanged(
            &self
                .trusted
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        ) {
            return;
        }
        let mut trusted = self.write();
        if unchanged(&trusted) {
            return;
        }
        trusted.seen = Some(stamp);
        match read_certificates(path) {
            Ok(certs) => {
                trusted.roots = Some(roots_of(&certs));
                trusted.named = named_of(&certs);
                trusted.generation += 1;
                tracing::info!(path = %path.display(), certificates = certs.len(), "peer certificates read again");
            }
            Err(e) => tracing::warn!(
                path = %path.display(),
                code = e.code(),
                error = %e,
                "the peer certificates file does not read: the certificates trusted before stay"
            ),
        }
    }

    /// The URL of `path` on the peer at `address` (`host:port`).
    pub fn url(&self, address: &str, path: &str) -> String {
        let scheme = if self.current().1.is_some() {
            "https"
        } else {
            "http"
        };
        format!("{scheme}://{address}{path}")
    }

    /// The agent for calls to `member`'s node (Raft's messages, writes forwarded to it as the leader),
    /// kept while the trusted certificates stay, with `connect` as its connect timeout the first
    /// time (no overall timeout: each request sets its own).
    pub fn member_agent(&self, member: &ebl_core::PartyKey, connect: Duration) -> ureq::Agent {
        let generation = self.generation();
        let mut agents = self
            .members
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match agents.get(member) {
            Some((made_for, agent)) if *made_for == generation => agent.clone(),
            _ => {
                let made = self.agent_for(member, connect);
                let agent = made.1.clone();
                agents.insert(*member, made);
                agent
            }
        }
    }

    /// An HTTP agent for peers: status codes as answers, and the peers' certificates as its only roots.
    pub fn agent(&self, connect: Duration, whole: Option<Duration>) -> ureq::Agent {
        self.agent_now(connect, whole).1
    }

    /// [`PeerTls::agent`], with the generation of the certificates it trusts: an agent kept for many
    /// requests is made again when [`PeerTls::generation`] moves on.
    pub fn agent_now(&self, connect: Duration, whole: Option<Duration>) -> (u64, ureq::Agent) {
        let (generation, roots) = self.current();
        (generation, Self::agent_of(roots, connect, whole))
    }

    /// An agent for calls to `member`'s node: of the peer certificates, it trusts that member's and
    /// those naming no node (`member_certificates::trusted_for`), with their generation.
    pub fn agent_for(&self, member: &ebl_core::PartyKey, connect: Duration) -> (u64, ureq::Agent) {
        let (generation, roots) = self.current();
        let roots = roots.map(|_| {
            let named = self
                .trusted
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .named
                .clone();
            Arc::new(
                crate::member_certificates::trusted_for(&named, member)
                    .into_iter()
                    .cloned()
                    .collect(),
            )
        });
        (generation, Self::agent_of(roots, connect, None))
    }

    /// Whether some peer certificate names `member`'s node: a call to it then trusts only its own.
    pub fn binds(&self, member: &ebl_core::PartyKey) -> bool {
        self.reread();
        self.trusted
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .named
            .iter()
            .any(|(named, _)| named.as_ref() == Some(member))
    }

    fn agent_of(
        roots: Option<Arc<Vec<ureq::tls::Certificate<'static>>>>,
        connect: Duration,
        whole: Option<Duration>,
    ) -> ureq::Agent {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // A redirect is an answer, never an address to call next (finding 9 of the attack review:
            // a 302 made the node fetch any address on every retry).
            .max_redirects(0)
            .timeout_connect(Some(connect))
            .timeout_global(whole);
        if let Some(roots) = roots {
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::Specific(roots))
                    .build(),
            );
        }
        config.build().into()
    }

    /// The generation of the certificates trusted now (the file read again if it changed).
    pub fn generation(&self) -> u64 {
        self.current().0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 35: the other members read `peers.pem` only at start, so a member's node that joined was
    /// refused (`BadSignature`) until every other node restarted. It is read again when it changes; a
    /// file that does not read, or is gone, leaves the certificates trusted before.
    #[test]
    fn regression_peer_certificates_are_read_again_when_the_file_changes() {
        let dir = tempfile::tempdir().expect("dir");
        let cert = |name: &str| {
            let (c, k) = (
                dir.path().join(format!("{name}.pem")),
                dir.path().join(format!("{name}.key")),
            );
            write_self_signed(&c, &k, &default_names(), None).expect("certificate");
            std::fs::read(&c).expect("read")
        };
        let (a, b) = (cert("a"), cert("b"));
        let peers = dir.path().join("peers.pem");
        std::fs::write(&peers, &a).expect("write");
        let tls = PeerTls::load(&peers).expect("load");
        let trusted = |tls: &PeerTls| {
            let (generation, roots) = tls.current();
            (generation, roots.map(|r| r.len()))
        };
        assert_eq!(trusted(&tls), (0, Some(1)));
        assert!(tls.url("127.0.0.1:1", "/x").starts_with("https://"));
        // A member joins: its certificate is added, and trusted from the next request on.
        std::fs::write(&peers, [a.clone(), b].concat()).expect("write");
        assert_eq!(trusted(&tls), (1, Some(2)));
        assert_eq!(trusted(&tls), (1, Some(2)), "read once per change");
        // Bad input changes nothing: a file cut short keeps the two trusted.
        std::fs::write(&peers, &a[..a.len() / 2]).expect("write");
        assert_eq!(trusted(&tls), (1, Some(2)));
        std::fs::remove_file(&peers).expect("remove");
        assert_eq!(trusted(&tls), (1, Some(2)));
        assert!(tls.url("127.0.0.1:1", "/x").starts_with("https://"));
        // A file that reads again is taken.
        std::fs::write(&peers, &a).expect("write");
        assert_eq!(trusted(&tls), (2, Some(1)));
    }

    #[test]
    fn a_development_certificate_serves_and_is_not_replaced() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = dir.path().join("tls/cert.pem");
        let key = dir.path().join("tls/key.pem");
        write_self_signed(&cert, &key, &default_names(), None).expect("self-signed");
        server_config(&cert, &key).expect("serves");
        let again = write_self_signed(&cert, &key, &default_names(), None).expect_err("exists");
        assert_eq!(again.code(), "tls_file_exists");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key).expect("key").permissions().mode() & 0o777;
            assert_eq!(mode, 0o600);
        }
    }

    #[test]
    fn dates_are_the_calendar_dates() {
        assert_eq!(ymd(0), (1970, 1, 1));
        // 2024-02-29, a leap day, is day 19 782.
        assert_eq!(ymd(19_782), (2024, 2, 29));
        assert_eq!(ymd(19_783), (2024, 3, 1));
    }

    #[test]
    fn a_key_file_that_holds_no_key_is_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let cert = dir.path().join("cert.pem");
        let key = dir.path().join("key.pem");
        write_self_signed(&cert, &key, &default_names(), None).expect("self-signed");
        let wrong = server_config(&cert, &cert).expect_err("a certificate is no key");
        assert_eq!(wrong.code(), "tls_no_key");
        let none = server_config(&key, &key).expect_err("a key is no certificate");
        assert_eq!(none.code(), "tls_no_certificate");
    }

    #[test]
    fn tls_file_bytes_max_is_enforced_at_its_bound() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = dir.path().join("big.pem");
        std::fs::write(
            &big,
            vec![b'\n'; usize::try_from(TLS_FILE_BYTES_MAX).expect("fits") + 1],
        )
        .expect("write");
        assert_eq!(
            read_certificates(&big).expect_err("too large").code(),
            "tls_file_too_large"
        );
        let most = dir.path().join("most.pem");
        std::fs::write(
            &most,
            vec![b'\n'; usize::try_from(TLS_FILE_BYTES_MAX).expect("fits")],
        )
        .expect("write");
        assert_eq!(
            read_certificates(&most).expect_err("empty").code(),
            "tls_no_certificate"
        );
    }

    #[test]
    fn regression_plain_http_off_loopback_is_refused_unless_asked() {
        let loopback: SocketAddr = "127.0.0.1:7878".parse().expect("addr");
        let wide: SocketAddr = "0.0.0.0:7878".parse().expect("addr");
        assert!(check_plain(loopback, false).is_ok());
        assert_eq!(
            check_plain(wide, false).expect_err("refused").code(),
            "plain_http_off_loopback"
        );
        assert!(check_plain(wide, true).is_ok());
    }
}
