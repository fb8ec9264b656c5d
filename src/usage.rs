//! Token usage: the Opik SDK's normalisation (reference §3.9, `reference`
//! profile) and the plain int32 usage of the `linked` profile (item 8).

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::json::{Json, Kind, Obj};

/// The three OpenAI-style keys, in the order the SDK writes them.
const CORE: [&str; 3] = ["completion_tokens", "prompt_tokens", "total_tokens"];
/// The same keys under `original_usage.`.
const ORIGINAL_CORE: [&str; 3] = [
    "original_usage.completion_tokens",
    "original_usage.prompt_tokens",
    "original_usage.total_tokens",
];

/// An integer as Python holds it (wide enough for any token count).
type PyInt = i128;

fn int_json(v: PyInt) -> Json<'static> {
    match i64::try_from(v) {
        Ok(i) => Json::Int(i),
        // Cannot fail: the decimal form of an integer is valid JSON.
        Err(_) => RawValue::from_string(v.to_string())
            .map(|r| Json::RawOwned(r.into()))
            .unwrap_or(Json::Null),
    }
}

/// Parses an integer literal (no fraction, no exponent).
#[inline(never)]
fn int_literal(t: &str) -> Option<PyInt> {
    if t.contains(['.', 'e', 'E']) {
        return None;
    }
    t.parse().ok()
}

/// Digits with single underscores between them, as Python and pydantic accept.
fn underscored_digits(s: &str) -> Option<PyInt> {
    if s.is_empty() || s.starts_with('_') || s.ends_with('_') || s.contains("__") {
        return None;
    }
    if !s.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
        return None;
    }
    s.replace('_', "").parse().ok()
}

fn signed(s: &str, digits: impl Fn(&str) -> Option<PyInt>) -> Option<PyInt> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let v = digits(body)?;
    Some(if neg { -v } else { v })
}

/// Pydantic's lax `int` validation of a JSON value (what the OpenAI usage
/// model accepts): ints, bools, integral floats within i64, and strings of
/// digits with an optional `.0…` tail.
pub fn pydantic_int(v: &Json) -> Option<PyInt> {
    match v {
        Json::Bool(b) => Some(PyInt::from(*b)),
        Json::Int(i) => Some(PyInt::from(*i)),
        Json::Float(f) => float_int(*f),
        Json::Str(s) => pydantic_str_int(s),
        Json::Raw(_) | Json::RawOwned(_) => {
            let t = v.raw_text()?.trim();
            match v.kind() {
                Kind::Bool => Some(PyInt::from(t == "true")),
                Kind::Number => int_literal(t).or_else(|| float_int(crate::decimal::parse_f64(t)?)),
                Kind::String => pydantic_str_int(&v.as_str()?),
                _ => None,
            }
        }
        _ => None,
    }
}

fn float_int(f: f64) -> Option<PyInt> {
    (f.is_finite() && f.fract() == 0.0 && f.abs() < 9.223_372_036_854_776e18).then_some(f as PyInt)
}

fn pydantic_str_int(s: &str) -> Option<PyInt> {
    let t = s.trim();
    let t = match t.find('.') {
        Some(i) if t.len() > i + 1 && t[i + 1..].bytes().all(|b| b == b'0') => &t[..i],
        Some(_) => return None,
        None => t,
    };
    signed(t, |d| {
        if d.contains('_') {
            None
        } else {
            underscored_digits(d)
        }
    })
}

/// Python's `int(x)` on a JSON value; `None` where it raises (caught by the SDK).
pub fn python_int(v: &Json) -> Option<PyInt> {
    match v.kind() {
        Kind::Bool => Some(PyInt::from(v.truthy())),
        Kind::Number => match v {
            Json::Int(i) => Some(PyInt::from(*i)),
            Json::Float(f) => f.is_finite().then_some(f.trunc() as PyInt),
            _ => {
                let t = v.raw_text()?.trim();
                int_literal(t).or_else(|| {
                    // Finite: `parse_f64` gives nothing else.
                    Some(crate::decimal::parse_f64(t)?.trunc() as PyInt)
                })
            }
        },
        Kind::String => signed(v.as_str()?.trim(), underscored_digits),
        _ => None,
    }
}

/// `isinstance(v, int)` in Python (bools included): the value as written.
fn python_int_value(v: &Json) -> Option<Json<'static>> {
    match v.kind() {
        Kind::Bool => Some(Json::Bool(v.truthy())),
        Kind::Number => match v {
            Json::Int(i) => Some(Json::Int(*i)),
            Json::Float(_) => None,
            _ => int_literal(v.raw_text()?.trim()).map(int_json),
        },
        _ => None,
    }
}

