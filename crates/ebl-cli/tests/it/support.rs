//! A node on 127.0.0.1:0 and one wallet home per party, driving the real `ebl` binary.

use std::path::{Path, PathBuf};

use ebl_core::PartyKey;
use ebl_node::{DataDir, LocalNode, Settings};
use serde_json::Value;

pub(crate) const PASSPHRASE: &str = "correct horse battery staple";
/// The buyer's LEI in the tests where a bill moves between platforms.
pub(crate) const BUYER_LEI: &str = "529900T8BM49AURSDO55";

pub(crate) struct Trade {
    pub dir: tempfile::TempDir,
    pub node: LocalNode,
}

pub(crate) use ebl_tests::Run;

/// Runs `ebl` as the owner of wallet `home` against `node`.
pub(crate) fn ebl_at(home: &Path, node: &str, args: &[&str]) -> Run {
    ebl_with_passphrase(home, node, PASSPHRASE, args)
}

/// [`ebl_at`] typing another passphrase.
pub(crate) fn ebl_with_passphrase(home: &Path, node: &str, passphrase: &str, args: &[&str]) -> Run {
    let home = home.to_string_lossy().into_owned();
    ebl_tests::run(
        Path::new(env!("CARGO_BIN_EXE_ebl")),
        args,
        &[
            ("EBL_HOME", &home),
            ("EBL_NODE", node),
            ("EBL_PASSPHRASE", passphrase),
        ],
    )
}

impl Trade {
    /// A fresh ledger whose operator key is in the `operator` wallet; nobody else registered yet.
    pub(crate) fn new() -> Trade {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir(dir.path().join("node"));
        std::fs::create_dir_all(&data.0).expect("mkdir");
        let operator = ebl_node::keyfile::generate().expect("key");
        ebl_node::keyfile::write(&data.operator_key(), &operator).expect("write operator key");
        ebl_node::init(&data, "cli-tests", PartyKey::of(&operator), "EBL").expect("init");
        let node = LocalNode::open(&data, Settings::default()).expect("node");
        let trade = Trade { dir, node };
        let seed = data.operator_key();
        trade
            .ebl(
                "operator",
                &["key", "import", "operator", seed.to_str().expect("path")],
            )
            .ok();
        trade
    }

    /// Stops the node and opens it again from its data directory (which is read again, trust store
    /// included).
    pub(crate) fn reopen(&mut self) {
        self.node.stop().expect("stop");
        let data = DataDir(self.dir.path().join("node"));
        self.node = LocalNode::open(&data, Settings::default()).expect("node");
    }

    /// A platform that receives bills over PINT: the carrier (SMDG:MSC) and the buyer, known by its
    /// LEI `BUYER_LEI`, registered; `trusted` (file name, JWK) written into the node's trust directory,
    /// which the node reads as it opens again.
    pub(crate) fn receiving(trusted: &[(&str, Value)]) -> Trade {
        let mut t = Trade::new();
        t.admit(
            "carrier",
            "Mediterranean Shipping",
            "carrier",
            &["SMDG:MSC"],
        );
        t.admit(
            "buyer",
            "Buyer One",
            "trader",
            &[&format!("LEI:{BUYER_LEI}")],
        );
        let dir = DataDir(t.dir.path().join("node")).pint_trust();
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (name, jwk) in trusted {
            let path = dir.join(name);
            std::fs::create_dir_all(path.parent().expect("in a platform's directory"))
                .expect("mkdir");
            std::fs::write(path, jwk.to_string()).expect("write jwk");
        }
        t.reopen();
        t
    }

    pub(crate) fn home(&self, who: &str) -> PathBuf {
        self.dir.path().join("wallets").join(who)
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// Runs `ebl` as `who` (their own wallet home).
    pub(crate) fn ebl(&self, who: &str, args: &[&str]) -> Run {
        ebl_at(&self.home(who), &self.node.url, args)
    }

    /// `--json` run that must succeed.
    pub(crate) fn json(&self, who: &str, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        self.ebl(who, &full).ok().json()
    }

    /// Makes a key in `who`'s wallet and has the operator register it.
    pub(crate) fn admit(&self, who: &str, name: &str, role: &str, ids: &[&str]) -> String {
        let key = self.json(who, &["key", "new", who]);
        let public = key["public_key"].as_str().expect("public key").to_owned();
        let mut args = vec![
            "party", "register", name, "--key", &public, "--role", role, "--as", "operator",
        ];
        for id in ids {
            args.extend_from_slice(&["--id", id]);
        }
        let out = self.json("operator", &args);
        assert_eq!(out["status"], "accepted", "{out}");
        public
    }

    /// The standard cast: carrier (SMDG:MSC, as the DCSA document names), shipper, buyer, second buyer, two banks.
    pub(crate) fn with_cast() -> Trade {
        let t = Trade::new();
        t.admit(
            "carrier",
            "Mediterranean Shipping",
            "carrier",
            &["SMDG:MSC"],
        );
        t.admit(
            "shipper",
            "DCSA CTK",
            "trader",
            &["LEI:5493001KJTIIGC8Y1R12"],
        );
        t.admit("buyer", "Buyer One", "trader", &[]);
        t.admit("buyer2", "Buyer Two", "trader", &[]);
        t.admit("bank", "First Bank", "bank", &[]);
        t.admit("bank2", "Second Bank", "bank", &[]);
        t
    }

    /// Writes the DCSA to-order document with `reference` and returns its path.
    pub(crate) fn document(&self, reference: &str) -> String {
        let mut doc: Value =
            serde_json::from_str(ebl_core::testkit::DCSA_TO_ORDER_BOL).expect("fixture");
        doc["transportDocumentReference"] = reference.into();
        let path = self.path(&format!("{reference}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
        path
    }

    /// The carrier issues a to-order bill to the shipper; returns the bill id.
    pub(crate) fn issue(&self, reference: &str) -> String {
        let doc = self.document(reference);
        let out = self.json(
            "carrier",
            &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"],
        );
        out["bill"].as_str().expect("bill id").to_owned()
    }
}
