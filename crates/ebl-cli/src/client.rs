//! Talking to a node: JSON over HTTP, signed reads, and errors mapped to the wallet's kinds.

use ebl_core::refusal::{ReadRule, RequestRefusal};
use std::cell::OnceCell;
use std::time::Duration;

use ebl_core::api::{
    sign_request, ErrorBody, Head, HistoryEntry, SubmitOutcome, HEADER_KEY, HEADER_SIGNATURE,
    HEADER_TIME,
};
use ebl_core::{
    Bill, BillId, CertifiedStatement, Genesis, Hash, Party, PartyKey, SignedBlockHeader,
    SignedTransaction, SigningKey,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::error::{CliError, Refusal, Remote, Result};

/// How long to wait for a node to accept a connection, and for a whole answer.
pub const CONNECT_TIMEOUT_MS: u64 = 5_000;
/// How long the wallet waits for a node's answer, in milliseconds (a final receipt may wait for a quorum).
pub const ANSWER_TIMEOUT_MS: u64 = 60_000;

#[derive(Debug, Deserialize)]
struct ErrorEnvelope {
    error: ErrorBody,
}

/// A bill as the node shows it to one of its parties: its state and its document.
#[derive(Debug, Clone, Deserialize)]
pub struct BillView {
    /// The bill's state.
    pub bill: Bill,
    /// Its DCSA transport document.
    pub document: serde_json::Value,
}

/// The chain a node serves, with the genesis that names it.
#[derive(Debug, Clone, Deserialize)]
pub struct GenesisView {
    /// The chain id: the genesis's hash.
    pub chain: Hash,
    /// The genesis.
    pub genesis: Genesis,
}

/// A block's signed header, as the node serves it.
#[derive(Debug, Clone, Deserialize)]
pub struct BlockView {
    /// The header with its node signature.
    pub header: SignedBlockHeader,
    /// The member nodes' signatures over the header: a bank counts them against the threshold.
    pub certificate: ebl_core::Certificate,
}

/// The most node addresses one `--node` takes (a consortium's member nodes).
pub const NODE_ADDRESSES_MAX: usize = ebl_core::limits::MEMBERS_MAX;

/// The node addresses in `--node`: one, or several separated by commas (any member's node of one
/// chain; the wallet turns to the next when one does not answer).
pub fn node_addresses(text: &str) -> Vec<String> {
    text.split(',')
        .map(|a| a.trim().trim_end_matches('/').to_owned())
        .filter(|a| !a.is_empty())
        .collect()
}

/// Every node address must be an http(s) URL: `127.0.0.1:7878` alone is a usage error, not an
/// unreachable node. Plain `http://` is for a node on this machine (loopback) only, unless
/// `insecure_plain_http`: anywhere else signed reads and documents would cross the network readable.
pub fn check_node_address(text: &str, insecure_plain_http: bool) -> Result<()> {
    let addresses = node_addresses(text);
    let bad = || crate::error::WalletRule::BadNodeAddress {
        address: text.to_owned(),
    };
    if addresses.is_empty() || addresses.len() > NODE_ADDRESSES_MAX {
        return Err(bad().into());
    }
    for address in &addresses {
        let (plain, rest) = match address.strip_prefix("http://") {
            Some(rest) => (true, Some(rest)),
            None => (false, address.strip_prefix("https://")),
        };
        let Some(rest) = rest.filter(|host| !host.is_empty()) else {
            return Err(crate::error::WalletRule::BadNodeAddress {
                address: address.clone(),
            }
            .into());
        };
        if plain && !insecure_plain_http && !is_loopback_host(rest) {
            return Err(crate::error::WalletRule::PlainHttpOffLoopback {
                address: address.clone(),
            }
            .into());
        }
    }
    Ok(())
}

/// Whether the authority of a URL (`host[:port][/...]`) names this machine.
fn is_loopback_host(authority: &str) -> bool {
    let authority = authority.split('/').next().unwrap_or_default();
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(host, _)| host),
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A node that did not answer, or whose certificate the wallet does not trust.
fn unreachable_at(base: &str, e: ureq::Error) -> CliError {
    if let Some(tls) = tls_refusal(&e) {
        return CliError::from(Refusal::UntrustedNodeCertificate {
            node: base.to_owned(),
            why: tls,
        })
        .with_hint(
            "pin the node's certificate with --node-cert FILE (its tls/cert.pem), or check the address",
        );
    }
    CliError::from(Refusal::NodeUnreachable {
        node: base.to_owned(),
        source: crate::error::source(e),
    })
    .with_hint("start one with `ebl-node run`, or point --node / EBL_NODE at a running node")
}

/// The TLS refusal inside a transport error, when the node's certificate is what failed.
fn tls_refusal(e: &ureq::Error) -> Option<String> {
    let rustls = match e {
        ureq::Error::Rustls(e) => Some(e),
        ureq::Error::Io(io) => io.get_ref().and_then(|inner| inner.downcast_ref()),
        _ => None,
    };
    match rustls {
        Some(rustls::Error::InvalidCertificate(why)) => Some(format!("{why:?}")),
        _ => None,
    }
}

/// Which certificates the wallet accepts from a node over TLS.
#[derive(Debug, Clone, Default)]
pub enum NodeTrust {
    /// The host's root certificates (a node with a certificate from a public or company CA).
    #[default]
    System,
    /// Only these (`--node-cert FILE`: the node's own certificate, or the CA that signed it).
    Pinned(Vec<ureq::tls::Certificate<'static>>),
}

/// Largest `--node-cert` file read.
pub const NODE_CERT_FILE_BYTES_MAX: usize = 1024 * 1024;

impl NodeTrust {
    /// The certificates in a PEM file given with `--node-cert`.
    pub fn pinned(path: &std::path::Path) -> Result<NodeTrust> {
        let text = crate::wallet::read_file(path, "node certificate", NODE_CERT_FILE_BYTES_MAX)?;
        let mut certs = Vec::new();
        for item in ureq::tls::parse_pem(&text) {
            match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => certs.push(cert),
                Ok(_) => {}
                Err(e) => {
                    return Err(crate::error::WalletRule::BadNodeCertificate {
                        path: path.to_owned(),
                        reason: e.to_string(),
                    }
                    .into())
                }
            }
        }
        if certs.is_empty() {
            return Err(crate::error::WalletRule::BadNodeCertificate {
                path: path.to_owned(),
                reason: "no PEM certificate in it".into(),
            }
            .into());
        }
        Ok(NodeTrust::Pinned(certs))
    }

    fn roots(&self) -> ureq::tls::RootCerts {
        match self {
            NodeTrust::System => ureq::tls::RootCerts::PlatformVerifier,
            NodeTrust::Pinned(certs) => ureq::tls::RootCerts::new_with_certs(certs),
        }
    }
}

fn agent(trust: &NodeTrust) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        // A node's redirect is its answer: the wallet's signed requests go to the node it names, no other.
        .max_redirects(0)
        .timeout_connect(Some(Duration::from_millis(CONNECT_TIMEOUT_MS)))
        .timeout_global(Some(Duration::from_millis(ANSWER_TIMEOUT_MS)))
        .tls_config(
            ureq::tls::TlsConfig::builder()
                .root_certs(trust.roots())
                .build(),
        )
        .build()
        .into()
}

