//! RFC 8785 JSON Canonicalization Scheme: the byte form DCSA checksums a transport document over.
//!
//! Parsing refuses duplicate object keys (two readers could otherwise see two different documents behind
//! one checksum) and integers that an IEEE 754 double cannot hold exactly (RFC 8785 works on doubles, so
//! such a number would silently change). Serialization sorts keys by UTF-16 code units, escapes only
//! what the RFC escapes, and writes numbers the way ECMAScript's `Number.prototype.toString` does.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use crate::error::{Error, Result};
use crate::hash::Hash;

/// The largest integer every double between zero and it can represent exactly.
const EXACT_INTEGER_MAX: u64 = 1 << 53;

/// A JSON value read with duplicate keys refused.
#[derive(Debug, Clone, PartialEq)]
pub struct StrictJson(pub Value);

impl<'de> Deserialize<'de> for StrictJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(StrictVisitor)
    }
}

struct StrictVisitor;

impl<'de> Visitor<'de> for StrictVisitor {
    type Value = StrictJson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::Bool(v)))
    }
    fn visit_i64<E>(self, v: i64) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::Number(v.into())))
    }
    fn visit_u64<E>(self, v: u64) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::Number(v.into())))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<StrictJson, E> {
        Number::from_f64(v)
            .map(|n| StrictJson(Value::Number(n)))
            .ok_or_else(|| E::custom("number is not finite"))
    }
    fn visit_str<E>(self, v: &str) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::String(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::String(v)))
    }
    fn visit_unit<E>(self) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::Null))
    }
    fn visit_none<E>(self) -> std::result::Result<StrictJson, E> {
        Ok(StrictJson(Value::Null))
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> std::result::Result<StrictJson, D::Error> {
        StrictJson::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<StrictJson, A::Error> {
        let mut items = Vec::new();
        while let Some(StrictJson(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(StrictJson(Value::Array(items)))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> std::result::Result<StrictJson, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format!("{DUPLICATE_KEY_MARK}{key}")));
            }
            let StrictJson(value) = map.next_value()?;
            out.insert(key, value);
        }
        Ok(StrictJson(Value::Object(out)))
    }
}

/// Marks the serde error that carries a duplicate key, so `parse` can turn it back into a typed error.
const DUPLICATE_KEY_MARK: &str = "duplicate JSON key: ";

/// Parses JSON text, refusing duplicate keys.
pub fn parse(text: &[u8]) -> Result<Value> {
    match serde_json::from_slice::<StrictJson>(text) {
        Ok(StrictJson(v)) => Ok(v),
        Err(e) => {
            let message = e.to_string();
            if let Some(rest) = message.strip_prefix(DUPLICATE_KEY_MARK) {
                // serde_json appends " at line L column C"; the key is what comes before it.
                let key = rest.rsplit_once(" at line ").map_or(rest, |(k, _)| k);
                return Err(Error::DuplicateJsonKey {
                    key: key.to_owned(),
                });
            }
            Err(Error::MalformedJson { reason: message })
        }
    }
}

/// Nesting depth of a value: a scalar is 0, `[]` and `{}` are 1.
pub fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// The RFC 8785 canonical text of a value.
pub fn canonicalize(value: &Value) -> Result<String> {
    let mut out = String::new();
    write_value(&mut out, value)?;
    Ok(out)
}

/// SHA-256 over the canonical form of JSON text: the DCSA document checksum.
pub fn checksum(text: &[u8]) -> Result<Hash> {
    let value = parse(text)?;
    Ok(Hash::of(canonicalize(&value)?.as_bytes()))
}

