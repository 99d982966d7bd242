//! The DCSA PINT 3.0 receiver API under `/v3`: other platforms send bills here. An envelope is verified
//! against the platform keys in the trust store, waits for the additional documents its manifest names,
//! and is then imported: one `IMPORT` transaction, signed by this node, ordered and made durable like any
//! other, before the signed answer goes back.

mod answers;
mod handlers;
pub(crate) mod sender;

use std::collections::{BTreeMap, VecDeque};
use std::path::{Path as FsPath, PathBuf};
use std::sync::{Mutex, MutexGuard};

use ebl_core::Hash;
use ebl_pint::trust_dir::{read_trust_dir, TrustDirError};
use ebl_pint::{Transfer, TrustStore};
use ebl_store::{Documents, Folder, StoreError};

pub use handlers::{routes, API_VERSION};

/// Largest `pint/signing/` file read (a key or a chain of a few certificates is a few KiB).
pub const SIGNING_FILE_BYTES_MAX: usize = 64 * 1024;

/// The key that signs this platform's PINT JWS.
pub(crate) enum PlatformSigner<'a> {
    /// The node's Ed25519 key (EdDSA).
    Node(&'a ebl_core::SigningKey),
    /// The operator's key with its X.509 chain (ES256).
    Certified(&'a ebl_pint::CertifiedKey),
}

impl ebl_pint::JwsSigner for PlatformSigner<'_> {
    fn alg(&self) -> &'static str {
        match self {
            PlatformSigner::Node(k) => k.alg(),
            PlatformSigner::Certified(k) => k.alg(),
        }
    }
    fn kid(&self) -> String {
        match self {
            PlatformSigner::Node(k) => k.kid(),
            PlatformSigner::Certified(k) => k.kid(),
        }
    }
    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        match self {
            PlatformSigner::Node(k) => k.sign(signing_input),
            PlatformSigner::Certified(k) => k.sign(signing_input),
        }
    }
    fn x5c(&self) -> Option<Vec<String>> {
        match self {
            PlatformSigner::Node(k) => k.x5c(),
            PlatformSigner::Certified(k) => k.x5c(),
        }
    }
}

/// Why the node has no address to send a bill to another platform at: the sender tries again later
/// (the operator may add it meanwhile).
#[derive(Debug, thiserror::Error)]
pub enum NoPlatformAddress {
    /// The node has no trust directory.
    #[error("this node has no trust directory")]
    NoTrustDirectory,
    /// The trust directory could not be read.
    #[error(transparent)]
    Unreadable(#[from] TrustDirError),
    /// The trust directory names no address for the platform.
    #[error("no address for platform {code} (trust/{code}/url)")]
    NotListed {
        /// The platform's PINT code.
        code: String,
    },
}

/// What the node needs to receive PINT transfers: whom it trusts, what is in flight, and where accepted
/// additional documents are kept.
#[derive(Debug)]
pub struct Receiver {
    /// This platform's PINT code (`eblPlatform`), at most 4 characters.
    pub platform: String,
    /// The platforms' keys and roots it accepts envelopes from, each bound to a platform code and role.
    pub trust: TrustStore,
    /// The trust directory, whose `<CODE>/url` files say where each platform we may send bills to
    /// receives them: read at every attempt, so an address changes without a restart. `None`: the
    /// node sends nowhere.
    pub trust_dir: Option<PathBuf>,
    /// The platform's X.509 signing key (`pint/signing/`), which signs its PINT JWS with its chain in
    /// `x5c`; `None`: the node's Ed25519 key signs them.
    pub signer: Option<ebl_pint::CertifiedKey>,
    /// Where additional documents of accepted transfers are written, named by their checksum; `None`
    /// keeps them only while the transfer is open (tests without a data directory).
    pub documents: Option<Documents>,
    /// Where each finished transfer is recorded (`<reference>.json`), so a finish retried after a
    /// restart is still answered `DUPE`; `None` remembers them in memory only.
    pub finished_dir: Option<Folder>,
    /// Open transfers by envelope reference.
    transfers: Mutex<BTreeMap<String, Transfer>>,
    /// Envelopes being parsed and verified now, at most `ENVELOPE_CHECKS_MAX`: the rest wait their
    /// turn, so the memory a flood of envelopes takes is bounded (finding 7 of the attack review).
    pub(crate) checking: tokio::sync::Semaphore,
    /// When each open transfer started: one left open longer than `transfer_open_ms` is dropped.
    opened: Mutex<BTreeMap<String, std::time::Instant>>,
    /// How long a transfer may stay open waiting for its documents (`TRANSFER_OPEN_MS_MAX`).
    pub transfer_open_ms: u64,
    /// The transfers finished most recently, oldest first.
    finished: Mutex<VecDeque<FinishedTransfer>>,
}

/// What a receiver keeps of a finished transfer: enough to answer its retries `DUPE`, and for a
/// notification (which puts no bill on the ledger) the envelope itself.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FinishedTransfer {
    /// The envelope reference (hex SHA-256 of the last entry).
    pub reference: String,
    /// The last entry accepted, which a `DUPE` quotes.
    pub last_entry: String,
    /// Every additional document of the transfer, by checksum.
    pub received: Vec<String>,
    /// For a notification (`ENDORSE`, `ENDORSE_TO_ORDER`, `SACC` last): the envelope, in RFC 8785 form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification: Option<String>,
}