/// Whether an answer says the node failed the request rather than that the request was wrong: 503 (no
/// leader, halted, queue full) and 408 (it did not finish in the node's time, as when the leader changed
/// under it). The wallet turns to the next node on either, and exits 5 when none is left; a submission
/// sent again is answered as a duplicate if the first one landed (issue 35: on a 408 the wallet gave up
/// with exit 2, "bad usage", and never tried the next node).
fn is_node_failure(status: u16) -> bool {
    matches!(status, 408 | 503)
}

/// The wallet's connection to a node, or to a consortium's member nodes in turn.
#[derive(Debug)]
pub struct NodeClient {
    /// The node addresses, tried in turn from the last one that answered.
    bases: Vec<String>,
    current: std::cell::Cell<usize>,
    agent: ureq::Agent,
    genesis: OnceCell<GenesisView>,
    /// The wallet home whose pinned chains this node must serve; `None` trusts any chain.
    pins: Option<std::path::PathBuf>,
    /// The key that signs reads of listings (parties, the registry, blocks): the first one unlocked.
    reader: std::cell::RefCell<Option<SigningKey>>,
    /// The highest block a receipt this wallet was given names, on the chain the node serves: on a
    /// consortium's chain every read asks the node to have applied it first (`?applied=`), so the
    /// wallet reads its own writes on whichever member's node answers. Kept in the wallet home
    /// (`applied/<chain>`) across commands.
    applied: std::cell::Cell<u64>,
}

use crate::wallet::now_ms;

/// The time a signed request carries: the clock, but never the same millisecond twice in this process,
/// since the node accepts each signature once and two identical reads in one millisecond would sign
/// the same bytes.
fn request_time_ms() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = now_ms();
    let previous = LAST
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |last| {
            Some(now.max(last + 1))
        })
        .unwrap_or(now);
    now.max(previous + 1)
}

