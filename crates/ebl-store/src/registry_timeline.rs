//! The registry's chain as far as it has been walked: each registry transaction's height, in ledger
//! order, so that the registry head before a height (what a format-5 block's signatures are bound to)
//! is found by a binary search rather than by walking back past every registry transaction since. The
//! walk cost a bundle's export one pass over every party admitted after the bill's blocks, for each of
//! its blocks (issue 32's benchmark: a third of a second at 10 000 parties).

use std::collections::HashMap;

use ebl_core::{Hash, TxId};

/// The registry transactions walked, oldest first.
#[derive(Debug, Default)]
pub(crate) struct RegistryTimeline {
    entries: Vec<(u64, TxId)>,
    positions: HashMap<TxId, usize>,
    /// The positions of the consortium's own changes (members, threshold, formats) among `entries`:
    /// few, and what the member nodes before a height follow from.
    consortium: Vec<usize>,
}

impl RegistryTimeline {
    /// The registry head before the block at `height`, as of the registry head `head` (the chain's
    /// start `chain` before any registry transaction); `None` when `head` has not been walked to.
    pub(crate) fn head_before(&self, head: &TxId, chain: Hash, height: u64) -> Option<Hash> {
        let upto = if *head == chain {
            &self.entries[..0]
        } else {
            &self.entries[..=*self.positions.get(head)?]
        };
        let at = upto.partition_point(|(h, _)| *h < height);
        Some(at.checked_sub(1).map_or(chain, |i| upto[i].1))
    }

    /// The newest registry transaction walked.
    pub(crate) fn newest(&self) -> Option<TxId> {
        self.entries.last().map(|(_, id)| *id)
    }

    /// Takes in transactions walked past the newest, oldest first, each marked whether it is a change
    /// of the consortium's rather than a party's.
    pub(crate) fn extend(&mut self, walked: impl IntoIterator<Item = (u64, TxId, bool)>) {
        for (height, id, consortium) in walked {
            if consortium {
                self.consortium.push(self.entries.len());
            }
            self.positions.insert(id, self.entries.len());
            self.entries.push((height, id));
        }
    }

    /// The consortium's changes in blocks below `height`, as of the registry head `head`, oldest first
    /// with their heights; `None` when `head` has not been walked to.
    pub(crate) fn consortium_before(
        &self,
        head: &TxId,
        chain: Hash,
        height: u64,
    ) -> Option<Vec<(u64, TxId)>> {
        let last = if *head == chain {
            return Some(Vec::new());
        } else {
            *self.positions.get(head)?
        };
        Some(
            self.consortium
                .iter()
                .take_while(|at| **at <= last)
                .map(|at| self.entries[*at])
                .take_while(|(h, _)| *h < height)
                .collect(),
        )
    }

    /// Forgets everything walked: a head that does not follow it (a store cut back by a restore).
    pub(crate) fn clear(&mut self) {
        self.entries.clear();
        self.positions.clear();
        self.consortium.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_head_before_a_height_is_the_last_registry_transaction_below_it_as_of_the_head_asked() {
        let chain = Hash::of(b"chain");
        let ids: Vec<TxId> = (0u8..4).map(|i| Hash::of(&[i])).collect();
        let mut timeline = RegistryTimeline::default();
        timeline.extend([
            (2, ids[0], false),
            (2, ids[1], true),
            (5, ids[2], false),
            (9, ids[3], true),
        ]);
        assert_eq!(timeline.head_before(&ids[3], chain, 1), Some(chain));
        assert_eq!(timeline.head_before(&ids[3], chain, 2), Some(chain));
        assert_eq!(timeline.head_before(&ids[3], chain, 3), Some(ids[1]));
        assert_eq!(timeline.head_before(&ids[3], chain, 9), Some(ids[2]));
        assert_eq!(timeline.head_before(&ids[3], chain, 10), Some(ids[3]));
        // As of an older head, nothing after it counts.
        assert_eq!(timeline.head_before(&ids[1], chain, 10), Some(ids[1]));
        assert_eq!(timeline.head_before(&chain, chain, 10), Some(chain));
        assert_eq!(
            timeline.head_before(&Hash::of(b"unwalked"), chain, 10),
            None
        );
        assert_eq!(timeline.newest(), Some(ids[3]));
        // The consortium's changes below a height, as of a head.
        assert_eq!(timeline.consortium_before(&ids[3], chain, 2), Some(vec![]));
        assert_eq!(
            timeline.consortium_before(&ids[3], chain, 3),
            Some(vec![(2, ids[1])])
        );
        assert_eq!(
            timeline.consortium_before(&ids[3], chain, 10),
            Some(vec![(2, ids[1]), (9, ids[3])])
        );
        assert_eq!(
            timeline.consortium_before(&ids[2], chain, 10),
            Some(vec![(2, ids[1])])
        );
        assert_eq!(timeline.consortium_before(&chain, chain, 10), Some(vec![]));
    }
}
