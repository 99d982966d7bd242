//! `ebl pint`: DCSA PINT envelopes verified offline, imported through the node, and their documents.

use std::path::Path;

use serde_json::json;

use super::{out, to_json, Out};
use crate::error::{CliError, Kind, Refusal, Remote, Result};
use crate::lang::Lang;
use crate::wallet::{read_file, write_file, Wallet};

/// Reads a trust directory: platform keys (`*.jwk`, `*.json`) and root certificates (`*.crt`, `*.pem`),
/// with certificates checked at the current time.
pub(crate) fn trust_store(trust_dir: &Path) -> Result<ebl_pint::TrustStore> {
    let trust = ebl_pint::trust_dir::read_trust_dir(trust_dir)
        .map_err(|e| CliError::from(Refusal::TrustDirectory(std::sync::Arc::new(e))))?;
    if trust.is_empty() {
        return Err(CliError::from(Refusal::EmptyTrustStore {
            dir: trust_dir.to_owned(),
        }));
    }
    Ok(trust.at_time(crate::wallet::now_ms()))
}

/// Offline verification of a PINT envelope against a directory of trusted keys and roots.
pub fn pint_verify(file: &Path, trust_dir: &Path, lang: Lang) -> Result<Out> {
    use ebl_pint::{verify_envelope, ENVELOPE_BYTES_MAX};
    let trust = trust_store(trust_dir)?;
    let bytes = read_file(file, "PINT envelope", ENVELOPE_BYTES_MAX)?;
    match verify_envelope(&bytes, &trust) {
        Ok(v) => {
            let documents: Vec<String> = v
                .documents
                .iter()
                .map(|d| format!("{} ({} bytes)", d.name, d.size))
                .collect();
            let (reference, checksum) = (&v.transport_document_reference, &v.document_checksum);
            let (chain, platforms) = (v.actions.join(" -> "), v.platforms.join(" -> "));
            let human = match lang {
                Lang::En => format!(
                    "RECE: the envelope checks out\nreference   {reference}\nchecksum    {checksum}\nchain       {chain}\nplatforms   {platforms}\ndocuments   {}",
                    if documents.is_empty() { "none required".to_owned() } else { documents.join(", ") }
                ),
                Lang::Zh => format!(
                    "RECE：信封验证无误\n提单号      {reference}\n校验和      {checksum}\n转让链      {chain}\n平台        {platforms}\n附加文件    {}",
                    if documents.is_empty() { "无需附加文件".to_owned() } else { documents.join("、") }
                ),
            };
            Ok(out(to_json(&v), human))
        }
        Err(f) => Err(CliError::envelope(f, None)),
    }
}

/// The additional documents in `dir`, by their SHA-256.
fn documents_in(dir: &Path) -> Result<std::collections::BTreeMap<ebl_core::Hash, Vec<u8>>> {
    let mut found = std::collections::BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| {
        CliError::from(Refusal::UnreadableDocuments {
            dir: dir.to_owned(),
            source: crate::error::source(e),
        })
    })?;
    for entry in entries.filter_map(std::result::Result::ok) {
        let path = entry.path();
        if path.is_file() {
            let content = read_file(&path, "document", ebl_pint::ADDITIONAL_DOCUMENT_BYTES_MAX)?;
            found.insert(ebl_core::Hash::of(&content), content);
        }
    }
    Ok(found)
}

/// `ebl pint import`: the PINT sender's side of a transfer into the node, ending in its signed answer.
/// Each step follows `ebl_pint::Outbound` (what a sending platform does after each answer); the answer
/// that ends it is shown as `pint_answer` reads it.
pub fn pint_import(
    wallet: &Wallet,
    file: &Path,
    documents: Option<&Path>,
    lang: Lang,
) -> Result<Out> {
    let envelope = read_file(file, "PINT envelope", ebl_pint::ENVELOPE_BYTES_MAX)?;
    // The answer must be signed by the node this wallet talks to: its key alone is trusted, under a
    // binding of its own.
    let mut trust = ebl_pint::TrustStore::default();
    let jwk = wallet.node.pint_jwk()?;
    trust
        .add_jwks(jwk.to_string().as_bytes(), &answering_node())
        .map_err(|f| {
            CliError::from(Refusal::UnreadableAnswer {
                source: crate::error::source(f),
            })
        })?;
    let text = String::from_utf8_lossy(&envelope).into_owned();
    let last_entry = serde_json::from_str::<serde_json::Value>(&text)
        .map_or(ebl_core::Hash::ZERO, |e| ebl_pint::last_entry_checksum(&e));
    let outbound = ebl_pint::Outbound {
        trust: trust.clone(),
        receiver: answering_node(),
        last_entry_checksum: last_entry,
        documents: ebl_pint::accepted_documents(&text)
            .iter()
            .map(|d| d.checksum)
            .collect(),
    };
    let available = match documents {
        Some(dir) => documents_in(dir)?,
        None => Default::default(),
    };
    let ended = outbound.drive(&mut Node(&wallet.node), envelope, &available)?;
    // Decided, a document we do not hold (the node's MDOC, shown with a hint), or no answer that
    // decides: shown as the node gave it.
    let (status, body) = (ended.status, ended.body);
    pint_answer(&trust, status, &body, lang)
}

