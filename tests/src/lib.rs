//! The harness of the integration suite: the real `ebl-node` and `ebl` binaries, node processes that can
//! be killed and restarted, and one wallet home per party.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use ebl_core::api::{
    sign_peer_request, sign_request, BatchRequest, BatchResponse, SubmitOutcome, HEADER_KEY,
    HEADER_SIGNATURE, HEADER_TIME,
};
use ebl_core::{Hash, PartyKey, SignedTransaction, SigningKey};
use serde_json::Value;

pub mod browser;
pub mod carrier;
pub mod cluster;
pub mod hosts;
pub mod language;
pub mod ledgers;
pub mod lying;
pub mod ports;
pub mod proxy;
pub mod relay;
pub mod releases;
pub mod wallets;

pub use wallets::{Wallets, CAST};

pub const PASSPHRASE: &str = "integration passphrase";

/// The workspace's target directory for this build profile.
fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("EBL_BIN_DIR") {
        return PathBuf::from(dir);
    }
    // tests/ sits in the workspace root; binaries are built next to this test's own executable.
    let exe = std::env::current_exe().unwrap_or_default();
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_owned)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/debug"))
}

/// Path of a workspace binary. Unless `EBL_BIN_DIR` names prebuilt ones, the binaries are brought up to
/// date once per test process (a no-op when the README's `cargo test --workspace --features ebl-cli/embedded-node` just built them), so a suite run
/// alone never drives stale binaries.
pub fn bin(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let dir = bin_dir();
    if std::env::var_os("EBL_BIN_DIR").is_none() {
        BUILT.get_or_init(|| {
            let mut build = Command::new(env!("CARGO"));
            build
                .args([
                    "build",
                    "--bins",
                    "-p",
                    "ebl-node",
                    "-p",
                    "ebl-cli",
                    "-p",
                    "ebl-bench",
                    // As the README's test command builds them: `ebl demo` plays on its embedded node.
                    "--features",
                    "ebl-cli/embedded-node",
                ])
                .current_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
            if dir.ends_with("release") {
                build.arg("--release");
            }
            let status = build.status();
            assert!(
                status.is_ok_and(|s| s.success()),
                "building the ebl binaries failed"
            );
        });
    }
    dir.join(name)
}

/// A signed request's time: the clock, but never the same millisecond twice (the node accepts each
/// signature once).
pub fn request_time_ms() -> u64 {
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

/// Deterministic pseudo-random numbers (xorshift64), so a failing run can be replayed from its seed.
pub fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

pub fn now_ms() -> u64 {
    ebl_core::time::unix_ms(std::time::SystemTime::now())
}

/// What one run of a binary gave.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", self.stdout, self.stderr))
    }

    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

