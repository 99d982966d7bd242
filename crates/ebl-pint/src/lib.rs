//! `ebl-pint`: DCSA PINT 3.0, the exchange of eBLs between platforms. Envelopes from other platforms: compact JWS signatures checked against a trust store,
//! the transfer chain's hash links, the manifest's and the document's checksums, and the action rules,
//! answered with PINT's response codes.
//!
//! Supported: EdDSA (Ed25519, RFC 8037, checked with `verify_strict`), RS256 and PS256 (RSA of at least
//! 2048 bits) and ES256 (P-256), with keys from JWK sets. `x5c` certificate chains are not supported yet:
//! keys are trusted by `kid` only, and an unknown `kid` is answered `BSIG`, never accepted.

use std::collections::BTreeMap;

use serde_json::Value;

use ebl_core::jcs;
use ebl_core::{Hash, PartyKey, SignatureBytes};

/// Largest envelope accepted, in bytes.
pub const ENVELOPE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most entries in a transfer chain.
pub const TRANSFER_CHAIN_ENTRIES_MAX: usize = 1024;
/// Longest compact JWS accepted (an entry, or the manifest).
pub const JWS_BYTES_MAX: usize = 256 * 1024;

/// PINT's answers to a sending platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum PintCode {
    /// Received.
    #[serde(rename = "RECE")]
    Received,
    /// The same envelope again.
    #[serde(rename = "DUPE")]
    Duplicate,
    /// A signature does not verify, or is by an untrusted or unsupported key.
    #[serde(rename = "BSIG")]
    BadSignature,
    /// The envelope is malformed or its chain is broken.
    #[serde(rename = "BENV")]
    BadEnvelope,
    /// A document checksum does not match.
    #[serde(rename = "INCD")]
    IncorrectDocument,
    /// A document the manifest names is missing.
    #[serde(rename = "MDOC")]
    MissingDocument,
    /// The history conflicts with one already received (a double spend).
    #[serde(rename = "DISE")]
    Disputed,
}

impl PintCode {
    pub fn code(self) -> &'static str {
        match self {
            PintCode::Received => "RECE",
            PintCode::Duplicate => "DUPE",
            PintCode::BadSignature => "BSIG",
            PintCode::BadEnvelope => "BENV",
            PintCode::IncorrectDocument => "INCD",
            PintCode::MissingDocument => "MDOC",
            PintCode::Disputed => "DISE",
        }
    }
}

/// Why an envelope was not received, as PINT answers it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} at {place}: {reason}", code.code())]
pub struct PintFailure {
    pub code: PintCode,
    pub place: String,
    pub reason: String,
}

fn fail(code: PintCode, place: &str, reason: impl Into<String>) -> PintFailure {
    PintFailure {
        code,
        place: place.to_owned(),
        reason: reason.into(),
    }
}

/// RFC 4648 base64url without padding, as JWS uses it.
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    // Leftover bits must be zero padding of the last character, and a lone character is never valid.
    if bits >= 6 || acc & ((1 << bits) - 1) != 0 {
        return None;
    }
    Some(out)
}

pub fn base64url_encode(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | u32::from(*b) << (16 - 8 * i));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
        }
    }
    out
}

/// Smallest RSA modulus trusted, in bits.
pub const RSA_BITS_MIN: usize = 2048;

/// A trusted platform key.
#[derive(Debug, Clone)]
enum TrustedKey {
    Ed25519(PartyKey),
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// Platform keys trusted to sign envelopes, by JWS `kid`.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: BTreeMap<String, TrustedKey>,
}

