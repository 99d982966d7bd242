//! The `ebl-node` binary: init, run with a graceful SIGTERM, and verify with its exit codes.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use ebl_core::testkit::{self, Cast};
use ebl_core::PartyKey;
use ebl_store::{Kv, LedgerStore, SledKv};

use crate::support::Client;

fn ebl_node() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ebl-node"))
}

#[test]
fn init_run_stop_verify_and_detect_damage() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let cast = Cast::new();
    let out = ebl_node()
        .args([
            "init",
            "--chain-name",
            "cmd-test",
            "--platform",
            "EBL9",
            "--operator",
        ])
        .arg(PartyKey::of(&cast.operator).to_hex())
        .arg("--data")
        .arg(&data)
        .output()
        .expect("run init");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let store = ebl_store::LedgerStore::new(
        ebl_store::SledKv::open(&ebl_node::DataDir(data.clone()).store()).expect("open store"),
    );
    assert_eq!(
        store.genesis().expect("read").expect("genesis").platform,
        "EBL9",
        "the PINT platform code is the genesis's, sealed in the store"
    );
    drop(store);
    let chain: ebl_core::Hash = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("chain id printed");

    // A second init refuses to overwrite the ledger.
    let again = ebl_node()
        .arg("init")
        .arg("--data")
        .arg(&data)
        .output()
        .expect("run init");
    assert_eq!(
        again.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(String::from_utf8_lossy(&again.stderr).contains("already"));

    let mut child = ebl_node()
        .args(["run", "--listen", "127.0.0.1:0", "--log-json", "--data"])
        .arg(&data)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start node");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("read address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("address line")
        .to_owned();
    let client = Client::new(&url, chain);
    let tx = testkit::signed(
        chain,
        chain,
        1,
        cast.bank.registration().expect("reg"),
        &[&cast.operator],
    );
    assert!(matches!(
        client.submit(&tx),
        ebl_core::api::SubmitOutcome::Accepted { .. }
    ));
    // SIGTERM: graceful stop, exit 0.
    let killed = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "node exited with {status}");

    let out = ebl_node()
        .args(["verify", "--data"])
        .arg(&data)
        .output()
        .expect("verify");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("ok: chain"));
    // Issue 14: the progress bar wrote `\r` into a pipe; it is drawn for a terminal only.
    assert!(
        !out.stderr.contains(&b'\r'),
        "{:?}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Damage the registered party's record: verify names it and exits 1.
    {
        let kv = SledKv::open(&data.join("store")).expect("open");
        let store = LedgerStore::new(kv);
        let (key, mut value) = store
            .raw_entries()
            .expect("entries")
            .into_iter()
            .find(|(k, _)| k[0] == b'p')
            .expect("a party record");
        value[3] ^= 0x01;
        store.kv().apply(vec![(key, Some(value))]).expect("damage");
        store.sync().expect("sync");
    }
    let out = ebl_node()
        .args(["verify", "--json", "--data"])
        .arg(&data)
        .output()
        .expect("verify");
    assert_eq!(out.status.code(), Some(1));
    let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json verdict");
    assert_eq!(verdict["verdict"], "fault");
    assert_eq!(verdict["failure"]["code"], "storage_corrupt");
    assert!(
        verdict["failure"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("70")),
        "names the record key: {verdict}"
    );
}

#[test]
fn bad_usage_exits_2() {
    let out = ebl_node().arg("frobnicate").output().expect("run");
    assert_eq!(out.status.code(), Some(2));
    let out = ebl_node()
        .args([
            "init",
            "--operator",
            "not-a-key",
            "--data",
            "/nonexistent/x",
        ])
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A platform code PINT's schema would refuse (over 4 characters).
    let out = ebl_node()
        .args(["init", "--platform", "EBLTEST", "--data", "/nonexistent/x"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("platform code"));
}

/// Issue 14: `ebl-node run --data new-dir` on a busy port first created a ledger, then failed.
#[test]
fn regression_run_on_a_busy_port_first_creates_a_ledger() {
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("address").port();
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("new-dir");
    let out = ebl_node()
        .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(&data)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !data.exists(),
        "a ledger was made for a node that could not listen"
    );
}

/// Starts a node process and waits for its "listening on" line (empty if it never came).
fn listening(mut command: std::process::Command, stderr: Stdio) -> (std::process::Child, String) {
    let mut child = command
        .env("EBL_METRICS_LISTEN", "127.0.0.1:0")
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("start");
    let stdout = child.stdout.take().expect("stdout");
    let line = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.starts_with("listening on"))
        .unwrap_or_default();
    (child, line)
}

