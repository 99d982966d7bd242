//! For tests: another eBL platform that sends envelopes as PINT prescribes, with keys of its own, so a
//! receiving platform's rules can be played end to end.

use ebl_core::{Hash, PartyKey, SigningKey};
use serde_json::{json, Value};

use crate::{public_jwk, sign_jws};

/// Another eBL platform ("FRGN"), hosting the shipper and the carrier's signing key there.
#[derive(Debug)]
pub struct ForeignPlatform {
    /// Signs the platform's transfer entries and manifests.
    pub platform: SigningKey,
    /// Signs the issuance.
    pub carrier: SigningKey,
    clock: u64,
}

/// The foreign platform's code.
pub const FOREIGN: &str = "FRGN";

/// A party hosted on the foreign platform, as PINT names it.
pub fn foreign_party(name: &str, code: &str) -> Value {
    json!({
        "partyName": name,
        "eblPlatform": FOREIGN,
        "identifyingCodes": [{ "codeListProvider": FOREIGN, "partyCode": code }],
    })
}

impl Default for ForeignPlatform {
    fn default() -> ForeignPlatform {
        ForeignPlatform::new()
    }
}

impl ForeignPlatform {
    /// The platform `FOREIGN` with fixed keys for itself and its carrier, so tests are reproducible.
    pub fn new() -> ForeignPlatform {
        ForeignPlatform {
            platform: ebl_core::testkit::key(90),
            carrier: ebl_core::testkit::key(91),
            clock: 1_790_000_000_000,
        }
    }

