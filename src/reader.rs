//! The envelope's fast path: one pass over the input that validates the JSON,
//! cuts out the raw subtrees and notes which of them hold nothing to redact.
//!
//! serde_json's reader validates each raw subtree, and the redaction pass
//! then scans the same bytes again for credential keys and signed URLs.
//! This reader does both in one scan, with the string bodies (most of the
//! bytes) searched 16 bytes a step.
//!
//! It is strict and simple: it gives up (`None`) on anything it does not
//! handle exactly as serde_json does (invalid JSON, escaped keys at the
//! envelope's own levels, deep nesting, a number where an object field is
//! read), and the caller then reads the text with serde_json, whose result
//! and errors stay the reference. So this path only has to agree with
//! serde_json on what it accepts; the tests in `src/input/fast_tests.rs` and
//! the fuzz targets (`input::check_fast_path`) compare the two.

use crate::json::Raw;

/// Containers deeper than this make the reader give up (serde_json allows
/// 128 levels).
const MAX_DEPTH: usize = 100;
const _: () = assert!(MAX_DEPTH <= 128, "`Bits` holds 128 depths");

/// The raw subtrees known to hold nothing the redaction pass would change:
/// no credential key, no string that may be a signed URL. Kept as address
/// ranges of the input text, in text order, so that any raw value cut from
/// one of them (a sub-slice) is found too.
#[derive(Default, Debug)]
pub struct Clean(Vec<(usize, usize)>);

impl Clean {
    /// Whether `text` lies inside one of the clean subtrees.
    pub fn contains(&self, text: &str) -> bool {
        let start = text.as_ptr() as usize;
        let i = self.0.partition_point(|&(a, _)| a <= start);
        i > 0 && start.saturating_add(text.len()) <= self.0[i - 1].1
    }
}

/// A validating reader over one input text.
pub struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
    /// Whether the value being read holds a credential key or a string
    /// that may be a signed URL.
    dirty: bool,
    /// Whether the last value read with [`Reader::raw`] was clean.
    after_clean: bool,
    clean: Vec<(usize, usize)>,
    /// A top-level key of an object value to find while reading it, and
    /// what was found.
    want: Option<&'static str>,
    found: Member,
}

/// A top-level member of a value, found while reading it.
#[derive(Clone, Copy)]
enum Member {
    /// The value is no object, or has no such key.
    Absent,
    /// The member's value, as a byte range of the input (the last one when
    /// the key repeats).
    At(usize, usize),
    /// The object has an escaped key, which might be this one.
    Unsure,
}

impl<'a> Reader<'a> {
    /// Reads all of `text` with `read`: `None` unless `read` succeeds and
    /// only JSON whitespace follows.
    pub fn read_all<T>(
        text: &'a str,
        read: impl FnOnce(&mut Reader<'a>) -> Option<T>,
    ) -> Option<(T, Clean)> {
        let mut r = Reader {
            text,
            pos: 0,
            depth: 0,
            dirty: false,
            after_clean: false,
            clean: Vec::new(),
            want: None,
            found: Member::Absent,
        };
        let v = read(&mut r)?;
        r.ws();
        if r.pos != text.len() {
            return None;
        }
        let base = text.as_ptr() as usize;
        let clean = r.clean.iter().map(|&(a, b)| (base + a, base + b)).collect();
        Some((v, Clean(clean)))
    }

    fn ws(&mut self) {
        let b = self.text.as_bytes();
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = b.get(self.pos) {
            self.pos += 1;
        }
    }

    /// How many bytes of the text are still to be read.
    pub fn remaining(&self) -> usize {
        self.text.len().saturating_sub(self.pos)
    }

    /// The next byte after whitespace, not consumed.
    pub fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.text.as_bytes().get(self.pos).copied()
    }

    fn eat(&mut self, c: u8) -> Option<()> {
        (self.peek()? == c).then(|| self.pos += 1)
    }