/// Issue 14: `ebl-node` with no command ignored `EBL_LISTEN` (and `run`'s other flags' variables).
#[test]
fn regression_ebl_node_alone_ignores_ebl_listen() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("dir");
    let mut command = ebl_node();
    command
        .arg("--data")
        .arg(dir.path().join("node"))
        .env("EBL_LISTEN", format!("127.0.0.1:{port}"));
    let (mut child, line) = listening(command, Stdio::null());
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        line.starts_with(&format!("listening on http://127.0.0.1:{port} ")),
        "{line}"
    );
}

/// `ebl-node run` on a free port of 127.0.0.1 over `data`: the process, its first line, the port.
fn run_on_a_free_port(data: &std::path::Path) -> (std::process::Child, String, u16) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut command = ebl_node();
    command
        .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data);
    let (child, line) = listening(command, Stdio::null());
    (child, line, port)
}

/// Issue 14: `ebl-node verify` beside a running node printed sled's raw lock error and exited 3, which
/// its help did not document. It now asks the running node (where it wrote it listens) to verify itself;
/// a node it cannot ask is `store_in_use`, exit 4.
#[test]
fn regression_verify_beside_a_running_node_asks_the_node() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("node");
    let (mut child, line, port) = run_on_a_free_port(&data);
    let listening = line.starts_with("listening on");
    let verify = |args: &[&str]| {
        ebl_node()
            .args(["verify", "--data"])
            .arg(&data)
            .args(args)
            .output()
            .expect("verify")
    };
    let live = verify(&[]);
    let live_json = verify(&["--json"]);
    let nobody = verify(&["--node", "http://127.0.0.1:1"]);
    let written = std::fs::read_to_string(data.join("listening")).unwrap_or_default();
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    assert!(listening, "the node did not start");
    assert_eq!(written.trim(), format!("http://127.0.0.1:{port}"));
    let stdout = String::from_utf8_lossy(&live.stdout);
    assert_eq!(
        live.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&live.stderr)
    );
    assert!(
        stdout.starts_with("ok: chain")
            && stdout.contains(&format!("by the running node at http://127.0.0.1:{port}")),
        "{stdout}"
    );
    let json: serde_json::Value = serde_json::from_slice(&live_json.stdout).expect("json");
    assert_eq!(json["verdict"], "ok", "{json}");
    assert!(json["report"]["blocks"].is_u64(), "{json}");
    let stderr = String::from_utf8_lossy(&nobody.stderr);
    assert_eq!(nobody.status.code(), Some(4), "{stderr}");
    assert!(
        stderr.contains("[store_in_use]")
            && stderr.contains("does not answer")
            && !stderr.contains("Os {"),
        "{stderr}"
    );
    // Stopped, the node removed its address, and the same store verifies here.
    assert!(!data.join("listening").exists());
    let out = verify(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("running node"));
}

/// Issue 30: `ebl-node upgrade` takes sled's lock on the store without opening it; beside a running node
/// it is refused as `store_in_use`, leaves no scratch copy, and the node goes on serving.
#[test]
fn an_upgrade_beside_a_running_node_is_refused_and_the_node_goes_on() {
    let dir = tempfile::tempdir().expect("dir");
    let data = dir.path().join("node");
    let (mut child, line, _) = run_on_a_free_port(&data);
    let upgrade = ebl_node()
        .args(["upgrade", "--json", "--data"])
        .arg(&data)
        .output()
        .expect("upgrade");
    let live = ebl_node()
        .args(["verify", "--data"])
        .arg(&data)
        .output()
        .expect("verify");
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let _ = child.wait();
    assert!(line.starts_with("listening on"), "the node did not start");
    let json: serde_json::Value = serde_json::from_slice(&upgrade.stdout).expect("json");
    assert_eq!(json["error"]["code"], "store_in_use", "{json}");
    assert_ne!(upgrade.status.code(), Some(0));
    assert!(!dir.path().join("node.upgrading.source").exists());
    assert!(!dir.path().join("node.upgrading").exists());
    assert_eq!(
        live.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&live.stderr)
    );
    // Stopped, the same directory upgrades (it is already current).
    let again = ebl_node()
        .args(["upgrade", "--json", "--data"])
        .arg(&data)
        .output()
        .expect("upgrade");
    let json: serde_json::Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(json["upgrade"], "current", "{json}");
}

