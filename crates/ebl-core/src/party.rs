//! Parties of the ledger: their stable ids, roles, identifiers and registered keys.

use std::fmt;
use std::str::FromStr;

use serde::de::{self, SeqAccess, Visitor};
use serde::ser::SerializeSeq;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::bytes;
use crate::error::{Error, Result};
use crate::keys::PartyKey;
use crate::limits::{IDENTIFIER_BYTES_MAX, PARTY_IDENTIFIERS_MAX, PARTY_NAME_BYTES_MAX};
use crate::registry::Recovery;

/// A party's stable id: the public key it was first registered with. Rotating the key later does not change
/// it, so a bill's history names the same party before and after a rotation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PartyId(pub [u8; 32]);

impl PartyId {
    /// Lower-case hex, 64 characters.
    pub fn to_hex(&self) -> String {
        bytes::to_hex(&self.0)
    }
    /// The first 12 hex characters, for tables.
    pub fn short(&self) -> String {
        bytes::to_hex(&self.0[..4])
    }
}

impl From<PartyKey> for PartyId {
    fn from(key: PartyKey) -> PartyId {
        PartyId(*key.as_bytes())
    }
}

impl fmt::Display for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for PartyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PartyId({})", self.short())
    }
}

impl FromStr for PartyId {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        bytes::from_hex::<32>(s)
            .map(PartyId)
            .ok_or(Error::MalformedHex {
                what: "party id",
                expected_bytes: 32,
            })
    }
}

impl Serialize for PartyId {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        bytes::serialize_fixed(&self.0, s)
    }
}

impl<'de> Deserialize<'de> for PartyId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        bytes::deserialize_fixed::<32, D>(d).map(PartyId)
    }
}

/// What a party may do on the ledger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Issues bills and answers surrenders.
    Carrier,
    /// Holds, endorses, transfers, pledges and surrenders bills.
    Trader,
    /// Takes bills as collateral, releases and enforces pledges.
    Bank,
    /// Reads any bill's history to check it.
    Auditor,
}

impl Role {
    /// Every role, in the order their bits are numbered.
    pub const ALL: [Role; 4] = [Role::Carrier, Role::Trader, Role::Bank, Role::Auditor];

    fn bit(self) -> u8 {
        match self {
            Role::Carrier => 1,
            Role::Trader => 2,
            Role::Bank => 4,
            // 8 was the operator's role in format 1: governance replaced it, and the bit stays unused.
            Role::Auditor => 16,
        }
    }

    /// The role's name as the API and CLI write it.
    pub fn name(self) -> &'static str {
        match self {
            Role::Carrier => "carrier",
            Role::Trader => "trader",
            Role::Bank => "bank",
            Role::Auditor => "auditor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Role {
    type Err = Error;
    fn from_str(s: &str) -> Result<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.name() == s)
            .ok_or_else(|| Error::UnknownRole { role: s.to_owned() })
    }
}

/// A non-empty set of roles; one byte in the codec, a list of names in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Roles(u8);

impl Roles {
    const KNOWN_BITS: u8 = 0b1_0111;

    /// A set of at least one role.
    pub fn new(roles: &[Role]) -> Result<Roles> {
        let bits = roles.iter().fold(0u8, |acc, r| acc | r.bit());
        Roles::from_bits(bits)
    }

    /// A set of one role.
    pub fn single(role: Role) -> Roles {
        Roles(role.bit())
    }

    fn from_bits(bits: u8) -> Result<Roles> {
        if bits & !Roles::KNOWN_BITS != 0 {
            return Err(Error::UnknownRole {
                role: format!("bits {bits:#04x}"),
            });
        }
        if bits == 0 {
            return Err(Error::NoRoles);
        }
        Ok(Roles(bits))
    }

    /// Whether the set holds `role`.
    pub fn has(self, role: Role) -> bool {
        self.0 & role.bit() != 0
    }

    /// The roles in the set, in `Role::ALL` order.
    pub fn iter(self) -> impl Iterator<Item = Role> {
        Role::ALL.into_iter().filter(move |r| self.has(*r))
    }
}

impl fmt::Debug for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl fmt::Display for Roles {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Role::name).collect();
        f.write_str(&names.join(","))
    }
}

impl Serialize for Roles {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let mut seq = s.serialize_seq(None)?;
            for role in self.iter() {
                seq.serialize_element(role.name())?;
            }
            seq.end()
        } else {
            s.serialize_u8(self.0)
        }
    }
}

struct RoleNames;

