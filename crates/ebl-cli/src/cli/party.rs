//! `ebl party`: admit, change, rotate, recover, revoke and look up parties.

use ebl_core::{Action, Identifier, PartyKey, PartyProfile, Role, Roles};

use super::{out, public_key, submitted, to_json, Out, PartyCommand};
use crate::error::Result;
use crate::output::Said;
use crate::wallet::Wallet;

fn parse_profile(name: String, roles: &[String], identifiers: &[String]) -> Result<PartyProfile> {
    let roles: Vec<Role> = roles
        .iter()
        .map(|r| r.parse())
        .collect::<ebl_core::Result<_>>()?;
    let identifiers: Vec<Identifier> = identifiers
        .iter()
        .map(|i| Identifier::parse(i))
        .collect::<ebl_core::Result<_>>()?;
    Ok(PartyProfile {
        name,
        roles: Roles::new(&roles)?,
        identifiers,
    })
}

/// Runs an `ebl party` command.
///
/// Long by nature: one short arm per `ebl party` subcommand, each naming what it asks the wallet for.
pub(super) fn party(
    wallet: &Wallet,
    cmd: PartyCommand,
    force: bool,
    lang: crate::lang::Lang,
) -> Result<Out> {
    match cmd {
        PartyCommand::Register {
            name,
            key,
            roles,
            identifiers,
            signer,
            proposal,
        } => {
            let key = public_key(wallet, &key)?;
            let profile = parse_profile(name.clone(), &roles, &identifiers)?;
            crate::gov::govern(
                wallet,
                &signer,
                Action::RegisterParty { key, profile },
                proposal.file.as_deref(),
                Said::new(
                    format!("registered {name} ({})", ebl_core::PartyId::from(key)),
                    format!("已登记 {name}（{}）", ebl_core::PartyId::from(key)),
                ),
                lang,
            )
        }
        PartyCommand::Update {
            party,
            name,
            roles,
            identifiers,
            no_ids,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            let mut profile = target.profile.clone();
            if let Some(name) = name {
                profile.name = name;
            }
            if !roles.is_empty() {
                profile.roles = parse_profile(profile.name.clone(), &roles, &[])?.roles;
            }
            if no_ids {
                profile.identifiers.clear();
            } else if !identifiers.is_empty() {
                profile.identifiers =
                    parse_profile(profile.name.clone(), &["trader".into()], &identifiers)?
                        .identifiers;
            }
            crate::gov::govern(
                wallet,
                &signer,
                Action::UpdateParty {
                    party: target.id,
                    profile,
                },
                proposal.file.as_deref(),
                Said::new(
                    format!("updated {}", target.name()),
                    format!("已更新 {}", target.name()),
                ),
                lang,
            )
        }
        PartyCommand::Rotate {
            party,
            new_key,
            signer,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            let current = wallet.signer(&signer.as_key)?;
            let new = wallet.signer(&new_key).map_err(|e| {
                e.with_hint("the new key must be in this wallet: make it with `ebl key new NAME`")
            })?;
            let new_public = PartyKey::of(&new);
            let mut tx = wallet.prepare(
                &current,
                Action::RotateKey {
                    party: target.id,
                    new_key: new_public,
                },
            )?;
            // The new key signs too: proof that the party holds it.
            tx.cosign(&new);
            let outcome = wallet.node.submit(&tx)?;
            submitted(
                outcome,
                &Said::new(
                    format!(
                        "{} now signs with {new_public} (key {new_key})",
                        target.name()
                    ),
                    format!("{} 现用密钥 {new_key}（{new_public}）签名", target.name()),
                ),
                lang,
            )
        }
        PartyCommand::Recover {
            party,
            new_key,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            let new_key = public_key(wallet, &new_key)?;
            crate::gov::govern(
                wallet,
                &signer,
                Action::RecoverKey {
                    party: target.id,
                    new_key,
                },
                proposal.file.as_deref(),
                Said::new(
                    format!(
                        "{} recovered: it now signs with {new_key} (recorded as a recovery)",
                        target.name()
                    ),
                    format!(
                        "{} 的密钥已恢复：现用 {new_key} 签名（作为恢复记录在案）",
                        target.name()
                    ),
                ),
                lang,
            )
        }
        PartyCommand::Revoke {
            party,
            signer,
            proposal,
        } => {
            wallet.reader(Some(&signer.as_key))?;
            let target = wallet.party(&party)?;
            crate::gov::govern(
                wallet,
                &signer,
                Action::RevokeParty { party: target.id },
                proposal.file.as_deref(),
                Said::new(
                    format!("{} revoked", target.name()),
                    format!("已撤销 {}", target.name()),
                ),
                lang,
            )
        }
        PartyCommand::GrantFollow {
            node_key,
            peer,
            out: path,
            signer,
        } => {
            let node: PartyKey = node_key.parse().map_err(|e| {
                crate::error::CliError::from(e)
                    .with_hint("give the node's public key as `ebl-node node-key` prints it")
            })?;
            let auditor = wallet.signer(&signer.as_key)?;
            let grant = wallet.grant_follow(&auditor, node, &peer)?;
            super::write_output(&path, &grant.to_file(), force)?;
            let human = Said::new(
                format!(
                    "grant for node {node} at {peer} to follow written to {}",
                    path.display()
                ),
                format!("节点 {node}（{peer}）的跟随授权已写入 {}", path.display()),
            );
            Ok(out(
                serde_json::json!({"grant": path, "node": node, "peer": peer}),
                human.get(lang),
            ))
        }
        PartyCommand::List { reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let mut parties = wallet.node.parties()?;
            // People look a party up by name: sorted by it, as the table shows it first.
            parties.sort_by_key(|p| p.name().to_lowercase());
            Ok(out(to_json(&parties), party_table(&parties)))
        }
        PartyCommand::Show { party, reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let p = wallet.party(&party)?;
            let identifiers = p
                .profile
                .identifiers
                .iter()
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let human = match lang {
                crate::lang::Lang::En => format!(
                    "name        {}\nid          {}\nkey         {}\nroles       {}\nidentifiers {identifiers}\nstatus      {}",
                    p.name(),
                    p.id,
                    p.key,
                    p.profile.roles,
                    if p.revoked { "revoked" } else { "active" }
                ),
                crate::lang::Lang::Zh => format!(
                    "名称        {}\n标识        {}\n密钥        {}\n角色        {}\n登记标识    {identifiers}\n状态        {}",
                    p.name(),
                    p.id,
                    p.key,
                    p.profile.roles,
                    if p.revoked { "已撤销" } else { "有效" }
                ),
            };
            Ok(out(to_json(&p), human))
        }
    }
}