/// Issue 14: logs written to a file carried ANSI colour codes.
#[test]
fn regression_logs_written_to_a_file_carry_no_colour_codes() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let dir = tempfile::tempdir().expect("dir");
    let log = dir.path().join("node.log");
    let mut command = ebl_node();
    command
        .args(["run", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(dir.path().join("node"))
        // Colour would be asked for if anything honoured it; a file must still get none.
        .env("CLICOLOR_FORCE", "1")
        .env("EBL_LOG", "info");
    let (mut child, line) = listening(
        command,
        Stdio::from(std::fs::File::create(&log).expect("log file")),
    );
    let _ = child.kill();
    let _ = child.wait();
    let started = line.starts_with("listening on");
    assert!(started, "the node did not start");
    let text = std::fs::read_to_string(&log).expect("log");
    assert!(text.contains("INFO"), "the node logged nothing: {text:?}");
    assert!(
        !text.contains('\u{1b}'),
        "colour codes in a log file: {text:?}"
    );
}

/// Issue 14: there was no `ebl-node completions`.
#[test]
fn completions_are_printed_for_the_shell() {
    let out = ebl_node()
        .args(["completions", "bash"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let script = String::from_utf8_lossy(&out.stdout);
    assert!(
        script.contains("ebl-node") && script.contains("verify"),
        "{script}"
    );
}

/// Issue 13: `store.log`, sled's files and the data directory were 0644/0755, so any account on the host
/// could read the loans in them.
#[cfg(unix)]
#[test]
fn regression_the_data_directory_is_private_to_the_node() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("temp dir");
    let data = ebl_node::DataDir(dir.path().join("data"));
    ebl_node::init(
        &data,
        "private",
        PartyKey::of(&ebl_core::testkit::key(1)),
        "EBL",
    )
    .expect("init");
    let node = ebl_node::LocalNode::open(&data, ebl_node::Settings::default()).expect("open");
    drop(node);
    let mut pending = vec![data.0.clone()];
    let mut files = 0;
    while let Some(path) = pending.pop() {
        let meta = std::fs::metadata(&path).expect("metadata");
        let mode = meta.permissions().mode() & 0o777;
        if meta.is_dir() {
            assert_eq!(mode, 0o700, "{}", path.display());
            for entry in std::fs::read_dir(&path).expect("read dir") {
                pending.push(entry.expect("entry").path());
            }
        } else if path
            .file_name()
            .is_some_and(|n| n == "node.key" || n == "store.log" || n == "store.witness")
        {
            // Files sled makes while it runs sit in 0700 directories, out of others' reach; these were
            // there when the node opened, and are 0600 themselves.
            files += 1;
            assert_eq!(mode, 0o600, "{}", path.display());
        }
    }
    assert!(files >= 2, "the node key and the transaction log");
}

/// Issue 35: `ebl-node init … | head -1` panicked with a backtrace once the reader had gone. Any command
/// whose stdout is closed before it prints ends quietly instead (`node-key` prints one line).
#[test]
fn regression_a_closed_stdout_ends_a_command_quietly_not_with_a_panic() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = ebl_node()
        .args(["node-key", "--data"])
        .arg(dir.path().join("data"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("ebl-node starts");
    // The reader goes before the command writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("ebl-node ends");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.code(), Some(0), "{stderr}");
}

/// Issue 35: a member's node made with `init --join` did not start as documented: a joining member is
/// in no genesis, so `ebl-node run` found no address to serve at and said the node key was no member's.
/// It now says what to give: the peer address the member was admitted with (`--listen`).
#[test]
fn regression_a_joining_node_without_listen_is_told_to_give_its_admitted_address() {
    let dir = tempfile::tempdir().expect("temp dir");
    let node_key = |name: &str| {
        let out = ebl_node()
            .args(["node-key", "--data"])
            .arg(dir.path().join(name))
            .output()
            .expect("node-key");
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let member = |name: &str, admin: u8, port: u16| {
        format!(
            "{name},{},{},127.0.0.1:{port}",
            PartyKey::of(&testkit::key(admin)).to_hex(),
            node_key(name)
        )
    };
    let genesis = dir.path().join("genesis.json");
    let written = ebl_node()
        .args([
            "genesis",
            "--member",
            &member("a", 61, 1),
            "--member",
            &member("b", 62, 2),
            "-o",
        ])
        .arg(&genesis)
        .output()
        .expect("genesis");
    assert!(
        written.status.success(),
        "{}",
        String::from_utf8_lossy(&written.stderr)
    );
    node_key("joiner");
    let joiner = dir.path().join("joiner");
    let init = ebl_node()
        .args(["init", "--join", "--genesis"])
        .arg(&genesis)
        .arg("--data")
        .arg(&joiner)
        .output()
        .expect("init");
    assert!(
        init.status.success(),
        "{}",
        String::from_utf8_lossy(&init.stderr)
    );
    let run = ebl_node()
        .args(["run", "--data"])
        .arg(&joiner)
        .output()
        .expect("run");
    let said = String::from_utf8_lossy(&run.stderr);
    assert!(!run.status.success(), "{said}");
    assert!(
        said.contains("--listen HOST:PORT") && said.contains("admitted"),
        "{said}"
    );
}
