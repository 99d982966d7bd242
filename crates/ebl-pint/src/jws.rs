//! Compact JWS (RFC 7515): base64url, the trust store of platform keys, signature checks and signing.

use serde_json::Value;

use ebl_core::jcs;
use ebl_core::{Hash, PartyKey, SignatureBytes};

use crate::{fail, PintCode, PintFailure, JWS_BYTES_MAX};

/// RFC 4648 base64url without padding, as JWS uses it (RustCrypto's constant-time `base64ct`, which
/// refuses padding, other alphabets and non-zero trailing bits).
pub fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    use base64ct::Encoding as _;
    base64ct::Base64UrlUnpadded::decode_vec(text).ok()
}

/// Base64url without padding (RFC 4648 §5), as JWS uses it.
pub fn base64url_encode(data: &[u8]) -> String {
    use base64ct::Encoding as _;
    base64ct::Base64UrlUnpadded::encode_string(data)
}

/// Smallest RSA modulus trusted, in bits.
pub const RSA_BITS_MIN: usize = 2048;

/// A trusted platform key.
#[derive(Debug, Clone)]
pub(crate) enum TrustedKey {
    Ed25519(PartyKey),
    Rsa(rsa::RsaPublicKey),
    P256(p256::ecdsa::VerifyingKey),
}

/// What a trusted key or root may sign as, on the platform it is bound to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// The platform itself: its transfer chain entries, envelope manifests and signed answers.
    Platform,
    /// A carrier issuing on that platform, named as transport documents name it: its issuance manifests.
    Carrier {
        /// The code list the carrier's code is from (`SMDG`, `NMFTA`).
        provider: String,
        /// The carrier's code in it (`MSC`).
        code: String,
    },
}

/// A trusted key's or root's binding: the platform code it speaks for, and in which role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Binding {
    /// The PINT platform code (`eblPlatform`) the key speaks for.
    pub platform: String,
    /// What it may sign there.
    pub role: Role,
}

impl Binding {
    /// Bound to platform `code`, as the platform itself.
    pub fn platform(code: &str) -> Binding {
        Binding {
            platform: code.to_owned(),
            role: Role::Platform,
        }
    }

    /// Bound to the carrier `provider:code` issuing on `platform`.
    pub fn carrier(platform: &str, provider: &str, code: &str) -> Binding {
        Binding {
            platform: platform.to_owned(),
            role: Role::Carrier {
                provider: provider.to_owned(),
                code: code.to_owned(),
            },
        }
    }
}

impl std::fmt::Display for Binding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.role {
            Role::Platform => write!(f, "platform {}", self.platform),
            Role::Carrier { provider, code } => {
                write!(f, "carrier {provider}:{code} on platform {}", self.platform)
            }
        }
    }
}

/// One trusted key: its `kid` if a JWK named it, and what it may sign as.
#[derive(Debug, Clone)]
struct Trusted {
    kid: Option<String>,
    key: TrustedKey,
    binding: Binding,
}

/// Keys and root certificates trusted to sign, each bound to a platform code and a role: a key trusted
/// for one platform cannot sign as another, and only a carrier's keys sign its issuance manifests.
#[derive(Debug, Clone, Default)]
pub struct TrustStore {
    keys: Vec<Trusted>,
    roots: Vec<(crate::x5c::Certificate, Binding)>,
    /// The time certificates are checked at, in Unix milliseconds; `None` refuses every `x5c` chain.
    now_ms: Option<u64>,
}

/// Most keys and roots one trust store holds: a JWS without `kid` is tried against every key bound to
/// the platform it claims, so the bound keeps that search small.
pub const TRUSTED_KEYS_MAX: usize = 1024;

impl TrustStore {
    fn push_key(&mut self, trusted: Trusted) -> Result<(), PintFailure> {
        if self.len() >= TRUSTED_KEYS_MAX {
            return Err(fail(
                PintCode::BadEnvelope,
                "trust store",
                format!("a trust store holds at most {TRUSTED_KEYS_MAX} keys and roots"),
            ));
        }
        self.keys.push(trusted);
        Ok(())
    }

