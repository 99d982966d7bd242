//! The CLI's text for people, in the language they chose: a bill, its timeline, the worklist, a
//! signed statement, a proof's verdict. Each is laid out once, from the facts, and worded through
//! `sentences` and the labels below; `--json` is the serde form of the same facts.

use std::fmt::Write as _;

use ebl_core::api::HistoryEntry;
use ebl_core::bundle::BundleVerdict;
use ebl_core::{Bill, Party, Status, Title};

use super::sentences::{self, aside, list};
use super::{name, signers, timestamp, Names, VerdictSummary};
use crate::lang::{fit, pad, Lang};
use crate::words::{self, W};

/// Label column width, in terminal columns (display width, so Chinese labels line up too).
const LABEL: usize = 12;

/// The labels of the CLI's text, English and Chinese side by side.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Label {
    Bill,
    Reference,
    Carrier,
    Shipper,
    Possessor,
    Title,
    Status,
    Head,
    Document,
    Replaces,
    Earlier,
    Chain,
    Format,
    Members,
    Blocks,
    Statement,
    Warning,
    AsOf,
    Pledge,
    Fresh,
    Valid,
}

impl Label {
    #[cfg(test)]
    const ALL: &'static [Label] = &[
        Label::Bill,
        Label::Reference,
        Label::Carrier,
        Label::Shipper,
        Label::Possessor,
        Label::Title,
        Label::Status,
        Label::Head,
        Label::Document,
        Label::Replaces,
        Label::Earlier,
        Label::Chain,
        Label::Format,
        Label::Members,
        Label::Blocks,
        Label::Statement,
        Label::Warning,
        Label::AsOf,
        Label::Pledge,
        Label::Fresh,
        Label::Valid,
    ];

    fn get(self, lang: Lang) -> &'static str {
        let (en, zh) = match self {
            Label::Bill => ("bill", "提单"),
            Label::Reference => ("reference", "提单号"),
            Label::Carrier => ("carrier", "承运人"),
            Label::Shipper => ("shipper", "托运人"),
            Label::Possessor => ("possessor", "占有人"),
            Label::Title => ("title", "提货权"),
            Label::Status => ("status", "状态"),
            Label::Head => ("head", "最新交易"),
            Label::Document => ("document", "单据"),
            Label::Replaces => ("replaces", "替代"),
            Label::Earlier => ("earlier", "先前记录"),
            Label::Chain => ("chain", "链"),
            Label::Format => ("format", "格式"),
            Label::Members => ("members", "成员"),
            Label::Blocks => ("blocks", "区块"),
            Label::Statement => ("statement", "状态声明"),
            Label::Warning => ("WARNING", "警告"),
            Label::AsOf => ("as of", "数据截至"),
            Label::Pledge => ("pledge", "质押"),
            Label::Fresh => ("fresh", "是否最新"),
            Label::Valid => ("valid", "有效期"),
        };
        match lang {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }
}

/// Labelled lines, the label column padded by display width.
struct Lines {
    lang: Lang,
    out: String,
}

impl Lines {
    fn new(lang: Lang) -> Lines {
        Lines {
            lang,
            out: String::new(),
        }
    }

    fn line(&mut self, label: Label, value: impl std::fmt::Display) -> &mut Lines {
        if !self.out.is_empty() {
            self.out.push('\n');
        }
        let _ = write!(self.out, "{}{value}", pad(label.get(self.lang), LABEL));
        self
    }

    fn done(self) -> String {
        self.out
    }
}

/// Where title rests, in words.
pub fn title(names: &Names, t: &Title, lang: Lang) -> String {
    words::title(t, &|id| name(names, id), lang)
}

/// A bill's state, as `ebl bill show` prints it.
pub fn bill(names: &Names, b: &Bill, lang: Lang) -> String {
    let mut lines = Lines::new(lang);
    bill_lines(&mut lines, names, b);
    lines.done()
}

