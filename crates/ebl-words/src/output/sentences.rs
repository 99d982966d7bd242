//! What happened to a bill and where it stands, as sentences, English and Simplified Chinese side by
//! side: one sentence per action and per state, from the facts (the action, its signers by name), so
//! that every renderer says the same thing and none parses another's text.

use ebl_core::{Action, PartyId, Status};

use super::{money, name, Names, Signer};
use crate::lang::Lang;
use crate::words;

/// "A", "A and B" / "A 和 B": the parties who signed, as one subject.
fn subject(who: &[String], lang: Lang) -> String {
    who.join(match lang {
        Lang::En => " and ",
        Lang::Zh => " 和 ",
    })
}

/// A list of things in running text: "a, b" / "a、b".
pub fn list<S: AsRef<str>>(items: &[S], lang: Lang) -> String {
    items
        .iter()
        .map(AsRef::as_ref)
        .collect::<Vec<_>>()
        .join(match lang {
            Lang::En => ", ",
            Lang::Zh => "、",
        })
}

/// `main` with a remark in brackets: "main (note)" / "main（note）".
pub fn aside(main: &str, note: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{main} ({note})"),
        Lang::Zh => format!("{main}（{note}）"),
    }
}

/// "1 transaction", "2 transactions" / "共 2 笔交易".
pub fn transactions(n: u64, lang: Lang) -> String {
    match (lang, n) {
        (Lang::En, 1) => "1 transaction".to_owned(),
        (Lang::En, n) => format!("{n} transactions"),
        (Lang::Zh, n) => format!("共 {n} 笔交易"),
    }
}

/// One signer as a timeline names it: a party by name (noting a key governance recovered), or a key
/// no party holds by its first digits.
pub fn signer(signer: &Signer, lang: Lang) -> String {
    match (signer, lang) {
        (
            Signer::Party {
                name,
                recovered_in: Some(r),
            },
            Lang::En,
        ) => format!("{name} (with a key governance RECOVERED in {})", r.short()),
        (
            Signer::Party {
                name,
                recovered_in: Some(r),
            },
            Lang::Zh,
        ) => format!("{name}（使用经治理恢复的密钥，{}）", r.short()),
        (Signer::Party { name, .. }, _) => name.clone(),
        (Signer::Key(k), Lang::En) => format!("key {}", &k.to_hex()[..8]),
        (Signer::Key(k), Lang::Zh) => format!("密钥 {}", &k.to_hex()[..8]),
    }
}

/// Where a bill is in its life, with the parties and figures of its state. English names the state by
/// its code (what scripts and the ledger's messages use), Chinese by its word.
pub fn status(names: &Names, s: &Status, lang: Lang) -> String {
    let n = |id: &PartyId| name(names, id);
    let zh = words::status(s, Lang::Zh);
    match (s, lang) {
        (Status::Pledged(p), Lang::En) => format!(
            "PLEDGED to {} by {} for {} (loan {})",
            n(&p.pledgee),
            n(&p.pledgor),
            money(p.loan.amount_minor, &p.loan.currency),
            p.loan.reference
        ),
        (Status::Pledged(p), Lang::Zh) => format!(
            "{zh}：由 {} 质押给 {}，金额 {}（贷款 {}）",
            n(&p.pledgor),
            n(&p.pledgee),
            money(p.loan.amount_minor, &p.loan.currency),
            p.loan.reference
        ),
        (Status::PendingDelivery { surrendered_by }, Lang::En) => format!(
            "PENDING_DELIVERY (surrendered by {})",
            n(surrendered_by)
        ),
        (Status::PendingDeliveryFromAbroad { surrendered_by }, Lang::En) => format!(
            "PENDING_DELIVERY (surrendered by {}, on another platform)",
            surrendered_by.describe()
        ),
        (Status::PendingDeliveryFromAbroad { surrendered_by }, Lang::Zh) => {
            format!("{zh}（由其他平台的 {} 交单）", surrendered_by.describe())
        }
        (
            Status::PendingAmendment {
                surrendered_by,
                reason,
            },
            Lang::En,
        ) => format!(
            "PENDING_AMENDMENT ({}, surrendered by {})",
            reason.code(),
            n(surrendered_by)
        ),
        (
            Status::PendingDelivery { surrendered_by }
            | Status::PendingAmendment { surrendered_by, .. },
            Lang::Zh,
        ) => format!("{zh}（由 {} 交单）", n(surrendered_by)),
        (Status::Void { replaced_by, .. }, lang) if !replaced_by.is_empty() => {
            let bills: Vec<String> = replaced_by.iter().map(|b| b.to_hex()).collect();
            match lang {
                Lang::En => format!("VOID (replaced by {})", list(&bills, lang)),
                Lang::Zh => format!("{zh}（由 {} 替代）", list(&bills, lang)),
            }
        }
        (Status::SwitchedToPaper { paper, .. }, Lang::En) => format!(
            "SWITCHED_TO_PAPER: no longer an electronic record; replaced by paper bill {} issued {}",
            paper.number, paper.issued_on
        ),
        (Status::SwitchedToPaper { paper, .. }, Lang::Zh) => format!(
            "{zh}：已不再是电子记录，由纸质提单 {}（{} 签发）替代",
            paper.number, paper.issued_on
        ),
        (other, Lang::En) => other.name().to_owned(),
        (_, Lang::Zh) => zh.to_owned(),
    }
}

