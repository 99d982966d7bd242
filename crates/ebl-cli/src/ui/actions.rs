//! The acting forms: transfer, endorse, offer as collateral, release, and a bank's acceptance of an
//! offer. Each unlocks its key with the passphrase typed for it and calls the same `Wallet` function
//! the CLI does; the ledger's rules decide, and a refusal comes back as the page's error.

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use ebl_core::{Action, Loan, Status};
use maud::{html, Markup};
use serde::Deserialize;

use super::layout::Ctx;
use super::pages::LiveBill;
use super::{blocking, context, error_response, html as page_html, Shared};
use crate::error::{CliError, Refusal, Result};
use crate::output::money;
use crate::wallet::{parse_amount, PledgeOffer, PLEDGE_OFFER_VALID_HOURS_DEFAULT};
use crate::words::W;

/// What a bill-page form asks for.
#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub(super) enum ActKind {
    Transfer,
    Endorse,
    PledgeOffer,
    Release,
}

#[derive(Debug, Deserialize)]
pub(super) struct ActForm {
    kind: ActKind,
    key: String,
    passphrase: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    to_order: Option<String>,
    #[serde(default)]
    bank: String,
    #[serde(default)]
    amount: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    loan: String,
    #[serde(default)]
    hours: Option<u64>,
}

#[derive(Debug, Deserialize)]
pub(super) struct AcceptForm {
    content: String,
    key: String,
    passphrase: String,
}

fn bad_form(e: FormRejection) -> CliError {
    CliError::from(Refusal::IncompleteForm {
        source: crate::error::source(e.to_string()),
    })
}

fn key_and_passphrase(ctx: &Ctx, keys: &[String]) -> Markup {
    html! {
        label { (ctx.t(W::ActAs)) " "
            select name="key" {
                @for k in keys { option value=(k) { (k) } }
            }
        }
        label { (ctx.t(W::Passphrase)) " "
            input type="password" name="passphrase" autocomplete="off" required;
        }
        small.note { (ctx.t(W::PassphraseNote)) }
    }
}

/// The sentence that ends a signing form: exactly what the key signs. `chosen` is the party a select
/// of the form names (its first option until the user picks another; app.js keeps it in step), set in
/// its own span so the sentence names whoever is chosen.
fn summary(ctx: &Ctx, before: &str, chosen: Option<&str>, after: &str) -> Markup {
    html! {
        p.summary {
            strong { (ctx.t(W::YouWillSign)) ": " }
            (before)
            @if let Some(chosen) = chosen { span.chosen { (chosen) } }
            (after)
        }
    }
}

/// The words of each form's summary, in the page's language: (before the chosen party, after it).
fn summary_words(
    ctx: &Ctx,
    form: ActKind,
    you: &str,
    reference: &str,
    loan: Option<&ebl_core::Pledge>,
) -> (String, String) {
    use crate::lang::Lang;
    match (form, ctx.lang) {
        (ActKind::Transfer, Lang::En) => (
            format!("You, {you}, hand possession of bill {reference} to "),
            ". Title does not move with it.".to_owned(),
        ),
        (ActKind::Transfer, Lang::Zh) => (
            format!("您（{you}）将提单 {reference} 的占有转让给"),
            "。提货权不随之转移。".to_owned(),
        ),
        (ActKind::Endorse, Lang::En) => (
            format!("You, {you}, endorse bill {reference} to "),
            "; possession stays with you until you transfer it.".to_owned(),
        ),
        (ActKind::Endorse, Lang::Zh) => (
            format!("您（{you}）将提单 {reference} 背书给"),
            "；在您转让之前，占有仍归您。".to_owned(),
        ),
        (ActKind::PledgeOffer, Lang::En) => (
            format!("You, {you}, offer bill {reference} as collateral for the loan above to "),
            ". Nothing changes on the ledger until the bank co-signs.".to_owned(),
        ),
        (ActKind::PledgeOffer, Lang::Zh) => (
            format!("您（{you}）将提单 {reference} 作为上述贷款的担保提供给"),
            "。银行会签之前，账本上不会发生任何变化。".to_owned(),
        ),
        (ActKind::Release, lang) => {
            let (amount, loan) = loan.map_or((String::new(), String::new()), |p| {
                (
                    money(p.loan.amount_minor, &p.loan.currency),
                    p.loan.reference.clone(),
                )
            });
            match lang {
                Lang::En => (
                    format!("You, {you}, release the pledge of {amount} (loan {loan}) on bill {reference}: its holder may deal with the bill again."),
                    String::new(),
                ),
                Lang::Zh => (
                    format!("您（{you}）解除提单 {reference} 上担保 {amount}（贷款 {loan}）的质押：持有人可再次处置该提单。"),
                    String::new(),
                ),
            }
        }
    }
}

