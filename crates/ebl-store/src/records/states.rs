//! Bill and party states at checkpoints: two slots per id, a checkpoint written in pieces and committed
//! by one small batch, read back as of the committed height.

use super::*;

/// Ledger state as of a height: every bill and party changed since the last checkpoint, and the registry
/// head. State is written at checkpoints, not with every block, so a bill moved a hundred times between
/// two checkpoints is written once; the blocks after the last checkpoint are replayed on start.
///
/// Written in one batch ([`LedgerStore::write_checkpoint`]) or in pieces beside the blocks
/// ([`LedgerStore::write_states`], then [`LedgerStore::commit_checkpoint`]): each state record names the
/// height it is as of, and a read takes, per bill and party, the newest record at or below the
/// committed state height, so pieces of a checkpoint not yet committed are never read.
#[derive(Debug, Clone, Copy)]
pub struct Checkpoint<'a> {
    /// The height the state is as of (the block written with it).
    pub height: u64,
    /// The bills changed since the last checkpoint, as they stand at `height`.
    pub bills: &'a [Bill],
    /// The parties changed since the last checkpoint.
    pub parties: &'a [Party],
    /// The registry head and the consortium (members, threshold) as of the height.
    pub registry: &'a RegistryHead,
    /// The chain formats scheduled as of the height.
    pub formats: &'a [Activation],
}

/// The batch entries that make a checkpoint's states the ones read: the registry and the height.
pub(super) fn commit_entries(
    sealer: &SealKey,
    height: u64,
    registry: &RegistryHead,
    formats: &[Activation],
    batch: &mut Batch,
) {
    put(
        sealer,
        batch,
        REGISTRY_HEAD.to_vec(),
        codec::encode(registry),
    );
    // Only a chain that scheduled a format writes the record: a store that never did keeps exactly
    // the records it had.
    if !formats.is_empty() {
        put(
            sealer,
            batch,
            FORMATS.to_vec(),
            codec::encode(&formats.to_vec()),
        );
    }
    put(sealer, batch, STATE_HEIGHT.to_vec(), codec::encode(&height));
}

/// The key of a state record: prefix, id and slot (`None`: a record from before the slots).
pub(super) fn state_key(prefix: u8, id: &[u8], slot: Option<u8>) -> Vec<u8> {
    let mut k = key(prefix, &[id]);
    k.extend(slot);
    k
}

/// The prefix and id of a state record's key, without its slot.
pub(super) fn id_part(k: &[u8]) -> &[u8] {
    &k[..k.len().min(1 + STATE_ID_BYTES)]
}

impl<K: Kv> LedgerStore<K> {
    /// The height the stored bill and party states are current at (0: no checkpoint yet).
    pub fn state_height(&self) -> Result<u64> {
        Ok(self.read::<u64>("state height", STATE_HEIGHT)?.unwrap_or(0))
    }

    /// Writes a whole checkpoint in one atomic batch (at a graceful stop); not durable until
    /// [`LedgerStore::sync`].
    pub fn write_checkpoint(&self, checkpoint: &Checkpoint<'_>) -> Result<()> {
        let committed = self.checkpoint_may_go_to(checkpoint.height)?;
        self.clear_cut_pieces(committed, None)?;
        let mut batch = Vec::new();
        self.state_entries(
            committed,
            checkpoint.height,
            checkpoint.bills,
            checkpoint.parties,
            &mut batch,
        )?;
        commit_entries(
            &self.seal,
            checkpoint.height,
            checkpoint.registry,
            checkpoint.formats,
            &mut batch,
        );
        self.kv.apply(batch)
    }

    /// Writes part of a checkpoint at `height`: states only, each in the slot the committed checkpoint
    /// does not read, so nothing a read (or a start after a crash) sees changes until
    /// [`LedgerStore::commit_checkpoint`]. A checkpoint of thousands of bills written in pieces keeps
    /// every piece a short batch: sled applies one batch at a time, and one of 8 192 bills held every
    /// block behind it for 60-500 ms.
    pub fn write_states(&self, height: u64, bills: &[Bill], parties: &[Party]) -> Result<()> {
        let committed = self.checkpoint_may_go_to(height)?;
        if height == committed {
            // A piece at the committed height would tie with the state it is meant to replace, and a
            // tie must never let an uncommitted record be read.
            return Err(StoreError::Corrupt {
                what: "checkpoint",
                key: height.to_string(),
                reason: "refusing pieces of a checkpoint at the height already committed".into(),
            });
        }
        self.clear_cut_pieces(committed, Some(height))?;
        let mut batch = Vec::new();
        self.state_entries(committed, height, bills, parties, &mut batch)?;
        self.kv.apply(batch)
    }