/// `path` with a fresh `nonce` query parameter (16 random bytes as hex): the signature covers the path
/// and its query, so two processes signing the same request with one key in one millisecond (a bank's
/// script checking in parallel) sign different bytes and neither is taken for a replay (issue 35). Every
/// node, of this release or an earlier one, reads its own query parameters and passes over the rest,
/// so the nonce needs nothing of the node (a header would: an earlier node would not know to verify
/// over it).
fn with_nonce(path: &str) -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| CliError::io("no randomness from the OS", e.to_string()))?;
    let separator = if path.contains('?') { '&' } else { '?' };
    Ok(format!(
        "{path}{separator}nonce={}",
        ebl_core::bytes::to_hex(&bytes)
    ))
}

impl NodeClient {
    /// A client of the node at `base` (or of the comma-separated nodes, tried in order).
    pub fn new(base: &str) -> NodeClient {
        let agent = agent(&NodeTrust::System);
        let mut bases = node_addresses(base);
        if bases.is_empty() {
            bases.push(base.to_owned());
        }
        NodeClient {
            bases,
            current: std::cell::Cell::new(0),
            agent,
            genesis: OnceCell::new(),
            pins: None,
            reader: std::cell::RefCell::new(None),
            applied: std::cell::Cell::new(0),
        }
    }

    /// A client that talks to the node only if it serves a chain the wallet at `home` pinned (or, the
    /// first time it meets this node, pins the chain it serves).
    pub fn pinned(base: &str, home: &std::path::Path) -> NodeClient {
        let mut client = NodeClient::new(base);
        client.pins = Some(home.to_owned());
        client
    }

    /// Accept only the certificates `trust` names from the node.
    pub fn trust(&mut self, trust: &NodeTrust) {
        self.agent = agent(trust);
    }

    /// The address of the node the wallet talks to now.
    pub fn base(&self) -> &str {
        &self.bases[self.current.get()]
    }

    fn unreachable(&self, e: ureq::Error) -> CliError {
        unreachable_at(self.base(), e)
    }

    /// Sends a request to the current node, and to the next ones in turn when it does not answer or
    /// answers 503 (no leader, halted, queue full): any member's node of the chain serves. A node the
    /// wallet turns to must serve the chain already pinned.
    fn send(
        &self,
        request: impl Fn(&str) -> std::result::Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let count = self.bases.len();
        let start = self.current.get();
        let mut last: Option<Result<ureq::http::Response<ureq::Body>>> = None;
        for k in 0..count {
            let i = (start + k) % count;
            if i != start {
                if let Err(e) = self.admit(i) {
                    last.get_or_insert(Err(e));
                    continue;
                }
            }
            match request(&self.bases[i]) {
                Ok(r) if is_node_failure(r.status().as_u16()) && k + 1 < count => {
                    last = Some(Ok(r));
                }
                Ok(r) => {
                    self.current.set(i);
                    return Ok(r);
                }
                Err(e) => last = Some(Err(unreachable_at(&self.bases[i], e))),
            }
        }
        last.unwrap_or_else(|| Err(CliError::io("talking to the node", "no node address")))
    }

    /// Before the wallet turns to node `i`: it must serve the chain the wallet knows (and is pinned).
    fn admit(&self, i: usize) -> Result<()> {
        let Some(known) = self.genesis.get() else {
            return Ok(());
        };
        let mut response = self
            .agent
            .get(&format!("{}/v1/genesis", self.bases[i]))
            .call()
            .map_err(|e| self.unreachable(e))?;
        let view: GenesisView = response
            .body_mut()
            .read_json()
            .map_err(|e| self.unreachable(e))?;
        if view.chain != known.chain || view.genesis.chain_id() != view.chain {
            return Err(CliError::from(Refusal::NodesOnTwoChains {
                node: self.bases[i].clone(),
                first: self.base().to_owned(),
            }));
        }
        if let Some(home) = &self.pins {
            let mut pins = crate::pins::Pins::load(home)?;
            if pins.admit_node(&self.bases[i], &view.genesis, now_ms())? {
                pins.save(home)?;
            }
        }
        Ok(())
    }

    fn finish<T: DeserializeOwned>(
        &self,
        response: Result<ureq::http::Response<ureq::Body>>,
    ) -> Result<T> {
        let mut response = response?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(ebl_core::bundle::BUNDLE_BYTES_MAX as u64)
            .read_to_vec()
            .map_err(|e| self.unreachable(e))?;
        if (200..300).contains(&status) || status == 422 {
            return serde_json::from_slice(&body).map_err(|e| {
                CliError::from(Refusal::UnreadableAnswer {
                    source: crate::error::source(e),
                })
            });
        }
        let remote = match serde_json::from_slice::<ErrorEnvelope>(&body) {
            Ok(answer) => Remote::from_answer(status, answer.error),
            Err(_) => Remote::Status {
                status,
                text: String::from_utf8_lossy(&body).chars().take(200).collect(),
            },
        };
        let not_a_party = matches!(
            remote,
            Remote::Read {
                rule: ReadRule::Forbidden,
                ..
            }
        );
        let mut err = CliError::from(remote);
        if not_a_party {
            err = err.with_hint(
                "only the bill's parties, operators and auditors may read it: act --as one of them",
            );
        }
        Err(err)
    }

