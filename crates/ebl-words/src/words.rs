//! Every word the web app and the Chinese CLI show, English and Simplified Chinese side by side, so that none can lack its
//! translation: a word is one line of `words!`, and sentences with figures are functions below it.

use ebl_core::Status;

use crate::lang::Lang;

macro_rules! words {
    ($($name:ident => $en:literal, $zh:literal;)*) => {
        /// A word or fixed phrase of the app.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum W { $(#[doc = $en] $name,)* }

        impl W {
            /// Every word, for the test that none lacks its Chinese.
            pub const ALL: &'static [W] = &[$(W::$name,)*];

            /// The word in `lang`.
            pub fn get(self, lang: Lang) -> &'static str {
                match (self, lang) {
                    $((W::$name, Lang::En) => $en, (W::$name, Lang::Zh) => $zh,)*
                }
            }
        }
    };
}

words! {
    AppName => "ebl wallet", "ebl 钱包";
    Worklist => "Worklist", "工作清单";
    Verify => "Verify a file", "验证文件";
    WorklistLead => "Every bill your keys have a part in now.", "您的密钥当前参与的所有提单。";
    NoBills => "None of your keys has a part in any bill yet.", "您的密钥尚未参与任何提单。";
    Reference => "Reference", "提单号";
    Carrier => "Carrier", "承运人";
    Status => "Status", "状态";
    Title => "Title", "提货权";
    Pledge => "Pledge", "质押";
    YourKeys => "Your keys", "您的密钥";
    NotPledged => "not pledged", "未质押";
    Verdict => "Verdict", "结论";
    Valid => "Valid: this bill's record checks out, trusting no one.", "有效：该提单记录经验证无误，无需信任任何一方。";
    Invalid => "Not valid", "无效";
    ChainIntact => "History complete and unaltered", "历史完整且未被改动";
    IssuerRegistered => "Issuer is the registered carrier", "签发人为注册承运人";
    BlocksFinal => "Every block final", "所有区块已最终确认";
    PledgeState => "Pledge", "质押情况";
    KeyRecovery => "Key recovery", "密钥恢复";
    NoRecovery => "No key in this chain was recovered by governance.", "此链中没有经治理恢复的密钥。";
    Freshness => "Fresh as of", "数据截至";
    PinnedChain => "Your consortium's ledger", "您所在联盟的账本";
    PinnedChainLead => "The bill is on the ledger this wallet trusts (you pinned it); a file from any other ledger would be refused.",
        "该提单位于本钱包信任的账本上（您已指定信任该账本）；来自任何其他账本的文件都会被拒绝。";
    TechnicalDetail => "Technical detail", "技术细节";
    TechSignatures => "Every Ed25519 signature checked strictly (verify_strict), against the keys the registry held at that block.",
        "每个 Ed25519 签名均按严格规则（verify_strict）依据该区块时登记的密钥验证。";
    TechLinks => "Each transaction names the hash of the bill's transaction before it; each is proven included in its block (Merkle proof to the block's root).",
        "每笔交易都载有该提单前一笔交易的哈希；每笔交易都以默克尔证明证实包含在其区块中。";
    TechCertificates => "Each block carries the member nodes' signatures that make it final.",
        "每个区块都附有使其最终确认的成员节点签名。";
    ChainIdLabel => "Chain id", "链标识";
    NowTitle => "Now", "当前";
    Possessor => "Possessor", "占有人";
    Shipper => "Shipper", "托运人";
    Custody => "Custody", "占有与提货权流转";
    CustodyLead => "Parties as lanes; each mark is an event on the possessor's lane; a diamond marks the endorsee; a band is a pledge in force.",
        "每条泳道代表一方；每个圆点是占有人泳道上的一次事件；菱形表示被背书人；色带表示有效质押期。";
    History => "History", "历史记录";
    Time => "Time", "时间";
    Action => "Action", "操作";
    ActorRecipient => "By → to", "操作方 → 接收方";
    Pledgee => "Pledgee", "质权人";
    Block => "Block", "区块";
    Document => "Transport document", "运输单据";
    Checksum => "Checksum", "校验和";
    Parties => "Parties", "当事方";
    Goods => "Goods", "货物";
    Voyage => "Voyage", "航次";
    PortOfLoading => "Port of loading", "装货港";
    PortOfDischarge => "Port of discharge", "卸货港";
    Vessel => "Vessel", "船名";
    VoyageNumber => "Voyage number", "航次号";
    Departure => "Planned departure", "计划离港";
    Arrival => "Planned arrival", "计划到港";
    ShippedOnBoard => "Shipped on board", "已装船日期";
    DocumentType => "Type", "类型";
    ToOrder => "to order", "指示提单";
    Straight => "straight", "记名提单";
    Equipment => "Equipment", "集装箱";
    Weight => "Gross weight", "毛重";
    Packages => "Packages", "件数";
    Ids => "Ids (hex)", "标识（十六进制）";
    PrintView => "Print view", "打印视图";
    PrintedAt => "Printed from the ebl wallet at", "打印自 ebl 钱包，时间";
    Actions => "Act on this bill", "办理此提单";
    ActAs => "Sign as", "签名身份";
    Passphrase => "Passphrase", "口令";
    PassphraseNote => "Used for this action only, never stored.", "仅用于本次操作，不会保存。";
    To => "To", "接收方";
    TransferAction => "Transfer possession", "转让占有";
    EndorseAction => "Endorse", "背书";
    EndorseToOrderBox => "to their order (they may endorse on)", "凭其指示（可继续背书）";
    OfferPledge => "Offer as collateral (pledge offer)", "提供质押（质押要约）";
    Bank => "Bank", "银行";
    Amount => "Amount", "金额";
    Currency => "Currency", "币种";
    LoanReference => "Loan reference", "贷款编号";
    ValidHours => "Valid for (hours)", "有效期（小时）";
    ReleaseAction => "Release the pledge (loan repaid)", "解除质押（贷款已还）";
    Submit => "Sign and submit", "签名并提交";
    WriteOffer => "Sign and download the offer", "签名并下载要约";
    Done => "Done", "已完成";
    NoActions => "None of your keys can act on this bill now.", "您的密钥目前都无法办理此提单。";
    VerifyLead => "Drop a proof bundle, a pledge offer or a PINT envelope. It is checked here, in the wallet, against the chains you pinned (or the PINT trust directory): nothing is sent anywhere.",
        "拖入证明包、质押要约或 PINT 信封。验证在本钱包内完成，依据您信任的链（或 PINT 信任目录），不会发送到任何地方。";
    VerifierTitle => "Verify a proof bundle", "验证证明包";
    VerifierLead => "Drop a proof bundle (ebl bill export) and give the chain id your consortium published. It is checked in this page by the same code as ebl verify: no wallet, no key, nothing sent anywhere.",
        "拖入证明包（ebl bill export 导出）并填写您所在联盟公布的链标识。验证在本页面内完成，所用代码与 ebl verify 相同：无需钱包、无需密钥，不向任何地方发送数据。";
    ChainId => "Chain id", "链标识";
    ChainIdHint => "64 hexadecimal digits, as ebl chain show prints it", "64 位十六进制数字，即 ebl chain show 显示的链标识";
    BadChainId => "A chain id is 64 hexadecimal digits: give the one your consortium published.", "链标识为 64 位十六进制数字：请填写您所在联盟公布的链标识。";
    NotABundle => "This file cannot be read as a proof bundle.", "无法将该文件读作证明包。";
    ExactWords => "As ebl verify says it", "ebl verify 的原文";
    OriginalWords => "The ledger's own words", "原文";
    ImportNotChecked => "The bill arrived over PINT; the history it brought from the other platform is not checked here (ebl verify --pint-trust DIR checks it).",
        "此提单经 PINT 转入；其从其他平台带来的历史未在此验证（可用 ebl verify --pint-trust DIR 验证）。";
    Consignee => "Consignee", "收货人";
    Endorsee => "Endorsee", "被背书人";
    NotifyParty => "Notify party", "通知方";
    IssuingParty => "Issuing party", "签发方";
    CarriersAgent => "Carrier's agent at destination", "承运人目的港代理";
    OtherParty => "Other party", "其他当事方";
    DocumentStatus => "Status in the document", "单据所载状态";
    DownloadBundle => "Download the proof bundle", "下载证明包";
    DownloadBundleLead => "The file this verdict rests on, for the credit file: anyone can check it again, offline, with ebl verify or the browser verifier.",
        "本结论所依据的文件，可存入授信档案：任何人都可用 ebl verify 或浏览器验证页离线重新验证。";
    DropHere => "Drop a file here, or choose one", "将文件拖到此处，或选择文件";
    OrPaste => "or paste its text", "或粘贴其内容";
    Check => "Verify", "验证";
    WhatFailed => "What is wrong", "问题所在";
    Where => "Where", "位置";
    Code => "Error code", "错误代码";
    NotAFile => "This is not a proof bundle, a pledge offer or a PINT envelope.", "这不是证明包、质押要约或 PINT 信封。";
    OfferTitle => "Pledge offer", "质押要约";
    Pledgor => "Pledgor", "出质人";
    Loan => "Loan", "贷款";
    ValidUntil => "Valid until", "有效期至";
    AcceptOffer => "Accept: co-sign and take the bill as collateral", "接受：会签并取得提单作为担保";
    NotYourOffer => "The pledgee's key is not in this wallet: only that bank can accept.", "本钱包中没有质权人的密钥：只有该银行可以接受。";
    KeysUnknown => "These keys of this wallet belong to no registered party now (not registered yet, or rotated away), so they read nothing:", "本钱包中的以下密钥目前不属于任何已登记的参与方（尚未登记或已轮换），因此无法读取任何内容：";
    OfferExpired => "This offer has expired: the ledger would refuse it. Ask the holder for a new offer.", "此要约已过期，账本将拒绝它。请向持有人索取新的要约。";
    OfferStale => "The bill moved after this offer was written: the ledger would refuse it. Ask the holder for a new offer.", "此要约写成后提单已有变动，账本将拒绝它。请向持有人索取新的要约。";
    OfferNotAccepted => "The offer was not accepted", "要约未被接受";
    MovedSince => "What happened to the bill since", "此后提单发生的变动";
    YouWillSign => "What you sign", "您将签署的内容";
    PintEnvelope => "PINT envelope", "PINT 信封";
    PintAccepted => "Every signature, link and checksum of the envelope checks out (RECE).", "信封的所有签名、链接和校验和均验证无误（RECE）。";
    NoTrustDir => "No PINT trust directory: start `ebl ui --pint-trust DIR` to verify envelopes.", "没有 PINT 信任目录：请用 `ebl ui --pint-trust DIR` 启动以验证信封。";
    Platforms => "Platforms", "平台";
    Transfers => "Transfer chain", "转让链";
    BlockTitle => "Block", "区块";
    Height => "Height", "高度";
    Previous => "Previous block", "上一区块";
    TxRoot => "Transactions root", "交易根";
    TxCount => "Transactions", "交易数";
    SignedBy => "Signed by the nodes of", "签名节点所属成员";
    Threshold => "Needed", "所需签名数";
    PartyTitle => "Party", "当事方";
    Name => "Name", "名称";
    Roles => "Roles", "角色";
    Identifiers => "Identifiers", "标识符";
    Key => "Key", "密钥";
    RetiredKeys => "Earlier keys", "以往密钥";
    Revoked => "Revoked: this party's key signs nothing more.", "已撤销：该方的密钥不再有效。";
    Active => "Active", "有效";
    Recoveries => "Keys recovered by governance", "经治理恢复的密钥";
    ErrorTitle => "Something went wrong", "出错了";
    Hint => "Hint", "提示";
    Forbidden => "Open the address `ebl ui` printed: this page needs the wallet's session.", "请打开 `ebl ui` 打印的地址：此页面需要钱包会话。";
    Language => "Language", "语言";
    Open => "open", "未结";
    Yes => "yes", "是";
    No => "no", "否";
    Bearer => "bearer (endorsed in blank)", "不记名（空白背书）";
    Replaces => "Replaces", "替代";
    ImportedNote => "This bill arrived from another platform over PINT; its earlier history was signed there.", "此提单经 PINT 从其他平台转入；其早期历史由该平台签名。";
}

