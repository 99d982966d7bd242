//! The verify page: a dropped proof bundle, pledge offer or PINT envelope is checked here, offline, by
//! the same functions `ebl verify`, `ebl bill pledge-review` and `ebl pint verify` use; a failure is
//! told in words (what it means, the ledger's exact message, where in the history).

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use ebl_core::bundle::{Bundle, BundleFailure, BundleVerdict, BUNDLE_BYTES_MAX};
use ebl_core::{Action, Error};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::bill_view::{self, Shown};
use super::layout::{hex, page, Ctx};
use super::{blocking, context, error_response, html, Shared};
use crate::error::{CliError, Kind, Refusal, Result};
use crate::output::{money, timestamp};
use crate::wallet::{PledgeOffer, PLEDGE_OFFER_FORMAT};
use crate::words::{self, W};

/// The largest file the page takes: a proof bundle at its own limit.
pub(super) const DROPPED_FILE_BYTES_MAX: usize = BUNDLE_BYTES_MAX;

#[derive(Debug, Deserialize)]
pub(super) struct DropForm {
    content: String,
}

/// What a dropped file turned out to be, and what its check found.
enum Checked {
    Bundle {
        bundle: Box<Bundle>,
        result: std::result::Result<BundleVerdict, BundleFailure>,
    },
    Offer {
        offer: Box<PledgeOffer>,
        text: String,
        result: std::result::Result<BundleVerdict, BundleFailure>,
        /// The wallet's keys that are the pledgee's: they may accept.
        acceptors: Vec<String>,
    },
    Envelope(std::result::Result<ebl_pint::EnvelopeVerdict, ebl_pint::PintFailure>),
    /// A PINT envelope, with no trust directory to check it against.
    EnvelopeUntrusted,
}

/// The bundle's verdict against the chains this wallet pinned, as `ebl verify` gives it.
fn check_bundle(
    home: &std::path::Path,
    bundle: &Bundle,
) -> Result<std::result::Result<BundleVerdict, BundleFailure>> {
    let chain = bundle.genesis.chain_id();
    // A bundle proves itself consistent with its own genesis; only a pinned chain makes it trusted.
    if crate::pins::Pins::load(home)?.check(&chain, None).is_err() {
        return Ok(Err(BundleFailure {
            error: Error::UnpinnedChain { chain },
            place: "genesis".to_owned(),
        }));
    }
    Ok(bundle.verify())
}

/// A dropped file of `len` bytes is read only within `DROPPED_FILE_BYTES_MAX`.
fn check_size(len: usize) -> Result<()> {
    if len > DROPPED_FILE_BYTES_MAX {
        return Err(CliError::from(Refusal::FileTooLarge {
            file: format!("a dropped file of {len} bytes"),
            what: "dropped file".into(),
            max: DROPPED_FILE_BYTES_MAX,
        }));
    }
    Ok(())
}

/// What `text` is and what its check found; a file of no known kind is refused in `lang`'s words.
fn check(app: &super::App, text: String, lang: crate::lang::Lang) -> Result<Checked> {
    let unknown = |why: String| {
        CliError::from(Refusal::UnknownFileKind {
            said: format!("{} ({why})", W::NotAFile.get(lang)),
        })
    };
    check_size(text.len())?;
    let value: Value =
        serde_json::from_str(&text).map_err(|e| unknown(format!("not JSON: {e}")))?;
    let format = value["format"].as_str().unwrap_or("");
    // Any bundle version: `from_json` reads every one this release reads and names the others.
    if format
        .strip_prefix(ebl_core::format::BUNDLE.prefix)
        .is_some_and(|version| version.starts_with('/'))
    {
        let bundle = match Bundle::from_json(text.as_bytes()) {
            Ok(bundle) => bundle,
            Err(f) => return Err(CliError::core_in(Kind::Usage, f.error, f.place)),
        };
        let result = check_bundle(&app.home, &bundle)?;
        return Ok(Checked::Bundle {
            bundle: Box::new(bundle),
            result,
        });
    }
    if format == PLEDGE_OFFER_FORMAT {
        let offer: PledgeOffer = serde_json::from_value(value).map_err(|e| {
            CliError::from(Refusal::BadOffer {
                source: crate::error::source(e),
            })
        })?;
        let result = check_bundle(&app.home, &offer.bundle)?;
        let acceptors = match &offer.transaction.body.action {
            Action::Pledge { pledgee, .. } => {
                let registry = offer.bundle.registry();
                let key = registry.party(*pledgee).map(|p| p.key);
                let keys = app.wallet().keys;
                keys.names()?
                    .into_iter()
                    .filter(|n| keys.public(n).ok() == key)
                    .collect()
            }
            _ => Vec::new(),
        };
        return Ok(Checked::Offer {
            offer: Box::new(offer),
            text,
            result,
            acceptors,
        });
    }
    if value.get("transportDocument").is_some()
        && value.get("envelopeManifestSignedContent").is_some()
    {
        let Some(dir) = &app.pint_trust else {
            return Ok(Checked::EnvelopeUntrusted);
        };
        let trust = crate::cli::trust_store(dir)?;
        return Ok(Checked::Envelope(ebl_pint::verify_envelope(
            text.as_bytes(),
            &trust,
        )));
    }
    Err(unknown(
        "no proof bundle (ebl bill export), pledge offer (ebl bill pledge) or PINT envelope"
            .to_owned(),
    ))
}