impl TrustStore {
    /// Adds the Ed25519 keys of a JWK or a JWK set (`{"keys": [...]}`); returns how many were added.
    /// Keys of other types are skipped: they cannot verify here.
    pub fn add_jwks(&mut self, text: &[u8]) -> Result<usize, PintFailure> {
        let value = jcs::parse(text)
            .map_err(|e| fail(PintCode::BadEnvelope, "trust store", e.to_string()))?;
        let keys = match value.get("keys") {
            Some(Value::Array(keys)) => keys.clone(),
            _ => vec![value],
        };
        let mut added = 0;
        for jwk in keys {
            let field = |name: &str| jwk.get(name).and_then(Value::as_str);
            let bad = |reason: String| fail(PintCode::BadEnvelope, "trust store", reason);
            let kid = field("kid").ok_or_else(|| bad("a JWK without kid".into()))?;
            let bytes = |name: &str| {
                field(name)
                    .and_then(base64url_decode)
                    .ok_or_else(|| bad(format!("JWK {kid}: {name} is not base64url")))
            };
            let key = match (field("kty"), field("crv")) {
                (Some("OKP"), Some("Ed25519")) => {
                    let raw: [u8; 32] = bytes("x")?
                        .try_into()
                        .map_err(|_| bad(format!("JWK {kid}: x is not 32 bytes")))?;
                    TrustedKey::Ed25519(
                        PartyKey::from_bytes(raw).map_err(|e| bad(format!("JWK {kid}: {e}")))?,
                    )
                }
                (Some("RSA"), _) => {
                    let n = rsa::BigUint::from_bytes_be(&bytes("n")?);
                    let e = rsa::BigUint::from_bytes_be(&bytes("e")?);
                    if n.bits() < RSA_BITS_MIN {
                        return Err(bad(format!(
                            "JWK {kid}: RSA keys need at least {RSA_BITS_MIN} bits"
                        )));
                    }
                    TrustedKey::Rsa(
                        rsa::RsaPublicKey::new(n, e).map_err(|e| bad(format!("JWK {kid}: {e}")))?,
                    )
                }
                (Some("EC"), Some("P-256")) => {
                    let (x, y) = (bytes("x")?, bytes("y")?);
                    if x.len() != 32 || y.len() != 32 {
                        return Err(bad(format!("JWK {kid}: P-256 coordinates are 32 bytes")));
                    }
                    let point = p256::EncodedPoint::from_affine_coordinates(
                        x.as_slice().into(),
                        y.as_slice().into(),
                        false,
                    );
                    TrustedKey::P256(
                        p256::ecdsa::VerifyingKey::from_encoded_point(&point)
                            .map_err(|_| bad(format!("JWK {kid}: not a point on P-256")))?,
                    )
                }
                // Other key types cannot verify here: skipped.
                _ => continue,
            };
            self.keys.insert(kid.to_owned(), key);
            added += 1;
        }
        Ok(added)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// A compact JWS: its header parsed, its payload still raw until the signature has been checked.
#[derive(Debug, Clone)]
struct Jws<'a> {
    header: Value,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

fn parse_jws<'a>(text: &'a str, place: &str) -> Result<Jws<'a>, PintFailure> {
    if text.len() > JWS_BYTES_MAX {
        return Err(fail(
            PintCode::BadEnvelope,
            place,
            format!("JWS longer than {JWS_BYTES_MAX} bytes"),
        ));
    }
    let mut parts = text.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(fail(
            PintCode::BadEnvelope,
            place,
            "not a compact JWS (three base64url parts)",
        ));
    };
    let header = base64url_decode(h)
        .and_then(|bytes| jcs::parse(&bytes).ok())
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                place,
                "JWS header is not base64url JSON",
            )
        })?;
    let signature = base64url_decode(s)
        .ok_or_else(|| fail(PintCode::BadSignature, place, "signature is not base64url"))?;
    Ok(Jws {
        header,
        signing_input: &text[..h.len() + 1 + p.len()],
        payload: p,
        signature,
    })
}

/// Checks the signature over the raw bytes first, and only then reads the payload: a flipped byte is a
/// bad signature whatever it did to the JSON.
fn verified_payload(jws: &Jws<'_>, trust: &TrustStore, place: &str) -> Result<Value, PintFailure> {
    verify_jws(jws, trust, place)?;
    base64url_decode(jws.payload)
        .and_then(|bytes| jcs::parse(&bytes).ok())
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                place,
                "JWS payload is not base64url JSON",
            )
        })
}