/// The state a bill is in, in words.
pub fn status(status: &Status, lang: Lang) -> &'static str {
    match (status, lang) {
        (Status::Issued, Lang::En) => "issued",
        (Status::Issued, Lang::Zh) => "已签发",
        (Status::Pledged(_), Lang::En) => "pledged",
        (Status::Pledged(_), Lang::Zh) => "已质押",
        (Status::PendingDelivery { .. }, Lang::En) => "surrendered, delivery pending",
        (Status::PendingDelivery { .. }, Lang::Zh) => "已交单，待交付",
        (Status::PendingDeliveryFromAbroad { .. }, Lang::En) => {
            "surrendered from another platform, delivery pending"
        }
        (Status::PendingDeliveryFromAbroad { .. }, Lang::Zh) => "自其他平台交单，待交付",
        (Status::PendingAmendment { .. }, Lang::En) => "surrendered, amendment pending",
        (Status::PendingAmendment { .. }, Lang::Zh) => "已交单，待修改",
        (Status::Accomplished, Lang::En) => "accomplished (cargo delivered)",
        (Status::Accomplished, Lang::Zh) => "已完成（货物已交付）",
        (Status::Void { .. }, Lang::En) => "void (amended)",
        (Status::Void { .. }, Lang::Zh) => "已作废（已修改）",
        (Status::SwitchedToPaper { .. }, Lang::En) => "switched to paper",
        (Status::SwitchedToPaper { .. }, Lang::Zh) => "已转为纸质提单",
        (Status::SendingOut { .. }, Lang::En) => "being sent to another platform",
        (Status::SendingOut { .. }, Lang::Zh) => "正在转出至其他平台",
        (Status::TransferredOut { .. }, Lang::En) => "transferred to another platform",
        (Status::TransferredOut { .. }, Lang::Zh) => "已转出至其他平台",
        (Status::Disputed { .. }, Lang::En) => "disputed by the receiving platform",
        (Status::Disputed { .. }, Lang::Zh) => "接收平台有异议",
    }
}