/// One line of a timeline: who did what. `who` are the signers, each already named (`signer`); a
/// pledge names only the first, the pledgor (the pledgee's co-signature is its acceptance).
pub fn deed(names: &Names, who: &[String], action: &Action, lang: Lang) -> String {
    let n = |id: &PartyId| name(names, id);
    let all = subject(who, lang);
    let first = who.first().map_or("", String::as_str);
    match lang {
        Lang::En => english(&n, &all, first, action),
        Lang::Zh => chinese(&n, &all, first, action),
    }
}

fn english(n: &dyn Fn(&PartyId) -> String, who: &str, first: &str, action: &Action) -> String {
    match action {
        Action::Issue {
            issue_to, replaces, ..
        } => match replaces {
            Some(r) => format!(
                "{who} issued it to {} (one of {} replacing {})",
                n(issue_to),
                r.count,
                r.bills
                    .iter()
                    .map(|b| b.short())
                    .collect::<Vec<_>>()
                    .join(" and ")
            ),
            None => format!("{who} issued it to {}", n(issue_to)),
        },
        Action::Transfer { to, .. } => format!("{who} transferred possession to {}", n(to)),
        Action::Endorse { to, .. } => format!("{who} endorsed it to {}", n(to)),
        Action::EndorseToOrder { to, .. } => {
            format!("{who} endorsed it to the order of {}", n(to))
        }
        Action::BlankEndorse { .. } => format!("{who} endorsed it in blank"),
        Action::Sign { .. } => format!("{who} signed for possession"),
        Action::SurrenderForDelivery { .. } => format!("{who} surrendered it for delivery"),
        Action::SurrenderForAmendment { reason, .. } => {
            format!("{who} surrendered it for amendment ({})", reason.code())
        }
        Action::AcceptSurrender { .. } => format!("{who} accepted the surrender"),
        Action::AcceptSurrenderToPaper { paper, .. } => format!(
            "{who} accepted the surrender and switched it to paper bill {} of {}",
            paper.number, paper.issued_on
        ),
        Action::Refuse { .. } => format!("{who} refused it: back to where it was"),
        Action::RejectSurrender { .. } => format!("{who} rejected the surrender"),
        Action::Pledge { pledgee, loan, .. } => format!(
            "{first} pledged it to {} for {} (loan {})",
            n(pledgee),
            money(loan.amount_minor, &loan.currency),
            loan.reference
        ),
        Action::Release { .. } => format!("{who} released the pledge"),
        Action::Enforce { .. } => format!("{who} enforced the pledge and took title"),
        Action::RegisterParty { profile, .. } => format!("{who} registered {}", profile.name),
        Action::RotateKey { party, .. } => format!("{} rotated its key", n(party)),
        Action::RevokeParty { party } => format!("{who} revoked {}", n(party)),
        Action::UpdateParty { party, profile } => format!(
            "{who} changed {} (name {}, roles {}, identifiers {})",
            n(party),
            profile.name,
            profile.roles,
            identifiers(profile)
        ),
        Action::RecoverKey { party, .. } => {
            format!(
                "{who} RECOVERED the key of {} (a new key by governance)",
                n(party)
            )
        }
        Action::AddMember { member } => format!("{who} admitted member {}", member.name),
        Action::RemoveMember { admin } => format!(
            "{who} removed the member with admin key {}",
            &admin.to_hex()[..8]
        ),
        Action::SetThreshold { threshold } => {
            format!("{who} set the governance threshold to {threshold}")
        }
        Action::ScheduleFormat { format, height } => {
            format!("{who} scheduled chain format {format} from block {height}")
        }
        Action::Import { possessor, .. } => format!(
            "the node imported it from another platform (PINT) for {}",
            n(possessor)
        ),
        Action::SendOut { to, .. } => format!("{who} sent it to {} over PINT", to.describe()),
        Action::SentOut { answer, .. } => format!(
            "the other platform received it ({}): it left this ledger",
            super::answer_summary(answer)
        ),
        Action::SendRefused { answer, .. } => format!(
            "the other platform refused it ({}): the holder has it again",
            super::answer_summary(answer)
        ),
        Action::SendDisputed { answer, .. } => format!(
            "the other platform disputes it ({}): held for people to resolve",
            super::answer_summary(answer)
        ),
    }
}

