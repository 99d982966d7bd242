//! Private keys at rest: each in its own file under the wallet home, encrypted with a key derived from the
//! passphrase by argon2id and sealed with XChaCha20-Poly1305, readable by the owner only (mode 0600).

use std::path::{Path, PathBuf};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use ebl_core::{bytes, PartyKey, SigningKey};
use serde::{Deserialize, Serialize};

use crate::error::{CliError, Refusal, Result};

/// argon2id cost: OWASP's recommended minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
const ARGON2_PASSES: u32 = 2;
const ARGON2_LANES: u32 = 1;
/// The most a key file may ask the KDF for: a file is input, and one claiming gigabytes of memory or
/// thousands of passes would stall or kill the wallet that opens it.
pub const ARGON2_MEMORY_KIB_MAX: u32 = 256 * 1024;
/// The most argon2 passes a key file may ask for: more is refused before any work (a hostile file cannot stall the wallet).
pub const ARGON2_PASSES_MAX: u32 = 16;
/// The most argon2 lanes a key file may ask for.
pub const ARGON2_LANES_MAX: u32 = 8;
/// Longest key name: it becomes a file name.
pub const KEY_NAME_BYTES_MAX: usize = 64;
pub(crate) const FORMAT: &str = "ebl-key/1";

/// A key file's contents. Only `ciphertext` is secret; the public key and name are bound to it as
/// associated data, so swapping them between files is detected.
#[derive(Debug, Serialize, Deserialize)]
struct KeyFile {
    format: String,
    name: String,
    public_key: String,
    kdf: Kdf,
    nonce: String,
    ciphertext: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Kdf {
    algorithm: String,
    memory_kib: u32,
    passes: u32,
    lanes: u32,
    salt: String,
}

/// The keys of one wallet home.
#[derive(Debug, Clone)]
pub struct Keystore {
    dir: PathBuf,
}

fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= KEY_NAME_BYTES_MAX
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
        && !name.starts_with('.');
    if ok {
        Ok(())
    } else {
        Err(CliError::from(Refusal::BadKeyName {
            name: name.to_owned(),
        }))
    }
}

fn random<const N: usize>() -> Result<[u8; N]> {
    let mut out = [0u8; N];
    getrandom::fill(&mut out)
        .map_err(|e| CliError::io("no randomness from the OS", e.to_string()))?;
    Ok(out)
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    memory_kib: u32,
    passes: u32,
    lanes: u32,
) -> Result<zeroize::Zeroizing<[u8; 32]>> {
    if memory_kib > ARGON2_MEMORY_KIB_MAX || passes > ARGON2_PASSES_MAX || lanes > ARGON2_LANES_MAX
    {
        return Err(crate::error::WalletRule::KdfTooCostly {
            memory_kib,
            passes,
            lanes,
            memory_kib_max: ARGON2_MEMORY_KIB_MAX,
            passes_max: ARGON2_PASSES_MAX,
            lanes_max: ARGON2_LANES_MAX,
        }
        .into());
    }
    let params = Params::new(memory_kib, passes, lanes, Some(32)).map_err(|e| {
        CliError::from(Refusal::KeyDerivation {
            source: crate::error::source(e.to_string()),
        })
    })?;
    let mut key = zeroize::Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, key.as_mut())
        .map_err(|e| {
            CliError::from(Refusal::KeyDerivation {
                source: crate::error::source(e.to_string()),
            })
        })?;
    Ok(key)
}

fn aad(name: &str, public_key: &str) -> Vec<u8> {
    format!("{FORMAT}\n{name}\n{public_key}").into_bytes()
}