fn write_value(out: &mut String, value: &Value) -> Result<()> {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => out.push_str(&number(n)?),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item)?;
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item)?;
            }
            out.push('}');
        }
    }
    Ok(())
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{09}' => out.push_str("\\t"),
            '\u{0a}' => out.push_str("\\n"),
            '\u{0c}' => out.push_str("\\f"),
            '\u{0d}' => out.push_str("\\r"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

fn number(n: &Number) -> Result<String> {
    let inexact = || Error::InexactNumber {
        number: n.to_string(),
    };
    let value = if let Some(u) = n.as_u64() {
        if u > EXACT_INTEGER_MAX {
            return Err(inexact());
        }
        u as f64
    } else if let Some(i) = n.as_i64() {
        if i.unsigned_abs() > EXACT_INTEGER_MAX {
            return Err(inexact());
        }
        i as f64
    } else {
        n.as_f64().ok_or_else(inexact)?
    };
    Ok(ecmascript_number(value))
}

/// ECMAScript `Number.prototype.toString` for a finite double (ECMA-262, Number::toString).
pub fn ecmascript_number(value: f64) -> String {
    if value == 0.0 {
        return "0".to_owned(); // both zeros
    }
    let sign = if value < 0.0 { "-" } else { "" };
    // Rust's `{:e}` prints the shortest digits that round-trip, as ECMAScript requires: "d.ddde±x".
    let scientific = format!("{:e}", value.abs());
    let (mantissa, exponent) = scientific
        .split_once('e')
        .unwrap_or((scientific.as_str(), "0"));
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    // At most 17 significant digits: the conversion never saturates.
    let k = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let n = exponent.parse::<i32>().unwrap_or(0) + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e_sign = if e < 0 { '-' } else { '+' };
        if k == 1 {
            format!("{digits}e{e_sign}{}", e.abs())
        } else {
            format!("{}.{}e{e_sign}{}", &digits[..1], &digits[1..], e.abs())
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_ecmascript() {
        // Cases from RFC 8785 appendix B and ECMA-262.
        let cases: &[(f64, &str)] = &[
            (0.0, "0"),
            (-0.0, "0"),
            (1.0, "1"),
            (-1.5, "-1.5"),
            (1231.1, "1231.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (123456789012345680000.0, "123456789012345680000"),
            (0.000001, "0.000001"),
            (0.0000001, "1e-7"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (9007199254740992.0, "9007199254740992"),
            (295147905179352830000.0, "295147905179352830000"),
            (4.50, "4.5"),
            (2e-3, "0.002"),
            (0.000001000000000000001, "0.000001000000000000001"),
            (333333333.3333333, "333333333.3333333"),
        ];
        for (value, expected) in cases {
            assert_eq!(ecmascript_number(*value), *expected, "{value:e}");
        }
    }

    #[test]
    fn rfc8785_example_canonicalizes() {
        let input = br#"{
          "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
          "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
          "literals": [null, true, false]
        }"#;
        let value = parse(input).expect("valid JSON");
        assert_eq!(
            canonicalize(&value).expect("canonical"),
            r#"{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}"#
        );
    }

    #[test]
    fn keys_sort_by_utf16_code_units() {
        // U+1F600 (surrogates D83D DE00) sorts before U+FB33 in UTF-16, after it in UTF-8.
        let value = parse("{\"\u{fb33}\":1,\"\u{1f600}\":2,\"a\":3}".as_bytes()).expect("valid");
        assert_eq!(
            canonicalize(&value).expect("canonical"),
            "{\"a\":3,\"\u{1f600}\":2,\"\u{fb33}\":1}"
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert_eq!(
            parse(br#"{"a":1,"b":{"c":1,"c":2}}"#),
            Err(Error::DuplicateJsonKey { key: "c".into() })
        );
    }

    #[test]
    fn inexact_integers_are_refused() {
        let value = parse(b"[9007199254740993]").expect("valid JSON");
        assert!(matches!(
            canonicalize(&value),
            Err(Error::InexactNumber { .. })
        ));
        let value = parse(b"[9007199254740992, -9007199254740992]").expect("valid JSON");
        assert!(canonicalize(&value).is_ok());
    }
}