/// An action's name, from its code (`Action::code`), as people say it.
pub fn action(code: &str, lang: Lang) -> String {
    let (en, zh) = match code {
        "ISSUE" => ("Issued", "签发"),
        "TRANSFER" => ("Transferred", "转让占有"),
        "ENDORSE" => ("Endorsed", "背书"),
        "ENDORSE_TO_ORDER" => ("Endorsed to order", "指示背书"),
        "BLANK_ENDORSE" => ("Endorsed in blank", "空白背书"),
        "SIGN" => ("Signed for possession", "签收"),
        "SURRENDER_FOR_DELIVERY" => ("Surrendered for delivery", "交单提货"),
        "SURRENDER_FOR_AMENDMENT" => ("Surrendered for amendment", "交单修改"),
        "SACC" => ("Surrender accepted", "接受交单"),
        "SACC_TO_PAPER" => ("Switched to paper", "转为纸质提单"),
        "SREJ" => ("Surrender rejected", "拒绝交单"),
        "PLEDGE" => ("Pledged", "质押"),
        "RELEASE" => ("Pledge released", "解除质押"),
        "ENFORCE" => ("Pledge enforced", "执行质押"),
        "REFUSE" => ("Refused", "拒收"),
        "IMPORT" => ("Arrived over PINT", "经 PINT 转入"),
        "SEND_OUT" => ("Sent over PINT", "经 PINT 转出"),
        "SENT_OUT" => ("Received by the other platform", "对方平台已接收"),
        "SEND_REFUSED" => ("Refused by the other platform", "对方平台拒收"),
        "SEND_DISPUTED" => ("Disputed by the other platform", "对方平台有异议"),
        other => return other.to_owned(),
    };
    match lang {
        Lang::En => en.to_owned(),
        Lang::Zh => zh.to_owned(),
    }
}

