//! `x5c` certificate chains (RFC 7515 §4.1.6): the leaf certificate's key signs the JWS, and each
//! certificate is signed by the next, up to a root in the trust store, all valid at the time given.
//!
//! Only what that needs of X.509 is read, with a small bounds-checked DER reader: names are compared as
//! DER bytes, issuers must be CAs (basicConstraints), and certificates may be signed with Ed25519,
//! RSA PKCS#1 v1.5 with SHA-256, or ECDSA P-256 with SHA-256.

use crate::jws::TrustedKey;

/// Longest `x5c` chain accepted, leaf included.
pub const X5C_CERTIFICATES_MAX: usize = 8;
/// Largest DER certificate accepted, in bytes.
pub const CERTIFICATE_BYTES_MAX: usize = 16 * 1024;

const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_SHA256_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
/// keyUsage bits (RFC 5280 §4.2.1.3), as the first byte of the BIT STRING holds them.
const KEY_USAGE_DIGITAL_SIGNATURE: u8 = 0x80;
const KEY_USAGE_KEY_CERT_SIGN: u8 = 0x04;

/// One DER element: its tag, its contents, and the whole encoding.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    value: &'a [u8],
    raw: &'a [u8],
}

/// Reads consecutive DER elements from a byte string.
struct Der<'a>(&'a [u8]);

impl<'a> Der<'a> {
    fn next(&mut self) -> Result<Tlv<'a>, String> {
        let bytes = self.0;
        let (&tag, rest) = bytes.split_first().ok_or("truncated DER")?;
        let (&first, rest) = rest.split_first().ok_or("truncated DER")?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 || rest.len() < n {
                return Err("unsupported DER length".into());
            }
            let len = rest[..n]
                .iter()
                .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            (len, &rest[n..])
        };
        if rest.len() < len {
            return Err("truncated DER".into());
        }
        let header = bytes.len() - rest.len();
        let (value, after) = rest.split_at(len);
        self.0 = after;
        Ok(Tlv {
            tag,
            value,
            raw: &bytes[..header + len],
        })
    }

    fn expect(&mut self, tag: u8, what: &str) -> Result<Tlv<'a>, String> {
        let tlv = self.next()?;
        if tlv.tag != tag {
            return Err(format!("{what}: unexpected DER tag {:#04x}", tlv.tag));
        }
        Ok(tlv)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// The parts of a certificate that chain checks read.
#[derive(Debug, Clone)]
pub(crate) struct Certificate {
    pub(crate) der: Vec<u8>,
    tbs: Vec<u8>,
    signature_algorithm: Vec<u8>,
    signature: Vec<u8>,
    issuer: Vec<u8>,
    pub(crate) subject: Vec<u8>,
    not_before_s: i64,
    not_after_s: i64,
    pub(crate) key: Option<TrustedKey>,
    is_ca: bool,
    /// basicConstraints' pathLenConstraint: how many CA certificates may follow this one down a chain.
    path_len: Option<u64>,
    /// keyUsage's first byte, when the certificate has the extension (no extension: any use).
    key_usage: Option<u8>,
}

/// What a certificate's extensions say of its use.
#[derive(Debug, Default, PartialEq, Eq)]
struct Constraints {
    is_ca: bool,
    path_len: Option<u64>,
    key_usage: Option<u8>,
}

fn bit_string(tlv: Tlv<'_>) -> Result<&[u8], String> {
    match tlv.value.split_first() {
        Some((0, bits)) => Ok(bits),
        _ => Err("a BIT STRING with unused bits".into()),
    }
}

/// The algorithm OID of an `AlgorithmIdentifier`.
fn algorithm(tlv: Tlv<'_>) -> Result<(Vec<u8>, Option<Tlv<'_>>), String> {
    let mut d = Der(tlv.value);
    let oid = d.expect(0x06, "algorithm")?.value.to_vec();
    let params = if d.is_empty() { None } else { Some(d.next()?) };
    Ok((oid, params))
}