    /// The platform's and the carrier's public JWKs, each with its path in a receiver's trust
    /// directory: the carrier runs its issuance on this platform, so its key signs the first entry as
    /// the platform and the issuance manifest as carrier SMDG:MSC (the DCSA example's).
    pub fn jwks(&self) -> [(&'static str, Value); 3] {
        [
            (
                "FRGN/platform.jwk",
                public_jwk(&PartyKey::of(&self.platform)),
            ),
            ("FRGN/issuer.jwk", public_jwk(&PartyKey::of(&self.carrier))),
            (
                "FRGN/carrier.SMDG.MSC.jwk",
                public_jwk(&PartyKey::of(&self.carrier)),
            ),
        ]
    }

    /// These keys in a trust store, bound as `jwks` binds them.
    pub fn trust(&self) -> crate::TrustStore {
        let mut trust = crate::TrustStore::default();
        for (path, jwk) in self.jwks() {
            let (platform, name) = path.split_once('/').unwrap_or((FOREIGN, path));
            // Our own keys, well formed: cannot fail.
            let _ = trust.add_file(platform, name, jwk.to_string().as_bytes());
        }
        trust
    }

    fn time(&mut self) -> String {
        self.clock += 60_000;
        crate::date_time(self.clock)
    }

    /// An envelope for the DCSA to-order bill `reference`: issued by the carrier to the shipper on this
    /// foreign platform, then endorsed to and transferred to `recipient`. `documents` are the additional
    /// documents the manifest names.
    pub fn envelope(&mut self, reference: &str, recipient: &Value, documents: &[&[u8]]) -> Value {
        // The DCSA example with another reference: a valid document, so this cannot fail.
        let document = ebl_core::testkit::to_order_document(reference)
            .map(|d| d.to_value())
            .unwrap_or_default();
        self.envelope_for(document, recipient, documents)
    }

    /// The same, for any document value (which need not be one this ledger would hold).
    pub fn envelope_for(
        &mut self,
        document: Value,
        recipient: &Value,
        documents: &[&[u8]],
    ) -> Value {
        self.envelope_with(
            document,
            &[("ENDORSE_TO_ORDER", recipient), ("TRANSFER", recipient)],
            documents,
        )
    }

    /// The DCSA to-order bill `reference` issued to the shipper here, then the shipper's `steps`
    /// (action code and recipient) in the second entry.
    pub fn envelope_ending(
        &mut self,
        reference: &str,
        steps: &[(&str, &Value)],
        documents: &[&[u8]],
    ) -> Value {
        let document = ebl_core::testkit::to_order_document(reference)
            .map(|d| d.to_value())
            .unwrap_or_default();
        self.envelope_with(document, steps, documents)
    }

    fn envelope_with(
        &mut self,
        document: Value,
        steps: &[(&str, &Value)],
        documents: &[&[u8]],
    ) -> Value {
        let checksum = Hash::of(
            ebl_core::jcs::canonicalize(&document)
                .unwrap_or_default()
                .as_bytes(),
        )
        .to_hex();
        let shipper = foreign_party("Shipper Ltd", "shipper-1");
        let carrier = foreign_party("Mediterranean Shipping", "carrier-1");
        let issue_to_checksum = Hash::of(
            ebl_core::jcs::canonicalize(&shipper)
                .unwrap_or_default()
                .as_bytes(),
        )
        .to_hex();
        let t0 = self.time();
        let issuance = sign_jws(
            &self.carrier,
            &json!({ "documentChecksum": checksum, "issueToChecksum": issue_to_checksum }),
        );
        let first = sign_jws(
            &self.carrier,
            &json!({
                "eblPlatform": FOREIGN,
                "issuanceManifestSignedContent": issuance,
                "transportDocumentChecksum": checksum,
                "transactions": [{ "actionCode": "ISSUE", "actionDateTime": t0, "actor": carrier, "recipient": shipper }],
            }),
        );
        let transactions: Vec<Value> = steps
            .iter()
            .map(|(code, recipient)| {
                json!({ "actionCode": code, "actionDateTime": self.time(), "actor": shipper, "recipient": recipient })
            })
            .collect();
        let second = sign_jws(
            &self.platform,
            &json!({
                "eblPlatform": FOREIGN,
                "previousEnvelopeTransferChainEntrySignedContentChecksum": Hash::of(first.as_bytes()).to_hex(),
                "transportDocumentChecksum": checksum,
                "transactions": transactions,
            }),
        );
        self.wrap(document, vec![first, second], documents)
    }

    /// The envelope around a chain, with this platform's manifest.
    pub fn wrap(&self, document: Value, chain: Vec<String>, documents: &[&[u8]]) -> Value {
        let checksum = Hash::of(
            ebl_core::jcs::canonicalize(&document)
                .unwrap_or_default()
                .as_bytes(),
        )
        .to_hex();
        let supporting: Vec<Value> = documents
            .iter()
            .enumerate()
            .map(|(i, d)| {
                json!({
                    "name": format!("document-{i}.pdf"),
                    "size": d.len(),
                    "mediaType": "application/pdf",
                    "documentChecksum": Hash::of(d).to_hex(),
                })
            })
            .collect();
        let last = chain
            .last()
            .map(|e| Hash::of(e.as_bytes()).to_hex())
            .unwrap_or_default();
        let manifest = sign_jws(
            &self.platform,
            &json!({
                "transportDocumentChecksum": checksum,
                "lastEnvelopeTransferChainEntrySignedContentChecksum": last,
                "supportingDocuments": supporting,
            }),
        );
        json!({
            "transportDocument": document,
            "envelopeManifestSignedContent": manifest,
            "envelopeTransferChain": chain,
        })
    }
}

/// A platform key certified for signing PINT (`CertifiedKey`): a new P-256 key, a certificate for it
/// issued by a new CA (P-256), as PEM: the key (PKCS#8), the chain (leaf first) and the CA's
/// certificate, which a receiver trusts.
pub fn certified_platform_key() -> (String, String, String) {
    certified_by_a_ca(rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("key"))
}

/// [`certified_platform_key`] for a key of the caller's (an RSA one, to see it refused).
pub fn certified_by_a_ca(leaf_key: rcgen::KeyPair) -> (String, String, String) {
    let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("CA key");
    let mut ca = rcgen::CertificateParams::new(vec![]).expect("params");
    ca.distinguished_name
        .push(rcgen::DnType::CommonName, "Consortium PINT CA");
    ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        rcgen::KeyUsagePurpose::KeyCertSign,
        rcgen::KeyUsagePurpose::DigitalSignature,
    ];
    let ca_certificate = ca.self_signed(&ca_key).expect("CA certificate");
    let mut leaf = rcgen::CertificateParams::new(vec!["ebl.example".to_owned()]).expect("params");
    leaf.key_usages = vec![rcgen::KeyUsagePurpose::DigitalSignature];
    let leaf_certificate = leaf
        .signed_by(&leaf_key, &rcgen::Issuer::new(ca, &ca_key))
        .expect("leaf");
    (
        leaf_key.serialize_pem(),
        format!("{}{}", leaf_certificate.pem(), ca_certificate.pem()),
        ca_certificate.pem(),
    )
}
