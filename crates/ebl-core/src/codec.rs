//! The one codec for every byte that is hashed, signed or stored: bincode 2.0.1, pinned to one strict configuration.
//!
//! bincode is unmaintained (RUSTSEC-2025-0141), and its defaults are unsafe for signed data: varints give one
//! value several byte forms, trailing bytes are ignored, and a short input claiming a huge length makes the
//! default decoder allocate until the process aborts. Here integers are fixed-width little-endian, every
//! decode runs under a byte limit (so a claimed length larger than the limit fails before allocating),
//! and any byte after the value is an error. Replacing bincode means changing this file only; the snapshot
//! tests in `tests/it/codec.rs` pin the bytes, so a format change cannot slip through unnoticed.

use bincode::config::{self, Config};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::{Error, Result};

/// The ceiling every decode runs under, whatever the caller's own limit: no single stored record,
/// transaction or answer is larger.
pub const CODEC_BYTES_MAX: usize = 1024 * 1024;

/// The ceiling of the decodes that carry a whole proposal or several at once ([`decode_message`]): Raft
/// log entries, proposals, and the messages between member nodes (an append of several proposals, a
/// batch of fetched blocks). Issue 35: every decode was held to `CODEC_BYTES_MAX` whatever its
/// caller's limit, so an append of proposals over 1 MiB in all was refused by every follower, for
/// ever: the cluster stopped committing.
pub const MESSAGE_BYTES_MAX: usize = 64 * 1024 * 1024;

fn strict() -> impl Config {
    config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<CODEC_BYTES_MAX>()
}

/// The same configuration, with the messages' ceiling: the same bytes.
fn messages() -> impl Config {
    config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<MESSAGE_BYTES_MAX>()
}

/// Encodes a value. Our types serialize as fixed structures and known-length sequences, which bincode
/// cannot fail on; a failure here is a bug in a type's `Serialize`, not bad input.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    bincode::serde::encode_to_vec(value, messages())
        .expect("encoding a well-formed ebl value cannot fail")
}

/// How many bytes [`encode`] makes of `value`, counted without making them (a sender keeps a message
/// within its ceiling by the sizes of its parts).
pub fn encoded_len<T: Serialize + ?Sized>(value: &T) -> usize {
    let mut size = bincode::enc::write::SizeWriter::default();
    bincode::serde::encode_into_writer(value, &mut size, messages())
        .expect("encoding a well-formed ebl value cannot fail");
    size.bytes_written
}

/// Decodes exactly one value from all of `bytes`, which must be at most `max` (and `CODEC_BYTES_MAX`)
/// bytes long.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], max: usize) -> Result<T> {
    decode_with(bytes, max.min(CODEC_BYTES_MAX), strict())
}

/// [`decode`] for a Raft log entry, a proposal or a message between member nodes: at most `max` (and
/// `MESSAGE_BYTES_MAX`) bytes.
pub fn decode_message<T: DeserializeOwned>(bytes: &[u8], max: usize) -> Result<T> {
    decode_with(bytes, max.min(MESSAGE_BYTES_MAX), messages())
}

fn decode_with<T: DeserializeOwned>(bytes: &[u8], max: usize, config: impl Config) -> Result<T> {
    if bytes.len() > max {
        return Err(Error::EncodingTooLarge {
            len: bytes.len(),
            max,
        });
    }
    let (value, read) = bincode::serde::decode_from_slice::<T, _>(bytes, config).map_err(|e| {
        Error::MalformedEncoding {
            reason: e.to_string(),
        }
    })?;
    if read != bytes.len() {
        return Err(Error::TrailingBytes {
            extra: bytes.len() - read,
        });
    }
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_claimed_length_is_refused_not_allocated() {
        // 8-byte length prefix claiming ~2^64 bytes, then a few bytes: the bincode default would try to allocate.
        let mut bytes = vec![0xff; 8];
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        let got = decode::<Vec<u8>>(&bytes, 64);
        assert!(
            matches!(got, Err(Error::MalformedEncoding { .. })),
            "{got:?}"
        );
        let got = decode::<String>(&bytes, 64);
        assert!(
            matches!(got, Err(Error::MalformedEncoding { .. })),
            "{got:?}"
        );
    }

    /// Issue 35: a follower refused every append of proposals over 1 MiB in all, whatever the peer
    /// layer's own limit, and the cluster stopped committing. Messages decode up to their own ceiling;
    /// everything else stays under `CODEC_BYTES_MAX`.
    #[test]
    fn regression_a_message_over_a_mebibyte_decodes_and_a_record_does_not() {
        let big = vec![7u8; 3 * CODEC_BYTES_MAX];
        let bytes = encode(&big);
        assert_eq!(
            decode_message::<Vec<u8>>(&bytes, MESSAGE_BYTES_MAX).ok(),
            Some(big)
        );
        assert!(matches!(
            decode::<Vec<u8>>(&bytes, MESSAGE_BYTES_MAX),
            Err(Error::EncodingTooLarge { .. })
        ));
        assert!(matches!(
            decode_message::<Vec<u8>>(&bytes, CODEC_BYTES_MAX),
            Err(Error::EncodingTooLarge { .. })
        ));
    }

    #[test]
    fn trailing_bytes_are_refused() {
        let mut bytes = encode(&7u32);
        bytes.push(0);
        assert_eq!(
            decode::<u32>(&bytes, 64),
            Err(Error::TrailingBytes { extra: 1 })
        );
    }

    #[test]
    fn integers_are_fixed_width() {
        assert_eq!(encode(&1u64), vec![1, 0, 0, 0, 0, 0, 0, 0]);
        assert_eq!(encode(&1u32).len(), 4);
    }

    #[test]
    fn over_the_callers_limit_is_refused() {
        let bytes = encode(&vec![0u8; 10]);
        assert!(decode::<Vec<u8>>(&bytes, bytes.len()).is_ok());
        assert_eq!(
            decode::<Vec<u8>>(&bytes, bytes.len() - 1),
            Err(Error::EncodingTooLarge {
                len: bytes.len(),
                max: bytes.len() - 1
            })
        );
    }

    #[test]
    fn a_bool_has_one_byte_form() {
        assert!(decode::<bool>(&[2], 8).is_err());
        assert!(decode::<Option<u8>>(&[2, 0], 8).is_err());
    }
}
