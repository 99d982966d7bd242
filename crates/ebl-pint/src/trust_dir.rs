//! The trust directory, read from disk as the node and the wallet both keep it: the one module of this
//! crate that does IO, so that neither binary needs the other to read it.

use std::path::{Path as FsPath, PathBuf};

use crate::TrustStore;

/// Largest file read from a trust directory (a JWK set or a PEM certificate is a few KiB).
pub const TRUST_FILE_BYTES_MAX: u64 = 1024 * 1024;

/// Why a trust directory could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrustDirError {
    /// A file or directory that could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// Which.
        path: String,
        /// The operating system's reason.
        reason: String,
        /// It does not exist (a node without a trust directory trusts nobody; a reader who named one
        /// is told).
        not_found: bool,
    },
    /// A key or certificate file that is too large or does not parse.
    #[error("{path}: {reason}")]
    BadFile {
        /// Which.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A key or certificate directly in the trust directory: it would be bound to no platform.
    #[error("{path}: a key here is bound to no platform: move it into a directory named by the platform's PINT code (trust/<CODE>/)")]
    UnboundKey {
        /// Which.
        path: String,
    },
    /// A directory in the trust directory whose name is no PINT platform code.
    #[error("{path}: not a platform code: {reason}")]
    NotAPlatform {
        /// Which.
        path: String,
        /// Why its name is no platform code.
        #[source]
        reason: ebl_core::Error,
    },
}

impl TrustDirError {
    /// The stable code for this rule, as the wallet shows it.
    pub fn code(&self) -> &'static str {
        match self {
            TrustDirError::Unreadable { .. } => "unreadable_trust_store",
            TrustDirError::BadFile { .. } => "bad_trust_file",
            TrustDirError::UnboundKey { .. } => "unbound_trust_key",
            TrustDirError::NotAPlatform { .. } => "not_a_platform_directory",
        }
    }
}

/// Reads a trust directory, as the node and the wallet both do. It holds one directory per platform,
/// named by its PINT code (`WAVE/`, `BOLE/`, ...), and everything in it is bound to that platform:
/// `*.jwk` and `*.json` (a JWK or a JWK set) and `*.crt` and `*.pem` (certificates: roots for `x5c`
/// chains, or pinned; or bare public keys). Files named `carrier.<PROVIDER>.<CODE>.<ext>` are the keys
/// of that carrier issuing on the platform, the only ones that may sign its issuance manifests. Other
/// files are skipped. A key file directly in the trust directory is an error: it would be bound to no
/// platform. Read in name order; a file over `TRUST_FILE_BYTES_MAX` or one that does not parse is an
/// error.
pub fn read_trust_dir(dir: &FsPath) -> Result<TrustStore, TrustDirError> {
    let unreadable = |path: &FsPath, e: std::io::Error| TrustDirError::Unreadable {
        path: path.display().to_string(),
        not_found: e.kind() == std::io::ErrorKind::NotFound,
        reason: e.to_string(),
    };
    let bad = |path: &FsPath, reason: String| TrustDirError::BadFile {
        path: path.display().to_string(),
        reason,
    };
    let list = |dir: &FsPath| -> Result<Vec<PathBuf>, TrustDirError> {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| unreadable(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        paths.sort();
        Ok(paths)
    };
    let is_key_file = |path: &FsPath| {
        path.extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "jwk" | "json" | "crt" | "pem"))
    };
    let mut trust = TrustStore::default();
    for platform_dir in list(dir)? {
        if platform_dir.is_file() {
            if is_key_file(&platform_dir) {
                return Err(TrustDirError::UnboundKey {
                    path: platform_dir.display().to_string(),
                });
            }
            continue;
        }
        let code = platform_dir
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("")
            .to_owned();
        crate::check_platform_code(&code).map_err(|e| TrustDirError::NotAPlatform {
            path: platform_dir.display().to_string(),
            reason: e,
        })?;
        for path in list(&platform_dir)? {
            if !path.is_file() {
                continue;
            }
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let size = std::fs::metadata(&path)
                .map_err(|e| unreadable(&path, e))?
                .len();
            if size > TRUST_FILE_BYTES_MAX {
                return Err(bad(
                    &path,
                    format!("larger than {TRUST_FILE_BYTES_MAX} bytes"),
                ));
            }
            let content = std::fs::read(&path).map_err(|e| unreadable(&path, e))?;
            trust
                .add_file(&code, name, &content)
                .map_err(|f| bad(&path, f.reason))?;
        }
    }
    Ok(trust)
}

/// Longest receiving address a platform's `url` file may hold, in bytes.
pub const PLATFORM_URL_BYTES_MAX: u64 = 2048;

