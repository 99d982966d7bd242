//! The same human-readable output in Simplified Chinese (`--lang zh`): bill states, timelines, the
//! worklist and verdicts. Labels are padded by display width, so columns line up with Chinese names.

use std::fmt::Write as _;

use ebl_core::api::HistoryEntry;
use ebl_core::bundle::BundleVerdict;
use ebl_core::{Action, Bill, Party, PartyId, Status, Title};

use super::{money, name, timestamp, Names, Signer};
use crate::lang::{pad, Lang};
use crate::words;

/// Label column width, in terminal columns.
const LABEL: usize = 12;

fn line(out: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(out, "{}{value}", pad(label, LABEL));
}

/// Where title rests, in Chinese.
pub fn title(names: &Names, t: &Title) -> String {
    words::title(t, &|id: &PartyId| name(names, id), Lang::Zh)
}

/// Where a bill is in its life, in Chinese.
pub fn status(names: &Names, s: &Status) -> String {
    let base = words::status(s, Lang::Zh);
    match s {
        Status::Pledged(p) => format!(
            "{base}：由 {} 质押给 {}，金额 {}（贷款 {}）",
            name(names, &p.pledgor),
            name(names, &p.pledgee),
            money(p.loan.amount_minor, &p.loan.currency),
            p.loan.reference
        ),
        Status::PendingDelivery { surrendered_by }
        | Status::PendingAmendment { surrendered_by, .. } => {
            format!("{base}（由 {} 交单）", name(names, surrendered_by))
        }
        Status::PendingDeliveryFromAbroad { surrendered_by } => {
            format!("{base}（由其他平台的 {} 交单）", surrendered_by.describe())
        }
        Status::Void { replaced_by, .. } if !replaced_by.is_empty() => format!(
            "{base}（由 {} 替代）",
            replaced_by
                .iter()
                .map(|b| b.to_hex())
                .collect::<Vec<_>>()
                .join("、")
        ),
        Status::SwitchedToPaper { paper, .. } => format!(
            "{base}：已不再是电子记录，由纸质提单 {}（{} 签发）替代",
            paper.number, paper.issued_on
        ),
        _ => base.to_owned(),
    }
}

/// A bill's state, in Chinese.
pub fn bill(names: &Names, b: &Bill) -> String {
    let mut out = String::new();
    line(&mut out, "提单", b.id);
    line(
        &mut out,
        "提单号",
        format!(
            "{}（{}，{}）",
            b.reference,
            b.document_type.code(),
            if b.negotiable {
                "指示提单"
            } else {
                "记名提单"
            }
        ),
    );
    line(&mut out, "承运人", name(names, &b.carrier));
    line(&mut out, "托运人", name(names, &b.shipper));
    line(&mut out, "占有人", name(names, &b.possessor));
    line(&mut out, "权利", title(names, &b.title));
    line(&mut out, "状态", status(names, &b.status));
    line(
        &mut out,
        "最新交易",
        format!("{}（共 {} 笔交易）", b.head, b.transactions),
    );
    for r in &b.replaces {
        line(&mut out, "替代", r);
    }
    let _ = write!(out, "{}校验和 {}", pad("单据", LABEL), b.document_checksum);
    out
}

/// The worklist table: reference, status, possessor, bill id, title.
pub fn worklist(names: &Names, bills: &[Bill]) -> String {
    if bills.is_empty() {
        return "没有提单：您目前未参与任何提单".to_owned();
    }
    let mut out = format!(
        "{} {} {} {} 权利",
        pad("提单号", 22),
        pad("状态", 18),
        pad("占有人", 28),
        pad("提单标识", 64)
    );
    for b in bills {
        let _ = write!(
            out,
            "\n{} {} {} {} {}",
            pad(&b.reference, 22),
            pad(words::status(&b.status, Lang::Zh), 18),
            pad(&name(names, &b.possessor), 28),
            pad(&b.id.to_hex(), 64),
            title(names, &b.title)
        );
    }
    out
}

