//! The operator's side of the admin requests (`admin`): `ebl-node verify` beside a running node asks
//! that node, signing with the node key it reads from the data directory, and follows the verify to its
//! verdict.

use std::path::Path;
use std::time::Duration;

use ebl_core::api::{sign_request, ErrorBody, Head, HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME};
use ebl_core::{PartyKey, SigningKey};

use crate::admin::{BackupOutcome, BackupState, Verdict, Verification, BACKUP_PATH, VERIFY_PATH};
use crate::api::now_ms;
use crate::tls::PeerTls;

/// How often the progress of a running verify is asked for.
pub const VERIFY_POLL_MS: u64 = 250;
/// How long one answer of the node may take (each is small: the work runs on the node's own thread).
pub const ANSWER_TIMEOUT_MS: u64 = 10_000;

/// Why the running node could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AskError {
    /// The node did not answer at this address.
    #[error("the node at {url} does not answer: {reason}")]
    Unreachable {
        /// The node's address.
        url: String,
        /// Why not (the connection's error).
        reason: String,
    },
    /// The node answered with a refusal (its stable code and words).
    #[error("the node at {url} refused: {message} [{code}]")]
    Refused {
        /// The node's address.
        url: String,
        /// The refusal's stable code (`not_this_node`, ...).
        code: String,
        /// Its words.
        message: String,
    },
    /// The node answered something that is not an answer to this request.
    #[error("the node at {url} answered something unreadable: {reason}")]
    BadAnswer {
        /// The node's address.
        url: String,
        /// What could not be read.
        reason: String,
    },
}

/// What `ebl-node status` shows of a running node.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NodeStatus {
    /// Its ledger head.
    pub head: Head,
    /// Its place in the cluster; none for a one-member chain's node.
    pub cluster: Option<ebl_consensus::cluster::View>,
}

/// A running node, asked by its operator.
#[derive(Debug)]
pub struct Operator {
    url: String,
    key: SigningKey,
    agent: ureq::Agent,
}

impl Operator {
    /// The node at `url` (`http://…` or `https://…`), trusting for TLS the certificates in `certs` (the
    /// node's own `tls/cert.pem`) and nothing else.
    pub fn new(url: &str, key: SigningKey, certs: &Path) -> Result<Operator, crate::tls::TlsError> {
        let tls = PeerTls::load(certs)?;
        Ok(Operator {
            url: url.trim_end_matches('/').to_owned(),
            key,
            agent: tls.agent(
                Duration::from_millis(ANSWER_TIMEOUT_MS),
                Some(Duration::from_millis(ANSWER_TIMEOUT_MS)),
            ),
        })
    }

    fn unreachable(&self, e: impl std::fmt::Display) -> AskError {
        AskError::Unreachable {
            url: self.url.clone(),
            reason: e.to_string(),
        }
    }

    fn bad(&self, e: impl std::fmt::Display) -> AskError {
        AskError::BadAnswer {
            url: self.url.clone(),
            reason: e.to_string(),
        }
    }

    /// Reads an answer: the body on success, the node's refusal otherwise.
    fn answer<T: serde::de::DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<T, AskError> {
        let mut response = response.map_err(|e| self.unreachable(e))?;
        let status = response.status();
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.unreachable(e))?;
        if !status.is_success() {
            #[derive(serde::Deserialize)]
            struct Refusal {
                error: ErrorBody,
            }
            let refusal: Refusal = serde_json::from_str(&body).map_err(|e| self.bad(e))?;
            return Err(AskError::Refused {
                url: self.url.clone(),
                code: refusal.error.code,
                message: refusal.error.message,
            });
        }
        serde_json::from_str(&body).map_err(|e| self.bad(e))
    }

    fn signed(&self, method: &str, path: &str, chain: &ebl_core::ChainId) -> [(String, String); 3] {
        let time = now_ms();
        let signature = sign_request(&self.key, chain, method, path, &[], time);
        [
            (HEADER_KEY.to_owned(), PartyKey::of(&self.key).to_string()),
            (HEADER_TIME.to_owned(), time.to_string()),
            (
                HEADER_SIGNATURE.to_owned(),
                ebl_core::bytes::to_hex(&signature.0),
            ),
        ]
    }

    /// The node's head and, for a consortium member, its place in the cluster (`None`: a one-member
    /// chain's node, which orders alone).
    pub fn status(&self) -> Result<NodeStatus, AskError> {
        let head: Head = self.answer(self.agent.get(format!("{}/v1/head", self.url)).call())?;
        let cluster = match self.answer(self.agent.get(format!("{}/v1/cluster", self.url)).call()) {
            Ok(view) => Some(view),
            Err(AskError::Refused { code, .. }) if code == "not_clustered" => None,
            Err(e) => return Err(e),
        };
        Ok(NodeStatus { head, cluster })
    }

    /// Asks the node to verify its store and waits for the verdict, calling `progress(done, total)`
    /// while it runs.
    pub fn verify(&self, mut progress: impl FnMut(u64, u64)) -> Result<Verdict, AskError> {
        let head: Head = self.answer(self.agent.get(format!("{}/v1/head", self.url)).call())?;
        let url = format!("{}{VERIFY_PATH}", self.url);
        let mut post = self.agent.post(&url);
        for (name, value) in self.signed("POST", VERIFY_PATH, &head.chain) {
            post = post.header(name, value);
        }
        let mut now: Verification = self.answer(post.send_empty())?;
        loop {
            match now {
                Verification::Finished { verdict, .. } => return Ok(verdict),
                Verification::Running { done, total, .. } => progress(done, total),
                Verification::Idle => return Err(self.bad("the node did not start the verify")),
            }
            std::thread::sleep(Duration::from_millis(VERIFY_POLL_MS));
            let mut get = self.agent.get(&url);
            for (name, value) in self.signed("GET", VERIFY_PATH, &head.chain) {
                get = get.header(name, value);
            }
            now = self.answer(get.call())?;
        }
    }

    /// Asks the node to write a backup of itself to `to` (an absolute path on the node's host) and
    /// waits until it is written or failed.
    pub fn backup(&self, to: &Path) -> Result<BackupOutcome, AskError> {
        let head: Head = self.answer(self.agent.get(format!("{}/v1/head", self.url)).call())?;
        let start = format!(
            "{BACKUP_PATH}?to={}",
            ebl_core::bytes::to_hex(to.to_string_lossy().as_bytes())
        );
        let mut post = self.agent.post(format!("{}{start}", self.url));
        for (name, value) in self.signed("POST", &start, &head.chain) {
            post = post.header(name, value);
        }
        let mut now: BackupState = self.answer(post.send_empty())?;
        loop {
            match now {
                BackupState::Finished { outcome, .. } => return Ok(outcome),
                BackupState::Running { .. } => {}
                BackupState::Idle => return Err(self.bad("the node did not start the backup")),
            }
            std::thread::sleep(Duration::from_millis(VERIFY_POLL_MS));
            let mut get = self.agent.get(format!("{}{BACKUP_PATH}", self.url));
            for (name, value) in self.signed("GET", BACKUP_PATH, &head.chain) {
                get = get.header(name, value);
            }
            now = self.answer(get.call())?;
        }
    }
}
