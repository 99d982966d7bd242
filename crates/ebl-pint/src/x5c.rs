//! `x5c` certificate chains (RFC 7515 §4.1.6): the leaf certificate's key signs the JWS, and each
//! certificate is signed by the next, up to a root in the trust store, all valid at the time given.
//!
//! Certificates are read by RustCrypto's `x509-cert` (strict DER), PEM by `rustls-pki-types`; this module
//! holds the rules a chain must meet: names compared as DER, issuers must be CAs (basicConstraints)
//! allowed to issue (keyUsage keyCertSign, pathLenConstraint), the leaf allowed to sign (keyUsage
//! digitalSignature), every critical extension one of those two (RFC 5280 §4.2: a certificate with a
//! critical extension the reader does not process is refused), and certificates signed with Ed25519,
//! RSA PKCS#1 v1.5 with SHA-256, or ECDSA P-256 with SHA-256.

use x509_cert::der::asn1::ObjectIdentifier;
use x509_cert::der::{Decode, Encode};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages};

use crate::jws::TrustedKey;

/// Longest `x5c` chain accepted, leaf included.
pub const X5C_CERTIFICATES_MAX: usize = 8;
/// Largest DER certificate accepted, in bytes.
pub const CERTIFICATE_BYTES_MAX: usize = 16 * 1024;

const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const OID_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.1");
const OID_SHA256_RSA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.1.11");
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");
const OID_P256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.3.1.7");
const OID_ECDSA_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.4.3.2");
const OID_BASIC_CONSTRAINTS: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.19");
const OID_KEY_USAGE: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.29.15");

/// Why a certificate or a PEM text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum CertificateError {
    #[error("a certificate larger than {CERTIFICATE_BYTES_MAX} bytes")]
    TooLarge,
    #[error("not base64")]
    NotBase64,
    #[error("not a DER certificate: {0}")]
    Der(#[from] x509_cert::der::Error),
    #[error("a signature BIT STRING with unused bits")]
    UnusedBits,
    #[error("a critical extension this reader does not process ({0})")]
    UnknownCritical(ObjectIdentifier),
    #[error("an Ed25519 key that is not 32 bytes of a valid point")]
    BadEd25519,
    #[error("RSA keys need at least {} bits", crate::RSA_BITS_MIN)]
    RsaTooShort,
    #[error("not an RSA public key: {0}")]
    BadRsa(String),
    #[error("not a point on P-256")]
    BadP256,
    #[error("PEM: {0}")]
    Pem(String),
    #[error("the public key's type is not supported")]
    UnsupportedKey,
    #[error("no certificate or public key in the PEM text")]
    EmptyPem,
}

/// The parts of a certificate that chain checks read.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    pub(crate) der: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: ObjectIdentifier,
    signature: Vec<u8>,
    issuer: Vec<u8>,
    pub(crate) subject: Vec<u8>,
    not_before_s: u64,
    not_after_s: u64,
    pub(crate) key: Option<TrustedKey>,
    is_ca: bool,
    /// basicConstraints' pathLenConstraint: how many CA certificates may follow this one down a chain.
    path_len: Option<u8>,
    /// keyUsage, when the certificate has the extension (no extension: any use).
    key_usage: Option<KeyUsage>,
}

/// The key of a SubjectPublicKeyInfo, if it is of a type this crate verifies with.
fn public_key(
    spki: &x509_cert::spki::SubjectPublicKeyInfoOwned,
) -> Result<Option<TrustedKey>, CertificateError> {
    let bits = spki
        .subject_public_key
        .as_bytes()
        .ok_or(CertificateError::UnusedBits)?;
    let oid = spki.algorithm.oid;
    Ok(if oid == OID_ED25519 {
        let raw: [u8; 32] = bits.try_into().map_err(|_| CertificateError::BadEd25519)?;
        Some(TrustedKey::Ed25519(
            ebl_core::PartyKey::from_bytes(raw).map_err(|_| CertificateError::BadEd25519)?,
        ))
    } else if oid == OID_RSA {
        use rsa::pkcs1::DecodeRsaPublicKey as _;
        let key = rsa::RsaPublicKey::from_pkcs1_der(bits)
            .map_err(|e| CertificateError::BadRsa(e.to_string()))?;
        if rsa::traits::PublicKeyParts::n(&key).bits() < crate::RSA_BITS_MIN {
            return Err(CertificateError::RsaTooShort);
        }
        Some(TrustedKey::Rsa(key))
    } else if oid == OID_EC_PUBLIC_KEY
        && spki
            .algorithm
            .parameters
            .as_ref()
            .and_then(|p| p.decode_as::<ObjectIdentifier>().ok())
            == Some(OID_P256)
    {
        Some(TrustedKey::P256(
            p256::ecdsa::VerifyingKey::from_sec1_bytes(bits)
                .map_err(|_| CertificateError::BadP256)?,
        ))
    } else {
        // A key this crate cannot verify with: usable in the chain only as a trusted name.
        None
    })
}

