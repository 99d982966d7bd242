//! The compatibility promise as code: which formats of each encoded object this release reads, and the
//! named refusal of any other.
//!
//! From chain format 4 on, every later release reads everything an earlier release wrote. A format this
//! release cannot read is never called malformed, corrupt or INVALID: it is refused as
//! [`Error::FormatTooOld`] (written before the promise began, and read by the releases named here) or
//! [`Error::FormatTooNew`] (written by a later release), so a bank does not mistake its old bundle for a
//! forgery, nor an operator a newer store for a broken disk. Each object names its own format (the
//! genesis its chain format in its first two bytes; files a `format` string such as `ebl-bundle/2`), and
//! is checked here before the rest of it is decoded: an old layout may not decode as today's at all.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The chain format this release writes: a genesis made by this release names it. See
/// [`crate::transaction::FORMAT_VERSION`] for what each format added.
pub use crate::transaction::FORMAT_VERSION;

/// The oldest chain format this release reads: the promise began with format 4. Never raised.
pub const FORMAT_OLDEST: u16 = 4;

/// The last release that read chain formats older than [`FORMAT_OLDEST`] (format 3: commit f0cff34,
/// the release before format 4 was introduced). Named in refusals, so an operator knows which binary
/// still opens such a store.
pub const FORMAT_3_LAST_RELEASE: &str = "f0cff34";

/// The chain format from which member nodes sign a block header bound to the registry head before the
/// block (see [`crate::block::HeaderBinding`]).
pub const FORMAT_HEADERS_BOUND: u16 = 5;

/// The chain format from which a block is final at the finality quorum of member nodes rather than at
/// the governance threshold (see [`crate::certificate::finality_quorum`]).
pub const FORMAT_FINALITY_QUORUM: u16 = 6;

/// The chain format from which a bill's status statement is vouched for by the finality quorum of
/// member nodes, each signature bound to the registry head (see [`crate::statement::StatementBinding`]).
pub const FORMAT_STATEMENTS_CERTIFIED: u16 = 7;

/// The chain format from which the registry is committed to one root (see [`crate::commitment`]) and a
/// statement's signatures cover it, so a bundle carries only the registry entries its bill needs, each
/// with its proof (`ebl-bundle/4`).
pub const FORMAT_REGISTRY_COMMITTED: u16 = 8;

/// A chain format taking effect from a block height, as governance scheduled it (`SCHEDULE_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    /// The format.
    pub format: u16,
    /// The first block written in it.
    pub height: u64,
}

/// Which chain format each height of a chain is written in: its genesis's, then each format governance
/// scheduled, from its height on. Blocks below an activation keep the rules and bytes they were
/// written with; a replay crosses the boundary by asking [`FormatSchedule::at`] for each block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormatSchedule {
    genesis: u16,
    activations: Vec<Activation>,
}

impl FormatSchedule {
    /// The schedule of a chain that has changed no format yet.
    pub fn new(genesis: u16) -> FormatSchedule {
        FormatSchedule {
            genesis,
            activations: Vec::new(),
        }
    }

    /// A schedule from its stored activations (in the order they were scheduled).
    pub fn from_parts(genesis: u16, activations: Vec<Activation>) -> FormatSchedule {
        FormatSchedule {
            genesis,
            activations,
        }
    }

    /// The format of the block at `height`.
    pub fn at(&self, height: u64) -> u16 {
        self.activations
            .iter()
            .rev()
            .find(|a| a.height <= height)
            .map_or(self.genesis, |a| a.format)
    }

    /// The newest format scheduled (in effect or not yet).
    pub fn latest(&self) -> u16 {
        self.activations.last().map_or(self.genesis, |a| a.format)
    }

    /// Every format change scheduled, oldest first.
    pub fn activations(&self) -> &[Activation] {
        &self.activations
    }

    /// The first scheduled format this release does not know, if any: a node stops before its height.
    pub fn first_unknown(&self) -> Option<Activation> {
        self.first_beyond(FORMAT_VERSION)
    }

    /// The first scheduled format newer than `newest`, if any.
    pub fn first_beyond(&self, newest: u16) -> Option<Activation> {
        self.activations.iter().copied().find(|a| a.format > newest)
    }

    /// The schedule with `format` taking effect at `height`, ordered in the block at `current` (0 when
    /// the replay knows no heights): the next format only, at a height above the block that schedules
    /// it and above every earlier activation.
    pub fn schedule(&self, format: u16, height: u64, current: u64) -> Result<FormatSchedule> {
        let next = self.latest().saturating_add(1);
        if format != next {
            return Err(Error::FormatNotNext { format, next });
        }
        let after = self
            .activations
            .last()
            .map_or(current, |a| a.height.max(current));
        if height <= after {
            return Err(Error::FormatHeightPast { height, after });
        }
        let mut scheduled = self.clone();
        scheduled.activations.push(Activation { format, height });
        Ok(scheduled)
    }
}

/// A format to be scheduled, checked against this release: one it knows, so that its own nodes do not
/// stop at the height. Asked where a `SCHEDULE_FORMAT` enters (the node's submission, the wallet), never
/// in replay, where every release must agree.
pub fn check_schedulable(format: u16) -> Result<()> {
    check_schedulable_by(format, FORMAT_VERSION)
}