/// Decrypts a key file with `passphrase`, checking the public key it claims is the seed's.
fn open(file: &KeyFile, passphrase: &str) -> Result<SigningKey> {
    let name = &file.name;
    let bad = |field: &'static str| {
        CliError::from(Refusal::BadKeyField {
            name: name.clone(),
            field,
        })
    };
    let salt = bytes::from_hex_vec(&file.kdf.salt).ok_or_else(|| bad("salt"))?;
    let nonce = bytes::from_hex::<24>(&file.nonce).ok_or_else(|| bad("nonce"))?;
    let ciphertext = bytes::from_hex_vec(&file.ciphertext).ok_or_else(|| bad("ciphertext"))?;
    if file.kdf.algorithm != "argon2id" {
        return Err(bad("key derivation algorithm"));
    }
    let secret = derive(
        passphrase,
        &salt,
        file.kdf.memory_kib,
        file.kdf.passes,
        file.kdf.lanes,
    )?;
    let cipher = XChaCha20Poly1305::new((&*secret).into());
    let seed = cipher
        .decrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: &ciphertext,
                aad: &aad(name, &file.public_key),
            },
        )
        .map_err(|_| {
            CliError::from(Refusal::WrongPassphrase { name: name.clone() })
                .with_hint("check EBL_PASSPHRASE, or type the passphrase you gave `ebl key new`")
        })?;
    let seed = zeroize::Zeroizing::new(seed);
    let seed: zeroize::Zeroizing<[u8; 32]> =
        zeroize::Zeroizing::new(seed.as_slice().try_into().map_err(|_| bad("key length"))?);
    let key = SigningKey::from_bytes(&seed);
    if PartyKey::of(&key).to_hex() != file.public_key {
        return Err(bad("public key"));
    }
    Ok(key)
}