/// What basicConstraints says: a CA or not (cA is a BOOLEAN, DEFAULT FALSE), and a CA's
/// pathLenConstraint.
fn basic_constraints(value: &[u8]) -> Result<(bool, Option<u8>), CertificateError> {
    let bc = BasicConstraints::from_der(value)?;
    Ok((bc.ca, bc.path_len_constraint.filter(|_| bc.ca)))
}

impl Certificate {
    pub(crate) fn from_der(der: &[u8]) -> Result<Certificate, CertificateError> {
        if der.len() > CERTIFICATE_BYTES_MAX {
            return Err(CertificateError::TooLarge);
        }
        let cert = x509_cert::Certificate::from_der(der)?;
        let tbs = &cert.tbs_certificate;
        let mut is_ca = false;
        let mut path_len = None;
        let mut key_usage = None;
        for ext in tbs.extensions.iter().flatten() {
            let value = ext.extn_value.as_bytes();
            if ext.extn_id == OID_BASIC_CONSTRAINTS {
                (is_ca, path_len) = basic_constraints(value)?;
            } else if ext.extn_id == OID_KEY_USAGE {
                key_usage = Some(KeyUsage::from_der(value)?);
            } else if ext.critical {
                return Err(CertificateError::UnknownCritical(ext.extn_id));
            }
        }
        Ok(Certificate {
            der: der.to_vec(),
            tbs: tbs.to_der()?,
            signature_algorithm: cert.signature_algorithm.oid,
            signature: cert
                .signature
                .as_bytes()
                .ok_or(CertificateError::UnusedBits)?
                .to_vec(),
            issuer: tbs.issuer.to_der()?,
            subject: tbs.subject.to_der()?,
            not_before_s: tbs.validity.not_before.to_unix_duration().as_secs(),
            not_after_s: tbs.validity.not_after.to_unix_duration().as_secs(),
            key: public_key(&tbs.subject_public_key_info)?,
            is_ca,
            path_len,
            key_usage,
        })
    }

    /// Whether this certificate may sign certificates with `below` CA certificates under it before the
    /// leaf: a CA, whose keyUsage (if any) has keyCertSign, within its pathLenConstraint.
    fn may_issue(&self, below: usize) -> bool {
        self.is_ca
            && self
                .key_usage
                .is_none_or(|usage| usage.0.contains(KeyUsages::KeyCertSign))
            && self.path_len.is_none_or(|len| below <= usize::from(len))
    }

    /// Whether this certificate's key may sign a JWS: keyUsage (if any) has digitalSignature.
    fn may_sign(&self) -> bool {
        self.key_usage
            .is_none_or(|usage| usage.0.contains(KeyUsages::DigitalSignature))
    }

    /// Whether `issuer`'s key made this certificate's signature.
    fn signed_by(&self, issuer: &Certificate) -> bool {
        use rsa::signature::Verifier as _;
        let (msg, sig) = (self.tbs.as_slice(), self.signature.as_slice());
        match (self.signature_algorithm, &issuer.key) {
            (OID_ED25519, Some(TrustedKey::Ed25519(k))) => {
                <[u8; 64]>::try_from(sig).is_ok_and(|s| k.verify(msg, &ebl_core::SignatureBytes(s)))
            }
            (OID_SHA256_RSA, Some(TrustedKey::Rsa(k))) => rsa::pkcs1v15::Signature::try_from(sig)
                .is_ok_and(|s| {
                    rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(k.clone())
                        .verify(msg, &s)
                        .is_ok()
                }),
            (OID_ECDSA_SHA256, Some(TrustedKey::P256(k))) => {
                p256::ecdsa::Signature::from_der(sig).is_ok_and(|s| k.verify(msg, &s).is_ok())
            }
            _ => false,
        }
    }

