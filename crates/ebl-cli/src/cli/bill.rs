//! `ebl bill`: issue, move, pledge, surrender and show bills.

use ebl_core::{Action, AmendmentReason, Loan};
use serde_json::json;

use super::{
    out, read_document, submitted, submitted_zh, to_json, write_output, BillCommand, IssueArgs,
    Out, Signer,
};
use crate::error::{CliError, Refusal, Result};
use crate::lang::Lang;
use crate::output;
use crate::wallet::{parse_amount, read_json, PledgeOffer, Wallet};
use ebl_core::bundle::BUNDLE_BYTES_MAX;

pub(crate) fn names(wallet: &Wallet) -> Result<(Vec<ebl_core::Party>, output::Names)> {
    let parties = wallet.node.parties()?;
    let names = output::names(&parties);
    Ok((parties, names))
}

/// `sign_to`: write the action's signed transaction to this file instead of submitting it (`ebl tx sign`).
///
/// Long by nature, not by mixing: one short arm per `ebl bill` subcommand (the one-action ones name
/// their action and what it did; the others call a function of their own).
pub(super) fn bill(
    wallet: &Wallet,
    cmd: BillCommand,
    force: bool,
    lang: crate::lang::Lang,
    sign_to: Option<&std::path::Path>,
) -> Result<Out> {
    if sign_to.is_some() && !cmd.signs_one_transaction() {
        return Err(crate::error::WalletRule::NotOneTransaction {
            command: cmd.name(),
        }
        .into());
    }
    wallet.reader(Some(&cmd.signer().as_key))?;
    let act = |signer: &Signer, action: Action, what: &str| -> Result<Out> {
        let key = wallet.signer(&signer.as_key)?;
        if let Some(path) = sign_to {
            return super::tx::write(&wallet.prepare(&key, action)?, path, force);
        }
        let code = action.code();
        let outcome = wallet.act(&key, action)?;
        if lang == Lang::Zh {
            return Ok(submitted_zh(outcome, code));
        }
        submitted(wallet, outcome, what.to_owned())
    };
    match cmd {
        BillCommand::Issue { args, signer } => issue(wallet, args, &signer, sign_to, force),
        BillCommand::Transfer { bill, to, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let party = wallet.party(&to)?;
            act(
                &signer,
                Action::Transfer { bill, to: party.id },
                &format!("transferred possession to {}", party.name()),
            )
        }
        BillCommand::Endorse {
            bill,
            to,
            to_order,
            blank,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            if blank {
                return act(
                    &signer,
                    Action::BlankEndorse { bill },
                    "endorsed in blank: the bill is now a bearer document",
                );
            }
            let to = to.ok_or_else(|| CliError::from(Refusal::MissingEndorsee))?;
            let party = wallet.party(&to)?;
            if to_order {
                act(
                    &signer,
                    Action::EndorseToOrder { bill, to: party.id },
                    &format!("endorsed to the order of {}", party.name()),
                )
            } else {
                act(
                    &signer,
                    Action::Endorse { bill, to: party.id },
                    &format!("endorsed to {}", party.name()),
                )
            }
        }
        BillCommand::Sign { bill, signer } => act(
            &signer,
            Action::Sign {
                bill: wallet.bill_id(&bill)?,
            },
            "signed for possession",
        ),
        BillCommand::Surrender {
            bill,
            amend,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            match amend {
                None => act(
                    &signer,
                    Action::SurrenderForDelivery { bill },
                    "surrendered for delivery; the carrier will answer",
                ),
                Some(code) => {
                    let reason =
                        AmendmentReason::from_code(&code.to_uppercase()).ok_or_else(|| {
                            CliError::from(Refusal::BadReason {
                                reason: code.clone(),
                            })
                        })?;
                    act(
                        &signer,
                        Action::SurrenderForAmendment { bill, reason },
                        &format!("surrendered for amendment ({})", reason.code()),
                    )
                }
            }
        }
        BillCommand::AcceptSurrender {
            bill,
            paper_number,
            paper_date,
            signer,
        } => match (paper_number, paper_date) {
            (Some(number), Some(issued_on)) => act(
                &signer,
                Action::AcceptSurrenderToPaper {
                    bill: wallet.bill_id(&bill)?,
                    paper: ebl_core::PaperBill {
                        number: number.clone(),
                        issued_on,
                    },
                },
                &format!(
                    "surrender accepted: the bill is switched to paper bill {number} and ends here"
                ),
            ),
            _ => act(
                &signer,
                Action::AcceptSurrender {
                    bill: wallet.bill_id(&bill)?,
                },
                "surrender accepted",
            ),
        },
        BillCommand::Refuse { bill, signer } => act(
            &signer,
            Action::Refuse {
                bill: wallet.bill_id(&bill)?,
            },
            "refused: possession and title are back where they were",
        ),
        BillCommand::Replace {
            old,
            documents,
            to,
            consignee,
            signer,
        } => replace(wallet, &old, &documents, &to, consignee, &signer),
        BillCommand::RejectSurrender { bill, signer } => act(
            &signer,
            Action::RejectSurrender {
                bill: wallet.bill_id(&bill)?,
            },
            "surrender rejected: the bill is back with who surrendered it",
        ),
        BillCommand::Pledge {
            bill,
            bank,
            amount,
            currency,
            loan,
            out: path,
            valid_hours,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            let loan = Loan {
                reference: loan,
                amount_minor: parse_amount(&amount)?,
                currency: currency.to_uppercase(),
            };
            let key = wallet.signer(&signer.as_key)?;
            let offer = wallet.offer_pledge(&key, bill, &bank, loan, valid_hours)?;
            let text = serde_json::to_vec_pretty(&offer)
                .map_err(|e| CliError::io("encoding the offer", e))?;
            write_output(&path, &text, force)?;
            Ok(out(
                json!({"offer": path, "bill": bill, "transaction": offer.transaction.id()}),
                format!("pledge offer written to {}\nsend it to {bank}; they review it with `ebl bill pledge-review` and accept with `ebl bill pledge-accept`", path.display()),
            ))
        }
        BillCommand::PledgeReview { offer, signer } => {
            let offer: PledgeOffer = read_json(&offer, "pledge offer", BUNDLE_BYTES_MAX)?;
            let key = wallet.signer(&signer.as_key)?;
            let review = wallet.review_pledge(&offer, &key)?;
            let human = review_text(&review);
            Ok(out(to_json(&review), human))
        }
        BillCommand::PledgeAccept { offer, signer } => {
            let offer: PledgeOffer = read_json(&offer, "pledge offer", BUNDLE_BYTES_MAX)?;
            let key = wallet.signer(&signer.as_key)?;
            let (review, outcome) = wallet.accept_pledge(&offer, &key)?;
            let mut o = submitted(
                wallet,
                outcome,
                format!(
                    "{}\npledge accepted and co-signed: the bank now holds the bill",
                    review_text(&review)
                ),
            )?;
            o.json["review"] = to_json(&review);
            Ok(o)
        }
        BillCommand::Release { bill, signer } => act(
            &signer,
            Action::Release {
                bill: wallet.bill_id(&bill)?,
            },
            "pledge released: possession is back with the pledgor",
        ),
        BillCommand::Enforce { bill, signer } => act(
            &signer,
            Action::Enforce {
                bill: wallet.bill_id(&bill)?,
            },
            "pledge enforced: the bank holds title and possession",
        ),
        BillCommand::List { signer } => list(wallet, &signer, lang),
        BillCommand::Show { bill, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let view = wallet.node.bill(&bill, &key)?;
            let (_, names) = names(wallet)?;
            Ok(out(
                json!({"bill": view.bill, "document": view.document}),
                output::text::bill(&names, &view.bill, lang),
            ))
        }
        BillCommand::History { bill, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let history = wallet.history(&bill, &key)?;
            let (parties, names) = names(wallet)?;
            Ok(out(
                output::history_json(&names, &parties, &history),
                output::text::timeline(&names, &parties, &history, lang),
            ))
        }
        BillCommand::Status { bill, signer } => status(wallet, &bill, &signer, lang),
        BillCommand::Export {
            bill,
            out: path,
            signer,
        } => {
            let bill = wallet.bill_id(&bill)?;
            let key = wallet.signer(&signer.as_key)?;
            let bundle = wallet.export(&bill, &key)?;
            let text = serde_json::to_vec_pretty(&bundle)
                .map_err(|e| CliError::io("encoding the bundle", e))?;
            write_output(&path, &text, force)?;
            Ok(out(
                json!({"bundle": path, "bill": bill, "transactions": bundle.transactions.len(), "bytes": text.len()}),
                format!("proof bundle of {} transactions written to {} ({} bytes)\nverify it anywhere with `ebl verify {}`", bundle.transactions.len(), path.display(), text.len(), path.display()),
            ))
        }
    }
}

