//! The output JSON text as a splice: the bytes the serializer wrote itself,
//! plus the stretches it copied unchanged from the input, kept as positions
//! instead of bytes.
//!
//! Most of a mapping's output is input passed through verbatim (prompts,
//! outputs, documents). A host that still holds the input as a string can
//! rebuild the output from slices of it (a JS engine makes a slice and a
//! concatenation without copying characters), so only the small written part
//! has to cross from wasm memory into a string. Joining the pieces gives
//! exactly the bytes [`crate::map_json`] returns.

use std::io;

use serde::Serialize;

/// Stretches shorter than this are copied: below it, a host's slice and
/// concatenation cost more than converting the bytes.
pub const MIN_PIECE: usize = 256;

/// A stretch of the input that belongs at one place of the written text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Where it goes: a byte offset in [`Spliced::text`].
    pub at: usize,
    /// Its first byte in the input.
    pub from: usize,
    /// Its length in bytes.
    pub len: usize,
}

/// JSON text as written bytes plus input stretches.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Spliced {
    /// Everything the serializer wrote except the stretches.
    pub text: String,
    /// The stretches in output order (`at` never decreases); each starts and
    /// ends on a character boundary of the input.
    pub pieces: Vec<Piece>,
}

impl Spliced {
    /// Serialises `value`, keeping every stretch of at least [`MIN_PIECE`]
    /// bytes that is a copy of `input` as a piece. `capacity` presizes the
    /// written text.
    pub fn write<T: Serialize + ?Sized>(value: &T, input: &str, capacity: usize) -> Spliced {
        let mut w = Writer {
            input: input.as_bytes(),
            out: Vec::with_capacity(capacity),
            pieces: Vec::new(),
        };
        // Serialising the mapper's types cannot fail: every map key is a string.
        if serde_json::to_writer(&mut w, value).is_err() {
            return Spliced::default();
        }
        debug_assert!(std::str::from_utf8(&w.out).is_ok());
        // SAFETY: serde_json's serializer writes only UTF-8 (the JSON syntax
        // it adds is ASCII; everything else comes from `str`s: strings, raw
        // values, our own ids and times), and a stretch is only taken out
        // whole at character boundaries of the input, so what remains is
        // whole UTF-8 fragments.
        let text = unsafe { String::from_utf8_unchecked(w.out) };
        Spliced {
            text,
            pieces: w.pieces,
        }
    }

    /// The whole text, pieces filled in from `input` (the same input that
    /// [`Spliced::write`] was given).
    pub fn join(&self, input: &str) -> String {
        let total = self.pieces.iter().map(|p| p.len).sum::<usize>() + self.text.len();
        let mut s = String::with_capacity(total);
        let mut pos = 0;
        for p in &self.pieces {
            s.push_str(self.text.get(pos..p.at).unwrap_or_default());
            s.push_str(input.get(p.from..p.from + p.len).unwrap_or_default());
            pos = p.at;
        }
        s.push_str(self.text.get(pos..).unwrap_or_default());
        s
    }

    /// The pieces in UTF-16 units, as JS strings count: for each piece its
    /// place in the written text, then its start and end in `input`, three
    /// numbers a piece. `None` when an offset does not fit 32 bits.
    pub fn utf16_pieces(&self, input: &str) -> Option<Vec<u32>> {
        let n = self.pieces.len();
        let mut out = vec![0u32; n * 3];
        // Places in the written text: `at` only grows, so one sweep.
        let (mut byte, mut unit) = (0usize, 0usize);
        for (p, slot) in self.pieces.iter().zip(out.chunks_exact_mut(3)) {
            unit += utf16_len(self.text.as_bytes().get(byte..p.at)?);
            byte = p.at;
            slot[0] = u32::try_from(unit).ok()?;
        }
        // Input offsets: every start and end, in input order, in one sweep.
        let b = input.as_bytes();
        let at = |k: usize| {
            let p = &self.pieces[k / 2];
            p.from + if k % 2 == 1 { p.len } else { 0 }
        };
        let mut order: Vec<usize> = (0..2 * n).collect();
        crate::sort::stable_sort(&mut order, &|x, y| at(x) < at(y));
        let (mut byte, mut unit) = (0usize, 0usize);
        for k in order {
            let to = at(k);
            unit += utf16_len(b.get(byte..to)?);
            byte = to;
            out[(k / 2) * 3 + 1 + k % 2] = u32::try_from(unit).ok()?;
        }
        Some(out)
    }
}

/// The text a JS host rebuilds from a splice, in UTF-16 units: for each
/// piece (three numbers of `units`, as [`Spliced::utf16_pieces`] gives
/// them), the written text up to its place, then its slice of the input; the
/// rest of the written text last. `None` when an offset is out of range.
/// This is what the npm wrapper does with `String.prototype.slice`.
pub fn rebuild_utf16(text: &str, input: &str, units: &[u32]) -> Option<Vec<u16>> {
    let written: Vec<u16> = text.encode_utf16().collect();
    let source: Vec<u16> = input.encode_utf16().collect();
    let mut out = Vec::with_capacity(written.len());
    let mut pos = 0usize;
    for p in units.chunks_exact(3) {
        let [at, from, to] = [p[0], p[1], p[2]].map(|n| n as usize);
        out.extend_from_slice(written.get(pos..at)?);
        out.extend_from_slice(source.get(from..to)?);
        pos = at;
    }
    out.extend_from_slice(written.get(pos..)?);
    Some(out)
}

