//! The binary form of a batch for `POST /v1/batches` and of its receipts, beside JSON: each
//! transaction and each outcome in the canonical codec's bytes, framed by a magic, a count and one
//! length per item. The node decodes what it stores anyway, with no JSON parse or hex on the way in.
//!
//! Layout (integers little-endian `u32`): `magic (4 bytes) | count | (length | item bytes) * count`.
//! Every length is checked against the item's own limit before anything is read or allocated.

use serde::{Deserialize, Serialize};

use crate::api::{ErrorBody, Receipt, SubmitOutcome};
use crate::certificate::Certificate;
use crate::codec;
use crate::error::{Error, Result};
use crate::limits::TRANSACTION_BYTES_MAX;
use crate::transaction::{SignedTransaction, TxId};

/// The media type of a binary batch.
pub const BATCH_MEDIA_TYPE: &str = "application/x-ebl-batch";
/// The media type of the node's binary answer to one.
pub const RECEIPTS_MEDIA_TYPE: &str = "application/x-ebl-receipts";

const BATCH_MAGIC: [u8; 4] = *b"EBB1";
const RECEIPTS_MAGIC: [u8; 4] = *b"EBR1";
/// The longest one encoded outcome may be (a receipt with its proof and a certificate of every member).
pub const OUTCOME_BYTES_MAX: usize = 64 * 1024;

/// What became of one transaction, in the binary answer: `SubmitOutcome` with the same meaning.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum WireOutcome {
    /// Ordered, applied and durable.
    Accepted {
        /// The transaction's id.
        id: TxId,
        /// Where it sits.
        receipt: Receipt,
        /// The block's finality certificate, if asked for.
        certificate: Option<Certificate>,
    },
    /// Already on the ledger; nothing changed.
    Duplicate {
        /// The transaction's id.
        id: TxId,
        /// Where it already sits.
        receipt: Receipt,
        /// The block's finality certificate, if asked for.
        certificate: Option<Certificate>,
    },
    /// Refused by a rule; nothing changed.
    Rejected {
        /// The transaction's id.
        id: TxId,
        /// Why.
        error: ErrorBody,
    },
}

impl From<SubmitOutcome> for WireOutcome {
    fn from(o: SubmitOutcome) -> WireOutcome {
        match o {
            SubmitOutcome::Accepted {
                id,
                receipt,
                certificate,
            } => WireOutcome::Accepted {
                id,
                receipt,
                certificate,
            },
            SubmitOutcome::Duplicate {
                id,
                receipt,
                certificate,
            } => WireOutcome::Duplicate {
                id,
                receipt,
                certificate,
            },
            SubmitOutcome::Rejected { id, error } => WireOutcome::Rejected { id, error },
        }
    }
}

impl From<WireOutcome> for SubmitOutcome {
    fn from(o: WireOutcome) -> SubmitOutcome {
        match o {
            WireOutcome::Accepted {
                id,
                receipt,
                certificate,
            } => SubmitOutcome::Accepted {
                id,
                receipt,
                certificate,
            },
            WireOutcome::Duplicate {
                id,
                receipt,
                certificate,
            } => SubmitOutcome::Duplicate {
                id,
                receipt,
                certificate,
            },
            WireOutcome::Rejected { id, error } => SubmitOutcome::Rejected { id, error },
        }
    }
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "framed items are transactions and receipts (each under TRANSACTION_BYTES_MAX or OUTCOME_BYTES_MAX), a batch's worth of them"
)]
fn frame<'a>(magic: [u8; 4], items: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&magic);
    out.extend_from_slice(&(items.len() as u32).to_le_bytes());
    for item in items {
        out.extend_from_slice(&(item.len() as u32).to_le_bytes());
        out.extend_from_slice(item);
    }
    out
}

fn malformed(reason: &str) -> Error {
    Error::MalformedEncoding {
        reason: reason.to_owned(),
    }
}

/// The items of a frame, each at most `item_max` bytes, at most `count_max` of them.
fn unframe(bytes: &[u8], magic: [u8; 4], count_max: usize, item_max: usize) -> Result<Vec<&[u8]>> {
    let (head, mut rest) = bytes
        .split_at_checked(8)
        .ok_or_else(|| malformed("shorter than a frame's header"))?;
    if head[..4] != magic {
        return Err(malformed("not this frame's magic"));
    }
    let count = u32::from_le_bytes([head[4], head[5], head[6], head[7]]) as usize;
    if count > count_max {
        return Err(Error::EncodingTooLarge {
            len: count,
            max: count_max,
        });
    }
    let mut items = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, after) = rest
            .split_at_checked(4)
            .ok_or_else(|| malformed("an item's length is cut short"))?;
        let len = u32::from_le_bytes([len[0], len[1], len[2], len[3]]) as usize;
        if len > item_max {
            return Err(Error::EncodingTooLarge { len, max: item_max });
        }
        let (item, after) = after
            .split_at_checked(len)
            .ok_or_else(|| malformed("an item is cut short"))?;
        items.push(item);
        rest = after;
    }
    if !rest.is_empty() {
        return Err(Error::TrailingBytes { extra: rest.len() });
    }
    Ok(items)
}

