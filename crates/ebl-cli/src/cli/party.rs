//! `ebl party`: admit, change, rotate, recover, revoke and look up parties.

use ebl_core::{Action, Identifier, PartyKey, PartyProfile, Role, Roles};

use super::{out, public_key, submitted, to_json, Out, PartyCommand};
use crate::error::Result;
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

pub(super) fn party(wallet: &Wallet, cmd: PartyCommand) -> Result<Out> {
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
                format!("registered {name} ({})", ebl_core::PartyId::from(key)),
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
                format!("updated {}", target.name()),
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
                wallet,
                outcome,
                format!(
                    "{} now signs with {new_public} (key {new_key})",
                    target.name()
                ),
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
                format!(
                    "{} recovered: it now signs with {new_key} (recorded as a recovery)",
                    target.name()
                ),
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
                format!("{} revoked", target.name()),
            )
        }
        PartyCommand::List { reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let parties = wallet.node.parties()?;
            let human = parties
                .iter()
                .map(|p| {
                    let ids: Vec<String> = p
                        .profile
                        .identifiers
                        .iter()
                        .map(|i| i.to_string())
                        .collect();
                    format!(
                        "{:<28} {:<16} {}{}{}",
                        p.name(),
                        p.profile.roles.to_string(),
                        p.id.short(),
                        if ids.is_empty() {
                            String::new()
                        } else {
                            format!("  {}", ids.join(" "))
                        },
                        if p.revoked { "  REVOKED" } else { "" }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(to_json(&parties), human))
        }
        PartyCommand::Show { party, reader } => {
            wallet.reader(reader.as_key.as_deref())?;
            let p = wallet.party(&party)?;
            let human = format!(
                "name        {}\nid          {}\nkey         {}\nroles       {}\nidentifiers {}\nstatus      {}",
                p.name(),
                p.id,
                p.key,
                p.profile.roles,
                p.profile.identifiers.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(", "),
                if p.revoked { "revoked" } else { "active" }
            );
            Ok(out(to_json(&p), human))
        }
    }
}