    /// Before a checkpoint's first piece or a whole checkpoint: if pieces of another checkpoint were
    /// left uncommitted (a crash cut it short), removes every state record above the committed height,
    /// since a newer commit would otherwise make them read (a bill the cut checkpoint wrote and the new
    /// one does not). Then records that pieces at `pieces` are under way.
    pub(super) fn clear_cut_pieces(&self, committed: u64, pieces: Option<u64>) -> Result<()> {
        let under_way: Option<u64> = self.read("pieces under way", PIECES_AT)?;
        if under_way.is_some() && under_way != pieces {
            self.remove_states_above::<Bill>("bill", BILL, committed)?;
            self.remove_states_above::<Party>("party", PARTY, committed)?;
        }
        match pieces {
            Some(height) if under_way != pieces => {
                let mut batch = Batch::new();
                put(
                    &self.seal,
                    &mut batch,
                    PIECES_AT.to_vec(),
                    codec::encode(&height),
                );
                self.kv.apply(batch)
            }
            Some(_) => Ok(()),
            None if under_way.is_some() => self.kv.apply(vec![(PIECES_AT.to_vec(), None)]),
            None => Ok(()),
        }
    }

    /// Removes the slotted state records under `prefix` above `committed`.
    pub(super) fn remove_states_above<T: DeserializeOwned>(
        &self,
        what: &'static str,
        prefix: u8,
        committed: u64,
    ) -> Result<()> {
        let mut cut = Batch::new();
        for (k, v) in self.kv.scan(&[prefix])? {
            if k.len() == 1 + STATE_ID_BYTES {
                continue;
            }
            let (height, _): (u64, T) = unseal(&self.seal, what, &k, &v)?;
            if height > committed {
                cut.push((k, None));
            }
        }
        self.kv.apply(cut)
    }

    /// Makes the states written at `height` ([`LedgerStore::write_states`]) the checkpoint, with the
    /// registry as of that height, in one small batch. Every state changed since the last checkpoint
    /// must have been written first: the ones not written are read as of the last one.
    pub fn commit_checkpoint(
        &self,
        height: u64,
        registry: &RegistryHead,
        formats: &[Activation],
    ) -> Result<()> {
        let committed = self.checkpoint_may_go_to(height)?;
        let under_way: Option<u64> = self.read("pieces under way", PIECES_AT)?;
        if under_way.is_some_and(|h| h != height) {
            // Not the pieces of this height: cut ones, cleared before this commit can expose them.
            self.clear_cut_pieces(committed, None)?;
        }
        let mut batch = Vec::new();
        commit_entries(&self.seal, height, registry, formats, &mut batch);
        batch.push((PIECES_AT.to_vec(), None));
        self.kv.apply(batch)
    }

    /// The committed state height, if a checkpoint at `height` may be written: not above the head,
    /// not below the committed one.
    pub(super) fn checkpoint_may_go_to(&self, height: u64) -> Result<u64> {
        let refuse = |reason: &str| StoreError::Corrupt {
            what: "checkpoint",
            key: height.to_string(),
            reason: reason.into(),
        };
        if height > self.height()? {
            return Err(refuse("refusing a checkpoint above the stored head"));
        }
        let committed = self.state_height()?;
        if height < committed {
            return Err(refuse(
                "refusing a checkpoint below the one already committed",
            ));
        }
        Ok(committed)
    }