/// `ebl bill issue`: a bill issued from a DCSA document (or its signed transaction written to `sign_to`).
fn issue(
    wallet: &Wallet,
    IssueArgs {
        file,
        to,
        shipper,
        consignee,
        replaces,
    }: IssueArgs,
    signer: &Signer,
    sign_to: Option<&std::path::Path>,
    force: bool,
) -> Result<Out> {
    let document = read_document(&file)?;
    let issue_to = wallet.party(&to)?.id;
    let shipper = match shipper {
        Some(s) => wallet.party(&s)?.id,
        None => issue_to,
    };
    let consignee = consignee
        .map(|c| wallet.party(&c).map(|p| p.id))
        .transpose()?;
    let replaces = replaces
        .map(|r| wallet.bill_id(&r).map(ebl_core::Replacement::of))
        .transpose()?;
    let reference = document.facts().transport_document_reference.clone();
    let key = wallet.signer(&signer.as_key)?;
    let action = Action::Issue {
        document,
        issue_to,
        shipper,
        consignee,
        replaces,
    };
    if let Some(path) = sign_to {
        return super::tx::write(&wallet.prepare(&key, action)?, path, force);
    }
    let outcome = wallet.act(&key, action)?;
    let id = outcome.id();
    let mut o = submitted(
        wallet,
        outcome,
        format!("issued bill {reference} to {to}\nbill id {id}"),
    )?;
    o.json["bill"] = json!(id);
    Ok(o)
}

