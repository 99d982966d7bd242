//! One wallet home per party beside a node, driving the real `ebl` binary: the one place the tests play
//! parties, over node processes (`Market`, the flows) or a node in the test's own process (the
//! wallet's tests). The cast is defined here once.

use std::path::PathBuf;

use serde_json::Value;

use crate::{now_ms, run, Run, PASSPHRASE};

/// The usual cast, as (wallet, registered name, role, identifiers): a carrier for the DCSA document
/// (SMDG:MSC), its shipper (by the LEI the document names), five buyers and two banks.
pub const CAST: [(&str, &str, &str, &[&str]); 9] = [
    (
        "carrier",
        "Mediterranean Shipping",
        "carrier",
        &["SMDG:MSC"],
    ),
    (
        "shipper",
        "DCSA CTK",
        "trader",
        &["LEI:5493001KJTIIGC8Y1R12"],
    ),
    ("buyer1", "Buyer One", "trader", &[]),
    ("buyer2", "Buyer Two", "trader", &[]),
    ("buyer3", "Buyer Three", "trader", &[]),
    ("buyer4", "Buyer Four", "trader", &[]),
    ("buyer5", "Buyer Five", "trader", &[]),
    ("bank", "First Bank", "bank", &[]),
    ("bank2", "Second Bank", "bank", &[]),
];

/// The parties' wallets, under `dir/wallets/<who>`, all talking to one node.
#[derive(Debug)]
pub struct Wallets {
    pub dir: tempfile::TempDir,
    node_url: String,
    /// The node's certificate every wallet pins, for a node that serves TLS.
    cert: Option<PathBuf>,
    /// The `ebl` binary to run.
    ebl: PathBuf,
    /// Flags every run is given before its own (`--insecure-plain-http` for nodes on the tests' own
    /// hosts, which serve plain HTTP off loopback).
    flags: Vec<String>,
}

impl Wallets {
    pub fn new(
        dir: tempfile::TempDir,
        node_url: &str,
        cert: Option<PathBuf>,
        ebl: PathBuf,
    ) -> Wallets {
        Wallets {
            dir,
            node_url: node_url.to_owned(),
            cert,
            ebl,
            flags: Vec::new(),
        }
    }

    /// These wallets accept plain HTTP to nodes off loopback (nodes on the tests' own hosts).
    #[must_use]
    pub fn over_plain_http(mut self) -> Wallets {
        self.flags.push("--insecure-plain-http".into());
        self
    }

    /// The node the wallets talk to.
    pub fn node_url(&self) -> &str {
        &self.node_url
    }

    /// From now on the wallets talk to the node at `url` (a node that came back on another port).
    pub fn talk_to(&mut self, url: &str) {
        self.node_url = url.to_owned();
    }

    /// Admits the whole cast (`CAST`).
    pub fn admit_cast(&self) {
        for (who, name, role, ids) in CAST {
            self.admit(who, name, role, ids);
        }
    }

    pub fn home(&self, who: &str) -> PathBuf {
        self.dir.path().join("wallets").join(who)
    }

    pub fn path(&self, name: &str) -> String {
        self.dir.path().join(name).to_string_lossy().into_owned()
    }

    /// Runs `ebl` as `who`, with their own wallet home.
    pub fn ebl(&self, who: &str, args: &[&str]) -> Run {
        let home = self.home(who).to_string_lossy().into_owned();
        let cert = self
            .cert
            .as_ref()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mut env = vec![
            ("EBL_HOME", home.as_str()),
            ("EBL_NODE", self.node_url.as_str()),
            ("EBL_PASSPHRASE", PASSPHRASE),
        ];
        if !cert.is_empty() {
            env.push(("EBL_NODE_CERT", cert.as_str()));
        }
        let mut all: Vec<&str> = self.flags.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        run(&self.ebl, &all, &env)
    }