/// [`check_schedulable`] for a node that knows formats up to `newest`.
pub fn check_schedulable_by(format: u16, newest: u16) -> Result<()> {
    if format > newest {
        return Err(Error::FormatUnknown { format, newest });
    }
    Ok(())
}

/// The kinds of encoded object a release writes and a later one must read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoded {
    /// A chain (its genesis, and so its blocks and transactions).
    Chain,
    /// A node's data directory.
    Store,
    /// A bank's proof bundle (`ebl-bundle/N`).
    Bundle,
    /// A holder's pledge offer (`ebl-pledge-offer/N`).
    PledgeOffer,
    /// A governance proposal handed round the admins (`ebl-proposal/N`).
    Proposal,
    /// A signed transaction file (`ebl-tx/N`).
    TransactionFile,
    /// A wallet's encrypted key file (`ebl-key/N`).
    Keystore,
    /// A wallet's pinned chains (`chains.json`, `ebl-pins/N`).
    Pins,
    /// A backup of a node's ledger (`ebl-backup/N`).
    Backup,
    /// An auditor's grant for its node to follow (`ebl-follow-grant/N`).
    FollowGrant,
}

impl Encoded {
    /// The object's name, for people.
    pub fn name(self) -> &'static str {
        match self {
            Encoded::Chain => "chain",
            Encoded::Store => "store",
            Encoded::Bundle => "proof bundle",
            Encoded::PledgeOffer => "pledge offer",
            Encoded::Proposal => "governance proposal",
            Encoded::TransactionFile => "signed transaction file",
            Encoded::Keystore => "key file",
            Encoded::Pins => "pinned chains file",
            Encoded::Backup => "backup",
            Encoded::FollowGrant => "follow grant",
        }
    }
}

impl fmt::Display for Encoded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A file format's versions as this release knows them: files name themselves `PREFIX/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileFormat {
    /// What the file is.
    pub object: Encoded,
    /// The name before the slash (`ebl-bundle`).
    pub prefix: &'static str,
    /// The oldest version this release reads (older ones were written before the promise began).
    pub oldest: u16,
    /// The version this release writes, and the newest it reads.
    pub newest: u16,
    /// The last release that read versions older than `oldest`, if any were ever written.
    pub older_read_by: Option<&'static str>,
}

impl FileFormat {
    /// The name this release writes (`ebl-bundle/2`).
    pub fn current(&self) -> String {
        format!("{}/{}", self.prefix, self.newest)
    }

    /// The version a file names, checked: one this release reads, or the named refusal. A name of
    /// another kind of file altogether is malformed, not a format of this one.
    pub fn check(&self, name: &str) -> Result<u16> {
        let version = name
            .strip_prefix(self.prefix)
            .and_then(|rest| rest.strip_prefix('/'))
            .and_then(|v| v.parse::<u16>().ok())
            // Below the first version there is nothing any release wrote: not an old file, a wrong one.
            .filter(|v| *v >= self.oldest || self.older_read_by.is_some())
            .ok_or_else(|| Error::MalformedEncoding {
                reason: format!(
                    "format {name:?} is not a {}: expected {:?}",
                    self.object,
                    self.current()
                ),
            })?;
        check_version(
            self.object,
            version,
            self.oldest,
            self.newest,
            self.older_read_by,
        )?;
        Ok(version)
    }
}

/// Proof bundles. Version 1 (one node's signature per block, before finality certificates) was last
/// written and read by release 511f6a7, before chain format 4.
pub const BUNDLE: FileFormat = FileFormat {
    object: Encoded::Bundle,
    prefix: "ebl-bundle",
    oldest: 2,
    newest: 4,
    older_read_by: Some("511f6a7"),
};