/// `ebl bill replace`: void bills replaced by the bills of new documents (a split, a combine, one for one).
fn replace(
    wallet: &Wallet,
    old: &[String],
    documents: &[std::path::PathBuf],
    to: &str,
    consignee: Option<String>,
    signer: &Signer,
) -> Result<Out> {
    let olds = old
        .iter()
        .map(|o| wallet.bill_id(o))
        .collect::<Result<Vec<_>>>()?;
    let key = wallet.signer(&signer.as_key)?;
    let issue_to = wallet.party(to)?.id;
    let consignee = consignee
        .map(|c| wallet.party(&c).map(|p| p.id))
        .transpose()?;
    let first = olds
        .first()
        .ok_or(crate::error::WalletRule::NoBillToReplace)?;
    let shipper = wallet.node.bill(first, &key)?.bill.shipper;
    let count = u16::try_from(documents.len()).unwrap_or(u16::MAX);
    let replacement = ebl_core::Replacement { bills: olds, count };
    let mut issued = Vec::new();
    for file in documents {
        let document = read_document(file)?;
        let reference = document.facts().transport_document_reference.clone();
        let outcome = wallet.act(
            &key,
            Action::Issue {
                document,
                issue_to,
                shipper,
                consignee,
                replaces: Some(replacement.clone()),
            },
        )?;
        issued.push(json!({"bill": outcome.id(), "reference": reference, "outcome": outcome}));
    }
    let human = issued
        .iter()
        .map(|i| {
            format!(
                "replacement {} issued to {to}: bill id {}",
                i["reference"].as_str().unwrap_or(""),
                i["bill"].as_str().unwrap_or("")
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    Ok(out(
        json!({"replaced": replacement.bills, "issued": issued}),
        human,
    ))
}

/// `ebl bill list`: the bills the reader has a part in, as a table fitted to 100 columns.
fn list(wallet: &Wallet, signer: &Signer, lang: crate::lang::Lang) -> Result<Out> {
    let key = wallet.signer(&signer.as_key)?;
    let bills = wallet.node.my_bills(&key)?;
    let (_, names) = names(wallet)?;
    Ok(out(
        to_json(&bills),
        output::text::worklist(&names, &bills, lang),
    ))
}

/// `ebl bill status`: the node's signed statement of the bill, checked against the pinned chain.
fn status(wallet: &Wallet, bill: &str, signer: &Signer, lang: crate::lang::Lang) -> Result<Out> {
    let bill = wallet.bill_id(bill)?;
    let key = wallet.signer(&signer.as_key)?;
    let statement = wallet.node.status(&bill, &key)?;
    // From the pinned chain, vouched for by as many member nodes as the chain format at its
    // height needs (from format 7 the finality quorum, bound to the registry there; from
    // format 8 to its root, checked with the consortium alone).
    crate::pins::Pins::load(&wallet.home)?.check(&statement.statement.chain, None)?;
    let signers = wallet.statement_signers(&statement)?;
    let (_, names) = names(wallet)?;
    let human = output::text::statement(&names, &statement.statement, &signers, lang);
    Ok(out(to_json(&statement), human))
}

fn review_text(review: &crate::wallet::PledgeReview) -> String {
    let names = &review.verdict.names;
    let f = &review.freshness;
    let fresh = if review.fresh {
        format!(
            "yes: nothing happened to the bill since the offer (checked with the node at {})",
            output::timestamp(f.checked_at_ms)
        )
    } else {
        let moves: Vec<String> = f
            .moved
            .iter()
            .map(|m| {
                format!(
                    "{} at {} (block {})",
                    m.action,
                    output::timestamp(m.block_time_ms),
                    m.height
                )
            })
            .collect();
        format!(
            "NO: since the offer the bill moved: {} (checked at {}); the ledger will refuse this pledge",
            moves.join(", "),
            output::timestamp(f.checked_at_ms)
        )
    };
    let validity = match (review.valid_until_ms, review.expired) {
        (Some(t), true) => format!(
            "EXPIRED at {}: the ledger will refuse it",
            output::timestamp(t)
        ),
        (Some(t), false) => format!("until {}", output::timestamp(t)),
        (None, _) => "no limit".to_owned(),
    };
    format!(
        "{}\npledge      {} pledges to {} for {} (loan {})\nfresh       {fresh}\nvalid       {validity}",
        output::text::verdict(&review.verdict, Lang::En),
        output::name(names, &review.pledgor),
        output::name(names, &review.pledgee),
        output::money(review.loan.amount_minor, &review.loan.currency),
        review.loan.reference,
    )
}