/// The node this wallet talks to, as the receiving platform of `ebl pint import`.
struct Node<'a>(&'a crate::client::NodeClient);

impl ebl_pint::Transport for Node<'_> {
    type Error = CliError;

    fn carry(
        &mut self,
        request: &ebl_pint::Request,
        body: Vec<u8>,
    ) -> Result<(u16, serde_json::Value)> {
        self.0.pint(request.method(), &request.path(), body)
    }
}

/// Whom `ebl pint import` trusts to answer: the node it sent the envelope to.
fn answering_node() -> ebl_pint::Binding {
    ebl_pint::Binding::platform("the node")
}

/// Reads the node's signed answer: RECE or DUPE succeed, every other code is the error it names.
fn pint_answer(
    trust: &ebl_pint::TrustStore,
    status: u16,
    body: &serde_json::Value,
    lang: Lang,
) -> Result<Out> {
    let Some(jws) = body.as_str() else {
        return Err(CliError::from(Remote::Status {
            status,
            text: body["statusCodeMessage"]
                .as_str()
                .map_or_else(|| body.to_string(), str::to_owned),
        }));
    };
    let payload = ebl_pint::verified_jws(jws, trust, &answering_node()).map_err(|f| {
        CliError::from(Refusal::UnsignedAnswer {
            source: crate::error::source(f),
        })
    })?;
    let code = payload["responseCode"].as_str().unwrap_or("").to_owned();
    let reason = payload["reason"].as_str().unwrap_or("").to_owned();
    use ebl_pint::PintCode;
    match PintCode::from_code(&code) {
        Some(answer @ (PintCode::Received | PintCode::Duplicate)) => Ok(out(
            payload.clone(),
            match (lang, answer == PintCode::Duplicate) {
                (Lang::En, false) => format!("{code}: the node accepted the envelope"),
                (Lang::En, true) => {
                    format!("{code}: the node accepted the envelope (it had already)")
                }
                (Lang::Zh, false) => format!("{code}：节点已接收该信封"),
                (Lang::Zh, true) => format!("{code}：节点已接收该信封（此前已接收过）"),
            },
        )),
        Some(PintCode::MissingDocument) => Err(CliError::envelope(
            ebl_pint::PintFailure {
                code: PintCode::MissingDocument,
                place: "additional documents".to_owned(),
                reason: format!("missing: {}", payload["missingAdditionalDocumentChecksums"]),
            },
            Some("the node's answer"),
        )
        .with_hint(
            "put the documents the manifest names in a directory and pass it with --documents",
        )),
        Some(refusal) => Err(CliError::envelope(
            ebl_pint::PintFailure {
                code: refusal,
                place: "the envelope".to_owned(),
                reason,
            },
            Some("the node's answer"),
        )),
        None => Err(CliError::from(Remote::Rule {
            code,
            message: format!("an answer PINT does not define: {reason}"),
            kind: Kind::Verification,
        })),
    }
}

/// A file name for a document another platform named: its own name if that is a plain file name,
/// otherwise its checksum (a foreign name must never pick the directory a file lands in).
fn document_file_name(name: &str, checksum: &ebl_core::Hash) -> String {
    let plain = !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\', '\0']);
    if plain {
        name.to_owned()
    } else {
        checksum.to_hex()
    }
}