fn drop_zone(ctx: &Ctx) -> Markup {
    html! {
        form id="verify-form" method="post" action="/verify" {
            input type="hidden" name="csrf" value=(ctx.csrf);
            label.drop id="drop" for="file" {
                span { (ctx.t(W::DropHere)) }
                input id="file" type="file" accept=".json,application/json";
            }
            details {
                summary { (ctx.t(W::OrPaste)) }
                textarea id="content" name="content" rows="6" {}
                button type="submit" { (ctx.t(W::Check)) }
            }
        }
    }
}

fn page_markup(ctx: &Ctx) -> Markup {
    page(
        ctx,
        ctx.t(W::Verify),
        html! {
            h1 { (ctx.t(W::Verify)) }
            p.lead { (ctx.t(W::VerifyLead)) }
            (drop_zone(ctx))
        },
    )
}

pub(super) async fn show(headers: HeaderMap, uri: Uri) -> Response {
    let ctx = context(&headers, &uri);
    html(page_markup(&ctx))
}

fn failure(ctx: &Ctx, bundle: &Bundle, f: &BundleFailure) -> Markup {
    html! {
        section.verdict.invalid id="verdict" {
            h2 { span.badge.bad { "✗" } " " (ctx.t(W::Invalid)) }
            dl.reasons {
                dt { (ctx.t(W::WhatFailed)) }
                dd.what { (ebl_words::codes::of_rule(&f.error, ctx.lang)) br; span.exact { (f.error) } }
                dt { (ctx.t(W::Where)) }
                dd.where { (crate::output::place_in_words(bundle, f, ctx.lang)) }
                dt { (ctx.t(W::Code)) }
                dd { code.error-code { (f.error.code()) } }
            }
        }
    }
}

fn shown_or_failure(
    ctx: &Ctx,
    bundle: &Bundle,
    result: &std::result::Result<BundleVerdict, BundleFailure>,
) -> Markup {
    match result {
        Ok(verdict) => bill_view::all(ctx, &Shown::new(bundle, verdict)),
        Err(f) => failure(ctx, bundle, f),
    }
}

fn offer_terms(ctx: &Ctx, offer: &PledgeOffer) -> Markup {
    let registry = offer.bundle.registry();
    let name = |id: &ebl_core::PartyId| {
        registry
            .party(*id)
            .map_or_else(|| format!("party {}", id.short()), |p| p.name().to_owned())
    };
    let pledgor = offer
        .transaction
        .signatures
        .first()
        .and_then(|s| registry.by_key(&s.signer))
        .map_or_else(String::new, |p| p.name().to_owned());
    html! {
        section.offer {
            h2 { (ctx.t(W::OfferTitle)) }
            @if let Action::Pledge { pledgee, loan, bill } = &offer.transaction.body.action {
                dl.facts {
                    dt { (ctx.t(W::Pledgor)) } dd { (pledgor) }
                    dt { (ctx.t(W::Pledgee)) } dd.pledgee { (name(pledgee)) }
                    dt { (ctx.t(W::Loan)) } dd { (money(loan.amount_minor, &loan.currency)) " · " (loan.reference) }
                    @if let Some(until) = offer.transaction.body.valid_until_ms {
                        dt { (ctx.t(W::ValidUntil)) } dd { (timestamp(until)) }
                    }
                    dt { (ctx.t(W::Ids)) } dd { (hex(ctx, &bill.to_hex())) }
                }
            }
        }
    }
}