/// Envelopes parsed and verified at once; each may take a few times its size as a JSON tree.
pub const ENVELOPE_CHECKS_MAX: usize = 2;

/// Largest finished-transfer record read back from disk (an envelope is at most
/// `ebl_core::limits::ENVELOPE_BYTES_MAX`; the rest is small).
pub const FINISHED_RECORD_BYTES_MAX: u64 = ebl_core::limits::ENVELOPE_BYTES_MAX as u64 + 64 * 1024;

/// How long an envelope transfer may stay open waiting for its additional documents; after that it is
/// forgotten, its documents with it, and the sender starts again (its slot is someone else's).
pub const TRANSFER_OPEN_MS_MAX: u64 = 60 * 60 * 1000;

/// How many finished transfers a node remembers, to answer a repeated finish with `DUPE`.
pub const FINISHED_REMEMBERED_MAX: usize = 4096;

impl Default for Receiver {
    fn default() -> Receiver {
        Receiver::new(
            ebl_pint::PLATFORM_CODE_DEFAULT.to_owned(),
            TrustStore::default(),
            None,
        )
    }
}

impl Receiver {
    /// A receiver keeping its files under `dir` (`documents/`, `finished/`), or in memory if `None`.
    pub fn new(platform: String, trust: TrustStore, dir: Option<PathBuf>) -> Receiver {
        Receiver {
            platform,
            trust,
            trust_dir: None,
            signer: None,
            documents: dir.as_ref().map(|d| Documents::new(d.join("documents"))),
            finished_dir: dir.as_ref().map(|d| Folder::new(d.join("finished"))),
            transfers: Mutex::new(BTreeMap::new()),
            opened: Mutex::new(BTreeMap::new()),
            transfer_open_ms: TRANSFER_OPEN_MS_MAX,
            finished: Mutex::new(VecDeque::new()),
            checking: tokio::sync::Semaphore::new(ENVELOPE_CHECKS_MAX),
        }
    }

    /// The platform's X.509 signing key in `dir` (`key.pem`, `chain.pem`), if the directory exists.
    pub fn load_signer(dir: &FsPath) -> Result<Option<ebl_pint::CertifiedKey>, crate::NodeError> {
        if !dir.exists() {
            return Ok(None);
        }
        let read = |name: &str| {
            let path = dir.join(name);
            let bytes = std::fs::read(&path)
                .map_err(|e| crate::NodeError::io(format!("reading {}", path.display()), e))?;
            if bytes.len() > SIGNING_FILE_BYTES_MAX {
                return Err(crate::NodeError::io(
                    format!("reading {}", path.display()),
                    std::io::Error::other(format!("over {SIGNING_FILE_BYTES_MAX} bytes")),
                ));
            }
            Ok(bytes)
        };
        ebl_pint::CertifiedKey::from_pem(&read("key.pem")?, &read("chain.pem")?)
            .map(Some)
            .map_err(|source| crate::NodeError::PintSigning {
                path: dir.to_owned(),
                source,
            })
    }