/// `ebl pint documents`: list, and with `out` download, an imported bill's additional documents.
pub fn pint_documents(
    wallet: &Wallet,
    bill: &ebl_core::BillId,
    key: &ebl_core::SigningKey,
    out_dir: Option<&Path>,
    lang: Lang,
) -> Result<Out> {
    let listed = wallet.node.bill_documents(bill, key)?;
    let mut lines = Vec::new();
    let mut written = Vec::new();
    for d in &listed {
        let name = d["name"].as_str().unwrap_or("");
        let available = d["available"].as_bool().unwrap_or(false);
        let checksum = d["checksum"].as_str().unwrap_or("");
        let size = &d["size"];
        lines.push(match (lang, available) {
            (Lang::En, true) => format!("{checksum} {name} ({size} bytes)"),
            (Lang::En, false) => format!("{checksum} {name} ({size} bytes), not held by this node"),
            (Lang::Zh, true) => format!("{checksum} {name}（{size} 字节）"),
            (Lang::Zh, false) => format!("{checksum} {name}（{size} 字节），本节点未持有"),
        });
        let (Some(dir), true) = (out_dir, available) else {
            continue;
        };
        let checksum: ebl_core::Hash = d["checksum"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| {
                CliError::from(Refusal::IncompleteAnswer {
                    what: "a document without a checksum",
                })
            })?;
        let document = wallet.node.bill_document(bill, &checksum, key)?;
        let content = document["content"]
            .as_str()
            .and_then(ebl_pint::base64_decode)
            .ok_or_else(|| {
                CliError::from(Refusal::IncompleteAnswer {
                    what: "a document that is not base64",
                })
            })?;
        // Checked here too: the wallet trusts the checksum the envelope named, not the node.
        if ebl_core::Hash::of(&content) != checksum {
            return Err(CliError::from(Refusal::DocumentChecksumMismatch {
                checksum,
            }));
        }
        std::fs::create_dir_all(dir).map_err(|e| CliError::io("creating the directory", e))?;
        let path = dir.join(document_file_name(name, &checksum));
        write_file(&path, &content)?;
        written.push(path);
    }
    let mut human = match (listed.is_empty(), lang) {
        (true, Lang::En) => {
            "no additional documents (the bill was not imported, or arrived without any)".to_owned()
        }
        (true, Lang::Zh) => "没有附加文件（该提单并非转入，或转入时未带附加文件）".to_owned(),
        (false, _) => lines.join("\n"),
    };
    if !written.is_empty() {
        human.push_str(&match lang {
            Lang::En => format!("\n{} written", written.len()),
            Lang::Zh => format!("\n已写入 {} 个", written.len()),
        });
    }
    Ok(out(json!({"documents": listed, "written": written}), human))
}

/// How often `ebl pint send` looks whether the receiving platform answered.
const SEND_POLL_MS: u64 = 250;

/// `ebl pint send`: the holder's `SEND_OUT` on the ledger, then the receiving platform's answer as the
/// node records it, waited for up to `wait_s` seconds.
pub(super) fn pint_send(
    wallet: &Wallet,
    bill: &str,
    to: ebl_core::ForeignParty,
    signer: &str,
    wait_s: u64,
    lang: crate::lang::Lang,
) -> Result<Out> {
    use ebl_core::{Action, Status};
    wallet.reader(Some(signer))?;
    let bill = wallet.bill_id(bill)?;
    let key = wallet.signer(signer)?;
    let described = to.describe();
    let outcome = wallet.act(&key, Action::SendOut { bill, to })?;
    let what = crate::output::Said::new(
        format!("sent to {described} over PINT"),
        format!("已经 PINT 发送给 {described}"),
    );
    let sent = super::submitted(outcome, &what, lang)?;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(wait_s);
    loop {
        let now = wallet.node.bill(&bill, &key)?.bill;
        // The last record of the receiver's answer, as the node put it on the ledger.
        let answer = || -> Result<String> {
            let history = wallet.node.history(&bill, &key)?;
            Ok(history
                .iter()
                .rev()
                .find_map(|h| match &h.transaction.body.action {
                    Action::SentOut { answer, .. }
                    | Action::SendRefused { answer, .. }
                    | Action::SendDisputed { answer, .. } => {
                        Some(ebl_words::output::answer_summary(answer))
                    }
                    _ => None,
                })
                .unwrap_or_default())
        };
        match now.status {
            Status::SendingOut { .. } if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(SEND_POLL_MS));
            }
            Status::SendingOut { .. } => {
                // Sent, but not received: exit 0 would tell a script the bill has left (issue 33).
                return Err(CliError::from(Refusal::SendPending {
                    sent: sent.human.lines().next().unwrap_or("sent").to_owned(),
                    platform: described,
                    wait_s,
                }));
            }
            Status::TransferredOut { .. } => {
                let answer = answer()?;
                let mut o = sent;
                o.json["status"] = json!("TRANSFERRED_OUT");
                o.json["answer"] = json!(answer);
                o.human = match lang {
                    Lang::En => format!(
                        "{}\n{answer}: {described} holds the bill now; it has left this ledger",
                        o.human
                    ),
                    Lang::Zh => format!(
                        "{}\n{answer}：提单现由 {described} 持有，已离开本账本",
                        o.human
                    ),
                };
                return Ok(o);
            }
            Status::Disputed { .. } => {
                return Err(CliError::from(Refusal::SendDisputed {
                    answer: answer()?,
                    platform: described,
                }))
            }
            _ => {
                return Err(CliError::from(Refusal::SendRefused {
                    answer: answer()?,
                    platform: described,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::document_file_name;

    #[test]
    fn a_foreign_document_name_never_picks_the_directory() {
        let sum = ebl_core::Hash::of(b"x");
        assert_eq!(document_file_name("invoice.pdf", &sum), "invoice.pdf");
        for hostile in [
            "../../.bashrc",
            "/etc/passwd",
            "a\\b",
            "..",
            ".",
            "",
            "nul\0byte",
        ] {
            assert_eq!(
                document_file_name(hostile, &sum),
                sum.to_hex(),
                "{hostile:?}"
            );
        }
        assert_eq!(document_file_name(&"n".repeat(101), &sum), sum.to_hex());
    }
}