fn public_key(spki: Tlv<'_>) -> Result<Option<TrustedKey>, String> {
    let mut d = Der(spki.value);
    let (oid, params) = algorithm(d.expect(0x30, "subjectPublicKeyInfo")?)?;
    let bits = bit_string(d.expect(0x03, "subjectPublicKey")?)?;
    Ok(match oid.as_slice() {
        OID_ED25519 => {
            let raw: [u8; 32] = bits.try_into().map_err(|_| "Ed25519 key is not 32 bytes")?;
            Some(TrustedKey::Ed25519(
                ebl_core::PartyKey::from_bytes(raw).map_err(|e| e.to_string())?,
            ))
        }
        OID_RSA => {
            let mut k = Der(bits);
            let mut inner = Der(k.expect(0x30, "RSAPublicKey")?.value);
            let n = rsa::BigUint::from_bytes_be(inner.expect(0x02, "modulus")?.value);
            let e = rsa::BigUint::from_bytes_be(inner.expect(0x02, "exponent")?.value);
            if n.bits() < crate::RSA_BITS_MIN {
                return Err(format!(
                    "RSA keys need at least {} bits",
                    crate::RSA_BITS_MIN
                ));
            }
            Some(TrustedKey::Rsa(
                rsa::RsaPublicKey::new(n, e).map_err(|e| e.to_string())?,
            ))
        }
        OID_EC_PUBLIC_KEY if params.is_some_and(|p| p.value == OID_P256) => Some(TrustedKey::P256(
            p256::ecdsa::VerifyingKey::from_sec1_bytes(bits).map_err(|_| "not a point on P-256")?,
        )),
        // A key this crate cannot verify with: usable in the chain only as a trusted name.
        _ => None,
    })
}

/// Seconds since 1970 of a civil date (proleptic Gregorian), for certificate validity.
fn unix_seconds(y: i64, m: i64, d: i64, hh: i64, mm: i64, ss: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + hh * 3600 + mm * 60 + ss
}

fn time(tlv: Tlv<'_>) -> Result<i64, String> {
    let text = std::str::from_utf8(tlv.value).map_err(|_| "a time is not ASCII")?;
    let digits = text.strip_suffix('Z').ok_or("a time not in UTC")?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err("a malformed time".into());
    }
    let num = |s: &str| s.parse::<i64>().map_err(|_| "a malformed time".to_string());
    let (year, rest) = match (tlv.tag, digits.len()) {
        // UTCTime: two-digit years, 1950 to 2049 (RFC 5280 §4.1.2.5.1).
        (0x17, 12) => {
            let yy = num(&digits[..2])?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, &digits[2..])
        }
        (0x18, 14) => (num(&digits[..4])?, &digits[4..]),
        _ => return Err("a malformed time".into()),
    };
    Ok(unix_seconds(
        year,
        num(&rest[0..2])?,
        num(&rest[2..4])?,
        num(&rest[4..6])?,
        num(&rest[6..8])?,
        num(&rest[8..10])?,
    ))
}

/// What the extensions say: a CA (basicConstraints cA = TRUE, and its pathLenConstraint) and the
/// keyUsage bits.
fn constraints(extensions: Tlv<'_>) -> Result<Constraints, String> {
    let mut found = Constraints::default();
    let mut outer = Der(extensions.value);
    let mut list = Der(outer.expect(0x30, "extensions")?.value);
    while !list.is_empty() {
        let mut ext = Der(list.expect(0x30, "extension")?.value);
        let oid = ext.expect(0x06, "extnID")?;
        let mut value = ext.next()?;
        if value.tag == 0x01 {
            value = ext.next()?;
        }
        if oid.value == OID_BASIC_CONSTRAINTS {
            let mut seq = Der(Der(value.value).expect(0x30, "basicConstraints")?.value);
            if seq.is_empty() {
                continue;
            }
            // cA is a BOOLEAN, and first; a pathLenConstraint alone (an INTEGER) says nothing of it.
            let first = seq.next()?;
            if first.tag == 0x01 && first.value == [0xff] {
                found.is_ca = true;
                if !seq.is_empty() {
                    let len = seq.expect(0x02, "pathLenConstraint")?;
                    if len.value.is_empty() || len.value.len() > 8 || len.value[0] & 0x80 != 0 {
                        return Err(
                            "a pathLenConstraint that is not a small non-negative INTEGER".into(),
                        );
                    }
                    found.path_len = Some(
                        len.value
                            .iter()
                            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
                    );
                }
            }
        } else if oid.value == OID_KEY_USAGE {
            let bits = Der(value.value).expect(0x03, "keyUsage")?;
            // The first content byte counts the unused bits of the last; the usage bits follow.
            found.key_usage = Some(match bits.value {
                [unused, first, ..] if *unused < 8 => *first,
                [unused] if *unused == 0 => 0,
                _ => return Err("a malformed keyUsage".into()),
            });
        }
    }
    Ok(found)
}

