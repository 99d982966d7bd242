//! DCSA transport documents: the checksum vector, every shared fixture, and malformed input.

use ebl_core::{jcs, Document, DocumentType, Error};

const HHL71800000: &str = include_str!("../fixtures/pint-demo/HHL71800000-unsigned.json");

fn hhl_document_text() -> String {
    let wrapper: serde_json::Value = serde_json::from_str(HHL71800000).expect("fixture is JSON");
    serde_json::to_string_pretty(&wrapper["document"]).expect("re-serializable")
}

#[test]
fn pint_demo_checksum_vector_holds() {
    let checksum = jcs::checksum(hhl_document_text().as_bytes()).expect("valid JSON");
    assert_eq!(
        checksum.to_hex(),
        "8f765417773a026d4f9ead6187d961d28dffbb7d0a11dda9ba6fee16423bc05a"
    );
}

#[test]
fn checksum_ignores_layout_and_key_order() {
    let text = hhl_document_text();
    let compact: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let compact = serde_json::to_string(&compact).expect("JSON");
    assert_eq!(
        jcs::checksum(text.as_bytes()),
        jcs::checksum(compact.as_bytes())
    );
}

#[test]
fn pint_demo_sea_waybill_to_order_is_refused() {
    // The fixture is schema-valid but marks a sea waybill as to order, which the DCSA rules forbid.
    assert_eq!(
        Document::from_json(hhl_document_text().as_bytes()),
        Err(Error::SeaWaybillToOrder)
    );
}