    /// Adds the keys of a JWK or a JWK set (`{"keys": [...]}`), bound to `binding`; returns how many
    /// were added. Keys of types that cannot verify here are skipped.
    pub fn add_jwks(&mut self, text: &[u8], binding: &Binding) -> Result<usize, PintFailure> {
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
            self.push_key(Trusted {
                kid: Some(kid.to_owned()),
                key,
                binding: binding.clone(),
            })?;
            added += 1;
        }
        Ok(added)
    }

    /// Adds what a PEM text holds, bound to `binding`: certificates are roots that `x5c` chains must
    /// lead to (and a certificate's own key may sign directly, as DCSA's conformance tooling does with
    /// its self-signed ones); `PUBLIC KEY` blocks are keys without a `kid`. Returns how many.
    pub fn add_pem(&mut self, pem: &[u8], binding: &Binding) -> Result<usize, PintFailure> {
        let (certs, keys) = crate::x5c::pem_contents(pem)
            .map_err(|e| fail(PintCode::BadEnvelope, "trust store", e.to_string()))?;
        let added = certs.len() + keys.len();
        if self.len() + added > TRUSTED_KEYS_MAX {
            return Err(fail(
                PintCode::BadEnvelope,
                "trust store",
                format!("a trust store holds at most {TRUSTED_KEYS_MAX} keys and roots"),
            ));
        }
        for key in keys {
            self.push_key(Trusted {
                kid: None,
                key,
                binding: binding.clone(),
            })?;
        }
        self.roots
            .extend(certs.into_iter().map(|c| (c, binding.clone())));
        Ok(added)
    }

    /// Adds a trust-store file of platform `platform` by its name: `*.jwk` and `*.json` are JWKs or JWK
    /// sets, `*.crt` and `*.pem` certificates or public keys. A name `carrier.<PROVIDER>.<CODE>.<ext>`
    /// binds them to that carrier issuing on the platform; any other name to the platform itself.
    /// Other files are skipped (returns 0). How a node and a wallet read a trust directory the same way.
    pub fn add_file(
        &mut self,
        platform: &str,
        name: &str,
        content: &[u8],
    ) -> Result<usize, PintFailure> {
        let Some((stem, ext)) = name.rsplit_once('.') else {
            return Ok(0);
        };
        if !matches!(ext, "jwk" | "json" | "crt" | "pem") {
            return Ok(0);
        }
        let binding = match stem.strip_prefix("carrier.") {
            Some(codes) => match codes.split_once('.') {
                Some((provider, code)) if !provider.is_empty() && !code.is_empty() => {
                    Binding::carrier(platform, provider, code)
                }
                _ => {
                    return Err(fail(
                        PintCode::BadEnvelope,
                        "trust store",
                        format!(
                            "{name}: a carrier's file is named carrier.<PROVIDER>.<CODE>.{ext}"
                        ),
                    ))
                }
            },
            None => Binding::platform(platform),
        };
        match ext {
            "jwk" | "json" => self.add_jwks(content, &binding),
            _ => self.add_pem(content, &binding),
        }
    }

    /// Sets the time certificates are checked at (their validity periods), in Unix milliseconds.
    pub fn at_time(mut self, unix_ms: u64) -> TrustStore {
        self.now_ms = Some(unix_ms);
        self
    }

    /// Trusted keys and root certificates.
    pub fn len(&self) -> usize {
        self.keys.len() + self.roots.len()
    }

    /// Whether it trusts nothing at all.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.roots.is_empty()
    }

    /// The platform codes something is trusted for, in order.
    pub fn platforms(&self) -> Vec<String> {
        let mut codes: Vec<String> = self
            .keys
            .iter()
            .map(|k| &k.binding)
            .chain(self.roots.iter().map(|(_, b)| b))
            .map(|b| b.platform.clone())
            .collect();
        codes.sort();
        codes.dedup();
        codes
    }
}

/// A compact JWS: its header parsed, its payload still raw until the signature has been checked.
#[derive(Debug, Clone)]
pub(crate) struct Jws<'a> {
    header: Value,
    signing_input: &'a str,
    payload: &'a str,
    signature: Vec<u8>,
}

pub(crate) fn parse_jws<'a>(text: &'a str, place: &str) -> Result<Jws<'a>, PintFailure> {
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
        .and_then(|bytes| bounded_json(&bytes))
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                place,
                "JWS header is not base64url JSON within the envelope's bounds",
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

