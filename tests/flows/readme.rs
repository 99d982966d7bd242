//! The guides the README points to, run as written from an empty directory: every `sh` block of each
//! guide's walk-through, in order, with the real binaries. A guide's step that stops working fails here.

use std::process::Command;

/// The shell blocks of a guide between two headings.
fn shell_blocks(readme: &str, from: &str, to: &str) -> Vec<String> {
    let start = readme.find(from).expect("the section");
    let section = &readme[start..start + readme[start..].find(to).expect("the next section")];
    section
        .split("```sh\n")
        .skip(1)
        .map(|block| block[..block.find("```").expect("closing fence")].to_owned())
        .collect()
}

/// A guide's text, by its path under docs/guide/.
fn guide(name: &str) -> String {
    let path = format!("{}/../docs/guide/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn the_trade_guide_runs_from_an_empty_directory() {
    let readme = guide("trade.md");
    let blocks = shell_blocks(&readme, "## Before you start", "## Keys and signed files");
    assert!(blocks.len() >= 5, "the walk-through's blocks: {blocks:?}");
    let ebl = ebl_tests::bin("ebl");
    let bin_dir = ebl.parent().expect("bin dir").to_owned();
    ebl_tests::bin("ebl-node");
    let port = ebl_tests::cluster::free_port();
    let mut script = String::from("set -euo pipefail\n");
    for line in blocks.iter().flat_map(|b| b.lines()) {
        let command = line.trim();
        // The build and the scratch directory are this test's: its binaries, its empty directory.
        if command.starts_with("cargo build")
            || command.starts_with("export PATH=")
            || command.starts_with("mkdir -p /tmp/ebl-try")
        {
            continue;
        }
        if command == "ebl-node run &" {
            // As typed, then: remember the PID to stop it, and wait until it answers before going on
            // (a person types slower than a script).
            script.push_str(&format!(
                "ebl-node run & NODE_PID=$!\ntrap 'kill $NODE_PID' EXIT\n\
                 for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done\n"
            ));
            continue;
        }
        script.push_str(line);
        script.push('\n');
    }
    let dir = tempfile::tempdir().expect("dir");
    let output = as_a_new_user(
        &script,
        dir.path(),
        &bin_dir,
        &[
            ("EBL_LISTEN", format!("127.0.0.1:{port}")),
            ("EBL_NODE", format!("http://127.0.0.1:{port}")),
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the walk-through failed\nscript:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // The last step, the bank's offline verification, found the bill's whole chain valid.
    assert!(stdout.contains("VALID"), "{stdout}");
    // Everything it wrote is in the scratch directory.
    for made in [
        "ebl-data",
        "bol.json",
        "offer.json",
        "bundle.json",
        "op",
        "bank",
    ] {
        assert!(
            dir.path().join(made).exists(),
            "{made} not in the scratch directory"
        );
    }
}

/// Every fenced block of a guide, in order: its commands.
fn all_blocks(text: &str) -> Vec<String> {
    text.split("```")
        .skip(1)
        .step_by(2)
        .map(|block| block.trim_start_matches("sh").to_owned())
        .collect()
}

/// Issue 34: the README's user guides in Chinese. The Chinese trade guide gives the very commands the
/// English one does, which the test above runs as written; a step changed in one and not the other fails.
#[test]
fn the_chinese_trade_guide_gives_the_commands_the_english_one_runs() {
    let (en, zh) = (guide("trade.md"), guide("trade.zh.md"));
    assert_eq!(all_blocks(&zh), all_blocks(&en));
    assert_eq!(
        shell_blocks(&zh, "## 准备工作", "## 密钥与签名文件"),
        shell_blocks(&en, "## Before you start", "## Keys and signed files")
    );
    assert!(all_blocks(&en).len() >= 8, "{:?}", all_blocks(&en));
}

/// The Chinese consortium guide gives the commands the English one runs.
#[test]
fn the_chinese_consortium_guide_gives_the_commands_the_english_one_runs() {
    let (en, zh) = (guide("consortium.md"), guide("consortium.zh.md"));
    assert_eq!(all_blocks(&zh), all_blocks(&en));
    assert_eq!(
        shell_blocks(&zh, "## 密钥", "## 需要关注的事项"),
        shell_blocks(&en, "## The keys", "## What to watch")
    );
}

/// The Chinese two-platforms guide gives the commands the English one runs.
#[test]
fn the_chinese_two_platforms_guide_gives_the_commands_the_english_one_runs() {
    let (en, zh) = (guide("two-platforms.md"), guide("two-platforms.zh.md"));
    assert_eq!(all_blocks(&zh), all_blocks(&en));
    assert_eq!(
        shell_blocks(&zh, "## 两个账本", "## 命令行中的 PINT"),
        shell_blocks(&en, "## Two ledgers", "## PINT from the command line")
    );
}

#[test]
fn the_two_platforms_guide_sends_a_bill_there_and_back() {
    let readme = guide("two-platforms.md");
    let blocks = shell_blocks(&readme, "## Two ledgers", "## PINT from the command line");
    assert_eq!(blocks.len(), 3, "the section's blocks: {blocks:?}");
    let ebl = ebl_tests::bin("ebl");
    let bin_dir = ebl.parent().expect("bin dir").to_owned();
    ebl_tests::bin("ebl-node");
    // The README's ports, as this test's free ones.
    let ports = [
        ("127.0.0.1:7878".to_owned(), ebl_tests::cluster::free_port()),
        ("127.0.0.1:7979".to_owned(), ebl_tests::cluster::free_port()),
    ];
    let script = script_of("trap 'kill ${PIDS[@]}' EXIT\n", &blocks, &ports, |run| {
        // Wait until it answers on its port.
        let port = run.rsplit(':').next().expect("a listen port");
        format!("for _ in $(seq 300); do (exec 3<>/dev/tcp/127.0.0.1/{port}) 2>/dev/null && break; sleep 0.1; done\n")
    });
    let dir = tempfile::tempdir().expect("dir");
    let output = as_a_new_user(&script, dir.path(), &bin_dir, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the two platforms failed\nscript:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    // Both sends were received, and the bill is the buyer's on A again, linked to its first life there.
    assert_eq!(stdout.matches("RECE").count(), 2, "{stdout}");
    assert!(stdout.contains("earlier"), "{stdout}");
}

/// The shell blocks as one bash script, as a person would type them: each of `ports`' addresses
/// (`127.0.0.1:PORT` in the text) made this test's free one, and each `ebl-node ... &` line run as
/// typed, its PID kept for `trap` (in `preamble`) to stop, then `ready(line)`: the wait a person does
/// before typing on (a person types slower than a script).
fn script_of(
    preamble: &str,
    blocks: &[String],
    ports: &[(String, u16)],
    ready: impl Fn(&str) -> String,
) -> String {
    let mut script = format!("set -euo pipefail\nPIDS=()\n{preamble}");
    for line in blocks.iter().flat_map(|b| b.lines()) {
        let mut line = line.to_owned();
        for (theirs, ours) in ports {
            line = line.replace(theirs, &format!("127.0.0.1:{ours}"));
        }
        match line
            .strip_suffix(" &")
            .filter(|l| l.starts_with("ebl-node "))
        {
            Some(run) => {
                script.push_str(&format!("{run} & PIDS+=($!)\n"));
                script.push_str(&ready(run));
            }
            None => {
                script.push_str(&line);
                script.push('\n');
            }
        }
    }
    script
}

/// Runs `script` with bash as a new user would: in `dir` (empty), which is also its home, the built
/// binaries first on the PATH, English words, none of the wallet's or node's settings from this
/// environment but `env`.
fn as_a_new_user(
    script: &str,
    dir: &std::path::Path,
    bin_dir: &std::path::Path,
    env: &[(&str, String)],
) -> std::process::Output {
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut command = Command::new("bash");
    command
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env("PATH", path)
        .env("HOME", dir)
        .env("EBL_LANG", "en");
    for setting in [
        "EBL_HOME",
        "EBL_NODE",
        "EBL_DATA",
        "EBL_LISTEN",
        "EBL_PASSPHRASE",
    ] {
        command.env_remove(setting);
    }
    command.envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    command.output().expect("bash")
}

/// Issue 35: the consortium guide (docs/guide/consortium.md) runs as written from an empty directory:
/// three members' keys, genesis, nodes over TLS and wallets, a governance change by two admins, and a
/// fourth member joining with no other node restarted, until it votes, and an auditor's node following.
#[test]
fn the_consortium_guide_runs_as_written_for_three_members_and_a_fourth_joining() {
    let guide = guide("consortium.md");
    let blocks = shell_blocks(&guide, "## The keys", "## What to watch");
    assert_eq!(blocks.len(), 8, "the guide's blocks: {blocks:?}");
    let ebl = ebl_tests::bin("ebl");
    let bin_dir = ebl.parent().expect("bin dir").to_owned();
    ebl_tests::bin("ebl-node");
    // The guide's ports, as this test's free ones.
    let ports: Vec<(String, u16)> = (1..=5)
        .map(|n| (format!("127.0.0.1:780{n}"), ebl_tests::cluster::free_port()))
        .collect();
    // A step that never ends (a node that never votes) ends the script, and so the test.
    let script = script_of(
        "( sleep 240; kill -TERM $$ ) >/dev/null 2>&1 & WATCHDOG=$!\n\
         trap 'kill ${PIDS[@]} $WATCHDOG 2>/dev/null' EXIT\n",
        &blocks,
        &ports,
        |run| {
            // Wait until it serves: it writes the address it listens on into its data directory.
            let data = run
                .split_whitespace()
                .skip_while(|w| *w != "--data")
                .nth(1)
                .expect("--data");
            format!("for _ in $(seq 300); do [ -s {data}/listening ] && break; kill -0 $! || exit 1; sleep 0.1; done\n")
        },
    );
    let dir = tempfile::tempdir().expect("dir");
    let output = as_a_new_user(&script, dir.path(), &bin_dir, &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let logs: String = ["shanghai", "singapore", "frankfurt", "tokyo", "audit"]
        .iter()
        .map(|m| {
            let log =
                std::fs::read_to_string(dir.path().join(m).join("node.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(15).collect();
            format!(
                "--- {m}:\n{}\n",
                tail.into_iter().rev().collect::<Vec<_>>().join("\n")
            )
        })
        .collect();
    assert!(
        output.status.success(),
        "the guide failed\nscript:\n{script}\nstdout:\n{stdout}\nstderr:\n{stderr}\n{logs}"
    );
    // The fourth member's admin reads the consortium, four members strong.
    let (before_audit, audit) = stdout
        .split_once("key auditor made")
        .expect("the auditor's section ran");
    let members = before_audit
        .rsplit("Shanghai Trading")
        .next()
        .unwrap_or_default();
    for name in ["Singapore Bank", "Frankfurt Lines", "Tokyo Lines"] {
        assert!(members.contains(name), "{name} not listed last\n{stdout}");
    }
    assert!(stdout.contains("Ningbo Lines"), "{stdout}");
    // The auditor read itself through its own node, and that node's store verifies: every block a
    // member node signed, its own copies its own.
    assert!(audit.contains("roles       auditor"), "{stdout}");
    assert!(audit.contains("verified by the running node"), "{stdout}");
}
