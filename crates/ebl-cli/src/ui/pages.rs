//! The reading pages: the worklist, a bill (verified through a fresh proof bundle), a block and its
//! member signatures, a party.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use ebl_core::bundle::{Bundle, BundleVerdict};
use ebl_core::{Bill, BillId, Ledger, Party, PartyId, PartyKey, Signatures, Status};
use maud::html;

use super::bill_view::{self, Shown};
use super::layout::{hex, page, Ctx};
use super::{actions, blocking, context, error_response, html, Shared};
use crate::error::Result;
use crate::output::{money, timestamp};
use crate::words::{self, W};

/// A bill read live from the node: its proof bundle, verified here, and what the wallet's keys may do.
pub(crate) struct LiveBill {
    pub bundle: Bundle,
    pub verdict: BundleVerdict,
    /// The wallet's keys (name, party) that have a part in the bill now.
    pub mine: Vec<(String, Party)>,
    /// Every registered party, for the action forms' choices.
    pub parties: Vec<Party>,
}

/// Reads `bill` with the first of the wallet's keys allowed to, exports its proof bundle and verifies
/// it against the chain the wallet pinned: the page shows what a bank's offline check would.
pub(crate) fn live_bill(app: &super::App, text: &str) -> Result<LiveBill> {
    let wallet = app.wallet();
    let id: BillId = wallet.bill_id(text)?;
    let mut last = None;
    for (_, key) in &app.readers {
        match wallet.node.bill(&id, key) {
            Ok(_) => {
                let bundle = wallet.export(&id, key)?;
                crate::pins::Pins::load(&app.home)?.check(&bundle.genesis.chain_id(), None)?;
                let verdict = bundle.verify().map_err(|f| crate::cli::invalid(&f))?;
                let parties = wallet.node.parties()?;
                let current = verdict.bill.current_parties();
                let mine = app
                    .readers
                    .iter()
                    .filter_map(|(name, key)| {
                        let public = PartyKey::of(key);
                        parties
                            .iter()
                            .find(|p| p.key == public && current.contains(&p.id))
                            .map(|p| (name.clone(), p.clone()))
                    })
                    .collect();
                return Ok(LiveBill {
                    bundle,
                    verdict,
                    mine,
                    parties,
                });
            }
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| crate::error::WalletRule::NoReader.into()))
}

pub(super) async fn bill(
    State(app): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = context(&headers, &uri);
    let done = super::query_value(&uri, "done");
    let loaded = {
        let app = app.clone();
        blocking(move || live_bill(&app, &id)).await
    };
    match loaded {
        Ok(live) => html(bill_page(&ctx, &live, done.as_deref(), None)),
        Err(e) => error_response(&ctx, &e),
    }
}

/// `GET /bill/{id}/bundle`: the proof bundle the bill page's verdict rests on, freshly exported and
/// verified as the page does, as a file for the bank's credit file (the bytes `ebl bill export` writes).
pub(super) async fn bundle(
    State(app): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    use axum::response::IntoResponse;
    let ctx = context(&headers, &uri);
    let loaded = blocking(move || live_bill(&app, &id)).await;
    let live = match loaded {
        Ok(live) => live,
        Err(e) => return error_response(&ctx, &e),
    };
    let text = match serde_json::to_vec_pretty(&live.bundle) {
        Ok(text) => text,
        Err(e) => {
            return error_response(&ctx, &crate::error::CliError::io("encoding the bundle", e))
        }
    };
    // The reference names the file; a character a file name cannot hold becomes '-'.
    let name: String = live
        .verdict
        .bill
        .reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    (
        [
            (
                axum::http::header::CONTENT_TYPE,
                "application/json".to_owned(),
            ),
            (
                axum::http::header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.bundle.json\""),
            ),
        ],
        text,
    )
        .into_response()
}

