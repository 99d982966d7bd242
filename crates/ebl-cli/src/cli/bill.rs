//! `ebl bill`: issue, move, pledge, surrender and show bills.

use ebl_core::{Action, AmendmentReason, Loan};
use serde_json::json;

use super::{
    out, read_document, submitted, to_json, write_output, BillCommand, IssueArgs, Out, Signer,
};
use crate::error::{CliError, Refusal, Result};
use crate::lang::Lang;
use crate::output::{self, Said};
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
    let act = |signer: &Signer, action: Action, what: Said| -> Result<Out> {
        let key = wallet.signer(&signer.as_key)?;
        if let Some(path) = sign_to {
            return super::tx::write(&wallet.prepare(&key, action)?, path, force);
        }
        let outcome = wallet.act(&key, action)?;
        submitted(outcome, &what, lang)
    };
    match cmd {
        BillCommand::Issue { args, signer } => issue(wallet, args, &signer, sign_to, force, lang),
        BillCommand::Transfer { bill, to, signer } => {
            let bill = wallet.bill_id(&bill)?;
            let party = wallet.party(&to)?;
            act(
                &signer,
                Action::Transfer { bill, to: party.id },
                Said::new(
                    format!("transferred possession to {}", party.name()),
                    format!("已将占有转让给 {}", party.name()),
                ),
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
                    Said::new(
                        "endorsed in blank: the bill is now a bearer document",
                        "已空白背书：提单现为不记名单据",
                    ),
                );
            }
            let to = to.ok_or_else(|| CliError::from(Refusal::MissingEndorsee))?;
            let party = wallet.party(&to)?;
            if to_order {
                act(
                    &signer,
                    Action::EndorseToOrder { bill, to: party.id },
                    Said::new(
                        format!("endorsed to the order of {}", party.name()),
                        format!("已背书给 {} 的指示", party.name()),
                    ),
                )
            } else {
                act(
                    &signer,
                    Action::Endorse { bill, to: party.id },
                    Said::new(
                        format!("endorsed to {}", party.name()),
                        format!("已背书给 {}", party.name()),
                    ),
                )
            }
        }
        BillCommand::Sign { bill, signer } => act(
            &signer,
            Action::Sign {
                bill: wallet.bill_id(&bill)?,
            },
            Said::new("signed for possession", "已签收：确认占有"),
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
                    Said::new(
                        "surrendered for delivery; the carrier will answer",
                        "已交单提货；等待承运人答复",
                    ),
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
                        Said::new(
                            format!("surrendered for amendment ({})", reason.code()),
                            format!("已交单修改（{}）；等待承运人答复", reason.code()),
                        ),
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
                Said::new(
                    format!(
                        "surrender accepted: the bill is switched to paper bill {number} and ends here"
                    ),
                    format!("已接受交单：提单转为纸质提单 {number}，电子提单到此终结"),
                ),
            ),
            _ => act(
                &signer,
                Action::AcceptSurrender {
                    bill: wallet.bill_id(&bill)?,
                },
                Said::new("surrender accepted", "已接受交单"),
            ),
        },
        BillCommand::Refuse { bill, signer } => act(
            &signer,
            Action::Refuse {
                bill: wallet.bill_id(&bill)?,
            },
            Said::new(
                "refused: possession and title are back where they were",
                "已拒收：占有与提货权恢复原状",
            ),
        ),
        BillCommand::Replace {
            old,
            documents,
            to,
            consignee,
            signer,
        } => replace(wallet, &old, &documents, &to, consignee, &signer, lang),
        BillCommand::RejectSurrender { bill, signer } => act(
            &signer,
            Action::RejectSurrender {
                bill: wallet.bill_id(&bill)?,
            },
            Said::new(
                "surrender rejected: the bill is back with who surrendered it",
                "已拒绝交单：提单退回交单方",
            ),
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
            let human = Said::new(
                format!("pledge offer written to {}\nsend it to {bank}; they review it with `ebl bill pledge-review` and accept with `ebl bill pledge-accept`", path.display()),
                format!("质押要约已写入 {}\n请将其发送给 {bank}；对方用 ebl bill pledge-review 审核，用 ebl bill pledge-accept 接受", path.display()),
            );
            Ok(out(
                json!({"offer": path, "bill": bill, "transaction": offer.transaction.id()}),
                human.get(lang),
            ))
        }
        BillCommand::PledgeReview { offer, signer } => {
            let offer: PledgeOffer = read_json(&offer, "pledge offer", BUNDLE_BYTES_MAX)?;
            let key = wallet.signer(&signer.as_key)?;
            let review = wallet.review_pledge(&offer, &key)?;
            let human = review_text(&review, lang);
            Ok(out(to_json(&review), human))
        }
        BillCommand::PledgeAccept { offer, signer } => {
            let offer: PledgeOffer = read_json(&offer, "pledge offer", BUNDLE_BYTES_MAX)?;
            let key = wallet.signer(&signer.as_key)?;
            let (review, outcome) = wallet.accept_pledge(&offer, &key)?;
            let review_text = review_text(&review, lang);
            let mut o = submitted(
                outcome,
                &Said::new(
                    format!(
                        "{review_text}\npledge accepted and co-signed: the bank now holds the bill"
                    ),
                    format!("{review_text}\n质押已接受并会签：提单现由银行持有"),
                ),
                lang,
            )?;
            o.json["review"] = to_json(&review);
            Ok(o)
        }
        BillCommand::Release { bill, signer } => act(
            &signer,
            Action::Release {
                bill: wallet.bill_id(&bill)?,
            },
            Said::new(
                "pledge released: possession is back with the pledgor",
                "已解除质押：占有回到出质人",
            ),
        ),
        BillCommand::Enforce { bill, signer } => act(
            &signer,
            Action::Enforce {
                bill: wallet.bill_id(&bill)?,
            },
            Said::new(
                "pledge enforced: the bank holds title and possession",
                "已执行质押：银行取得提货权与占有",
            ),
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
                Said::new(
                    format!("proof bundle of {} transactions written to {} ({} bytes)\nverify it anywhere with `ebl verify {}`", bundle.transactions.len(), path.display(), text.len(), path.display()),
                    format!("含 {} 笔交易的证明包已写入 {}（{} 字节）\n可在任何地方用 ebl verify {} 验证，或拖入浏览器验证页", bundle.transactions.len(), path.display(), text.len(), path.display()),
                )
                .get(lang),
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
    lang: Lang,
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
        outcome,
        &Said::new(
            format!("issued bill {reference} to {to}\nbill id {id}"),
            format!("已签发提单 {reference} 给 {to}\n提单标识 {id}"),
        ),
        lang,
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
    lang: Lang,
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
            let (reference, bill) = (
                i["reference"].as_str().unwrap_or(""),
                i["bill"].as_str().unwrap_or(""),
            );
            match lang {
                Lang::En => format!("replacement {reference} issued to {to}: bill id {bill}"),
                Lang::Zh => format!("替换提单 {reference} 已签发给 {to}：提单标识 {bill}"),
            }
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

fn review_text(review: &crate::wallet::PledgeReview, lang: Lang) -> String {
    output::text::pledge_review(
        &output::text::Review {
            verdict: &review.verdict,
            pledgor: &review.pledgor,
            pledgee: &review.pledgee,
            loan: &review.loan,
            freshness: &review.freshness,
            valid_until_ms: review.valid_until_ms,
            expired: review.expired,
        },
        lang,
    )
}