impl Certificate {
    pub(crate) fn from_der(der: &[u8]) -> Result<Certificate, String> {
        if der.len() > CERTIFICATE_BYTES_MAX {
            return Err(format!(
                "a certificate larger than {CERTIFICATE_BYTES_MAX} bytes"
            ));
        }
        let mut top = Der(der);
        let cert = top.expect(0x30, "certificate")?;
        if !top.is_empty() {
            return Err("bytes after the certificate".into());
        }
        let mut parts = Der(cert.value);
        let tbs = parts.expect(0x30, "tbsCertificate")?;
        let (signature_algorithm, _) = algorithm(parts.expect(0x30, "signatureAlgorithm")?)?;
        let signature = bit_string(parts.expect(0x03, "signatureValue")?)?.to_vec();

        let mut t = Der(tbs.value);
        let mut field = t.next()?;
        if field.tag == 0xa0 {
            field = t.next()?; // the version; the serial number follows
        }
        if field.tag != 0x02 {
            return Err("tbsCertificate: no serial number".into());
        }
        t.expect(0x30, "signature")?;
        let issuer = t.expect(0x30, "issuer")?.raw.to_vec();
        let mut validity = Der(t.expect(0x30, "validity")?.value);
        let not_before_s = time(validity.next()?)?;
        let not_after_s = time(validity.next()?)?;
        let subject = t.expect(0x30, "subject")?.raw.to_vec();
        let key = public_key(t.expect(0x30, "subjectPublicKeyInfo")?)?;
        let mut found = Constraints::default();
        while !t.is_empty() {
            let optional = t.next()?;
            if optional.tag == 0xa3 {
                found = constraints(optional)?;
            }
        }
        Ok(Certificate {
            der: der.to_vec(),
            tbs: tbs.raw.to_vec(),
            signature_algorithm,
            signature,
            issuer,
            subject,
            not_before_s,
            not_after_s,
            key,
            is_ca: found.is_ca,
            path_len: found.path_len,
            key_usage: found.key_usage,
        })
    }

    /// Whether this certificate may sign certificates with `below` CA certificates under it before the
    /// leaf: a CA, whose keyUsage (if any) has keyCertSign, within its pathLenConstraint.
    fn may_issue(&self, below: usize) -> bool {
        self.is_ca
            && self
                .key_usage
                .is_none_or(|bits| bits & KEY_USAGE_KEY_CERT_SIGN != 0)
            && self
                .path_len
                .is_none_or(|len| u64::try_from(below).is_ok_and(|below| below <= len))
    }

    /// Whether this certificate's key may sign a JWS: keyUsage (if any) has digitalSignature.
    fn may_sign(&self) -> bool {
        self.key_usage
            .is_none_or(|bits| bits & KEY_USAGE_DIGITAL_SIGNATURE != 0)
    }