impl Jws<'_> {
    /// The payload as it claims to be, before its signature is checked: read only to learn which
    /// platform it says signed it, so the right keys are tried; nothing else is taken from it.
    pub(crate) fn claims(&self) -> Option<Value> {
        base64url_decode(self.payload).and_then(|bytes| bounded_json(&bytes))
    }
}

impl Binding {
    /// Whether a key with this binding may sign as `wanted` (carrier code list providers compare
    /// without case, as transport documents write them either way).
    fn admits(&self, wanted: &Binding) -> bool {
        self.platform == wanted.platform
            && match (&self.role, &wanted.role) {
                (Role::Platform, Role::Platform) => true,
                (
                    Role::Carrier { provider, code },
                    Role::Carrier {
                        provider: p,
                        code: c,
                    },
                ) => provider.eq_ignore_ascii_case(p) && code == c,
                _ => false,
            }
    }
}

/// The payload of a compact JWS whose signature verifies against a key of `trust` bound to `signer`:
/// how a sending platform reads a receiver's signed answer.
pub fn verified_jws(
    text: &str,
    trust: &TrustStore,
    signer: &Binding,
) -> Result<Value, PintFailure> {
    verified_payload(&parse_jws(text, "JWS")?, trust, "JWS", signer)
}

/// A JWS header or payload as JSON, if it is JSON within the envelope's bounds: the bounds a received
/// envelope is held to (`check_json_bounds`) would mean little if the JSON inside its entries, base64url
/// text to the first check, were parsed unbounded.
fn bounded_json(bytes: &[u8]) -> Option<Value> {
    crate::bounds::check_json_bounds(bytes).ok()?;
    jcs::parse(bytes).ok()
}

/// The RFC 8785 form of a JWS payload, unverified: two entries with the same content, whatever their
/// signatures, have the same content text.
pub fn jws_content(text: &str) -> Option<String> {
    let payload = text.split('.').nth(1)?;
    let value = bounded_json(&base64url_decode(payload)?)?;
    jcs::canonicalize(&value).ok()
}

/// Checks the signature over the raw bytes first, against keys bound to `signer`, and only then reads
/// the payload: a flipped byte is a bad signature whatever it did to the JSON.
pub(crate) fn verified_payload(
    jws: &Jws<'_>,
    trust: &TrustStore,
    place: &str,
    signer: &Binding,
) -> Result<Value, PintFailure> {
    verify_jws(jws, trust, place, signer)?;
    base64url_decode(jws.payload)
        .and_then(|bytes| bounded_json(&bytes))
        .ok_or_else(|| {
            fail(
                PintCode::BadEnvelope,
                place,
                "JWS payload is not base64url JSON within the envelope's bounds",
            )
        })
}

/// Whether `key` made `sig` over `message` with `alg`; `None` if the key is not one for `alg`.
fn signature_holds(alg: &str, key: &TrustedKey, message: &[u8], sig: &[u8]) -> Option<bool> {
    use rsa::signature::Verifier as _;
    Some(match (alg, key) {
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
        _ => return None,
    })
}