    fn valid_at(&self, unix_s: i64) -> bool {
        u64::try_from(unix_s).is_ok_and(|now| self.not_before_s <= now && now <= self.not_after_s)
    }
}

/// What a PEM text in a trust directory holds: certificates (roots for `x5c` chains, whose own keys
/// may also sign directly) and bare public keys (`PUBLIC KEY`, SubjectPublicKeyInfo); other sections
/// are passed over.
pub(crate) fn pem_contents(
    text: &[u8],
) -> Result<(Vec<Certificate>, Vec<TrustedKey>), CertificateError> {
    use rustls_pki_types::pem::{PemObject as _, SectionKind};
    let mut certs = Vec::new();
    let mut keys = Vec::new();
    for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(text) {
        let (kind, der) = section.map_err(|e| CertificateError::Pem(e.to_string()))?;
        match kind {
            SectionKind::Certificate => certs.push(Certificate::from_der(&der)?),
            SectionKind::PublicKey => {
                let spki = x509_cert::spki::SubjectPublicKeyInfoOwned::from_der(&der)?;
                keys.push(public_key(&spki)?.ok_or(CertificateError::UnsupportedKey)?);
            }
            _ => {}
        }
    }
    if certs.is_empty() && keys.is_empty() {
        return Err(CertificateError::EmptyPem);
    }
    Ok((certs, keys))
}

/// Why an `x5c` chain does not vouch for its leaf's key: one variant per rule of RFC 5280 this crate
/// checks. A PINT receiver answers each with `BSIG`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ChainFault {
    #[error("x5c must hold 1 to {X5C_CERTIFICATES_MAX} certificates")]
    Length,
    #[error("certificate {index} of the x5c chain cannot be read: {reason}")]
    Unreadable {
        index: usize,
        #[source]
        reason: CertificateError,
    },
    #[error("certificate {index} of the x5c chain has expired or is not yet valid")]
    NotValidNow { index: usize },
    #[error("certificate {index} of the x5c chain is not signed by the CA after it")]
    NotSignedByNext { index: usize },
    #[error("certificate {issuer} of the x5c chain may not issue certificate {index}: its keyUsage lacks keyCertSign, or its pathLenConstraint is exceeded")]
    MayNotIssue { issuer: usize, index: usize },
    #[error("the leaf certificate's keyUsage does not allow digitalSignature")]
    LeafMayNotSign,
    #[error("the x5c chain does not lead to a trusted root (or the root may not issue it: keyUsage, pathLenConstraint)")]
    NotAnchored,
    #[error("the leaf certificate's key type is not supported")]
    UnsupportedKey,
}

