//! The party registry and the consortium that governs it: who is admitted, with which roles and
//! identifiers, which key signs for each party at this point of the ledger, and which members' admins
//! may change any of that together.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::block::InclusionProof;
use crate::commitment::{Commitment, Consortium, ConsortiumProof, PartyProof};
use crate::error::{Error, Result};
use crate::format::FormatSchedule;
use crate::genesis::{check_members, Genesis, Member};
use crate::hash::Hash;
use crate::keys::PartyKey;
use crate::party::{Party, PartyId, PartyProfile};
use crate::transaction::{Action, Signature, TxId};

/// A party's lost key replaced by governance: which admins signed, so that everyone can see it wherever
/// the new key acts afterwards.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recovery {
    /// The `RECOVER_KEY` transaction.
    pub tx: TxId,
    /// The key governance gave the party.
    pub new_key: PartyKey,
    /// The member admin keys whose signatures counted.
    pub admins: Vec<PartyKey>,
}

/// The registry's state apart from its parties: its head and the consortium as of that head. Stored
/// beside the parties at a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryHead {
    /// The registry's last change (the chain id before any): the next registry transaction names it.
    pub head: Hash,
    /// The members as of the head.
    pub members: Vec<Member>,
    /// The governance threshold as of the head.
    pub threshold: u16,
}

/// The registry's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registry {
    state: RegistryHead,
    /// The chain's formats by height, as governance scheduled them (stored beside the head: the head's
    /// encoding is format 4's and keeps its bytes).
    formats: FormatSchedule,
    /// The f the genesis states (chain format 7 on); `None`: f follows from the members.
    faults: Option<u16>,
    parties: BTreeMap<PartyId, Party>,
    keys: BTreeMap<PartyKey, PartyId>,
    names: BTreeMap<String, PartyId>,
    /// Identifiers of active parties: each belongs to at most one.
    identifiers: BTreeMap<(String, String), PartyId>,
    /// The parties' leaves and the tree over them (chain format 8's commitment), kept as they change.
    commitment: Commitment,
}

/// Names compare without case, so "ACME" and "Acme" cannot both be registered.
fn name_key(name: &str) -> String {
    name.trim().to_lowercase()
}

impl Registry {
    /// The registry a genesis starts with: its members, no parties.
    pub fn new(genesis: &Genesis) -> Registry {
        Registry {
            state: RegistryHead {
                head: genesis.chain_id(),
                members: genesis.members.clone(),
                threshold: genesis.threshold,
            },
            formats: FormatSchedule::new(genesis.version),
            faults: genesis.stated_faults(),
            parties: BTreeMap::new(),
            keys: BTreeMap::new(),
            names: BTreeMap::new(),
            identifiers: BTreeMap::new(),
            commitment: Commitment::default(),
        }
    }

    /// Rebuilds a registry from its stored parts (a node's state trees); the indexes are derived.
    pub fn from_parts(
        state: RegistryHead,
        formats: FormatSchedule,
        faults: Option<u16>,
        parties: impl IntoIterator<Item = Party>,
    ) -> Registry {
        let mut registry = Registry {
            state,
            formats,
            faults,
            parties: BTreeMap::new(),
            keys: BTreeMap::new(),
            names: BTreeMap::new(),
            identifiers: BTreeMap::new(),
            commitment: Commitment::default(),
        };
        for party in parties {
            registry.commitment.set(&party);
            registry.insert(party);
        }
        registry
    }

    fn insert(&mut self, party: Party) {
        self.keys.insert(party.key, party.id);
        for old in &party.retired_keys {
            self.keys.insert(*old, party.id);
        }
        self.names.insert(name_key(party.name()), party.id);
        if !party.revoked {
            for i in &party.profile.identifiers {
                self.identifiers.insert(i.key(), party.id);
            }
        }
        self.parties.insert(party.id, party);
    }

