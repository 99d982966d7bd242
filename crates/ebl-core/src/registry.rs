//! The party registry: who is admitted, with which roles, and which key signs for each party at this point
//! of the ledger. Changed only by transactions the operator named in the genesis signs.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::keys::PartyKey;
use crate::party::{Party, PartyId, PartyProfile, Role, Roles};
use crate::transaction::{Action, Genesis};

/// The registry's state. `head` is its last change (the chain id before any), which the next registry
/// transaction must name, exactly as a bill transaction names its bill's head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registry {
    head: Hash,
    operator: PartyId,
    parties: BTreeMap<PartyId, Party>,
    keys: BTreeMap<PartyKey, PartyId>,
    names: BTreeMap<String, PartyId>,
}

/// Names compare without case, so "ACME" and "Acme" cannot both be registered.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Registry {
    /// The registry a genesis starts with: only the operator.
    pub fn new(genesis: &Genesis) -> Registry {
        let operator = PartyId::from(genesis.operator);
        let party = Party {
            id: operator,
            profile: PartyProfile {
                name: "operator".to_owned(),
                roles: Roles::single(Role::Operator),
                identifiers: Vec::new(),
            },
            key: genesis.operator,
            retired_keys: Vec::new(),
            revoked: false,
        };
        let mut registry = Registry {
            head: genesis.chain_id(),
            operator,
            parties: BTreeMap::new(),
            keys: BTreeMap::new(),
            names: BTreeMap::new(),
        };
        registry.insert(party);
        registry
    }

    /// Rebuilds a registry from its stored parts (a node's state trees); the indexes are derived.
    pub fn from_parts(
        genesis: &Genesis,
        head: Hash,
        parties: impl IntoIterator<Item = Party>,
    ) -> Registry {
        let mut registry = Registry::new(genesis);
        registry.head = head;
        for party in parties {
            for old in &party.retired_keys {
                registry.keys.insert(*old, party.id);
            }
            registry.insert(party);
        }
        registry
    }

    fn insert(&mut self, party: Party) {
        self.keys.insert(party.key, party.id);
        self.names.insert(name_key(party.name()), party.id);
        self.parties.insert(party.id, party);
    }

    pub fn head(&self) -> Hash {
        self.head
    }

    pub fn operator(&self) -> PartyId {
        self.operator
    }

    pub fn party(&self, id: PartyId) -> Option<&Party> {
        self.parties.get(&id)
    }

    pub fn parties(&self) -> impl Iterator<Item = &Party> {
        self.parties.values()
    }

    pub fn by_name(&self, name: &str) -> Option<&Party> {
        self.names
            .get(&name_key(name))
            .and_then(|id| self.parties.get(id))
    }

    /// The party whose current or retired key this is.
    pub fn by_key(&self, key: &PartyKey) -> Option<&Party> {
        self.keys.get(key).and_then(|id| self.parties.get(id))
    }

    /// A party that exists and is not revoked.
    pub fn active_party(&self, id: PartyId) -> Result<&Party> {
        let party = self
            .parties
            .get(&id)
            .ok_or(Error::UnknownParty { party: id })?;
        if party.revoked {
            return Err(Error::RevokedParty { party: id });
        }
        Ok(party)
    }

    /// The party that signs with `key` now: refuses unknown keys, rotated-out keys and revoked parties.
    pub fn signer(&self, key: &PartyKey) -> Result<PartyId> {
        let party = self.by_key(key).ok_or(Error::UnknownKey)?;
        if party.revoked {
            return Err(Error::RevokedKey { party: party.id });
        }
        if party.key != *key {
            return Err(Error::RotatedKey { party: party.id });
        }
        Ok(party.id)
    }

    /// Checks a registry action and returns the registry after it and the party it changed. `tx_id`
    /// becomes the new head.
    pub(crate) fn apply(
        &self,
        action: &Action,
        signer: PartyId,
        tx_id: Hash,
    ) -> Result<(Registry, PartyId)> {
        if signer != self.operator {
            return Err(Error::NotOperator);
        }
        let mut next = self.clone();
        let changed = match action {
            Action::RegisterParty { key, profile } => {
                let id = PartyId::from(*key);
                if self.parties.contains_key(&id) {
                    return Err(Error::PartyExists { party: id });
                }
                if let Some(owner) = self.keys.get(key) {
                    return Err(Error::KeyInUse { party: *owner });
                }
                if self.names.contains_key(&name_key(&profile.name)) {
                    return Err(Error::NameTaken {
                        name: profile.name.clone(),
                    });
                }
                next.insert(Party {
                    id,
                    profile: profile.clone(),
                    key: *key,
                    retired_keys: Vec::new(),
                    revoked: false,
                });
                id
            }
            Action::RotateKey { party, new_key } => {
                self.active_party(*party)?;
                if let Some(owner) = self.keys.get(new_key) {
                    return Err(Error::KeyInUse { party: *owner });
                }
                if let Some(p) = next.parties.get_mut(party) {
                    let old = std::mem::replace(&mut p.key, *new_key);
                    p.retired_keys.push(old);
                }
                next.keys.insert(*new_key, *party);
                *party
            }
            Action::RevokeParty { party } => {
                self.active_party(*party)?;
                if let Some(p) = next.parties.get_mut(party) {
                    p.revoked = true;
                }
                *party
            }
            other => {
                return Err(Error::MalformedEncoding {
                    reason: format!("{} is not a registry action", other.code()),
                })
            }
        };
        next.head = tx_id;
        Ok((next, changed))
    }
}