    /// A `--json` run that must succeed.
    #[track_caller]
    pub fn json(&self, who: &str, args: &[&str]) -> Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        self.ebl(who, &full).ok().json()
    }

    /// A `--json` run that must be refused with `code` (exit code `exit`).
    #[track_caller]
    pub fn refused(&self, who: &str, args: &[&str], exit: i32, code: &str) {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let run = self.ebl(who, &full);
        assert_eq!(
            (run.code, run.json()["error"]["code"].as_str()),
            (exit, Some(code)),
            "{args:?}: {}",
            run.stdout
        );
    }

    /// Makes `who`'s key and has the operator register it.
    pub fn admit(&self, who: &str, name: &str, role: &str, ids: &[&str]) -> String {
        let public = self.json(who, &["key", "new", who])["public_key"]
            .as_str()
            .expect("key")
            .to_owned();
        let mut args = vec![
            "party", "register", name, "--key", &public, "--role", role, "--as", "operator",
        ];
        for id in ids {
            args.extend_from_slice(&["--id", id]);
        }
        assert_eq!(self.json("operator", &args)["status"], "accepted");
        public
    }

    /// Puts testkit key `seed` into `who`'s wallet as key `who` (an admin of a test consortium).
    pub fn import_testkit_key(&self, who: &str, seed: u8) {
        let file = self.path(&format!("{who}.seed"));
        let key = ebl_core::testkit::key(seed);
        std::fs::write(&file, ebl_core::bytes::to_hex(&key.to_bytes())).expect("seed");
        self.ebl(who, &["key", "import", who, &file]).ok();
    }

    /// [`Wallets::admit`] on a consortium that governs by two admins: `proposer` writes the proposal,
    /// `approver` co-signs and submits it.
    pub fn admit_by_two(
        &self,
        (proposer, approver): (&str, &str),
        who: &str,
        name: &str,
        role: &str,
        ids: &[&str],
    ) {
        let public = self.json(who, &["key", "new", who])["public_key"]
            .as_str()
            .expect("key")
            .to_owned();
        let proposal = self.path(&format!("{who}.proposal"));
        let mut args = vec![
            "party", "register", name, "--key", &public, "--role", role, "--as", proposer, "-o",
            &proposal,
        ];
        for id in ids {
            args.extend_from_slice(&["--id", id]);
        }
        self.json(proposer, &args);
        let done = self.json(approver, &["gov", "approve", &proposal, "--as", approver]);
        assert_eq!(done["status"], "accepted", "{done}");
    }

    /// The DCSA to-order document with `reference`, optionally made straight to `consignee`.
    pub fn document(&self, reference: &str, straight_to: Option<&str>) -> String {
        let mut doc: Value =
            serde_json::from_str(ebl_core::sample::DCSA_TO_ORDER_BOL).expect("fixture");
        doc["transportDocumentReference"] = reference.into();
        if let Some(consignee) = straight_to {
            doc["isToOrder"] = false.into();
            doc["documentParties"]["consignee"] = serde_json::json!({ "partyName": consignee });
        }
        let path = self.path(&format!("{reference}.json"));
        std::fs::write(&path, serde_json::to_vec_pretty(&doc).expect("json")).expect("write");
        path
    }

    /// The carrier issues a to-order bill to the shipper.
    pub fn issue(&self, reference: &str) -> String {
        let doc = self.document(reference, None);
        self.json(
            "carrier",
            &["bill", "issue", &doc, "--to", "DCSA CTK", "--as", "carrier"],
        )["bill"]
            .as_str()
            .expect("bill")
            .to_owned()
    }

    /// `who` sells a to-order bill it holds to the party named `buyer`: endorses it to the buyer's
    /// order and hands possession over.
    pub fn sell(&self, who: &str, bill: &str, buyer: &str) {
        self.json(
            who,
            &[
                "bill",
                "endorse",
                bill,
                "--to",
                buyer,
                "--to-order",
                "--as",
                who,
            ],
        );
        self.json(who, &["bill", "transfer", bill, "--to", buyer, "--as", who]);
    }

    /// The bill as `who` sees it.
    pub fn show(&self, who: &str, bill: &str) -> Value {
        self.json(who, &["bill", "show", bill, "--as", who])["bill"].clone()
    }

    /// A party's id by registered name.
    pub fn id(&self, name: &str) -> String {
        self.json("operator", &["party", "show", name])["id"]
            .as_str()
            .expect("id")
            .to_owned()
    }

    /// `holder` offers `bill` to `bank` (its name) as collateral for `amount` on `loan`, and the bank's
    /// wallet `bank_wallet` accepts the offer.
    pub fn pledge(
        &self,
        holder: &str,
        bill: &str,
        bank_wallet: &str,
        bank: &str,
        amount: &str,
        loan: &str,
    ) {
        let offer = self.offer_pledge(holder, bill, bank, (amount, "USD"), loan);
        assert_eq!(
            self.json(
                bank_wallet,
                &["bill", "pledge-accept", &offer, "--as", bank_wallet]
            )["status"],
            "accepted"
        );
    }

    /// `holder` writes an offer of `bill` to `bank` (its name) as collateral for `(amount, currency)` on
    /// `loan`; the offer file's path.
    pub fn offer_pledge(
        &self,
        holder: &str,
        bill: &str,
        bank: &str,
        (amount, currency): (&str, &str),
        loan: &str,
    ) -> String {
        let offer = self.path(&format!("offer-{}.json", now_ms()));
        self.json(
            holder,
            &[
                "bill",
                "pledge",
                bill,
                "--bank",
                bank,
                "--amount",
                amount,
                "--currency",
                currency,
                "--loan",
                loan,
                "-o",
                &offer,
                "--as",
                holder,
            ],
        );
        offer
    }

    /// Exports the bill as `who`, and has a bank's wallet verify the file offline; returns the verdict.
    pub fn bank_checks(&self, who: &str, bill: &str) -> Value {
        let file = self.path(&format!("bundle-{}.json", now_ms()));
        self.json(who, &["bill", "export", bill, "-o", &file, "--as", who]);
        let chain = self.json(who, &["chain", "show"])["chain"]
            .as_str()
            .expect("chain id")
            .to_owned();
        let home = self.home("offline-bank").to_string_lossy().into_owned();
        // No node address that answers: the check must need none; the bank names the chain it trusts.
        let run = run(
            &self.ebl,
            &["--json", "verify", &file, "--chain", &chain],
            &[("EBL_HOME", &home), ("EBL_NODE", "http://127.0.0.1:9")],
        )
        .ok();
        run.json()["verdict"].clone()
    }
}