/// A bill's page; `failed` is an action on it the wallet or the ledger refused, said above the forms,
/// which stay for another try.
pub(super) fn bill_page(
    ctx: &Ctx,
    live: &LiveBill,
    done: Option<&str>,
    failed: Option<&crate::error::CliError>,
) -> maud::Markup {
    let shown = Shown::new(&live.bundle, &live.verdict);
    let b = &live.verdict.bill;
    let heading = format!("{} · {}", b.reference, b.carrier_code);
    let print_link = format!("/bill/{}?print=1", b.id.to_hex());
    let bundle_link = format!("/bill/{}/bundle", b.id.to_hex());
    page(
        ctx,
        &heading,
        html! {
            h1 { (heading) }
            @if let Some(code) = done {
                p.done role="status" { "✓ " (words::done(&words::action(code, ctx.lang), ctx.lang)) }
            }
            @if ctx.print {
                p.printed { (ctx.t(W::PrintedAt)) " " (timestamp(crate::wallet::now_ms())) }
            } @else {
                p.links {
                    a.print-link href=(print_link) { (ctx.t(W::PrintView)) }
                    " · "
                    a.download href=(bundle_link) download title=(ctx.t(W::DownloadBundleLead)) { (ctx.t(W::DownloadBundle)) }
                }
            }
            (bill_view::all(ctx, &shown))
            @if let Some(e) = failed {
                (super::layout::failure_notice(ctx, e))
            }
            @if !ctx.print {
                (actions::panel(ctx, live))
            }
        },
    )
}