    /// The sealed state records of `bills` and `parties` at `height`, each in the slot not holding
    /// the state the checkpoint at `committed` reads.
    pub(super) fn state_entries(
        &self,
        committed: u64,
        height: u64,
        bills: &[Bill],
        parties: &[Party],
        batch: &mut Batch,
    ) -> Result<()> {
        for bill in bills {
            let slot = self.free_slot::<Bill>("bill", BILL, bill.id.as_bytes(), committed)?;
            put(
                &self.seal,
                batch,
                state_key(BILL, bill.id.as_bytes(), Some(slot)),
                codec::encode(&(height, bill)),
            );
        }
        for party in parties {
            let slot = self.free_slot::<Party>("party", PARTY, &party.id.0, committed)?;
            put(
                &self.seal,
                batch,
                state_key(PARTY, &party.id.0, Some(slot)),
                codec::encode(&(height, party)),
            );
        }
        Ok(())
    }

    /// The slot a new state of `id` goes to: the one whose record the checkpoint at `committed` does
    /// not read (empty, older, or left by a checkpoint a crash cut short).
    pub(super) fn free_slot<T: DeserializeOwned>(
        &self,
        what: &'static str,
        prefix: u8,
        id: &[u8],
        committed: u64,
    ) -> Result<u8> {
        let mut heights = [None; 2];
        for slot in SLOTS {
            let k = state_key(prefix, id, Some(slot));
            if let Some(bytes) = self.kv.get(&k)? {
                let (height, _): (u64, T) = unseal(&self.seal, what, &k, &bytes)?;
                heights[usize::from(slot)] = Some(height).filter(|h| *h <= committed);
            }
        }
        Ok(match heights {
            [Some(a), Some(b)] if a >= b => 1,
            [Some(_), _] => 1,
            _ => 0,
        })
    }

    /// The state of `id` the checkpoint at `committed` reads: of its records (the two slots, and the
    /// one of a store from before them, as the oldest), the newest at or below `committed`. Every
    /// record is unsealed, so a rewritten one is refused even where another would be read.
    pub(super) fn state_at<T: DeserializeOwned>(
        what: &'static str,
        seal: &SealKey,
        records: &[(Vec<u8>, Vec<u8>)],
        committed: u64,
    ) -> Result<Option<T>> {
        let mut best: Option<(u64, T)> = None;
        for (k, v) in records {
            let (height, state) = if k.len() == 1 + STATE_ID_BYTES {
                // No slot byte: a record from before the slots, as of some earlier checkpoint.
                (0, unseal::<T>(seal, what, k, v)?)
            } else {
                unseal::<(u64, T)>(seal, what, k, v)?
            };
            if height <= committed && best.as_ref().is_none_or(|(h, _)| height >= *h) {
                best = Some((height, state));
            }
        }
        Ok(best.map(|(_, state)| state))
    }

    /// Every state under `prefix` the committed checkpoint reads, one per id.
    pub(super) fn states<T: DeserializeOwned>(
        &self,
        what: &'static str,
        prefix: u8,
    ) -> Result<Vec<T>> {
        let committed = self.state_height()?;
        let mut out = Vec::new();
        let mut group: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        // Keys sort by id, then slot: an id's records are next to each other.
        for (k, v) in self.kv.scan(&[prefix])? {
            if group
                .first()
                .is_some_and(|(g, _)| id_part(g) != id_part(&k))
            {
                out.extend(Self::state_at(what, &self.seal, &group, committed)?);
                group.clear();
            }
            group.push((k, v));
        }
        if !group.is_empty() {
            out.extend(Self::state_at(what, &self.seal, &group, committed)?);
        }
        Ok(out)
    }

    /// A bill's state as of the last checkpoint.
    pub fn bill(&self, id: &BillId) -> Result<Option<Bill>> {
        let committed = self.state_height()?;
        let mut records = Vec::new();
        for slot in [None, Some(SLOTS[0]), Some(SLOTS[1])] {
            let k = state_key(BILL, id.as_bytes(), slot);
            if let Some(v) = self.kv.get(&k)? {
                records.push((k, v));
            }
        }
        Self::state_at("bill", &self.seal, &records, committed)
    }

    /// Every bill's state as of the last checkpoint.
    pub fn bills(&self) -> Result<Vec<Bill>> {
        self.states("bill", BILL)
    }

    /// Every party as of the last checkpoint.
    pub fn parties(&self) -> Result<Vec<Party>> {
        self.states("party", PARTY)
    }
}
