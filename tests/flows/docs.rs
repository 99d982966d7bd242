//! ARCHITECTURE.md and the design documents name files, modules, types, functions, codes and flags of this
//! repository; one that moved, was renamed or went makes the map send a newcomer nowhere (issue 36 found a
//! reference to a file not in the repository).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Every backticked span of `text`.
fn spans(text: &str) -> impl Iterator<Item = &str> {
    text.split('`').skip(1).step_by(2)
}

/// Every backticked name in `text` that is a path inside the repository: one starting with a top-level
/// directory or naming a top-level file (paths inside a node's data directory are not).
fn repository_paths(text: &str) -> Vec<String> {
    const TOP: [&str; 5] = ["crates/", "docs/", "tests/", ".ci/", "deny.toml"];
    spans(text)
        .filter(|span| TOP.iter().any(|top| span.starts_with(top)))
        .filter(|span| !span.contains(['<', '*', ' ']))
        .map(str::to_owned)
        .collect()
}

/// Every backticked name in `text` that names something in the code: a Rust path (`Registry::apply`,
/// `ebl_core::codec`), an identifier or code (`verify_pinned`, `BUNDLE_ENTRIES_MAX`, `format_too_old`),
/// or a command-line flag (`--insecure-plain-http`), each as the words it must be found as.
fn code_names(text: &str) -> Vec<(String, Vec<String>)> {
    let word = |w: &str| {
        !w.is_empty()
            && w.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !w.starts_with(|c: char| c.is_ascii_digit())
    };
    let mut names = Vec::new();
    for span in spans(text) {
        let span = span.trim_end_matches("()");
        if let Some(flag) = span.strip_prefix("--") {
            let flag = flag.split(['=', ' ']).next().unwrap_or_default();
            if flag.split('-').all(word) {
                names.push((span.to_owned(), vec![flag.replace('-', "_")]));
            }
            continue;
        }
        let segments: Vec<&str> = span.split("::").collect();
        if !segments.iter().all(|s| word(s)) {
            continue;
        }
        // A plain lowercase word may be an English word set in code type (`sync`); it counts only as part
        // of a path. Names with a capital, an underscore or a path are the code's own.
        let codeish = segments.len() > 1
            || span.contains('_')
            || span.chars().any(|c| c.is_ascii_uppercase());
        if codeish {
            names.push((
                span.to_owned(),
                segments.iter().map(|s| (*s).to_owned()).collect(),
            ));
        }
    }
    names
}

/// Every word (identifier, string content, flag with `-` as `_`) in the repository's code, its build and
/// CI files and its lock file.
fn code_words(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root.join("crates"), root.join("tests"), root.join(".ci")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("fixtures") && !path.ends_with("target") {
                    dirs.push(path);
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "rs" || e == "toml" || e == "py")
                || path.ends_with("run")
            {
                files.push(path);
            }
        }
    }
    // The lock file names the crates the dependency table speaks of.
    files.extend([root.join("Cargo.toml"), root.join("Cargo.lock")]);
    let mut words = BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for w in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-')) {
            words.insert(w.replace('-', "_"));
            for part in w.split('-') {
                words.insert(part.to_owned());
            }
        }
    }
    words
}

/// ARCHITECTURE.md and every document under docs/design/.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs = vec![root.join("ARCHITECTURE.md")];
    let mut design: Vec<PathBuf> = std::fs::read_dir(root.join("docs/design"))
        .expect("docs/design")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    design.sort();
    docs.extend(design);
    docs
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_repository_path_architecture_names_exists() {
    let root = root();
    let mut named = 0;
    for doc in documents(&root) {
        let text = std::fs::read_to_string(&doc).expect("document");
        let paths = repository_paths(&text);
        named += paths.len();
        let missing: Vec<&String> = paths.iter().filter(|p| !root.join(p).exists()).collect();
        assert!(
            missing.is_empty(),
            "{} names what is not here: {missing:?}",
            doc.display()
        );
    }
    assert!(named >= 15, "only {named} paths");
}

#[test]
fn every_module_type_function_code_and_flag_architecture_names_is_in_the_code() {
    let root = root();
    let words = code_words(&root);
    let mut named = 0;
    for doc in documents(&root) {
        let text = std::fs::read_to_string(&doc).expect("document");
        let names = code_names(&text);
        named += names.len();
        let missing: Vec<&String> = names
            .iter()
            .filter(|(_, parts)| !parts.iter().all(|p| words.contains(p)))
            .map(|(name, _)| name)
            .collect();
        assert!(
            missing.is_empty(),
            "{} names what the code does not have: {missing:?}",
            doc.display()
        );
    }
    assert!(named >= 100, "only {named} names");
}