/// Checks an `x5c` header (base64 DER certificates, leaf first) against `roots` at `unix_s`, and
/// returns the leaf's key. Each certificate must be valid then, signed by the next (a CA allowed to
/// issue it), and the last either a trusted root or signed by one.
pub(crate) fn leaf_key(
    x5c: &[serde_json::Value],
    roots: &[Certificate],
    unix_s: i64,
) -> Result<TrustedKey, ChainFault> {
    if x5c.is_empty() || x5c.len() > X5C_CERTIFICATES_MAX {
        return Err(ChainFault::Length);
    }
    let chain = x5c
        .iter()
        .enumerate()
        .map(|(index, c)| {
            let der = c
                .as_str()
                .and_then(crate::base64_decode)
                .ok_or(ChainFault::Unreadable {
                    index,
                    reason: CertificateError::NotBase64,
                })?;
            Certificate::from_der(&der).map_err(|reason| ChainFault::Unreadable { index, reason })
        })
        .collect::<Result<Vec<_>, ChainFault>>()?;
    for (index, cert) in chain.iter().enumerate() {
        if !cert.valid_at(unix_s) {
            return Err(ChainFault::NotValidNow { index });
        }
        if let Some(issuer) = chain.get(index + 1) {
            if cert.issuer != issuer.subject || !issuer.is_ca || !cert.signed_by(issuer) {
                return Err(ChainFault::NotSignedByNext { index });
            }
            // Certificates 1..=index are CAs below the issuer at index + 1; the leaf is not counted.
            if !issuer.may_issue(index) {
                return Err(ChainFault::MayNotIssue {
                    issuer: index + 1,
                    index,
                });
            }
        }
    }
    if !chain[0].may_sign() {
        return Err(ChainFault::LeafMayNotSign);
    }
    let last = chain.last().ok_or(ChainFault::Length)?;
    let below_root = chain.len().saturating_sub(1);
    let anchored = roots.iter().any(|root| {
        root.valid_at(unix_s)
            && (root.der == last.der
                || (last.issuer == root.subject
                    && root.may_issue(below_root)
                    && last.signed_by(root)))
    });
    if !anchored {
        return Err(ChainFault::NotAnchored);
    }
    chain[0].key.clone().ok_or(ChainFault::UnsupportedKey)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A DER short-form length (under 128 bytes), as the hand-built extensions here are.
    fn der_short(len: usize) -> u8 {
        u8::try_from(len).expect("a short DER length")
    }

    /// 2026-12-03T00:00:00Z, when the test chains are checked.
    const DEC_3_2026_S: i64 = 1_796_256_000;

    #[test]
    fn certificates_over_the_size_bound_are_refused_unread() {
        // A SEQUENCE header claiming the largest length, then the bytes: refused by size before parsing.
        let mut der = vec![0x30, 0x82, 0x40, 0x00];
        der.resize(CERTIFICATE_BYTES_MAX + 1, 0);
        let err = Certificate::from_der(&der).expect_err("too large");
        assert_eq!(err, CertificateError::TooLarge);
        // At the bound, it is parsed (and refused for what it is, not for its size).
        der.truncate(CERTIFICATE_BYTES_MAX);
        let err = Certificate::from_der(&der).expect_err("not a certificate");
        assert!(matches!(err, CertificateError::Der(_)), "{err}");
    }

    /// Issue 13: basicConstraints was read without checking that its first element is a BOOLEAN, so a
    /// pathLenConstraint of 255 (INTEGER 0xff) made a certificate a CA.
    #[test]
    fn regression_only_a_boolean_ca_makes_a_ca() {
        // basicConstraints' SEQUENCE with `inner` in it: a CA only when cA is the BOOLEAN TRUE.
        let ca = |inner: &[u8]| {
            let mut bc = vec![0x30, der_short(inner.len())];
            bc.extend_from_slice(inner);
            matches!(basic_constraints(&bc), Ok((true, _)))
        };
        assert!(ca(&[0x01, 0x01, 0xff]), "cA TRUE");
        assert!(
            ca(&[0x01, 0x01, 0xff, 0x02, 0x01, 0x00]),
            "cA TRUE, pathLen 0"
        );
        assert!(!ca(&[0x02, 0x01, 0xff]), "an INTEGER 255 is no cA");
        assert!(!ca(&[0x02, 0x01, 0x05]), "a pathLen alone is no cA");
        assert!(!ca(&[]), "empty: not a CA");
    }

    /// A CA (or leaf) certificate made by rcgen, with Ed25519 keys.
    struct Made {
        der: Vec<u8>,
        params: rcgen::CertificateParams,
        key: rcgen::KeyPair,
    }

    fn params(
        name: &str,
        ca: Option<rcgen::BasicConstraints>,
        usages: &[rcgen::KeyUsagePurpose],
    ) -> rcgen::CertificateParams {
        let mut p = rcgen::CertificateParams::new(vec![]).expect("params");
        p.distinguished_name.push(rcgen::DnType::CommonName, name);
        if let Some(bc) = ca {
            p.is_ca = rcgen::IsCa::Ca(bc);
        }
        p.key_usages = usages.to_vec();
        p
    }

    fn root(p: rcgen::CertificateParams) -> Made {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
        let der = p.self_signed(&key).expect("self-signed").der().to_vec();
        Made {
            der,
            params: p,
            key,
        }
    }

    fn issued(p: rcgen::CertificateParams, by: &Made) -> Made {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("key");
        let issuer = rcgen::Issuer::new(by.params.clone(), &by.key);
        let der = p.signed_by(&key, &issuer).expect("signed").der().to_vec();
        Made {
            der,
            params: p,
            key,
        }
    }

    fn check_chain(chain: &[&Made], anchor: &Made) -> Result<TrustedKey, ChainFault> {
        let x5c: Vec<serde_json::Value> = chain
            .iter()
            .map(|c| crate::base64_encode(&c.der).into())
            .collect();
        let roots = [Certificate::from_der(&anchor.der).expect("root")];
        leaf_key(&x5c, &roots, DEC_3_2026_S)
    }

    /// Issue 13: keyUsage and pathLenConstraint were ignored: a CA allowed no intermediates issued
    /// one that signed, a CA without keyCertSign issued certificates, a leaf without
    /// digitalSignature signed JWS.
    #[test]
    fn regression_key_usage_and_path_len_are_ignored() {
        use rcgen::BasicConstraints::{Constrained, Unconstrained};
        use rcgen::KeyUsagePurpose::{DigitalSignature, KeyCertSign};
        let issuing = [KeyCertSign, DigitalSignature];
        let leaf =
            |by: &Made, usages: &[rcgen::KeyUsagePurpose]| issued(params("leaf", None, usages), by);
        // A well-formed chain: root (pathLen 1) -> intermediate -> leaf.
        let anchor = root(params("root", Some(Constrained(1)), &issuing));
        let middle = issued(params("middle", Some(Unconstrained), &issuing), &anchor);
        let good = leaf(&middle, &[DigitalSignature]);
        assert!(check_chain(&[&good, &middle], &anchor).is_ok());
        // pathLen 0 at the root: it may issue leaves only, not an intermediate that issues.
        let strict = root(params("strict", Some(Constrained(0)), &issuing));
        let under = issued(params("under", Some(Unconstrained), &issuing), &strict);
        let below = leaf(&under, &[DigitalSignature]);
        let err = check_chain(&[&below, &under], &strict).expect_err("pathLen 0 exceeded");
        assert_eq!(
            err,
            ChainFault::NotAnchored,
            "the root may not issue the intermediate"
        );
        assert!(
            check_chain(&[&leaf(&strict, &[DigitalSignature])], &strict).is_ok(),
            "a leaf under pathLen 0"
        );
        // pathLen 0 on an intermediate, with another CA below it.
        let zero = issued(params("zero", Some(Constrained(0)), &issuing), &anchor);
        let deeper = issued(params("deeper", Some(Unconstrained), &issuing), &zero);
        let err = check_chain(
            &[&leaf(&deeper, &[DigitalSignature]), &deeper, &zero],
            &anchor,
        )
        .expect_err("an intermediate's pathLen 0 exceeded");
        assert_eq!(
            err,
            ChainFault::MayNotIssue {
                issuer: 2,
                index: 1
            }
        );
        // A CA whose keyUsage lacks keyCertSign issues nothing.
        let no_sign = issued(
            params("nosign", Some(Unconstrained), &[DigitalSignature]),
            &anchor,
        );
        let err = check_chain(&[&leaf(&no_sign, &[DigitalSignature]), &no_sign], &anchor)
            .expect_err("no keyCertSign");
        assert_eq!(
            err,
            ChainFault::MayNotIssue {
                issuer: 1,
                index: 0
            }
        );
        // A leaf whose keyUsage lacks digitalSignature signs no JWS.
        let err = check_chain(&[&leaf(&middle, &[KeyCertSign]), &middle], &anchor)
            .expect_err("no digitalSignature");
        assert_eq!(err, ChainFault::LeafMayNotSign);
        // No keyUsage at all: any use, as RFC 5280 says.
        assert!(check_chain(&[&leaf(&middle, &[]), &middle], &anchor).is_ok());
    }

    /// RFC 5280 §4.2: a certificate with a critical extension the reader does not process is refused;
    /// the hand-written reader before issue 36 read past it.
    #[test]
    fn a_certificate_with_an_unknown_critical_extension_is_refused() {
        let with = |critical: bool| {
            let mut p = params("ext", None, &[]);
            let mut ext = rcgen::CustomExtension::from_oid_content(
                &[1, 3, 6, 1, 4, 1, 99_999, 1],
                vec![0x05, 0x00],
            );
            ext.set_criticality(critical);
            p.custom_extensions.push(ext);
            Certificate::from_der(&root(p).der)
        };
        assert!(matches!(
            with(true),
            Err(CertificateError::UnknownCritical(_))
        ));
        assert!(with(false).is_ok(), "a non-critical one is passed over");
    }

    #[test]
    fn truncated_der_is_refused_not_read_past() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x01],
            &[0x30, 0x85, 1, 1, 1, 1, 1],
        ] {
            assert!(Certificate::from_der(bad).is_err());
        }
    }
}