fn verify_jws(jws: &Jws<'_>, trust: &TrustStore, place: &str) -> Result<(), PintFailure> {
    use rsa::signature::Verifier as _;
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !["EdDSA", "RS256", "PS256", "ES256"].contains(&alg) {
        return Err(fail(
            PintCode::BadSignature,
            place,
            format!("unsupported algorithm {alg:?} (EdDSA, RS256, PS256 and ES256 are supported)"),
        ));
    }
    let kid = jws.header.get("kid").and_then(Value::as_str).unwrap_or("");
    let key = trust.keys.get(kid).ok_or_else(|| {
        fail(
            PintCode::BadSignature,
            place,
            format!("key {kid:?} is not in the trust store"),
        )
    })?;
    let message = jws.signing_input.as_bytes();
    let sig = jws.signature.as_slice();
    let verified = match (alg, key) {
        ("EdDSA", TrustedKey::Ed25519(k)) => match <[u8; 64]>::try_from(sig) {
            Ok(s) => k.verify(message, &SignatureBytes(s)),
            Err(_) => false,
        },
        ("RS256", TrustedKey::Rsa(k)) => rsa::pkcs1v15::Signature::try_from(sig).is_ok_and(|s| {
            rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(k.clone())
                .verify(message, &s)
                .is_ok()
        }),
        ("ES256", TrustedKey::P256(k)) => p256::ecdsa::Signature::from_slice(sig)
            .is_ok_and(|s| rsa::signature::Verifier::verify(k, message, &s).is_ok()),
        ("PS256", TrustedKey::Rsa(k)) => rsa::pss::Signature::try_from(sig).is_ok_and(|s| {
            rsa::pss::VerifyingKey::<sha2::Sha256>::new(k.clone())
                .verify(message, &s)
                .is_ok()
        }),
        _ => {
            return Err(fail(
                PintCode::BadSignature,
                place,
                format!("key {kid:?} is not a key for {alg}"),
            ))
        }
    };
    if !verified {
        return Err(fail(
            PintCode::BadSignature,
            place,
            "signature does not verify",
        ));
    }
    Ok(())
}

fn checksum_field(payload: &Value, field: &str, place: &str) -> Result<Option<Hash>, PintFailure> {
    match payload.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => s.parse().map(Some).map_err(|_| {
            fail(
                PintCode::BadEnvelope,
                place,
                format!("{field} is not a SHA-256 in hex"),
            )
        }),
        Some(_) => Err(fail(
            PintCode::BadEnvelope,
            place,
            format!("{field} is not a string"),
        )),
    }
}

/// A supporting document the manifest says must accompany the envelope.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NamedDocument {
    pub name: String,
    pub checksum: Hash,
    pub size: u64,
}

/// What a received envelope says.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EnvelopeVerdict {
    pub code: PintCode,
    pub transport_document_reference: String,
    pub document_checksum: Hash,
    /// Action codes of the whole chain, in order.
    pub actions: Vec<String>,
    /// The platforms that signed each entry.
    pub platforms: Vec<String>,
    /// Documents the manifest requires besides the transport document.
    pub documents: Vec<NamedDocument>,
}

const ACTION_CODES: [&str; 10] = [
    "ISSUE",
    "ENDORSE",
    "ENDORSE_TO_ORDER",
    "BLANK_ENDORSE",
    "SIGN",
    "TRANSFER",
    "SURRENDER_FOR_AMENDMENT",
    "SURRENDER_FOR_DELIVERY",
    "SACC",
    "SREJ",
];