/// Why an accepted offer was not signed, shown on the offer's page above everything else: the words of
/// the refusal, what moved the bill since (for a stale offer), and whether the offer can still be
/// accepted (a wrong passphrase, say) or never can.
pub(super) struct Notice {
    pub message: String,
    pub moves: Vec<ebl_core::api::Move>,
    pub refused_for_good: bool,
}

/// The sentence a bank reads just before it signs: who co-signs what, for how much, on which bill held
/// by whom.
fn signing_summary(ctx: &Ctx, offer: &PledgeOffer) -> String {
    let registry = offer.bundle.registry();
    let Action::Pledge { pledgee, loan, .. } = &offer.transaction.body.action else {
        return String::new();
    };
    let bank = registry.party(*pledgee).map_or_else(
        || format!("party {}", pledgee.short()),
        |p| p.name().to_owned(),
    );
    let holder = offer
        .transaction
        .signatures
        .first()
        .and_then(|s| registry.by_key(&s.signer))
        .map_or_else(String::new, |p| p.name().to_owned());
    let amount = money(loan.amount_minor, &loan.currency);
    let reference = &offer.bundle.document.facts().transport_document_reference;
    match ctx.lang {
        crate::lang::Lang::En => format!(
            "You, {bank}, co-sign a pledge of {amount} on bill {reference} held by {holder}, securing loan {}.",
            loan.reference
        ),
        crate::lang::Lang::Zh => format!(
            "您（{bank}）会签一项质押：提单 {reference}，持有人 {holder}，担保金额 {amount}，贷款编号 {}。",
            loan.reference
        ),
    }
}

fn notice_section(ctx: &Ctx, notice: &Notice) -> Markup {
    html! {
        section.verdict.invalid id="notice" {
            h2 { span.badge.bad { "✗" } " " (ctx.t(W::OfferNotAccepted)) }
            p.what { (notice.message) }
            @if !notice.moves.is_empty() {
                h3 { (ctx.t(W::MovedSince)) }
                ul.moved {
                    @for m in &notice.moves {
                        li { (words::action(&m.action, ctx.lang)) " · " (timestamp(m.block_time_ms)) }
                    }
                }
            }
        }
    }
}

/// The page of the offer `text` with `notice` on top: what `ebl ui` shows when an accept was refused,
/// so the bank keeps the offer, its verification and (where it can still be accepted) the form.
pub(super) fn offer_page(
    app: &super::App,
    ctx: &Ctx,
    text: String,
    notice: &Notice,
) -> Result<Markup> {
    let checked = check(app, text, ctx.lang)?;
    Ok(result_page(ctx, &checked, Some(notice)))
}