    /// The registry's last change (the chain id before any).
    pub fn head(&self) -> Hash {
        self.state.head
    }

    /// The head, members and threshold, as a checkpoint stores them.
    pub fn state(&self) -> &RegistryHead {
        &self.state
    }

    /// The chain's formats by height, as scheduled up to now.
    pub fn formats(&self) -> &FormatSchedule {
        &self.formats
    }

    /// How many lying member nodes the consortium tolerates: what its genesis states (chain format 7
    /// on), else what follows from the members now ([`crate::certificate::faults_tolerated`]).
    pub fn faults(&self) -> usize {
        self.faults.map_or_else(
            || crate::certificate::faults_tolerated(self.state.members.len()),
            usize::from,
        )
    }

    /// The f the genesis states, if it does (chain format 7 on).
    pub fn stated_faults(&self) -> Option<u16> {
        self.faults
    }

    /// The finality quorum of the members now: ⌊(n+f)/2⌋+1, at most n.
    pub fn finality_quorum(&self) -> usize {
        crate::certificate::quorum(self.state.members.len(), self.faults())
    }

    /// The registry's consortium without its parties: what counting member nodes' signatures needs
    /// (members, threshold, f, formats), without copying every party of a large registry.
    pub fn consortium_only(&self) -> Registry {
        Registry::from_parts(self.state.clone(), self.formats.clone(), self.faults, [])
    }

    /// The consortium's entry in the commitment: members, threshold, stated f, formats.
    pub fn consortium(&self) -> Consortium {
        Consortium {
            members: self.state.members.clone(),
            threshold: self.state.threshold,
            faults: self.faults,
            formats: self.formats.clone(),
        }
    }

    /// The registry's commitment (chain format 8): the root over the consortium's entry and every
    /// party's. Built once after each change, O(n); see [`crate::commitment`].
    pub fn root(&self) -> Hash {
        self.commitment.root(&self.consortium())
    }

    /// The consortium's entry with its proof under [`Registry::root`].
    pub fn prove_consortium(&self) -> ConsortiumProof {
        let consortium = self.consortium();
        let proof = self
            .commitment
            .prove_consortium(&consortium)
            .unwrap_or(InclusionProof {
                index: 0,
                count: 0,
                path: Vec::new(),
            });
        ConsortiumProof { consortium, proof }
    }

    /// A party's entry with its proof under [`Registry::root`], if it is registered.
    pub fn prove_party(&self, id: &PartyId) -> Option<PartyProof> {
        let party = self.parties.get(id)?;
        let proof = self.commitment.prove_party(&self.consortium(), id)?;
        Some(PartyProof {
            party: party.clone(),
            proof,
        })
    }

    /// The consortium's members now.
    pub fn members(&self) -> &[Member] {
        &self.state.members
    }

    /// How many member-admin signatures a governance change needs now.
    pub fn threshold(&self) -> u16 {
        self.state.threshold
    }

    /// The current member whose admin key this is.
    pub fn member_by_admin(&self, admin: &PartyKey) -> Option<&Member> {
        self.state.members.iter().find(|m| m.admin == *admin)
    }

    /// The current member whose node key this is.
    pub fn member_by_node(&self, node: &PartyKey) -> Option<&Member> {
        self.state.members.iter().find(|m| m.node == *node)
    }

    fn is_member_key(&self, key: &PartyKey) -> bool {
        self.state
            .members
            .iter()
            .any(|m| m.admin == *key || m.node == *key)
    }

    /// The party `id`, revoked or not.
    pub fn party(&self, id: PartyId) -> Option<&Party> {
        self.parties.get(&id)
    }

    /// Every party, in id order.
    pub fn parties(&self) -> impl Iterator<Item = &Party> {
        self.parties.values()
    }

    /// The party registered under `name` (compared case-insensitively).
    pub fn by_name(&self, name: &str) -> Option<&Party> {
        self.names
            .get(&name_key(name))
            .and_then(|id| self.parties.get(id))
    }

