//! UTF-16 to UTF-8 and back, for hosts whose strings are UTF-16.
//!
//! JavaScript strings are UTF-16. Node copies a string out as UTF-16, and
//! makes one from UTF-16, with a plain memory copy (`Buffer#ucs2Write`,
//! `Buffer#ucs2Slice`), several times faster than its UTF-8 encoder and
//! decoder. The package therefore moves text across the wasm boundary as
//! UTF-16 and converts it here. UTF-16 to UTF-8 follows `TextEncoder`: a
//! surrogate without its partner becomes U+FFFD.

/// The most UTF-8 bytes one UTF-16 unit can need (three; a surrogate pair
/// needs four for two units).
pub const MAX_BYTES_PER_UNIT: usize = 3;

/// Writes `src` as UTF-8 to the start of `dst`; returns the number of units
/// read and of bytes written. All of `src` is read when `dst` holds
/// [`MAX_BYTES_PER_UNIT`] bytes a unit; a shorter `dst` gets the characters
/// that fit.
pub fn encode_utf8(src: &[u16], dst: &mut [u8]) -> (usize, usize) {
    let tables = shuffles();
    let (mut i, mut j) = (0, 0);
    while i < src.len() {
        let n = ascii_blocks(
            src.get(i..).unwrap_or_default(),
            dst.get_mut(j..).unwrap_or_default(),
        );
        i += n;
        j += n;
        if let Some((read, written)) = encode_blocks(
            tables,
            src.get(i..).unwrap_or_default(),
            dst.get_mut(j..).unwrap_or_default(),
        ) {
            i += read;
            j += written;
            continue;
        }
        // Up to one block of units one at a time, then blocks again.
        let stop = src.len().min(i.saturating_add(BLOCK));
        while i < stop {
            let u = u32::from(src[i]);
            if u < 0x80 {
                let Some(d) = dst.get_mut(j) else {
                    return (i, j);
                };
                *d = u as u8;
                i += 1;
                j += 1;
                continue;
            }
            let (c, used) = code_point(src, i);
            let Some(w) = put(dst, j, c) else {
                return (i, j);
            };
            i += used;
            j += w;
            if u & 0xf800 == 0xd800 {
                // Past the surrogate that stopped the block: blocks again.
                break;
            }
        }
    }
    (i, j)
}

/// Encodes the blocks of eight units at the start of `src` that hold no
/// surrogate into `dst` without a branch a character; returns the units
/// read and the bytes written. `None` when the first block cannot be done
/// so (or either slice is too short): the caller encodes one character at a
/// time then. Portable code: none.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn encode_blocks(_: &Shuffles, _: &[u16], _: &mut [u8]) -> Option<(usize, usize)> {
    None
}

