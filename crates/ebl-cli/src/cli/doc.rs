//! `ebl doc`: reading and checking a DCSA transport document before it is issued, and a sample one.

use std::path::Path;

use ebl_core::Document;
use serde_json::json;

use super::{out, Out};
use crate::error::{CliError, Result};
use crate::wallet::read_file;
use ebl_core::jcs;

pub(super) fn doc_check(file: &Path, lang: crate::lang::Lang) -> Result<Out> {
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
            let (reference, kind) = (
                &f.transport_document_reference,
                f.transport_document_type_code.code(),
            );
            let carrier = format!("{}:{}", f.carrier_code_list_provider, f.carrier_code);
            let consignee = f.consignee_name.as_deref().unwrap_or("-");
            let endorsee = f.endorsee_name.as_deref().unwrap_or("-");
            let shipper = &f.shipper_name;
            let human = match lang {
                crate::lang::Lang::En => format!(
                    "valid DCSA transport document\nchecksum    {checksum}\nreference   {reference}\ntype        {kind}\nto order    {}\ncarrier     {carrier}\nshipper     {shipper}\nconsignee   {consignee}\nendorsee    {endorsee}",
                    f.is_to_order,
                ),
                crate::lang::Lang::Zh => format!(
                    "有效的 DCSA 运输单据\n校验和      {checksum}\n提单号      {reference}\n类型        {kind}\n指示提单    {}\n承运人      {carrier}\n托运人      {shipper}\n收货人      {consignee}\n被背书人    {endorsee}",
                    if f.is_to_order { "是" } else { "否" },
                ),
            };
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