    /// The key that signs this platform's PINT JWS: the operator's X.509 key if it gave one, else the
    /// node key.
    pub(crate) fn signer<'a>(&'a self, node_key: &'a ebl_core::SigningKey) -> PlatformSigner<'a> {
        match &self.signer {
            Some(certified) => PlatformSigner::Certified(certified),
            None => PlatformSigner::Node(node_key),
        }
    }

    /// The node's trust store: `read_trust_dir`, where a missing directory trusts nobody.
    pub fn load_trust(dir: &FsPath) -> Result<TrustStore, TrustDirError> {
        match read_trust_dir(dir) {
            Err(TrustDirError::Unreadable {
                not_found: true, ..
            }) => Ok(TrustStore::default()),
            other => other,
        }
    }

    /// The trust store an envelope is verified against: the trust directory's, plus this consortium's
    /// own member node keys from the registry now (which every member replays), bound to this platform
    /// as the platform (the entries and manifests a member signed, when a bill comes back) and as each
    /// carrier hosted here (the issuance manifests a member signs for it). So a returning bill verifies
    /// without the operator listing the node's own key in the trust directory, and a carrier registered
    /// after the node opened is covered at once.
    pub fn trust_with_own(&self, registry: &ebl_core::Registry) -> TrustStore {
        let mut trust = self.trust.clone();
        let mut bindings = vec![ebl_pint::Binding::platform(&self.platform)];
        for carrier in registry
            .parties()
            .filter(|p| !p.revoked && p.has_role(ebl_core::Role::Carrier))
        {
            for id in &carrier.profile.identifiers {
                bindings.push(ebl_pint::Binding::carrier(
                    &self.platform,
                    &id.scheme,
                    &id.value,
                ));
            }
        }
        for member in registry.members() {
            let jwk = ebl_pint::public_jwk(&member.node).to_string();
            for binding in &bindings {
                // A well-formed key of our own: only a full trust store refuses it, and then the
                // operator's own files are what is trusted.
                if let Err(e) = trust.add_jwks(jwk.as_bytes(), binding) {
                    tracing::warn!(%binding, error = %e, "a member's node key is not trusted");
                }
            }
        }
        trust
    }

    /// Where platform `code` receives envelopes, from the trust directory (`read_platform_urls`).
    pub fn url_of(&self, code: &str) -> Result<String, NoPlatformAddress> {
        let dir = self
            .trust_dir
            .as_ref()
            .ok_or(NoPlatformAddress::NoTrustDirectory)?;
        let urls = ebl_pint::trust_dir::read_platform_urls(dir)?;
        urls.get(code)
            .cloned()
            .ok_or_else(|| NoPlatformAddress::NotListed {
                code: code.to_owned(),
            })
    }

