//! Catching up past a purged log: when the leader no longer holds the entries a node missed, it sends a
//! snapshot that names only the head it reaches, and the node fetches the blocks up to it from its peers,
//! replaying each one (every signature and rule) before it writes it, until it stands on that head.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use ebl_core::codec;
use ebl_store::Kv;

use super::fault::BlockFault;
use super::machine::{apply_fetched, lock, Applier, Fetched, SnapshotHead};
use super::peer::{
    BlocksRequest, FetchedBlock, PeerClient, FETCH_BLOCKS_MAX, PATH_BLOCKS, PEER_MESSAGE_BYTES_MAX,
};
use crate::state::Published;

/// How long one fetch from a peer may take.
const FETCH_TIMEOUT_MS: u64 = 30_000;

/// Why a node could not reach a snapshot's head.
#[derive(Debug, thiserror::Error)]
pub enum CatchupError {
    #[error("no peer served blocks from height {0}")]
    NoPeerServed(u64),
    #[error("block {height} from {peer} was refused: {fault} ({})", fault.code())]
    Refused {
        peer: String,
        height: u64,
        fault: Box<BlockFault>,
    },
    #[error("this node's block {height} is not the one the cluster committed: its store diverged")]
    Diverged { height: u64 },
    #[error(transparent)]
    Store(#[from] ebl_store::StoreError),
}

#[derive(Debug, Clone)]
pub struct Catchup {
    pub client: PeerClient,
    pub published: Arc<RwLock<Published>>,
}

impl Catchup {
    /// The other member nodes, as (key, address).
    fn peers(&self) -> Vec<(ebl_core::PartyKey, String)> {
        let own = ebl_core::PartyKey::of(&self.client.key);
        super::membership::members(&self.published)
            .into_iter()
            .filter(|m| m.node != own)
            .map(|m| (m.node, m.peer_address))
            .collect()
    }

    /// Fetches and applies blocks until this node's head is `head`.
    pub fn reach<K: Kv>(
        &self,
        applier: &Mutex<Applier<K>>,
        head: &SnapshotHead,
    ) -> Result<(), CatchupError> {
        loop {
            let height = lock(applier).writer.height();
            if height >= head.height {
                let applier = lock(applier);
                let ours = applier.writer.store.block(head.height)?;
                return match ours {
                    Some(b) if b.header.header.hash() == head.hash => Ok(()),
                    _ => Err(CatchupError::Diverged {
                        height: head.height,
                    }),
                };
            }
            let request = BlocksRequest {
                from: height + 1,
                count: FETCH_BLOCKS_MAX.min(head.height - height),
            };
            let (peer, blocks) = self.fetch(&request)?;
            let mut applier = lock(applier);
            for block in blocks {
                let signer_is_member = applier
                    .ledger
                    .registry()
                    .member_by_node(&block.header.signer)
                    .is_some();
                let height = block.header.header.height;
                let binding = ebl_core::HeaderBinding::before(applier.ledger.registry(), height);
                let refused = |fault| CatchupError::Refused {
                    peer: peer.clone(),
                    height,
                    fault: Box::new(fault),
                };
                if !signer_is_member || block.header.verify(&block.header.signer, binding).is_err()
                {
                    return Err(refused(BlockFault::NotSignedByMember));
                }
                match apply_fetched(&mut applier, &block.header.header, &block.transactions) {
                    Ok(()) => {}
                    Err(Fetched::Fault(fault)) => return Err(refused(fault)),
                    Err(Fetched::Store(e)) => return Err(e.into()),
                }
            }
        }
    }

    /// Asks each peer in turn; the first that serves at least one block wins.
    fn fetch(&self, request: &BlocksRequest) -> Result<(String, Vec<FetchedBlock>), CatchupError> {
        let body = codec::encode(request);
        for (key, address) in self.peers() {
            let answer = self.client.post(
                &address,
                &key,
                PATH_BLOCKS,
                &body,
                Duration::from_millis(FETCH_TIMEOUT_MS),
            );
            match answer {
                Ok(bytes) => {
                    match codec::decode_message::<Vec<FetchedBlock>>(&bytes, PEER_MESSAGE_BYTES_MAX)
                    {
                        Ok(blocks) if !blocks.is_empty() => return Ok((address, blocks)),
                        Ok(_) => continue,
                        Err(e) => {
                            tracing::warn!(peer = %address, error = %e, "a peer's blocks do not decode")
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(peer = %address, error = %e, "a peer did not serve blocks")
                }
            }
        }
        Err(CatchupError::NoPeerServed(request.from))
    }
}