    /// The party whose current or retired key this is.
    pub fn by_key(&self, key: &PartyKey) -> Option<&Party> {
        self.keys.get(key).and_then(|id| self.parties.get(id))
    }

    /// The active party that holds an identifier (`scheme` compared without case).
    pub fn by_identifier(&self, scheme: &str, value: &str) -> Option<&Party> {
        self.identifiers
            .get(&(scheme.to_ascii_uppercase(), value.to_owned()))
            .and_then(|id| self.parties.get(id))
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

    /// The distinct current member admins among `signatures`, in signing order. Signatures by anyone
    /// else (parties, removed members, strangers) and repeats do not count.
    pub fn admins_among(&self, signatures: &[Signature]) -> Vec<PartyKey> {
        let mut admins: Vec<PartyKey> = Vec::new();
        for s in signatures {
            if self.member_by_admin(&s.signer).is_some() && !admins.contains(&s.signer) {
                admins.push(s.signer);
            }
        }
        admins
    }

    /// How many of the signatures count towards governance (distinct current member admins), and how
    /// many must: a governance change passes when the first reaches the second.
    pub fn quorum(&self, signatures: &[Signature]) -> (usize, usize) {
        (
            self.admins_among(signatures).len(),
            usize::from(self.state.threshold),
        )
    }

    /// Checks a registry action against its signatures (already verified) and, only if it passes,
    /// applies it; returns the party it changed, if any. `tx_id` becomes the new head; `height` is the
    /// block it is ordered into (0 when the replay knows no heights). Every rule is checked before
    /// anything changes, so a refused action leaves the registry as it was, without the copy of a
    /// registry of many parties that each action would otherwise cost.
    ///
    /// Long by nature: the registry's state machine is this one match, an arm per governance action,
    /// each checking its rules before the one place it changes the state.
    pub(crate) fn apply(
        &mut self,
        action: &Action,
        signatures: &[Signature],
        tx_id: TxId,
        height: u64,
    ) -> Result<Option<PartyId>> {
        let admins = if action.is_governance() {
            let (got, need) = self.quorum(signatures);
            if got < need {
                return Err(Error::GovernanceQuorum { got, need });
            }
            self.admins_among(signatures)
        } else {
            Vec::new()
        };
        let changed = match action {
            Action::RegisterParty { key, profile } => {
                let id = PartyId::from(*key);
                if self.parties.contains_key(&id) {
                    return Err(Error::PartyExists { party: id });
                }
                self.check_new_key(key)?;
                if self.names.contains_key(&name_key(&profile.name)) {
                    return Err(Error::NameTaken {
                        name: profile.name.clone(),
                    });
                }
                self.check_identifiers(profile, None)?;
                self.insert(Party {
                    id,
                    profile: profile.clone(),
                    key: *key,
                    retired_keys: Vec::new(),
                    revoked: false,
                    recoveries: Vec::new(),
                });
                Some(id)
            }
            Action::UpdateParty { party, profile } => {
                let current = self.active_party(*party)?.clone();
                if let Some(holder) = self.names.get(&name_key(&profile.name)) {
                    if holder != party {
                        return Err(Error::NameTaken {
                            name: profile.name.clone(),
                        });
                    }
                }
                self.check_identifiers(profile, Some(*party))?;
                let mut updated = current.clone();
                updated.profile = profile.clone();
                self.names.remove(&name_key(current.name()));
                for i in &current.profile.identifiers {
                    self.identifiers.remove(&i.key());
                }
                self.insert(updated);
                Some(*party)
            }
            Action::RotateKey { party, new_key } => {
                let current = self.active_party(*party)?;
                let signed_by = |key: &PartyKey| signatures.iter().any(|s| s.signer == *key);
                if !signed_by(&current.key) {
                    return Err(Error::MissingSignature { who: "party" });
                }
                if !signed_by(new_key) {
                    return Err(Error::MissingSignature { who: "new key" });
                }
                if let Some(extra) = signatures
                    .iter()
                    .find(|s| s.signer != current.key && s.signer != *new_key)
                {
                    return Err(match self.keys.get(&extra.signer) {
                        Some(p) => Error::UnexpectedSigner { party: *p },
                        None => Error::UnknownKey,
                    });
                }
                self.check_new_key(new_key)?;
                self.rekey(*party, *new_key, None);
                Some(*party)
            }
            Action::RecoverKey { party, new_key } => {
                self.active_party(*party)?;
                self.check_new_key(new_key)?;
                let recovery = Recovery {
                    tx: tx_id,
                    new_key: *new_key,
                    admins,
                };
                self.rekey(*party, *new_key, Some(recovery));
                Some(*party)
            }
            Action::RevokeParty { party } => {
                self.active_party(*party)?;
                if let Some(p) = self.parties.get_mut(party) {
                    p.revoked = true;
                    for i in &p.profile.identifiers {
                        self.identifiers.remove(&i.key());
                    }
                }
                Some(*party)
            }
            Action::AddMember { member } => {
                for key in [member.admin, member.node] {
                    if let Some(owner) = self.keys.get(&key) {
                        return Err(Error::KeyInUse { party: *owner });
                    }
                }
                let mut members = self.state.members.clone();
                members.push(member.clone());
                check_members(&members, self.state.threshold)?;
                self.state.members = members;
                None
            }
            Action::RemoveMember { admin } => {
                let mut members = self.state.members.clone();
                let before = members.len();
                members.retain(|m| m.admin != *admin);
                if members.len() == before {
                    return Err(Error::UnknownMember);
                }
                check_members(&members, self.state.threshold)?;
                self.state.members = members;
                None
            }
            Action::SetThreshold { threshold } => {
                check_members(&self.state.members, *threshold)?;
                self.state.threshold = *threshold;
                None
            }
            Action::ScheduleFormat {
                format,
                height: from,
            } => {
                self.formats = self.formats.schedule(*format, *from, height)?;
                None
            }
            other => {
                return Err(Error::MalformedEncoding {
                    reason: format!("{} is not a registry action", other.code()),
                })
            }
        };
        self.state.head = tx_id;
        // Every registry change changes the commitment: a party's leaf, or the consortium's.
        match changed.and_then(|id| self.parties.get(&id)) {
            Some(party) => {
                let party = party.clone();
                self.commitment.set(&party);
            }
            None => self.commitment.changed(),
        }
        Ok(changed)
    }

    /// A key a party is to sign with: used by nobody yet, party or member.
    fn check_new_key(&self, key: &PartyKey) -> Result<()> {
        if let Some(owner) = self.keys.get(key) {
            return Err(Error::KeyInUse { party: *owner });
        }
        if self.is_member_key(key) {
            return Err(Error::MemberKeyInUse);
        }
        Ok(())
    }

    /// Each identifier of `profile` is held by no active party but `owner`.
    fn check_identifiers(&self, profile: &PartyProfile, owner: Option<PartyId>) -> Result<()> {
        let mut seen = Vec::new();
        for i in &profile.identifiers {
            let key = i.key();
            let taken = self
                .identifiers
                .get(&key)
                .is_some_and(|p| Some(*p) != owner);
            if taken || seen.contains(&key) {
                return Err(Error::IdentifierTaken {
                    identifier: i.to_string(),
                });
            }
            seen.push(key);
        }
        Ok(())
    }

    fn rekey(&mut self, party: PartyId, new_key: PartyKey, recovery: Option<Recovery>) {
        if let Some(p) = self.parties.get_mut(&party) {
            let old = std::mem::replace(&mut p.key, new_key);
            p.retired_keys.push(old);
            p.recoveries.extend(recovery);
        }
        self.keys.insert(new_key, party);
    }
}
