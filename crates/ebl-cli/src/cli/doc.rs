//! `ebl doc`: reading and checking a DCSA transport document before it is issued, and a sample one.

use std::path::Path;

use ebl_core::Document;
use serde_json::json;

use super::{out, Out};
use crate::error::{CliError, Result};
use crate::wallet::read_file;
use ebl_core::jcs;

pub(super) fn doc_check(file: &Path) -> Result<Out> {
    let bytes = read_file(
        file,
        "transport document",
        ebl_core::limits::DOCUMENT_INPUT_BYTES_MAX,
    )?;
    let value = jcs::parse(&bytes)?;
    let inner = value
        .get("document")
        .or_else(|| value.get("transportDocument"))
        .unwrap_or(&value);
    let checksum = jcs::canonicalize(inner).map(|c| ebl_core::Hash::of(c.as_bytes()))?;
    match Document::from_value(inner) {
        Ok(doc) => {
            let f = doc.facts();
            let human = format!(
                "valid DCSA transport document\nchecksum    {checksum}\nreference   {}\ntype        {}\nto order    {}\ncarrier     {}:{}\nshipper     {}\nconsignee   {}\nendorsee    {}",
                f.transport_document_reference,
                f.transport_document_type_code.code(),
                f.is_to_order,
                f.carrier_code_list_provider,
                f.carrier_code,
                f.shipper_name,
                f.consignee_name.as_deref().unwrap_or("-"),
                f.endorsee_name.as_deref().unwrap_or("-"),
            );
            Ok(out(
                json!({"valid": true, "checksum": checksum, "facts": f}),
                human,
            ))
        }
        Err(e) => Err(CliError::from(e).with_hint(format!("document checksum {checksum}"))),
    }
}

/// DCSA's example document, with `reference` in place of its own, checked as `bill issue` checks it.
pub(super) fn sample(reference: Option<&str>) -> Result<Out> {
    let mut value = jcs::parse(ebl_core::sample::DCSA_TO_ORDER_BOL.as_bytes())?;
    if let (Some(reference), Some(fields)) = (reference, value.as_object_mut()) {
        fields.insert("transportDocumentReference".into(), reference.into());
    }
    Document::from_value(&value)?;
    let text = serde_json::to_string_pretty(&value)
        .map_err(|e| CliError::io("encoding the document", e))?;
    Ok(out(value, text))
}