/// [`encode_blocks`] with WebAssembly SIMD, for blocks of eight units of
/// one to three UTF-8 bytes each: in mixed scripts, a character at a time
/// mispredicts a branch at every change of width. Each unit is encoded at
/// every width it could have, the right one is chosen lane by lane, and the
/// bytes are packed in order with a shuffle from [`shuffles`] chosen by the
/// lanes' widths. A block of two-byte characters and ASCII is done in one
/// vector of 16-bit lanes; one with three-byte characters in two vectors of
/// 32-bit lanes, four units each.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn encode_blocks(tables: &Shuffles, src: &[u16], dst: &mut [u8]) -> Option<(usize, usize)> {
    use core::arch::wasm32::*;
    // `a >= c` below is `max(a, c) == a`: two instructions in V8, where
    // `u16x8_ge` and `u32x4_ge` take four.
    let [ascii, surrogate_bits, surrogate, x80, x800, low6, lead2, low6w, x80w, lead2w, lead3w, x800w] =
        hoisted([
            u16x8_splat(0xff80),
            u16x8_splat(0xf800),
            u16x8_splat(0xd800),
            u16x8_splat(0x80),
            u16x8_splat(0x800),
            u16x8_splat(0x3f),
            u16x8_splat(0xc0),
            u32x4_splat(0x3f),
            u32x4_splat(0x80),
            u32x4_splat(0xc0),
            u32x4_splat(0xe0),
            u32x4_splat(0x800),
        ]);
    let (mut i, mut j) = (0, 0);
    // Block after block while eight units can be read and 32 bytes stored
    // (a block writes at most 24 bytes, with stores of sixteen that may run
    // eight past them).
    while i + 8 <= src.len() && j + 32 <= dst.len() {
        // SAFETY: sixteen units are readable at `src[i..]` and 32 bytes
        // writable at `dst[j..]`.
        if i + BLOCK <= src.len()
            && unsafe { narrow_ascii(src.as_ptr().add(i), dst.as_mut_ptr().add(j), ascii) }
        {
            i += BLOCK;
            j += BLOCK;
            continue;
        }
        // SAFETY: `src[i..]` has at least eight readable units; wasm loads
        // need no alignment.
        let v = unsafe { v128_load(src.as_ptr().add(i).cast::<v128>()) };
        if v128_any_true(u16x8_eq(v128_and(v, surrogate_bits), surrogate)) {
            // A surrogate: this block a unit at a time (a pair may end one
            // unit past it; 25 bytes at most).
            let end = i + 8;
            while i < end {
                let (c, used) = code_point(src, i);
                let Some(w) = put(dst, j, c) else {
                    return Some((i, j));
                };
                i += used;
                j += w;
            }
            continue;
        }
        let wide = u16x8_eq(u16x8_max(v, x80), v);
        // SAFETY (all stores below): `dst[j..]` has at least 32 writable
        // bytes; the stores write sixteen at `j`, and at most twelve past it.
        // Table rows are sixteen readable bytes (indices below 256).
        let p = unsafe { dst.as_mut_ptr().add(j) };
        if !v128_any_true(u16x8_eq(u16x8_max(v, x800), v)) {
            // One or two bytes a unit, in the unit's 16-bit lane.
            let two = v128_or(
                v128_or(u16x8_shr(v, 6), lead2),
                u16x8_shl(v128_or(v128_and(v, low6), x80), 8),
            );
            let lanes = v128_bitselect(two, v, wide);
            let m = usize::from(i16x8_bitmask(wide));
            unsafe {
                let s = v128_load(tables.utf8_two[m].as_ptr().cast::<v128>());
                v128_store(p.cast::<v128>(), i8x16_swizzle(lanes, s));
            }
            j += 8 + m.count_ones() as usize;
        } else {
            // One to three bytes a unit, in a 32-bit lane, four units at a time.
            let mut k = 0;
            for u in [u32x4_extend_low_u16x8(v), u32x4_extend_high_u16x8(v)] {
                let low = v128_or(v128_and(u, low6w), x80w);
                let six = u32x4_shr(u, 6);
                let two = v128_or(v128_or(six, lead2w), u32x4_shl(low, 8));
                let mid = v128_or(v128_and(six, low6w), x80w);
                let three = v128_or(
                    v128_or(u32x4_shr(u, 12), lead3w),
                    v128_or(u32x4_shl(mid, 8), u32x4_shl(low, 16)),
                );
                let ge80 = u32x4_eq(u32x4_max(u, x80w), u);
                let ge800 = u32x4_eq(u32x4_max(u, x800w), u);
                let lanes = v128_bitselect(three, v128_bitselect(two, u, ge80), ge800);
                let m = usize::from(i32x4_bitmask(ge80) | i32x4_bitmask(ge800) << 4);
                unsafe {
                    let s = v128_load(tables.utf8_three[m].as_ptr().cast::<v128>());
                    v128_store(p.add(k).cast::<v128>(), i8x16_swizzle(lanes, s));
                }
                k += 4 + m.count_ones() as usize;
            }
            j += k;
        }
        i += 8;
    }
    (i > 0).then_some((i, j))
}

/// `vectors`, made once: passed through [`std::hint::black_box`], they stay
/// values computed before a loop. Left as constants, V8 builds each again
/// at every use inside the loop, three instructions apiece, which took a
/// third of a block's instructions.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
fn hoisted<const N: usize>(
    vectors: [core::arch::wasm32::v128; N],
) -> [core::arch::wasm32::v128; N] {
    std::hint::black_box(vectors)
}

/// Units a block of the ASCII fast path.
const BLOCK: usize = 16;

/// Whether every byte of `b` is ASCII, sixteen bytes a step (core's check
/// takes four at a time on wasm32).
pub fn is_ascii(b: &[u8]) -> bool {
    ascii_end(b, 0) == b.len()
}

/// The end of the ASCII run of `b` that starts at `i`: the first index from
/// `i` on of a byte from 0x80 up, or `b.len()`. The bytes from 0x80 up are
/// those with their high bit set, which is what a block's mask reads.
fn ascii_end(b: &[u8], i: usize) -> usize {
    crate::simd::find(b, i, |v| v, |c| c >= 0x80)
}

