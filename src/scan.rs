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
    string_end_escaped(b, i).0
}

/// [`string_end`], and whether the string holds a backslash (an escape).
pub fn string_end_escaped(b: &[u8], i: usize) -> (usize, bool) {
    let mut j = i + 1;
    let mut escaped = false;
    loop {
        j = crate::simd::find(
            b,
            j,
            |v| v.eq(b'"').or(v.eq(b'\\')),
            |c| c == b'"' || c == b'\\',
        );
        match b.get(j) {
            Some(b'"') => return (j + 1, escaped),
            // A backslash escapes the byte after it (for `\uXXXX` the rest
            // is hex digits, which need no care).
            Some(_) => {
                escaped = true;
                j += 2;
            }
            None => return (b.len(), escaped),
        }
    }
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
            loop {
                // Only quotes and brackets matter here: `{` and `[` are
                // `0x7b` and `0x5b`, `}` and `]` `0x7d` and `0x5d`.
                i = crate::simd::find(
                    b,
                    i,
                    |v| {
                        v.eq(b'"')
                            .or(v.with_bits(0x20).eq(b'{'))
                            .or(v.with_bits(0x20).eq(b'}'))
                    },
                    |c| c == b'"' || c | 0x20 == b'{' || c | 0x20 == b'}',
                );
                if i >= b.len() {
                    break;
                }
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
/// (quotes included) and of its value, and whether the key has escapes, in
/// text order.
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
/// and of the value, and whether the key has escapes.
pub type Member = ((usize, usize), (usize, usize), bool);

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
        let (key_end, escaped) = string_end_escaped(b, i);
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
        Some(((i, key_end), (v, ve), escaped))
    }
}

/// The positions of `a`, `b` and `c` in `text`, in order: what
/// `memchr::memchr3_iter` yields. On x86-64 they are found a 64-byte block
/// at a time and handed out from a bit mask: JSON has a quote every twenty
/// bytes or so, and a new `memchr` search for each (through its run-time
/// CPU dispatch) cost more than the scan itself. Elsewhere (wasm32 measured
/// no faster) this is `memchr3_iter`.
#[cfg(target_arch = "x86_64")]
pub fn hits3(a: u8, b: u8, c: u8, text: &[u8]) -> Hits3<'_> {
    Hits3 {
        text,
        needles: [a, b, c],
        base: 0,
        mask: block_mask(text, [a, b, c]),
    }
}

/// The positions of `a`, `b` and `c` in `text`, in order.
#[cfg(not(target_arch = "x86_64"))]
pub fn hits3(a: u8, b: u8, c: u8, text: &[u8]) -> memchr::Memchr3<'_> {
    memchr::memchr3_iter(a, b, c, text)
}

/// Iterator of [`hits3`] on x86-64.
#[cfg(target_arch = "x86_64")]
pub struct Hits3<'s> {
    text: &'s [u8],
    needles: [u8; 3],
    /// Start of the current block.
    base: usize,
    /// Hits of the current block not handed out yet, bit `i` for `base + i`.
    mask: u64,
}

#[cfg(target_arch = "x86_64")]
impl Iterator for Hits3<'_> {
    type Item = usize;

    #[inline]
    fn next(&mut self) -> Option<usize> {
        while self.mask == 0 {
            if self.text.len() - self.base <= BLOCK64 {
                return None;
            }
            self.base += BLOCK64;
            self.mask = block_mask(&self.text[self.base..], self.needles);
        }
        let at = self.base + self.mask.trailing_zeros() as usize;
        self.mask &= self.mask - 1;
        Some(at)
    }
}

/// Bytes a [`Hits3`] looks at in one step.
#[cfg(target_arch = "x86_64")]
const BLOCK64: usize = 64;

/// Bit `i` set when `s[i]` (for `i` < 64) is one of the needles. A last
/// block shorter than 64 bytes is copied into a padded one first: JSON has
/// many short raw values, and a byte loop over them cost more than the copy.
#[cfg(target_arch = "x86_64")]
#[inline]
fn block_mask(s: &[u8], n: [u8; 3]) -> u64 {
    match s.first_chunk::<BLOCK64>() {
        Some(block) => mask64(block, n),
        None => {
            let mut block = [0u8; BLOCK64];
            block[..s.len()].copy_from_slice(s);
            // Padding bytes may equal a needle: their bits are dropped.
            mask64(&block, n) & ((1u64 << s.len()) - 1)
        }
    }
}

/// [`block_mask`] of a whole block with SSE2 (part of every x86-64 processor).
#[cfg(target_arch = "x86_64")]
#[inline]
fn mask64(block: &[u8; BLOCK64], n: [u8; 3]) -> u64 {
    use core::arch::x86_64::*;
    let mut m = 0u64;
    // SAFETY: `block` is 64 readable bytes, four unaligned loads of 16; SSE2
    // is in the x86-64 baseline.
    unsafe {
        let (a, b, c) = (
            _mm_set1_epi8(n[0] as i8),
            _mm_set1_epi8(n[1] as i8),
            _mm_set1_epi8(n[2] as i8),
        );
        for k in 0..4 {
            let v = _mm_loadu_si128(block.as_ptr().add(16 * k).cast());
            let hit = _mm_or_si128(
                _mm_or_si128(_mm_cmpeq_epi8(v, a), _mm_cmpeq_epi8(v, b)),
                _mm_cmpeq_epi8(v, c),
            );
            m |= u64::from(_mm_movemask_epi8(hit) as u16) << (16 * k);
        }
    }
    m
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
        let got: Vec<(&str, &str, bool)> = members(t)
            .map(|((k0, k1), (v0, v1), escaped)| (&t[k0..k1], &t[v0..v1], escaped))
            .collect();
        assert_eq!(
            got,
            [
                ("\"a\"", "1", false),
                ("\"b\\\"\"", "{\"x\":[1,2]}", true),
                ("\"c\"", "\"s,}\"", false)
            ]
        );
        assert_eq!(members("{}").count(), 0);
        assert_eq!(members("[1]").count(), 0);
        assert_eq!(members("{\"a\"").count(), 0);
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn hits3_finds_what_memchr3_finds() {
        // Lengths around the block size, hits at block edges, dense and none.
        let mut texts: Vec<Vec<u8>> = vec![Vec::new(), b"\"".to_vec(), vec![b'x'; 200]];
        for len in [1, 15, 16, 63, 64, 65, 127, 128, 129, 300] {
            for step in [1, 2, 7, 63, 64, 65] {
                let t: Vec<u8> = (0..len)
                    .map(|i| match i % step {
                        0 => b'"',
                        3 => b'\\',
                        5 => b'?',
                        _ => b'a' + (i % 26) as u8,
                    })
                    .collect();
                texts.push(t);
            }
        }
        for t in &texts {
            let ours: Vec<usize> = hits3(b'"', b'\\', b'?', t).collect();
            let theirs: Vec<usize> = memchr::memchr3_iter(b'"', b'\\', b'?', t).collect();
            assert_eq!(ours, theirs, "{:?}", String::from_utf8_lossy(t));
        }
    }
}