    /// The open transfers, those open for longer than `transfer_open_ms` dropped first.
    fn transfers(&self) -> MutexGuard<'_, BTreeMap<String, Transfer>> {
        let mut transfers = match self.transfers.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let mut opened = match self.opened.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        let limit = std::time::Duration::from_millis(self.transfer_open_ms);
        opened.retain(|reference, since| {
            let open = since.elapsed() <= limit && transfers.contains_key(reference);
            if !open {
                transfers.remove(reference);
            }
            open
        });
        transfers
    }

    /// Records that the transfer `reference` (re)started now.
    fn opened_now(&self, reference: &str) {
        let mut opened = match self.opened.lock() {
            Ok(o) => o,
            Err(poisoned) => poisoned.into_inner(),
        };
        opened.insert(reference.to_owned(), std::time::Instant::now());
    }

    fn finished(&self) -> MutexGuard<'_, VecDeque<FinishedTransfer>> {
        match self.finished.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    /// Records a finished transfer: on disk first (durably, before the answer goes out), then in the
    /// bounded memory of recent ones.
    fn remember_finished(&self, record: FinishedTransfer) -> Result<(), StoreError> {
        if let Some(folder) = &self.finished_dir {
            let bytes = serde_json::to_vec(&record).map_err(|e| StoreError::Io(e.to_string()))?;
            folder.keep(&format!("{}.json", record.reference), &bytes)?;
        }
        let mut finished = self.finished();
        if finished.len() >= FINISHED_REMEMBERED_MAX {
            finished.pop_front();
        }
        finished.push_back(record);
        Ok(())
    }

    /// The finished transfer `reference`, from memory or its record on disk.
    fn finished_transfer(&self, reference: &str) -> Option<FinishedTransfer> {
        if let Some(f) = self.finished().iter().find(|f| f.reference == reference) {
            return Some(f.clone());
        }
        // The reference comes from a URL: only a SHA-256 in hex names a file.
        let hash = reference.parse::<Hash>().ok()?;
        let bytes = self
            .finished_dir
            .as_ref()?
            .read(
                &format!("{}.json", hash.to_hex()),
                FINISHED_RECORD_BYTES_MAX,
            )
            .ok()??;
        let record: FinishedTransfer = serde_json::from_slice(&bytes).ok()?;
        (record.reference == hash.to_hex()).then_some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::answers::finished_record;
    use super::*;
    use ebl_core::Hash;
    use ebl_pint::PintCode;

    fn transfer(n: u32) -> Transfer {
        let verdict = ebl_pint::EnvelopeVerdict {
            code: PintCode::Received,
            transport_document_reference: format!("R{n}"),
            document_checksum: Hash::of(b"doc"),
            actions: vec!["ISSUE".into()],
            recipients: vec![None],
            actors: vec![None],
            last_entry_checksum: Hash::of(&n.to_le_bytes()),
            last_entry: format!("entry.{n}.x"),
            platforms: vec!["EBL".into()],
            documents: Vec::new(),
        };
        Transfer::new(verdict, "{}".into())
    }

    #[test]
    fn a_missing_trust_directory_trusts_nobody() {
        let root = tempfile::tempdir().expect("dir");
        assert!(Receiver::load_trust(&root.path().join("missing"))
            .expect("empty")
            .is_empty());
    }

    #[test]
    fn finished_transfers_are_remembered_up_to_their_bound() {
        let receiver = Receiver::default();
        for n in 0..=u32::try_from(FINISHED_REMEMBERED_MAX).expect("fits") {
            receiver
                .remember_finished(finished_record(&transfer(n), false))
                .expect("in memory");
        }
        let finished = receiver.finished();
        assert_eq!(finished.len(), FINISHED_REMEMBERED_MAX);
        let oldest = transfer(0).reference;
        assert!(
            finished.iter().all(|f| f.reference != oldest),
            "the oldest is forgotten"
        );
        let newest = transfer(u32::try_from(FINISHED_REMEMBERED_MAX).expect("fits"));
        assert!(finished
            .iter()
            .any(|f| f.reference == newest.reference && f.last_entry == newest.verdict.last_entry));
    }

    #[test]
    fn finished_transfers_are_read_back_from_disk_by_reference_only() {
        let dir = tempfile::tempdir().expect("dir");
        let receiver = Receiver::new("EBL".into(), TrustStore::default(), Some(dir.path().into()));
        let t = transfer(7);
        receiver
            .remember_finished(finished_record(&t, false))
            .expect("kept");
        let reopened = Receiver::new("EBL".into(), TrustStore::default(), Some(dir.path().into()));
        assert_eq!(
            reopened
                .finished_transfer(&t.reference)
                .map(|f| f.last_entry),
            Some(t.verdict.last_entry.clone())
        );
        assert!(reopened.finished_transfer("../finished/x").is_none());
        // A record too large to be one is not read.
        let big = transfer(8).reference;
        let path = dir.path().join("finished").join(format!("{big}.json"));
        std::fs::write(
            &path,
            vec![b' '; usize::try_from(FINISHED_RECORD_BYTES_MAX).expect("fits") + 1],
        )
        .expect("write");
        assert!(reopened.finished_transfer(&big).is_none());
    }
}
