//! `ebl key`: make, list, show and import the wallet's keys.

use serde_json::{json, Value};

use super::{out, KeyCommand, Out};
use crate::error::{CliError, Refusal, Result};
use crate::lang::Lang;
use crate::output::Said;
use crate::wallet::{read_file, read_stdin, Wallet};

/// Largest key file read by `key import`: a backup is about 600 bytes (a seed, 64 hex digits).
pub(super) const KEY_IMPORT_FILE_BYTES_MAX: usize = 4096;

pub(super) fn key(wallet: &Wallet, cmd: KeyCommand, force: bool, lang: Lang) -> Result<Out> {
    match cmd {
        KeyCommand::New { name } => {
            let public = wallet.new_key(&name)?;
            // The key's first use differs by who makes it: a party is registered by the consortium's
            // admins (or a development ledger's operator); an admin's or a member's key goes into the
            // genesis or a governance proposal. The words say both, not "the operator" to everyone.
            let said = Said::new(
                format!("key {name} made\npublic key {public}\n(a party's key: give the public key to whoever registers parties on your ledger; an admin's: it goes into the genesis or a governance proposal)"),
                format!("密钥 {name} 已生成\n公钥 {public}\n（参与方密钥：请将公钥交给账本上负责登记参与方的人；管理员密钥：写入创世记录或治理提案）"),
            );
            Ok(out(
                json!({"name": name, "public_key": public}),
                said.get(lang),
            ))
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
                    Said::new(
                        format!("key {name} imported from its backup\npublic key {public}"),
                        format!("密钥 {name} 已从备份导入\n公钥 {public}"),
                    )
                    .get(lang),
                ));
            }
            let text = String::from_utf8_lossy(&text);
            let seed = ebl_core::bytes::from_hex::<32>(text.trim())
                .ok_or_else(|| CliError::from(Refusal::MalformedKey { file: file.clone() }))?;
            let public = wallet.import_key(&name, &ebl_core::SigningKey::from_bytes(&seed))?;
            Ok(out(
                json!({"name": name, "public_key": public}),
                Said::new(
                    format!("key {name} imported\npublic key {public}"),
                    format!("密钥 {name} 已导入\n公钥 {public}"),
                )
                .get(lang),
            ))
        }
        KeyCommand::Export { name, out: path } => {
            let backup = wallet.export_key(&name)?;
            super::write_private_output(&path, &backup, force)?;
            Ok(out(
                json!({"name": name, "backup": path}),
                Said::new(
                    format!(
                        "key {name} backed up to {} (encrypted under its passphrase)\nrestore with `ebl key import NAME {}`",
                        path.display(),
                        path.display()
                    ),
                    format!(
                        "密钥 {name} 已备份到 {}（以其密码加密）\n恢复：ebl key import 密钥名 {}",
                        path.display(),
                        path.display()
                    ),
                )
                .get(lang),
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
                    Said::new(
                        "no keys yet: make one with `ebl key new NAME`",
                        "尚无密钥：请用 ebl key new 密钥名 生成",
                    )
                    .get(lang)
                    .to_owned()
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