/// One line of a timeline in Chinese.
pub fn describe(names: &Names, signer: &str, action: &Action) -> String {
    let n = |id: &PartyId| name(names, id);
    match action {
        Action::Issue {
            issue_to, replaces, ..
        } => match replaces {
            Some(r) => format!(
                "{signer} 签发给 {}（替代 {} 张作废提单之一）",
                n(issue_to),
                r.bills.len()
            ),
            None => format!("{signer} 签发给 {}", n(issue_to)),
        },
        Action::Transfer { to, .. } => format!("{signer} 将占有转让给 {}", n(to)),
        Action::Endorse { to, .. } => format!("{signer} 背书给 {}", n(to)),
        Action::EndorseToOrder { to, .. } => format!("{signer} 背书为凭 {} 指示", n(to)),
        Action::BlankEndorse { .. } => format!("{signer} 空白背书"),
        Action::Sign { .. } => format!("{signer} 签收占有"),
        Action::SurrenderForDelivery { .. } => format!("{signer} 交单提货"),
        Action::SurrenderForAmendment { reason, .. } => {
            format!("{signer} 交单修改（{}）", reason.code())
        }
        Action::AcceptSurrender { .. } => format!("{signer} 接受交单"),
        Action::AcceptSurrenderToPaper { paper, .. } => format!(
            "{signer} 接受交单并转为纸质提单 {}（{}）",
            paper.number, paper.issued_on
        ),
        Action::Refuse { .. } => format!("{signer} 拒收：恢复原状"),
        Action::RejectSurrender { .. } => format!("{signer} 拒绝交单"),
        Action::Pledge { pledgee, loan, .. } => format!(
            "{} 将其质押给 {}，金额 {}（贷款 {}）",
            signer.split(" 和 ").next().unwrap_or(signer),
            n(pledgee),
            money(loan.amount_minor, &loan.currency),
            loan.reference
        ),
        Action::Release { .. } => format!("{signer} 解除质押"),
        Action::Enforce { .. } => format!("{signer} 执行质押并取得权利"),
        Action::Import { possessor, .. } => {
            format!("节点经 PINT 从其他平台为 {} 导入该提单", n(possessor))
        }
        // Registry changes are governance's words; shown as the English line, whose names are data.
        other => super::describe(names, signer, other),
    }
}

/// A bill's timeline, in Chinese.
pub fn timeline(names: &Names, parties: &[Party], history: &[HistoryEntry]) -> String {
    let mut out = String::new();
    for (i, entry) in history.iter().enumerate() {
        let tx = &entry.transaction;
        let signers: Vec<String> = super::signers(parties, tx)
            .into_iter()
            .map(|s| match s {
                Signer::Party {
                    name,
                    recovered_in: Some(r),
                } => format!("{name}（使用经治理恢复的密钥，{}）", r.short()),
                Signer::Party { name, .. } => name,
                Signer::Key(k) => format!("密钥 {}", &k.to_hex()[..8]),
            })
            .collect();
        let _ = writeln!(
            out,
            "{:>3}. {}  区块 {:<6} {} {}",
            i + 1,
            timestamp(entry.receipt.block_time_ms),
            entry.receipt.height,
            pad(&words::action(tx.body.action.code(), Lang::Zh), 14),
            describe(names, &signers.join(" 和 "), &tx.body.action)
        );
    }
    out.trim_end().to_owned()
}

/// A proof bundle's verdict, in Chinese.
pub fn verdict(v: &BundleVerdict) -> String {
    let mut out = String::from("有效：每个签名、哈希链接、包含证明和规则均验证无误。\n");
    line(&mut out, "链", format!("{}（已锁定）", v.chain));
    line(
        &mut out,
        "格式",
        format!(
            "{}，链格式 {}{}",
            v.format,
            v.chain_format,
            v.format_changes
                .iter()
                .map(|a| format!("；自区块 {} 起为格式 {}", a.height, a.format))
                .collect::<String>()
        ),
    );
    let super::VerdictSummary {
        members,
        signers,
        fewest,
    } = super::VerdictSummary::of(v);
    line(
        &mut out,
        "成员",
        format!(
            "{}（治理：{} 个中需 {} 个）",
            members.join("、"),
            v.members.len(),
            v.threshold
        ),
    );
    line(
        &mut out,
        "区块",
        format!(
            "共 {} 个区块，均已最终确认：每个至少由 {} 个成员节点中的 {fewest} 个签名（需要 {} 个）：{}",
            v.block_signers.len(),
            v.members.len(),
            v.threshold,
            signers.join("、")
        ),
    );
    line(
        &mut out,
        "状态声明",
        format!("由 {} 的节点签署", v.statement_signers.join("、")),
    );
    for r in &v.recoveries {
        line(
            &mut out,
            "警告",
            format!(
                "{} 使用了经治理恢复的密钥（交易 {}）",
                name(&v.names, &r.party),
                r.recovery.short()
            ),
        );
    }
    out.push_str(&bill(&v.names, &v.bill));
    let _ = write!(
        out,
        "\n{}高度 {}，{}（该提单共 {} 笔交易）",
        pad("数据截至", LABEL),
        v.height,
        timestamp(v.time_ms),
        v.transactions
    );
    out
}

/// The error line: what kind of failure, in Chinese; the message and its stable code as they are.
pub fn error_kind(kind: crate::error::Kind) -> &'static str {
    use crate::error::Kind;
    match kind {
        Kind::Usage => "用法或输入有误",
        Kind::Rejected => "账本拒绝",
        Kind::Verification => "验证失败",
        Kind::Unreachable => "无法连接节点",
        Kind::Other => "错误",
    }
}