fn bill_lines(lines: &mut Lines, names: &Names, b: &Bill) {
    let lang = lines.lang;
    let kind = if b.negotiable {
        W::ToOrder
    } else {
        W::Straight
    };
    let head = aside(
        &b.head.to_string(),
        &sentences::transactions(u64::from(b.transactions), lang),
        lang,
    );
    let checksum = match lang {
        Lang::En => format!("checksum {}", b.document_checksum),
        Lang::Zh => format!("校验和 {}", b.document_checksum),
    };
    lines
        .line(Label::Bill, b.id)
        .line(
            Label::Reference,
            aside(
                &b.reference,
                &list(&[b.document_type.code(), kind.get(lang)], lang),
                lang,
            ),
        )
        .line(Label::Carrier, name(names, &b.carrier))
        .line(Label::Shipper, name(names, &b.shipper))
        .line(Label::Possessor, name(names, &b.possessor))
        .line(Label::Title, title(names, &b.title, lang))
        .line(Label::Status, sentences::status(names, &b.status, lang))
        .line(Label::Head, head)
        .line(Label::Document, checksum);
    for r in &b.replaces {
        lines.line(Label::Replaces, r);
    }
    if let Some(e) = &b.earlier {
        let note = match lang {
            Lang::En => "this bill here before it left for another platform",
            Lang::Zh => "该提单转出至其他平台之前在此的记录",
        };
        lines.line(Label::Earlier, aside(&e.to_string(), note, lang));
    }
}

/// Width of the timeline's action column: the longest action in words ("Surrendered for amendment",
/// "对方平台已接收").
fn action_columns(lang: Lang) -> usize {
    match lang {
        Lang::En => 26,
        Lang::Zh => 14,
    }
}

/// A bill's history as a readable timeline: who did what, when, in which block.
pub fn timeline(names: &Names, parties: &[Party], history: &[HistoryEntry], lang: Lang) -> String {
    let block = match lang {
        Lang::En => "block",
        Lang::Zh => "区块",
    };
    let mut out = String::new();
    for (i, entry) in history.iter().enumerate() {
        let tx = &entry.transaction;
        let _ = writeln!(
            out,
            "{:>3}. {}  {block} {:<6} {} {}",
            i + 1,
            timestamp(entry.receipt.block_time_ms),
            entry.receipt.height,
            fit(
                &words::action(tx.body.action.code(), lang),
                action_columns(lang)
            ),
            deed(names, parties, tx, lang)
        );
    }
    out.trim_end().to_owned()
}

/// What `tx` did, by whom, in `lang`.
pub fn deed(
    names: &Names,
    parties: &[Party],
    tx: &ebl_core::SignedTransaction,
    lang: Lang,
) -> String {
    let who: Vec<String> = signers(parties, tx)
        .iter()
        .map(|s| sentences::signer(s, lang))
        .collect();
    sentences::deed(names, &who, &tx.body.action, lang)
}

/// The worklist: reference, status, possessor, the id's first 12 digits (enough for any command that
/// takes a bill) and title, fitted by display width, so a party's Chinese name keeps the columns
/// straight, and each row within 100 columns (issue 14: 161).
pub fn worklist(names: &Names, bills: &[Bill], lang: Lang) -> String {
    if bills.is_empty() {
        return match lang {
            Lang::En => "no bills: you have no part in any bill now",
            Lang::Zh => "没有提单：您目前未参与任何提单",
        }
        .to_owned();
    }
    let row = |cells: [&str; 5]| {
        let [reference, status, possessor, id, title] = cells;
        format!(
            "{}  {}  {}  {}  {}",
            fit(reference, 20),
            fit(status, 17),
            fit(possessor, 22),
            fit(id, 12),
            fit(title, 19)
        )
        .trim_end()
        .to_owned()
    };
    let mut out = row(match lang {
        Lang::En => ["REFERENCE", "STATUS", "POSSESSOR", "BILL ID", "TITLE"],
        Lang::Zh => ["提单号", "状态", "占有人", "提单标识", "提货权"],
    });
    for b in bills {
        out.push('\n');
        out.push_str(&row([
            &b.reference,
            state_word(&b.status, lang),
            &name(names, &b.possessor),
            &b.id.to_hex()[..12],
            &title(names, &b.title, lang),
        ]));
    }
    out
}

/// A state in one word: English by its code, Chinese by its word.
fn state_word(s: &Status, lang: Lang) -> &'static str {
    match lang {
        Lang::En => s.name(),
        Lang::Zh => words::status(s, lang),
    }
}

