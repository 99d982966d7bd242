//! A platform key with its X.509 certificate chain: PINT signatures that a receiver verifies from the
//! chain each JWS carries (`x5c`) to a root it trusts, as DCSA's Conformance-Gateway verifies senders
//! (RSA or EC keys only): ES256, with a P-256 key (RFC 6979 deterministic ECDSA, constant-time in RustCrypto's `p256`). An RSA private key is refused: the `rsa` crate's
//! private-key operations are not constant-time (RUSTSEC-2023-0071, the Marvin attack), and this
//! workspace uses `rsa` to verify only.

use serde_json::{json, Value};

use crate::jws::TrustedKey;
use crate::jws::{base64url_encode, JwsSigner};
use crate::x5c::{Certificate, CertificateError};

/// Why a key and certificate chain cannot sign for this platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CertifiedKeyError {
    /// The key file holds no private key this crate reads (PKCS#8, SEC1 or PKCS#1 PEM).
    #[error("the key file holds no PKCS#8, SEC1 (EC) or PKCS#1 (RSA) private key: {reason}")]
    NoPrivateKey {
        /// What the reader found.
        reason: String,
    },
    /// A private key of a type other than P-256.
    #[error("the private key is not a P-256 key")]
    UnsupportedKey,
    /// An RSA private key: not used to sign here (RUSTSEC-2023-0071).
    #[error("RSA private keys are not used to sign here: the rsa crate's private-key operations are not constant-time (RUSTSEC-2023-0071); give a P-256 (EC) key and its certificate")]
    RsaKey,
    /// The chain file holds no certificate, or one that does not read.
    #[error("the certificate chain: {reason}")]
    BadChain {
        /// Why.
        reason: String,
    },
    /// The first certificate of the chain is not the private key's.
    #[error("the first certificate of the chain is not the private key's certificate")]
    KeyMismatch,
}

impl CertifiedKeyError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            CertifiedKeyError::NoPrivateKey { .. } => "no_private_key",
            CertifiedKeyError::UnsupportedKey => "unsupported_key",
            CertifiedKeyError::RsaKey => "rsa_signing_key",
            CertifiedKeyError::BadChain { .. } => "bad_certificate_chain",
            CertifiedKeyError::KeyMismatch => "key_certificate_mismatch",
        }
    }
}

impl From<CertificateError> for CertifiedKeyError {
    fn from(e: CertificateError) -> CertifiedKeyError {
        CertifiedKeyError::BadChain {
            reason: e.to_string(),
        }
    }
}

/// A platform's signing key with the certificate chain that vouches for it, leaf first.
#[derive(Clone)]
pub struct CertifiedKey {
    key: p256::ecdsa::SigningKey,
    /// The chain as `x5c` carries it: base64 (not base64url) DER, leaf first.
    x5c: Vec<String>,
    /// The public key as a JWK (with its `x5c`).
    jwk: Value,
    kid: String,
}

impl std::fmt::Debug for CertifiedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private key.
        f.debug_struct("CertifiedKey")
            .field("alg", &self.alg())
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl CertifiedKey {
    /// Reads a private key (PEM) and its certificate chain (PEM, leaf first); the leaf must be the
    /// key's.
    pub fn from_pem(key_pem: &[u8], chain_pem: &[u8]) -> Result<CertifiedKey, CertifiedKeyError> {
        let key = secret_of(key_pem)?;
        let (certificates, _) = crate::x5c::pem_contents(chain_pem)?;
        let leaf: &Certificate = certificates.first().ok_or(CertifiedKeyError::BadChain {
            reason: "no certificate".to_owned(),
        })?;
        let matches =
            matches!(&leaf.key, Some(TrustedKey::P256(public)) if key.verifying_key() == public);
        if !matches {
            return Err(CertifiedKeyError::KeyMismatch);
        }
        let x5c: Vec<String> = certificates
            .iter()
            .map(|c| crate::base64_encode(&c.der))
            .collect();
        let point = key.verifying_key().to_encoded_point(false);
        let (x, y) = (
            base64url_encode(point.x().map_or(&[][..], |x| x.as_slice())),
            base64url_encode(point.y().map_or(&[][..], |y| y.as_slice())),
        );
        let mut jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "alg": "ES256"});
        // RFC 7638: the required members only, in lexicographic order.
        let required = format!(r#"{{"crv":"P-256","kty":"EC","x":"{x}","y":"{y}"}}"#);
        let kid = base64url_encode(ebl_core::Hash::of(required.as_bytes()).as_bytes());
        jwk["kid"] = json!(kid);
        jwk["use"] = json!("sig");
        jwk["x5c"] = json!(x5c);
        Ok(CertifiedKey { key, x5c, jwk, kid })
    }

    /// The public key as a JWK, with its certificate chain (`x5c`), for a receiver's trust store.
    pub fn public_jwk(&self) -> Value {
        self.jwk.clone()
    }
}

/// The private key a PEM holds: PKCS#8 or SEC1 (P-256); an RSA key (PKCS#8 or PKCS#1) is named and
/// refused.
fn secret_of(pem: &[u8]) -> Result<p256::ecdsa::SigningKey, CertifiedKeyError> {
    use p256::pkcs8::DecodePrivateKey as _;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::PrivateKeyDer;
    let der = PrivateKeyDer::from_pem_slice(pem).map_err(|e| CertifiedKeyError::NoPrivateKey {
        reason: e.to_string(),
    })?;
    match &der {
        PrivateKeyDer::Pkcs8(k) => {
            let bytes = k.secret_pkcs8_der();
            if let Ok(key) = p256::ecdsa::SigningKey::from_pkcs8_der(bytes) {
                Ok(key)
            } else if rsa::RsaPrivateKey::from_pkcs8_der(bytes).is_ok() {
                Err(CertifiedKeyError::RsaKey)
            } else {
                Err(CertifiedKeyError::UnsupportedKey)
            }
        }
        PrivateKeyDer::Sec1(k) => p256::SecretKey::from_sec1_der(k.secret_sec1_der())
            .map(p256::ecdsa::SigningKey::from)
            .map_err(|_| CertifiedKeyError::UnsupportedKey),
        PrivateKeyDer::Pkcs1(_) => Err(CertifiedKeyError::RsaKey),
        _ => Err(CertifiedKeyError::UnsupportedKey),
    }
}

impl JwsSigner for CertifiedKey {
    fn alg(&self) -> &'static str {
        "ES256"
    }

    fn kid(&self) -> String {
        self.kid.clone()
    }

    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        use p256::ecdsa::signature::Signer as _;
        let signature: p256::ecdsa::Signature = self.key.sign(signing_input);
        signature.to_bytes().to_vec()
    }

    fn x5c(&self) -> Option<Vec<String>> {
        Some(self.x5c.clone())
    }
}