/// Flattens nested objects into `prefix.key` entries (the SDK's
/// `flatten_dict`), keeping only Python ints.
fn flatten_ints(prefix: &str, o: &Obj, out: &mut Obj<'static>) {
    // Explicit stack: nesting depth comes from the input.
    let mut stack: Vec<(String, Obj)> = vec![(prefix.to_owned(), o.clone())];
    let mut pending: Vec<std::vec::IntoIter<(Cow<str>, Json)>> = Vec::new();
    let mut prefixes: Vec<String> = Vec::new();
    if let Some((p, obj)) = stack.pop() {
        prefixes.push(p);
        pending.push(obj.into_iter());
    }
    while let Some(iter) = pending.last_mut() {
        match iter.next() {
            None => {
                pending.pop();
                prefixes.pop();
            }
            Some((k, v)) => {
                let key = format!("{}.{}", prefixes.last().map_or("", String::as_str), k);
                if v.kind() == Kind::Object {
                    let inner: Obj<'static> = v
                        .to_obj()
                        .unwrap_or_default()
                        .into_iter()
                        .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                        .collect();
                    prefixes.push(key);
                    pending.push(inner.into_iter());
                } else if let Some(iv) = python_int_value(&v) {
                    set_owned(out, key, iv);
                }
            }
        }
    }
}

fn set_owned(out: &mut Obj<'static>, key: String, v: Json<'static>) {
    if let Some(slot) = out.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = v;
    } else {
        out.push((Cow::Owned(key), v));
    }
}

/// The SDK's `validate_and_parse_usage` for a usage dict: the backend form
/// `{completion_tokens, prompt_tokens, total_tokens, original_usage.*}`.
///
/// For Dify's three-key dicts the provider never matters: every provider's
/// own parser rejects them and the SDK falls back to the OpenAI parser, then
/// to its "unknown usage" parser.
pub fn sdk_normalize(usage: &Obj) -> Obj<'static> {
    let mut out: Obj<'static> = Vec::new();
    if usage.iter().any(|(k, _)| k.starts_with("original_usage.")) {
        for (k, v) in usage {
            if let Some(iv) = python_int_value(v) {
                set_owned(&mut out, k.to_string(), iv);
            }
        }
        return out;
    }
    let get = |k: &str| usage.iter().rev().find(|(key, _)| key == k).map(|(_, v)| v);
    let openai: Option<Vec<PyInt>> = CORE.iter().map(|k| get(k).and_then(pydantic_int)).collect();
    match openai {
        Some(vals) => {
            for (k, v) in CORE.iter().zip(&vals) {
                out.push((Cow::Borrowed(*k), int_json(*v)));
            }
            for (k, v) in ORIGINAL_CORE.iter().zip(&vals) {
                out.push((Cow::Borrowed(*k), int_json(*v)));
            }
            let extras: Obj = usage
                .iter()
                .filter(|(k, _)| !CORE.contains(&k.as_ref()))
                .cloned()
                .collect();
            flatten_ints("original_usage", &extras, &mut out);
        }
        None => {
            let p = get("prompt_tokens")
                .filter(|v| !v.is_null())
                .and_then(python_int);
            let c = get("completion_tokens")
                .filter(|v| !v.is_null())
                .and_then(python_int);
            let t = match (p, c) {
                (Some(p), Some(c)) => p.checked_add(c),
                _ => None,
            };
            for (k, v) in CORE.iter().zip([c, p, t]) {
                if let Some(v) = v {
                    out.push((Cow::Borrowed(*k), int_json(v)));
                }
            }
            flatten_ints("original_usage", usage, &mut out);
        }
    }
    out
}

/// A token count as the linked profile accepts it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Count {
    /// Absent or null.
    Unknown,
    /// A non-negative int32.
    Valid(i64),
    /// Present but not a non-negative int32 integer.
    Invalid,
}

