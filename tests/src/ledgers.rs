//! Ledgers written by earlier releases (`tests/fixtures/ledgers/`), unpacked into a temporary directory
//! for the real binaries of this release to open and carry on: the compatibility promise, tested.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::{bin, run, Run};

/// One old ledger, unpacked: its node's data directory, its parties' wallets, its files and manifest.
#[derive(Debug)]
pub struct OldLedger {
    /// Holds everything; removed when the ledger is dropped.
    pub dir: tempfile::TempDir,
    /// The unpacked archive's top directory.
    pub root: PathBuf,
    /// `manifest.json`: the bills by state, the parties, the passphrase.
    pub manifest: Value,
    /// The node the wallets talk to, once it runs.
    pub node_url: String,
}

impl OldLedger {
    /// Unpacks `tests/fixtures/ledgers/<name>.tar.gz` (with the system's `tar`, which keeps the
    /// modes the node insists on).
    pub fn unpack(name: &str) -> OldLedger {
        let archive = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/ledgers")
            .join(format!("{name}.tar.gz"));
        let dir = tempfile::tempdir().expect("dir");
        let status = std::process::Command::new("tar")
            .arg("-xzf")
            .arg(&archive)
            .arg("-C")
            .arg(dir.path())
            .status()
            .expect("run tar");
        assert!(status.success(), "unpacking {}", archive.display());
        let root = dir.path().join(name);
        let manifest: Value =
            serde_json::from_slice(&std::fs::read(root.join("manifest.json")).expect("manifest"))
                .expect("manifest is JSON");
        OldLedger {
            dir,
            root,
            manifest,
            node_url: String::new(),
        }
    }

    /// The node's data directory.
    pub fn data(&self) -> PathBuf {
        self.root
            .join(self.manifest["data"].as_str().expect("data"))
    }

    /// The chain id the ledger was written on.
    pub fn chain(&self) -> String {
        self.manifest["chain"].as_str().expect("chain").to_owned()
    }

    /// A bill's id by its name in the manifest (`pledged`, `in_transit`, ...).
    pub fn bill(&self, name: &str) -> String {
        self.manifest["bills"][name]["bill"]
            .as_str()
            .unwrap_or_else(|| panic!("no bill {name} in the manifest"))
            .to_owned()
    }

    /// A file the old release wrote (`files/pledged.bundle.json`, ...).
    pub fn file(&self, relative: &str) -> String {
        self.root.join(relative).to_string_lossy().into_owned()
    }

    /// A party's wallet home.
    pub fn home(&self, who: &str) -> PathBuf {
        let home = self.manifest["parties"][who]["home"]
            .as_str()
            .unwrap_or_else(|| panic!("no party {who} in the manifest"));
        self.root.join(home)
    }

    /// Runs this release's `ebl` as `who`, with the wallet the old release left.
    pub fn ebl(&self, who: &str, args: &[&str]) -> Run {
        let home = self.home(who).to_string_lossy().into_owned();
        let passphrase = self.manifest["passphrase"].as_str().expect("passphrase");
        run(
            &bin("ebl"),
            args,
            &[
                ("EBL_HOME", home.as_str()),
                ("EBL_NODE", self.node_url.as_str()),
                ("EBL_PASSPHRASE", passphrase),
            ],
        )
    }

    /// `ebl --json verify FILE` by a bank with a fresh wallet and no node, trusting the old chain.
    pub fn verify_offline(&self, file: &str) -> Run {
        let home = self.dir.path().join("offline-bank");
        let home = home.to_string_lossy().into_owned();
        run(
            &bin("ebl"),
            &["--json", "verify", file, "--chain", &self.chain()],
            &[("EBL_HOME", &home), ("EBL_NODE", "http://127.0.0.1:9")],
        )
    }

    /// The carrier issues a bill of DCSA's sample document under `reference` to DCSA CTK, with its old
    /// wallet; the bill's id.
    pub fn issue(&self, reference: &str) -> String {
        let sample = self.ebl("carrier", &["doc", "sample"]).ok().stdout;
        let mut doc: Value = serde_json::from_str(&sample).expect("sample");
        doc["transportDocumentReference"] = reference.into();
        let path = self.dir.path().join(format!("{reference}.json"));
        std::fs::write(&path, serde_json::to_vec(&doc).expect("json")).expect("write");
        let path = path.to_string_lossy().into_owned();
        let issued = self.json(
            "carrier",
            &[
                "bill", "issue", &path, "--to", "DCSA CTK", "--as", "carrier",
            ],
        );
        issued["bill"].as_str().expect("bill").to_owned()
    }

    /// The shipper, with the wallet the old release left, endorses `bill` to Buyer One's order and
    /// hands it over.
    pub fn sell_to_buyer_one(&self, bill: &str) {
        self.json(
            "shipper",
            &[
                "bill",
                "endorse",
                bill,
                "--to",
                "Buyer One",
                "--to-order",
                "--as",
                "shipper",
            ],
        );
        self.json(
            "shipper",
            &[
                "bill",
                "transfer",
                bill,
                "--to",
                "Buyer One",
                "--as",
                "shipper",
            ],
        );
    }

    /// A `--json` run that must succeed.
    #[track_caller]
    pub fn json(&self, who: &str, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        self.ebl(who, &full).ok().json()
    }

    /// A `--json` run that must be refused with `code`.
    #[track_caller]
    pub fn refused(&self, who: &str, args: &[&str], code: &str) -> Run {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let run = self.ebl(who, &full);
        assert_ne!(run.code, 0, "{args:?} was not refused: {}", run.stdout);
        assert_eq!(
            run.json()["error"]["code"].as_str(),
            Some(code),
            "{args:?}: {}",
            run.stdout
        );
        run
    }
}
