//! The reliability mapping (`docs/legal/reliable-system.md`, and its Chinese `.zh.md`) ties each legal
//! criterion to tests by name;
//! a mapping that cites a test no longer there would claim evidence that is gone.

use std::path::Path;

/// Every `path.rs::test_name` the document cites, in order.
fn cited(text: &str) -> Vec<(String, String)> {
    text.split('`')
        .filter_map(|span| {
            let (file, name) = span.split_once(".rs::")?;
            let well_formed = !file.is_empty()
                && file
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "/_-".contains(c))
                && !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            well_formed.then(|| (format!("{file}.rs"), name.to_owned()))
        })
        .collect()
}

#[test]
fn every_test_the_reliability_mapping_cites_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let read = |name: &str| {
        std::fs::read_to_string(root.join("docs/legal").join(name)).expect("the mapping")
    };
    let citations = cited(&read("reliable-system.md"));
    assert!(citations.len() >= 40, "only {} citations", citations.len());
    // The Chinese mapping says the same, so it cites the same tests.
    let set = |c: &[(String, String)]| c.iter().cloned().collect::<std::collections::BTreeSet<_>>();
    assert_eq!(
        set(&citations),
        set(&cited(&read("reliable-system.zh.md"))),
        "the English and Chinese mappings cite different tests"
    );
    let missing: Vec<String> = citations
        .iter()
        .filter(|(file, name)| {
            let source = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            // A test function of that name, with the #[test] attribute just above it.
            !source
                .split("#[test]")
                .skip(1)
                .any(|after| after.trim_start().starts_with(&format!("fn {name}(")))
        })
        .map(|(file, name)| format!("{file}::{name}"))
        .collect();
    assert!(missing.is_empty(), "cited but not a test: {missing:?}");
}

#[test]
fn the_citation_reader_finds_what_it_should_and_nothing_else() {
    assert_eq!(
        cited("see `tests/flows/a.rs::some_test` and `ebl verify` and `x.rs::Not_A_Test`"),
        [("tests/flows/a.rs".to_owned(), "some_test".to_owned())]
    );
}