#[test]
fn the_path_reader_takes_repository_paths_only() {
    assert_eq!(
        repository_paths("`crates/a.rs` and `pint/trust/` and `docs/x.md` and `tests/<n>.rs`"),
        ["crates/a.rs", "docs/x.md"]
    );
}

#[test]
fn the_name_reader_takes_code_names_and_leaves_words() {
    let names: Vec<String> = code_names(
        "`Registry::apply` `sync` `verify_pinned()` `--insecure-plain-http` `ebl/block/v2` `store.log` `BUNDLE_ENTRIES_MAX`",
    )
    .into_iter()
    .map(|(n, _)| n)
    .collect();
    assert_eq!(
        names,
        [
            "Registry::apply",
            "verify_pinned",
            "--insecure-plain-http",
            "BUNDLE_ENTRIES_MAX"
        ]
    );
}

/// The check fails on a name the code lacks: a renamed type is caught.
#[test]
fn a_name_the_code_lacks_is_found_missing() {
    let words = code_words(&root());
    // Made at run time, so that this file does not hold the name it looks for.
    let renamed = format!("Registry::renamed_{}", std::process::id());
    let names = code_names(&format!("`Registry::apply` `{renamed}`"));
    let missing: Vec<&str> = names
        .iter()
        .filter(|(_, parts)| !parts.iter().all(|p| words.contains(p)))
        .map(|(n, _)| n.as_str())
        .collect();
    assert_eq!(missing, [renamed.as_str()]);
}

/// Every stable code a `fn code` of the code base returns: the string literals its arms give, read from
/// the sources (the languages' own codes, `en` and `zh`, are not errors).
fn error_codes(root: &Path) -> BTreeSet<String> {
    let mut files = Vec::new();
    let mut dirs = vec![root.join("crates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("directory").flatten() {
            let path = entry.path();
            if path.is_dir() {
                if !path.ends_with("target") && !path.ends_with("tests") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") && !path.ends_with("lang.rs") {
                files.push(path);
            }
        }
    }
    let mut codes = BTreeSet::new();
    let is_code = |code: &str| {
        !code.is_empty()
            && code.starts_with(|c: char| c.is_ascii_lowercase())
            && code
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    };
    for file in files {
        let text = std::fs::read_to_string(&file).expect("source");
        // A code a message prints itself, in brackets at its end ("... [node_not_running]"), or one a
        // binary names for an error type's case (`=> Some("raft_state_lost")`).
        for piece in text.split(" [").skip(1) {
            if let Some((code, _)) = piece.split_once("]\"") {
                if is_code(code) {
                    codes.insert(code.to_owned());
                }
            }
        }
        for piece in text.split("=> Some(\"").skip(1) {
            if let Some((code, _)) = piece.split_once("\"),") {
                if is_code(code) {
                    codes.insert(code.to_owned());
                }
            }
        }
        for (at, _) in text.match_indices("fn code(") {
            // The function's body: from its first brace to the brace that closes it.
            let Some(open) = text[at..].find('{').map(|i| at + i) else {
                continue;
            };
            let mut depth = 0;
            let mut end = open;
            for (i, c) in text[open..].char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = open + i;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            for arm in text[open..end].split("=> \"").skip(1) {
                let code = &arm[..arm.find('"').unwrap_or(0)];
                if is_code(code) {
                    codes.insert(code.to_owned());
                }
            }
        }
    }
    codes
}

/// Issue 34: errors mixed languages under `--lang zh` ("错误（用法或输入有误）：no bill ..."). Every code the
/// code base can show has its meaning in English and Chinese in the one catalogue.
#[test]
fn every_error_code_of_the_code_base_has_its_meaning_in_both_languages() {
    let codes = error_codes(&root());
    assert!(codes.len() > 250, "the reader found {} codes", codes.len());
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| ebl_words::codes::explain(c, ebl_words::lang::Lang::Zh).is_none())
        .collect();
    assert!(
        missing.is_empty(),
        "codes without their meaning in ebl_words::codes: {missing:?}"
    );
    // And the catalogue holds no code the code base lost.
    let stale: Vec<&str> = ebl_words::codes::ALL
        .iter()
        .map(|(c, _, _)| *c)
        .filter(|c| !codes.contains(*c))
        .collect();
    assert!(
        stale.is_empty(),
        "codes in the catalogue the code base does not show: {stale:?}"
    );
}

#[test]
fn the_error_code_page_is_the_catalogue() {
    let path = root().join("docs/guide/errors.md");
    let page = ebl_words::codes::page();
    if std::env::var_os("EBL_WRITE_DOCS").is_some() {
        std::fs::write(&path, &page).expect("write docs/guide/errors.md");
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == page,
        "docs/guide/errors.md is not the catalogue's page: EBL_WRITE_DOCS=1 cargo test -p ebl-tests --test flows the_error_code_page"
    );
}