/// Whether UTF-8 text holds U+FFFD (bytes EF BF BD). A stretch that does is
/// copied, never a piece: where the host's string has a lone surrogate, its
/// UTF-8 encoder wrote U+FFFD, and a slice of the string would bring the
/// surrogate back instead.
fn has_replacement(b: &[u8]) -> bool {
    memchr::memchr_iter(0xef, b).any(|i| b.get(i + 1..i + 3) == Some(&[0xbf, 0xbd][..]))
}

/// The UTF-16 units of one UTF-8 byte: a byte that is not a continuation
/// byte starts a character, and a 4-byte lead counts once more (a surrogate
/// pair).
#[inline(always)]
fn units(x: u8) -> u8 {
    u8::from((x as i8) >= -0x40) + u8::from(x >= 0xf0)
}

/// [`units`] summed over `b`, a byte at a time (the tail of a block loop).
fn units_of(b: &[u8]) -> usize {
    b.iter().map(|&x| usize::from(units(x))).sum()
}

/// The number of UTF-16 units of UTF-8 text: one per character, two for a
/// character outside the Basic Multilingual Plane (a 4-byte sequence).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn utf16_len(b: &[u8]) -> usize {
    // Sixteen byte-wide counters (a SIMD register) take at most 2 a byte, so
    // they are summed every 127 blocks.
    let mut blocks = b.chunks_exact(16);
    let (mut total, mut acc, mut filled) = (0usize, [0u8; 16], 0);
    for block in &mut blocks {
        for (a, &x) in acc.iter_mut().zip(block) {
            *a += units(x);
        }
        filled += 1;
        if filled == 127 {
            total += acc.iter().map(|&a| usize::from(a)).sum::<usize>();
            (acc, filled) = ([0; 16], 0);
        }
    }
    total += acc.iter().map(|&a| usize::from(a)).sum::<usize>();
    total + units_of(blocks.remainder())
}

/// [`utf16_len`] with WebAssembly SIMD, which LLVM does not find by itself
/// in the portable loop: sixteen bytes a step.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn utf16_len(b: &[u8]) -> usize {
    use core::arch::wasm32::*;
    // Lane sums of a vector of byte counters.
    let sum = |v: v128| {
        let w = u32x4_extadd_pairwise_u16x8(u16x8_extadd_pairwise_u8x16(v));
        (u32x4_extract_lane::<0>(w) + u32x4_extract_lane::<1>(w))
            + (u32x4_extract_lane::<2>(w) + u32x4_extract_lane::<3>(w))
    };
    let (not_continuation, four_byte_lead) = (i8x16_splat(-0x41), u8x16_splat(0xef));
    let mut blocks = b.chunks_exact(16);
    let (mut total, mut acc, mut filled) = (0usize, u8x16_splat(0), 0);
    for block in &mut blocks {
        // SAFETY: `block` is 16 readable bytes; wasm loads need no alignment.
        let v = unsafe { v128_load(block.as_ptr().cast::<v128>()) };
        // A true comparison is all ones (-1): subtracting it counts one.
        acc = i8x16_sub(acc, i8x16_gt(v, not_continuation));
        acc = i8x16_sub(acc, u8x16_gt(v, four_byte_lead));
        filled += 1;
        if filled == 127 {
            total += sum(acc) as usize;
            (acc, filled) = (u8x16_splat(0), 0);
        }
    }
    total += sum(acc) as usize;
    total + units_of(blocks.remainder())
}

/// Compact JSON text of `value`. Every serialisation of the crate goes
/// through this one writer type, so the serializers of the output types are
/// compiled once (each writer type is a copy of them in the `.wasm`).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> String {
    Spliced::write(value, "", 0).text
}

/// The serializer's sink: copies what it is given, except stretches of the
/// input, which it records.
struct Writer<'i> {
    input: &'i [u8],
    out: Vec<u8>,
    pieces: Vec<Piece>,
}