pub(super) async fn worklist(State(app): State<Shared>, headers: HeaderMap, uri: Uri) -> Response {
    let ctx = context(&headers, &uri);
    let listed = {
        let app = app.clone();
        blocking(move || {
            let wallet = app.wallet();
            let mut bills: BTreeMap<BillId, (Bill, Vec<String>)> = BTreeMap::new();
            // A key the node does not know (not registered yet, or rotated away) lists nothing and is
            // named on the page; only a node that cannot be reached fails the page (issue 34: one such
            // key broke the whole worklist with a 400 that named no key).
            let mut unknown: Vec<(String, String)> = Vec::new();
            let mut answered = None;
            for (i, (name, key)) in app.readers.iter().enumerate() {
                match wallet.node.my_bills(key) {
                    Ok(listed) => {
                        answered.get_or_insert(i);
                        for bill in listed {
                            bills
                                .entry(bill.id)
                                .or_insert_with(|| (bill, Vec::new()))
                                .1
                                .push(name.clone());
                        }
                    }
                    Err(e) if e.kind() == crate::error::Kind::Unreachable => return Err(e),
                    Err(e) => unknown.push((name.clone(), e.to_string())),
                }
            }
            if let Some(i) = answered {
                app.reader.store(i, std::sync::atomic::Ordering::Relaxed);
                if let Some((_, key)) = app.readers.get(i) {
                    wallet.node.replace_reader(key);
                }
            }
            let names = crate::output::names(&wallet.node.parties()?);
            let mut rows: Vec<(Bill, Vec<String>)> = bills.into_values().collect();
            rows.sort_by(|a, b| a.0.reference.cmp(&b.0.reference));
            Ok((rows, names, unknown))
        })
        .await
    };
    let (rows, names, unknown) = match listed {
        Ok(listed) => listed,
        Err(e) => return error_response(&ctx, &e),
    };
    let name = |id: &PartyId| crate::output::name(&names, id);
    html(page(
        &ctx,
        ctx.t(W::Worklist),
        html! {
            h1 { (ctx.t(W::Worklist)) }
            p.lead { (ctx.t(W::WorklistLead)) }
            @if !unknown.is_empty() {
                section.warning id="unknown-keys" {
                    p { (ctx.t(W::KeysUnknown)) }
                    ul { @for (key, why) in &unknown { li { strong { (key) } " · " small.exact { (why) } } } }
                }
            }
            @if rows.is_empty() {
                p.empty { (ctx.t(W::NoBills)) }
            } @else {
                div.table-scroll {
                    table.worklist.cards {
                        thead { tr {
                            th { (ctx.t(W::Reference)) } th { (ctx.t(W::Carrier)) } th { (ctx.t(W::Status)) }
                            th { (ctx.t(W::Possessor)) } th { (ctx.t(W::Title)) } th { (ctx.t(W::Pledge)) } th { (ctx.t(W::YourKeys)) }
                        } }
                        tbody {
                            @for (b, keys) in &rows {
                                tr.bill data-bill=(b.id.to_hex()) {
                                    td data-label=(ctx.t(W::Reference)) { a.bill-link href=(format!("/bill/{}", b.id.to_hex())) { (b.reference) } }
                                    td data-label=(ctx.t(W::Carrier)) { (name(&b.carrier)) }
                                    td.status data-label=(ctx.t(W::Status)) { (words::status(&b.status, ctx.lang)) }
                                    td data-label=(ctx.t(W::Possessor)) { (name(&b.possessor)) }
                                    td data-label=(ctx.t(W::Title)) { (words::title(&b.title, &name, ctx.lang)) }
                                    td data-label=(ctx.t(W::Pledge)) {
                                        @match &b.status {
                                            Status::Pledged(p) => { (name(&p.pledgee)) " · " (money(p.loan.amount_minor, &p.loan.currency)) }
                                            _ => { "—" }
                                        }
                                    }
                                    td data-label=(ctx.t(W::YourKeys)) { (keys.join(", ")) }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

pub(super) async fn block(
    State(app): State<Shared>,
    Path(height): Path<u64>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = context(&headers, &uri);
    let read = {
        let app = app.clone();
        blocking(move || {
            let wallet = app.wallet();
            let block = wallet.node.block(height)?;
            let genesis = wallet.node.genesis()?.genesis.clone();
            // The membership a block is judged by: the registry after the entries of earlier blocks.
            let mut ledger = Ledger::new(genesis);
            for entry in wallet.node.registry_history()? {
                if entry.receipt.height < height && entry.transaction.body.action.is_registry() {
                    let _ = ledger.apply(&entry.transaction, Signatures::AlreadyVerified);
                }
            }
            let registry = ledger.registry().clone();
            let finality = block.certificate.check_final(&registry);
            Ok((block, registry, finality))
        })
        .await
    };
    let (block, registry, finality) = match read {
        Ok(read) => read,
        Err(e) => return error_response(&ctx, &e),
    };
    let h = &block.certificate.header;
    let title = format!("{} {}", ctx.t(W::BlockTitle), h.height);
    html(page(
        &ctx,
        &title,
        html! {
            h1 { (title) }
            dl.facts {
                dt { (ctx.t(W::Height)) } dd { (h.height) }
                dt { (ctx.t(W::Time)) } dd { (timestamp(h.time_ms)) }
                dt { (ctx.t(W::TxCount)) } dd { (h.tx_count) }
                dt { (ctx.t(W::TxRoot)) } dd { (hex(&ctx, &h.tx_root.to_hex())) }
                dt { (ctx.t(W::Previous)) }
                dd {
                    @if h.height > 1 { a href=(format!("/block/{}", h.height - 1)) { (h.height - 1) } " " }
                    (hex(&ctx, &h.prev.to_hex()))
                }
                dt { (ctx.t(W::Threshold)) } dd { (registry.threshold()) " / " (registry.members().len()) }
                dt { (ctx.t(W::SignedBy)) }
                dd.finality {
                    @match &finality {
                        Ok(names) => { "✓ " (names.join(", ")) }
                        Err(e) => { span.warning { "✗ " (ebl_words::codes::of_rule(e, ctx.lang)) " (" (e) ")" } }
                    }
                }
            }
        },
    ))
}

pub(super) async fn party(
    State(app): State<Shared>,
    Path(who): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let ctx = context(&headers, &uri);
    let read = {
        let app = app.clone();
        blocking(move || app.wallet().node.party(&who)).await
    };
    let p = match read {
        Ok(p) => p,
        Err(e) => return error_response(&ctx, &e),
    };
    html(page(
        &ctx,
        p.name(),
        html! {
            h1 { (ctx.t(W::PartyTitle)) ": " (p.name()) }
            @if p.revoked { p.warning { (ctx.t(W::Revoked)) } }
            dl.facts {
                dt { (ctx.t(W::Name)) } dd { (p.name()) }
                dt { (ctx.t(W::Roles)) } dd { (p.profile.roles) }
                dt { (ctx.t(W::Identifiers)) }
                dd { @for i in &p.profile.identifiers { code { (i) } " " } }
                dt { (ctx.t(W::Status)) } dd { (if p.revoked { "✗" } else { ctx.t(W::Active) }) }
                dt { (ctx.t(W::Key)) } dd { (hex(&ctx, &p.key.to_hex())) }
                dt { (ctx.t(W::Ids)) } dd { (hex(&ctx, &p.id.to_hex())) }
                @if !p.retired_keys.is_empty() {
                    dt { (ctx.t(W::RetiredKeys)) }
                    dd { @for k in &p.retired_keys { (hex(&ctx, &k.to_hex())) } }
                }
                @if !p.recoveries.is_empty() {
                    dt.warning { "⚠ " (ctx.t(W::Recoveries)) }
                    dd { @for r in &p.recoveries { (hex(&ctx, &r.new_key.to_hex())) } }
                }
            }
        },
    ))
}
