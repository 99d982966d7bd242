//! An auditor's grant for its node to follow the consortium: the auditor (a party governance admitted
//! with the auditor role) signs that one node key, served at one peer address, follows this chain for
//! it. The member nodes replicate every block to such a node as a Raft learner; it votes on nothing,
//! orders nothing and its signatures count towards no certificate. The grant holds while its auditor
//! does: once governance revokes the auditor, or takes the role away, the members drop the node.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::format;
use crate::keys::{sign_in_context, verify_in_context, PartyKey, SignatureBytes};
use crate::limits::PEER_ADDRESS_BYTES_MAX;
use crate::party::{check_text, Role};
use crate::registry::Registry;
use crate::transaction::ChainId;
use crate::SigningKey;

/// Context of an auditor's signature over a grant.
pub const FOLLOW_GRANT_CONTEXT: &[u8] = b"ebl/follow-grant/v1\0";

/// What the auditor signs: the node key that follows, where it is served, and when it was granted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowGrantBody {
    /// The node's key: the one its peer requests are signed with.
    pub node: PartyKey,
    /// Where the leader reaches the node (HOST:PORT).
    pub peer_address: String,
    /// When the auditor signed it (ms since the epoch): which grant is newer, for the operator.
    pub at_ms: u64,
}

/// A grant as the auditor signed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FollowGrant {
    /// The chain the grant is for.
    pub chain: ChainId,
    /// The auditor's key.
    pub auditor: PartyKey,
    /// What it grants.
    pub body: FollowGrantBody,
    /// The auditor's signature over the body, in [`FOLLOW_GRANT_CONTEXT`] on `chain`.
    pub signature: SignatureBytes,
}

impl FollowGrant {
    /// The auditor's grant for `node` at `peer_address` on `chain`.
    pub fn sign(
        chain: ChainId,
        auditor: &SigningKey,
        node: PartyKey,
        peer_address: &str,
        at_ms: u64,
    ) -> Result<FollowGrant> {
        check_text("peer address", peer_address, PEER_ADDRESS_BYTES_MAX)?;
        let body = FollowGrantBody {
            node,
            peer_address: peer_address.to_owned(),
            at_ms,
        };
        let signature = sign_in_context(
            auditor,
            FOLLOW_GRANT_CONTEXT,
            chain.as_bytes(),
            &crate::codec::encode(&body),
        );
        Ok(FollowGrant {
            chain,
            auditor: PartyKey::of(auditor),
            body,
            signature,
        })
    }

    /// Holds on `registry` of `chain` now: the auditor's signature verifies, the auditor is an active
    /// party with the auditor role signing with its current key, and the node is no member's node (a
    /// member's node votes; it does not follow).
    pub fn check(&self, chain: &ChainId, registry: &Registry) -> Result<()> {
        if self.chain != *chain {
            return Err(Error::WrongChain {
                expected: *chain,
                got: self.chain,
            });
        }
        check_text(
            "peer address",
            &self.body.peer_address,
            PEER_ADDRESS_BYTES_MAX,
        )?;
        if !verify_in_context(
            &self.auditor,
            FOLLOW_GRANT_CONTEXT,
            self.chain.as_bytes(),
            &crate::codec::encode(&self.body),
            &self.signature,
        ) {
            return Err(Error::BadSignature {
                signer: self.auditor.to_hex(),
            });
        }
        let party = registry.signer(&self.auditor)?;
        if !registry.active_party(party)?.has_role(Role::Auditor) {
            return Err(Error::MissingRole {
                party,
                role: Role::Auditor,
            });
        }
        if registry.member_by_node(&self.body.node).is_some() {
            return Err(Error::FollowerIsMemberNode {
                node: self.body.node.to_hex(),
            });
        }
        Ok(())
    }
}

/// A grant as the auditor hands it to its node's operator: JSON, named by its format
/// ([`crate::format::FOLLOW_GRANT`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FollowGrantFile {
    format: String,
    grant: FollowGrant,
}

/// Only the format's name, read first: a file another release wrote may not parse as this layout.
#[derive(Deserialize)]
struct FormatName {
    format: String,
}

impl FollowGrant {
    /// The grant's file.
    pub fn to_file(&self) -> Vec<u8> {
        let file = FollowGrantFile {
            format: format::FOLLOW_GRANT.current(),
            grant: self.clone(),
        };
        let mut text = serde_json::to_vec_pretty(&file).unwrap_or_default();
        text.push(b'\n');
        text
    }

    /// A grant read from its file: refused unless it is one, of a format this release reads.
    pub fn from_file(text: &[u8]) -> Result<FollowGrant> {
        let malformed = |e: serde_json::Error| Error::MalformedJson {
            reason: e.to_string(),
        };
        let name: FormatName = serde_json::from_slice(text).map_err(malformed)?;
        format::FOLLOW_GRANT.check(&name.format)?;
        let file: FollowGrantFile = serde_json::from_slice(text).map_err(malformed)?;
        Ok(file.grant)
    }
}