/// Where each platform of a trust directory receives envelopes: the file `<CODE>/url`, one line
/// holding the base address its `/v3` API is under (`https://pint.example.com`). A platform without
/// one can send to us, and we cannot send to it. An address that is not `http://` or `https://`, or a
/// file over `PLATFORM_URL_BYTES_MAX`, is an error with the file named. A missing trust directory
/// names no platform.
pub fn read_platform_urls(
    dir: &FsPath,
) -> Result<std::collections::BTreeMap<String, String>, TrustDirError> {
    let mut urls = std::collections::BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(urls),
        Err(e) => {
            return Err(TrustDirError::Unreadable {
                path: dir.display().to_string(),
                reason: e.to_string(),
                not_found: false,
            })
        }
    };
    for platform_dir in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        let path = platform_dir.join("url");
        let Some(code) = platform_dir.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !path.is_file() || crate::check_platform_code(code).is_err() {
            continue;
        }
        let bad = |reason: String| TrustDirError::BadFile {
            path: path.display().to_string(),
            reason,
        };
        let size = std::fs::metadata(&path)
            .map_err(|e| bad(e.to_string()))?
            .len();
        if size > PLATFORM_URL_BYTES_MAX {
            return Err(bad(format!("larger than {PLATFORM_URL_BYTES_MAX} bytes")));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
        let url = text.trim().trim_end_matches('/');
        let scheme_ok = url.starts_with("http://") || url.starts_with("https://");
        if !scheme_ok || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(
                "not one http:// or https:// address, the base of the platform's /v3 API".into(),
            ));
        }
        urls.insert(code.to_owned(), url.to_owned());
    }
    Ok(urls)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trust_directories_are_read_whole_or_refused_with_the_file_named() {
        let root = tempfile::tempdir().expect("dir");
        let jwk = crate::public_jwk(&ebl_core::PartyKey::of(&ebl_core::testkit::key(5)));
        // Issue 16: a key directly in the trust directory would be bound to no platform: refused.
        std::fs::write(root.path().join("a.jwk"), jwk.to_string()).expect("write");
        let err = read_trust_dir(root.path()).expect_err("unbound");
        assert!(matches!(err, TrustDirError::UnboundKey { .. }), "{err}");
        assert_eq!(err.code(), "unbound_trust_key");
        std::fs::remove_file(root.path().join("a.jwk")).expect("rm");
        std::fs::write(root.path().join("README"), "skipped").expect("write");
        let dir = root.path().join("WAVE");
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("a.jwk"), jwk.to_string()).expect("write");
        std::fs::write(dir.join("carrier.SMDG.MSC.jwk"), jwk.to_string()).expect("write");
        std::fs::write(dir.join("notes.txt"), "skipped").expect("write");
        let trust = read_trust_dir(root.path()).expect("read");
        assert_eq!(
            (trust.len(), trust.platforms()),
            (2, vec!["WAVE".to_owned()])
        );
        // A directory that is no platform code.
        std::fs::create_dir_all(root.path().join("TOOLONG")).expect("mkdir");
        let err = read_trust_dir(root.path()).expect_err("bad code");
        assert!(
            matches!(&err, TrustDirError::NotAPlatform { path, .. } if path.ends_with("TOOLONG")),
            "{err}"
        );
        std::fs::remove_dir(root.path().join("TOOLONG")).expect("rm");
        let dir = dir.as_path();
        // A file at the size bound is read (and refused for what it is), one byte over is not read.
        let big = dir.join("big.json");
        std::fs::write(
            &big,
            vec![b' '; usize::try_from(TRUST_FILE_BYTES_MAX).expect("fits")],
        )
        .expect("write");
        let err = read_trust_dir(root.path())
            .expect_err("not JSON")
            .to_string();
        assert!(
            err.contains("big.json") && !err.contains("larger than"),
            "{err}"
        );
        std::fs::write(
            &big,
            vec![b' '; usize::try_from(TRUST_FILE_BYTES_MAX).expect("fits") + 1],
        )
        .expect("write");
        let err = read_trust_dir(root.path())
            .expect_err("too large")
            .to_string();
        assert!(
            err.contains("big.json") && err.contains("larger than"),
            "{err}"
        );
        // A missing directory: an error for a reader who named it, no trust at all for a node.
        let missing = root.path().join("missing");
        assert!(matches!(
            read_trust_dir(&missing),
            Err(TrustDirError::Unreadable {
                not_found: true,
                ..
            })
        ));
    }

    #[test]
    fn each_platforms_address_is_its_url_file_checked_at_its_limit() {
        let root = tempfile::tempdir().expect("dir");
        assert!(read_platform_urls(&root.path().join("missing"))
            .expect("no directory")
            .is_empty());
        let wave = root.path().join("WAVE");
        std::fs::create_dir(&wave).expect("mkdir");
        std::fs::create_dir(root.path().join("BOLE")).expect("mkdir");
        std::fs::write(wave.join("url"), "https://pint.wave.example/\n").expect("write");
        let urls = read_platform_urls(root.path()).expect("read");
        assert_eq!(urls.len(), 1, "BOLE has no url file: we cannot send to it");
        assert_eq!(urls["WAVE"], "https://pint.wave.example");
        for bad in ["ftp://x", "https://a b", "pint.wave.example"] {
            std::fs::write(wave.join("url"), bad).expect("write");
            let err = read_platform_urls(root.path()).expect_err(bad);
            assert_eq!(err.code(), "bad_trust_file", "{bad}");
        }
        let max = usize::try_from(PLATFORM_URL_BYTES_MAX).expect("small");
        let at_limit = format!("https://{}", "a".repeat(max - "https://".len()));
        std::fs::write(wave.join("url"), &at_limit).expect("write");
        assert_eq!(
            read_platform_urls(root.path()).expect("at the limit")["WAVE"],
            at_limit
        );
        std::fs::write(wave.join("url"), format!("{at_limit}a")).expect("write");
        assert!(read_platform_urls(root.path()).is_err(), "one byte over");
    }
}