/// "to the order of X", "straight, consignee X", "bearer".
pub fn title(
    title: &ebl_core::Title,
    name: &dyn Fn(&ebl_core::PartyId) -> String,
    lang: Lang,
) -> String {
    use ebl_core::Title as T;
    match (title, lang) {
        (T::Straight { consignee }, Lang::En) => format!("straight, consignee {}", name(consignee)),
        (T::Straight { consignee }, Lang::Zh) => format!("记名，收货人 {}", name(consignee)),
        (
            T::Order {
                endorsee,
                may_endorse: true,
            },
            Lang::En,
        ) => format!("to the order of {}", name(endorsee)),
        (
            T::Order {
                endorsee,
                may_endorse: true,
            },
            Lang::Zh,
        ) => format!("凭 {} 指示", name(endorsee)),
        (
            T::Order {
                endorsee,
                may_endorse: false,
            },
            Lang::En,
        ) => {
            format!("endorsed to {} (may not endorse further)", name(endorsee))
        }
        (
            T::Order {
                endorsee,
                may_endorse: false,
            },
            Lang::Zh,
        ) => {
            format!("背书给 {}（不得再背书）", name(endorsee))
        }
        (T::Bearer, lang) => W::Bearer.get(lang).to_owned(),
    }
}

/// The verdict's line on a chain of `count` transactions that checks out.
pub fn transactions_checked(count: usize, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "Every signature and every rule checks out, from the ledger's first block through the {count} transactions of this bill, and none of them was changed."
        ),
        Lang::Zh => format!("从账本第一个区块起，该提单 {count} 笔交易的每个签名和每条规则均验证无误，且无一被改动。"),
    }
}

/// The verdict's line on the issuing carrier.
pub fn issued_by(carrier: &str, code: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Issued by {carrier}, registered as a carrier with code {code}."),
        Lang::Zh => format!("由 {carrier} 签发，其注册承运人代码为 {code}。"),
    }
}

