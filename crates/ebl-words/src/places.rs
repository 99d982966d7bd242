//! Ports by their UN/LOCODE, so that a reader sees "Aarhus" where a transport document says `DKAAR`:
//! UNECE's code list, release 2023-1, its ports only (`data/README.md` says where from and how made).

use std::sync::OnceLock;

/// `CODE<TAB>Name` lines, sorted by code.
const PORTS: &str = include_str!("../data/unlocode-ports.tsv");

fn ports() -> &'static [(&'static str, &'static str)] {
    static TABLE: OnceLock<Vec<(&'static str, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| PORTS.lines().filter_map(|l| l.split_once('\t')).collect())
}

/// The port UN/LOCODE names `code` (five characters: the country's two, the place's three), if it is
/// one; codes are compared as written, in capitals.
pub fn port(code: &str) -> Option<&'static str> {
    let table = ports();
    table
        .binary_search_by(|(c, _)| (*c).cmp(code))
        .ok()
        .map(|i| table[i].1)
}

/// A location as a reader wants it: "Aarhus, DK (DKAAR)" for a port's code, its own name with the code
/// where the document gives one, the code alone for a place the list does not hold.
pub fn location(name: Option<&str>, code: Option<&str>) -> Option<String> {
    match (name, code) {
        (Some(name), Some(code)) => Some(format!("{name} ({code})")),
        (Some(name), None) => Some(name.to_owned()),
        (None, Some(code)) => Some(match port(code) {
            Some(port) => format!("{port}, {} ({code})", code.get(..2).unwrap_or(code)),
            None => code.to_owned(),
        }),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_so_that_every_port_is_found() {
        let table = ports();
        assert!(table.len() > 17_000, "{}", table.len());
        assert!(
            table.windows(2).all(|w| w[0].0 < w[1].0),
            "sorted, no code twice"
        );
        for (code, name) in table.iter().step_by(97) {
            assert_eq!(port(code), Some(*name));
        }
    }

    #[test]
    fn ports_are_named_as_un_locode_names_them() {
        assert_eq!(port("DKAAR"), Some("Aarhus"));
        assert_eq!(port("DEBRV"), Some("Bremerhaven"));
        assert_eq!(port("SEGOT"), Some("Göteborg"));
        assert_eq!(port("CNNBO"), Some("Ningbo"));
        // Shanghai Hongqiao is an airport: not a port of loading.
        assert_eq!(port("CNSHA"), None);
        assert_eq!(port("dkaar"), None);
        assert_eq!(
            location(None, Some("DKAAR")).as_deref(),
            Some("Aarhus, DK (DKAAR)")
        );
        assert_eq!(location(None, Some("XXZZZ")).as_deref(), Some("XXZZZ"));
        assert_eq!(
            location(Some("Penang"), Some("MYPEN")).as_deref(),
            Some("Penang (MYPEN)")
        );
        assert_eq!(location(None, None), None);
    }
}