    /// An unsigned read, from a node whose chain is pinned.
    fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        self.genesis()?;
        self.get_unchecked(&self.after_own_writes(path))
    }

    fn get_unchecked<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let response = self.send(|base| self.agent.get(&format!("{base}{path}")).call());
        self.finish(response)
    }

    /// `path` asking the node to have applied the highest block this wallet's receipts named (none
    /// yet: `path` as it is).
    fn after_own_writes(&self, path: &str) -> String {
        // A one-member chain's node applies every block before it answers the receipt: it always
        // reads its own writes. (A node restored from an older backup would otherwise refuse this
        // wallet every request until its chain grew past the height the wallet kept.)
        let clustered = self
            .genesis
            .get()
            .is_some_and(|view| view.genesis.members.len() > 1);
        match self.applied.get() {
            height if height == 0 || !clustered => path.to_owned(),
            height => {
                let separator = if path.contains('?') { '&' } else { '?' };
                format!("{path}{separator}applied={height}")
            }
        }
    }

    /// Where the highest block of this wallet's receipts on `chain` is kept.
    fn applied_file(home: &std::path::Path, chain: &Hash) -> std::path::PathBuf {
        home.join("applied").join(chain.to_hex())
    }

    /// A receipt at `height` was given: later requests ask for it. Kept in the wallet home so the next
    /// command asks too; a write that fails costs only that (the node answered, the ledger has it).
    fn remember_applied(&self, height: u64) {
        if height <= self.applied.get() {
            return;
        }
        self.applied.set(height);
        if let (Some(home), Some(view)) = (&self.pins, self.genesis.get()) {
            let file = Self::applied_file(home, &view.chain);
            if let Some(dir) = file.parent() {
                let _ = std::fs::create_dir_all(dir);
            }
            let _ = crate::keystore::write_private(&file, height.to_string().as_bytes());
        }
    }

    /// Names the key that signs listing reads, unless one already does.
    pub fn set_reader(&self, key: &SigningKey) {
        let mut reader = self.reader.borrow_mut();
        if reader.is_none() {
            *reader = Some(key.clone());
        }
    }

    /// Names the key that signs listing reads from now on, in place of any before it.
    pub fn replace_reader(&self, key: &SigningKey) {
        *self.reader.borrow_mut() = Some(key.clone());
    }

    /// Whether reads can be signed: a reader's key is set.
    pub fn has_reader(&self) -> bool {
        self.reader.borrow().is_some()
    }

    /// A listing read: parties, the registry and blocks are for registered parties and members only.
    fn get_listing<T: DeserializeOwned>(&self, path: &str) -> Result<T> {
        let key = self
            .reader
            .borrow()
            .clone()
            .ok_or(crate::error::WalletRule::NoReader)?;
        self.get_signed(path, &key)
    }

    /// A read signed by `key`, for bills and their transactions.
    fn get_signed<T: DeserializeOwned>(&self, path: &str, key: &SigningKey) -> Result<T> {
        let chain = self.genesis()?.chain;
        let time = request_time_ms();
        let path = &with_nonce(&self.after_own_writes(path))?;
        let signature = sign_request(key, &chain, "GET", path, &[], time);
        let response = self.send(|base| {
            self.agent
                .get(&format!("{base}{path}"))
                .header(HEADER_KEY, &PartyKey::of(key).to_hex())
                .header(HEADER_TIME, &time.to_string())
                .header(HEADER_SIGNATURE, &signature.to_string())
                .call()
        });
        self.finish(response)
    }

    /// A signed request with a JSON body, which the signature covers.
    fn post_signed<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &[u8],
        key: &SigningKey,
    ) -> Result<T> {
        let chain = self.genesis()?.chain;
        let time = request_time_ms();
        let path = &with_nonce(&self.after_own_writes(path))?;
        let signature = sign_request(key, &chain, "POST", path, body, time);
        let response = self.send(|base| {
            self.agent
                .post(&format!("{base}{path}"))
                .header("content-type", "application/json")
                .header(HEADER_KEY, &PartyKey::of(key).to_hex())
                .header(HEADER_TIME, &time.to_string())
                .header(HEADER_SIGNATURE, &signature.to_string())
                .send(body)
        });
        self.finish(response)
    }

    /// Whether the bill still stands where `offer` (a pledge naming `key` as pledgee) found it.
    pub fn offer_freshness(
        &self,
        offer: &SignedTransaction,
        key: &SigningKey,
    ) -> Result<ebl_core::api::OfferFreshness> {
        let bill = offer
            .body
            .action
            .bill()
            .ok_or(crate::error::WalletRule::NotAPledge)?;
        let body = serde_json::to_vec(offer).map_err(|e| CliError::io("encoding the offer", e))?;
        self.post_signed(&format!("/v1/bills/{bill}/offer-freshness"), &body, key)
    }

    /// The genesis of the chain the node serves, read once and checked against its id.
    pub fn genesis(&self) -> Result<&GenesisView> {
        if let Some(g) = self.genesis.get() {
            return Ok(g);
        }
        let view: GenesisView = self.get_unchecked("/v1/genesis")?;
        if view.genesis.chain_id() != view.chain {
            return Err(CliError::from(Refusal::BadGenesis));
        }
        if let Some(home) = &self.pins {
            let mut pins = crate::pins::Pins::load(home)?;
            if pins.admit_node(self.base(), &view.genesis, now_ms())? {
                pins.save(home)?;
            }
            // A height this wallet wrote down that does not read is forgotten, not fatal.
            let kept = std::fs::read_to_string(Self::applied_file(home, &view.chain))
                .ok()
                .and_then(|text| text.trim().parse().ok())
                .unwrap_or(0);
            self.applied.set(self.applied.get().max(kept));
        }
        Ok(self.genesis.get_or_init(|| view))
    }

    /// The ledger head.
    pub fn head(&self) -> Result<Head> {
        self.get("/v1/head")
    }

    /// Every registered party.
    pub fn parties(&self) -> Result<Vec<Party>> {
        self.get_listing("/v1/parties")
    }

    /// A party by name, id or key.
    pub fn party(&self, who: &str) -> Result<Party> {
        let encoded: String = who
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        self.get_listing(&format!("/v1/parties/{encoded}")).map_err(|e| {
            if matches!(e.request_refusal(), Some(RequestRefusal::UnknownParty(_))) {
                CliError::from(Refusal::UnknownParty {
                    who: who.to_owned(),
                })
                    .with_hint("name a party by its registered name, party id or public key; `ebl party list` shows them")
            } else {
                e
            }
        })
    }

    /// The registry's history: every governance transaction, in ledger order.
    pub fn registry_history(&self) -> Result<Vec<HistoryEntry>> {
        self.get_listing("/v1/registry/history")
    }

    /// The registry extract a bundle of chain format 8 carries (see `ebl_core::bundle`): the proven
    /// entries of `parties` and of the parties whose `keys` signed, with their registry history and the
    /// consortium's, and the registry head before each of `blocks`, as of the statement at `height`.
    pub fn registry_extract(
        &self,
        height: u64,
        parties: &std::collections::BTreeSet<ebl_core::PartyId>,
        keys: &std::collections::BTreeSet<PartyKey>,
        blocks: &std::collections::BTreeSet<u64>,
    ) -> Result<ebl_core::api::RegistryExtract> {
        fn listed<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
            items
                .into_iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(",")
        }
        self.get_listing(&format!(
            "/v1/registry/extract?height={height}&parties={}&keys={}&blocks={}",
            listed(parties),
            listed(keys.iter().map(PartyKey::to_hex)),
            listed(blocks)
        ))
    }

    /// The registry head before block `height`: the last registry transaction the node's history
    /// places below it, or the chain id.
    pub fn registry_head_before(&self, height: u64) -> Result<ebl_core::Hash> {
        let chain = self.genesis()?.chain;
        Ok(self
            .registry_history()?
            .iter()
            .rev()
            .find(|e| e.receipt.height < height)
            .map_or(chain, |e| e.transaction.id()))
    }

    /// The block at `height`.
    pub fn block(&self, height: u64) -> Result<BlockView> {
        self.get_listing(&format!("/v1/blocks/{height}"))
    }

    /// A bill's state and document, read with the party's `key`.
    pub fn bill(&self, id: &BillId, key: &SigningKey) -> Result<BillView> {
        self.get_signed(&format!("/v1/bills/{id}"), key)
    }

    /// The bills the reader key has a part in now.
    pub fn visible_bills(&self) -> Result<Vec<Bill>> {
        self.get_listing("/v1/bills")
    }

    /// The bills the signer has a part in now.
    pub fn my_bills(&self, key: &SigningKey) -> Result<Vec<Bill>> {
        self.get_signed("/v1/bills", key)
    }

    /// A bill's history, read with the party's `key`.
    pub fn history(&self, id: &BillId, key: &SigningKey) -> Result<Vec<HistoryEntry>> {
        self.get_signed(&format!("/v1/bills/{id}/history"), key)
    }

    /// One transaction with its receipt, read with the party's `key`.
    pub fn transaction(&self, id: &ebl_core::TxId, key: &SigningKey) -> Result<HistoryEntry> {
        self.get_signed(&format!("/v1/transactions/{id}"), key)
    }

    /// A bill's history as a signed PINT envelope, read with the party's `key`.
    pub fn pint_envelope(&self, id: &BillId, key: &SigningKey) -> Result<serde_json::Value> {
        self.get_signed(&format!("/v1/bills/{id}/pint"), key)
    }

    /// The additional documents an imported bill arrived with, and whether the node holds each.
    pub fn bill_documents(&self, id: &BillId, key: &SigningKey) -> Result<Vec<serde_json::Value>> {
        self.get_signed(&format!("/v1/bills/{id}/documents"), key)
    }

    /// One of them: name, checksum and the content in base64.
    pub fn bill_document(
        &self,
        id: &BillId,
        checksum: &ebl_core::Hash,
        key: &SigningKey,
    ) -> Result<serde_json::Value> {
        self.get_signed(&format!("/v1/bills/{id}/documents/{checksum}"), key)
    }

    /// A PINT request to the node's receiver API: the status and the body (JSON, or text as a string).
    pub fn pint(
        &self,
        method: &str,
        path: &str,
        body: Vec<u8>,
    ) -> Result<(u16, serde_json::Value)> {
        let mut response = self.send(|base| {
            let url = format!("{base}{path}");
            let request = match method {
                "POST" => self.agent.post(&url),
                _ => self.agent.put(&url),
            };
            request
                .header("content-type", "application/json")
                .send(&body[..])
        })?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let value = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
        Ok((status, value))
    }

    /// The node's public key as a JWK, for another platform's trust store.
    pub fn pint_jwk(&self) -> Result<serde_json::Value> {
        self.get("/v1/pint/jwk")
    }

    /// The bill's status, linearizable on a cluster: the node first applies everything committed
    /// before the request, so a bank is not shown one node's stale view.
    /// From chain format 7 the node answers the statement with the finality quorum's signatures;
    /// earlier nodes with their one signature, read the same way.
    pub fn status(&self, id: &BillId, key: &SigningKey) -> Result<CertifiedStatement> {
        /// The answer, in either shape.
        #[derive(serde::Deserialize)]
        struct Answer(
            #[serde(deserialize_with = "CertifiedStatement::deserialize_any")] CertifiedStatement,
        );
        let Answer(statement) =
            self.get_signed(&format!("/v1/bills/{id}/status?linearizable=true"), key)?;
        Ok(statement)
    }

    /// Submits; a rule refusal becomes a `Rejected` error with the rule's code.
    pub fn submit(&self, tx: &SignedTransaction) -> Result<SubmitOutcome> {
        self.genesis()?;
        let body =
            serde_json::to_vec(tx).map_err(|e| CliError::io("encoding the transaction", e))?;
        // Resubmitting to another node is safe: a transaction already ordered comes back as a duplicate.
        // The receipt comes with its block's certificate (a cluster's node waits for the threshold).
        let response = self.send(|base| {
            self.agent
                .post(&format!("{base}/v1/transactions?final=true"))
                .header("content-type", "application/json")
                .send(&body[..])
        });
        let outcome: SubmitOutcome = self.finish(response)?;
        match &outcome {
            SubmitOutcome::Rejected { error, .. } => Err(CliError::rejected(error)),
            _ => {
                check_receipt(tx, &outcome, &|height| self.registry_head_before(height))?;
                if let Some(receipt) = outcome.receipt() {
                    self.remember_applied(receipt.height);
                }
                Ok(outcome)
            }
        }
    }
}

