//! A node on 127.0.0.1:0 in a temporary directory, and a small HTTP client that speaks its API.

use std::time::Duration;

use ebl_core::api::SubmitOutcome;
use ebl_core::testkit::{self, Cast};
use ebl_core::{Action, BillId, Hash, PartyKey, SignedTransaction, SigningKey};
use ebl_node::{DataDir, Settings};
use ebl_tests::Http;
use serde_json::Value;

pub(crate) use ebl_node::LocalNode as Server;

/// The shared harness's HTTP client (`ebl_tests::Http`), for a node in this test process: it is always
/// up, so a request it does not answer fails the test here, and every answer comes back as it is.
#[derive(Clone)]
pub(crate) struct Client {
    pub http: Http,
}

impl std::ops::Deref for Client {
    type Target = Http;
    fn deref(&self) -> &Http {
        &self.http
    }
}

impl Client {
    pub(crate) fn new(base: &str, chain: Hash) -> Client {
        Client {
            http: Http::new(base, chain),
        }
    }

    /// POSTs raw bytes; returns the status and the JSON body.
    #[track_caller]
    pub(crate) fn post_raw(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        self.http
            .post(path, content_type, body)
            .expect("the node answers")
    }

    #[track_caller]
    pub(crate) fn submit(&self, tx: &SignedTransaction) -> SubmitOutcome {
        self.http.submit(tx).expect("a submit outcome")
    }

    #[track_caller]
    pub(crate) fn batch(
        &self,
        txs: &[SignedTransaction],
    ) -> Result<Vec<SubmitOutcome>, (u16, Value)> {
        self.http.batch(txs).expect("the node answers")
    }

    /// A batch in the binary form, answered in binary receipts.
    #[track_caller]
    pub(crate) fn batch_binary(
        &self,
        txs: &[SignedTransaction],
    ) -> Result<Vec<SubmitOutcome>, (u16, Value)> {
        self.http.batch_binary(txs).expect("the node answers")
    }

    /// GET without a signature.
    #[track_caller]
    pub(crate) fn get(&self, path: &str) -> (u16, Value) {
        self.http.get(path).expect("the node answers")
    }

    /// GET signed by `key`, at `time_ms`.
    #[track_caller]
    pub(crate) fn get_signed_at(&self, path: &str, key: &SigningKey, time_ms: u64) -> (u16, Value) {
        self.http
            .get_signed_at(path, key, time_ms)
            .expect("the node answers")
    }

    #[track_caller]
    pub(crate) fn get_as(&self, path: &str, key: &SigningKey) -> (u16, Value) {
        self.get_signed_at(path, key, request_time_ms())
    }

    /// Submits, or `None` if the node did not answer with an outcome (stopped, power cut).
    pub(crate) fn try_submit(&self, tx: &SignedTransaction) -> Option<SubmitOutcome> {
        self.http.submit(tx).ok()
    }
}

/// A node with the test cast registered, plus helpers to act as any of them.
pub(crate) struct TestNode {
    pub cast: Cast,
    pub chain: Hash,
    pub dir: tempfile::TempDir,
    pub server: Server,
    pub settings: Settings,
    pub client: Client,
    clock: u64,
}

impl std::ops::Deref for TestNode {
    type Target = Client;
    fn deref(&self) -> &Client {
        &self.client
    }
}

pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

pub(crate) use ebl_tests::request_time_ms;

pub(crate) use ebl_tests::now_ms;

impl TestNode {
    /// A fresh node with nobody registered, of a chain whose genesis names `platform` as its PINT platform code.
    pub(crate) fn bare_on(settings: Settings, platform: &str) -> TestNode {
        let cast = Cast::new();
        let dir = tempfile::tempdir().expect("temp dir");
        let data = DataDir(dir.path().to_owned());
        let genesis = ebl_node::init(&data, "node-tests", PartyKey::of(&cast.operator), platform)
            .expect("init");
        let server = Self::open(&data, settings);
        TestNode {
            chain: genesis.chain_id(),
            client: Client::new(&server.url, genesis.chain_id()),
            cast,
            dir,
            server,
            settings,
            clock: now_ms(),
        }
    }

    fn open(data: &DataDir, settings: Settings) -> Server {
        Server::open(data, settings).expect("open the node")
    }

    /// A fresh node with the whole cast registered in one batch.
    pub(crate) fn start() -> TestNode {
        Self::start_with(Settings::default())
    }

    pub(crate) fn start_with(settings: Settings) -> TestNode {
        Self::start_on(settings, "EBL")
    }