pub fn run(program: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(program);
    command.args(args);
    // The words for people follow the locale; tests read the English ones unless they ask otherwise.
    command.env("EBL_LANG", "en");
    for (k, v) in env {
        command.env(k, v);
    }
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", program.display()));
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// An `ebl-node` process over a data directory: the one harness of the integration suites and of
/// `ebl-bench` (which runs the release binary and reads the process's CPU time, memory and disk).
#[derive(Debug)]
pub struct NodeProcess {
    /// The `ebl-node` binary it runs.
    pub binary: PathBuf,
    pub data: PathBuf,
    pub url: String,
    /// Where it serves its Prometheus metrics, when it says so on start.
    pub metrics_url: Option<String>,
    /// Where it listens: port 0 (any) unless it is a cluster member, which serves its peers at the
    /// address its genesis names.
    pub listen: String,
    /// Extra arguments to `ebl-node run` (a cluster's snapshot interval, for instance).
    pub run_args: Vec<String>,
    /// The network namespace it runs in (a host of its own, `crate::hosts`); none: the tests'.
    pub namespace: Option<String>,
    child: Option<Child>,
}

impl NodeProcess {
    /// `ebl-node init` with `operator` as the operator key, then start it.
    pub fn init(data: &Path, operator: &PartyKey) -> NodeProcess {
        let operator = operator.to_hex();
        NodeProcess::initialised(
            data,
            &["--chain-name", "integration", "--operator", &operator],
        )
    }

    /// `ebl-node init --tls-self-signed` with `operator` as the operator key, then start it: it serves
    /// https with the development certificate in `data/tls/cert.pem`.
    pub fn init_tls(data: &Path, operator: &PartyKey) -> NodeProcess {
        let operator = operator.to_hex();
        NodeProcess::initialised(
            data,
            &[
                "--chain-name",
                "integration",
                "--operator",
                &operator,
                "--tls-self-signed",
            ],
        )
    }

    /// The node's development certificate, when it serves TLS.
    pub fn cert(&self) -> Option<PathBuf> {
        let cert = self.data.join("tls").join("cert.pem");
        cert.exists().then_some(cert)
    }

    /// `ebl-node init --genesis FILE` (a consortium genesis naming this directory's node key), then
    /// start it.
    pub fn init_from_genesis(data: &Path, genesis: &Path) -> NodeProcess {
        NodeProcess::initialised(data, &["--genesis", &genesis.to_string_lossy()])
    }

    /// `ebl-node init` with `args` on `data`, then start it.
    fn initialised(data: &Path, args: &[&str]) -> NodeProcess {
        let data_arg = data.to_string_lossy().into_owned();
        let mut full = vec!["init"];
        full.extend_from_slice(args);
        full.extend_from_slice(&["--data", &data_arg]);
        run(&bin("ebl-node"), &full, &[]).ok();
        let mut node = NodeProcess {
            binary: bin("ebl-node"),
            data: data.to_owned(),
            url: String::new(),
            metrics_url: None,
            listen: "127.0.0.1:0".into(),
            run_args: Vec::new(),
            namespace: None,
            child: None,
        };
        node.start();
        node
    }

    /// `ebl-node init --genesis FILE` for a cluster member, then start it on `listen` (its peer address).
    pub fn init_member(data: &Path, genesis: &Path, listen: &str) -> NodeProcess {
        NodeProcess::member_like(data, genesis, &[], listen)
    }

    /// `ebl-node init --genesis FILE`, then `flags`, on `data`, and start it on `listen`.
    fn member_like(data: &Path, genesis: &Path, flags: &[&str], listen: &str) -> NodeProcess {
        let (genesis, data_arg) = (genesis.to_string_lossy(), data.to_string_lossy());
        let mut args = vec!["init", "--genesis", &genesis];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["--data", &data_arg]);
        run(&bin("ebl-node"), &args, &[]).ok();
        let mut node = NodeProcess::stopped(data, listen);
        node.start();
        node
    }

    /// A node over `data`, to listen on `listen`, that is not running yet (`start` runs it).
    pub fn stopped(data: &Path, listen: &str) -> NodeProcess {
        NodeProcess::of_binary(&bin("ebl-node"), data, listen)
    }

    /// [`NodeProcess::stopped`] running `binary` (the benchmark's release build, for one).
    pub fn of_binary(binary: &Path, data: &Path, listen: &str) -> NodeProcess {
        NodeProcess {
            binary: binary.to_owned(),
            data: data.to_owned(),
            url: String::new(),
            metrics_url: None,
            listen: listen.to_owned(),
            // Metrics on another loopback address: a port picked for a cluster member that has not
            // started yet must not be taken by another member's metrics listener.
            run_args: vec!["--metrics-listen".into(), "127.0.0.2:0".into()],
            namespace: None,
            child: None,
        }
    }

    /// `ebl-node init --genesis FILE --follow GRANT` for an auditor's node, then start it on `listen`
    /// (the grant's peer address).
    pub fn follow(data: &Path, genesis: &Path, grant: &Path, listen: &str) -> NodeProcess {
        NodeProcess::member_like(
            data,
            genesis,
            &["--follow", &grant.to_string_lossy()],
            listen,
        )
    }

    /// `ebl-node init --genesis FILE --join` for a node whose member governance admitted after the
    /// genesis, then start it on `listen`.
    pub fn join(data: &Path, genesis: &Path, listen: &str) -> NodeProcess {
        NodeProcess::member_like(data, genesis, &["--join"], listen)
    }

    pub fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// The process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// `ebl-node node-key`: makes the node key of `data` and returns its public half.
    pub fn node_key(data: &Path) -> String {
        NodeProcess::node_key_by(&bin("ebl-node"), data)
    }

    /// [`NodeProcess::node_key`] by the `ebl-node` at `binary`.
    pub fn node_key_by(binary: &Path, data: &Path) -> String {
        let data_arg = data.to_string_lossy().into_owned();
        run(binary, &["node-key", "--data", &data_arg], &[])
            .ok()
            .stdout
            .trim()
            .to_owned()
    }

    /// Starts the process on 127.0.0.1:0 and waits for it to say where it listens.
    pub fn start(&mut self) {
        // `ip netns exec` execs the node in place: the child's pid is the node's.
        let mut command = match &self.namespace {
            Some(namespace) => {
                let mut c = Command::new("ip");
                c.args(["netns", "exec", namespace]).arg(&self.binary);
                c
            }
            None => Command::new(&self.binary),
        };
        let mut child = command
            .args(["run", "--listen", &self.listen, "--log-level"])
            .arg(std::env::var("EBL_TEST_LOG").unwrap_or_else(|_| "warn".into()))
            .arg("--data")
            .arg(&self.data)
            .args(&self.run_args)
            .stdout(Stdio::piped())
            .stderr(self.log_file())
            .spawn()
            .expect("start ebl-node");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the address");
        // "listening on URL", then "metrics on METRICS_URL" when metrics are served.
        let words: Vec<&str> = line.split_whitespace().collect();
        let ["listening", "on", url, rest @ ..] = &words[..] else {
            let log = std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default();
            panic!("unexpected first line from ebl-node: {line:?}; its log: {log}")
        };
        self.url = (*url).to_owned();
        self.metrics_url = match rest {
            ["metrics", "on", metrics, ..] => Some((*metrics).to_owned()),
            _ => None,
        };
        self.child = Some(child);
    }

    /// The node's log (warnings and errors), appended to across restarts beside its data directory.
    fn log_file(&self) -> Stdio {
        let path = self.data.with_extension("log");
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    }

    /// SIGKILL: no chance to finish anything.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM, then wait: the graceful stop.
    pub fn terminate(&mut self) -> i32 {
        match self.child.take() {
            Some(mut child) => {
                let _ = Command::new("kill")
                    .arg("-TERM")
                    .arg(child.id().to_string())
                    .status();
                child.wait().ok().and_then(|s| s.code()).unwrap_or(-1)
            }
            None => 0,
        }
    }

    /// `ebl-node verify --json` on the data directory (the node must be stopped).
    pub fn verify(&self) -> Run {
        let data = self.data.to_string_lossy().into_owned();
        run(&self.binary, &["verify", "--json", "--data", &data], &[])
    }

    /// CPU time the running process has used so far (user and system), in seconds.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid()?)).ok()?;
        // The fields after the command name (in parentheses, and it may hold spaces).
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        // /proc counts in clock ticks, 100 per second on Linux (USER_HZ).
        Some((utime + stime) / 100.0)
    }

    /// Resident memory of the running process, in bytes.
    pub fn rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()?)).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// Bytes of the data directory on disk (its files' sizes: sled's, the transaction log, the
    /// witness, the keys).
    pub fn disk_bytes(&self) -> u64 {
        fn walk(dir: &Path) -> u64 {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => walk(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.data)
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A small HTTP client for raw requests and signed reads.
#[derive(Debug, Clone)]
pub struct Http {
    pub base: String,
    pub chain: Hash,
    agent: ureq::Agent,
}

impl Http {
    pub fn new(base: &str, chain: Hash) -> Http {
        Http::trusting(base, chain, None)
    }

    /// A client that accepts only the certificate in `cert` (PEM) from an https node.
    pub fn trusting(base: &str, chain: Hash, cert: Option<&Path>) -> Http {
        let mut config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)));
        if let Some(cert) = cert {
            let pem = std::fs::read(cert).expect("node certificate");
            let roots: Vec<_> = ureq::tls::parse_pem(&pem)
                .filter_map(|item| match item {
                    Ok(ureq::tls::PemItem::Certificate(c)) => Some(c),
                    _ => None,
                })
                .collect();
            config = config.tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
                    .build(),
            );
        }
        let agent = config.build().into();
        Http {
            base: base.to_owned(),
            chain,
            agent,
        }
    }

    /// The URL of `path` on the node.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Reads an answer: its status and its JSON body (or the text, if it is not JSON).
    fn answer(
        response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<(u16, Value), String> {
        let mut response = response.map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| e.to_string())?;
        Ok((
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        ))
    }

    /// POSTs raw bytes; `Err` if the node did not answer.
    pub fn post(
        &self,
        path: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(u16, Value), String> {
        Self::answer(
            self.agent
                .post(&self.url(path))
                .header("content-type", content_type)
                .send(body),
        )
    }

    /// POSTs `body` to a peer route signed by the node key `node`, as a member node signs its requests
    /// (`ebl_core::api::sign_peer_request`).
    pub fn post_as_node(
        &self,
        path: &str,
        body: &[u8],
        node: &SigningKey,
    ) -> Result<(u16, Value), String> {
        let time = now_ms();
        let signature = sign_peer_request(node, &self.chain, path, body, time);
        Self::answer(
            self.agent
                .post(&self.url(path))
                .header("content-type", "application/octet-stream")
                .header(HEADER_KEY, PartyKey::of(node).to_hex())
                .header(HEADER_TIME, time.to_string())
                .header(HEADER_SIGNATURE, signature.to_string())
                .send(body),
        )
    }

    /// Submits; `Err` if the node did not answer (it may be down).
    pub fn submit(&self, tx: &SignedTransaction) -> Result<SubmitOutcome, String> {
        let body = serde_json::to_vec(tx).map_err(|e| e.to_string())?;
        let (status, body) = self.post("/v1/transactions", "application/json", &body)?;
        if status != 200 && status != 422 {
            return Err(format!("status {status}: {body}"));
        }
        serde_json::from_value(body).map_err(|e| e.to_string())
    }

    /// A JSON batch: its outcomes, or the status and body of a refused batch.
    pub fn batch(
        &self,
        txs: &[SignedTransaction],
    ) -> Result<Result<Vec<SubmitOutcome>, (u16, Value)>, String> {
        let body = serde_json::to_vec(&BatchRequest {
            transactions: txs.to_vec(),
        })
        .map_err(|e| e.to_string())?;
        let (status, body) = self.post("/v1/batches", "application/json", &body)?;
        if status != 200 {
            return Ok(Err((status, body)));
        }
        let response: BatchResponse = serde_json::from_value(body).map_err(|e| e.to_string())?;
        Ok(Ok(response.results))
    }

    /// A batch in the binary form, answered in binary receipts (their media type checked).
    pub fn batch_binary(
        &self,
        txs: &[SignedTransaction],
    ) -> Result<Result<Vec<SubmitOutcome>, (u16, Value)>, String> {
        let mut response = self
            .agent
            .post(&self.url("/v1/batches"))
            .header("content-type", ebl_core::wire::BATCH_MEDIA_TYPE)
            .send(&ebl_core::wire::encode_batch(txs)[..])
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(64 * 1024 * 1024)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        if status != 200 {
            return Ok(Err((
                status,
                serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            )));
        }
        let media = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        if media != Some(ebl_core::wire::RECEIPTS_MEDIA_TYPE) {
            return Err(format!("receipts came as {media:?}"));
        }
        ebl_core::wire::decode_receipts(&bytes, txs.len())
            .map(Ok)
            .map_err(|e| e.to_string())
    }

    /// GET without a signature.
    pub fn get(&self, path: &str) -> Result<(u16, Value), String> {
        Self::answer(self.agent.get(&self.url(path)).call())
    }

    /// GET signed by `key` at `time_ms`.
    pub fn get_signed_at(
        &self,
        path: &str,
        key: &SigningKey,
        time_ms: u64,
    ) -> Result<(u16, Value), String> {
        let signature = sign_request(key, &self.chain, "GET", path, &[], time_ms);
        Self::answer(
            self.agent
                .get(&self.url(path))
                .header(HEADER_KEY, &PartyKey::of(key).to_hex())
                .header(HEADER_TIME, &time_ms.to_string())
                .header(HEADER_SIGNATURE, &signature.to_string())
                .call(),
        )
    }

    /// GET signed by `key`, now.
    pub fn get_as(&self, path: &str, key: &SigningKey) -> Result<(u16, Value), String> {
        self.get_signed_at(path, key, request_time_ms())
    }
}