/// Verifies an `EblEnvelope` (its JSON text) against `trust`. `RECE` if it is sound; otherwise the code
/// PINT answers with, the place and the reason.
pub fn verify_envelope(text: &[u8], trust: &TrustStore) -> Result<EnvelopeVerdict, PintFailure> {
    if text.len() > ENVELOPE_BYTES_MAX {
        return Err(fail(
            PintCode::BadEnvelope,
            "envelope",
            format!("larger than {ENVELOPE_BYTES_MAX} bytes"),
        ));
    }
    let envelope =
        jcs::parse(text).map_err(|e| fail(PintCode::BadEnvelope, "envelope", e.to_string()))?;
    let document = envelope
        .get("transportDocument")
        .filter(|d| d.is_object())
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "envelope",
                "no transportDocument object",
            )
        })?;
    let document_checksum = jcs::canonicalize(document)
        .map(|c| Hash::of(c.as_bytes()))
        .map_err(|e| fail(PintCode::BadEnvelope, "transportDocument", e.to_string()))?;
    let reference = document
        .get("transportDocumentReference")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let manifest_text = envelope
        .get("envelopeManifestSignedContent")
        .and_then(Value::as_str)
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "envelope",
                "no envelopeManifestSignedContent",
            )
        })?;
    let chain: Vec<&str> = match envelope.get("envelopeTransferChain") {
        Some(Value::Array(entries))
            if !entries.is_empty() && entries.len() <= TRANSFER_CHAIN_ENTRIES_MAX =>
        {
            entries
                .iter()
                .map(|e| {
                    e.as_str().ok_or_else(|| {
                        fail(
                            PintCode::BadEnvelope,
                            "envelopeTransferChain",
                            "an entry is not a string",
                        )
                    })
                })
                .collect::<Result<_, _>>()?
        }
        _ => {
            return Err(fail(
                PintCode::BadEnvelope,
                "envelopeTransferChain",
                format!("must hold 1 to {TRANSFER_CHAIN_ENTRIES_MAX} entries"),
            ))
        }
    };

    // The manifest, signed by the sending platform.
    let manifest = parse_jws(manifest_text, "manifest")?;
    let manifest = verified_payload(&manifest, trust, "manifest")?;
    if checksum_field(&manifest, "transportDocumentChecksum", "manifest")?
        != Some(document_checksum)
    {
        return Err(fail(
            PintCode::IncorrectDocument,
            "manifest",
            "transportDocumentChecksum is not the document's",
        ));
    }
    let last = chain.last().copied().unwrap_or("");
    if checksum_field(
        &manifest,
        "lastEnvelopeTransferChainEntrySignedContentChecksum",
        "manifest",
    )? != Some(Hash::of(last.as_bytes()))
    {
        return Err(fail(
            PintCode::BadEnvelope,
            "manifest",
            "the last chain entry is not the one the manifest names",
        ));
    }
    let mut documents = Vec::new();
    let mut named = |value: &Value| -> Result<(), PintFailure> {
        let checksum = checksum_field(value, "documentChecksum", "manifest")?.ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                "manifest",
                "a document without documentChecksum",
            )
        })?;
        documents.push(NamedDocument {
            name: value
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            checksum,
            size: value.get("size").and_then(Value::as_u64).unwrap_or(0),
        });
        Ok(())
    };
    if let Some(v) = manifest
        .get("eBLVisualisationByCarrier")
        .filter(|v| !v.is_null())
    {
        named(v)?;
    }
    if let Some(Value::Array(docs)) = manifest.get("supportingDocuments") {
        for d in docs {
            named(d)?;
        }
    }

    // The chain, from the issuance to the last transfer, each entry linked to the one before.
    let mut actions = Vec::new();
    let mut platforms = Vec::new();
    for (i, entry_text) in chain.iter().enumerate() {
        let place = format!("transfer chain entry {i}");
        let entry = parse_jws(entry_text, &place)?;
        let payload = &verified_payload(&entry, trust, &place)?;
        if checksum_field(payload, "transportDocumentChecksum", &place)? != Some(document_checksum)
        {
            return Err(fail(
                PintCode::IncorrectDocument,
                &place,
                "transportDocumentChecksum is not the document's",
            ));
        }
        let previous = checksum_field(
            payload,
            "previousEnvelopeTransferChainEntrySignedContentChecksum",
            &place,
        )?;
        if i == 0 {
            if previous.is_some() {
                return Err(fail(
                    PintCode::BadEnvelope,
                    &place,
                    "the first entry links to a previous one",
                ));
            }
            let issuance = payload
                .get("issuanceManifestSignedContent")
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    fail(
                        PintCode::BadEnvelope,
                        &place,
                        "the first entry carries no issuance manifest",
                    )
                })?;
            let issuance = parse_jws(issuance, "issuance manifest")?;
            let issuance = verified_payload(&issuance, trust, "issuance manifest")?;
            if checksum_field(&issuance, "documentChecksum", "issuance manifest")?
                != Some(document_checksum)
            {
                return Err(fail(
                    PintCode::IncorrectDocument,
                    "issuance manifest",
                    "documentChecksum is not the document's",
                ));
            }
        } else if previous != Some(Hash::of(chain[i - 1].as_bytes())) {
            return Err(fail(
                PintCode::BadEnvelope,
                &place,
                "does not link to the entry before it",
            ));
        }
        platforms.push(
            payload
                .get("eblPlatform")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
        );
        let transactions = match payload.get("transactions") {
            Some(Value::Array(t)) if !t.is_empty() => t,
            _ => {
                return Err(fail(
                    PintCode::BadEnvelope,
                    &place,
                    "an entry needs at least one transaction",
                ))
            }
        };
        for tx in transactions {
            let code = tx.get("actionCode").and_then(Value::as_str).unwrap_or("");
            if !ACTION_CODES.contains(&code) {
                return Err(fail(
                    PintCode::BadEnvelope,
                    &place,
                    format!("unknown actionCode {code:?}"),
                ));
            }
            if (code == "ISSUE") != actions.is_empty() {
                return Err(fail(
                    PintCode::BadEnvelope,
                    &place,
                    "ISSUE must come first, and once",
                ));
            }
            if actions.last().is_some_and(|a: &String| a == "SACC") {
                return Err(fail(
                    PintCode::BadEnvelope,
                    &place,
                    "nothing may follow SACC",
                ));
            }
            actions.push(code.to_owned());
        }
    }
    Ok(EnvelopeVerdict {
        code: PintCode::Received,
        transport_document_reference: reference,
        document_checksum,
        actions,
        platforms,
        documents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_round_trips_and_refuses_bad_input() {
        for data in [
            &b""[..],
            b"f",
            b"fo",
            b"foo",
            b"foob",
            b"fooba",
            b"foobar",
            &[0xff, 0xfe, 0x00],
        ] {
            assert_eq!(
                base64url_decode(&base64url_encode(data)).as_deref(),
                Some(data)
            );
        }
        assert_eq!(base64url_encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64url_encode(&[0xfb, 0xff]), "-_8");
        assert!(
            base64url_decode("Zm9v=").is_none(),
            "padding is not base64url"
        );
        assert!(base64url_decode("Z").is_none(), "a lone character");
        assert!(base64url_decode("Zh").is_none(), "non-zero leftover bits");
        assert!(base64url_decode("a+b/").is_none(), "standard alphabet");
    }
}

// ---------------------------------------------------------------------------------------------------
// Export: a bill's history as an envelope signed by this platform.

/// The RFC 7638 thumbprint of an Ed25519 key, used as its JWS `kid`.
pub fn jwk_thumbprint(key: &PartyKey) -> String {
    let x = base64url_encode(key.as_bytes());
    // RFC 7638: the required members only, in lexicographic order, no whitespace.
    let canonical = format!(r#"{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}"#);
    base64url_encode(Hash::of(canonical.as_bytes()).as_bytes())
}

/// The public JWK of a platform key, as receivers put it in their trust store.
pub fn public_jwk(key: &PartyKey) -> Value {
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64url_encode(key.as_bytes()),
        "kid": jwk_thumbprint(key),
        "alg": "EdDSA",
        "use": "sig",
    })
}

