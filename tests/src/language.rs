//! Which language a text a person reads is in: the tests of the Chinese pages and outputs (issue 34)
//! fail on an English sentence in them.

/// A run of three or more lower-case English words: a sentence. Names are capitalised ("Buyer One"),
/// codes are capitals or carry digits, ids are hex; the commands a text tells the reader to type are taken
/// out first.
pub fn english_sentence(line: &str) -> Option<String> {
    let line = prose(line);
    let mut run: Vec<&str> = Vec::new();
    let mut found: Option<String> = None;
    for token in line.split(|c: char| c.is_whitespace() || !c.is_ascii()) {
        let word = token.trim_matches(|c: char| ".,:;()\"'!?".contains(c));
        if word.len() >= 2 && word.chars().all(|c| c.is_ascii_lowercase()) {
            run.push(word);
            if run.len() >= 3 && found.is_none() {
                found = Some(run.join(" "));
            }
        } else {
            run.clear();
        }
    }
    found
}

/// What `line` says once the commands it names (`ebl ...` up to the next Chinese) are taken out.
fn prose(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find("ebl ") {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let end = after
            .find(|c: char| !c.is_ascii() || c == '）' || c == '，')
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}
