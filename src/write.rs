//! JSON text out. Traces, spans and the JSON values the mapper builds are
//! written straight into a `Vec<u8>` by the writers here ([`json`],
//! [`string`], and `Trace::write`/`Span::write`), with the field names as
//! ready-made bytes and string bodies copied between the bytes that need an
//! escape (found 16 bytes a step). Everything else goes through serde_json
//! ([`to_string_sized`]), and the output types' `Serialize` impls hand
//! serde_json the text these writers make, so there is one way to write each
//! of them.

use serde::ser::{SerializeStruct, Serializer};
use serde::Serialize;

use crate::json::Json;
use crate::{Error, MapResult};

/// The hexadecimal digits, lowercase, as JSON escapes and UUIDs write them.
pub(crate) const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// The JSON text that `write` makes with the writers of this module.
pub(crate) fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
    let mut buf = Vec::new();
    write(&mut buf);
    // SAFETY: the writers of this module write only UTF-8: whole `str`s,
    // whole input values and ASCII syntax.
    unsafe { String::from_utf8_unchecked(buf) }
}

/// Serialises, with serde_json's serializer, the JSON text that `write`
/// makes: verbatim, as a raw value.
pub(crate) fn as_raw<S: Serializer>(
    s: S,
    write: impl FnOnce(&mut Vec<u8>),
) -> Result<S::Ok, S::Error> {
    verbatim(s, &text(write))
}

/// Serialises JSON text verbatim with serde_json's serializer, as its own
/// `RawValue` does: the one field of a struct of the raw-value name is
/// written as it is.
pub(crate) fn verbatim<S: Serializer>(s: S, text: &str) -> Result<S::Ok, S::Error> {
    let mut st = s.serialize_struct(crate::json::RAW_VALUE_TOKEN, 1)?;
    st.serialize_field(crate::json::RAW_VALUE_TOKEN, text)?;
    st.end()
}

/// Appends `b` to `out`. Short slices (up to 32 bytes: keys, numbers,
/// times and short strings) are copied with two overlapping loads and
/// stores of a fixed width instead of a `memcpy`, which on wasm32 is a
/// `memory.copy`: a call out of the engine's code that costs as much as
/// copying a hundred bytes. A wf-500 mapping made 33,800 such calls, 14,400
/// with this on the hottest writers.
#[inline]
pub(crate) fn put(out: &mut Vec<u8>, b: &[u8]) {
    /// Copies the first and the last `W` bytes of `src[..n]` to `dst`.
    ///
    /// # Safety
    /// `W <= n`, `src` readable and `dst` writable for `n` bytes.
    #[inline(always)]
    unsafe fn ends<const W: usize>(src: *const u8, dst: *mut u8, n: usize) {
        let head = src.cast::<[u8; W]>().read_unaligned();
        let tail = src.add(n - W).cast::<[u8; W]>().read_unaligned();
        dst.cast::<[u8; W]>().write_unaligned(head);
        dst.add(n - W).cast::<[u8; W]>().write_unaligned(tail);
    }
    let n = b.len();
    if n > 32 || n == 0 {
        out.extend_from_slice(b);
        return;
    }
    out.reserve(n);
    let len = out.len();
    // SAFETY: `out` has room for `n` more bytes (reserved above), and each
    // branch's width is at most `n`, so every copy reads inside `b` and
    // writes inside `out[len..len + n]`, all of which it covers (the two
    // ends overlap when `n` is under twice the width). The bytes written
    // are `b`'s, so all of `out[..len + n]` is initialised.
    unsafe {
        let (src, dst) = (b.as_ptr(), out.as_mut_ptr().add(len));
        match n {
            16.. => ends::<16>(src, dst, n),
            8.. => ends::<8>(src, dst, n),
            4.. => ends::<4>(src, dst, n),
            2.. => ends::<2>(src, dst, n),
            _ => *dst = *src,
        }
        out.set_len(len + n);
    }
}

