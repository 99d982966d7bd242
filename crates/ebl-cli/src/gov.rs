//! Governance from the wallet: a registry or consortium change needs t member-admin signatures over
//! one transaction body. One admin writes a proposal file, the others review and co-sign it, and the
//! one whose signature reaches t submits it, the way a pledge offer travels between holder and bank.

use std::path::Path;

use ebl_core::api::SubmitOutcome;
use ebl_core::{
    Action, ChainId, Ledger, Member, Registry, Signatures, SignedTransaction, SigningKey,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cli::{names, out, public_key, submitted, to_json, Out, ProposalOut, Reader, Signer};
use crate::error::{CliError, Kind, Result};
use crate::lang::Lang;
use crate::output::{self, Said};
use crate::wallet::{read_json, write_file, Wallet};

/// Format of a governance proposal file.
pub const PROPOSAL_FORMAT: &str = "ebl-proposal/1";
/// Largest proposal file read (a registration with its co-signatures is a few KiB).
pub const PROPOSAL_BYTES_MAX: usize = 256 * 1024;

/// A governance change on its way round the admins.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Proposal {
    /// Always `PROPOSAL_FORMAT`.
    pub format: String,
    /// The chain the change is for.
    pub chain: ChainId,
    /// The change, with the admin signatures so far.
    pub transaction: SignedTransaction,
}

/// What became of a governance change.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "governance", rename_all = "snake_case")]
pub enum Governed {
    /// It reached t signatures and was submitted.
    Submitted {
        /// What the node answered.
        outcome: Box<SubmitOutcome>,
    },
    /// It needs more signatures: the proposal file was written.
    Proposed {
        /// The proposal file written.
        file: std::path::PathBuf,
        /// Admin signatures it has.
        have: usize,
        /// Admin signatures it needs.
        need: usize,
    },
}

/// An admin's view of a proposal before co-signing it.
#[derive(Debug, Clone, Serialize)]
pub struct ProposalReview {
    /// The chain the change is for.
    pub chain: ChainId,
    /// What it does, in words.
    pub action: String,
    /// The members whose admin signatures count.
    pub signed_by: Vec<String>,
    /// Signatures that do not count (not a current member's admin key), by key.
    pub ignored: Vec<String>,
    /// Admin signatures that count.
    pub have: usize,
    /// Admin signatures it needs.
    pub need: usize,
    /// Whether the proposal still extends the registry's head: otherwise the ledger will refuse it.
    pub current: bool,
}

impl Wallet {
    /// The registry and consortium now, replayed from the genesis through the node's registry history
    /// with every signature checked: the wallet takes no node's word for who the members are.
    pub fn registry_now(&self) -> Result<Registry> {
        self.registry_at(u64::MAX)
    }

    /// The registry as it stood after the block at `height`, replayed from the node's registry history
    /// (a statement's signatures are bound to it from chain format 7).
    pub fn registry_at(&self, height: u64) -> Result<Registry> {
        let genesis = self.node.genesis()?.genesis.clone();
        replayed(Ledger::new(genesis), self.node.registry_history()?, height)
    }

    /// Signs a governance change as `admin`; submits it if that makes t signatures (a one-member
    /// chain), else writes it as a proposal to `proposal`.
    pub fn govern(
        &self,
        admin: &SigningKey,
        action: Action,
        proposal: Option<&Path>,
    ) -> Result<Governed> {
        let registry = self.registry_now()?;
        let tx = self.prepare(admin, action)?;
        self.advance(&registry, tx, proposal)
    }