/// The code point at `src[i]` (which must be there) and the units it takes:
/// a surrogate pair is one, a lone surrogate U+FFFD.
#[inline(always)]
fn code_point(src: &[u16], i: usize) -> (u32, usize) {
    let u = u32::from(src[i]);
    if u & 0xf800 != 0xd800 {
        (u, 1)
    } else if u < 0xdc00 {
        match src.get(i + 1).map(|&l| u32::from(l)) {
            Some(l) if l & 0xfc00 == 0xdc00 => (0x1_0000 + ((u - 0xd800) << 10) + (l - 0xdc00), 2),
            _ => (0xfffd, 1),
        }
    } else {
        (0xfffd, 1)
    }
}

/// Writes code point `c` as UTF-8 at `dst[j..]`; the number of bytes, or
/// `None` when they do not fit.
#[inline(always)]
fn put(dst: &mut [u8], j: usize, c: u32) -> Option<usize> {
    if c < 0x80 {
        *dst.get_mut(j)? = c as u8;
        Some(1)
    } else if c < 0x800 {
        let d = dst.get_mut(j..j + 2)?;
        d[0] = 0xc0 | (c >> 6) as u8;
        d[1] = 0x80 | (c & 0x3f) as u8;
        Some(2)
    } else if c < 0x1_0000 {
        let d = dst.get_mut(j..j + 3)?;
        d[0] = 0xe0 | (c >> 12) as u8;
        d[1] = 0x80 | ((c >> 6) & 0x3f) as u8;
        d[2] = 0x80 | (c & 0x3f) as u8;
        Some(3)
    } else {
        let d = dst.get_mut(j..j + 4)?;
        d[0] = 0xf0 | (c >> 18) as u8;
        d[1] = 0x80 | ((c >> 12) & 0x3f) as u8;
        d[2] = 0x80 | ((c >> 6) & 0x3f) as u8;
        d[3] = 0x80 | (c & 0x3f) as u8;
        Some(4)
    }
}

/// Narrows the whole blocks of ASCII units at the start of `src` into `dst`;
/// returns the number of units done (stops at the first block holding a
/// wider unit, or where either slice ends).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn ascii_blocks(src: &[u16], dst: &mut [u8]) -> usize {
    ascii_run(src, dst, |u| u as u8)
}

/// The portable [`ascii_blocks`] and [`widen_blocks`]: whole blocks of
/// ASCII from `src` into `dst`, each element converted by `to`.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn ascii_run<A: Copy + Into<u32>, B>(src: &[A], dst: &mut [B], to: impl Fn(A) -> B) -> usize {
    let mut n = 0;
    for (s, d) in src.chunks_exact(BLOCK).zip(dst.chunks_exact_mut(BLOCK)) {
        if s.iter().any(|&x| x.into() >= 0x80) {
            break;
        }
        for (d, &x) in d.iter_mut().zip(s) {
            *d = to(x);
        }
        n += BLOCK;
    }
    n
}

/// [`ascii_blocks`] with WebAssembly SIMD: two vectors of eight units are
/// checked together and narrowed into one vector of sixteen bytes.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn ascii_blocks(src: &[u16], dst: &mut [u8]) -> usize {
    let [ascii] = hoisted([core::arch::wasm32::u16x8_splat(0xff80)]);
    let mut n = 0;
    for (s, d) in src.chunks_exact(BLOCK).zip(dst.chunks_exact_mut(BLOCK)) {
        // SAFETY: `s` has sixteen readable units and `d` sixteen writable
        // bytes.
        if !unsafe { narrow_ascii(s.as_ptr(), d.as_mut_ptr(), ascii) } {
            break;
        }
        n += BLOCK;
    }
    n
}

/// Narrows the sixteen units at `s`, when all are ASCII (no bit of `ascii`,
/// 0xFF80 in each lane, set), into the sixteen bytes at `d` and returns
/// `true`; else writes nothing.
///
/// # Safety
/// Sixteen units must be readable at `s`, and sixteen bytes writable at `d`
/// (wasm loads and stores need no alignment).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
#[inline(always)]
unsafe fn narrow_ascii(s: *const u16, d: *mut u8, ascii: core::arch::wasm32::v128) -> bool {
    use core::arch::wasm32::*;
    // SAFETY: the caller's, for two vectors read and one written.
    unsafe {
        let (a, b) = (
            v128_load(s.cast::<v128>()),
            v128_load(s.add(8).cast::<v128>()),
        );
        if v128_any_true(v128_and(v128_or(a, b), ascii)) {
            return false;
        }
        v128_store(d.cast::<v128>(), u8x16_narrow_i16x8(a, b));
    }
    true
}