/// The forms a bill page offers the wallet's keys that have a part in the bill now.
pub(super) fn panel(ctx: &Ctx, live: &LiveBill) -> Markup {
    let b = &live.verdict.bill;
    let action = format!("/bill/{}/act", b.id.to_hex());
    let holders: Vec<String> = live
        .mine
        .iter()
        .filter(|(_, p)| p.id == b.possessor)
        .map(|(n, _)| n.clone())
        .collect();
    let pledgees: Vec<String> = live
        .mine
        .iter()
        .filter(|(_, p)| matches!(&b.status, Status::Pledged(pl) if pl.pledgee == p.id))
        .map(|(n, _)| n.clone())
        .collect();
    let free = matches!(b.status, Status::Issued);
    let others: Vec<_> = live
        .parties
        .iter()
        .filter(|p| !p.revoked && p.id != b.possessor)
        .collect();
    let banks: Vec<_> = others
        .iter()
        .filter(|p| p.has_role(ebl_core::Role::Bank))
        .collect();
    let name_of = |id: &ebl_core::PartyId| {
        live.parties
            .iter()
            .find(|p| p.id == *id)
            .map_or_else(|| format!("party {}", id.short()), |p| p.name().to_owned())
    };
    let holder = name_of(&b.possessor);
    let pledge = match &b.status {
        Status::Pledged(p) => Some(p),
        _ => None,
    };
    let bank = pledge.map(|p| name_of(&p.pledgee)).unwrap_or_default();
    let words = |form: ActKind, you: &str| summary_words(ctx, form, you, &b.reference, pledge);
    let first_other = others.first().map(|p| p.name());
    let first_bank = banks.first().map(|p| p.name());
    html! {
        section.actions id="actions" {
            h2 { (ctx.t(W::Actions)) }
            @if (holders.is_empty() || !free) && pledgees.is_empty() {
                p { (ctx.t(W::NoActions)) }
            }
            @if !holders.is_empty() && free {
                form.act method="post" action=(action) id="transfer-form" {
                    h3 { (ctx.t(W::TransferAction)) }
                    input type="hidden" name="kind" value="transfer"; input type="hidden" name="csrf" value=(ctx.csrf);
                    label { (ctx.t(W::To)) " "
                        select name="to" { @for p in &others { option value=(p.id.to_hex()) { (p.name()) } } }
                    }
                    (key_and_passphrase(ctx, &holders))
                    @let (before, after) = words(ActKind::Transfer, &holder);
                    (summary(ctx, &before, first_other, &after))
                    button type="submit" { (ctx.t(W::Submit)) }
                }
                @if b.negotiable {
                    form.act method="post" action=(action) id="endorse-form" {
                        h3 { (ctx.t(W::EndorseAction)) }
                        input type="hidden" name="kind" value="endorse"; input type="hidden" name="csrf" value=(ctx.csrf);
                        label { (ctx.t(W::To)) " "
                            select name="to" { @for p in &others { option value=(p.id.to_hex()) { (p.name()) } } }
                        }
                        label.check { input type="checkbox" name="to_order" value="1" checked; " " (ctx.t(W::EndorseToOrderBox)) }
                        (key_and_passphrase(ctx, &holders))
                        @let (before, after) = words(ActKind::Endorse, &holder);
                        (summary(ctx, &before, first_other, &after))
                        button type="submit" { (ctx.t(W::Submit)) }
                    }
                }
                form.act method="post" action=(action) id="pledge-form" {
                    h3 { (ctx.t(W::OfferPledge)) }
                    input type="hidden" name="kind" value="pledge_offer"; input type="hidden" name="csrf" value=(ctx.csrf);
                    label { (ctx.t(W::Bank)) " "
                        select name="bank" { @for p in &banks { option value=(p.id.to_hex()) { (p.name()) } } }
                    }
                    label { (ctx.t(W::Amount)) " " input name="amount" inputmode="decimal" placeholder="1000000.00" required; }
                    label { (ctx.t(W::Currency)) " " input name="currency" value="USD" maxlength="3" required; }
                    label { (ctx.t(W::LoanReference)) " " input name="loan" required; }
                    label { (ctx.t(W::ValidHours)) " " input name="hours" type="number" min="1" value=(PLEDGE_OFFER_VALID_HOURS_DEFAULT); }
                    (key_and_passphrase(ctx, &holders))
                    @let (before, after) = words(ActKind::PledgeOffer, &holder);
                    (summary(ctx, &before, first_bank, &after))
                    button type="submit" { (ctx.t(W::WriteOffer)) }
                }
            }
            @if !pledgees.is_empty() {
                form.act method="post" action=(action) id="release-form" {
                    h3 { (ctx.t(W::ReleaseAction)) }
                    input type="hidden" name="kind" value="release"; input type="hidden" name="csrf" value=(ctx.csrf);
                    (key_and_passphrase(ctx, &pledgees))
                    @let (before, after) = words(ActKind::Release, &bank);
                    (summary(ctx, &before, None, &after))
                    button type="submit" { (ctx.t(W::Submit)) }
                }
            }
        }
    }
}

