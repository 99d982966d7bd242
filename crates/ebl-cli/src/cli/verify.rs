//! `ebl verify`: a proof bundle checked offline against the chains this wallet pinned.

use std::path::Path;

use serde_json::json;

use super::{out, to_json, trust_store, Out};
use crate::error::{CliError, Kind, Result};
use crate::output;
use crate::wallet::{read_file, Wallet};
use ebl_core::bundle::{Bundle, BUNDLE_BYTES_MAX};

/// A bundle that fails its check, as the wallet reports it: the rule's code, and where.
pub(crate) fn invalid(f: &ebl_core::bundle::BundleFailure) -> CliError {
    CliError::core_in(
        Kind::Verification,
        f.error.clone(),
        format!("INVALID at {}", f.place),
    )
}

/// A pledge offer given where a bundle is asked for is named as such, with the command that checks it
/// (issue 34: `ebl verify offer.json` said "missing field genesis at line 704"). Its bundle alone would
/// say nothing of whether the bill moved since the offer, which only `pledge-review` asks the node.
fn refuse_a_pledge_offer(file: &Path, bytes: &[u8]) -> Result<()> {
    let format = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(str::to_owned));
    if format.as_deref() == Some(crate::wallet::PLEDGE_OFFER_FORMAT) {
        return Err(CliError::from(crate::error::Refusal::OfferNotBundle {
            file: file.to_path_buf(),
        })
        .with_hint(format!(
            "a bank checks an offer, its bundle and whether the bill moved since, with `ebl bill pledge-review {} --as BANK`",
            file.display()
        )));
    }
    Ok(())
}

/// Offline verification of a bundle file.
pub fn verify(
    wallet: &Wallet,
    file: &Path,
    chain: Option<&ebl_core::Hash>,
    pint_trust: Option<&Path>,
    lang: crate::lang::Lang,
) -> Result<Out> {
    let bytes = read_file(file, "proof bundle", BUNDLE_BYTES_MAX)?;
    refuse_a_pledge_offer(file, &bytes)?;
    let bundle = Bundle::from_json(&bytes).map_err(|f| {
        CliError::core_in(
            Kind::Usage,
            f.error.clone(),
            format!("{}: {}", file.display(), f.place),
        )
    })?;
    // A bundle proves itself consistent with its own genesis; only a pinned chain makes it trusted.
    crate::pins::Pins::load(&wallet.home)?
        .check(&bundle.genesis.chain_id(), chain)
        .map_err(|e| e.in_context("INVALID"))?;
    let verdict = bundle.verify().map_err(|f| invalid(&f))?;
    let mut human = output::text::verdict(&verdict, lang);
    let mut json = json!({"valid": true, "verdict": verdict});
    // The ledger vouches for an import by the node's signature; the history before it was signed by
    // other platforms, and is checked here against keys the verifier chooses to trust.
    let imported = bundle
        .transactions
        .iter()
        .find_map(|e| match &e.transaction.body.action {
            ebl_core::Action::Import { envelope, .. } => Some(envelope.clone()),
            _ => None,
        });
    if let Some(envelope) = imported {
        match pint_trust {
            Some(dir) => {
                let trust = trust_store(dir)?;
                let foreign =
                    ebl_pint::verify_envelope(envelope.as_bytes(), &trust).map_err(|f| {
                        CliError::envelope(
                            f,
                            Some("INVALID: the history the bill arrived with fails"),
                        )
                    })?;
                human.push_str(&match lang {
                    crate::lang::Lang::En => format!(
                        "\nimported    over PINT; its earlier history checks out: {} (signed by {})",
                        foreign.actions.join(" -> "),
                        foreign.platforms.join(", ")
                    ),
                    crate::lang::Lang::Zh => format!(
                        "\n转入        经 PINT 转入；其早期历史验证无误：{}（由 {} 签名）",
                        foreign.actions.join(" -> "),
                        foreign.platforms.join("、")
                    ),
                });
                json["imported"] = to_json(&foreign);
            }
            None => {
                human.push_str(match lang {
                    crate::lang::Lang::En => "\nimported    over PINT; its earlier history was not checked (pass --pint-trust DIR)",
                    crate::lang::Lang::Zh => "\n转入        经 PINT 转入；其早期历史未经验证（请加 --pint-trust 目录）",
                });
                json["imported"] = json!({"checked": false});
            }
        }
    }
    Ok(out(json, human))
}

/// `ebl verifier -o FILE`: the browser verifier's page, whole, for a bank to keep.
pub(super) fn write_verifier(path: &Path, force: bool, lang: crate::lang::Lang) -> Result<Out> {
    let page = ebl_verifier_page::page().ok_or_else(|| {
        CliError::from(crate::error::Refusal::VerifierNotBuilt).with_hint(
            "rustup target add wasm32-unknown-unknown, then build ebl again; or open /verifier on any ebl-node",
        )
    })?;
    super::write_output(path, page.as_bytes(), force)?;
    let kib = page.len() / 1024;
    let human = match lang {
        crate::lang::Lang::En => format!(
            "wrote {} ({kib} KiB): open it in any browser, drop a proof bundle and give the chain id; nothing is sent anywhere",
            path.display()
        ),
        crate::lang::Lang::Zh => format!(
            "已写入 {}（{kib} KiB）：用任意浏览器打开，拖入证明包并填写链标识即可验证；不向任何地方发送数据",
            path.display()
        ),
    };
    Ok(out(json!({"written": path, "bytes": page.len()}), human))
}