/// Writes `s` as a JSON string, escaped as serde_json escapes: `"` and `\`,
/// the five short escapes, `\u00XX` (lowercase) for other control
/// characters, nothing else.
pub fn string(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut from = 0;
    loop {
        let at = crate::simd::find(
            b,
            from,
            |v| v.eq(b'"').or(v.eq(b'\\')).or(v.below(0x20)),
            |c| c == b'"' || c == b'\\' || c < 0x20,
        );
        put(out, &b[from..at.min(b.len())]);
        let Some(&c) = b.get(at) else {
            break;
        };
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x09 => out.extend_from_slice(b"\\t"),
            0x0a => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            0x0d => out.extend_from_slice(b"\\r"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX_DIGITS[usize::from(c >> 4)]);
                out.push(HEX_DIGITS[usize::from(c & 15)]);
            }
        }
        from = at + 1;
    }
    out.push(b'"');
}

/// Writes a JSON value: built objects and arrays, strings escaped, numbers
/// as serde_json writes them, input text verbatim.
pub fn json(out: &mut Vec<u8>, v: &Json<'_>) {
    match v {
        Json::Null => out.extend_from_slice(b"null"),
        Json::Bool(true) => out.extend_from_slice(b"true"),
        Json::Bool(false) => out.extend_from_slice(b"false"),
        Json::Int(i) => int(out, *i),
        Json::Float(f) => float(out, *f),
        Json::Str(s) => string(out, s),
        Json::Raw(r) => put(out, r.get().as_bytes()),
        Json::RawOwned(r) => put(out, r.get().as_bytes()),
        Json::Obj(o) => {
            out.push(b'{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                string(out, k);
                out.push(b':');
                json(out, v);
            }
            out.push(b'}');
        }
        Json::Arr(a) => {
            out.push(b'[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json(out, v);
            }
            out.push(b']');
        }
    }
}

/// Writes an integer in decimal.
pub fn int(out: &mut Vec<u8>, i: i64) {
    let mut digits = [0u8; 20];
    let mut n = i.unsigned_abs();
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if i < 0 {
        out.push(b'-');
    }
    put(out, &digits[at..]);
}

/// Writes a float as serde_json does (its shortest form); `null` when it is
/// not finite.
#[inline(never)]
pub fn float(out: &mut Vec<u8>, f: f64) {
    if f.is_finite() {
        let _ = serde_json::to_writer(&mut *out, &f);
    } else {
        out.extend_from_slice(b"null");
    }
}

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
    let mut buf = Vec::with_capacity(PIECE + PIECE / 4);
    write_result(result, errors, &mut buf, PIECE, pass);
    pass_all(&mut buf, pass);
}

/// [`result_pieces`] into `buf`, passing it on whenever it holds `piece`
/// bytes or more between two spans (the rest stays in `buf`).
fn write_result(
    result: &MapResult<'_>,
    errors: Option<&Vec<Error>>,
    buf: &mut Vec<u8>,
    piece: usize,
    pass: &mut dyn FnMut(&str),
) {
    buf.extend_from_slice(b"{\"traces\":[");
    for (i, trace) in result.traces.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        trace.write(buf);
    }
    buf.extend_from_slice(b"],\"spans\":[");
    for (i, span) in result.spans.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        span.write(buf);
        if buf.len() >= piece {
            pass_all(buf, pass);
        }
    }
    // Warnings and errors go through serde_json, with the same types as the
    // result's fields (`Vec`s, not slices), so that no serializer is
    // compiled twice.
    buf.extend_from_slice(b"],\"warnings\":");
    write_into(&result.warnings, buf);
    if let Some(e) = errors {
        buf.extend_from_slice(b",\"errors\":");
        write_into(e, buf);
    }
    buf.push(b'}');
}

/// The whole text of a mapping result, as [`result_pieces`] writes it
/// (`errors` as there), in a buffer that starts with `capacity` bytes.
pub fn result_text(result: &MapResult<'_>, errors: Option<&Vec<Error>>, capacity: usize) -> String {
    let mut buf = Vec::with_capacity(capacity);
    write_result(result, errors, &mut buf, usize::MAX, &mut |_| {});
    // SAFETY: as in `pass_all`.
    unsafe { String::from_utf8_unchecked(buf) }
}

