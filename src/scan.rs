//! Fast scans over JSON text that the parser has already validated.
//!
//! The mapper keeps big subtrees as raw text and sometimes needs to look
//! inside them: one key of an object, the end of a value, the strings of a
//! subtree (redaction). Parsing them again would validate every byte once
//! more; these scans only find structure. String bodies, which are most of
//! the bytes, are skipped with `memchr` (vectorised where the target allows).
//!
//! Every function is total: on text that is not valid JSON (an error path
//! rescanning bad input) they stop at the end of the text instead of failing.

/// End (exclusive) of the string whose opening quote is at `i`: the byte after
/// the next quote that no backslash escapes; the text's length when the
/// string is not closed.
pub fn string_end(b: &[u8], i: usize) -> usize {
    let mut j = i + 1;
    while j < b.len() {
        match memchr::memchr2(b'"', b'\\', &b[j..]) {
            Some(off) if b[j + off] == b'"' => return j + off + 1,
            // A backslash escapes the byte after it (for `\uXXXX` the rest
            // is hex digits, which need no care).
            Some(off) => j += off + 2,
            None => break,
        }
    }
    b.len()
}

/// The first index at or after `i` that is not JSON whitespace.
pub fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// End (exclusive) of the value that starts at `i` (no leading whitespace).
/// Iterative: any nesting depth is fine.
pub fn value_end(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            i
        }
    }
}

/// The members of the object whose text is `s` (an object, possibly with
/// surrounding whitespace): each as the byte range of the key's JSON string
/// (quotes included) and of its value, in text order.
pub fn members(s: &str) -> Members<'_> {
    let b = s.as_bytes();
    let start = skip_ws(b, 0);
    let pos = if b.get(start) == Some(&b'{') {
        start + 1
    } else {
        b.len()
    };
    Members { b, pos }
}

/// Iterator of [`members`].
pub struct Members<'s> {
    b: &'s [u8],
    pos: usize,
}

/// One object member: byte ranges of the key (a JSON string, quotes included)
/// and of the value.
pub type Member = ((usize, usize), (usize, usize));

impl Iterator for Members<'_> {
    type Item = Member;

    fn next(&mut self) -> Option<Member> {
        let b = self.b;
        let mut i = skip_ws(b, self.pos);
        if b.get(i) == Some(&b',') {
            i = skip_ws(b, i + 1);
        }
        if b.get(i) != Some(&b'"') {
            self.pos = b.len();
            return None;
        }
        let key_end = string_end(b, i);
        let mut v = skip_ws(b, key_end);
        if b.get(v) != Some(&b':') {
            self.pos = b.len();
            return None;
        }
        v = skip_ws(b, v + 1);
        let ve = value_end(b, v);
        if ve <= v {
            self.pos = b.len();
            return None;
        }
        self.pos = ve;
        Some(((i, key_end), (v, ve)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends(s: &str) -> usize {
        string_end(s.as_bytes(), 0)
    }

    #[test]
    fn strings_end_at_the_first_unescaped_quote() {
        assert_eq!(ends(r#""abc" tail"#), 5);
        assert_eq!(ends(r#""a\"b" tail"#), 6);
        assert_eq!(ends(r#""a\\" tail"#), 5);
        assert_eq!(ends(r#""a\\\"b" tail"#), 8);
        assert_eq!(ends(r#""\u0022" tail"#), 8);
        // Not closed, or a trailing backslash: the end of the text.
        assert_eq!(ends(r#""abc"#), 4);
        assert_eq!(ends("\"ab\\"), 4);
    }

    #[test]
    fn values_end_after_their_last_byte() {
        let t = r#"{"a":[1,{"b":"}]"}],"c":2} ,"#;
        assert_eq!(value_end(t.as_bytes(), 0), t.len() - 2);
        assert_eq!(value_end(b"12.5e3,", 0), 6);
        assert_eq!(value_end(b"true}", 0), 4);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(value_end(deep.as_bytes(), 0), deep.len());
    }

    #[test]
    fn members_come_in_text_order_with_their_ranges() {
        let t = " { \"a\" : 1 , \"b\\\"\":{\"x\":[1,2]},\"c\":\"s,}\" } ";
        let got: Vec<(&str, &str)> = members(t)
            .map(|((k0, k1), (v0, v1))| (&t[k0..k1], &t[v0..v1]))
            .collect();
        assert_eq!(
            got,
            [
                ("\"a\"", "1"),
                ("\"b\\\"\"", "{\"x\":[1,2]}"),
                ("\"c\"", "\"s,}\"")
            ]
        );
        assert_eq!(members("{}").count(), 0);
        assert_eq!(members("[1]").count(), 0);
        assert_eq!(members("{\"a\"").count(), 0);
    }
}