/// A platform key that signs JWS: ours is Ed25519 (EdDSA); tests sign with others.
pub trait JwsSigner {
    /// The JWS `alg`.
    fn alg(&self) -> &'static str;
    /// The JWS `kid`, as receivers know the key.
    fn kid(&self) -> String;
    /// The signature over the JWS signing input, in JWS form.
    fn sign(&self, signing_input: &[u8]) -> Vec<u8>;
}

impl JwsSigner for ed25519_dalek::SigningKey {
    fn alg(&self) -> &'static str {
        "EdDSA"
    }
    fn kid(&self) -> String {
        jwk_thumbprint(&PartyKey::of(self))
    }
    fn sign(&self, signing_input: &[u8]) -> Vec<u8> {
        ed25519_dalek::Signer::sign(self, signing_input)
            .to_bytes()
            .to_vec()
    }
}

/// A compact JWS over the RFC 8785 form of `payload`.
pub fn sign_jws(signer: &impl JwsSigner, payload: &Value) -> String {
    let header = serde_json::json!({ "alg": signer.alg(), "kid": signer.kid() });
    let header = jcs::canonicalize(&header).unwrap_or_default();
    let payload = jcs::canonicalize(payload).unwrap_or_default();
    let signing_input = format!(
        "{}.{}",
        base64url_encode(header.as_bytes()),
        base64url_encode(payload.as_bytes())
    );
    let signature = signer.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", base64url_encode(&signature))
}

