//! How this node's signed requests reach other member nodes: HTTP (over TLS when `tls/peers.pem` names
//! the certificates they present), as the consensus crate's [`PeerTransport`].

use std::time::Duration;

use ebl_consensus::cluster::peer::{
    PeerAnswer, PeerError, PeerRequest, PeerTransport, PEER_MESSAGE_BYTES_MAX,
};
use ebl_core::api::{HEADER_KEY, HEADER_SIGNATURE, HEADER_TIME};
use ebl_core::{bytes, PartyKey, SignatureBytes};

use crate::tls::PeerTls;

/// How long a peer has to accept a connection.
pub(crate) const PEER_CONNECT_MS: u64 = 1_000;

/// Peer requests over HTTP.
#[derive(Debug, Clone)]
pub(crate) struct HttpPeers {
    tls: PeerTls,
}

impl HttpPeers {
    /// Calls peers over `tls`.
    pub(crate) fn new(tls: PeerTls) -> HttpPeers {
        HttpPeers { tls }
    }

    /// The agent for calls to `member`'s node, kept by `PeerTls` so its connections stay open.
    fn agent(&self, member: &PartyKey) -> ureq::Agent {
        self.tls
            .member_agent(member, Duration::from_millis(PEER_CONNECT_MS))
    }

    /// Why a call to `member`'s node at `address` reached no one: if the peer there presents a
    /// certificate the file trusts for another member's node, that, by name and logged; else
    /// `unreachable`.
    fn not_reached(&self, address: &str, member: &PartyKey, unreachable: PeerError) -> PeerError {
        if !self.tls.binds(member) {
            return unreachable;
        }
        let any = self
            .tls
            .agent(Duration::from_millis(PEER_CONNECT_MS), None)
            .get(&self.tls.url(address, "/v1/cluster"))
            .config()
            .timeout_global(Some(Duration::from_millis(KEEP_WARM_TIMEOUT_MS)))
            .build()
            .call();
        if any.is_err() {
            return unreachable;
        }
        let refused = PeerError::NotMembersCertificate {
            address: address.to_owned(),
            member: member.to_hex(),
        };
        tracing::warn!(code = "peer_certificate_not_members", %address, member = %member.to_hex(), "{refused}");
        refused
    }
}

/// How long keeping a connection open may take.
const KEEP_WARM_TIMEOUT_MS: u64 = 2_000;

impl PeerTransport for HttpPeers {
    /// A public read of the peer's cluster view, read to its end so its connection goes back to the
    /// pool; what it says is not used. It names the sending node (unsigned: the view is public), as
    /// every request on these connections does.
    fn keep_warm(&self, address: &str, from: &PartyKey, to: &PartyKey) -> bool {
        let answer = self
            .agent(to)
            .get(&self.tls.url(address, "/v1/cluster"))
            .config()
            .timeout_global(Some(Duration::from_millis(KEEP_WARM_TIMEOUT_MS)))
            .build()
            .header(HEADER_KEY, &from.to_hex())
            .call();
        match answer {
            Ok(mut response) => response
                .body_mut()
                .with_config()
                .limit(64 * 1024)
                .read_to_vec()
                .is_ok(),
            Err(_) => false,
        }
    }

    fn send(&self, request: &PeerRequest<'_>) -> Result<PeerAnswer, PeerError> {
        let unreachable = |e: ureq::Error| PeerError::Unreachable {
            address: request.address.to_owned(),
            reason: e.to_string(),
        };
        let sent = self
            .agent(request.to)
            .post(&self.tls.url(request.address, request.path))
            .config()
            .timeout_global(Some(request.timeout))
            .build()
            .header("content-type", "application/octet-stream")
            .header(HEADER_KEY, &request.key.to_hex())
            .header(HEADER_TIME, &request.time.to_string())
            .header(HEADER_SIGNATURE, &request.signature.to_string())
            .send(request.body);
        let mut response = match sent {
            Ok(response) => response,
            Err(e) => return Err(self.not_reached(request.address, request.to, unreachable(e))),
        };
        let status = response.status().as_u16();
        let signature = response
            .headers()
            .get(HEADER_SIGNATURE)
            .and_then(|v| v.to_str().ok())
            .and_then(bytes::from_hex::<64>)
            .map(SignatureBytes);
        let body = response
            .body_mut()
            .with_config()
            .limit(PEER_MESSAGE_BYTES_MAX as u64)
            .read_to_vec()
            .map_err(unreachable)?;
        Ok(PeerAnswer {
            status,
            signature,
            body,
        })
    }
}
