//! JSON text out. Every serialisation of the crate writes with serde_json
//! into a `Vec<u8>` ([`to_string_sized`], and [`result_pieces`] piece by
//! piece): each writer type is one more copy of the output types'
//! serializers in the `.wasm`, so there is only one.

use serde::Serialize;

use crate::{Error, MapResult};

/// Compact JSON text of `value`.
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    to_string_sized(value, 0)
}

/// Compact JSON text of `value`, written into a buffer that starts with
/// `capacity` bytes (a good guess spares the copies of a growing buffer and
/// the memory they leave behind).
#[inline(never)]
pub fn to_string_sized<T: Serialize + ?Sized>(value: &T, capacity: usize) -> String {
    let mut out = Vec::with_capacity(capacity);
    // Serialising the crate's types cannot fail: every map key is a string.
    if serde_json::to_writer(&mut out, value).is_err() {
        return String::new();
    }
    debug_assert!(std::str::from_utf8(&out).is_ok());
    // SAFETY: serde_json's serializer writes only UTF-8: the JSON syntax it
    // adds is ASCII, and everything else comes from `str`s (strings, raw
    // values, the crate's own ids and times). `serde_json::to_string` relies
    // on the same.
    unsafe { String::from_utf8_unchecked(out) }
}

/// Bytes gathered before [`result_pieces`] passes them on.
pub const PIECE: usize = 48 << 10;

/// A mapping result's JSON text, `{"traces":[…],"spans":[…],"warnings":[…]}`
/// (and `"errors":[…]` when `errors` is given), exactly as [`to_string`]
/// writes it, handed to `pass` in pieces of about [`PIECE`] bytes instead
/// of whole: the whole text is never in memory at once. Pieces end between
/// two spans.
pub fn result_pieces(
    result: &MapResult<'_>,
    errors: Option<&Vec<Error>>,
    pass: &mut dyn FnMut(&str),
) {
    // Written with the same types as the whole result's fields (`Vec`s, not
    // slices), so that no serializer is compiled twice. Traces are few: one
    // a task.
    let mut buf = Vec::with_capacity(PIECE + PIECE / 4);
    buf.extend_from_slice(b"{\"traces\":");
    write_into(&result.traces, &mut buf);
    buf.extend_from_slice(b",\"spans\":[");
    for (i, span) in result.spans.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        write_into(span, &mut buf);
        if buf.len() >= PIECE {
            pass_all(&mut buf, pass);
        }
    }
    buf.extend_from_slice(b"],\"warnings\":");
    write_into(&result.warnings, &mut buf);
    if let Some(e) = errors {
        buf.extend_from_slice(b",\"errors\":");
        write_into(e, &mut buf);
    }
    buf.push(b'}');
    pass_all(&mut buf, pass);
}

/// Appends the JSON text of `value` to `buf`.
fn write_into<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) {
    // Serialising the crate's types cannot fail: every map key is a string.
    let _ = serde_json::to_writer(&mut *buf, value);
}

/// Hands the whole buffer on and empties it.
#[inline(never)]
fn pass_all(buf: &mut Vec<u8>, pass: &mut dyn FnMut(&str)) {
    // SAFETY: as in `to_string_sized`: serde_json writes only UTF-8, and
    // the buffer holds whole values and ASCII punctuation.
    pass(unsafe { std::str::from_utf8_unchecked(buf) });
    buf.clear();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    #[test]
    fn writes_what_serde_json_writes() {
        let raw: &RawValue = serde_json::from_str(r#"{"k":["é😀",1.5,null]}"#).unwrap();
        let value = (raw, "tab\t\"quoted\" ü", 7, [true, false]);
        let expected = serde_json::to_string(&value).unwrap();
        assert_eq!(to_string(&value), expected);
        assert_eq!(to_string_sized(&value, 1 << 12), expected);
    }

    #[test]
    fn result_pieces_join_to_the_whole_text() {
        let input = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/examples/traces/workflow_failed.json"
        ))
        .unwrap();
        let opts = crate::options_from_json(r#"{"now":"2026-03-02T09:00:00Z"}"#).unwrap();
        let r = crate::map(&input, &opts).unwrap();
        let mut b = crate::map_each(&input, &opts).unwrap();
        b.errors.push(Error::new(
            crate::ErrorCode::InvalidJson,
            "/1",
            "a failed task",
        ));
        let mut pieces = Vec::new();
        result_pieces(&r, None, &mut |p: &str| pieces.push(p.to_owned()));
        assert_eq!(pieces.concat(), to_string(&r));
        pieces.clear();
        result_pieces(&b.result, Some(&b.errors), &mut |p: &str| {
            pieces.push(p.to_owned())
        });
        assert_eq!(pieces.concat(), to_string(&b));
        // Many spans: many pieces, none empty.
        let big = MapResult {
            spans: vec![r.spans[0].clone(); 2 * PIECE / to_string(&r.spans[0]).len() + 2],
            ..MapResult::default()
        };
        pieces.clear();
        result_pieces(&big, None, &mut |p: &str| pieces.push(p.to_owned()));
        assert!(pieces.len() >= 3 && pieces.iter().all(|p| !p.is_empty()));
        assert_eq!(pieces.concat(), to_string(&big));
    }
}