/// ISO 8601 UTC with milliseconds, as PINT's `actionDateTime`.
pub fn date_time(ms: u64) -> String {
    ebl_core::time::Utc::from_unix_ms(ms).iso8601()
}

/// One transaction of the bill's history, with the time its block gave it.
#[derive(Debug, Clone)]
pub struct Exported<'a> {
    pub transaction: &'a ebl_core::SignedTransaction,
    pub time_ms: u64,
}

fn party_object(registry: &ebl_core::Registry, id: ebl_core::PartyId, platform: &str) -> Value {
    let (name, identifiers) = match registry.party(id) {
        Some(p) => (p.name().to_owned(), p.profile.identifiers.clone()),
        None => (format!("party {}", id.to_hex()), Vec::new()),
    };
    let mut codes: Vec<Value> = identifiers
        .iter()
        .map(|i| serde_json::json!({ "codeListProvider": i.scheme, "partyCode": i.value }))
        .collect();
    codes.push(serde_json::json!({ "codeListProvider": platform, "partyCode": id.to_hex() }));
    serde_json::json!({ "partyName": name, "eblPlatform": platform, "identifyingCodes": codes })
}

/// Maps our transactions to PINT's. `PLEDGE`, `RELEASE` and `ENFORCE` have no PINT code: a pledge is
/// the possession passing to the bank (`TRANSFER`), a release passing back (`TRANSFER`), an enforcement
/// the bank taking title (`ENDORSE_TO_ORDER` to itself). The original action and the loan ride along in
/// `x-ebl-action` and `x-ebl-loan`, which open-schema receivers keep.
fn pint_transactions(
    history: &[Exported<'_>],
    registry: &ebl_core::Registry,
    platform: &str,
) -> Vec<Value> {
    use ebl_core::Action;
    let mut pledgor = None;
    let mut surrendered_by = None;
    let mut carrier = None;
    let mut out = Vec::new();
    for entry in history {
        let tx = entry.transaction;
        let signer = tx
            .signatures
            .first()
            .and_then(|s| registry.by_key(&s.signer))
            .map(|p| p.id);
        let Some(actor) = signer else { continue };
        let (code, recipient, extension) = match &tx.body.action {
            Action::Issue { issue_to, .. } => {
                carrier = Some(actor);
                ("ISSUE", Some(*issue_to), None)
            }
            Action::Transfer { to, .. } => ("TRANSFER", Some(*to), None),
            Action::Endorse { to, .. } => ("ENDORSE", Some(*to), None),
            Action::EndorseToOrder { to, .. } => ("ENDORSE_TO_ORDER", Some(*to), None),
            Action::BlankEndorse { .. } => ("BLANK_ENDORSE", None, None),
            Action::Sign { .. } => ("SIGN", None, None),
            Action::SurrenderForDelivery { .. } => {
                surrendered_by = Some(actor);
                ("SURRENDER_FOR_DELIVERY", carrier, None)
            }
            Action::SurrenderForAmendment { .. } => {
                surrendered_by = Some(actor);
                ("SURRENDER_FOR_AMENDMENT", carrier, None)
            }
            Action::AcceptSurrender { .. } => ("SACC", surrendered_by, None),
            Action::RejectSurrender { .. } => ("SREJ", surrendered_by, None),
            Action::Pledge { pledgee, loan, .. } => {
                pledgor = Some(actor);
                (
                    "TRANSFER",
                    Some(*pledgee),
                    Some(("PLEDGE", Some(loan.clone()))),
                )
            }
            Action::Release { .. } => ("TRANSFER", pledgor, Some(("RELEASE", None))),
            Action::Enforce { .. } => ("ENDORSE_TO_ORDER", Some(actor), Some(("ENFORCE", None))),
            Action::RegisterParty { .. }
            | Action::RotateKey { .. }
            | Action::RevokeParty { .. } => continue,
        };
        let mut t = serde_json::json!({
            "actionCode": code,
            "actionDateTime": date_time(entry.time_ms),
            "actor": party_object(registry, actor, platform),
        });
        if let Some(r) = recipient {
            t["recipient"] = party_object(registry, r, platform);
        }
        if let Some((ours, loan)) = extension {
            t["x-ebl-action"] = ours.into();
            if let Some(loan) = loan {
                t["x-ebl-loan"] = serde_json::json!({
                    "reference": loan.reference,
                    "amountMinor": loan.amount_minor,
                    "currency": loan.currency,
                });
            }
        }
        out.push(t);
    }
    out
}

/// A bill's history as a PINT `EblEnvelope`, signed by this platform's key: the first entry carries
/// the issuance (with the issuance manifest), the second everything after it.
pub fn export_envelope(
    document: &ebl_core::Document,
    history: &[Exported<'_>],
    registry: &ebl_core::Registry,
    platform: &str,
    key: &impl JwsSigner,
) -> Value {
    let checksum = document.checksum().to_hex();
    let transactions = pint_transactions(history, registry, platform);
    let (issue, rest) = transactions
        .split_first()
        .map_or((Vec::new(), Vec::new()), |(i, r)| {
            (vec![i.clone()], r.to_vec())
        });
    let issue_to = issue
        .first()
        .and_then(|t| t.get("recipient"))
        .cloned()
        .unwrap_or(Value::Null);
    let issue_to_checksum = jcs::canonicalize(&issue_to)
        .map(|c| Hash::of(c.as_bytes()).to_hex())
        .unwrap_or_default();
    let issuance_manifest = sign_jws(
        key,
        &serde_json::json!({ "documentChecksum": checksum, "issueToChecksum": issue_to_checksum }),
    );
    let mut chain = vec![sign_jws(
        key,
        &serde_json::json!({
            "eblPlatform": platform,
            "issuanceManifestSignedContent": issuance_manifest,
            "transactions": issue,
            "transportDocumentChecksum": checksum,
        }),
    )];
    if !rest.is_empty() {
        let previous = Hash::of(chain[0].as_bytes()).to_hex();
        chain.push(sign_jws(
            key,
            &serde_json::json!({
                "eblPlatform": platform,
                "previousEnvelopeTransferChainEntrySignedContentChecksum": previous,
                "transactions": rest,
                "transportDocumentChecksum": checksum,
            }),
        ));
    }
    let last = chain
        .last()
        .map(|e| Hash::of(e.as_bytes()).to_hex())
        .unwrap_or_default();
    let manifest = sign_jws(
        key,
        &serde_json::json!({
            "transportDocumentChecksum": checksum,
            "lastEnvelopeTransferChainEntrySignedContentChecksum": last,
            "supportingDocuments": [],
        }),
    );
    serde_json::json!({
        "transportDocument": document.to_value(),
        "envelopeManifestSignedContent": manifest,
        "envelopeTransferChain": chain,
    })
}