fn chinese(n: &dyn Fn(&PartyId) -> String, who: &str, first: &str, action: &Action) -> String {
    match action {
        Action::Issue {
            issue_to, replaces, ..
        } => match replaces {
            Some(r) => format!(
                "{who} 签发给 {}（替代 {} 的 {} 张提单之一）",
                n(issue_to),
                r.bills
                    .iter()
                    .map(|b| b.short())
                    .collect::<Vec<_>>()
                    .join("、"),
                r.count
            ),
            None => format!("{who} 签发给 {}", n(issue_to)),
        },
        Action::Transfer { to, .. } => format!("{who} 将占有转让给 {}", n(to)),
        Action::Endorse { to, .. } => format!("{who} 背书给 {}", n(to)),
        Action::EndorseToOrder { to, .. } => format!("{who} 背书为凭 {} 指示", n(to)),
        Action::BlankEndorse { .. } => format!("{who} 空白背书"),
        Action::Sign { .. } => format!("{who} 签收占有"),
        Action::SurrenderForDelivery { .. } => format!("{who} 交单提货"),
        Action::SurrenderForAmendment { reason, .. } => {
            format!("{who} 交单修改（{}）", reason.code())
        }
        Action::AcceptSurrender { .. } => format!("{who} 接受交单"),
        Action::AcceptSurrenderToPaper { paper, .. } => format!(
            "{who} 接受交单并转为纸质提单 {}（{}）",
            paper.number, paper.issued_on
        ),
        Action::Refuse { .. } => format!("{who} 拒收：恢复原状"),
        Action::RejectSurrender { .. } => format!("{who} 拒绝交单"),
        Action::Pledge { pledgee, loan, .. } => format!(
            "{first} 将其质押给 {}，金额 {}（贷款 {}）",
            n(pledgee),
            money(loan.amount_minor, &loan.currency),
            loan.reference
        ),
        Action::Release { .. } => format!("{who} 解除质押"),
        Action::Enforce { .. } => format!("{who} 执行质押并取得提货权"),
        Action::RegisterParty { profile, .. } => format!("{who} 登记了 {}", profile.name),
        Action::RotateKey { party, .. } => format!("{} 轮换了密钥", n(party)),
        Action::RevokeParty { party } => format!("{who} 撤销了 {}", n(party)),
        Action::UpdateParty { party, profile } => format!(
            "{who} 修改了 {}（名称 {}，角色 {}，标识符 {}）",
            n(party),
            profile.name,
            profile.roles,
            identifiers(profile)
        ),
        Action::RecoverKey { party, .. } => {
            format!("{who} 恢复了 {} 的密钥（由治理签发的新密钥）", n(party))
        }
        Action::AddMember { member } => format!("{who} 接纳成员 {}", member.name),
        Action::RemoveMember { admin } => {
            format!("{who} 移除了管理员密钥为 {} 的成员", &admin.to_hex()[..8])
        }
        Action::SetThreshold { threshold } => format!("{who} 将治理门限设为 {threshold}"),
        Action::ScheduleFormat { format, height } => {
            format!("{who} 安排自区块 {height} 起使用链格式 {format}")
        }
        Action::Import { possessor, .. } => {
            format!("节点经 PINT 从其他平台为 {} 导入该提单", n(possessor))
        }
        Action::SendOut { to, .. } => format!("{who} 经 PINT 将其发送给 {}", to.describe()),
        Action::SentOut { answer, .. } => format!(
            "对方平台已接收（{}）：该提单已离开本账本",
            super::answer_summary(answer)
        ),
        Action::SendRefused { answer, .. } => format!(
            "对方平台拒收（{}）：持有人重新持有该提单",
            super::answer_summary(answer)
        ),
        Action::SendDisputed { answer, .. } => format!(
            "对方平台有异议（{}）：留待人工处理",
            super::answer_summary(answer)
        ),
    }
}

/// A profile's identifiers, space-separated as the ledger writes them.
fn identifiers(profile: &ebl_core::PartyProfile) -> String {
    profile
        .identifiers
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pledge() -> Action {
        Action::Pledge {
            bill: ebl_core::Hash::of(b"bill"),
            pledgee: PartyId([7; 32]),
            loan: ebl_core::Loan {
                amount_minor: 100_000,
                currency: "USD".into(),
                reference: "L-1".into(),
            },
        }
    }

    /// Session 19's review: each timeline named a pledge's pledgor by cutting its own joined text of
    /// the signers at the first " and ", so a pledgor named "Smith and Sons" was shown as "Smith".
    #[test]
    fn regression_a_pledgor_whose_name_holds_and_is_named_whole() {
        let who = ["Smith and Sons".to_owned(), "Bank".to_owned()];
        let names = Names::new();
        let en = deed(&names, &who, &pledge(), Lang::En);
        assert!(en.starts_with("Smith and Sons pledged it to"), "{en}");
        let zh_who = ["史密斯 和 儿子".to_owned(), "银行".to_owned()];
        let zh = deed(&names, &zh_who, &pledge(), Lang::Zh);
        assert!(zh.starts_with("史密斯 和 儿子 将其质押给"), "{zh}");
    }

    #[test]
    fn every_signer_is_named_in_the_subject() {
        let who = ["Carrier".to_owned(), "Shipper".to_owned()];
        let action = Action::BlankEndorse {
            bill: ebl_core::Hash::of(b"bill"),
        };
        assert_eq!(
            deed(&Names::new(), &who, &action, Lang::En),
            "Carrier and Shipper endorsed it in blank"
        );
        assert_eq!(
            deed(&Names::new(), &who, &action, Lang::Zh),
            "Carrier 和 Shipper 空白背书"
        );
    }
}