/// Writes `s` as UTF-16 to the start of `dst` and returns the number of
/// units written. `dst` must hold one unit a byte of `s` (UTF-16 never
/// needs more); a shorter `dst` gets the characters that fit.
///
/// With `narrow`, every character above U+00FF is written as JSON `\u`
/// escapes instead (lower-case hex, a surrogate pair for one above U+FFFF),
/// so that every unit fits one byte: only for JSON text, whose characters
/// outside ASCII are all inside strings. `dst` must then hold
/// [`narrow_units`] units.
pub fn encode_utf16(s: &str, dst: &mut [u16], narrow: bool) -> usize {
    let b = s.as_bytes();
    let tables = shuffles();
    // `i` reads UTF-8 bytes, `j` writes UTF-16 units.
    let (mut i, mut j) = (0, 0);
    // `s` is valid UTF-8: a lead byte tells the length, and the bytes
    // after it are there.
    let byte = |k: usize| u32::from(b.get(k).copied().unwrap_or(0));
    while i < b.len() {
        // Narrow, a block with a character above U+00FF (a lead byte from
        // 0xC4 up) is left to the loop below, which escapes it.
        if let Some((read, written)) = decode_block(
            tables,
            b.get(i..).unwrap_or_default(),
            dst.get_mut(j..).unwrap_or_default(),
            if narrow { 0xc4 } else { 0xf0 },
        ) {
            i += read;
            j += written;
            continue;
        }
        // Up to one block of bytes one character at a time, then blocks again.
        let stop = b.len().min(i.saturating_add(BLOCK));
        while i < stop {
            let x = byte(i);
            let (c, used) = if x < 0x80 {
                (x, 1)
            } else if x < 0xe0 {
                (((x & 0x1f) << 6) | (byte(i + 1) & 0x3f), 2)
            } else if x < 0xf0 {
                let c = ((x & 0x0f) << 12) | ((byte(i + 1) & 0x3f) << 6) | (byte(i + 2) & 0x3f);
                (c, 3)
            } else {
                let c = ((x & 0x07) << 18)
                    | ((byte(i + 1) & 0x3f) << 12)
                    | ((byte(i + 2) & 0x3f) << 6)
                    | (byte(i + 3) & 0x3f);
                (c, 4)
            };
            if narrow && c > 0xff {
                let Some(w) = escape(c, dst.get_mut(j..).unwrap_or_default()) else {
                    return j;
                };
                j += w;
            } else if c < 0x1_0000 {
                let Some(d) = dst.get_mut(j) else {
                    return j;
                };
                *d = c as u16;
                j += 1;
            } else {
                let Some(d) = dst.get_mut(j..j + 2) else {
                    return j;
                };
                let c = c - 0x1_0000;
                d[0] = 0xd800 | (c >> 10) as u16;
                d[1] = 0xdc00 | (c & 0x3ff) as u16;
                j += 2;
                i += used;
                // Past the 4-byte character that stopped the block.
                break;
            }
            i += used;
        }
    }
    j
}

/// Units of one `\uXXXX` escape.
const ESCAPE: usize = 6;

/// Writes character `c` (above U+00FF) at the start of `d` as `\u`
/// escapes, one for each of its UTF-16 units; returns the units (or bytes)
/// written (6 or 12), or `None`, writing nothing, when `d` is too short.
fn escape<T: From<u8>>(c: u32, d: &mut [T]) -> Option<usize> {
    use crate::write::HEX_DIGITS;
    let pair;
    let units: &[u32] = if c < 0x1_0000 {
        pair = [c, 0];
        &pair[..1]
    } else {
        let c = c - 0x1_0000;
        pair = [0xd800 | (c >> 10), 0xdc00 | (c & 0x3ff)];
        &pair
    };
    let d = d.get_mut(..units.len() * ESCAPE)?;
    for (u, e) in units.iter().zip(d.chunks_exact_mut(ESCAPE)) {
        e[0] = T::from(b'\\');
        e[1] = T::from(b'u');
        for (k, h) in e[2..].iter_mut().enumerate() {
            *h = T::from(HEX_DIGITS[(u >> (12 - 4 * k) & 0xf) as usize]);
        }
    }
    Some(d.len())
}

/// The number of characters above U+00FF in `b` (valid UTF-8): their lead
/// bytes are the bytes from 0xC4 up. Counted without a branch a byte.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
pub fn wide_chars(b: &[u8]) -> usize {
    b.iter().filter(|&&x| x >= 0xc4).count()
}

