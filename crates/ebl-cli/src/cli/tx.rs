//! `ebl tx`: a signed transaction as a file: written without submitting it, shown, and submitted from
//! a file another wallet or implementation wrote. For integrators signing elsewhere and auditors keeping
//! exactly what was signed.

use std::path::Path;

use ebl_core::{bytes, SignedTransaction, TxId};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{out, submitted, to_json, write_output, Out};
use crate::error::{CliError, Result, WalletRule};
use crate::wallet::{read_file, Wallet};

/// The format of the file `ebl tx sign` writes.
pub(super) const TX_FILE_FORMAT: &str = "ebl-tx/1";
/// Largest transaction file read: a transaction's encoding is at most `TRANSACTION_BYTES_MAX`, and its
/// JSON with the body's hex takes at most about four times that.
pub(super) const TX_FILE_BYTES_MAX: usize = 4 * ebl_core::limits::TRANSACTION_BYTES_MAX;

/// What `ebl tx sign` writes. `body_codec` is the body's canonical encoding as hex: what the signatures
/// cover after the context and chain id (docs/signing.md), and whose SHA-256 is `id`, so another
/// implementation can compare its own bytes.
#[derive(Debug, Serialize, Deserialize)]
struct TxFile {
    format: String,
    id: TxId,
    body_codec: String,
    transaction: SignedTransaction,
}

/// Writes `tx` to `path` instead of submitting it.
pub(super) fn write(tx: &SignedTransaction, path: &Path, force: bool) -> Result<Out> {
    let file = TxFile {
        format: TX_FILE_FORMAT.to_owned(),
        id: tx.id(),
        body_codec: bytes::to_hex(&tx.body.encode()),
        transaction: tx.clone(),
    };
    let text = serde_json::to_vec_pretty(&file)
        .map_err(|e| CliError::io("encoding the transaction", e))?;
    write_output(path, &text, force)?;
    Ok(out(
        json!({"transaction": path, "id": file.id, "action": tx.body.action.code()}),
        format!(
            "{} signed, not submitted: transaction {} written to {}\nsubmit it with `ebl tx submit {}`",
            tx.body.action.code(),
            file.id,
            path.display(),
            path.display()
        ),
    ))
}

/// Reads a transaction file: ours, or a bare SignedTransaction as the API takes it. Every structural
/// rule and signature is checked here, and a file whose stated id or bytes are not its body's is refused:
/// nothing that does not check out is sent.
pub(super) fn read(path: &Path) -> Result<SignedTransaction> {
    let text = read_file(path, "signed transaction", TX_FILE_BYTES_MAX)?;
    let bad = |reason: String| CliError::from(WalletRule::BadTransactionFile { reason });
    let value: serde_json::Value =
        serde_json::from_slice(&text).map_err(|e| bad(format!("{}: {e}", path.display())))?;
    let tx = if value.get("format").is_some() {
        let file: TxFile =
            serde_json::from_value(value).map_err(|e| bad(format!("{}: {e}", path.display())))?;
        crate::wallet::check_file_format(
            &ebl_core::format::TRANSACTION_FILE,
            &file.format,
            || {
                bad(format!(
                    "format {:?}; this wallet reads {TX_FILE_FORMAT}",
                    file.format
                ))
            },
        )?;
        if file.id != file.transaction.id() {
            return Err(bad(format!(
                "it names transaction {} but holds {}",
                file.id,
                file.transaction.id()
            )));
        }
        if file.body_codec != bytes::to_hex(&file.transaction.body.encode()) {
            return Err(bad(
                "its body_codec is not the canonical encoding of its body".into(),
            ));
        }
        file.transaction
    } else {
        serde_json::from_value(value).map_err(|e| bad(format!("{}: {e}", path.display())))?
    };
    // The bytes' own rules (sizes, limits, keys) as the node applies them, then every signature.
    SignedTransaction::decode(&tx.encode())?;
    tx.verify_signatures()?;
    Ok(tx)
}

/// `ebl tx show`: what a file holds, checked offline.
pub(super) fn show(path: &Path) -> Result<Out> {
    let tx = read(path)?;
    let signers: Vec<String> = tx.signatures.iter().map(|s| s.signer.to_hex()).collect();
    let human = format!(
        "transaction {}\naction      {}\nchain       {}\nextends     {}\nsigned by   {}\nsignatures  valid",
        tx.id(),
        tx.body.action.code(),
        tx.body.chain,
        tx.body.prev,
        signers.join(", ")
    );
    Ok(out(
        json!({"id": tx.id(), "valid": true, "transaction": to_json(&tx)}),
        human,
    ))
}

/// `ebl tx submit`: a file's transaction sent to the node, its receipt checked.
pub(super) fn submit(wallet: &Wallet, path: &Path, lang: crate::lang::Lang) -> Result<Out> {
    let tx = read(path)?;
    let chain = wallet.node.genesis()?.chain;
    if tx.body.chain != chain {
        return Err(CliError::from(
            crate::error::Refusal::TransactionOfAnotherChain {
                transaction: tx.body.chain,
                node: chain,
            },
        ));
    }
    let code = tx.body.action.code();
    let outcome = wallet.node.submit(&tx)?;
    let what = crate::output::Said::new(
        format!("{code} submitted"),
        format!(
            "{}（{code}）已提交",
            crate::words::action(code, crate::lang::Lang::Zh)
        ),
    );
    submitted(outcome, &what, lang)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_names_the_format_its_reader_checks() {
        assert_eq!(TX_FILE_FORMAT, ebl_core::format::TRANSACTION_FILE.current());
    }

    #[test]
    fn tx_file_bytes_max_is_enforced_at_its_bound() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("tx.json");
        // At the bound the file is read (and refused for what it holds); one byte more, unread.
        let mut text = " ".repeat(TX_FILE_BYTES_MAX - 2);
        text.push_str("{}");
        std::fs::write(&path, &text).expect("write");
        assert_eq!(
            read(&path).map(|_| ()).map_err(|e| e.code().into_owned()),
            Err("bad_transaction_file".to_owned())
        );
        text.insert(0, ' ');
        std::fs::write(&path, &text).expect("write");
        assert_eq!(
            read(&path).map(|_| ()).map_err(|e| e.code().into_owned()),
            Err("file_too_large".to_owned())
        );
    }
}