impl Writer<'_> {
    /// Where `buf` (a write of at least [`MIN_PIECE`] bytes) starts in the
    /// input, when it is a stretch of it with character boundaries at both
    /// ends and no U+FFFD.
    fn stretch(&self, buf: &[u8]) -> Option<usize> {
        let start = self.input.as_ptr() as usize;
        let from = (buf.as_ptr() as usize).checked_sub(start)?;
        let end = from.checked_add(buf.len())?;
        let boundary = |i: usize| self.input.get(i).is_none_or(|&x| (x as i8) >= -0x40);
        (end <= self.input.len() && boundary(from) && boundary(end) && !has_replacement(buf))
            .then_some(from)
    }

    /// Takes a write of at least [`MIN_PIECE`] bytes: a piece when it is a
    /// stretch of the input, otherwise a copy. Out of line: the serializer
    /// calls the writer from many places, and only this rare path is long.
    #[inline(never)]
    fn write_long(&mut self, buf: &[u8]) {
        match self.stretch(buf) {
            Some(from) => {
                let at = self.out.len();
                match self.pieces.last_mut() {
                    // Adjacent in both the output and the input: one piece.
                    Some(p) if p.at == at && p.from + p.len == from => p.len += buf.len(),
                    _ => self.pieces.push(Piece {
                        at,
                        from,
                        len: buf.len(),
                    }),
                }
            }
            None => self.out.extend_from_slice(buf),
        }
    }
}

impl io::Write for Writer<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf).map(|()| buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if buf.len() < MIN_PIECE {
            self.out.extend_from_slice(buf);
        } else {
            self.write_long(buf);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::value::RawValue;

    fn units(s: &str) -> usize {
        s.encode_utf16().count()
    }

    #[test]
    fn long_input_stretches_become_pieces_and_join_back() {
        let long = format!(r#"{{"k":"{}"}}"#, "é😀x".repeat(100));
        let input = format!(r#"[1,{long},"short",{long}]"#);
        let first = input.find('{').unwrap_or(0);
        let raw: &RawValue = serde_json::from_str(&input[first..first + long.len()]).unwrap();
        let second = input.rfind(&long).unwrap_or(0);
        let raw2: &RawValue = serde_json::from_str(&input[second..second + long.len()]).unwrap();
        let value = (raw, "written", raw2, &input[..3]);
        let s = Spliced::write(&value, &input, 0);
        assert_eq!(s.join(&input), serde_json::to_string(&value).unwrap());
        assert_eq!(
            s.pieces,
            vec![
                Piece {
                    at: 1,
                    from: first,
                    len: long.len()
                },
                Piece {
                    at: 12,
                    from: second,
                    len: long.len()
                },
            ]
        );
        assert_eq!(s.text, r#"[,"written",,"[1,"]"#);
        let u = s.utf16_pieces(&input).unwrap();
        let expect = |p: &Piece| {
            [
                units(&s.text[..p.at]) as u32,
                units(&input[..p.from]) as u32,
                units(&input[..p.from + p.len]) as u32,
            ]
        };
        assert_eq!(u[..3], expect(&s.pieces[0]));
        assert_eq!(u[3..], expect(&s.pieces[1]));
    }

    #[test]
    fn pieces_out_of_input_order_get_their_utf16_offsets() {
        let a = "α".repeat(300);
        let b = "β".repeat(200);
        let input = format!("{a}|{b}");
        let (ra, rb) = (&input[..a.len()], &input[a.len() + 1..]);
        // Strings written without escapes come straight from the input.
        let s = Spliced::write(&(rb, "ü", ra), &input, 0);
        assert_eq!(
            s.join(&input),
            serde_json::to_string(&(rb, "ü", ra)).unwrap()
        );
        assert_eq!(s.pieces.len(), 2);
        let u = s.utf16_pieces(&input).unwrap();
        assert_eq!(u, vec![2, 301, 501, 9, 0, 300]);
        assert_eq!(s.text, r#"["","ü",""]"#);
    }

    #[test]
    fn short_stretches_and_other_memory_are_copied() {
        let input = "x".repeat(MIN_PIECE - 1);
        let owned = "y".repeat(1000);
        let s = Spliced::write(&(&input[..], &owned[..]), &input, 0);
        assert!(s.pieces.is_empty());
        assert_eq!(s.join(&input), s.text);
        assert_eq!(s.utf16_pieces(&input), Some(vec![]));
    }

    #[test]
    fn stretches_with_a_replacement_character_are_copied() {
        let clean = "a".repeat(MIN_PIECE);
        let marked = format!("{}\u{fffd}{}", "b".repeat(MIN_PIECE), "c".repeat(10));
        // Other characters whose UTF-8 starts with EF stay pieces.
        let fullwidth = "\u{ff0c}".repeat(MIN_PIECE);
        let input = format!("{clean}|{marked}|{fullwidth}");
        let (a, rest) = input.split_at(clean.len());
        let b = &rest[1..1 + marked.len()];
        let c = &input[input.len() - fullwidth.len()..];
        let s = Spliced::write(&(a, b, c), &input, 0);
        assert_eq!(s.join(&input), serde_json::to_string(&(a, b, c)).unwrap());
        let froms: Vec<usize> = s.pieces.iter().map(|p| p.from).collect();
        assert_eq!(froms, [0, input.len() - fullwidth.len()]);
        assert!(s.text.contains('\u{fffd}'));
    }

    #[test]
    fn utf16_lengths_count_surrogate_pairs() {
        for t in ["", "abc", "é", "€", "😀", "a😀é€z"] {
            assert_eq!(utf16_len(t.as_bytes()), units(t), "{t}");
        }
    }
}