    /// Whether `issuer`'s key made this certificate's signature.
    fn signed_by(&self, issuer: &Certificate) -> bool {
        use rsa::signature::Verifier as _;
        let (msg, sig) = (self.tbs.as_slice(), self.signature.as_slice());
        match (self.signature_algorithm.as_slice(), &issuer.key) {
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
        self.not_before_s <= unix_s && unix_s <= self.not_after_s
    }
}

/// The base64 bodies of every `label` block of a PEM text, decoded.
fn pem_blocks(text: &str, label: &str) -> Result<Vec<Vec<u8>>, String> {
    let (begin, end) = (
        format!("-----BEGIN {label}-----"),
        format!("-----END {label}-----"),
    );
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find(&begin) {
        let body = &rest[start + begin.len()..];
        let stop = body
            .find(&end)
            .ok_or_else(|| format!("a PEM {label} without its END line"))?;
        let b64: String = body[..stop].split_whitespace().collect();
        blocks.push(crate::base64_decode(&b64).ok_or("PEM body is not base64")?);
        rest = &body[stop..];
    }
    Ok(blocks)
}

/// What a PEM text in a trust directory holds: certificates (roots for `x5c` chains, whose own keys
/// may also sign directly) and bare public keys (`PUBLIC KEY`, SubjectPublicKeyInfo).
pub(crate) fn pem_contents(text: &[u8]) -> Result<(Vec<Certificate>, Vec<TrustedKey>), String> {
    let text = std::str::from_utf8(text).map_err(|_| "PEM is not text")?;
    let certs = pem_blocks(text, "CERTIFICATE")?
        .iter()
        .map(|der| Certificate::from_der(der))
        .collect::<Result<Vec<_>, _>>()?;
    let mut keys = Vec::new();
    for der in pem_blocks(text, "PUBLIC KEY")? {
        let mut d = Der(&der);
        let spki = d.expect(0x30, "subjectPublicKeyInfo")?;
        keys.push(public_key(spki)?.ok_or("the public key's type is not supported")?);
    }
    if certs.is_empty() && keys.is_empty() {
        return Err("no certificate or public key in the PEM text".into());
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
    Unreadable { index: usize, reason: String },
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
            let der = c.as_str().and_then(crate::base64_decode).ok_or_else(|| {
                ChainFault::Unreadable {
                    index,
                    reason: "not base64".into(),
                }
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

    #[test]
    fn civil_dates_to_unix_seconds() {
        assert_eq!(unix_seconds(1970, 1, 1, 0, 0, 0), 0);
        assert_eq!(unix_seconds(2000, 2, 29, 0, 0, 0), 951_782_400);
        assert_eq!(unix_seconds(2026, 11, 27, 10, 59, 53), 1_795_777_193);
    }

    #[test]
    fn certificates_over_the_size_bound_are_refused_unread() {
        // A SEQUENCE header claiming the largest length, then the bytes: refused by size before parsing.
        let mut der = vec![0x30, 0x82, 0x40, 0x00];
        der.resize(CERTIFICATE_BYTES_MAX + 1, 0);
        let err = Certificate::from_der(&der).expect_err("too large");
        assert!(err.contains("larger than"), "{err}");
        // At the bound, it is parsed (and refused for what it is, not for its size).
        der.truncate(CERTIFICATE_BYTES_MAX);
        let err = Certificate::from_der(&der).expect_err("not a certificate");
        assert!(!err.contains("larger than"), "{err}");
    }

    /// Issue 13: basicConstraints was read without checking that its first element is a BOOLEAN, so a
    /// pathLenConstraint of 255 (INTEGER 0xff) made a certificate a CA.
    #[test]
    fn regression_only_a_boolean_ca_makes_a_ca() {
        let extensions = |inner: &[u8]| {
            let mut bc = vec![0x30, der_short(inner.len())];
            bc.extend_from_slice(inner);
            let mut octets = vec![0x04, der_short(bc.len())];
            octets.extend_from_slice(&bc);
            let mut ext = vec![0x06, 0x03, 0x55, 0x1d, 0x13];
            ext.extend_from_slice(&octets);
            let mut ext_seq = vec![0x30, der_short(ext.len())];
            ext_seq.extend_from_slice(&ext);
            let mut list = vec![0x30, der_short(ext_seq.len())];
            list.extend_from_slice(&ext_seq);
            let mut tagged = vec![0xa3, der_short(list.len())];
            tagged.extend_from_slice(&list);
            tagged
        };
        let check = |inner: &[u8]| {
            let bytes = extensions(inner);
            let tlv = Der(&bytes).next().expect("tlv");
            constraints(tlv).expect("parses").is_ca
        };
        assert!(check(&[0x01, 0x01, 0xff]), "cA TRUE");
        assert!(
            check(&[0x01, 0x01, 0xff, 0x02, 0x01, 0x00]),
            "cA TRUE, pathLen 0"
        );
        assert!(!check(&[0x02, 0x01, 0xff]), "an INTEGER 255 is no cA");
        assert!(!check(&[]), "empty: not a CA");
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
        let now = unix_seconds(2026, 12, 3, 0, 0, 0);
        leaf_key(&x5c, &roots, now)
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