/// The verdict's line on the blocks' finality certificates.
pub fn blocks_final(
    blocks: usize,
    fewest: usize,
    members: usize,
    threshold: u16,
    signers: &str,
    lang: Lang,
) -> String {
    match lang {
        Lang::En => format!(
            "{blocks} blocks, each signed by at least {fewest} of {members} member nodes ({threshold} needed): {signers}."
        ),
        Lang::Zh => format!("共 {blocks} 个区块，每个至少由 {members} 个成员节点中的 {fewest} 个签名（需要 {threshold} 个）：{signers}。"),
    }
}

/// The verdict's line on a pledge in force.
pub fn pledged_to(pledgee: &str, pledgor: &str, amount: &str, loan: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("Pledged to {pledgee} by {pledgor} for {amount} (loan {loan}): only the bank can move it."),
        Lang::Zh => format!("已由 {pledgor} 质押给 {pledgee}，金额 {amount}（贷款 {loan}）：只有该银行可以处置。"),
    }
}

/// The verdict's line on a bill free of pledges.
pub fn not_pledged(lang: Lang) -> String {
    match lang {
        Lang::En => "Not pledged: free to be offered as collateral.".to_owned(),
        Lang::Zh => "未质押：可作为担保提供。".to_owned(),
    }
}

/// The warning that a key governance recovered has acted.
pub fn recovered(party: &str, admins: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("WARNING: {party} acted with a key governance recovered for it, signed by admins {admins}."),
        Lang::Zh => format!("警告：{party} 使用了经治理恢复的密钥，由管理员 {admins} 签署。"),
    }
}

/// The verdict's line on the node's signed statement.
pub fn fresh_as_of(time: &str, height: u64, members: &[String], lang: Lang) -> String {
    match lang {
        Lang::En => {
            let nodes = if members.len() > 1 { "nodes" } else { "node" };
            format!(
                "{time}, as of block {height}, in a statement signed by the {nodes} of {}.",
                members.join(", ")
            )
        }
        Lang::Zh => format!(
            "{time}，区块高度 {height}，由 {} 的节点签署的状态声明。",
            members.join("、")
        ),
    }
}

/// The confirmation of an action the ledger accepted.
pub fn done(action_name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("{action_name}: accepted and recorded by the ledger."),
        Lang::Zh => format!("{action_name}：已被账本接受并记录。"),
    }
}

/// Where in a bundle a check failed, in words: "the 3rd event of the history (Transferred, …)".
pub fn at_event(position: usize, action_name: &str, time: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!("event {position} of the history ({action_name}, {time})"),
        Lang::Zh => format!("历史记录第 {position} 项（{action_name}，{time}）"),
    }
}

/// A transport document's own status (DCSA's `transportDocumentStatus`), in words; a code DCSA may add
/// later is shown as it is written.
pub fn document_status(code: &str, lang: Lang) -> String {
    let (en, zh) = match code {
        "DRAFT" => ("draft", "草稿"),
        "APPROVED" => ("approved", "已核准"),
        "ISSUED" => ("issued", "已签发"),
        "PENDING_SURRENDER_FOR_AMENDMENT" => ("pending surrender for amendment", "待缴回修改"),
        "SURRENDERED_FOR_AMENDMENT" => ("surrendered for amendment", "已缴回修改"),
        "PENDING_SURRENDER_FOR_DELIVERY" => ("pending surrender for delivery", "待缴回提货"),
        "SURRENDERED_FOR_DELIVERY" => ("surrendered for delivery", "已缴回提货"),
        "VOIDED" => ("voided", "已作废"),
        other => return other.to_owned(),
    };
    match lang {
        Lang::En => en.to_owned(),
        Lang::Zh => zh.to_owned(),
    }
}

/// The role a DCSA `documentParties` key names, in words; `None` for a key DCSA may add later.
pub fn document_party(key: &str) -> Option<W> {
    Some(match key {
        "shipper" => W::Shipper,
        "consignee" => W::Consignee,
        "endorsee" => W::Endorsee,
        "issuingParty" => W::IssuingParty,
        "notifyParties" => W::NotifyParty,
        "carriersAgentAtDestination" => W::CarriersAgent,
        "other" => W::OtherParty,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has_chinese(text: &str) -> bool {
        text.chars().any(|c| ('\u{4E00}'..='\u{9FFF}').contains(&c))
    }

    #[test]
    fn every_word_has_a_chinese_translation() {
        for w in W::ALL {
            assert!(has_chinese(w.get(Lang::Zh)), "{w:?} has no Chinese");
            assert!(
                !has_chinese(w.get(Lang::En)),
                "{w:?} has Chinese in English"
            );
        }
        for code in ["ISSUE", "TRANSFER", "PLEDGE", "RELEASE", "SACC", "IMPORT"] {
            assert!(has_chinese(&action(code, Lang::Zh)), "{code}");
        }
    }
}