/// Appends the JSON text of `value` to `buf`.
fn write_into<T: Serialize + ?Sized>(value: &T, buf: &mut Vec<u8>) {
    // Serialising the crate's types cannot fail: every map key is a string.
    let _ = serde_json::to_writer(&mut *buf, value);
}

/// Hands the whole buffer on and empties it.
#[inline(never)]
fn pass_all(buf: &mut Vec<u8>, pass: &mut dyn FnMut(&str)) {
    // SAFETY: as in `to_string_sized`: serde_json and the writers of this
    // module write only UTF-8 (whole strings, whole input values, ASCII
    // syntax), and the buffer holds whole values and ASCII punctuation.
    pass(unsafe { std::str::from_utf8_unchecked(buf) });
    buf.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(write: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        write(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn put_appends_like_extend_from_slice() {
        let src: Vec<u8> = (0..48u8).map(|i| i.wrapping_mul(37) ^ 0x5a).collect();
        for n in 0..=40 {
            for from in 0..8 {
                for before in [0, 1, 7, 15] {
                    let b = &src[from..from + n];
                    // A vector with no spare room, so `put` must reserve.
                    let mut out: Vec<u8> = vec![0xee; before];
                    out.shrink_to_fit();
                    let mut want = out.clone();
                    put(&mut out, b);
                    want.extend_from_slice(b);
                    assert_eq!(out, want, "n {n}, from {from}, before {before}");
                    put(&mut out, b);
                    want.extend_from_slice(b);
                    assert_eq!(out, want, "again: n {n}, from {from}, before {before}");
                }
            }
        }
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        // Every ASCII byte, alone and inside runs that cross 16-byte blocks.
        let mut cases: Vec<String> = (0u8..128).map(|c| (c as char).to_string()).collect();
        for c in 0u8..128 {
            let run = "é€😀abcdefghijklmnopq";
            cases.push(format!("{run}{}{run}{}", c as char, c as char));
        }
        cases.push(String::new());
        cases.push("x".repeat(100));
        cases.push("\u{7f}\u{80}\u{2028}\\\"".to_owned());
        for s in cases {
            assert_eq!(
                text(|o| string(o, &s)),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }

    #[test]
    fn numbers_are_written_as_serde_json_writes_them() {
        for i in [0, 1, -1, 9, 10, -10, 1234567890, i64::MAX, i64::MIN] {
            assert_eq!(text(|o| int(o, i)), serde_json::to_string(&i).unwrap());
        }
        for f in [0.0, -0.0, 1.0, 0.1, 1e300, 1.86e-5, 3.7966654999999996] {
            assert_eq!(text(|o| float(o, f)), serde_json::to_string(&f).unwrap());
        }
        assert_eq!(text(|o| float(o, f64::NAN)), "null");
    }

    #[test]
    fn values_are_written_as_serde_json_writes_them() {
        use std::borrow::Cow;
        // Keys in sorted order, so that serde_json's own (sorted) map has
        // the same order.
        let raw: &serde_json::value::RawValue =
            serde_json::from_str(r#"{"b" : [1, 2.50]}"#).unwrap();
        let v = Json::Obj(vec![
            (
                Cow::Borrowed("a\n"),
                Json::Arr(vec![Json::Null, Json::Bool(true), Json::Int(-3)]),
            ),
            (Cow::Borrowed("b"), Json::Float(0.5)),
            (Cow::Borrowed("c"), Json::Str(Cow::Borrowed("q\"\u{1}"))),
            (Cow::Borrowed("d"), Json::Obj(Vec::new())),
            (Cow::Borrowed("e"), Json::Float(f64::INFINITY)),
        ]);
        let expected = serde_json::json!({
            "a\n": [null, true, -3], "b": 0.5, "c": "q\"\u{1}", "d": {}, "e": null,
        });
        assert_eq!(
            text(|o| json(o, &v)),
            serde_json::to_string(&expected).unwrap()
        );
        // Input text stays as it is, through `Serialize` too.
        let r = Json::from(raw);
        assert_eq!(text(|o| json(o, &r)), raw.get());
        assert_eq!(serde_json::to_string(&r).unwrap(), raw.get());
    }
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
