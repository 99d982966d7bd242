//! The wallet's tests: the shared harness's wallets (`ebl_tests::Wallets`, one home per party, the real
//! `ebl` binary) over a node in this test process, which is quicker to start than a node process.

use std::path::{Path, PathBuf};

use ebl_core::PartyKey;
use ebl_node::{DataDir, LocalNode, Settings};
use ebl_tests::Wallets;
use serde_json::Value;

pub(crate) use ebl_tests::{Run, PASSPHRASE};

/// The buyer's LEI in the tests where a bill moves between platforms.
pub(crate) const BUYER_LEI: &str = "529900T8BM49AURSDO55";

pub(crate) struct Trade {
    pub wallets: Wallets,
    pub node: LocalNode,
}

impl std::ops::Deref for Trade {
    type Target = Wallets;
    fn deref(&self) -> &Wallets {
        &self.wallets
    }
}

fn ebl_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_ebl"))
}

/// Runs `ebl` as the owner of wallet `home` against `node`.
pub(crate) fn ebl_at(home: &Path, node: &str, args: &[&str]) -> Run {
    ebl_with_passphrase(home, node, PASSPHRASE, args)
}

/// [`ebl_at`] typing another passphrase.
pub(crate) fn ebl_with_passphrase(home: &Path, node: &str, passphrase: &str, args: &[&str]) -> Run {
    let home = home.to_string_lossy().into_owned();
    ebl_tests::run(
        &ebl_binary(),
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
        Trade::on_platform("EBL")
    }

    /// [`Trade::new`] on a chain whose PINT platform code is `platform`.
    pub(crate) fn on_platform(platform: &str) -> Trade {
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir(dir.path().join("node"));
        std::fs::create_dir_all(&data.0).expect("mkdir");
        let operator = ebl_node::keyfile::generate().expect("key");
        ebl_node::keyfile::write(&data.operator_key(), &operator).expect("write operator key");
        ebl_node::init(&data, "cli-tests", PartyKey::of(&operator), platform).expect("init");
        let node = LocalNode::open(&data, Settings::default()).expect("node");
        let trade = Trade {
            wallets: Wallets::new(dir, &node.url, None, ebl_binary()),
            node,
        };
        let seed = data.operator_key();
        trade
            .ebl(
                "operator",
                &["key", "import", "operator", seed.to_str().expect("path")],
            )
            .ok();
        trade
    }

    pub(crate) fn data(&self) -> DataDir {
        DataDir(self.dir.path().join("node"))
    }

    /// Stops the node and opens it again from its data directory (which is read again, trust store
    /// included).
    pub(crate) fn reopen(&mut self) {
        self.node.stop().expect("stop");
        self.node = LocalNode::open(&self.data(), Settings::default()).expect("node");
        self.wallets.talk_to(&self.node.url);
    }

    /// A platform that receives bills over PINT: the carrier (SMDG:MSC) and the buyer, known by its
    /// LEI `BUYER_LEI`, registered; `trusted` (file name, JWK) written into the node's trust directory,
    /// which the node reads as it opens again.
    pub(crate) fn receiving(trusted: &[(&str, Value)]) -> Trade {
        let mut t = Trade::with_carrier_and_buyer();
        let dir = t.data().pint_trust();
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

    /// The carrier (SMDG:MSC) and the buyer, known by its LEI `BUYER_LEI`, registered.
    pub(crate) fn with_carrier_and_buyer() -> Trade {
        let t = Trade::new();
        t.admit(
            "carrier",
            "Mediterranean Shipping",
            "carrier",
            &["SMDG:MSC"],
        );
        t.admit(
            "buyer1",
            "Buyer One",
            "trader",
            &[&format!("LEI:{BUYER_LEI}")],
        );
        t
    }

    /// The shared cast (`ebl_tests::CAST`) admitted.
    pub(crate) fn with_cast() -> Trade {
        let t = Trade::new();
        t.admit_cast();
        t
    }

    /// The DCSA to-order document with `reference`; returns its path.
    pub(crate) fn document(&self, reference: &str) -> String {
        self.wallets.document(reference, None)
    }
}