/// A receipt names the transaction that was sent, and, with its block's certificate, proves it is in
/// that block (the inclusion proof against the header) and that each node signing the header did.
/// Checked before the wallet tells anyone the transaction is on the ledger.
/// `registry_head_before(h)` gives the registry head before block `h`, asked only when the certificate's
/// signatures are bound to it (chain format 5 on).
pub fn check_receipt(
    tx: &SignedTransaction,
    outcome: &SubmitOutcome,
    registry_head_before: &dyn Fn(u64) -> Result<ebl_core::Hash>,
) -> Result<()> {
    use crate::error::ReceiptFault;
    let bad = |fault: ReceiptFault| CliError::from(Refusal::BadReceipt(fault));
    let id = tx.id();
    if outcome.id() != id {
        return Err(bad(ReceiptFault::OtherTransaction {
            answered: outcome.id(),
            sent: id,
        }));
    }
    let Some((receipt, certificate)) = outcome.certified() else {
        return Ok(());
    };
    if receipt.tx != id {
        return Err(bad(ReceiptFault::ReceiptOfAnother {
            receipt: receipt.tx,
            sent: id,
        }));
    }
    let Some(certificate) = certificate else {
        return Ok(());
    };
    if certificate.header.chain != tx.body.chain {
        return Err(bad(ReceiptFault::OtherChain {
            block: certificate.header.chain,
            sent: tx.body.chain,
        }));
    }
    receipt.verify(&certificate.header).map_err(|source| {
        bad(ReceiptFault::NotInBlock {
            sent: id,
            height: receipt.height,
            source,
        })
    })?;
    // Before chain format 5 each signature covers the header alone and is checked here. From format
    // 5 it also covers the registry head before the block, which the wallet holds only where it
    // replays the registry (`ebl verify`, `ebl gov`): a certificate that does not verify unbound is
    // left to those, which check every signature with its binding.
    certificate
        .check_signatures(ebl_core::HeaderBinding::Unbound)
        .or_else(|_| {
            // From chain format 5 the signatures also cover the registry head before the block. A
            // registry transaction names the head it extends (the one before its block, unless
            // another registry change shares the block); otherwise the node's registry history,
            // whose entries the receipts place, names it. A node that lies about that history makes
            // the signatures fail here.
            if tx.body.action.is_registry()
                && certificate
                    .check_signatures(ebl_core::HeaderBinding::Registry(tx.body.prev))
                    .is_ok()
            {
                return Ok(());
            }
            // A wallet that may not read the registry (a bare `tx submit`) cannot check a bound
            // certificate here: `ebl verify` does, with the registry it replays.
            let Ok(head) = registry_head_before(receipt.height) else {
                return Ok(());
            };
            certificate.check_signatures(ebl_core::HeaderBinding::Registry(head))
        })
        .map_err(|source| {
            bad(ReceiptFault::Certificate {
                height: receipt.height,
                source,
            })
        })
}