/// Whether `bytes` look like a key file (a backup written by `ebl key export`) rather than a bare seed.
pub fn is_backup(bytes: &[u8]) -> bool {
    bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// Opens a backup written by [`Keystore::backup`]: the name it was saved under and its key.
pub fn restore(bytes: &[u8], passphrase: &str) -> Result<(String, SigningKey)> {
    let file: KeyFile = serde_json::from_slice(bytes).map_err(|e| {
        CliError::from(Refusal::NotAKeyFile {
            file: "the key backup".into(),
            source: crate::error::source(e),
        })
    })?;
    crate::wallet::check_file_format(&ebl_core::format::KEYSTORE, &file.format, || {
        CliError::from(Refusal::KeyFileFormat {
            file: "the key backup".into(),
            format: file.format.clone(),
        })
    })?;
    let key = open(&file, passphrase)?;
    Ok((file.name, key))
}

impl Keystore {
    /// The keystore under the wallet `home` (its `keys/` directory).
    pub fn new(home: &Path) -> Keystore {
        Keystore {
            dir: home.join("keys"),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Whether a key of this name exists.
    pub fn exists(&self, name: &str) -> bool {
        self.path(name).exists()
    }

    /// No key is named `name` yet.
    pub fn check_free(&self, name: &str) -> Result<()> {
        if self.exists(name) {
            return Err(CliError::from(Refusal::KeyExists {
                name: name.to_owned(),
            }));
        }
        Ok(())
    }

    /// Stores `key` under `name`, encrypted with `passphrase`. Refuses to overwrite.
    pub fn save(&self, name: &str, key: &SigningKey, passphrase: &str) -> Result<PartyKey> {
        check_name(name)?;
        if passphrase.is_empty() {
            return Err(CliError::from(Refusal::EmptyPassphrase));
        }
        self.check_free(name)?;
        let public = PartyKey::of(key);
        let salt: [u8; 16] = random()?;
        let nonce: [u8; 24] = random()?;
        let secret = derive(
            passphrase,
            &salt,
            ARGON2_MEMORY_KIB,
            ARGON2_PASSES,
            ARGON2_LANES,
        )?;
        let cipher = XChaCha20Poly1305::new((&*secret).into());
        let aad = aad(name, &public.to_hex());
        let seed = key.to_bytes();
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &seed,
                    aad: &aad,
                },
            )
            .map_err(|_| CliError::io("encrypting the key", "cipher failure"))?;
        let file = KeyFile {
            format: FORMAT.to_owned(),
            name: name.to_owned(),
            public_key: public.to_hex(),
            kdf: Kdf {
                algorithm: "argon2id".into(),
                memory_kib: ARGON2_MEMORY_KIB,
                passes: ARGON2_PASSES,
                lanes: ARGON2_LANES,
                salt: bytes::to_hex(&salt),
            },
            nonce: bytes::to_hex(&nonce),
            ciphertext: bytes::to_hex(&ciphertext),
        };
        let text = serde_json::to_vec_pretty(&file)
            .map_err(|e| CliError::io("encoding the key file", e))?;
        std::fs::create_dir_all(&self.dir)
            .map_err(|e| CliError::io(&format!("creating {}", self.dir.display()), e))?;
        write_private(&self.path(name), &text)?;
        Ok(public)
    }

    fn read(&self, name: &str) -> Result<KeyFile> {
        check_name(name)?;
        let path = self.path(name);
        let text = std::fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                CliError::from(Refusal::UnknownKey {
                    name: name.to_owned(),
                    dir: self.dir.clone(),
                })
                .with_hint("list keys with `ebl key list`, or make one with `ebl key new NAME`")
            } else {
                CliError::io(&format!("reading {}", path.display()), e)
            }
        })?;
        let file: KeyFile = serde_json::from_slice(&text).map_err(|e| {
            CliError::from(Refusal::NotAKeyFile {
                file: path.display().to_string(),
                source: crate::error::source(e),
            })
        })?;
        crate::wallet::check_file_format(&ebl_core::format::KEYSTORE, &file.format, || {
            CliError::from(Refusal::KeyFileFormat {
                file: path.display().to_string(),
                format: file.format.clone(),
            })
        })?;
        if file.name != name {
            return Err(CliError::from(Refusal::KeyFileOfAnother {
                file: path.display().to_string(),
                name: name.to_owned(),
            }));
        }
        Ok(file)
    }

    /// The public key, without the passphrase.
    pub fn public(&self, name: &str) -> Result<PartyKey> {
        let file = self.read(name)?;
        file.public_key.parse().map_err(|_| {
            CliError::from(Refusal::BadKeyField {
                name: name.to_owned(),
                field: "public key",
            })
        })
    }

    /// Decrypts the private key.
    pub fn unlock(&self, name: &str, passphrase: &str) -> Result<SigningKey> {
        open(&self.read(name)?, passphrase)
    }

    /// The key file of `name` as a backup another wallet can import: the same bytes, still encrypted
    /// under the passphrase. Unlocked first, so a backup that cannot be opened is never written.
    pub fn backup(&self, name: &str, passphrase: &str) -> Result<Vec<u8>> {
        let file = self.read(name)?;
        open(&file, passphrase)?;
        serde_json::to_vec_pretty(&file).map_err(|e| CliError::io("encoding the key file", e))
    }

    /// Names of all keys, sorted.
    pub fn names(&self) -> Result<Vec<String>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CliError::io(&format!("reading {}", self.dir.display()), e)),
        };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_str()
                    .and_then(|n| n.strip_suffix(".json"))
                    .map(str::to_owned)
            })
            .collect();
        names.sort();
        Ok(names)
    }
}