/// An auditor's grants for its node to follow ([`crate::follow`]).
pub const FOLLOW_GRANT: FileFormat = FileFormat {
    object: Encoded::FollowGrant,
    prefix: "ebl-follow-grant",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// Pledge offers.
pub const PLEDGE_OFFER: FileFormat = FileFormat {
    object: Encoded::PledgeOffer,
    prefix: "ebl-pledge-offer",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// Governance proposals.
pub const PROPOSAL: FileFormat = FileFormat {
    object: Encoded::Proposal,
    prefix: "ebl-proposal",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// Signed transaction files.
pub const TRANSACTION_FILE: FileFormat = FileFormat {
    object: Encoded::TransactionFile,
    prefix: "ebl-tx",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// A wallet's pinned chains (`chains.json`); files of release b0079ae and before carry no name and are
/// read as version 1.
pub const PINS: FileFormat = FileFormat {
    object: Encoded::Pins,
    prefix: "ebl-pins",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// Wallet key files.
pub const KEYSTORE: FileFormat = FileFormat {
    object: Encoded::Keystore,
    prefix: "ebl-key",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// Backups of a node's ledger.
pub const BACKUP: FileFormat = FileFormat {
    object: Encoded::Backup,
    prefix: "ebl-backup",
    oldest: 1,
    newest: 1,
    older_read_by: None,
};

/// A chain format, checked: one this release reads, or the named refusal.
pub fn check_chain_format(object: Encoded, version: u16) -> Result<()> {
    check_version(
        object,
        version,
        FORMAT_OLDEST,
        FORMAT_VERSION,
        Some(FORMAT_3_LAST_RELEASE),
    )
}

fn check_version(
    object: Encoded,
    version: u16,
    oldest: u16,
    newest: u16,
    older_read_by: Option<&'static str>,
) -> Result<()> {
    if version < oldest {
        return Err(Error::FormatTooOld {
            object,
            format: version,
            oldest,
            read_by: older_read_by.unwrap_or("an earlier"),
        });
    }
    if version > newest {
        return Err(Error::FormatTooNew {
            object,
            format: version,
            newest,
        });
    }
    Ok(())
}

/// The chain format a genesis's canonical bytes name, read from its first two bytes (the codec writes
/// integers fixed-width little-endian, and `version` is the genesis's first field in every format), so
/// that a genesis of any format is named before its layout is decoded.
pub fn genesis_format(bytes: &[u8]) -> Option<u16> {
    match bytes {
        [lo, hi, ..] => Some(u16::from_le_bytes([*lo, *hi])),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_formats_at_both_edges() {
        assert_eq!(check_chain_format(Encoded::Chain, FORMAT_OLDEST), Ok(()));
        assert_eq!(check_chain_format(Encoded::Chain, FORMAT_VERSION), Ok(()));
        let old = check_chain_format(Encoded::Store, FORMAT_OLDEST - 1).expect_err("too old");
        assert_eq!(old.code(), "format_too_old");
        assert!(old.to_string().contains("f0cff34"), "{old}");
        let new = check_chain_format(Encoded::Bundle, FORMAT_VERSION + 1).expect_err("too new");
        assert_eq!(new.code(), "format_too_new");
        assert!(new.to_string().contains("later release"), "{new}");
    }

    #[test]
    fn file_formats_name_their_version() {
        assert_eq!(BUNDLE.check("ebl-bundle/2"), Ok(2));
        assert_eq!(BUNDLE.check("ebl-bundle/3"), Ok(3));
        assert_eq!(BUNDLE.check("ebl-bundle/4"), Ok(4));
        assert_eq!(
            BUNDLE.check("ebl-bundle/1").map_err(|e| e.code()),
            Err("format_too_old")
        );
        assert_eq!(
            BUNDLE.check("ebl-bundle/5").map_err(|e| e.code()),
            Err("format_too_new")
        );
        for other in [
            "ebl-pledge-offer/1",
            "ebl-bundle",
            "ebl-bundle/x",
            "ebl-bundle/-1",
            "",
        ] {
            assert_eq!(
                BUNDLE.check(other).map_err(|e| e.code()),
                Err("malformed_encoding"),
                "{other}"
            );
        }
        assert_eq!(PLEDGE_OFFER.current(), "ebl-pledge-offer/1");
        // No release wrote a version below a format's first: such a name is malformed, not old.
        assert_eq!(
            PLEDGE_OFFER
                .check("ebl-pledge-offer/0")
                .map_err(|e| e.code()),
            Err("malformed_encoding")
        );
    }

    #[test]
    fn a_schedule_gives_each_height_its_format_and_takes_only_the_next_format_ahead() {
        let schedule = FormatSchedule::new(4);
        assert_eq!((schedule.at(1), schedule.latest()), (4, 4));
        assert_eq!(
            schedule.schedule(6, 10, 3).map_err(|e| e.code()),
            Err("format_not_next")
        );
        assert_eq!(
            schedule.schedule(4, 10, 3).map_err(|e| e.code()),
            Err("format_not_next")
        );
        // The boundary: the block after the one that schedules it is the earliest.
        assert_eq!(
            schedule.schedule(5, 3, 3).map_err(|e| e.code()),
            Err("format_height_past")
        );
        let five = schedule.schedule(5, 4, 3).expect("next block");
        assert_eq!((five.at(3), five.at(4), five.at(100)), (4, 5, 5));
        assert_eq!(five.latest(), 5);
        // A later change must come after the earlier one's height.
        assert_eq!(
            five.schedule(6, 4, 3).map_err(|e| e.code()),
            Err("format_height_past")
        );
        let six = five.schedule(6, 9, 3).expect("after five");
        assert_eq!((six.at(8), six.at(9)), (5, 6));
        assert_eq!(
            six.first_unknown(),
            (FORMAT_VERSION < 6).then_some(Activation {
                format: 6,
                height: 9
            })
        );
        assert_eq!(check_schedulable(FORMAT_VERSION), Ok(()));
        assert_eq!(
            check_schedulable(FORMAT_VERSION + 1).map_err(|e| e.code()),
            Err("format_unknown")
        );
    }

    #[test]
    fn a_genesis_names_its_format_in_its_first_two_bytes() {
        assert_eq!(genesis_format(&[4, 0, 9, 9]), Some(4));
        assert_eq!(genesis_format(&[3, 1]), Some(259));
        assert_eq!(genesis_format(&[4]), None);
    }
}
