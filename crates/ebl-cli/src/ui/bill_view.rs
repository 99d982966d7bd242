//! What a verified bill looks like to a person: the verdict and its reasons first, then who holds it
//! now, its custody as a picture, the full history, and the transport document. Drawn from a proof
//! bundle and the verdict `Bundle::verify` gave it, so a live bill and a dropped file look the same.

use std::collections::BTreeMap;

use ebl_core::api::HistoryEntry;
use ebl_core::bundle::{Bundle, BundleVerdict};
use ebl_core::{Action, Bill, PartyId, Registry, Status};
use maud::{html, Markup};
use serde_json::Value;

use super::layout::{hex, Ctx};
use super::timeline::{self, Event};
use crate::output::{money, timestamp};
use crate::words::{self, W};

/// A verified bill and the evidence behind it.
#[derive(Debug)]
pub(super) struct Shown<'a> {
    pub bundle: &'a Bundle,
    pub verdict: &'a BundleVerdict,
    /// The registry the bundle carries, replayed once for every section's names of signers.
    registry: Registry,
}

/// A bill's event in the history with the state after it.
struct Row<'a> {
    entry: &'a HistoryEntry,
    state: &'a Bill,
}

impl<'a> Shown<'a> {
    pub(super) fn new(bundle: &'a Bundle, verdict: &'a BundleVerdict) -> Shown<'a> {
        Shown {
            bundle,
            verdict,
            registry: bundle.registry(),
        }
    }

    fn name(&self, id: &PartyId) -> String {
        self.verdict
            .names
            .get(id)
            .cloned()
            .unwrap_or_else(|| format!("party {}", id.short()))
    }

    /// The bill's own events, oldest first, each with the state the replay left it in.
    fn rows(&self) -> Vec<Row<'a>> {
        let entries: BTreeMap<_, &HistoryEntry> = self
            .bundle
            .transactions
            .iter()
            .map(|e| (e.receipt.tx, e))
            .collect();
        self.verdict
            .custody
            .iter()
            .filter(|step| step.bill.id == self.verdict.bill.id)
            .filter_map(|step| {
                entries.get(&step.tx).map(|entry| Row {
                    entry,
                    state: &step.bill,
                })
            })
            .collect()
    }
}

/// The parties whose keys signed a transaction, by name (a member's node for an import).
fn signers(registry: &Registry, entry: &HistoryEntry) -> Vec<(Option<PartyId>, String)> {
    entry
        .transaction
        .signatures
        .iter()
        .map(|s| match registry.by_key(&s.signer) {
            Some(p) => (Some(p.id), p.name().to_owned()),
            None => match registry.member_by_node(&s.signer) {
                Some(m) => (None, m.name.clone()),
                None => (None, format!("key {}", &s.signer.to_hex()[..8])),
            },
        })
        .collect()
}

/// Whom an action hands the bill (or its title, or the pledge) to.
fn recipient(action: &Action, after: &Bill) -> Option<PartyId> {
    match action {
        Action::Issue { issue_to, .. } => Some(*issue_to),
        Action::Transfer { to, .. }
        | Action::Endorse { to, .. }
        | Action::EndorseToOrder { to, .. } => Some(*to),
        Action::Pledge { pledgee, .. } => Some(*pledgee),
        Action::SurrenderForDelivery { .. } | Action::SurrenderForAmendment { .. } => {
            Some(after.carrier)
        }
        Action::Release { .. }
        | Action::Refuse { .. }
        | Action::RejectSurrender { .. }
        | Action::Import { .. } => Some(after.possessor),
        _ => None,
    }
}

fn party_link(ctx: &Ctx, id: &PartyId, name: &str) -> Markup {
    html! {
        @if ctx.print { span.party { (name) } } @else { a.party href=(format!("/party/{}", id.to_hex())) { (name) } }
    }
}