    /// Reads `null`, when that comes next: whether it did.
    pub fn null(&mut self) -> Option<bool> {
        if self.peek()? != b'n' {
            return Some(false);
        }
        self.word(b"null").map(|()| true)
    }

    /// Reads an object, calling `member` with each key; `member` must read
    /// the value. Keys with escapes make the reader give up.
    pub fn object(
        &mut self,
        member: &mut dyn FnMut(&mut Self, &'a str) -> Option<()>,
    ) -> Option<()> {
        self.items(b'{', b'}', &mut |r| {
            if r.peek()? != b'"' {
                return None;
            }
            let start = r.pos;
            if r.string()? {
                return None;
            }
            let key = r.text.get(start + 1..r.pos - 1)?;
            r.eat(b':')?;
            member(r, key)
        })
    }

    /// Reads an array, calling `element` for each element, which it must read.
    pub fn array(&mut self, element: &mut dyn FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.items(b'[', b']', element)
    }

    /// Reads a container from `open` to `close`, its items separated by
    /// commas; `item` reads one.
    fn items(
        &mut self,
        open: u8,
        close: u8,
        item: &mut dyn FnMut(&mut Self) -> Option<()>,
    ) -> Option<()> {
        self.eat(open)?;
        self.enter()?;
        if self.peek()? == close {
            self.pos += 1;
        } else {
            loop {
                item(self)?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    c if c == close => {
                        self.pos += 1;
                        break;
                    }
                    _ => return None,
                }
            }
        }
        self.depth -= 1;
        Some(())
    }

    fn enter(&mut self) -> Option<()> {
        self.depth += 1;
        (self.depth < MAX_DEPTH).then_some(())
    }

