//! Byte searches 16 bytes a step: SSE2 on x86_64 (part of the base
//! instruction set there), WebAssembly SIMD where the module is built with
//! it, and a plain loop elsewhere. The JSON scans ([`crate::reader`],
//! [`crate::scan`]) describe what they look for once, as a test on a block
//! of 16 bytes and the same test on one byte. Also a hint that asks for
//! bytes before they are read ([`prefetch`]).

/// 16 bytes, each compared at once.
#[derive(Clone, Copy)]
pub struct Block(imp::V);

impl Block {
    /// Bytes equal to `c`.
    #[inline(always)]
    pub fn eq(self, c: u8) -> Block {
        Block(imp::eq(self.0, c))
    }

    /// Bytes below `c` (unsigned).
    #[inline(always)]
    pub fn below(self, c: u8) -> Block {
        Block(imp::below(self.0, c))
    }

    /// Each byte with the bits of `c` set.
    #[inline(always)]
    pub fn with_bits(self, c: u8) -> Block {
        Block(imp::or(self.0, imp::splat(c)))
    }

    /// The bytes of either.
    #[inline(always)]
    pub fn or(self, other: Block) -> Block {
        Block(imp::or(self.0, other.0))
    }
}

/// The first index at or after `i` whose byte passes `byte`; `b.len()` when
/// none does. `block` is the same test on 16 bytes (a byte passes when its
/// lane is all ones).
#[inline(always)]
pub fn find(
    b: &[u8],
    mut i: usize,
    block: impl Fn(Block) -> Block,
    byte: impl Fn(u8) -> bool,
) -> usize {
    while i + 16 <= b.len() {
        let bits = imp::mask(block(Block(imp::load(&b[i..i + 16]))).0);
        if bits != 0 {
            return i + bits.trailing_zeros() as usize;
        }
        i += 16;
    }
    while i < b.len() && !byte(b[i]) {
        i += 1;
    }
    i
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use core::arch::wasm32::*;

    pub type V = v128;

    #[inline(always)]
    pub fn load(s: &[u8]) -> V {
        assert!(s.len() >= 16);
        // SAFETY: `s` has 16 bytes; `v128_load` needs no alignment.
        unsafe { v128_load(s.as_ptr().cast::<v128>()) }
    }
    #[inline(always)]
    pub fn splat(c: u8) -> V {
        u8x16_splat(c)
    }
    #[inline(always)]
    pub fn eq(v: V, c: u8) -> V {
        u8x16_eq(v, u8x16_splat(c))
    }
    #[inline(always)]
    pub fn below(v: V, c: u8) -> V {
        u8x16_lt(v, u8x16_splat(c))
    }
    #[inline(always)]
    pub fn or(a: V, b: V) -> V {
        v128_or(a, b)
    }
    #[inline(always)]
    pub fn mask(v: V) -> u32 {
        u32::from(u8x16_bitmask(v))
    }
}

#[cfg(target_arch = "x86_64")]
mod imp {
    use core::arch::x86_64::*;

    pub type V = __m128i;

    // SAFETY (every function): SSE2 is part of x86_64, so these intrinsics
    // are always available; none touches memory but `load`.
    #[inline(always)]
    pub fn load(s: &[u8]) -> V {
        assert!(s.len() >= 16);
        // SAFETY: `s` has 16 bytes; `_mm_loadu_si128` needs no alignment.
        unsafe { _mm_loadu_si128(s.as_ptr().cast::<__m128i>()) }
    }
    #[inline(always)]
    pub fn splat(c: u8) -> V {
        unsafe { _mm_set1_epi8(c as i8) }
    }
    #[inline(always)]
    pub fn eq(v: V, c: u8) -> V {
        unsafe { _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8)) }
    }
    #[inline(always)]
    pub fn below(v: V, c: u8) -> V {
        // v < c  ⇔  min(v, c - 1) == v (unsigned), for c > 0.
        let top = c.wrapping_sub(1) as i8;
        unsafe { _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(top)), v) }
    }
    #[inline(always)]
    pub fn or(a: V, b: V) -> V {
        unsafe { _mm_or_si128(a, b) }
    }
    #[inline(always)]
    pub fn mask(v: V) -> u32 {
        unsafe { _mm_movemask_epi8(v) as u32 }
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    all(target_arch = "wasm32", target_feature = "simd128")
)))]
mod imp {
    pub type V = [u8; 16];

    #[inline(always)]
    pub fn load(s: &[u8]) -> V {
        let mut v = [0; 16];
        v.copy_from_slice(&s[..16]);
        v
    }
    #[inline(always)]
    pub fn splat(c: u8) -> V {
        [c; 16]
    }
    #[inline(always)]
    pub fn eq(v: V, c: u8) -> V {
        v.map(|x| if x == c { 0xff } else { 0 })
    }
    #[inline(always)]
    pub fn below(v: V, c: u8) -> V {
        v.map(|x| if x < c { 0xff } else { 0 })
    }
    #[inline(always)]
    pub fn or(a: V, b: V) -> V {
        let mut v = a;
        for (x, y) in v.iter_mut().zip(b) {
            *x |= y;
        }
        v
    }
    #[inline(always)]
    pub fn mask(v: V) -> u32 {
        v.iter()
            .enumerate()
            .fold(0, |m, (i, &x)| m | (u32::from(x >> 7) << i))
    }
}

/// Asks the processor to bring the first and the last bytes of `s` into the
/// caches, without waiting for them: a hint, with no effect on results. On
/// x86_64 only (WebAssembly has no such instruction).
#[inline(always)]
pub fn prefetch(s: &str) {
    #[cfg(target_arch = "x86_64")]
    {
        use core::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let b = s.as_bytes();
        if let (Some(first), Some(last)) = (b.first(), b.last()) {
            let (first, last) = (first as *const u8, last as *const u8);
            // SAFETY: a prefetch only hints; it reads nothing for the
            // program and never faults (and both point into `s` anyway).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(first.cast()) }
            // The last byte only when on another cache line.
            if (first as usize ^ last as usize) >> 6 != 0 {
                // SAFETY: as above.
                unsafe { _mm_prefetch::<_MM_HINT_T0>(last.cast()) }
            }
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = s;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_and_bytes_find_the_same_index() {
        let text: Vec<u8> = (0..300u32).map(|i| (i * 37 % 251) as u8).collect();
        type Test<'t> = (&'t dyn Fn(Block) -> Block, &'t dyn Fn(u8) -> bool);
        let tests: [Test; 4] = [
            (&|v| v.eq(b'"').or(v.below(0x20)), &|c| {
                c == b'"' || c < 0x20
            }),
            (&|v| v.with_bits(0x20).eq(b'{'), &|c| c | 0x20 == b'{'),
            (&|v| v.below(1), &|c| c == 0),
            (&|v| v, &|c| c >= 0x80),
        ];
        for (block, byte) in tests {
            for from in 0..text.len() {
                let want = (from..text.len())
                    .find(|&i| byte(text[i]))
                    .unwrap_or(text.len());
                assert_eq!(find(&text, from, block, byte), want);
            }
        }
    }
}