/// Widest a party-list column of names and of identifiers may be: with the roles, id and status the
/// table fits 100 columns.
const PARTY_NAME_COLUMNS_MAX: usize = 32;
const PARTY_IDS_COLUMNS_MAX: usize = 28;

/// `party list` for people: a header, names first (cut by display width, CJK counting two), roles, the
/// short id, identifiers and status.
fn party_table(parties: &[ebl_core::Party]) -> String {
    use crate::lang::{display_width, fit};
    if parties.is_empty() {
        return "no parties registered yet".into();
    }
    let ids = |p: &ebl_core::Party| {
        p.profile
            .identifiers
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let name_width = parties
        .iter()
        .map(|p| display_width(p.name()))
        .max()
        .unwrap_or(0)
        .clamp(4, PARTY_NAME_COLUMNS_MAX);
    let ids_width = parties
        .iter()
        .map(|p| display_width(&ids(p)))
        .max()
        .unwrap_or(0)
        .clamp(11, PARTY_IDS_COLUMNS_MAX);
    let mut lines = vec![format!(
        "{}  {}  {}  {}  STATUS",
        fit("NAME", name_width),
        fit("ROLES", 14),
        fit("ID", 8),
        fit("IDENTIFIERS", ids_width)
    )];
    for p in parties {
        lines.push(format!(
            "{}  {}  {}  {}  {}",
            fit(p.name(), name_width),
            fit(&p.profile.roles.to_string(), 14),
            fit(&p.id.short(), 8),
            fit(&ids(p), ids_width),
            if p.revoked { "revoked" } else { "active" }
        ));
    }
    lines
        .iter()
        .map(|l| l.trim_end().to_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
