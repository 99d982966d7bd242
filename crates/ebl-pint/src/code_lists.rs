//! DCSA's code list providers for party identifying codes, kept as data: how a party's identifiers
//! here (`LEI:…`, `SMDG:…`) are named in the envelopes we sign, where `codeListProvider` must be one of
//! DCSA's providers (PINT 3.0.0, `IdentifyingCode`).

use serde_json::Value;

/// DCSA's code list providers (PINT 3.0.0 `IdentifyingCode.codeListProvider`): the eBL platforms'
/// codes and the code authorities. `ESSD` is deprecated in favour of `IDT`, and kept so that parties
/// named by it are still read.
pub const CODE_LIST_PROVIDERS: [&str; 28] = [
    "WAVE", "CARX", "ESSD", "IDT", "BOLE", "EDOX", "IQAX", "SECR", "TRGO", "ETEU", "TRAC", "BRIT",
    "COVA", "ETIT", "KTNE", "CRED", "BLOC", "DOCU", "AEOT", "SGTD", "GSBN", "WISE", "GLEIF", "W3C",
    "DNB", "FMC", "DCSA", "ZZZ",
];

/// The provider that publishes each identifier scheme a party may register here, as
/// `(scheme, codeListProvider, codeListName)`: the spec's own examples (LEI by GLEIF, DID by W3C, DUNS by
/// DNB).
pub const SCHEME_PROVIDERS: [(&str, &str, &str); 3] = [
    ("LEI", "GLEIF", "LEI"),
    ("DID", "W3C", "DID"),
    ("DUNS", "DNB", "DUNS"),
];

/// The provider for codes that are on no list of DCSA's: mutually defined, with the scheme as the list's
/// name (a carrier's SMDG code, say).
pub const MUTUALLY_DEFINED: &str = "ZZZ";

/// A PINT `IdentifyingCode` for an identifier of `scheme` here: a scheme DCSA names by its publisher goes
/// out as that publisher with the scheme as `codeListName`; a provider on DCSA's list (a platform's code)
/// as itself; anything else as mutually defined (`ZZZ`) with the scheme as `codeListName`. A receiver
/// here reads either name back (`hosted_party`).
pub fn identifying_code(scheme: &str, code: &str) -> Value {
    if let Some((_, provider, name)) = SCHEME_PROVIDERS
        .iter()
        .find(|(s, _, _)| s.eq_ignore_ascii_case(scheme))
    {
        return serde_json::json!({ "codeListProvider": provider, "codeListName": name, "partyCode": code });
    }
    if CODE_LIST_PROVIDERS
        .iter()
        .any(|p| p.eq_ignore_ascii_case(scheme))
    {
        return serde_json::json!({ "codeListProvider": scheme, "partyCode": code });
    }
    serde_json::json!({ "codeListProvider": MUTUALLY_DEFINED, "codeListName": scheme, "partyCode": code })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 33: party codes went out with `codeListProvider: "SMDG"` and (the README's `--scheme LEI`)
    /// `"LEI"`, neither on DCSA's list of providers.
    #[test]
    fn regression_every_code_goes_out_under_a_provider_on_dcsas_list() {
        for (scheme, provider, name) in [
            ("LEI", "GLEIF", Some("LEI")),
            ("lei", "GLEIF", Some("LEI")),
            ("DID", "W3C", Some("DID")),
            ("SMDG", "ZZZ", Some("SMDG")),
            ("NMFTA", "ZZZ", Some("NMFTA")),
            ("WAVE", "WAVE", None),
            ("EBL", "ZZZ", Some("EBL")),
        ] {
            let code = identifying_code(scheme, "X1");
            assert_eq!(code["codeListProvider"], provider, "{scheme}");
            assert!(
                CODE_LIST_PROVIDERS.contains(&code["codeListProvider"].as_str().unwrap_or("")),
                "{scheme}"
            );
            assert_eq!(code["codeListName"].as_str(), name, "{scheme}");
            assert_eq!(code["partyCode"], "X1");
        }
    }
}