/// A node's signed statement of a bill, checked: `signers` are the members whose nodes signed it.
pub fn statement(
    names: &Names,
    s: &ebl_core::api::BillStatement,
    signers: &[String],
    lang: Lang,
) -> String {
    let mut lines = Lines::new(lang);
    lines.out = match lang {
        Lang::En => format!(
            "statement signed by the node{} of {}, verified",
            if signers.len() > 1 { "s" } else { "" },
            list(signers, lang)
        ),
        Lang::Zh => format!("状态声明由 {} 的节点签署，已验证", list(signers, lang)),
    };
    lines
        .line(Label::Possessor, name(names, &s.possessor))
        .line(Label::Title, title(names, &s.title, lang))
        .line(Label::Status, sentences::status(names, &s.status, lang))
        .line(
            Label::Head,
            aside(
                &s.head.to_string(),
                &sentences::transactions(u64::from(s.transactions), lang),
                lang,
            ),
        )
        .line(Label::AsOf, as_of(s.height, s.time_ms, lang));
    lines.done()
}

/// "height 12 at 2026-… UTC" / "高度 12，2026-… UTC".
fn as_of(height: u64, time_ms: u64, lang: Lang) -> String {
    match lang {
        Lang::En => format!("height {height} at {}", timestamp(time_ms)),
        Lang::Zh => format!("高度 {height}，{}", timestamp(time_ms)),
    }
}

/// A proof bundle's verdict, as `ebl verify` prints it.
pub fn verdict(v: &BundleVerdict, lang: Lang) -> String {
    let VerdictSummary {
        members,
        signers,
        fewest,
    } = VerdictSummary::of(v);
    let (n, t) = (v.members.len(), v.threshold);
    let mut lines = Lines::new(lang);
    lines.out = match lang {
        Lang::En => "VALID: every signature, hash link, inclusion proof and rule checks out.",
        Lang::Zh => "有效：每个签名、哈希链接、包含证明和规则均验证无误。",
    }
    .to_owned();
    let changes: String = v
        .format_changes
        .iter()
        .map(|a| match lang {
            Lang::En => format!("; format {} from block {}", a.format, a.height),
            Lang::Zh => format!("；自区块 {} 起为格式 {}", a.height, a.format),
        })
        .collect();
    let blocks = v.block_signers.len();
    let (chain, format, governance, final_blocks, statement) = match lang {
        Lang::En => (
            format!("{} (pinned)", v.chain),
            format!("{}, chain format {}{changes}", v.format, v.chain_format),
            format!("governance: {t} of {n}"),
            format!(
                "{blocks} blocks, each final: signed by at least {fewest} of {n} member nodes ({t} needed): {}",
                list(&signers, lang)
            ),
            format!(
                "signed by the node{} of {}",
                if v.statement_signers.len() > 1 { "s" } else { "" },
                list(&v.statement_signers, lang)
            ),
        ),
        Lang::Zh => (
            format!("{}（已信任）", v.chain),
            format!("{}，链格式 {}{changes}", v.format, v.chain_format),
            format!("治理：{n} 个中需 {t} 个"),
            format!(
                "共 {blocks} 个区块，均已最终确认：每个至少由 {n} 个成员节点中的 {fewest} 个签名（需要 {t} 个）：{}",
                list(&signers, lang)
            ),
            format!("由 {} 的节点签署", list(&v.statement_signers, lang)),
        ),
    };
    lines
        .line(Label::Chain, chain)
        .line(Label::Format, format)
        .line(
            Label::Members,
            aside(&list(&members, lang), &governance, lang),
        )
        .line(Label::Blocks, final_blocks)
        .line(Label::Statement, statement);
    for r in &v.recoveries {
        let admins: Vec<String> = r
            .admins
            .iter()
            .map(|k| {
                v.members
                    .iter()
                    .find(|m| m.admin == *k)
                    .map_or_else(|| k.to_hex()[..8].to_owned(), |m| m.name.clone())
            })
            .collect();
        let party = name(&v.names, &r.party);
        let warning = match lang {
            Lang::En => format!(
                "{party} acted with a key governance recovered for it (transaction {}), signed by admins {}",
                r.recovery.short(),
                list(&admins, lang)
            ),
            Lang::Zh => format!(
                "{party} 使用了经治理恢复的密钥（交易 {}），由管理员 {} 签署",
                r.recovery.short(),
                list(&admins, lang)
            ),
        };
        lines.line(Label::Warning, warning);
    }
    bill_lines(&mut lines, &v.names, &v.bill);
    let of_bill = match lang {
        Lang::En => format!("{} transactions of this bill", v.transactions),
        Lang::Zh => format!("该提单共 {} 笔交易", v.transactions),
    };
    lines.line(
        Label::AsOf,
        aside(&as_of(v.height, v.time_ms, lang), &of_bill, lang),
    );
    lines.done()
}

