//! The genesis of a consortium chain: its members (each with an admin key and a node key), the governance
//! threshold, and the PINT platform code. The chain id is the hash of its encoding, so it is what a bank
//! pins.

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::error::{Error, Result};
use crate::format::{check_chain_format, genesis_format, Encoded};
use crate::hash::Hash;
use crate::keys::PartyKey;
use crate::limits::{
    CHAIN_NAME_BYTES_MAX, GENESIS_BYTES_MAX, MEMBERS_MAX, PARTY_NAME_BYTES_MAX,
    PEER_ADDRESS_BYTES_MAX, PLATFORM_CODE_BYTES_MAX,
};
use crate::party::check_text;
use crate::transaction::{ChainId, FORMAT_VERSION};

/// An organisation that governs the chain and runs a node: its admin key co-signs governance, its node
/// key orders and signs blocks. Neither key is a party's: a member alone can act as nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The member organisation's name.
    pub name: String,
    /// The key its admins co-sign governance changes with.
    pub admin: PartyKey,
    /// The key its node signs blocks, imports and answers with.
    pub node: PartyKey,
    /// Where its node serves the other nodes (`host:port`).
    pub peer_address: String,
}

impl Member {
    /// Rules that need no ledger state: a name within its limit.
    pub fn check(&self) -> Result<()> {
        check_text("member name", &self.name, PARTY_NAME_BYTES_MAX)?;
        check_text("peer address", &self.peer_address, PEER_ADDRESS_BYTES_MAX)?;
        if self.admin == self.node {
            return Err(Error::MemberKeysShared);
        }
        Ok(())
    }
}

/// The first record of a chain. From chain format 7 it states how many lying member nodes the
/// consortium tolerates (`faults`), which its bytes carry after `time_ms`; before it they hold no such
/// field, and the number follows from the members ([`crate::certificate::faults_tolerated`]). Its
/// encoding is written by hand below for that one field: every other byte is as the derive wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Genesis {
    /// The transaction format (`FORMAT_VERSION`) the chain is written in.
    pub version: u16,
    /// The chain's name, for people.
    pub chain_name: String,
    /// The founding members.
    pub members: Vec<Member>,
    /// How many distinct member admins must co-sign a governance change (t of n).
    pub threshold: u16,
    /// This chain's DCSA PINT platform code (`eblPlatform`).
    pub platform: String,
    /// When the chain began (Unix milliseconds).
    pub time_ms: u64,
    /// From chain format 7: how many member nodes may lie (f), from which the finality quorum follows
    /// (⌊(n+f)/2⌋+1). Not part of a genesis of an earlier format, whatever it holds here.
    pub faults: Option<u16>,
}

/// The chain format from which the genesis states f (`Genesis::faults`).
pub const FORMAT_FAULTS_STATED: u16 = 7;

/// The field names, in the order they are encoded.
const GENESIS_FIELDS: &[&str] = &[
    "version",
    "chain_name",
    "members",
    "threshold",
    "platform",
    "time_ms",
    "faults",
];

impl Serialize for Genesis {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let stated = self.stated_faults();
        let mut out =
            serializer.serialize_struct("Genesis", if stated.is_some() { 7 } else { 6 })?;
        out.serialize_field("version", &self.version)?;
        out.serialize_field("chain_name", &self.chain_name)?;
        out.serialize_field("members", &self.members)?;
        out.serialize_field("threshold", &self.threshold)?;
        out.serialize_field("platform", &self.platform)?;
        out.serialize_field("time_ms", &self.time_ms)?;
        if let Some(faults) = stated {
            out.serialize_field("faults", &faults)?;
        }
        out.end()
    }
}

impl<'de> Deserialize<'de> for Genesis {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Genesis, D::Error> {
        deserializer.deserialize_struct("Genesis", GENESIS_FIELDS, GenesisVisitor)
    }
}

struct GenesisVisitor;