#[cfg(test)]
mod tests {
    use super::{check_node_address, check_receipt, node_addresses, NODE_ADDRESSES_MAX};

    /// A one-route HTTP server on 127.0.0.1 that gives every request `status` with `body`, until the
    /// test ends; its address.
    fn answering(status: u16, body: String) -> String {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = format!("http://{}", listener.local_addr().expect("address"));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        address
    }

    /// Issue 35: a node answering 408 (its request timed out while the leader changed) made the wallet
    /// exit 2, "bad usage", without trying the next node it was given.
    #[test]
    fn regression_a_node_that_times_out_is_passed_over_for_the_next() {
        let genesis = ebl_core::testkit::Cast::new()
            .genesis(1_700_000_000_000)
            .expect("genesis");
        let view = serde_json::json!({ "chain": genesis.chain_id(), "genesis": genesis });
        let timing_out = answering(
            408,
            r#"{"error":{"code":"request_timeout","message":"took too long"}}"#.to_owned(),
        );
        let serving = answering(200, view.to_string());
        let client = super::NodeClient::new(&format!("{timing_out},{serving}"));
        let got = client.genesis().expect("the second node answers");
        assert_eq!(got.chain, genesis.chain_id());
        assert_eq!(client.base(), serving);
        // Alone, the timing-out node is a node failure: exit 5, not a usage error.
        let alone = super::NodeClient::new(&timing_out);
        let e = alone.genesis().expect_err("no node answers");
        assert_eq!((e.exit_code(), e.code().as_ref()), (5, "request_timeout"));
    }