/// [`wide_chars`] with WebAssembly SIMD: sixteen bytes compared at once, and
/// the lanes that match counted from their bit mask (what LLVM makes of the
/// plain loop widens every lane to 32 bits, several times slower).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub fn wide_chars(b: &[u8]) -> usize {
    use core::arch::wasm32::*;
    let blocks = b.chunks_exact(BLOCK);
    let tail = blocks.remainder().iter().filter(|&&x| x >= 0xc4).count();
    blocks.fold(tail, |n, s| {
        // SAFETY: `s` is sixteen readable bytes; wasm loads need no alignment.
        let v = unsafe { v128_load(s.as_ptr().cast::<v128>()) };
        n + u8x16_bitmask(u8x16_ge(v, u8x16_splat(0xc4))).count_ones() as usize
    })
}

/// Writes `s` (JSON text) as Latin-1 bytes to the start of `dst`, each
/// character above U+00FF as `\u` escapes (as [`encode_utf16`] does when
/// narrow), and returns the number of bytes written: half the memory of
/// UTF-16, and a host makes a one-byte string of it with a plain copy. `dst`
/// must hold [`narrow_units`] bytes; a shorter `dst` gets whole characters.
pub fn encode_latin1(s: &str, dst: &mut [u8]) -> usize {
    let b = s.as_bytes();
    let (mut i, mut j) = (0, 0);
    while i < b.len() {
        // The ASCII run up to the next byte from 0x80.
        let run = ascii_end(b, i) - i;
        let Some(d) = dst.get_mut(j..j + run) else {
            return j;
        };
        d.copy_from_slice(b.get(i..i + run).unwrap_or_default());
        i += run;
        j += run;
        // One character outside ASCII (`s` is valid UTF-8).
        let Some(ch) = s.get(i..).and_then(|t| t.chars().next()) else {
            break;
        };
        let c = u32::from(ch);
        if c <= 0xff {
            let Some(d) = dst.get_mut(j) else {
                return j;
            };
            *d = c as u8;
            j += 1;
        } else {
            let Some(w) = escape(c, dst.get_mut(j..).unwrap_or_default()) else {
                return j;
            };
            j += w;
        }
        i += ch.len_utf8();
    }
    j
}

/// The units [`encode_utf16`] may write for `s` with `narrow`: one a byte,
/// and for each character above U+00FF up to eight more (a 4-byte character
/// becomes two escapes of six units).
pub fn narrow_units(s: &str) -> usize {
    s.len()
        .saturating_add(wide_chars(s.as_bytes()).saturating_mul(8))
}

/// Decodes the blocks at the start of `b` (which starts on a character
/// boundary) into `dst` without a branch a character; returns the bytes
/// read, up to a character boundary, and the units written. `None` when the
/// first block cannot be done so (or either slice is too short): the caller
/// decodes one character at a time then. No block holds a lead byte from
/// `stop` up (0xF0 for a 4-byte character; 0xC4 for any above U+00FF).
/// Portable code: ASCII blocks only.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn decode_block(_: &Shuffles, b: &[u8], dst: &mut [u16], _: u8) -> Option<(usize, usize)> {
    let n = widen_blocks(b, dst);
    (n > 0).then_some((n, n))
}

/// Byte shuffles that pack the lanes of a vector, built on first use (4 KB
/// that would otherwise be in the `.wasm`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
struct Shuffles {
    /// For a set of eight 16-bit lanes (a bit each): the chosen lanes, in
    /// order, at the front.
    units: [[u8; BLOCK]; 256],
    /// For eight 16-bit lanes, a bit each for those holding two UTF-8 bytes
    /// (the others hold one): their bytes, in order, at the front.
    utf8_two: [[u8; BLOCK]; 256],
    /// For four 32-bit lanes, bit `k` for lane `k` holding at least two UTF-8
    /// bytes and bit `4 + k` for three (the others hold one): their bytes,
    /// in order, at the front.
    utf8_three: [[u8; BLOCK]; 256],
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
thread_local! {
    static SHUFFLES: std::cell::Cell<Option<&'static Shuffles>> =
        const { std::cell::Cell::new(None) };
}

/// The [`Shuffles`].
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn shuffles() -> &'static Shuffles {
    SHUFFLES.with(|cell| {
        if let Some(t) = cell.get() {
            return t;
        }
        let mut t = Box::new(Shuffles {
            units: [[0x80; BLOCK]; 256],
            utf8_two: [[0x80; BLOCK]; 256],
            utf8_three: [[0x80; BLOCK]; 256],
        });
        for m in 0..256 {
            let (mut u, mut two, mut three) = (0, 0, 0);
            for k in 0..8u8 {
                let bit = |b: u8| usize::from(m >> b & 1 == 1);
                if bit(k) == 1 {
                    t.units[m][u] = 2 * k;
                    t.units[m][u + 1] = 2 * k + 1;
                    u += 2;
                }
                for b in 0..1 + bit(k) {
                    t.utf8_two[m][two] = 2 * k + b as u8;
                    two += 1;
                }
                if k < 4 {
                    for b in 0..1 + bit(k) + bit(k + 4) {
                        t.utf8_three[m][three] = 4 * k + b as u8;
                        three += 1;
                    }
                }
            }
        }
        let t: &'static Shuffles = Box::leak(t);
        cell.set(Some(t));
        t
    })
}