/// A batch of transactions already in codec bytes (as a client that signs ahead keeps them).
pub fn encode_batch_of_encoded<'a>(txs: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    frame(BATCH_MAGIC, txs)
}

/// A batch in the binary form: each transaction's canonical bytes, framed.
pub fn encode_batch(txs: &[SignedTransaction]) -> Vec<u8> {
    let encoded: Vec<Vec<u8>> = txs.iter().map(codec::encode).collect();
    frame(BATCH_MAGIC, encoded.iter().map(Vec::as_slice))
}

/// A batch of at most `count_max` transactions, each within `TRANSACTION_BYTES_MAX` and decoded with
/// every structural rule, as a single binary transaction is (`SignedTransaction::decode`).
pub fn decode_batch(bytes: &[u8], count_max: usize) -> Result<Vec<SignedTransaction>> {
    unframe(bytes, BATCH_MAGIC, count_max, TRANSACTION_BYTES_MAX)?
        .into_iter()
        .map(SignedTransaction::decode)
        .collect()
}

/// The binary answer to a batch: one framed outcome per transaction.
pub fn encode_receipts(outcomes: Vec<SubmitOutcome>) -> Vec<u8> {
    let encoded: Vec<Vec<u8>> = outcomes
        .into_iter()
        .map(|o| codec::encode(&WireOutcome::from(o)))
        .collect();
    frame(RECEIPTS_MAGIC, encoded.iter().map(Vec::as_slice))
}

/// Reads a binary answer of at most `count_max` outcomes.
pub fn decode_receipts(bytes: &[u8], count_max: usize) -> Result<Vec<SubmitOutcome>> {
    unframe(bytes, RECEIPTS_MAGIC, count_max, OUTCOME_BYTES_MAX)?
        .into_iter()
        .map(|item| codec::decode::<WireOutcome>(item, OUTCOME_BYTES_MAX).map(SubmitOutcome::from))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_refuse_what_they_do_not_hold_whole() {
        let items: [&[u8]; 2] = [b"ab", b"c"];
        let framed = frame(BATCH_MAGIC, items.iter().copied());
        assert_eq!(
            unframe(&framed, BATCH_MAGIC, 2, 8).expect("whole"),
            vec![&b"ab"[..], &b"c"[..]]
        );
        assert!(
            unframe(&framed, RECEIPTS_MAGIC, 2, 8).is_err(),
            "another magic"
        );
        assert!(matches!(
            unframe(&framed, BATCH_MAGIC, 1, 8),
            Err(Error::EncodingTooLarge { len: 2, max: 1 })
        ));
        assert!(matches!(
            unframe(&framed, BATCH_MAGIC, 2, 1),
            Err(Error::EncodingTooLarge { len: 2, max: 1 })
        ));
        assert!(unframe(&framed[..framed.len() - 1], BATCH_MAGIC, 2, 8).is_err());
        let mut longer = framed.clone();
        longer.push(0);
        assert!(matches!(
            unframe(&longer, BATCH_MAGIC, 2, 8),
            Err(Error::TrailingBytes { extra: 1 })
        ));
        // A huge claimed count or length fails before anything is allocated for it.
        let mut lying = BATCH_MAGIC.to_vec();
        lying.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(unframe(&lying, BATCH_MAGIC, 1024, 8).is_err());
        let mut lying = BATCH_MAGIC.to_vec();
        lying.extend_from_slice(&1u32.to_le_bytes());
        lying.extend_from_slice(&u32::MAX.to_le_bytes());
        assert!(unframe(&lying, BATCH_MAGIC, 1024, 1 << 20).is_err());
    }

    #[test]
    fn each_item_is_held_to_its_own_limit() {
        let tx = vec![0u8; TRANSACTION_BYTES_MAX + 1];
        let batch = frame(BATCH_MAGIC, [tx.as_slice()].into_iter());
        assert!(matches!(
            decode_batch(&batch, 1),
            Err(Error::EncodingTooLarge { len, max }) if len == TRANSACTION_BYTES_MAX + 1 && max == TRANSACTION_BYTES_MAX
        ));
        let outcome = vec![0u8; OUTCOME_BYTES_MAX + 1];
        let receipts = frame(RECEIPTS_MAGIC, [outcome.as_slice()].into_iter());
        assert!(matches!(
            decode_receipts(&receipts, 1),
            Err(Error::EncodingTooLarge { len, max }) if len == OUTCOME_BYTES_MAX + 1 && max == OUTCOME_BYTES_MAX
        ));
    }
}