    /// A transaction in a two-transaction block, its honest receipt, and the block's certificate.
    fn receipted() -> (
        ebl_core::SignedTransaction,
        ebl_core::api::SubmitOutcome,
        ebl_core::SigningKey,
    ) {
        use ebl_core::testkit::{key, signed};
        let chain = ebl_core::Hash::of(b"chain");
        let tx = signed(
            chain,
            ebl_core::Hash::of(b"head"),
            1,
            ebl_core::Action::Sign {
                bill: ebl_core::Hash::of(b"bill"),
            },
            &[&key(1)],
        );
        let ids = [ebl_core::Hash::of(b"other"), tx.id()];
        let tree = ebl_core::MerkleTree::new(&ids);
        let header = ebl_core::block::BlockHeader {
            chain,
            height: 5,
            prev: ebl_core::Hash::of(b"prev"),
            tx_root: tree.root(),
            tx_count: 2,
            time_ms: 2,
        };
        let node = key(9);
        let certificate = ebl_core::Certificate::of(
            &header.clone().sign(&node, ebl_core::HeaderBinding::Unbound),
        );
        let receipt = ebl_core::api::Receipt {
            tx: tx.id(),
            height: 5,
            index: 1,
            block: header.hash(),
            block_time_ms: 2,
            proof: tree.proof(1).expect("proof"),
        };
        let outcome = ebl_core::api::SubmitOutcome::Accepted {
            id: tx.id(),
            receipt,
            certificate: Some(certificate),
        };
        (tx, outcome, node)
    }