/// What an acting form led to: a recorded action, or an offer to hand the bank.
enum Acted {
    Recorded {
        code: &'static str,
    },
    Offer {
        offer: Box<PledgeOffer>,
        reference: String,
    },
}

fn perform(app: &super::App, bill: &str, form: ActForm) -> Result<(String, Acted)> {
    let wallet = app.acting_wallet(form.passphrase);
    let key = wallet.signer(&form.key)?;
    let bill = wallet.bill_id(bill)?;
    let action = match form.kind {
        ActKind::Transfer => Action::Transfer {
            bill,
            to: wallet.party(&form.to)?.id,
        },
        ActKind::Endorse if form.to_order.is_some() => Action::EndorseToOrder {
            bill,
            to: wallet.party(&form.to)?.id,
        },
        ActKind::Endorse => Action::Endorse {
            bill,
            to: wallet.party(&form.to)?.id,
        },
        ActKind::Release => Action::Release { bill },
        ActKind::PledgeOffer => {
            let loan = Loan {
                reference: form.loan,
                amount_minor: parse_amount(&form.amount)?,
                currency: form.currency.to_uppercase(),
            };
            let hours = form.hours.unwrap_or(PLEDGE_OFFER_VALID_HOURS_DEFAULT);
            let offer = wallet.offer_pledge(&key, bill, &form.bank, loan, hours)?;
            let reference = offer
                .bundle
                .document
                .facts()
                .transport_document_reference
                .clone();
            return Ok((
                bill.to_hex(),
                Acted::Offer {
                    offer: Box::new(offer),
                    reference,
                },
            ));
        }
    };
    let code = action.code();
    wallet.act(&key, action)?;
    Ok((bill.to_hex(), Acted::Recorded { code }))
}

/// A file name made only of characters every file system takes.
fn file_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect()
}