    /// Reads a proposal file, with its format checked and its chain pinned.
    pub fn read_proposal(&self, path: &Path) -> Result<Proposal> {
        let proposal: Proposal = read_json(path, "governance proposal", PROPOSAL_BYTES_MAX)?;
        crate::wallet::check_file_format(&ebl_core::format::PROPOSAL, &proposal.format, || {
            crate::error::WalletRule::BadProposal {
                reason: format!("format {:?}", proposal.format),
            }
            .into()
        })?;
        let chain = self.node.genesis()?.chain;
        if proposal.chain != chain || proposal.transaction.body.chain != chain {
            let e = ebl_core::Error::ChainMismatch {
                expected: chain,
                got: proposal.transaction.body.chain,
            };
            return Err(CliError::core(Kind::Verification, e));
        }
        if !proposal.transaction.body.action.is_governance() {
            return Err(crate::error::WalletRule::BadProposal {
                reason: format!(
                    "a {} transaction is not a governance change",
                    proposal.transaction.body.action.code()
                ),
            }
            .into());
        }
        // Every signature must verify over exactly this body: a body changed after signing fails here.
        proposal.transaction.verify_signatures().map_err(|e| {
            CliError::core_in(
                Kind::Verification,
                e,
                "a signature on the proposal does not verify over its body",
            )
        })?;
        Ok(proposal)
    }

    /// What a proposal does, who signed it, and how many signatures it still needs.
    pub fn review_proposal(&self, proposal: &Proposal) -> Result<ProposalReview> {
        let registry = self.registry_now()?;
        Ok(review(&registry, proposal))
    }

    /// Co-signs a proposal as `admin`: submitted if that makes t, else written back to `path`.
    pub fn approve_proposal(&self, path: &Path, admin: &SigningKey) -> Result<Governed> {
        let proposal = self.read_proposal(path)?;
        let registry = self.registry_now()?;
        if registry
            .member_by_admin(&ebl_core::PartyKey::of(admin))
            .is_none()
        {
            let e = ebl_core::Error::UnknownMember;
            return Err(CliError::core(Kind::Usage, e)
                .with_hint("approve with the admin key of a current member (`ebl gov members`)"));
        }
        let mut tx = proposal.transaction;
        tx.cosign(admin);
        self.advance(&registry, tx, Some(path))
    }

    fn advance(
        &self,
        registry: &Registry,
        tx: SignedTransaction,
        proposal: Option<&Path>,
    ) -> Result<Governed> {
        let (have, need) = registry.quorum(&tx.signatures);
        if have >= need {
            let outcome = self.node.submit(&tx)?;
            return Ok(Governed::Submitted {
                outcome: Box::new(outcome),
            });
        }
        let Some(path) = proposal else {
            let e = ebl_core::Error::GovernanceQuorum { got: have, need };
            return Err(CliError::core(Kind::Usage, e).with_hint(
                "write it as a proposal with -o FILE and hand the file to the other admins (`ebl gov approve FILE`)",
            ));
        };
        let proposal = Proposal {
            format: PROPOSAL_FORMAT.to_owned(),
            chain: tx.body.chain,
            transaction: tx,
        };
        let text = serde_json::to_vec_pretty(&proposal)
            .map_err(|e| CliError::io("encoding the proposal", e))?;
        write_file(path, &text)?;
        Ok(Governed::Proposed {
            file: path.to_owned(),
            have,
            need,
        })
    }
}

/// A proposal read against the registry now.
pub fn review(registry: &Registry, proposal: &Proposal) -> ProposalReview {
    let tx = &proposal.transaction;
    let admins = registry.admins_among(&tx.signatures);
    let signed_by = admins
        .iter()
        .filter_map(|k| registry.member_by_admin(k).map(|m| m.name.clone()))
        .collect();
    let ignored = tx
        .signatures
        .iter()
        .filter(|s| !admins.contains(&s.signer))
        .map(|s| s.signer.to_hex())
        .collect();
    ProposalReview {
        chain: proposal.chain,
        action: tx.body.action.code().to_owned(),
        signed_by,
        ignored,
        have: admins.len(),
        need: usize::from(registry.threshold()),
        current: tx.body.prev == registry.head(),
    }
}