/// Without WebAssembly SIMD there are no shuffles to build.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
struct Shuffles;

/// The (empty) [`Shuffles`] of the portable code.
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn shuffles() -> &'static Shuffles {
    &Shuffles
}

/// [`decode_block`] with WebAssembly SIMD, for every block of sixteen bytes
/// without a lead byte from `stop` up: in scripts of two- and three-byte characters,
/// a character at a time mispredicts a branch at every change of width.
/// Each byte is decoded as if a character started there, from it and the
/// two bytes after it; the values at the bytes that do start one (any but a
/// continuation byte) are then packed in order with a shuffle from
/// [`shuffles`]. ASCII runs are widened as they are.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn decode_block(tables: &Shuffles, b: &[u8], dst: &mut [u16], stop: u8) -> Option<(usize, usize)> {
    use core::arch::wasm32::*;
    // `a >= c` is `max(a, c) == a`: two instructions in V8, where
    // `u16x8_ge` and `u8x16_ge` take four.
    let [low6, lead2, lead3, stop, continuation] = hoisted([
        u16x8_splat(0x3f),
        u16x8_splat(0xc0),
        u16x8_splat(0xe0),
        u8x16_splat(stop),
        i8x16_splat(-65),
    ]);
    let decode = |a0: v128, a1: v128, a2: v128| {
        // A two-byte lead byte is 0b110xxxxx: its low six bits are its five.
        let two = v128_or(u16x8_shl(v128_and(a0, low6), 6), v128_and(a1, low6));
        // The 16-bit shift by 12 keeps the lead byte's low four bits.
        let three = v128_or(
            v128_or(u16x8_shl(a0, 12), u16x8_shl(v128_and(a1, low6), 6)),
            v128_and(a2, low6),
        );
        let is_two = u16x8_eq(u16x8_max(a0, lead2), a0);
        let is_three = u16x8_eq(u16x8_max(a0, lead3), a0);
        v128_bitselect(three, v128_bitselect(two, a0, is_two), is_three)
    };
    let table = &tables.units;
    let (mut i, mut j) = (0, 0);
    // Block after block while a character that starts in the block (which
    // may end two bytes past it) can be read, sixteen units can be stored,
    // and no character has four bytes. Each block starts on a character
    // boundary.
    while i + BLOCK + 2 <= b.len() && j + BLOCK <= dst.len() {
        // SAFETY: `b[i..]` has at least 18 readable bytes; wasm loads need
        // no alignment.
        let (c0, c1, c2) = unsafe {
            let p = b.as_ptr().add(i);
            (
                v128_load(p.cast::<v128>()),
                v128_load(p.add(1).cast::<v128>()),
                v128_load(p.add(2).cast::<v128>()),
            )
        };
        if u8x16_bitmask(c0) == 0 {
            // An ASCII run: widened as it is, block after block.
            let n = widen_blocks(
                b.get(i..).unwrap_or_default(),
                dst.get_mut(j..).unwrap_or_default(),
            );
            i += n;
            j += n;
            continue;
        }
        // A lead byte from `stop` up ends the block before it (the loop of
        // the caller takes that character).
        let big = u8x16_bitmask(u8x16_eq(u8x16_max(c0, stop), c0));
        let len = big.trailing_zeros() as usize;
        if len == 0 {
            break;
        }
        // Continuation bytes are 0x80..=0xbf, -128..=-65 as signed bytes.
        let starts = usize::from(i8x16_bitmask(i8x16_gt(c0, continuation))) & ((1usize << len) - 1);
        let low = decode(
            u16x8_extend_low_u8x16(c0),
            u16x8_extend_low_u8x16(c1),
            u16x8_extend_low_u8x16(c2),
        );
        let high = decode(
            u16x8_extend_high_u8x16(c0),
            u16x8_extend_high_u8x16(c1),
            u16x8_extend_high_u8x16(c2),
        );
        let (m0, m1) = (starts & 0xff, starts >> 8);
        let n0 = m0.count_ones() as usize;
        // SAFETY: `dst[j..]` has at least sixteen writable units; each store
        // writes eight, the second at most eight units in (`n0` <= 8). Table
        // rows are sixteen readable bytes (`m0`, `m1` < 256).
        unsafe {
            let p = dst.as_mut_ptr().add(j);
            let s0 = v128_load(table[m0].as_ptr().cast::<v128>());
            v128_store(p.cast::<v128>(), i8x16_swizzle(low, s0));
            let s1 = v128_load(table[m1].as_ptr().cast::<v128>());
            v128_store(p.add(n0).cast::<v128>(), i8x16_swizzle(high, s1));
        }
        j += n0 + m1.count_ones() as usize;
        // The last character may run past the block, by two bytes at most (a
        // block cut short ends at a lead byte): on to its end, counted
        // without a branch, which would mispredict at every other block in
        // mixed scripts.
        i += len;
        let continues = |k: usize| usize::from(b.get(k).is_some_and(|&x| (x as i8) < -64));
        let one = continues(i);
        i += one + (one & continues(i + 1));
    }
    (i > 0).then_some((i, j))
}