/// Every transport document among the fixtures, where it sits in its file, and the verdict expected.
/// Loaded: the type code and whether to order; refused: the error code.
type Verdict = Result<(&'static str, bool), &'static str>;

const FIXTURES: &[(&str, &str, &str, Verdict)] = &[
    ("GET regularSTD", ebl_core::sample::DCSA_TO_ORDER_BOL, "", Ok(("BOL", true))),
    ("GET dg", include_str!("../fixtures/dcsa/GET_v3_transport-documents_transportDocumentReference.resp200.dgExample.json"), "", Ok(("BOL", true))),
    ("GET reefer", include_str!("../fixtures/dcsa/GET_v3_transport-documents_transportDocumentReference.resp200.reeferExample.json"), "", Ok(("BOL", true))),
    ("PINT envelope example", include_str!("../fixtures/dcsa/POST_v3_envelopes.req.regularSTDExample.json"), "/transportDocument", Ok(("BOL", true))),
    ("issuance request example", include_str!("../fixtures/dcsa/PUT_v3_ebl-issuance-requests.req.regularSTDExample.json"), "/document", Ok(("BOL", true))),
    // Conformance templates: the placeholder reference is longer than DCSA's 20 characters.
    ("conformance PINT document", include_str!("../fixtures/dcsa/pint-3.0.0-transport-document.json"), "", Err("field_too_long")),
    ("conformance issuance request", include_str!("../fixtures/dcsa/eblissuance-v3.0.0-request.json"), "/document", Err("field_too_long")),
    // Shipping instructions are not transport documents.
    ("SI 2c1u", include_str!("../fixtures/dcsa/ebl-api-3.0.0-2c1u.json"), "", Err("missing_field")),
    ("SI 2c2u", include_str!("../fixtures/dcsa/ebl-api-3.0.0-2c2u.json"), "", Err("missing_field")),
    ("SI amf", include_str!("../fixtures/dcsa/ebl-api-3.0.0-amf.json"), "", Err("missing_field")),
    ("SI clad", include_str!("../fixtures/dcsa/ebl-api-3.0.0-clad.json"), "", Err("missing_field")),
    ("SI dg", include_str!("../fixtures/dcsa/ebl-api-3.0.0-dg.json"), "", Err("missing_field")),
    ("SI negotiable", include_str!("../fixtures/dcsa/ebl-api-3.0.0-negotiable-bl.json"), "", Err("missing_field")),
    ("SI no subreference", include_str!("../fixtures/dcsa/ebl-api-3.0.0-no-commodity-subreference.json"), "", Err("missing_field")),
    ("SI request", include_str!("../fixtures/dcsa/ebl-api-3.0.0-request.json"), "", Err("missing_field")),
    ("SI soc", include_str!("../fixtures/dcsa/ebl-api-3.0.0-soc-references.json"), "", Err("missing_field")),
    ("SI straight", include_str!("../fixtures/dcsa/ebl-api-3.0.0-straight-bl.json"), "", Err("missing_field")),
];

#[test]
fn every_dcsa_fixture_loads_or_is_refused_for_its_rule() {
    for (name, text, pointer, expected) in FIXTURES {
        let wrapper: serde_json::Value = serde_json::from_str(text).expect("fixture is JSON");
        let value = wrapper
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{name}: no {pointer}"));
        let text = serde_json::to_vec(value).expect("re-serializable");
        let got = Document::from_json(&text);
        match (expected, got) {
            (Ok((code, to_order)), Ok(doc)) => {
                assert_eq!(
                    doc.facts().transport_document_type_code.code(),
                    *code,
                    "{name}"
                );
                assert_eq!(doc.facts().is_to_order, *to_order, "{name}");
                // Stable checksum: parse the canonical text again and get the same bytes.
                let again =
                    Document::from_json(doc.canonical().as_bytes()).expect("canonical re-reads");
                assert_eq!(again.checksum(), doc.checksum(), "{name}");
                assert_eq!(
                    Document::from_canonical(doc.canonical().to_owned()).as_ref(),
                    Ok(&doc),
                    "{name}"
                );
            }
            (Err(code), Err(e)) => assert_eq!(e.code(), *code, "{name}: {e}"),
            (expected, got) => panic!("{name}: expected {expected:?}, got {got:?}"),
        }
    }
}

#[test]
fn the_straight_conformance_document_loads_once_its_placeholder_is_filled() {
    let text = include_str!("../fixtures/dcsa/pint-3.0.0-transport-document.json")
        .replace("TRANSPORT_DOCUMENT_REFERENCE_PLACEHOLDER", "HMM0000001");
    let doc = Document::from_json(text.as_bytes()).expect("valid straight bill");
    let facts = doc.facts();
    assert_eq!(
        facts.transport_document_type_code,
        DocumentType::BillOfLading
    );
    assert!(!facts.is_to_order);
    assert_eq!(facts.consignee_name.as_deref(), Some("DCSA CTK Consignee"));
    assert_eq!(
        (
            facts.carrier_code.as_str(),
            facts.carrier_code_list_provider.as_str()
        ),
        ("HMM", "SMDG")
    );
}

#[test]
fn unknown_fields_are_kept() {
    let mut value: serde_json::Value =
        serde_json::from_str(crate::support::TO_ORDER_BOL).expect("JSON");
    value["x-ourExtension"] = serde_json::json!({"kept": [1, 2.5, "three"]});
    let doc = Document::from_value(&value).expect("valid");
    assert!(doc
        .canonical()
        .contains(r#""x-ourExtension":{"kept":[1,2.5,"three"]}"#));
    assert_eq!(doc.to_value()["x-ourExtension"]["kept"][1], 2.5);
}

fn base() -> serde_json::Value {
    serde_json::from_str(crate::support::TO_ORDER_BOL).expect("JSON")
}

fn refused(value: serde_json::Value) -> String {
    Document::from_value(&value)
        .expect_err("must be refused")
        .code()
        .to_owned()
}

#[test]
fn business_rules_give_typed_errors() {
    let mut v = base();
    v["transportDocumentTypeCode"] = "SWB".into();
    assert_eq!(refused(v.clone()), "sea_waybill_to_order");
    v["isToOrder"] = false.into();
    assert_eq!(refused(v.clone()), "straight_without_consignee");
    v["documentParties"]["consignee"] = serde_json::json!({"partyName": "C"});
    assert!(
        Document::from_value(&v).is_ok(),
        "a straight sea waybill with a consignee is fine"
    );
    let mut v = base();
    v["transportDocumentTypeCode"] = "XYZ".into();
    assert_eq!(refused(v), "unknown_document_type");
    let mut v = base();
    v["isToOrder"] = "yes".into();
    assert_eq!(refused(v), "wrong_field_type");
    let mut v = base();
    v.as_object_mut().expect("object").remove("carrierCode");
    assert_eq!(refused(v), "missing_field");
    let mut v = base();
    v["documentParties"]
        .as_object_mut()
        .expect("object")
        .remove("shipper");
    assert_eq!(refused(v), "missing_field");
    let mut v = base();
    v["transportDocumentReference"] = "".into();
    assert_eq!(refused(v), "empty_field");
    assert_eq!(refused(serde_json::json!([1, 2])), "document_not_object");
}

#[test]
fn reference_length_limit() {
    let max = ebl_core::limits::DOCUMENT_REFERENCE_BYTES_MAX;
    let mut v = base();
    v["transportDocumentReference"] = "R".repeat(max).into();
    assert!(Document::from_value(&v).is_ok());
    v["transportDocumentReference"] = "R".repeat(max + 1).into();
    assert_eq!(refused(v), "field_too_long");
}

#[test]
fn document_size_limit() {
    let max = ebl_core::limits::DOCUMENT_BYTES_MAX;
    let mut v = base();
    v["padding"] = "".into();
    let size = Document::from_value(&v).expect("valid").canonical().len();
    v["padding"] = "p".repeat(max - size).into();
    assert_eq!(
        Document::from_value(&v)
            .expect("at the limit")
            .canonical()
            .len(),
        max
    );
    v["padding"] = "p".repeat(max - size + 1).into();
    assert_eq!(refused(v), "document_too_large");
}

#[test]
fn depth_limit() {
    let max = ebl_core::limits::DOCUMENT_DEPTH_MAX;
    let nest = |depth: usize| {
        let mut v = serde_json::json!(1);
        for _ in 0..depth {
            v = serde_json::json!([v]);
        }
        v
    };
    let mut v = base();
    v["deep"] = nest(max - 1); // the root object is one level
    assert!(Document::from_value(&v).is_ok());
    v["deep"] = nest(max);
    assert_eq!(refused(v), "document_too_deep");
}

#[test]
fn malformed_json_is_refused() {
    for bad in [
        &b"{"[..],
        b"",
        b"{\"a\":}",
        b"nul",
        b"{\"a\":1} x",
        b"\xff\xfe",
    ] {
        assert_eq!(
            Document::from_json(bad).expect_err("malformed").code(),
            "malformed_json"
        );
    }
    assert_eq!(
        Document::from_json(
            br#"{"transportDocumentReference":"A","transportDocumentReference":"B"}"#
        )
        .expect_err("dup")
        .code(),
        "duplicate_json_key"
    );
}

#[test]
fn non_canonical_text_is_refused_where_bytes_are_signed() {
    let doc = crate::support::to_order_document("NC1");
    let pretty = serde_json::to_string_pretty(&doc.to_value()).expect("JSON");
    assert_eq!(
        Document::from_canonical(pretty),
        Err(Error::NonCanonicalDocument)
    );
}