    /// A fresh node on PINT platform `platform`, with the whole cast registered.
    pub(crate) fn start_on(settings: Settings, platform: &str) -> TestNode {
        let node = Self::bare_on(settings, platform);
        let txs = node.cast.registrations(node.chain);
        let results = node.batch(&txs).expect("registration batch");
        assert!(
            results
                .iter()
                .all(|r| matches!(r, SubmitOutcome::Accepted { .. })),
            "{results:?}"
        );
        node
    }

    /// The Prometheus text from the node's metrics listener.
    pub(crate) fn metrics(&self) -> String {
        let mut response = agent()
            .get(&self.server.metrics_url)
            .call()
            .expect("metrics GET");
        response.body_mut().read_to_string().expect("body")
    }

    pub(crate) fn data(&self) -> DataDir {
        DataDir(self.dir.path().to_owned())
    }

    pub(crate) fn restart(&mut self) {
        self.server.stop().expect("stop");
        self.server = Self::open(&self.data(), self.settings);
        self.client = Client::new(&self.server.url, self.chain);
    }

    pub(crate) fn sign(
        &mut self,
        prev: Hash,
        action: Action,
        signers: &[&SigningKey],
    ) -> SignedTransaction {
        self.clock += 1;
        testkit::signed(self.chain, prev, self.clock, action, signers)
    }

    /// The bill's current head, read as the operator.
    pub(crate) fn head_of(&self, bill: &BillId) -> Hash {
        let (status, body) = self.get_as(&format!("/v1/bills/{bill}"), &self.cast.operator);
        assert_eq!(status, 200, "{body}");
        body["bill"]["head"]
            .as_str()
            .and_then(|h| h.parse().ok())
            .expect("bill head")
    }

    /// Signs `action` against the bill's current head and submits it.
    pub(crate) fn act(&mut self, action: Action, signers: &[&SigningKey]) -> SubmitOutcome {
        let bill = action.bill().expect("a bill action");
        let head = self.head_of(&bill);
        let tx = self.sign(head, action, signers);
        self.submit(&tx)
    }

    /// Issues a bill to the shipper (`issue`), who hands it to the buyer: a bill with a history of two,
    /// held by someone other than its first holder.
    pub(crate) fn issue_to_buyer(&mut self, reference: &str) -> BillId {
        let bill = self.issue(reference);
        let (shipper, buyer) = (self.cast.shipper.key.clone(), self.cast.buyer.id);
        assert_accepted(&self.act(Action::Transfer { bill, to: buyer }, &[&shipper]));
        bill
    }

    /// Issues a to-order DCSA bill from the carrier to the shipper.
    pub(crate) fn issue(&mut self, reference: &str) -> BillId {
        let action = Action::Issue {
            document: testkit::to_order_document(reference).expect("document"),
            issue_to: self.cast.shipper.id,
            shipper: self.cast.shipper.id,
            consignee: None,
            replaces: None,
        };
        let carrier = self.cast.carrier.key.clone();
        let tx = self.sign(Hash::ZERO, action, &[&carrier]);
        match self.submit(&tx) {
            SubmitOutcome::Accepted { id, .. } => id,
            other => panic!("issue refused: {other:?}"),
        }
    }
}

#[track_caller]
pub(crate) fn assert_accepted(outcome: &SubmitOutcome) {
    assert!(
        matches!(outcome, SubmitOutcome::Accepted { .. }),
        "expected acceptance: {outcome:?}"
    );
}

#[track_caller]
pub(crate) fn assert_rejected(outcome: &SubmitOutcome, code: &str) {
    match outcome {
        SubmitOutcome::Rejected { error, .. } => assert_eq!(error.code, code, "{}", error.message),
        other => panic!("expected rejection {code}: {other:?}"),
    }
}

/// The cast's bank registered on the cluster of `members`, signed by `admins` (as many as its threshold
/// needs), submitted to member `at`'s node at `path` (`/v1/transactions`, with any query): the status and
/// the answer, with the outcome read from it.
pub(crate) fn register_bank_at(
    members: &ebl_tests::cluster::Members,
    at: usize,
    path: &str,
    admins: &[&SigningKey],
) -> (u16, Value, Option<SubmitOutcome>) {
    let tx = testkit::signed(
        members.chain,
        members.chain,
        1,
        Cast::new().bank.registration().expect("registration"),
        admins,
    );
    let body = serde_json::to_vec(&tx).expect("json");
    let (status, answer) = members
        .http(at)
        .post(path, "application/json", &body)
        .expect("the node answers");
    let outcome = serde_json::from_value(answer.clone()).ok();
    (status, answer, outcome)
}
