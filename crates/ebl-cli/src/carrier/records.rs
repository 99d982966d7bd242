//! The connector's memory, on disk: one file per issuance request (by transport document reference) or
//! surrender request (by its reference), made once (a second request for a reference finds it: the
//! spec's 409) and replaced whole as the request is answered and the answer delivered. Written to a temporary file, synced and linked or
//! renamed into place, the directory synced after: a crash leaves the old record or the new one.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::issuance::{Answer, IssuanceRequest};
use crate::error::{CliError, Result};

/// What a records directory keeps: each under a key, worked in an order.
pub trait Kept: Serialize + serde::de::DeserializeOwned {
    /// The reference it is kept under (one record per reference).
    fn key(&self) -> &str;
    /// When it came, in Unix milliseconds: records are worked oldest first.
    fn order(&self) -> u64;
}

impl Kept for Record {
    fn key(&self) -> &str {
        &self.request.reference
    }

    fn order(&self) -> u64 {
        self.received_ms
    }
}

/// One issuance request, and how far it has come.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The request as checked.
    pub request: IssuanceRequest,
    /// When it came, in Unix milliseconds (the order requests are worked in).
    pub received_ms: u64,
    /// Whether an issuance was submitted for it: after a crash, a bill found on the ledger with its
    /// reference is this request's, and is answered ISSU.
    pub submitted: bool,
    /// The platform's answer, once decided.
    pub answer: Option<Answer>,
    /// Whether the carrier's system acknowledged the answer.
    pub delivered: bool,
}

/// A directory of records of one kind.
#[derive(Debug, Clone)]
pub struct Records<T> {
    dir: PathBuf,
    kind: std::marker::PhantomData<T>,
}

impl<T: Kept> Records<T> {
    /// The records under `dir`, made if missing.
    pub fn open(dir: &Path) -> Result<Records<T>> {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::io(&format!("making {}", dir.display()), e))?;
        Ok(Records {
            dir: dir.to_owned(),
            kind: std::marker::PhantomData,
        })
    }

    /// The record of `reference`, if there is one.
    pub fn get(&self, reference: &str) -> Result<Option<T>> {
        let path = self.path(reference);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .map_err(|e| CliError::io(&format!("reading {}", path.display()), e)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CliError::io(&format!("reading {}", path.display()), e)),
        }
    }

    /// The file of `reference`: named by its hash, as references may hold any character.
    fn path(&self, reference: &str) -> PathBuf {
        self.dir.join(format!(
            "{}.json",
            ebl_core::Hash::of(reference.as_bytes()).to_hex()
        ))
    }

    /// Makes the record of a new request; `Ok(false)` when the reference has one already.
    pub fn create(&self, record: &T) -> Result<bool> {
        let temporary = self.write_temporary(record)?;
        let linked = std::fs::hard_link(&temporary, self.path(record.key()));
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => {
                self.sync_dir()?;
                Ok(true)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(CliError::io("recording a request", e)),
        }
    }

    /// Replaces the record of `record`'s reference.
    pub fn update(&self, record: &T) -> Result<()> {
        let temporary = self.write_temporary(record)?;
        std::fs::rename(&temporary, self.path(record.key()))
            .map_err(|e| CliError::io("recording a request", e))?;
        self.sync_dir()
    }

    /// Every record, oldest request first.
    pub fn all(&self) -> Result<Vec<T>> {
        let mut records = Vec::new();
        let entries = std::fs::read_dir(&self.dir)
            .map_err(|e| CliError::io(&format!("reading {}", self.dir.display()), e))?;
        for entry in entries {
            let path = entry
                .map_err(|e| CliError::io(&format!("reading {}", self.dir.display()), e))?
                .path();
            if path.extension().is_none_or(|x| x != "json") {
                continue;
            }
            let bytes = std::fs::read(&path)
                .map_err(|e| CliError::io(&format!("reading {}", path.display()), e))?;
            let record: T = serde_json::from_slice(&bytes)
                .map_err(|e| CliError::io(&format!("reading {}", path.display()), e))?;
            records.push(record);
        }
        records.sort_by_key(Kept::order);
        Ok(records)
    }

    fn write_temporary(&self, record: &T) -> Result<PathBuf> {
        let mut file = tempfile::NamedTempFile::new_in(&self.dir)
            .map_err(|e| CliError::io("recording a request", e))?;
        let bytes =
            serde_json::to_vec(record).map_err(|e| CliError::io("encoding the record", e))?;
        file.write_all(&bytes)
            .and_then(|()| file.as_file().sync_all())
            .map_err(|e| CliError::io("recording a request", e))?;
        let (_, path) = file
            .keep()
            .map_err(|e| CliError::io("recording a request", e))?;
        Ok(path)
    }

    fn sync_dir(&self) -> Result<()> {
        std::fs::File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| CliError::io("syncing the records directory", e))
    }
}