pub(super) async fn act(
    State(app): State<Shared>,
    Path(bill): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    form: std::result::Result<Form<ActForm>, FormRejection>,
) -> Response {
    let ctx = context(&headers, &uri);
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return error_response(&ctx, &bad_form(e)),
    };
    let done = {
        let app = app.clone();
        let bill = bill.clone();
        blocking(move || perform(&app, &bill, form)).await
    };
    match done {
        Ok((bill, Acted::Recorded { code })) => {
            Redirect::to(&format!("/bill/{bill}?done={code}#verdict")).into_response()
        }
        Ok((_, Acted::Offer { offer, reference })) => {
            let body = match serde_json::to_vec_pretty(&offer) {
                Ok(body) => body,
                Err(e) => return error_response(&ctx, &CliError::io("the offer", e)),
            };
            (
                [
                    (header::CONTENT_TYPE, "application/json".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!(
                            "attachment; filename=\"pledge-offer-{}.json\"",
                            file_safe(&reference)
                        ),
                    ),
                ],
                body,
            )
                .into_response()
        }
        Err(e) => refused_on_its_page(&app, &ctx, bill, &e).await,
    }
}

/// An action the wallet or the ledger refused, said on the bill's page above its forms (issue 34: a
/// generic error page lost the form); the error page only when the bill itself cannot be shown.
async fn refused_on_its_page(app: &Shared, ctx: &Ctx, bill: String, e: &CliError) -> Response {
    let app = app.clone();
    match blocking(move || super::pages::live_bill(&app, &bill)).await {
        Ok(live) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            page_html(super::pages::bill_page(ctx, &live, None, Some(e))),
        )
            .into_response(),
        Err(_) => error_response(ctx, e),
    }
}

pub(super) async fn accept_offer(
    State(app): State<Shared>,
    headers: HeaderMap,
    uri: Uri,
    form: std::result::Result<Form<AcceptForm>, FormRejection>,
) -> Response {
    let ctx = context(&headers, &uri);
    let form = match form {
        Ok(Form(form)) => form,
        Err(e) => return error_response(&ctx, &bad_form(e)),
    };
    let content = form.content.clone();
    let done = {
        let app = app.clone();
        blocking(move || {
            let offer: PledgeOffer = serde_json::from_str(&form.content).map_err(|e| {
                CliError::from(Refusal::BadOffer {
                    source: crate::error::source(e),
                })
            })?;
            let wallet = app.acting_wallet(form.passphrase);
            let key = wallet.signer(&form.key)?;
            Ok(match wallet.accept_pledge(&offer, &key) {
                Ok(_) => Accepted::Done(offer.bundle.bill.to_hex()),
                Err(e) => {
                    // A stale offer: what moved the bill since, as the node tells the pledgee.
                    let moves = if matches!(e.refusal(), Some(Refusal::StaleOffer)) {
                        wallet
                            .review_pledge(&offer, &key)
                            .map(|r| r.freshness.moved)
                            .unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    Accepted::Refused(e, moves)
                }
            })
        })
        .await
    };
    let (e, moves) = match done {
        Ok(Accepted::Done(bill)) => {
            return Redirect::to(&format!("/bill/{bill}?done=PLEDGE#verdict")).into_response()
        }
        Ok(Accepted::Refused(e, moves)) => (e, moves),
        Err(e) => (e, Vec::new()),
    };
    // The offer's page again, the refusal on top in words: the bank keeps the offer and its
    // verification, and the form where the offer can still be accepted (a mistyped passphrase).
    let stale = matches!(e.refusal(), Some(Refusal::StaleOffer));
    let expired = matches!(e.core_error(), Some(ebl_core::Error::Expired { .. }));
    let notice = super::verify::Notice {
        message: if stale {
            ctx.t(W::OfferStale).to_owned()
        } else if expired {
            ctx.t(W::OfferExpired).to_owned()
        } else {
            e.to_string()
        },
        moves,
        refused_for_good: stale || expired,
    };
    let page = {
        let app = app.clone();
        let ctx = ctx.clone();
        blocking(move || super::verify::offer_page(&app, &ctx, content, &notice)).await
    };
    match page {
        Ok(page) => (StatusCode::UNPROCESSABLE_ENTITY, page_html(page)).into_response(),
        Err(_) => error_response(&ctx, &e),
    }
}

/// What accepting an offer came to: the pledged bill, or the refusal with what moved the bill since.
enum Accepted {
    Done(String),
    Refused(CliError, Vec<ebl_core::api::Move>),
}