/// `ebl gov ...`: the consortium and its proposals.
// No doc comment: clap would make it the command's about text (the `ebl` command's line above says it).
#[derive(clap::Subcommand, Debug)]
#[allow(missing_docs)]
pub enum GovCommand {
    /// The consortium's members now and its threshold t, replayed from the genesis.
    Members {
        /// The key the reads are signed with.
        #[command(flatten)]
        reader: Reader,
    },
    /// Show what a proposal does, who signed it and how many signatures it still needs.
    Review {
        /// The proposal file.
        file: std::path::PathBuf,
        /// The key the reads are signed with.
        #[command(flatten)]
        reader: Reader,
    },
    /// Co-sign a proposal with your admin key; the signature that reaches t submits it.
    Approve {
        /// The proposal file.
        file: std::path::PathBuf,
        /// The admin key that co-signs.
        #[command(flatten)]
        signer: Signer,
    },
    /// Admit a member organisation: its admin key, node key and peer address.
    AddMember {
        /// The member organisation's name.
        name: String,
        /// Its admin key (hex).
        #[arg(long)]
        admin: String,
        /// Its node key (hex).
        #[arg(long)]
        node_key: String,
        /// Where its node serves the other nodes (host:port).
        #[arg(long)]
        peer: String,
        /// The admin key that signs.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Remove a member, by name.
    RemoveMember {
        /// The member's name.
        name: String,
        /// The admin key that signs.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Change t, the number of admins a governance change needs.
    Threshold {
        /// The new threshold t.
        threshold: u16,
        /// The admin key that signs.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
    /// Move the chain to its next format from a block height: blocks below it keep the old format.
    /// Choose a height every member's node will reach after its operator has installed a release that
    /// knows the format (see docs/upgrading.md).
    ScheduleFormat {
        /// The next chain format (one this release knows).
        format: u16,
        /// The first block written in it: above the chain's head.
        #[arg(long)]
        height: u64,
        /// The admin key that signs.
        #[command(flatten)]
        signer: Signer,
        /// Where a proposal is written, when more admins must sign.
        #[command(flatten)]
        proposal: ProposalOut,
    },
}

/// The chain's formats in words: its genesis's, then each scheduled change.
fn formats_line(formats: &ebl_core::format::FormatSchedule, lang: Lang) -> String {
    let mut line = match lang {
        Lang::En => format!("chain format {}", formats.at(0)),
        Lang::Zh => format!("链格式 {}", formats.at(0)),
    };
    for a in formats.activations() {
        line.push_str(&match lang {
            Lang::En => format!("; format {} from block {}", a.format, a.height),
            Lang::Zh => format!("；自区块 {} 起为格式 {}", a.height, a.format),
        });
    }
    line
}

/// Signs a governance change as `signer` and submits it or writes the proposal, printing which.
pub fn govern(
    wallet: &Wallet,
    signer: &Signer,
    action: Action,
    proposal: Option<&Path>,
    what: Said,
    lang: Lang,
) -> Result<Out> {
    let admin = wallet.signer(&signer.as_key)?;
    let governed = wallet.govern(&admin, action, proposal)?;
    governed_out(governed, &what, lang)
}

fn governed_out(governed: Governed, what: &Said, lang: Lang) -> Result<Out> {
    match governed {
        Governed::Submitted { outcome } => submitted(*outcome, what, lang),
        Governed::Proposed { file, have, need } => {
            let file = file.display();
            let human = match lang {
                Lang::En => format!(
                    "proposal written to {file} with {have} of the {need} admin signatures it needs\nhand it to the other admins: `ebl gov review {file}` then `ebl gov approve {file} --as ADMIN`"
                ),
                Lang::Zh => format!(
                    "提案已写入 {file}，已有所需 {need} 个管理员签名中的 {have} 个\n请交给其他管理员：先 ebl gov review {file}，再 ebl gov approve {file} --as 管理员密钥名"
                ),
            };
            Ok(out(
                json!({"governance": "proposed", "file": file.to_string(), "have": have, "need": need}),
                human,
            ))
        }
    }
}

fn review_text(review: &ProposalReview, what: &str, lang: Lang) -> String {
    let signed = match (review.signed_by.is_empty(), lang) {
        (true, Lang::En) => "nobody yet".to_owned(),
        (true, Lang::Zh) => "尚无".to_owned(),
        (false, Lang::En) => review.signed_by.join(", "),
        (false, Lang::Zh) => review.signed_by.join("、"),
    };
    let ignored = match (review.ignored.len(), lang) {
        (0, Lang::En) => "none".to_owned(),
        (0, Lang::Zh) => "无".to_owned(),
        (n, Lang::En) => format!("{n} signature(s) by keys that are no current member's admin"),
        (n, Lang::Zh) => format!("{n} 个签名所用密钥不是现任成员的管理员密钥"),
    };
    let current = match (review.current, lang) {
        (true, Lang::En) => "yes: it extends the registry's head",
        (true, Lang::Zh) => "是：它接续登记簿的最新状态",
        (false, Lang::En) => {
            "no: the registry changed since it was written; the ledger will refuse it (stale_head)"
        }
        (false, Lang::Zh) => "否：提案写成后登记簿已变更；账本将拒绝（stale_head）",
    };
    let (have, need) = (review.have, review.need);
    match lang {
        Lang::En => format!(
            "proposal    {}\nchange      {what}\nchain       {}\nsigned by   {signed} ({have} of the {need} needed)\nignored     {ignored}\ncurrent     {current}",
            review.action, review.chain,
        ),
        Lang::Zh => format!(
            "提案        {}\n变更        {what}\n链          {}\n已签名      {signed}（需 {need} 个，已有 {have} 个）\n已忽略      {ignored}\n是否最新    {current}",
            review.action, review.chain,
        ),
    }
}

/// Runs an `ebl gov` command.
///
/// Long by nature: one short arm per `ebl gov` subcommand (the hand-round's steps each a `Wallet` call
/// and its text).
pub fn command(wallet: &Wallet, cmd: GovCommand, lang: Lang) -> Result<Out> {
    match cmd {
        GovCommand::Members { reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let registry = wallet.registry_now()?;
            // As the newest format scheduled counts it (before format 6: the governance threshold).
            let finality = ebl_core::certificate::finality_need(&registry, u64::MAX);
            let human = registry
                .members()
                .iter()
                .map(|m| {
                    let (admin, node) = (&m.admin.to_hex()[..16], &m.node.to_hex()[..16]);
                    match lang {
                        Lang::En => format!(
                            "{:<24} admin {admin}  node {node}  peer {}",
                            m.name, m.peer_address
                        ),
                        Lang::Zh => format!(
                            "{:<24} 管理员 {admin}  节点 {node}  对等地址 {}",
                            m.name, m.peer_address
                        ),
                    }
                })
                .chain(std::iter::once({
                    let (t, n) = (registry.threshold(), registry.members().len());
                    match lang {
                        Lang::En => format!("governance: {t} of {n} admins"),
                        Lang::Zh => format!("治理：{n} 个管理员中需 {t} 个"),
                    }
                }))
                .chain(std::iter::once({
                    let (n, f) = (registry.members().len(), registry.faults());
                    let stated = registry.stated_faults().is_some();
                    match lang {
                        Lang::En => format!(
                            "finality: {finality} of {n} member nodes ({f} lying node(s) tolerated{})",
                            if stated { ", as the genesis states" } else { "" }
                        ),
                        Lang::Zh => format!(
                            "最终确认：{n} 个成员节点中需 {finality} 个（可容忍 {f} 个作恶节点{}）",
                            if stated { "，依创世记录所定" } else { "" }
                        ),
                    }
                }))
                .chain(std::iter::once(formats_line(registry.formats(), lang)))
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({
                    "members": registry.members(),
                    "threshold": registry.threshold(),
                    "faults": registry.faults(),
                    "finality_quorum": finality,
                    "formats": registry.formats(),
                }),
                human,
            ))
        }
        GovCommand::Review { file, reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let proposal = wallet.read_proposal(&file)?;
            let review = wallet.review_proposal(&proposal)?;
            let (_, names) = names(wallet)?;
            let what = output::sentences::deed(
                &names,
                &["governance".to_owned()],
                &proposal.transaction.body.action,
                lang,
            );
            let human = review_text(&review, &what, lang);
            let mut json = to_json(&review);
            json["change"] = to_json(&proposal.transaction.body.action);
            Ok(out(json, human))
        }
        GovCommand::Approve { file, signer } => {
            let admin = wallet.signer(&signer.as_key)?;
            let governed = wallet.approve_proposal(&file, &admin)?;
            governed_out(
                governed,
                &Said::new("governance change submitted", "治理变更已提交"),
                lang,
            )
        }
        GovCommand::AddMember {
            name,
            admin,
            node_key,
            peer,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let member = Member {
                name: name.clone(),
                admin: public_key(wallet, &admin)?,
                node: public_key(wallet, &node_key)?,
                peer_address: peer,
            };
            govern(
                wallet,
                &signer,
                Action::AddMember { member },
                proposal.file.as_deref(),
                Said::new(format!("{name} is a member"), format!("{name} 已成为成员")),
                lang,
            )
        }
        GovCommand::RemoveMember {
            name,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let registry = wallet.registry_now()?;
            let member = registry
                .members()
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(&name))
                .ok_or_else(|| {
                    let e = ebl_core::Error::UnknownMember;
                    CliError::core_in(Kind::Usage, e, format!("{name:?}"))
                        .with_hint("`ebl gov members` lists them")
                })?;
            govern(
                wallet,
                &signer,
                Action::RemoveMember {
                    admin: member.admin,
                },
                proposal.file.as_deref(),
                Said::new(
                    format!("{name} is no longer a member"),
                    format!("{name} 已不再是成员"),
                ),
                lang,
            )
        }
        GovCommand::Threshold {
            threshold,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            govern(
                wallet,
                &signer,
                Action::SetThreshold { threshold },
                proposal.file.as_deref(),
                Said::new(
                    format!("governance now needs {threshold} admins"),
                    format!("治理现需 {threshold} 个管理员"),
                ),
                lang,
            )
        }
        GovCommand::ScheduleFormat {
            format,
            height,
            signer,
            proposal,
        } => {
            // Refused here before any signature: a node of this release would stop at the height.
            ebl_core::format::check_schedulable(format).map_err(CliError::from)?;
            wallet.reader(Some(&signer.as_key))?;
            govern(
                wallet,
                &signer,
                Action::ScheduleFormat { format, height },
                proposal.file.as_deref(),
                Said::new(
                    format!("chain format {format} from block {height}"),
                    format!("自区块 {height} 起使用链格式 {format}"),
                ),
                lang,
            )
        }
    }
}

/// The registry `entries` up to `height` leave, replayed on `ledger` with every signature checked.
pub(crate) fn replayed(
    mut ledger: Ledger,
    entries: Vec<ebl_core::api::HistoryEntry>,
    height: u64,
) -> Result<Registry> {
    for entry in entries.into_iter().filter(|e| e.receipt.height <= height) {
        ledger.set_block(entry.receipt.height, entry.receipt.block_time_ms);
        ledger
            .apply(&entry.transaction, Signatures::Verify)
            .map_err(|e| {
                CliError::core_in(
                    Kind::Verification,
                    e,
                    format!(
                        "the node's registry history does not replay at {}",
                        entry.transaction.id()
                    ),
                )
            })?;
    }
    Ok(ledger.registry().clone())
}