/// Widens the whole blocks of ASCII bytes at the start of `src` into `dst`;
/// returns the number of bytes done (stops at the first block holding a
/// wider byte, or where either slice ends).
#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
fn widen_blocks(src: &[u8], dst: &mut [u16]) -> usize {
    ascii_run(src, dst, u16::from)
}

/// [`widen_blocks`] with WebAssembly SIMD: one vector of sixteen bytes is
/// checked and widened into two vectors of eight units.
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
fn widen_blocks(src: &[u8], dst: &mut [u16]) -> usize {
    use core::arch::wasm32::*;
    let mut n = 0;
    for (s, d) in src.chunks_exact(BLOCK).zip(dst.chunks_exact_mut(BLOCK)) {
        // SAFETY: `s` is sixteen readable bytes (one vector) and `d` sixteen
        // writable units (two vectors); wasm loads and stores need no
        // alignment.
        let v = unsafe { v128_load(s.as_ptr().cast::<v128>()) };
        if u8x16_bitmask(v) != 0 {
            break;
        }
        // SAFETY: as above.
        unsafe {
            let p = d.as_mut_ptr();
            v128_store(p.cast::<v128>(), u16x8_extend_low_u8x16(v));
            v128_store(p.add(8).cast::<v128>(), u16x8_extend_high_u8x16(v));
        }
        n += BLOCK;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(units: &[u16]) -> Vec<u8> {
        let mut out = vec![0; units.len() * MAX_BYTES_PER_UNIT];
        let (read, n) = encode_utf8(units, &mut out);
        assert_eq!(read, units.len());
        out.truncate(n);
        out
    }

    fn lossy(units: &[u16]) -> Vec<u8> {
        String::from_utf16_lossy(units).into_bytes()
    }

    #[test]
    fn ascii_is_found_at_every_place() {
        // ASCII with one byte from 0x80 up at every place, or none.
        let ascii: Vec<u8> = (0..100u8).map(|i| b' ' + i % 90).collect();
        for high in (0..=ascii.len()).rev() {
            let mut t = ascii.clone();
            if let Some(b) = t.get_mut(high) {
                *b = 0x80 | (high as u8);
            }
            for from in 0..20 {
                let b = &t[from..];
                assert_eq!(is_ascii(b), high < from || high >= t.len(), "{high} {from}");
            }
        }
    }

    #[test]
    fn text_of_every_width_round_trips() {
        let s = "plain ASCII that runs past one block of sixteen units, then \
                 café — Zürich, путешествие, 東京の天気, مرحبا, 🚀🌍 and back to ASCII again";
        let units: Vec<u16> = s.encode_utf16().collect();
        assert_eq!(encode(&units), s.as_bytes());
        for cut in 0..units.len() {
            assert_eq!(encode(&units[cut..]), lossy(&units[cut..]), "from {cut}");
        }
    }

    #[test]
    fn lone_surrogates_become_replacement_characters() {
        let cases: [&[u16]; 6] = [
            &[0xd800],
            &[0xdc00],
            &[0x61, 0xd83d, 0x62],
            &[0xdc00, 0xd800],
            &[0xd83d, 0xd83d, 0xde80],
            &[0xd83d, 0xde80, 0xde80],
        ];
        for units in cases {
            assert_eq!(encode(units), lossy(units), "{units:x?}");
        }
    }

    fn decode(s: &str) -> Vec<u16> {
        let mut out = vec![0; s.len()];
        let n = encode_utf16(s, &mut out, false);
        out.truncate(n);
        out
    }

    #[test]
    fn utf8_converts_to_the_units_std_gives() {
        let cases = [
            "",
            "plain ascii only, longer than sixteen bytes, so whole blocks",
            "é",
            "abcdefghijklmnop\u{e9}",
            "工作流",
            "x🚀y\u{10ffff}z",
            "mixed: Zürich — São Paulo, путешествие, 東京, مرحبا, 👩‍💻 end",
            "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}",
        ];
        for s in cases {
            assert_eq!(decode(s), s.encode_utf16().collect::<Vec<_>>(), "{s:?}");
        }
        let long: String = (0..200)
            .map(|i| match i % 5 {
                0 => "ab".repeat(i % 11),
                1 => "ж".to_owned(),
                2 => "中".repeat(i % 3 + 1),
                3 => "😀".to_owned(),
                _ => " ".repeat(i % 17 + 10),
            })
            .collect();
        for start in (0..long.len()).filter(|&k| long.is_char_boundary(k)) {
            let s = &long[start..];
            assert_eq!(
                decode(s),
                s.encode_utf16().collect::<Vec<_>>(),
                "from {start}"
            );
        }
        // A short destination: whole characters only.
        let mut out = [0u16; 2];
        assert_eq!(encode_utf16("a😀", &mut out, false), 1);
    }

    #[test]
    fn narrow_text_escapes_each_character_above_latin_1() {
        let cases = [
            ("", ""),
            (
                "plain ascii, longer than one block of sixteen",
                "plain ascii, longer than one block of sixteen",
            ),
            ("café — Zürich", "café \\u2014 Zürich"),
            (
                "\u{ff}\u{100}\u{7ff}\u{800}\u{ffff}",
                "\u{ff}\\u0100\\u07ff\\u0800\\uffff",
            ),
            ("a😀b", "a\\ud83d\\ude00b"),
            ("\u{10ffff}東", "\\udbff\\udfff\\u6771"),
        ];
        for (s, want) in cases {
            let mut out = vec![0; narrow_units(s)];
            let n = encode_utf16(s, &mut out, true);
            assert_eq!(String::from_utf16(&out[..n]).unwrap(), want, "{s:?}");
            assert!(out[..n].iter().all(|&u| u <= 0xff), "{s:?}");
        }
        for (s, want) in cases {
            let mut out = vec![0u8; narrow_units(s)];
            let n = encode_latin1(s, &mut out);
            let text: String = out[..n].iter().map(|&b| char::from(b)).collect();
            assert_eq!(text, want, "Latin-1 {s:?}");
        }
        // Runs of every length around the eight-byte steps, each character
        // width after them.
        for pad in 0..20 {
            for c in ["é", "ÿ", "Ā", "—", "😀", "\u{80}"] {
                let s = format!("{}{c}{}", "a".repeat(pad), "b".repeat(pad % 9));
                let mut units = vec![0u16; narrow_units(&s)];
                let n = encode_utf16(&s, &mut units, true);
                let mut bytes = vec![0u8; narrow_units(&s)];
                let m = encode_latin1(&s, &mut bytes);
                let widened: Vec<u16> = bytes[..m].iter().map(|&b| u16::from(b)).collect();
                assert_eq!(widened, units[..n], "{s:?}");
            }
        }
        let mut out = [0u8; 7];
        assert_eq!(encode_latin1("ab€", &mut out), 2);
        assert_eq!(encode_latin1("abé", &mut out[..2]), 2);
        // Escapes that do not fit are not cut: whole characters only.
        let mut out = [0u16; 7];
        assert_eq!(encode_utf16("ab€", &mut out, true), 2);
        let mut out = [0u16; 8];
        assert_eq!(encode_utf16("ab€", &mut out, true), 8);
        for (k, t) in ["", "ascii", "é—東😀", "0123456789abcdé—東😀xyz€ÿĀ"]
            .iter()
            .enumerate()
        {
            let want = t.chars().filter(|&c| u32::from(c) > 0xff).count();
            assert_eq!(wide_chars(t.as_bytes()), want, "case {k}");
        }
    }

    #[test]
    fn a_short_destination_gets_whole_characters_only() {
        let units: Vec<u16> = "ab€🚀".encode_utf16().collect();
        let mut out = [0u8; 4];
        assert_eq!(encode_utf8(&units, &mut out), (2, 2));
        assert_eq!(&out[..2], b"ab");
        let mut out = [0u8; 8];
        assert_eq!(encode_utf8(&units, &mut out), (3, 5));
        assert_eq!(encode_utf8(&units[3..], &mut out), (2, 4));
        let long: Vec<u16> = "x".repeat(40).encode_utf16().collect();
        let mut out = [0u8; 20];
        assert_eq!(encode_utf8(&long, &mut out), (20, 20));
    }
}