    /// Reads any value and returns its text, noting whether it is clean.
    pub fn raw(&mut self) -> Option<Raw<'a>> {
        self.ws();
        let start = self.pos;
        self.dirty = false;
        self.value()?;
        match self.clean.last_mut() {
            // Consecutive clean values make one range: what lies between
            // them (the envelope's own keys, values that are skipped or
            // decoded into owned text) never reaches the output as input
            // text, so the lookups stay few and short.
            Some(last) if !self.dirty && self.after_clean => last.1 = self.pos,
            _ if !self.dirty => self.clean.push((start, self.pos)),
            _ => {}
        }
        self.after_clean = !self.dirty;
        Some(Raw::validated(self.text.get(start..self.pos)?))
    }

    /// [`Reader::raw`], also finding the value of the top-level member `key`
    /// when the value is an object: what the mapping would otherwise look
    /// up by scanning the text again. The member is `Some(found)` when the
    /// reading settles it, `None` when an escaped key leaves it open.
    pub fn raw_member(&mut self, key: &'static str) -> Option<(Raw<'a>, Option<Option<Raw<'a>>>)> {
        self.want = Some(key);
        self.found = Member::Absent;
        let raw = self.raw();
        self.want = None;
        let raw = raw?;
        Some(match self.found {
            Member::At(a, b) => (raw, Some(Some(Raw::validated(self.text.get(a..b)?)))),
            Member::Absent => (raw, Some(None)),
            Member::Unsure => (raw, None),
        })
    }

    /// Reads (validates) any value and drops it.
    pub fn skip(&mut self) -> Option<()> {
        self.value()
    }

    /// Reads a string value: its JSON text (quotes included) and whether it
    /// has escapes.
    pub fn string_value(&mut self) -> Option<(&'a str, bool)> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos;
        let escapes = self.string()?;
        Some((self.text.get(start..self.pos)?, escapes))
    }

    /// Reads one value of any kind, iteratively (the depth is bounded, not
    /// the stack).
    fn value(&mut self) -> Option<()> {
        // Bit `d` of `objects`: whether the container open at relative
        // depth `d` is an object.
        let mut objects = Bits::default();
        let mut d = 0usize;
        // Where the wanted member's value starts, once its key is read.
        let mut wanted: Option<usize> = None;
        let mut next_is_wanted = false;
        'value: loop {
            let c = self.peek()?;
            if next_is_wanted {
                next_is_wanted = false;
                wanted = Some(self.pos);
            }
            match c {
                b'{' | b'[' => {
                    self.pos += 1;
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.peek()? == close {
                        self.pos += 1;
                    } else {
                        d += 1;
                        if self.depth + d >= MAX_DEPTH {
                            return None;
                        }
                        objects.set(d, c == b'{');
                        if c == b'{' {
                            next_is_wanted = self.key(d == 1)?;
                        }
                        continue 'value;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.word(b"true")?,
                b'f' => self.word(b"false")?,
                b'n' => self.word(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return None,
            }
            // After a value: the next member or element, or the end of
            // containers.
            loop {
                if d == 1 {
                    if let Some(start) = wanted.take() {
                        self.found = Member::At(start, self.pos);
                    }
                }
                if d == 0 {
                    return Some(());
                }
                let object = objects.get(d);
                match (self.peek()?, object) {
                    (b',', true) => {
                        self.pos += 1;
                        next_is_wanted = self.key(d == 1)?;
                        continue 'value;
                    }
                    (b',', false) => {
                        self.pos += 1;
                        continue 'value;
                    }
                    (b'}', true) | (b']', false) => {
                        self.pos += 1;
                        d -= 1;
                    }
                    _ => return None,
                }
            }
        }
    }

    /// Reads a key inside a raw value and the `:` after it: whether it is
    /// the wanted key of a `top` level object.
    fn key(&mut self, top: bool) -> Option<bool> {
        if self.peek()? != b'"' {
            return None;
        }
        let start = self.pos;
        let escapes = self.string()?;
        // As the redaction pass reads keys; an escaped key is decoded there,
        // so it is taken as dirty here.
        let body = self.text.as_bytes().get(start + 1..self.pos - 1)?;
        if escapes || crate::redact::is_credential_bytes(body) {
            self.dirty = true;
        }
        let mut wanted = false;
        if let Some(w) = self.want.filter(|_| top) {
            if escapes {
                self.found = Member::Unsure;
                self.want = None;
            } else {
                wanted = body == w.as_bytes();
            }
        }
        self.eat(b':')?;
        Some(wanted)
    }

    fn word(&mut self, w: &[u8]) -> Option<()> {
        let b = self.text.as_bytes();
        if b.get(self.pos..self.pos + w.len())? != w {
            return None;
        }
        self.pos += w.len();
        Some(())
    }

    /// Reads a number with JSON's grammar.
    fn number(&mut self) -> Option<()> {
        let b = self.text.as_bytes();
        let digits = |mut i: usize| {
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            i
        };
        let mut i = self.pos;
        if b.get(i) == Some(&b'-') {
            i += 1;
        }
        i = match b.get(i)? {
            b'0' => i + 1,
            b'1'..=b'9' => digits(i + 1),
            _ => return None,
        };
        if b.get(i) == Some(&b'.') {
            let j = digits(i + 1);
            if j == i + 1 {
                return None;
            }
            i = j;
        }
        if let Some(b'e' | b'E') = b.get(i) {
            i += 1;
            if let Some(b'+' | b'-') = b.get(i) {
                i += 1;
            }
            let j = digits(i);
            if j == i {
                return None;
            }
            i = j;
        }
        self.pos = i;
        Some(())
    }

    /// Reads the string whose quote is at the position: whether it has
    /// escapes. Marks the value dirty when the string may be a signed URL
    /// (the redaction pass's own test, [`crate::redact::may_be_signed`]: a
    /// `?`, then a `=`, each plain or escaped), found in this one scan: the
    /// scan stops at `=` too, which is rare in text, where looking through
    /// the rest of every string with a question mark read it twice more.
    #[inline(always)]
    fn string(&mut self) -> Option<bool> {
        let b = self.text.as_bytes();
        let mut i = self.pos + 1;
        let mut escapes = false;
        let mut question = false;
        let mut signed = false;
        loop {
            i = special(b, i);
            match *b.get(i)? {
                b'"' => break,
                b'\\' => {
                    escapes = true;
                    match *b.get(i + 1)? {
                        b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' => i += 2,
                        b'u' => {
                            let hex = b.get(i + 2..i + 6)?;
                            if !hex.iter().all(u8::is_ascii_hexdigit) {
                                return None;
                            }
                            let after = &b[i + 1..];
                            if question {
                                signed |= crate::redact::escape_is(after, b'=');
                            } else {
                                question = crate::redact::escape_is(after, b'?');
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                b'?' => {
                    question = true;
                    i += 1;
                }
                b'=' => {
                    signed |= question;
                    i += 1;
                }
                // A control character.
                _ => return None,
            }
        }
        if signed {
            self.dirty = true;
        }
        self.pos = i + 1;
        Some(escapes)
    }
}

/// One bit for each relative depth below [`MAX_DEPTH`]: two words, where a
/// `u128` would shift through library calls on wasm32.
#[derive(Default)]
struct Bits([u64; 2]);

impl Bits {
    #[inline(always)]
    fn set(&mut self, d: usize, on: bool) {
        let (w, bit) = (d >> 6 & 1, 1u64 << (d & 63));
        if on {
            self.0[w] |= bit;
        } else {
            self.0[w] &= !bit;
        }
    }

    #[inline(always)]
    fn get(&self, d: usize) -> bool {
        self.0[d >> 6 & 1] >> (d & 63) & 1 == 1
    }
}

/// Whether a byte ends a plain run of string text: a quote, a backslash, a
/// `?`, a `=` or a control character.
fn is_special(c: u8) -> bool {
    matches!(c, b'"' | b'\\' | b'?' | b'=') || c < 0x20
}

/// The first index at or after `i` whose byte [`is_special`]; `b.len()`
/// when there is none.
#[inline]
fn special(b: &[u8], i: usize) -> usize {
    crate::simd::find(
        b,
        i,
        |v| {
            v.eq(b'"')
                .or(v.eq(b'\\'))
                .or(v.eq(b'?').or(v.eq(b'=')))
                .or(v.below(0x20))
        },
        is_special,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Containers `depth` deep whose kinds follow `pattern` (bit `d % 7` set:
    /// an object at depth `d`), closed correctly, or with the closer at
    /// depth `wrong` swapped.
    fn nested(depth: usize, pattern: u8, wrong: Option<usize>) -> String {
        let object = |d: usize| pattern >> (d % 7) & 1 == 1;
        let mut s = String::new();
        for d in 0..depth {
            s.push_str(if object(d) { "{\"k\":" } else { "[" });
        }
        s.push('0');
        for d in (0..depth).rev() {
            let close = if object(d) == (wrong == Some(d)) {
                ']'
            } else {
                '}'
            };
            s.push(close);
        }
        s
    }

    #[test]
    fn every_depth_closes_with_its_own_kind() {
        for depth in [1, 2, 63, 64, 65, 66, 90, MAX_DEPTH - 1] {
            for pattern in [0b1010101u8, 0b0110011, 0b1111111, 0b0000001] {
                let read = |t: &str| Reader::read_all(t, |r| r.raw().map(|_| ())).is_some();
                assert!(read(&nested(depth, pattern, None)), "{depth} {pattern:b}");
                for wrong in 0..depth {
                    let text = nested(depth, pattern, Some(wrong));
                    assert!(serde_json::from_str::<serde_json::Value>(&text).is_err());
                    assert!(!read(&text), "{depth} {pattern:b} wrong at {wrong}");
                }
            }
        }
    }
}