/// A node process plus one wallet home per party, all driven through the `ebl` binary.
/// A ledger on a node process, with the parties' wallets (`Wallets`, which it derefs to).
#[derive(Debug)]
pub struct Market {
    pub wallets: Wallets,
    pub node: NodeProcess,
    pub chain: Hash,
    pub operator: SigningKey,
}

impl Market {
    /// A new ledger; the operator's key is in the `operator` wallet.
    pub fn open() -> Market {
        Market::opened(false)
    }

    /// A new ledger served over TLS with a development certificate, which every wallet pins
    /// (`EBL_NODE_CERT`).
    pub fn open_tls() -> Market {
        Market::opened(true)
    }

    fn opened(tls: bool) -> Market {
        let dir = tempfile::tempdir().expect("temp dir");
        let operator = ebl_core::testkit::key(1);
        let node = if tls {
            NodeProcess::init_tls(&dir.path().join("node"), &PartyKey::of(&operator))
        } else {
            NodeProcess::init(&dir.path().join("node"), &PartyKey::of(&operator))
        };
        let seed = dir.path().join("operator.seed");
        std::fs::write(&seed, ebl_core::bytes::to_hex(&operator.to_bytes())).expect("seed");
        let genesis = Http::trusting(&node.url, Hash::ZERO, node.cert().as_deref())
            .get("/v1/genesis")
            .expect("genesis")
            .1;
        let chain = genesis["chain"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("chain id");
        let market = Market {
            wallets: Wallets::new(dir, &node.url, node.cert(), bin("ebl")),
            node,
            chain,
            operator,
        };
        market
            .ebl(
                "operator",
                &["key", "import", "operator", &seed.to_string_lossy()],
            )
            .ok();
        market
    }

    /// A market over a node already running in `dir` (a consortium's, whose admins have their own
    /// wallets); `operator` is a key the tests may sign raw transactions with.
    pub fn over(dir: tempfile::TempDir, node: NodeProcess, operator: SigningKey) -> Market {
        let genesis = Http::new(&node.url, Hash::ZERO)
            .get("/v1/genesis")
            .expect("genesis")
            .1;
        let chain = genesis["chain"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .expect("chain id");
        Market {
            wallets: Wallets::new(dir, &node.url, node.cert(), bin("ebl")),
            node,
            chain,
            operator,
        }
    }

    /// With the usual cast admitted: a carrier for the DCSA document, shippers, buyers and banks.
    pub fn with_cast() -> Market {
        let m = Market::open();
        m.admit_cast();
        m
    }

    /// The usual cast on a node that serves TLS.
    pub fn with_cast_over_tls() -> Market {
        let m = Market::open_tls();
        m.admit_cast();
        m
    }

    pub fn http(&self) -> Http {
        Http::trusting(&self.node.url, self.chain, self.node.cert().as_deref())
    }
}

impl std::ops::Deref for Market {
    type Target = Wallets;
    fn deref(&self) -> &Wallets {
        &self.wallets
    }
}
