//! `ebl key`: make, list, show and import the wallet's keys.

use serde_json::{json, Value};

use super::{out, KeyCommand, Out};
use crate::error::{CliError, Refusal, Result};
use crate::wallet::{read_file, read_stdin, Wallet};

/// Largest key file read by `key import`: a backup is about 600 bytes (a seed, 64 hex digits).
pub(super) const KEY_IMPORT_FILE_BYTES_MAX: usize = 4096;

pub(super) fn key(wallet: &Wallet, cmd: KeyCommand, force: bool) -> Result<Out> {
    match cmd {
        KeyCommand::New { name } => {
            let public = wallet.new_key(&name)?;
            Ok(out(json!({"name": name, "public_key": public}), format!("key {name} made\npublic key {public}\n(give the public key to the operator to be registered)")))
        }
        KeyCommand::Import { name, file } => {
            let text = if file.as_os_str() == "-" {
                read_stdin("key", KEY_IMPORT_FILE_BYTES_MAX)?
            } else {
                read_file(&file, "key", KEY_IMPORT_FILE_BYTES_MAX)?
            };
            if crate::keystore::is_backup(&text) {
                let public = wallet.import_backup(&name, &text)?;
                return Ok(out(
                    json!({"name": name, "public_key": public}),
                    format!("key {name} imported from its backup\npublic key {public}"),
                ));
            }
            let text = String::from_utf8_lossy(&text);
            let seed = ebl_core::bytes::from_hex::<32>(text.trim())
                .ok_or_else(|| CliError::from(Refusal::MalformedKey { file: file.clone() }))?;
            let public = wallet.import_key(&name, &ebl_core::SigningKey::from_bytes(&seed))?;
            Ok(out(
                json!({"name": name, "public_key": public}),
                format!("key {name} imported\npublic key {public}"),
            ))
        }
        KeyCommand::Export { name, out: path } => {
            let backup = wallet.export_key(&name)?;
            super::write_private_output(&path, &backup, force)?;
            Ok(out(
                json!({"name": name, "backup": path}),
                format!(
                    "key {name} backed up to {} (encrypted under its passphrase)\nrestore with `ebl key import NAME {}`",
                    path.display(),
                    path.display()
                ),
            ))
        }
        KeyCommand::List => {
            let names = wallet.keys.names()?;
            let keys: Vec<Value> = names
                .iter()
                .map(|n| Ok(json!({"name": n, "public_key": wallet.keys.public(n)?})))
                .collect::<Result<_>>()?;
            let human = keys
                .iter()
                .map(|k| {
                    format!(
                        "{:<20} {}",
                        k["name"].as_str().unwrap_or(""),
                        k["public_key"].as_str().unwrap_or("")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            Ok(out(
                json!({"keys": keys}),
                if human.is_empty() {
                    "no keys yet: make one with `ebl key new NAME`".into()
                } else {
                    human
                },
            ))
        }
        KeyCommand::Show { name } => {
            let public = wallet.keys.public(&name)?;
            Ok(out(
                json!({"name": name, "public_key": public}),
                public.to_hex(),
            ))
        }
    }
}