impl<'de> serde::de::Visitor<'de> for GenesisVisitor {
    type Value = Genesis;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a genesis")
    }

    /// The codec's bytes: the fields in order, `faults` only from format 7 (the version, read first,
    /// says whether it follows).
    fn visit_seq<A: serde::de::SeqAccess<'de>>(
        self,
        mut seq: A,
    ) -> std::result::Result<Genesis, A::Error> {
        use serde::de::Error as _;
        let missing = |field: &str| A::Error::custom(format!("the genesis lacks {field}"));
        let version: u16 = seq.next_element()?.ok_or_else(|| missing("version"))?;
        let chain_name = seq.next_element()?.ok_or_else(|| missing("chain_name"))?;
        let members = seq.next_element()?.ok_or_else(|| missing("members"))?;
        let threshold = seq.next_element()?.ok_or_else(|| missing("threshold"))?;
        let platform = seq.next_element()?.ok_or_else(|| missing("platform"))?;
        let time_ms = seq.next_element()?.ok_or_else(|| missing("time_ms"))?;
        let faults = if version >= FORMAT_FAULTS_STATED {
            Some(seq.next_element()?.ok_or_else(|| missing("faults"))?)
        } else {
            None
        };
        Ok(Genesis {
            version,
            chain_name,
            members,
            threshold,
            platform,
            time_ms,
            faults,
        })
    }

    /// JSON (bundles, `/v1/genesis`): `faults` from format 7 only.
    fn visit_map<A: serde::de::MapAccess<'de>>(
        self,
        mut map: A,
    ) -> std::result::Result<Genesis, A::Error> {
        use serde::de::Error as _;
        let mut version: Option<u16> = None;
        let mut chain_name = None;
        let mut members = None;
        let mut threshold = None;
        let mut platform = None;
        let mut time_ms = None;
        let mut faults: Option<u16> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "version" => version = Some(map.next_value()?),
                "chain_name" => chain_name = Some(map.next_value()?),
                "members" => members = Some(map.next_value()?),
                "threshold" => threshold = Some(map.next_value()?),
                "platform" => platform = Some(map.next_value()?),
                "time_ms" => time_ms = Some(map.next_value()?),
                "faults" => faults = Some(map.next_value()?),
                _ => {
                    let _: serde::de::IgnoredAny = map.next_value()?;
                }
            }
        }
        let missing = |field: &'static str| A::Error::missing_field(field);
        let version = version.ok_or_else(|| missing("version"))?;
        let faults = if version >= FORMAT_FAULTS_STATED {
            Some(faults.ok_or_else(|| missing("faults"))?)
        } else {
            None
        };
        Ok(Genesis {
            version,
            chain_name: chain_name.ok_or_else(|| missing("chain_name"))?,
            members: members.ok_or_else(|| missing("members"))?,
            threshold: threshold.ok_or_else(|| missing("threshold"))?,
            platform: platform.ok_or_else(|| missing("platform"))?,
            time_ms: time_ms.ok_or_else(|| missing("time_ms"))?,
            faults,
        })
    }
}

/// The default f of a consortium of `members`: one lying node from three members on, none below
/// (the trust model's default).
pub fn default_faults(members: usize) -> u16 {
    u16::from(members >= 3)
}

/// The default governance threshold for `n` members: a majority.
pub fn majority(n: usize) -> u16 {
    u16::try_from(n / 2 + 1).unwrap_or(u16::MAX)
}

impl Genesis {
    /// A consortium genesis; refused unless every member, the threshold and the platform code are valid.
    pub fn new(
        chain_name: &str,
        members: Vec<Member>,
        threshold: u16,
        platform: &str,
        time_ms: u64,
    ) -> Result<Genesis> {
        let faults = Some(default_faults(members.len()));
        let genesis = Genesis {
            version: FORMAT_VERSION,
            chain_name: chain_name.to_owned(),
            members,
            threshold,
            platform: platform.to_owned(),
            time_ms,
            faults,
        };
        genesis.check()?;
        Ok(genesis)
    }

