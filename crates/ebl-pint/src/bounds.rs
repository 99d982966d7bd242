//! JSON bounded before it is parsed: a received envelope's nesting, the members of any one array or
//! object, and its values in all are counted over its bytes, so junk shaped like an envelope is refused
//! before it becomes a tree many times its size.
//!
//! A 4 MiB body of nested arrays parses into a `serde_json::Value` tree of hundreds of megabytes; 64 of
//! them at once took a node to 1.8 GiB (finding 7 of the attack review). A real DCSA envelope is a few
//! levels deep, with arrays of at most some hundreds of items (consignment items, endorsement chain
//! entries), so the limits below leave it untouched.

/// Deepest nesting of arrays and objects an envelope may have (DCSA's transport document nests about
/// ten levels; the envelope wraps it in three more).
pub const ENVELOPE_DEPTH_MAX: usize = 32;
/// Most members of one array or object.
pub const ENVELOPE_CONTAINER_MEMBERS_MAX: usize = 4_096;
/// Most values (strings, numbers, literals, arrays, objects) in a whole envelope.
pub const ENVELOPE_VALUES_MAX: usize = 200_000;

/// Why a body was refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonBoundsError {
    /// Nested deeper than `ENVELOPE_DEPTH_MAX`.
    #[error("JSON nested deeper than {max} levels")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// An array or object with more members than `ENVELOPE_CONTAINER_MEMBERS_MAX`.
    #[error("a JSON array or object with more than {max} members")]
    TooWide {
        /// The limit.
        max: usize,
    },
    /// More values than `ENVELOPE_VALUES_MAX` in all.
    #[error("more than {max} JSON values")]
    TooManyValues {
        /// The limit.
        max: usize,
    },
}

/// Counts `bytes` as JSON tokens (outside strings, with their escapes) and refuses what is deeper, wider
/// or larger than the envelope limits. Says nothing of whether the JSON is well-formed: the parser,
/// which runs only after this, does.
pub fn check_json_bounds(bytes: &[u8]) -> Result<(), JsonBoundsError> {
    // Members counted so far in each open container (a container's first member is counted at its
    // first value, each further one at a comma).
    let mut open: Vec<usize> = Vec::new();
    let mut values = 0usize;
    let (mut in_string, mut escaped) = (false, false);
    // Whether the innermost open container has seen a value yet (so `[]` counts no member).
    let mut started = false;
    let mut value = |open: &mut Vec<usize>, started: &mut bool| -> Result<(), JsonBoundsError> {
        values += 1;
        if values > ENVELOPE_VALUES_MAX {
            return Err(JsonBoundsError::TooManyValues {
                max: ENVELOPE_VALUES_MAX,
            });
        }
        if let Some(members) = open.last_mut() {
            if !*started {
                *members = 1;
                *started = true;
            }
        }
        Ok(())
    };
    let mut in_scalar = false;
    for &b in bytes {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        let scalar_byte = !matches!(
            b,
            b'"' | b'[' | b'{' | b']' | b'}' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
        );
        if scalar_byte {
            if !in_scalar {
                in_scalar = true;
                value(&mut open, &mut started)?;
            }
            continue;
        }
        in_scalar = false;
        match b {
            b'"' => {
                in_string = true;
                value(&mut open, &mut started)?;
            }
            b'[' | b'{' => {
                value(&mut open, &mut started)?;
                if open.len() >= ENVELOPE_DEPTH_MAX {
                    return Err(JsonBoundsError::TooDeep {
                        max: ENVELOPE_DEPTH_MAX,
                    });
                }
                open.push(0);
                started = false;
            }
            b']' | b'}' => {
                open.pop();
                started = true;
            }
            b',' => {
                if let Some(members) = open.last_mut() {
                    *members += 1;
                    if *members > ENVELOPE_CONTAINER_MEMBERS_MAX {
                        return Err(JsonBoundsError::TooWide {
                            max: ENVELOPE_CONTAINER_MEMBERS_MAX,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nested(depth: usize) -> String {
        format!("{}{}", "[".repeat(depth), "]".repeat(depth))
    }

    fn wide(members: usize) -> String {
        format!("[{}]", vec!["1"; members].join(","))
    }

    #[test]
    fn the_limits_hold_at_their_bounds() {
        assert_eq!(
            check_json_bounds(nested(ENVELOPE_DEPTH_MAX).as_bytes()),
            Ok(())
        );
        assert_eq!(
            check_json_bounds(nested(ENVELOPE_DEPTH_MAX + 1).as_bytes()),
            Err(JsonBoundsError::TooDeep {
                max: ENVELOPE_DEPTH_MAX
            })
        );
        assert_eq!(
            check_json_bounds(wide(ENVELOPE_CONTAINER_MEMBERS_MAX).as_bytes()),
            Ok(())
        );
        assert_eq!(
            check_json_bounds(wide(ENVELOPE_CONTAINER_MEMBERS_MAX + 1).as_bytes()),
            Err(JsonBoundsError::TooWide {
                max: ENVELOPE_CONTAINER_MEMBERS_MAX
            })
        );
        // Many values, each container within its width: the total limit.
        let many = format!(
            "[{}]",
            vec![
                wide(ENVELOPE_CONTAINER_MEMBERS_MAX - 1);
                ENVELOPE_VALUES_MAX / ENVELOPE_CONTAINER_MEMBERS_MAX + 1
            ]
            .join(",")
        );
        assert_eq!(
            check_json_bounds(many.as_bytes()),
            Err(JsonBoundsError::TooManyValues {
                max: ENVELOPE_VALUES_MAX
            })
        );
    }

    #[test]
    fn brackets_and_commas_inside_strings_count_for_nothing() {
        let text = format!(
            "{{\"a\": \"{}\", \"b\": \"\\\"[[,,\\\\\", \"c\": [1, 2]}}",
            "[".repeat(1_000) + &",".repeat(10_000)
        );
        assert_eq!(check_json_bounds(text.as_bytes()), Ok(()));
        assert_eq!(check_json_bounds(b"[]"), Ok(()));
        assert_eq!(check_json_bounds(b"{}"), Ok(()));
    }

    /// The DCSA example document and pint-demo's signed envelopes (MIT, in `tests/fixtures/`) are
    /// well inside every limit.
    #[test]
    fn real_envelopes_pass() {
        let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/");
        assert_eq!(
            check_json_bounds(ebl_core::sample::DCSA_TO_ORDER_BOL.as_bytes()),
            Ok(())
        );
        for name in [
            "HHL71800000-ebl-envelope-ed25519.json",
            "HHL71800000-ebl-envelope-nodocs-ed25519.json",
            "HHL71800000-ebl-envelope-rsa.json",
        ] {
            let bytes = std::fs::read(format!("{fixtures}{name}")).expect("fixture");
            assert_eq!(check_json_bounds(&bytes), Ok(()), "{name}");
        }
    }
}