pub(super) fn verdict(ctx: &Ctx, shown: &Shown) -> Markup {
    let v = shown.verdict;
    let lang = ctx.lang;
    let crate::output::VerdictSummary {
        signers, fewest, ..
    } = crate::output::VerdictSummary::of(v);
    let pledge = match &v.bill.status {
        Status::Pledged(p) => words::pledged_to(
            &shown.name(&p.pledgee),
            &shown.name(&p.pledgor),
            &money(p.loan.amount_minor, &p.loan.currency),
            &p.loan.reference,
            lang,
        ),
        _ => words::not_pledged(lang),
    };
    html! {
        section.verdict.valid id="verdict" {
            h2 { span.badge.ok { "✓" } " " (ctx.t(W::Valid)) }
            dl.reasons {
                dt { "✓ " (ctx.t(W::ChainIntact)) }
                dd { (words::transactions_checked(v.transactions, lang)) }
                dt { "✓ " (ctx.t(W::IssuerRegistered)) }
                dd { (words::issued_by(&shown.name(&v.bill.carrier), &v.bill.carrier_code, lang)) }
                dt { "✓ " (ctx.t(W::BlocksFinal)) }
                dd { (words::blocks_final(v.block_signers.len(), fewest, v.members.len(), v.threshold, &signers.join(", "), lang)) }
                dt { "✓ " (ctx.t(W::PinnedChain)) }
                dd { (ctx.t(W::PinnedChainLead)) }
                dt class=(if matches!(v.bill.status, Status::Pledged(_)) { "pledged" } else { "" }) {
                    (if matches!(v.bill.status, Status::Pledged(_)) { "⚑ " } else { "✓ " }) (ctx.t(W::PledgeState))
                }
                dd.pledge-state { (pledge) }
                dt class=(if v.recoveries.is_empty() { "" } else { "warning" }) {
                    (if v.recoveries.is_empty() { "✓ " } else { "⚠ " }) (ctx.t(W::KeyRecovery))
                }
                dd {
                    @if v.recoveries.is_empty() {
                        (ctx.t(W::NoRecovery))
                    }
                    @for r in &v.recoveries {
                        p.warning {
                            (words::recovered(&shown.name(&r.party), &r.admins.iter().map(|k| {
                                v.members.iter().find(|m| m.admin == *k).map_or_else(|| k.to_hex()[..8].to_owned(), |m| m.name.clone())
                            }).collect::<Vec<_>>().join(", "), lang))
                        }
                    }
                }
                dt { "✓ " (ctx.t(W::Freshness)) }
                dd.fresh { (words::fresh_as_of(&timestamp(v.time_ms), v.height, &v.statement_signers, lang)) }
            }
            @if shown.bundle.transactions.iter().any(|e| matches!(e.transaction.body.action, Action::Import { .. })) {
                p.note { (ctx.t(W::ImportedNote)) }
            }
            // What an engineer or auditor checks, behind a fold: the officer reads the lines above.
            details.technical {
                summary { (ctx.t(W::TechnicalDetail)) }
                ul {
                    li { (ctx.t(W::TechSignatures)) }
                    li { (ctx.t(W::TechLinks)) }
                    li { (ctx.t(W::TechCertificates)) }
                    li { (ctx.t(W::ChainIdLabel)) ": " (hex(ctx, &v.chain.to_hex())) }
                }
            }
        }
    }
}

pub(super) fn now(ctx: &Ctx, shown: &Shown) -> Markup {
    let b = &shown.verdict.bill;
    let lang = ctx.lang;
    let name = |id: &PartyId| shown.name(id);
    html! {
        section.now {
            h2 { (ctx.t(W::NowTitle)) }
            dl.facts {
                dt { (ctx.t(W::Status)) } dd.status { (words::status(&b.status, lang)) }
                dt { (ctx.t(W::Possessor)) } dd.possessor { (party_link(ctx, &b.possessor, &name(&b.possessor))) }
                dt { (ctx.t(W::Title)) } dd.title { (words::title(&b.title, &name, lang)) }
                dt { (ctx.t(W::Pledge)) }
                dd {
                    @match &b.status {
                        Status::Pledged(p) => {
                            (party_link(ctx, &p.pledgee, &name(&p.pledgee))) " · " (money(p.loan.amount_minor, &p.loan.currency)) " · " (p.loan.reference)
                        }
                        _ => { (ctx.t(W::NotPledged)) }
                    }
                }
                dt { (ctx.t(W::Carrier)) } dd { (party_link(ctx, &b.carrier, &name(&b.carrier))) " (" (b.carrier_code) ")" }
                dt { (ctx.t(W::Shipper)) } dd { (party_link(ctx, &b.shipper, &name(&b.shipper))) }
                @if !b.replaces.is_empty() {
                    dt { (ctx.t(W::Replaces)) }
                    dd { @for r in &b.replaces { (hex(ctx, &r.to_hex())) } }
                }
                dt { (ctx.t(W::Ids)) }
                dd { (hex(ctx, &b.id.to_hex())) }
            }
        }
    }
}