/// Reads one token count: integral numbers or numeric strings in 0..=2^31−1.
pub fn count(v: Option<&Json>) -> Count {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Count::Unknown;
    };
    if v.kind() == Kind::Bool {
        return Count::Invalid;
    }
    match pydantic_int(v) {
        Some(n)
            if (0..=i64::from(i32::MAX)).contains(&(n as i64)) && n <= PyInt::from(i32::MAX) =>
        {
            Count::Valid(n as i64)
        }
        _ => Count::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(s: &str) -> Obj<'_> {
        crate::json::parse_obj(s).unwrap()
    }

    fn norm(s: &str) -> String {
        serde_json::to_string(&Json::Obj(sdk_normalize(&obj(s)))).unwrap()
    }

    #[test]
    fn plain_ints_give_six_keys_and_keep_a_total_that_is_not_the_sum() {
        assert_eq!(
            norm(r#"{"total_tokens":70,"completion_tokens":18,"prompt_tokens":52}"#),
            r#"{"completion_tokens":18,"prompt_tokens":52,"total_tokens":70,"original_usage.completion_tokens":18,"original_usage.prompt_tokens":52,"original_usage.total_tokens":70}"#
        );
        assert_eq!(
            norm(r#"{"total_tokens":7,"completion_tokens":0,"prompt_tokens":0}"#),
            r#"{"completion_tokens":0,"prompt_tokens":0,"total_tokens":7,"original_usage.completion_tokens":0,"original_usage.prompt_tokens":0,"original_usage.total_tokens":7}"#
        );
    }

    #[test]
    fn integral_floats_and_numeric_strings_are_coerced() {
        assert_eq!(
            norm(r#"{"total_tokens":70.0,"completion_tokens":"18","prompt_tokens":" 52 "}"#),
            r#"{"completion_tokens":18,"prompt_tokens":52,"total_tokens":70,"original_usage.completion_tokens":18,"original_usage.prompt_tokens":52,"original_usage.total_tokens":70}"#
        );
        assert_eq!(
            norm(r#"{"total_tokens":"70.00","completion_tokens":true,"prompt_tokens":-3}"#),
            r#"{"completion_tokens":1,"prompt_tokens":-3,"total_tokens":70,"original_usage.completion_tokens":1,"original_usage.prompt_tokens":-3,"original_usage.total_tokens":70}"#
        );
    }

    #[test]
    fn null_or_fractional_values_fall_back_to_unknown_usage() {
        assert_eq!(
            norm(r#"{"total_tokens":null,"completion_tokens":18,"prompt_tokens":52}"#),
            r#"{"completion_tokens":18,"prompt_tokens":52,"total_tokens":70,"original_usage.completion_tokens":18,"original_usage.prompt_tokens":52}"#
        );
        // int() truncates floats; only int-valued keys survive under original_usage.
        assert_eq!(
            norm(r#"{"total_tokens":70.5,"completion_tokens":18.9,"prompt_tokens":"52"}"#),
            r#"{"completion_tokens":18,"prompt_tokens":52,"total_tokens":70}"#
        );
        assert_eq!(
            norm(r#"{"total_tokens":null,"completion_tokens":null,"prompt_tokens":5}"#),
            r#"{"prompt_tokens":5,"original_usage.prompt_tokens":5}"#
        );
        assert_eq!(
            norm(r#"{"total_tokens":null,"completion_tokens":null,"prompt_tokens":null}"#),
            "{}"
        );
        assert_eq!(
            norm(
                r#"{"total_tokens":{"a":1,"b":{"c":2}},"completion_tokens":"1_0","prompt_tokens":true}"#
            ),
            r#"{"completion_tokens":10,"prompt_tokens":1,"total_tokens":11,"original_usage.total_tokens.a":1,"original_usage.total_tokens.b.c":2,"original_usage.prompt_tokens":true}"#
        );
    }

    #[test]
    fn big_integers_survive() {
        assert_eq!(
            norm(
                r#"{"total_tokens":123456789012345678901234,"completion_tokens":1,"prompt_tokens":2}"#
            ),
            r#"{"completion_tokens":1,"prompt_tokens":2,"total_tokens":123456789012345678901234,"original_usage.completion_tokens":1,"original_usage.prompt_tokens":2,"original_usage.total_tokens":123456789012345678901234}"#
        );
    }

    #[test]
    fn linked_counts_are_non_negative_int32() {
        let j = |s: &str| Json::RawOwned(RawValue::from_string(s.to_owned()).unwrap().into());
        assert_eq!(count(None), Count::Unknown);
        assert_eq!(count(Some(&j("null"))), Count::Unknown);
        assert_eq!(count(Some(&j("70"))), Count::Valid(70));
        assert_eq!(count(Some(&j("70.0"))), Count::Valid(70));
        assert_eq!(count(Some(&j("\"70\""))), Count::Valid(70));
        assert_eq!(count(Some(&j("2147483647"))), Count::Valid(2_147_483_647));
        assert_eq!(count(Some(&j("2147483648"))), Count::Invalid);
        assert_eq!(count(Some(&j("-1"))), Count::Invalid);
        assert_eq!(count(Some(&j("1.5"))), Count::Invalid);
        assert_eq!(count(Some(&j("true"))), Count::Invalid);
        assert_eq!(count(Some(&j("\"x\""))), Count::Invalid);
    }
}