/// Writes a new file readable by the owner only, and syncs it: a key must not be half-written.
pub(crate) fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let tmp = path.with_extension("tmp");
    let _ = std::fs::remove_file(&tmp);
    let mut file = options
        .open(&tmp)
        .map_err(|e| CliError::io(&format!("creating {}", tmp.display()), e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| CliError::io(&format!("writing {}", tmp.display()), e))?;
    std::fs::rename(&tmp, path).map_err(|e| CliError::io(&format!("saving {}", path.display()), e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_names_are_bounded_and_plain() {
        assert!(check_name(&"k".repeat(KEY_NAME_BYTES_MAX)).is_ok());
        assert_eq!(
            check_name(&"k".repeat(KEY_NAME_BYTES_MAX + 1)).map_err(|e| e.code().into_owned()),
            Err("bad_key_name".to_owned())
        );
        for bad in ["", "../etc", "a/b", ".hidden", "sp ace"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    /// Issue 13: a key file could ask argon2 for any amount of memory.
    #[test]
    fn regression_a_key_file_asking_for_unbounded_kdf_cost_is_refused() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Keystore::new(dir.path());
        store
            .save("k", &SigningKey::from_bytes(&[42; 32]), "right")
            .expect("save");
        let path = store.path("k");
        let text = std::fs::read_to_string(&path).expect("read");
        let mut value: serde_json::Value = serde_json::from_str(&text).expect("json");
        for (field, over) in [
            ("memory_kib", u64::from(ARGON2_MEMORY_KIB_MAX) + 1),
            ("passes", u64::from(ARGON2_PASSES_MAX) + 1),
            ("lanes", u64::from(ARGON2_LANES_MAX) + 1),
        ] {
            let mut costly = value.clone();
            costly["kdf"][field] = over.into();
            std::fs::write(&path, costly.to_string()).expect("write");
            assert_eq!(
                store
                    .unlock("k", "right")
                    .map(|_| ())
                    .map_err(|e| e.code().into_owned()),
                Err("kdf_too_costly".to_owned()),
                "{field}"
            );
        }
        value["kdf"]["passes"] = ARGON2_PASSES.into();
        std::fs::write(&path, value.to_string()).expect("write");
        assert!(store.unlock("k", "right").is_ok());
    }

    #[test]
    fn a_backup_opens_in_another_wallet_only_with_its_passphrase() {
        let (a, b) = (
            tempfile::tempdir().expect("dir"),
            tempfile::tempdir().expect("dir"),
        );
        let key = SigningKey::from_bytes(&[7; 32]);
        Keystore::new(a.path())
            .save("carrier", &key, "right one")
            .expect("save");
        let backup = Keystore::new(a.path())
            .backup("carrier", "right one")
            .expect("backup");
        assert!(is_backup(&backup));
        assert!(!is_backup(b"  0707"));
        assert_eq!(
            Keystore::new(a.path())
                .backup("carrier", "wrong")
                .map_err(|e| e.code().into_owned()),
            Err("wrong_passphrase".to_owned())
        );
        let (name, restored) = restore(&backup, "right one").expect("restore");
        assert_eq!(
            (name.as_str(), restored.to_bytes()),
            ("carrier", key.to_bytes())
        );
        Keystore::new(b.path())
            .save("carrier-2", &restored, "right one")
            .expect("save");
        assert_eq!(
            restore(&backup, "wrong")
                .map(|_| ())
                .map_err(|e| e.code().into_owned()),
            Err("wrong_passphrase".to_owned())
        );
        // The public key is bound to the ciphertext: a backup claiming another key is refused.
        let mut value: serde_json::Value = serde_json::from_slice(&backup).expect("json");
        value["public_key"] = PartyKey::of(&SigningKey::from_bytes(&[8; 32]))
            .to_hex()
            .into();
        assert_eq!(
            restore(value.to_string().as_bytes(), "right one")
                .map(|_| ())
                .map_err(|e| e.code().into_owned()),
            Err("wrong_passphrase".to_owned())
        );
        value["format"] = "ebl-key/0".into();
        assert_eq!(
            restore(value.to_string().as_bytes(), "right one")
                .map(|_| ())
                .map_err(|e| e.code().into_owned()),
            Err("bad_key_file".to_owned())
        );
    }

    #[test]
    fn a_key_round_trips_only_with_its_passphrase() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Keystore::new(dir.path());
        let key = SigningKey::from_bytes(&[42; 32]);
        let public = store.save("k", &key, "right").expect("save");
        assert_eq!(store.public("k").expect("public"), public);
        assert_eq!(
            store.unlock("k", "right").expect("unlock").to_bytes(),
            key.to_bytes()
        );
        assert_eq!(
            store
                .unlock("k", "wrong")
                .map(|_| ())
                .map_err(|e| e.code().into_owned()),
            Err("wrong_passphrase".to_owned())
        );
        // The file never holds the seed in the clear.
        let text = std::fs::read_to_string(dir.path().join("keys/k.json")).expect("file");
        assert!(!text.contains(&bytes::to_hex(&key.to_bytes())));
    }
}