pub(super) fn custody(ctx: &Ctx, shown: &Shown) -> Markup {
    let rows = shown.rows();
    let registry = &shown.registry;
    let events: Vec<Event> = rows
        .iter()
        .map(|r| {
            let who: Vec<String> = signers(registry, r.entry)
                .into_iter()
                .map(|(_, n)| n)
                .collect();
            let what = match recipient(&r.entry.transaction.body.action, r.state) {
                Some(to) => format!("{} → {}", who.join(" + "), shown.name(&to)),
                None => who.join(" + "),
            };
            Event {
                code: r.entry.transaction.body.action.code(),
                when: timestamp(r.entry.receipt.block_time_ms)[..16].to_owned(),
                what: format!(
                    "{}: {what}",
                    words::action(r.entry.transaction.body.action.code(), ctx.lang)
                ),
                state: r.state,
            }
        })
        .collect();
    let name = |id: &PartyId| shown.name(id);
    html! {
        section.custody {
            h2 { (ctx.t(W::Custody)) }
            p.lead { (ctx.t(W::CustodyLead)) }
            (timeline::svg(&events, &name, ctx.lang))
        }
    }
}

pub(super) fn history(ctx: &Ctx, shown: &Shown) -> Markup {
    let rows = shown.rows();
    let registry = &shown.registry;
    let lang = ctx.lang;
    let name = |id: &PartyId| shown.name(id);
    html! {
        section.history {
            h2 { (ctx.t(W::History)) }
            div.table-scroll {
                table.history.cards {
                    thead { tr {
                        th { (ctx.t(W::Time)) } th { (ctx.t(W::Action)) } th { (ctx.t(W::ActorRecipient)) }
                        th { (ctx.t(W::Possessor)) } th { (ctx.t(W::Title)) } th { (ctx.t(W::Pledgee)) } th { (ctx.t(W::Block)) }
                    } }
                    tbody {
                        @for r in &rows {
                            @let action = &r.entry.transaction.body.action;
                            tr data-action=(action.code()) {
                                td.time data-label=(ctx.t(W::Time)) { (timestamp(r.entry.receipt.block_time_ms)) }
                                td.action data-label=(ctx.t(W::Action)) { (words::action(action.code(), lang)) br; small { code { (action.code()) } } }
                                td data-label=(ctx.t(W::ActorRecipient)) {
                                    @for (i, (id, who)) in signers(registry, r.entry).iter().enumerate() {
                                        @if i > 0 { " + " }
                                        @match id { Some(id) => { (party_link(ctx, id, who)) } None => { (who) } }
                                    }
                                    @if let Some(to) = recipient(action, r.state) {
                                        " → " (party_link(ctx, &to, &name(&to)))
                                    }
                                }
                                td data-label=(ctx.t(W::Possessor)) { (name(&r.state.possessor)) }
                                td data-label=(ctx.t(W::Title)) { (words::title(&r.state.title, &name, lang)) }
                                td data-label=(ctx.t(W::Pledgee)) { @match &r.state.status { Status::Pledged(p) => { (name(&p.pledgee)) } _ => { "—" } } }
                                td data-label=(ctx.t(W::Block)) {
                                    @if ctx.print { (r.entry.receipt.height) } @else {
                                        a href=(format!("/block/{}", r.entry.receipt.height)) { (r.entry.receipt.height) }
                                    }
                                    (hex(ctx, &r.entry.receipt.tx.to_hex()))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A DCSA address as one line: its displayed lines, or its fields.
fn address(party: &Value) -> String {
    if let Some(lines) = party["displayedAddress"].as_array() {
        return lines.iter().filter_map(text).collect::<Vec<_>>().join(", ");
    }
    let a = &party["address"];
    ["street", "streetNumber", "postCode", "city", "countryCode"]
        .iter()
        .filter_map(|f| text(&a[*f]))
        .collect::<Vec<_>>()
        .join(" ")
}

/// A DCSA location: its name, or the port UN/LOCODE names for its code (`ebl_words::places`).
fn location(v: &Value) -> String {
    ebl_words::places::location(v["locationName"].as_str(), v["UNLocationCode"].as_str())
        .unwrap_or_else(|| "—".to_owned())
}

pub(super) fn document(ctx: &Ctx, shown: &Shown) -> Markup {
    let doc = shown.bundle.document.to_value();
    let facts = shown.bundle.document.facts();
    let transports = &doc["transports"];
    let parties: Vec<(String, &Value)> = doc["documentParties"]
        .as_object()
        .map(|o| {
            o.iter()
                .flat_map(|(role, v)| match v {
                    Value::Array(list) => {
                        list.iter().map(|p| (role.clone(), p)).collect::<Vec<_>>()
                    }
                    other => vec![(role.clone(), other)],
                })
                .collect()
        })
        .unwrap_or_default();
    let empty = Vec::new();
    let items = doc["consignmentItems"].as_array().unwrap_or(&empty);
    let voyages = transports["vesselVoyages"].as_array().unwrap_or(&empty);
    html! {
        section.document {
            h2 { (ctx.t(W::Document)) " " (facts.transport_document_reference) }
            dl.facts {
                dt { (ctx.t(W::DocumentType)) }
                dd { (facts.transport_document_type_code.code()) " · " (if facts.is_to_order { ctx.t(W::ToOrder) } else { ctx.t(W::Straight) }) }
                @if let Some(d) = doc["transportDocumentStatus"].as_str() {
                    dt { (ctx.t(W::DocumentStatus)) } dd.document-status { (words::document_status(d, ctx.lang)) }
                }
                @if let Some(d) = text(&doc["shippedOnBoardDate"]) { dt { (ctx.t(W::ShippedOnBoard)) } dd { (d) } }
                dt { (ctx.t(W::Checksum)) } dd { code.hex { (shown.bundle.document.checksum().to_hex()) } }
            }
            h3 { (ctx.t(W::Parties)) }
            table.plain {
                @for (role, p) in &parties {
                    tr {
                        th { (words::document_party(role).map_or(role.as_str(), |w| ctx.t(w))) }
                        td { strong { (text(&p["partyName"]).unwrap_or_default()) } br; (address(p)) }
                    }
                }
            }
            h3 { (ctx.t(W::Voyage)) }
            dl.facts {
                dt { (ctx.t(W::PortOfLoading)) } dd { (location(&transports["portOfLoading"])) }
                dt { (ctx.t(W::PortOfDischarge)) } dd { (location(&transports["portOfDischarge"])) }
                @for v in voyages {
                    dt { (ctx.t(W::Vessel)) } dd { (text(&v["vesselName"]).unwrap_or_default()) }
                    dt { (ctx.t(W::VoyageNumber)) } dd { (text(&v["carrierExportVoyageNumber"]).unwrap_or_default()) }
                }
                @if let Some(d) = text(&transports["plannedDepartureDate"]) { dt { (ctx.t(W::Departure)) } dd { (d) } }
                @if let Some(d) = text(&transports["plannedArrivalDate"]) { dt { (ctx.t(W::Arrival)) } dd { (d) } }
            }
            h3 { (ctx.t(W::Goods)) }
            table.plain {
                @for item in items {
                    tr {
                        th { (item["descriptionOfGoods"].as_array().map(|d| d.iter().filter_map(text).collect::<Vec<_>>().join("; ")).unwrap_or_default()) }
                        td {
                            @for c in item["cargoItems"].as_array().unwrap_or(&empty) {
                                div {
                                    (ctx.t(W::Equipment)) ": " (text(&c["equipmentReference"]).unwrap_or_default()) " · "
                                    (ctx.t(W::Weight)) ": " (text(&c["cargoGrossWeight"]["value"]).unwrap_or_default()) " " (text(&c["cargoGrossWeight"]["unit"]).unwrap_or_default()) " · "
                                    (ctx.t(W::Packages)) ": " (text(&c["outerPackaging"]["numberOfPackages"]).unwrap_or_default()) " " (text(&c["outerPackaging"]["description"]).unwrap_or_default())
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Everything above, in the order a bank reads it.
pub(super) fn all(ctx: &Ctx, shown: &Shown) -> Markup {
    html! {
        (verdict(ctx, shown))
        (rest(ctx, shown))
    }
}

/// Everything after the verdict: the bill now, its custody, history and document.
pub(super) fn rest(ctx: &Ctx, shown: &Shown) -> Markup {
    html! {
        (now(ctx, shown))
        (custody(ctx, shown))
        (history(ctx, shown))
        (document(ctx, shown))
    }
}