    /// A registry head these format-4 certificates are not bound to: a signature that does not verify
    /// unbound does not verify bound to it either.
    fn no_registry(_: u64) -> crate::error::Result<ebl_core::Hash> {
        Ok(ebl_core::Hash::of(b"not this block's registry"))
    }

    #[test]
    fn an_honest_receipt_is_taken() {
        let (tx, outcome, _) = receipted();
        assert!(check_receipt(&tx, &outcome, &no_registry).is_ok());
    }

    /// Issue 14: the wallet never checked the receipts it was given.
    #[test]
    fn regression_a_receipt_not_proving_the_transaction_is_refused() {
        use ebl_core::api::SubmitOutcome;
        let (tx, honest, _) = receipted();
        let tamper = |f: &dyn Fn(&mut ebl_core::api::Receipt, &mut ebl_core::Certificate)| {
            let mut outcome = honest.clone();
            if let SubmitOutcome::Accepted {
                receipt,
                certificate: Some(c),
                ..
            } = &mut outcome
            {
                f(receipt, c);
            }
            check_receipt(&tx, &outcome, &no_registry)
                .map_err(|e| (e.exit_code(), e.code().into_owned()))
                .map_err(|(x, c)| (c, x))
        };
        let refused = Err(("bad_receipt".to_owned(), 4));
        // Another index in the block: the proof no longer leads to the root.
        assert_eq!(tamper(&|r, _| r.index = 0), refused);
        // A header that is not the one the proof is for.
        assert_eq!(
            tamper(&|_, c| c.header.tx_root = ebl_core::Hash::of(b"x")),
            refused
        );
        // A certificate whose signature is not over this header.
        assert_eq!(tamper(&|_, c| c.header.time_ms = 3), refused);
        // A receipt for another transaction.
        assert_eq!(tamper(&|r, _| r.tx = ebl_core::Hash::of(b"other")), refused);
        // A signature by a key other than the one named.
        assert_eq!(
            tamper(
                &|_, c| c.signatures[0].signer = ebl_core::PartyKey::of(&ebl_core::testkit::key(8))
            ),
            refused
        );
    }

    #[test]
    fn several_node_addresses_are_taken_and_each_is_checked() {
        assert_eq!(
            node_addresses("http://a:1, http://b:2/,"),
            ["http://a:1", "http://b:2"]
        );
        assert!(check_node_address("http://127.0.0.1:1,https://b:2", false).is_ok());
        let bad = check_node_address("http://127.0.0.1:1,b:2", false).expect_err("no scheme");
        assert_eq!(bad.code(), "bad_node_address");
        assert!(check_node_address("", false).is_err());
        let many = vec!["https://a:1"; NODE_ADDRESSES_MAX + 1].join(",");
        assert!(
            check_node_address(&many, false).is_err(),
            "more than the limit"
        );
        let most = vec!["https://a:1"; NODE_ADDRESSES_MAX].join(",");
        assert!(check_node_address(&most, false).is_ok(), "the limit itself");
    }

    #[test]
    fn node_cert_file_bytes_max_is_enforced_at_its_bound() {
        let dir = tempfile::tempdir().expect("dir");
        let over = dir.path().join("over.pem");
        std::fs::write(&over, vec![b'\n'; super::NODE_CERT_FILE_BYTES_MAX + 1]).expect("write");
        let refused = super::NodeTrust::pinned(&over).expect_err("too large");
        assert_eq!(refused.code(), "file_too_large");
        let most = dir.path().join("most.pem");
        std::fs::write(&most, vec![b'\n'; super::NODE_CERT_FILE_BYTES_MAX]).expect("write");
        let refused = super::NodeTrust::pinned(&most).expect_err("no certificate");
        assert_eq!(refused.code(), "bad_node_certificate");
    }

    #[test]
    fn regression_plain_http_to_a_node_elsewhere_is_refused_unless_asked() {
        for local in [
            "http://127.0.0.1:7878",
            "http://127.0.0.2:7878/",
            "http://localhost:7878",
            "http://[::1]:7878",
        ] {
            assert!(check_node_address(local, false).is_ok(), "{local}");
        }
        for remote in [
            "http://node.example:7878",
            "http://10.0.0.5:7878",
            "http://[2001:db8::1]:7878",
            "http://127.0.0.1.example:7878",
        ] {
            let refused = check_node_address(remote, false).expect_err(remote);
            assert_eq!(refused.code(), "plain_http_off_loopback", "{remote}");
            assert!(
                check_node_address(remote, true).is_ok(),
                "{remote} when asked"
            );
        }
        assert!(check_node_address("https://node.example:7878", false).is_ok());
    }
}