fn result_page(ctx: &Ctx, checked: &Checked, notice: Option<&Notice>) -> Markup {
    let body = match checked {
        Checked::Bundle { bundle, result } => html! {
            h1 { (ctx.t(W::Verify)) ": " (bundle.document.facts().transport_document_reference) }
            (shown_or_failure(ctx, bundle, result))
        },
        Checked::Offer {
            offer,
            text,
            result,
            acceptors,
        } => {
            // An expired offer, or one the ledger refused for good (stale), is shown without a way
            // to accept it: the ledger would refuse it, and the page says why first.
            let expired = offer
                .transaction
                .body
                .valid_until_ms
                .is_some_and(|until| until < crate::wallet::now_ms());
            let closed = expired || notice.is_some_and(|n| n.refused_for_good);
            // The bundle's registry replayed once, for the verdict and the sections after the form.
            let shown = result.as_ref().ok().map(|v| Shown::new(&offer.bundle, v));
            html! {
                h1 { (ctx.t(W::OfferTitle)) ": " (offer.bundle.document.facts().transport_document_reference) }
                @if let Some(n) = notice { (notice_section(ctx, n)) }
                @if expired { p.warning id="offer-expired" { (ctx.t(W::OfferExpired)) } }
                // The verification and its freshness first, then the terms, then the form: a bank
                // reads whether the bill is sound before what it is asked to sign.
                @match (&shown, result) {
                    (Some(shown), _) => { (bill_view::verdict(ctx, shown)) }
                    (None, Err(f)) => { (failure(ctx, &offer.bundle, f)) }
                    (None, Ok(_)) => {}
                }
                (offer_terms(ctx, offer))
                @if result.is_ok() && !closed {
                    section.actions {
                        @if acceptors.is_empty() {
                            p { (ctx.t(W::NotYourOffer)) }
                        } @else {
                            form.act id="accept-form" method="post" action="/offer/accept" {
                                h3 { (ctx.t(W::AcceptOffer)) }
                                input type="hidden" name="content" value=(text);
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                label { (ctx.t(W::ActAs)) " " select name="key" { @for k in acceptors { option value=(k) { (k) } } } }
                                label { (ctx.t(W::Passphrase)) " " input type="password" name="passphrase" autocomplete="off" required; }
                                small.note { (ctx.t(W::PassphraseNote)) }
                                p.summary id="signing-summary" { strong { (ctx.t(W::YouWillSign)) ": " } (signing_summary(ctx, offer)) }
                                button type="submit" { (ctx.t(W::Submit)) }
                            }
                        }
                    }
                }
                @if let Some(shown) = &shown {
                    (bill_view::rest(ctx, shown))
                }
            }
        }
        Checked::EnvelopeUntrusted => html! {
            h1 { (ctx.t(W::PintEnvelope)) }
            p.warning { (ctx.t(W::NoTrustDir)) }
        },
        Checked::Envelope(Ok(v)) => html! {
            h1 { (ctx.t(W::PintEnvelope)) ": " (v.transport_document_reference) }
            section.verdict.valid id="verdict" {
                h2 { span.badge.ok { "✓" } " " (ctx.t(W::PintAccepted)) }
                dl.reasons {
                    dt { (ctx.t(W::Transfers)) } dd { (v.actions.iter().map(|a| words::action(a, ctx.lang)).collect::<Vec<_>>().join(" → ")) }
                    dt { (ctx.t(W::Platforms)) } dd { (v.platforms.join(" → ")) }
                    dt { (ctx.t(W::Checksum)) } dd { code.hex { (v.document_checksum.to_hex()) } }
                }
            }
        },
        Checked::Envelope(Err(f)) => html! {
            h1 { (ctx.t(W::PintEnvelope)) }
            section.verdict.invalid id="verdict" {
                h2 { span.badge.bad { "✗" } " " (ctx.t(W::Invalid)) }
                dl.reasons {
                    dt { (ctx.t(W::WhatFailed)) }
                    dd.what { (words::pint(f.code, ctx.lang)) br; span.exact { (f.reason) } }
                    dt { (ctx.t(W::Where)) } dd.where { (f.place) }
                    dt { (ctx.t(W::Code)) } dd { code.error-code { (f.code.code()) } }
                }
            }
        },
    };
    page(
        ctx,
        ctx.t(W::Verify),
        html! {
            (body)
            h2 { (ctx.t(W::Verify)) }
            (drop_zone(ctx))
        },
    )
}

pub(super) async fn dropped(
    State(app): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    form: std::result::Result<Form<DropForm>, FormRejection>,
) -> Response {
    let ctx = context(&headers, &uri);
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => {
            return error_response(
                &ctx,
                &CliError::from(Refusal::IncompleteForm {
                    source: crate::error::source(e),
                }),
            )
        }
    };
    let checked = {
        let app = app.clone();
        let lang = ctx.lang;
        blocking(move || check(&app, form.content, lang)).await
    };
    match checked {
        Ok(checked) => html(result_page(&ctx, &checked, None)),
        Err(e) => error_response(&ctx, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_file_is_read_up_to_its_limit_and_no_further() {
        assert!(check_size(DROPPED_FILE_BYTES_MAX).is_ok());
        let e = check_size(DROPPED_FILE_BYTES_MAX + 1).expect_err("over the limit");
        assert!(
            matches!(e.refusal(), Some(Refusal::FileTooLarge { .. })),
            "{e}"
        );
    }
}
