//! JSON text out. Every serialisation of the crate goes through
//! [`to_string_sized`]: each writer type is one more copy of the output
//! types' serializers in the `.wasm`, so there is only one.

use serde::Serialize;

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
}