pub(crate) fn verify_jws(
    jws: &Jws<'_>,
    trust: &TrustStore,
    place: &str,
    signer: &Binding,
) -> Result<(), PintFailure> {
    let bsig = |reason: String| fail(PintCode::BadSignature, place, reason);
    let alg = jws.header.get("alg").and_then(Value::as_str).unwrap_or("");
    if !["EdDSA", "RS256", "PS256", "ES256"].contains(&alg) {
        return Err(bsig(format!(
            "unsupported algorithm {alg:?} (EdDSA, RS256, PS256 and ES256 are supported)"
        )));
    }
    // RFC 7515 4.1.11: a recipient must refuse a JWS whose `crit` names extensions it does not
    // understand; this receiver understands none.
    if jws.header.get("crit").is_some() {
        return Err(bsig("the JWS header has a crit parameter naming extensions this platform does not process (RFC 7515 4.1.11)".into()));
    }
    let message = jws.signing_input.as_bytes();
    let sig = jws.signature.as_slice();
    let kid = jws.header.get("kid").and_then(Value::as_str);
    let roots: Vec<crate::x5c::Certificate> = trust
        .roots
        .iter()
        .filter(|(_, b)| b.admits(signer))
        .map(|(c, _)| c.clone())
        .collect();
    // With roots bound to the signer, a certificate chain is authoritative: it must hold (an expired
    // or untrusted one is refused even if the kid is known).
    if let (Some(x5c), false) = (jws.header.get("x5c"), roots.is_empty()) {
        let x5c = x5c
            .as_array()
            .ok_or_else(|| bsig("x5c is not an array".into()))?;
        let now_s = trust
            .now_ms
            .map(|ms| (ms / 1000) as i64)
            .ok_or_else(|| bsig("no time was given to check certificates at".into()))?;
        let key =
            crate::x5c::leaf_key(x5c, &roots, now_s).map_err(|fault| bsig(fault.to_string()))?;
        return match signature_holds(alg, &key, message, sig) {
            Some(true) => Ok(()),
            Some(false) => Err(bsig("signature does not verify".into())),
            None => Err(bsig(format!(
                "the certificate's key is not a key for {alg}"
            ))),
        };
    }
    // Keys by kid; without a kid (DCSA's conformance tooling sends none), every key bound to the
    // signer, the roots' own keys among them.
    let candidates: Vec<&TrustedKey> = match kid {
        Some(kid) => trust
            .keys
            .iter()
            .filter(|k| k.kid.as_deref() == Some(kid) && k.binding.admits(signer))
            .map(|k| &k.key)
            .collect(),
        None => trust
            .keys
            .iter()
            .filter(|k| k.binding.admits(signer))
            .map(|k| &k.key)
            .chain(
                trust
                    .roots
                    .iter()
                    .filter(|(_, b)| b.admits(signer))
                    .filter_map(|(c, _)| c.key.as_ref()),
            )
            .collect(),
    };
    if candidates.is_empty() {
        let elsewhere = kid.and_then(|kid| {
            trust
                .keys
                .iter()
                .find(|k| k.kid.as_deref() == Some(kid))
                .map(|k| &k.binding)
        });
        return Err(bsig(match (kid, elsewhere) {
            (Some(kid), Some(bound)) => {
                format!("key {kid:?} is trusted as {bound}, not to sign as {signer}")
            }
            (Some(kid), None) => format!("key {kid:?} is not in the trust store"),
            (None, _) => format!("no key is trusted to sign as {signer}"),
        }));
    }
    let mut fits = false;
    for key in candidates {
        match signature_holds(alg, key, message, sig) {
            Some(true) => return Ok(()),
            Some(false) => fits = true,
            None => {}
        }
    }
    Err(bsig(if fits {
        "signature does not verify".into()
    } else {
        format!("key {:?} is not a key for {alg}", kid.unwrap_or("(no kid)"))
    }))
}

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

