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

/// The first record of a chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
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
        let genesis = Genesis {
            version: FORMAT_VERSION,
            chain_name: chain_name.to_owned(),
            members,
            threshold,
            platform: platform.to_owned(),
            time_ms,
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
        check_members(&self.members, self.threshold)
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