    /// The one-member chain of development and of a single organisation: its admin is the operator
    /// (n = t = 1).
    pub fn single(
        chain_name: &str,
        admin: PartyKey,
        node: PartyKey,
        platform: &str,
        time_ms: u64,
    ) -> Result<Genesis> {
        let member = Member {
            name: "operator".to_owned(),
            admin,
            node,
            peer_address: "127.0.0.1:7879".to_owned(),
        };
        Genesis::new(chain_name, vec![member], 1, platform, time_ms)
    }

    /// Rules that need no ledger state: version, members, threshold, platform code.
    pub fn check(&self) -> Result<()> {
        // A chain of any format this release reads is checked by the rules of its own format; one it
        // does not read is named as such, never called malformed (see `format`).
        check_chain_format(Encoded::Chain, self.version)?;
        check_text("chain name", &self.chain_name, CHAIN_NAME_BYTES_MAX)?;
        check_platform_code(&self.platform)?;
        check_members(&self.members, self.threshold)?;
        if self.version >= FORMAT_FAULTS_STATED {
            // f of n: a quorum of ⌊(n+f)/2⌋+1 must be reachable, so f is below n.
            let faults = self.faults.unwrap_or(u16::MAX);
            if usize::from(faults) >= self.members.len().max(1) && faults > 0 {
                return Err(Error::InvalidFaults {
                    faults,
                    members: self.members.len(),
                });
            }
        }
        Ok(())
    }

    /// The f this genesis states (chain format 7 on); `None` before, where f follows from n.
    pub fn stated_faults(&self) -> Option<u16> {
        if self.version >= FORMAT_FAULTS_STATED {
            Some(
                self.faults
                    .unwrap_or_else(|| default_faults(self.members.len())),
            )
        } else {
            None
        }
    }

    /// The chain id: the SHA-256 of the genesis's canonical bytes.
    pub fn chain_id(&self) -> ChainId {
        Hash::of(&codec::encode(self))
    }

    /// The canonical bytes.
    pub fn encode(&self) -> Vec<u8> {
        codec::encode(self)
    }

    /// Decodes and checks canonical bytes.
    pub fn decode(bytes: &[u8]) -> Result<Genesis> {
        // The format first: an older or newer genesis may not decode as this layout at all.
        if let Some(version) = genesis_format(bytes) {
            check_chain_format(Encoded::Chain, version)?;
        }
        let genesis: Genesis = codec::decode(bytes, GENESIS_BYTES_MAX)?;
        genesis.check()?;
        Ok(genesis)
    }

    /// The member whose node key this is.
    pub fn member_by_node(&self, node: &PartyKey) -> Option<&Member> {
        self.members.iter().find(|m| m.node == *node)
    }

    /// The node key that orders a chain whose log is not replicated: the first member's. (Replication
    /// lets any member's node lead; until then one node orders, and it must be a member's.)
    pub fn first_node(&self) -> Option<PartyKey> {
        self.members.first().map(|m| m.node)
    }
}

/// A PINT platform code as DCSA's schema allows it: 1 to 4 bytes, no whitespace or control characters.
pub fn check_platform_code(code: &str) -> Result<()> {
    if code.is_empty()
        || code.len() > PLATFORM_CODE_BYTES_MAX
        || code.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::InvalidPlatformCode {
            code: code.to_owned(),
        });
    }
    Ok(())
}