/// A platform key that signs JWS: the node's Ed25519 key (EdDSA), or a key with its X.509 chain
/// (`CertifiedKey`: ES256).
pub trait JwsSigner {
    /// The JWS `alg`.
    fn alg(&self) -> &'static str;
    /// The JWS `kid`, as receivers know the key.
    fn kid(&self) -> String;
    /// The signature over the JWS signing input, in JWS form.
    fn sign(&self, signing_input: &[u8]) -> Vec<u8>;
    /// The certificate chain that vouches for the key (`x5c`: base64 DER, leaf first), if it has one.
    fn x5c(&self) -> Option<Vec<String>> {
        None
    }
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

/// The media type our JWS declare (RFC 7515 §4.1.9: "JOSE" for the compact serialization), so a
/// recipient never mistakes one for a JWT or another JOSE object.
pub(crate) const JWS_TYP: &str = "JOSE";

/// A compact JWS over the RFC 8785 form of `payload`.
pub fn sign_jws(signer: &impl JwsSigner, payload: &Value) -> String {
    let mut header =
        serde_json::json!({ "alg": signer.alg(), "kid": signer.kid(), "typ": JWS_TYP });
    if let Some(chain) = signer.x5c() {
        header["x5c"] = chain.into();
    }
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
#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13: a JWS with an unknown `crit` header was accepted (RFC 7515 4.1.11: must be refused).
    /// Issue 13: our own JWS carried no `typ`; they declare "JOSE" and still verify.
    #[test]
    fn regression_our_jws_declare_their_typ() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[9; 32]);
        let jwk = public_jwk(&PartyKey::of(&key));
        let mut trust = TrustStore::default();
        let us = Binding::platform("EBL");
        trust
            .add_jwks(jwk.to_string().as_bytes(), &us)
            .expect("trusted");
        let signed = sign_jws(&key, &serde_json::json!({"hello": "world"}));
        let parsed = parse_jws(&signed, "test").expect("parses");
        assert_eq!(parsed.header["typ"], JWS_TYP);
        assert!(verified_payload(&parsed, &trust, "test", &us).is_ok());
    }

    #[test]
    fn regression_an_unknown_crit_header_is_refused() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let public = PartyKey::of(&key);
        let jwk = public_jwk(&public);
        let mut trust = TrustStore::default();
        let us = Binding::platform("EBL");
        trust
            .add_jwks(jwk.to_string().as_bytes(), &us)
            .expect("trusted");
        let payload = serde_json::json!({"hello": "world"});
        let sign = |header: Value| {
            let header = jcs::canonicalize(&header).unwrap_or_default();
            let body = jcs::canonicalize(&payload).unwrap_or_default();
            let input = format!(
                "{}.{}",
                base64url_encode(header.as_bytes()),
                base64url_encode(body.as_bytes())
            );
            let signature = JwsSigner::sign(&key, input.as_bytes());
            format!("{input}.{}", base64url_encode(&signature))
        };
        let kid = jwk["kid"].clone();
        let plain = sign(serde_json::json!({"alg": "EdDSA", "kid": kid}));
        let parsed = parse_jws(&plain, "test").expect("parses");
        assert!(verified_payload(&parsed, &trust, "test", &us).is_ok());
        let critical =
            sign(serde_json::json!({"alg": "EdDSA", "kid": kid, "crit": ["exp"], "exp": 1}));
        let parsed = parse_jws(&critical, "test").expect("parses");
        let refused = verified_payload(&parsed, &trust, "test", &us).expect_err("crit refused");
        assert_eq!(refused.code, PintCode::BadSignature);
    }

    /// The review of finding 7: the envelope's JSON was bounded before parsing, the JSON inside its
    /// JWS entries (base64url text to that check) was not. A signed payload with an array wider than an
    /// envelope may hold is refused, one at the bound is read.
    #[test]
    fn regression_a_jws_payload_past_the_envelope_bounds_is_not_parsed() {
        let key = ed25519_dalek::SigningKey::from_bytes(&[6; 32]);
        let mut trust = TrustStore::default();
        let us = Binding::platform("EBL");
        trust
            .add_jwks(public_jwk(&PartyKey::of(&key)).to_string().as_bytes(), &us)
            .expect("trusted");
        // An object of one array: the object, the array and its zeros are the values counted.
        let zeros = |n: usize| serde_json::json!({ "z": vec![0u8; n] });
        let per_array = crate::bounds::ENVELOPE_CONTAINER_MEMBERS_MAX;
        let nested = serde_json::json!({ "z": vec![vec![0u8; 8]; 8] });
        let signed = sign_jws(&key, &nested);
        assert!(verified_jws(&signed, &trust, &us).is_ok());
        let wide = sign_jws(&key, &zeros(per_array + 1));
        let refused = verified_jws(&wide, &trust, &us).expect_err("past the bound");
        assert_eq!(refused.code, PintCode::BadEnvelope);
        assert!(refused.reason.contains("bounds"), "{refused}");
        assert!(claims_of(&wide).is_none(), "not even read for its claims");
        assert!(verified_jws(&sign_jws(&key, &zeros(per_array)), &trust, &us).is_ok());
    }

    fn claims_of(text: &str) -> Option<Value> {
        parse_jws(text, "test").ok()?.claims()
    }

    #[test]
    fn a_trust_store_holds_at_most_its_bound_of_keys() {
        let jwk = public_jwk(&PartyKey::of(&ed25519_dalek::SigningKey::from_bytes(
            &[8; 32],
        )));
        let text = jwk.to_string();
        let mut trust = TrustStore::default();
        for i in 0..TRUSTED_KEYS_MAX {
            trust
                .add_jwks(text.as_bytes(), &Binding::platform(&format!("P{i}")))
                .expect("within the bound");
        }
        let refused = trust
            .add_jwks(text.as_bytes(), &Binding::platform("LAST"))
            .expect_err("over the bound");
        assert!(refused.reason.contains("at most"), "{refused}");
        assert_eq!(trust.len(), TRUSTED_KEYS_MAX);
    }

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
