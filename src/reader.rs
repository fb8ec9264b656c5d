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
//! serde_json on what it accepts; `tests` compare the two.

use crate::json::Raw;

/// Containers deeper than this make the reader give up (serde_json allows
/// 128 levels).
const MAX_DEPTH: usize = 100;

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
        self.eat(b'{')?;
        self.enter()?;
        if self.peek()? == b'}' {
            self.pos += 1;
        } else {
            loop {
                if self.peek()? != b'"' {
                    return None;
                }
                let start = self.pos;
                if self.string()? {
                    return None;
                }
                let key = self.text.get(start + 1..self.pos - 1)?;
                self.eat(b':')?;
                member(self, key)?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b'}' => {
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

    /// Reads an array, calling `element` for each element, which it must read.
    pub fn array(&mut self, element: &mut dyn FnMut(&mut Self) -> Option<()>) -> Option<()> {
        self.eat(b'[')?;
        self.enter()?;
        if self.peek()? == b']' {
            self.pos += 1;
        } else {
            loop {
                element(self)?;
                match self.peek()? {
                    b',' => self.pos += 1,
                    b']' => {
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
        let mut objects: u128 = 0;
        let mut d = 0usize;
        'value: loop {
            let c = self.peek()?;
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
                        if c == b'{' {
                            objects |= 1 << d;
                            self.key()?;
                        } else {
                            objects &= !(1 << d);
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
                if d == 0 {
                    return Some(());
                }
                let object = objects >> d & 1 == 1;
                match (self.peek()?, object) {
                    (b',', true) => {
                        self.pos += 1;
                        self.key()?;
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

    /// Reads a key inside a raw value and the `:` after it.
    fn key(&mut self) -> Option<()> {
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
        self.eat(b':')
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
    /// (the redaction pass's own test: a `?`, then a `=`).
    fn string(&mut self) -> Option<bool> {
        let b = self.text.as_bytes();
        let mut i = self.pos + 1;
        let mut escapes = false;
        let mut question = None;
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
                            if question.is_none() && (hex == b"003f" || hex == b"003F") {
                                question = Some(i);
                            }
                            i += 6;
                        }
                        _ => return None,
                    }
                }
                b'?' => {
                    question.get_or_insert(i);
                    i += 1;
                }
                // A control character.
                _ => return None,
            }
        }
        if question.is_some_and(|q| crate::redact::may_be_signed(&b[q + 1..i])) {
            self.dirty = true;
        }
        self.pos = i + 1;
        Some(escapes)
    }
}

/// Whether a byte ends a plain run of string text: a quote, a backslash, a
/// `?` or a control character.
fn is_special(c: u8) -> bool {
    matches!(c, b'"' | b'\\' | b'?') || c < 0x20
}

/// The first index at or after `i` whose byte [`is_special`]; `b.len()`
/// when there is none.
#[inline]
fn special(b: &[u8], mut i: usize) -> usize {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        use core::arch::wasm32::*;
        while i + 16 <= b.len() {
            // SAFETY: the 16 bytes from `i` are inside `b`; `v128_load`
            // needs no alignment.
            let v = unsafe { v128_load(b.as_ptr().add(i).cast::<v128>()) };
            let hit = v128_or(
                v128_or(
                    u8x16_eq(v, u8x16_splat(b'"')),
                    u8x16_eq(v, u8x16_splat(b'\\')),
                ),
                v128_or(
                    u8x16_eq(v, u8x16_splat(b'?')),
                    u8x16_lt(v, u8x16_splat(0x20)),
                ),
            );
            let bits = u8x16_bitmask(hit);
            if bits != 0 {
                return i + bits.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::*;
        while i + 16 <= b.len() {
            // SAFETY: SSE2 is part of x86_64; the 16 bytes from `i` are
            // inside `b`, and `_mm_loadu_si128` needs no alignment.
            let bits = unsafe {
                let v = _mm_loadu_si128(b.as_ptr().add(i).cast::<__m128i>());
                let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
                let control = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x1f)), v);
                let hit = _mm_or_si128(
                    _mm_or_si128(eq(b'"'), eq(b'\\')),
                    _mm_or_si128(eq(b'?'), control),
                );
                _mm_movemask_epi8(hit) as u32
            };
            if bits != 0 {
                return i + bits.trailing_zeros() as usize;
            }
            i += 16;
        }
    }
    while i < b.len() && !is_special(b[i]) {
        i += 1;
    }
    i
}