/// A pledge offer as a bank reviews it: the offer's bundle verified, the terms, whether the bill moved
/// since the offer (the node's word), and until when the ledger takes the pledge.
#[derive(Debug)]
pub struct Review<'a> {
    /// The offer's bundle, verified.
    pub verdict: &'a BundleVerdict,
    /// Who pledges.
    pub pledgor: &'a ebl_core::PartyId,
    /// The bank.
    pub pledgee: &'a ebl_core::PartyId,
    /// The loan the pledge secures.
    pub loan: &'a ebl_core::Loan,
    /// What moved the bill since the offer, as the node said.
    pub freshness: &'a ebl_core::api::OfferFreshness,
    /// When the ledger stops taking the pledge.
    pub valid_until_ms: Option<u64>,
    /// That time has passed.
    pub expired: bool,
}

/// `ebl bill pledge-review` (and `pledge-accept`): the verdict, then the pledge's terms, freshness and
/// validity, in `lang`.
pub fn pledge_review(r: &Review, lang: Lang) -> String {
    let names = &r.verdict.names;
    let f = r.freshness;
    let checked = timestamp(f.checked_at_ms);
    let fresh = if f.fresh {
        match lang {
            Lang::En => format!(
                "yes: nothing happened to the bill since the offer (checked with the node at {checked})"
            ),
            Lang::Zh => format!("是：要约之后提单没有任何变动（已于 {checked} 向节点核实）"),
        }
    } else {
        let moves: Vec<String> = f
            .moved
            .iter()
            .map(|m| {
                let what = words::action(&m.action, lang);
                let when = timestamp(m.block_time_ms);
                match lang {
                    Lang::En => format!("{what} at {when} (block {})", m.height),
                    Lang::Zh => format!("{what}，{when}（区块 {}）", m.height),
                }
            })
            .collect();
        match lang {
            Lang::En => format!(
                "NO: since the offer the bill moved: {} (checked at {checked}); the ledger will refuse this pledge",
                moves.join(", ")
            ),
            Lang::Zh => format!(
                "否：要约之后提单有变动：{}（核实于 {checked}）；账本将拒绝此质押",
                moves.join("；")
            ),
        }
    };
    let validity = match (r.valid_until_ms, r.expired, lang) {
        (Some(t), true, Lang::En) => {
            format!("EXPIRED at {}: the ledger will refuse it", timestamp(t))
        }
        (Some(t), true, Lang::Zh) => format!("已于 {} 过期：账本将拒绝", timestamp(t)),
        (Some(t), false, Lang::En) => format!("until {}", timestamp(t)),
        (Some(t), false, Lang::Zh) => format!("至 {}", timestamp(t)),
        (None, _, Lang::En) => "no limit".to_owned(),
        (None, _, Lang::Zh) => "无期限".to_owned(),
    };
    let (pledgor, pledgee) = (name(names, r.pledgor), name(names, r.pledgee));
    let amount = super::money(r.loan.amount_minor, &r.loan.currency);
    let loan = &r.loan.reference;
    let terms = match lang {
        Lang::En => format!("{pledgor} pledges to {pledgee} for {amount} (loan {loan})"),
        Lang::Zh => format!("{pledgor} 向 {pledgee} 质押，金额 {amount}（贷款 {loan}）"),
    };
    let mut lines = Lines::new(lang);
    lines.line(Label::Pledge, terms);
    lines.line(Label::Fresh, fresh);
    lines.line(Label::Valid, validity);
    format!("{}\n{}", verdict(r.verdict, lang), lines.done())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_has_its_chinese_and_fits_the_label_column() {
        for label in Label::ALL {
            let zh = label.get(Lang::Zh);
            assert!(
                zh.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c)),
                "{label:?}"
            );
            for lang in [Lang::En, Lang::Zh] {
                assert!(
                    crate::lang::display_width(label.get(lang)) < LABEL,
                    "{label:?} in {lang:?} leaves no space before its value"
                );
            }
        }
    }
}