/// Members are 1 to `MEMBERS_MAX`, with distinct names and keys (no key serving two members or two
/// purposes), and the threshold is between 1 and their number.
pub fn check_members(members: &[Member], threshold: u16) -> Result<()> {
    if members.is_empty() || members.len() > MEMBERS_MAX {
        return Err(Error::MemberCount {
            count: members.len(),
            max: MEMBERS_MAX,
        });
    }
    let mut keys = Vec::with_capacity(members.len() * 2);
    let mut names = Vec::with_capacity(members.len());
    for m in members {
        m.check()?;
        for key in [m.admin, m.node] {
            if keys.contains(&key) {
                return Err(Error::MemberKeysShared);
            }
            keys.push(key);
        }
        let name = m.name.trim().to_lowercase();
        if names.contains(&name) {
            return Err(Error::NameTaken {
                name: m.name.clone(),
            });
        }
        names.push(name);
    }
    if threshold == 0 || usize::from(threshold) > members.len() {
        return Err(Error::InvalidThreshold {
            threshold,
            members: members.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::SigningKey;

    use super::*;
    use crate::registry::Registry;

    fn consortium(n: u8) -> Genesis {
        let members = (1..=n)
            .map(|i| {
                let admin = SigningKey::from_bytes(&[i; 32]);
                let node = SigningKey::from_bytes(&[100 + i; 32]);
                Member {
                    name: format!("Member {i}"),
                    admin: PartyKey::of(&admin),
                    node: PartyKey::of(&node),
                    peer_address: format!("127.0.0.1:{}", 7000 + u16::from(i)),
                }
            })
            .collect();
        Genesis::new("faults", members, majority(usize::from(n)), "EBL", 1).expect("genesis")
    }

    /// The trust model's default: one lying node from three members on, none below; the quorum follows
    /// (3 of 3, 3 of 4, 4 of 5, 5 of 7).
    #[test]
    fn the_genesis_states_f_and_the_finality_quorum_follows() {
        for (n, f, q) in [
            (1, 0, 1),
            (2, 0, 2),
            (3, 1, 3),
            (4, 1, 3),
            (5, 1, 4),
            (7, 1, 5),
            (10, 1, 6),
        ] {
            let genesis = consortium(n);
            assert_eq!(genesis.stated_faults(), Some(f), "n = {n}");
            assert_eq!(Registry::new(&genesis).finality_quorum(), q, "n = {n}");
        }
        // Stated otherwise: five members tolerating two liars need four signatures.
        let two = Genesis {
            faults: Some(2),
            ..consortium(5)
        };
        assert_eq!(two.check(), Ok(()));
        assert_eq!(Registry::new(&two).finality_quorum(), 4);
        // Before format 7 nothing is stated and f follows from n as format 6 derived it (ten members:
        // three liars, seven signatures), whatever the field holds.
        let six = Genesis {
            version: 6,
            ..consortium(10)
        };
        assert_eq!(six.stated_faults(), None);
        assert_eq!(Registry::new(&six).finality_quorum(), 7);
    }

    #[test]
    fn an_f_no_quorum_can_outvote_is_refused() {
        for (n, f) in [(1u8, 1u16), (3, 3), (4, 9)] {
            let genesis = Genesis {
                faults: Some(f),
                ..consortium(n)
            };
            assert_eq!(
                genesis.check().map_err(|e| e.code()),
                Err("invalid_faults"),
                "n = {n}, f = {f}"
            );
        }
        let all_but_one = Genesis {
            faults: Some(2),
            ..consortium(3)
        };
        assert_eq!(all_but_one.check(), Ok(()));
    }

    /// Format 7's f travels in both encodings; a genesis of an earlier format has none in either, and
    /// reads back without one.
    #[test]
    fn f_round_trips_from_format_7_and_is_absent_before() {
        let seven = Genesis {
            faults: Some(2),
            ..consortium(5)
        };
        assert_eq!(Genesis::decode(&seven.encode()), Ok(seven.clone()));
        let json = serde_json::to_value(&seven).expect("json");
        assert_eq!(json["faults"], 2);
        assert_eq!(
            serde_json::from_value::<Genesis>(json).expect("read"),
            seven
        );
        let mut without = serde_json::to_value(&seven).expect("json");
        without.as_object_mut().expect("object").remove("faults");
        assert!(
            serde_json::from_value::<Genesis>(without).is_err(),
            "format 7 states f"
        );
        let six = Genesis {
            version: 6,
            faults: None,
            ..consortium(5)
        };
        assert_eq!(Genesis::decode(&six.encode()), Ok(six.clone()));
        let json = serde_json::to_value(&six).expect("json");
        assert!(json.get("faults").is_none(), "{json}");
        assert_eq!(serde_json::from_value::<Genesis>(json).expect("read"), six);
    }
}
