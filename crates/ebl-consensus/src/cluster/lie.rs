//! A leader that lies, compiled only into the tests' build of the node (`--features lying-leader`; no
//! release binary links it: `.ci/run` checks). It sends its first other voter, by Raft id, another
//! proposal than the rest at each height: the same transactions, its clock one millisecond later,
//! signed anew with its node key. The tests use it to show, with real processes, that no two different
//! blocks at one height both reach the finality quorum, and that the nodes keep the evidence.

use ebl_core::{PartyKey, ProposalBody};
use openraft::raft::AppendEntriesRequest;
use openraft::EntryPayload;

use super::network::Network;
use super::{node_id, NodeId, TypeConfig};

/// `rpc`, as this lying leader sends it to `target`.
pub(super) fn lie(
    mut rpc: AppendEntriesRequest<TypeConfig>,
    target: NodeId,
    network: &Network,
) -> AppendEntriesRequest<TypeConfig> {
    let own_key = PartyKey::of(&network.client.key);
    let own = node_id(&own_key);
    let victim = network
        .known
        .ids()
        .into_iter()
        .filter(|id| *id != own)
        .min();
    if victim != Some(target) {
        return rpc;
    }
    for entry in &mut rpc.entries {
        if let EntryPayload::Normal(proposal) = &mut entry.payload {
            if proposal.proposer == own_key {
                let other = ProposalBody {
                    time_ms: proposal.body.time_ms + 1,
                    ..proposal.body.clone()
                };
                *proposal = other.sign(&network.client.key);
            }
        }
    }
    rpc
}