impl<'de> Visitor<'de> for RoleNames {
    type Value = Roles;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of role names")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Roles, A::Error> {
        let mut roles = Vec::new();
        while let Some(name) = seq.next_element::<String>()? {
            roles.push(name.parse::<Role>().map_err(de::Error::custom)?);
        }
        Roles::new(&roles).map_err(de::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Roles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        if d.is_human_readable() {
            d.deserialize_seq(RoleNames)
        } else {
            let bits = u8::deserialize(d)?;
            Roles::from_bits(bits).map_err(de::Error::custom)
        }
    }
}

/// An outside identifier of a party: `LEI`, a DCSA party code, or a carrier code under `SMDG` or `NMFTA`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    /// The scheme or code list (`LEI`, `SMDG`, `DID`).
    pub scheme: String,
    /// The party's code in it.
    pub value: String,
}

impl Identifier {
    /// An identifier from its scheme and value.
    pub fn new(scheme: &str, value: &str) -> Identifier {
        Identifier {
            scheme: scheme.to_owned(),
            value: value.to_owned(),
        }
    }

    /// Parses `SCHEME:VALUE`, as the CLI takes it.
    pub fn parse(text: &str) -> Result<Identifier> {
        let (scheme, value) = text.split_once(':').ok_or(Error::EmptyField {
            field: "identifier scheme",
        })?;
        let id = Identifier::new(scheme, value);
        id.check()?;
        Ok(id)
    }

    pub(crate) fn check(&self) -> Result<()> {
        check_text("identifier scheme", &self.scheme, IDENTIFIER_BYTES_MAX)?;
        check_text("identifier value", &self.value, IDENTIFIER_BYTES_MAX)
    }
}

impl Identifier {
    /// The form identifiers are compared in: the scheme without case, the value exactly.
    pub fn key(&self) -> (String, String) {
        (self.scheme.to_ascii_uppercase(), self.value.clone())
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.scheme, self.value)
    }
}

/// Refuses empty text, text over `max` bytes, and control characters (they hide in logs and terminals).
pub(crate) fn check_text(field: &'static str, text: &str, max: usize) -> Result<()> {
    if text.trim().is_empty() {
        return Err(Error::EmptyField { field });
    }
    if text.len() > max {
        return Err(Error::FieldTooLong { field, max });
    }
    if text.chars().any(char::is_control) {
        return Err(Error::WrongFieldType {
            field,
            expected: "text without control characters",
        });
    }
    Ok(())
}

/// What governance registers about a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartyProfile {
    /// The registered name, unique (case-insensitively) in the registry.
    pub name: String,
    /// What the party may do.
    pub roles: Roles,
    /// Codes that identify it elsewhere (an LEI, a carrier code).
    pub identifiers: Vec<Identifier>,
}

impl PartyProfile {
    pub(crate) fn check(&self) -> Result<()> {
        check_text("party name", &self.name, PARTY_NAME_BYTES_MAX)?;
        if self.identifiers.len() > PARTY_IDENTIFIERS_MAX {
            return Err(Error::TooManyIdentifiers {
                max: PARTY_IDENTIFIERS_MAX,
            });
        }
        self.identifiers.iter().try_for_each(Identifier::check)
    }
}

/// A registered party as the registry knows it now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Party {
    /// The party's id: its first key's.
    pub id: PartyId,
    /// Its name, roles and identifiers.
    pub profile: PartyProfile,
    /// The key that signs for the party now.
    pub key: PartyKey,
    /// Keys rotated out, oldest first: kept so that history stays attributable.
    pub retired_keys: Vec<PartyKey>,
    /// Whether governance revoked it: a revoked party signs nothing more.
    pub revoked: bool,
    /// Keys governance gave the party after it lost one, oldest first.
    pub recoveries: Vec<Recovery>,
}

impl Party {
    /// Whether the party has `role`.
    pub fn has_role(&self, role: Role) -> bool {
        self.profile.roles.has(role)
    }

    /// The registered name.
    pub fn name(&self) -> &str {
        &self.profile.name
    }

    /// The recovery that `key` (one of this party's keys) descends from: a key governance gave it, or
    /// one the party rotated to after such a key. `None` for keys of its own line.
    pub fn recovery_behind(&self, key: &PartyKey) -> Option<&Recovery> {
        let line: Vec<&PartyKey> = self.retired_keys.iter().chain([&self.key]).collect();
        let at = line.iter().position(|k| *k == key)?;
        self.recoveries.iter().rev().find(|r| {
            line.iter()
                .position(|k| **k == r.new_key)
                .is_some_and(|p| p <= at)
        })
    }
}
