//! Which member's node a peer certificate belongs to. A development certificate (`ebl-node init
//! --tls-self-signed`) names its node key in a subject alternative name, `urn:ebl:node:<hex>`; a node
//! calling a member's node then trusts, of `tls/peers.pem`, only that member's certificates and those
//! that name no node (a company CA's, or one made by a release before this), so another member's
//! certificate at that member's address is refused by name (`peer_certificate_not_members`), not
//! taken because it, too, is in the file.

use ebl_core::PartyKey;
use rustls_pki_types::CertificateDer;
use x509_cert::der::oid::AssociatedOid;
use x509_cert::der::Decode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;

/// How a certificate names its node: this prefix, then the node key's 64 hex digits.
pub const NODE_NAME_PREFIX: &str = "urn:ebl:node:";

/// The name a node's development certificate carries.
pub fn node_name(node: &PartyKey) -> String {
    format!("{NODE_NAME_PREFIX}{}", node.to_hex())
}

/// The node key a certificate names, if it names one (and only one: a certificate naming two nodes
/// belongs to neither).
pub fn named_node(der: &CertificateDer<'_>) -> Option<PartyKey> {
    let certificate = x509_cert::Certificate::from_der(der.as_ref()).ok()?;
    let extensions = certificate.tbs_certificate.extensions?;
    let mut named = extensions
        .iter()
        .filter(|e| e.extn_id == SubjectAltName::OID)
        .filter_map(|e| SubjectAltName::from_der(e.extn_value.as_bytes()).ok())
        .flat_map(|names| names.0)
        .filter_map(|name| match name {
            GeneralName::UniformResourceIdentifier(uri) => uri
                .as_str()
                .strip_prefix(NODE_NAME_PREFIX)
                .and_then(|hex| hex.parse::<PartyKey>().ok()),
            _ => None,
        });
    let first = named.next()?;
    match named.next() {
        None => Some(first),
        Some(_) => None,
    }
}

/// Of `certificates` (each with the node it names), those a call to `member`'s node trusts: the ones
/// naming that node and the ones naming none; every one when none names that node (a member whose
/// certificate names no node is reached as before).
pub fn trusted_for<'a, T>(
    certificates: &'a [(Option<PartyKey>, T)],
    member: &PartyKey,
) -> Vec<&'a T> {
    let bound = certificates.iter().any(|(n, _)| n.as_ref() == Some(member));
    certificates
        .iter()
        .filter(|(named, _)| !bound || named.is_none() || named.as_ref() == Some(member))
        .map(|(_, c)| c)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(seed: u8) -> PartyKey {
        PartyKey::of(&ebl_core::SigningKey::from_bytes(&[seed; 32]))
    }

    #[test]
    fn a_call_to_a_member_trusts_its_certificates_and_those_naming_no_node() {
        let (a, b, c) = (key(1), key(2), key(3));
        let certificates = vec![
            (Some(a), "a"),
            (Some(b), "b"),
            (None, "company CA"),
            (Some(b), "b, renewed"),
        ];
        assert_eq!(trusted_for(&certificates, &a), [&"a", &"company CA"]);
        assert_eq!(
            trusted_for(&certificates, &b),
            [&"b", &"company CA", &"b, renewed"]
        );
        // No certificate names c: its node is reached as before, by any certificate in the file.
        assert_eq!(trusted_for(&certificates, &c).len(), 4);
    }
}

#[cfg(test)]
mod certificates {
    use super::*;

    #[test]
    fn a_development_certificate_names_its_node_and_one_without_names_none() {
        let dir = tempfile::tempdir().expect("dir");
        let node = PartyKey::of(&ebl_core::SigningKey::from_bytes(&[9; 32]));
        let (named, unnamed) = (dir.path().join("named"), dir.path().join("unnamed"));
        for (path, node) in [(&named, Some(&node)), (&unnamed, None)] {
            crate::tls::write_self_signed(
                &path.join("cert.pem"),
                &path.join("key.pem"),
                &crate::tls::default_names(),
                node,
            )
            .expect("certificate");
        }
        let read = |path: &std::path::Path| {
            crate::tls::read_certificates(&path.join("cert.pem")).expect("read")[0].clone()
        };
        assert_eq!(named_node(&read(&named)), Some(node));
        assert_eq!(named_node(&read(&unnamed)), None);
    }
}
