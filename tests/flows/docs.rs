//! ARCHITECTURE.md names files and directories of this repository; one that moved or went makes the map
//! send a newcomer nowhere (issue 36 found a reference to a file not in the repository).

use std::path::Path;

/// Every backticked name in `text` that is a path inside the repository: one starting with a top-level
/// directory or naming a top-level file (paths inside a node's data directory are not).
fn repository_paths(text: &str) -> Vec<String> {
    const TOP: [&str; 5] = ["crates/", "docs/", "tests/", ".ci/", "deny.toml"];
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| TOP.iter().any(|top| span.starts_with(top)))
        .filter(|span| !span.contains(['<', '*', ' ']))
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_repository_path_architecture_names_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let text = std::fs::read_to_string(root.join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let paths = repository_paths(&text);
    assert!(paths.len() >= 15, "only {} paths: {paths:?}", paths.len());
    let missing: Vec<&String> = paths.iter().filter(|p| !root.join(p).exists()).collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names what is not here: {missing:?}"
    );
}

#[test]
fn the_path_reader_takes_repository_paths_only() {
    assert_eq!(
        repository_paths("`crates/a.rs` and `pint/trust/` and `docs/x.md` and `tests/<n>.rs`"),
        ["crates/a.rs", "docs/x.md"]
    );
}
