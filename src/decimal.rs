//! Decimal text to `f64`, correctly rounded, without the standard library's
//! parser.
//!
//! `str::parse::<f64>` is exact, but it brings a 10 KB table of powers of
//! five into the `.wasm` (13 KB gzipped with its code: nearly a tenth of the
//! module), and serde_json's own parser may be off by a unit in the last
//! place. The mapping reads few numbers as floats (costs, prices, times), so
//! this module trades speed for size: a number that the plain fast path
//! cannot do exactly is done with a small big-integer division instead of
//! tables.
//!
//! The result is the `f64` nearest to the decimal value, ties to even, as
//! `str::parse` gives; the tests compare the two on many inputs.

/// Significant digits kept: the decimal form of any value halfway between
/// two `f64`s has at most 767, so digits past these can only break a tie,
/// and a non-zero one among them is kept as a sticky bit.
const MAX_DIGITS: usize = 800;

/// Parses `s` as `str::parse::<f64>` does (an optional sign, digits with an
/// optional `.` and fraction, an optional exponent) and returns the value
/// when it is finite: `None` for anything else, `inf` and `nan` included,
/// and for a number too large for an `f64`.
pub fn parse_f64(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    let (neg, b) = match b.first() {
        Some(b'-') => (true, b.get(1..)?),
        Some(b'+') => (false, b.get(1..)?),
        _ => (false, b),
    };
    let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
    let (int, rest) = b.split_at(int_len);
    let (frac, rest) = match rest.split_first() {
        Some((b'.', r)) => {
            let n = r.iter().take_while(|c| c.is_ascii_digit()).count();
            r.split_at(n)
        }
        _ => (&[][..], rest),
    };
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    let exp = match rest.split_first() {
        None => 0,
        Some((b'e' | b'E', r)) => exponent(r)?,
        Some(_) => return None,
    };
    let magnitude = value(int, frac, exp)?;
    Some(if neg { -magnitude } else { magnitude })
}

/// The exponent after `e`: an optional sign and at least one digit, clamped
/// far beyond any `f64` so that it cannot overflow.
fn exponent(b: &[u8]) -> Option<i64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, b.get(1..)?),
        Some(b'+') => (false, b.get(1..)?),
        _ => (false, b),
    };
    if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let e = digits
        .iter()
        .fold(0i64, |e, &d| (e * 10 + i64::from(d - b'0')).min(1 << 40));
    Some(if neg { -e } else { e })
}

/// The value of the digits `int` `.` `frac` times ten to `exp`, rounded;
/// `None` when it is too large.
fn value(int: &[u8], frac: &[u8], exp: i64) -> Option<f64> {
    // The value is D * 10^e, D the digits without leading zeros (n of
    // them; the first 19 in `w`).
    let (mut n, mut w) = (0usize, 0u64);
    for &d in int.iter().chain(frac) {
        if n == 0 && d == b'0' {
            continue;
        }
        if n < 19 {
            w = w * 10 + u64::from(d - b'0');
        }
        n += 1;
    }
    if n == 0 {
        return Some(0.0);
    }
    let e = exp.saturating_sub(frac.len() as i64);
    // Below half the smallest subnormal (about 2.5e-324) is zero, from
    // 1e309 up is infinite.
    let lead = e.saturating_add(n as i64);
    if lead < -324 {
        return Some(0.0);
    }
    if lead > 310 {
        return None;
    }
    // The plain fast path: up to 2^53 and a power of ten up to 1e22 are
    // both exact, so one multiplication or division rounds once.
    if n <= 15 && (-22..=22).contains(&e) {
        let p = (0..e.unsigned_abs()).fold(1.0f64, |p, _| p * 10.0);
        let x = if e < 0 { w as f64 / p } else { w as f64 * p };
        return x.is_finite().then_some(x);
    }
    exact(int, frac, e, n)
}

/// The digits `int` `.` `frac` (`count` of them significant) times ten to
/// `e`, rounded, by big-integer arithmetic (kept out of line: most numbers
/// never need it, and it is most of the code).
#[cold]
#[inline(never)]
fn exact(int: &[u8], frac: &[u8], mut e: i64, count: usize) -> Option<f64> {
    // The significant digits, at most MAX_DIGITS of them.
    let mut digits: Vec<u8> = Vec::with_capacity(count.min(MAX_DIGITS));
    let mut sticky = false;
    for &d in int.iter().chain(frac) {
        if digits.is_empty() && d == b'0' {
            continue;
        }
        if digits.len() < MAX_DIGITS {
            digits.push(d - b'0');
        } else {
            // A digit dropped: the value's scale moves up by one.
            sticky |= d != b'0';
            e = e.saturating_add(1);
        }
    }
    let mut n = Big::from_digits(&digits);
    // The value is n * 2^-shift, less than one unit of n below it when
    // `sticky`.
    let mut shift = 0i64;
    if e >= 0 {
        n.mul_pow10(e as u64);
    } else {
        let k = e.unsigned_abs();
        // Enough bits that the quotient keeps 65 of them: n is shifted up
        // past the bits of 10^k (k * log2(10), at most k * 3.3220) by 66.
        let pow_bits = (k * 33_220).div_ceil(10_000) as i64;
        shift = (pow_bits + 66 - n.bits() as i64).max(0);
        n.shl(shift as u64);
        sticky |= n.div_pow10(k);
    }
    round(&n, sticky, -shift)
}

/// Rounds `n * 2^exp2` (plus a little more when `sticky`) to the nearest
/// `f64`, ties to even; `None` when that is infinite.
fn round(n: &Big, mut sticky: bool, exp2: i64) -> Option<f64> {
    let bits = n.bits() as i64;
    // The top 64 bits of n, and whether any bit below them is set.
    let drop = (bits - 64).max(0) as u64;
    let top = n.bits_from(drop);
    sticky |= n.any_below(drop);
    // The value is top * 2^e2 (top's highest bit set when bits >= 64).
    let e2 = exp2 + drop as i64;
    let top_bits = bits.min(64);
    // Binary exponent of the leading bit, and the mantissa bits it keeps:
    // 53, fewer for a subnormal.
    let lead = e2 + top_bits - 1;
    let keep = if lead >= -1022 {
        53
    } else {
        53 - (-1022 - lead)
    };
    if keep <= 0 {
        // Below the smallest subnormal: it or zero.
        let half = keep == 0 && (top << (64 - top_bits)) > 1 << 63
            || keep == 0 && (top << (64 - top_bits)) == 1 << 63 && sticky;
        return Some(if half { f64::from_bits(1) } else { 0.0 });
    }
    let cut = (top_bits - keep).max(0) as u32;
    let mut m = if cut == 0 {
        top << (keep - top_bits)
    } else {
        top >> cut
    };
    if cut > 0 {
        let rest = top & ((1u64 << cut) - 1);
        let half = 1u64 << (cut - 1);
        if rest > half || (rest == half && (sticky || m & 1 == 1)) {
            m += 1;
        }
    }
    // The mantissa's place: its lowest bit is worth 2^low.
    let mut low = lead - (keep - 1);
    if m == 1 << keep {
        // Rounded up to the next power of two.
        if keep < 53 {
            // A subnormal that became the next (or the smallest normal).
            return Some(f64::from_bits(m << (low + 1074)));
        }
        m >>= 1;
        low += 1;
    }
    let lead = low + 52;
    if keep < 53 {
        // Subnormal: the exponent field is zero and m its mantissa.
        return Some(f64::from_bits(m << (low + 1074)));
    }
    if lead > 1023 {
        return None;
    }
    let biased = (lead + 1023) as u64;
    Some(f64::from_bits((biased << 52) | (m & ((1 << 52) - 1))))
}

/// An unsigned big integer: 32-bit limbs, lowest first, no high zero limbs.
struct Big(Vec<u32>);

impl Big {
    /// The integer written by `digits` (values 0 to 9, highest first).
    fn from_digits(digits: &[u8]) -> Big {
        let mut n = Big(Vec::with_capacity(digits.len() / 9 + 2));
        for chunk in digits.chunks(9) {
            let v = chunk.iter().fold(0u32, |v, &d| v * 10 + u32::from(d));
            n.mul_add(10u32.pow(chunk.len() as u32), v);
        }
        n
    }

    /// `self = self * m + a`.
    fn mul_add(&mut self, m: u32, a: u32) {
        let mut carry = u64::from(a);
        for limb in &mut self.0 {
            let x = u64::from(*limb) * u64::from(m) + carry;
            *limb = x as u32;
            carry = x >> 32;
        }
        if carry > 0 {
            self.0.push(carry as u32);
        }
    }

    /// `self *= 10^k`.
    fn mul_pow10(&mut self, mut k: u64) {
        while k > 0 {
            let step = k.min(9);
            self.mul_add(10u32.pow(step as u32), 0);
            k -= step;
        }
    }

    /// `self /= 10^k`, rounded down; whether anything was cut off.
    fn div_pow10(&mut self, mut k: u64) -> bool {
        let mut cut = false;
        while k > 0 {
            let step = k.min(9);
            let d = u64::from(10u32.pow(step as u32));
            let mut rem = 0u64;
            for limb in self.0.iter_mut().rev() {
                let x = (rem << 32) | u64::from(*limb);
                *limb = (x / d) as u32;
                rem = x % d;
            }
            cut |= rem != 0;
            while self.0.last() == Some(&0) {
                self.0.pop();
            }
            k -= step;
        }
        cut
    }

    /// `self <<= s`.
    fn shl(&mut self, s: u64) {
        let (limbs, bits) = ((s / 32) as usize, (s % 32) as u32);
        if bits > 0 {
            let mut carry = 0u32;
            for limb in &mut self.0 {
                let x = (u64::from(*limb) << bits) | u64::from(carry);
                *limb = x as u32;
                carry = (x >> 32) as u32;
            }
            if carry > 0 {
                self.0.push(carry);
            }
        }
        if limbs > 0 && !self.0.is_empty() {
            self.0.splice(0..0, std::iter::repeat_n(0, limbs));
        }
    }

    /// The number of bits up to the highest set one.
    fn bits(&self) -> u64 {
        match self.0.last() {
            Some(&top) => self.0.len() as u64 * 32 - u64::from(top.leading_zeros()),
            None => 0,
        }
    }

    /// Bit `i` (zero past the end).
    fn bit(&self, i: u64) -> u64 {
        let limb = self.0.get((i / 32) as usize).copied().unwrap_or(0);
        u64::from(limb >> (i % 32)) & 1
    }

    /// The 64 bits from bit `from` up.
    fn bits_from(&self, from: u64) -> u64 {
        (0..64).fold(0u64, |v, k| v | (self.bit(from + k) << k))
    }

    /// Whether any bit below `to` is set.
    fn any_below(&self, to: u64) -> bool {
        let full = (to / 32) as usize;
        let part = (to % 32) as u32;
        self.0.iter().take(full).any(|&l| l != 0)
            || (part > 0
                && self
                    .0
                    .get(full)
                    .is_some_and(|&l| l & ((1 << part) - 1) != 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(s: &str) {
        let want = s.parse::<f64>().ok().filter(|f| f.is_finite());
        let got = parse_f64(s);
        assert_eq!(
            got.map(f64::to_bits),
            want.map(f64::to_bits),
            "{s}: {got:?} against {want:?}"
        );
    }

    #[test]
    fn hard_cases_round_as_the_standard_library_does() {
        for s in [
            "0",
            "-0",
            "+0",
            "0.0",
            "-0.0e5",
            "1",
            "1.",
            ".5",
            "-.5",
            "1e5",
            "1E+5",
            "1e-5",
            "93.77037949999999",
            "12.345678901234567",
            "0.1",
            "0.3",
            "2.5",
            "1.7976931348623157e308",
            "1.7976931348623158e308",
            "1.7976931348623159e308",
            "1e308",
            "1e309",
            "2.2250738585072011e-308",
            "2.2250738585072014e-308",
            "2.225073858507201e-308",
            "4.9e-324",
            "5e-324",
            "2.4703282292062327e-324",
            "2.4703282292062328e-324",
            "2.47032822920623272e-324",
            "1e-324",
            "3e-324",
            "7e-324",
            "1e-400",
            "9007199254740993",
            "9007199254740992.5",
            "9007199254740993.0000000001",
            "18446744073709551615",
            "18446744073709551616e-20",
            "123456789012345678901234567890",
            "1e22",
            "1e23",
            "8.98846567431158e307",
            "0.000001",
            "1.2345678901234567e-05",
            "6.103515625e-05",
            "4.35679e-05",
            "00000.000001e6",
            "1e-5_",
            "",
            "-",
            "+",
            ".",
            "e5",
            "1e",
            "1e+",
            "1.2.3",
            "inf",
            "NaN",
            "infinity",
            " 1",
            "1 ",
            "0x10",
            "1e1000000000000",
            "1e-1000000000000",
            "0e1000000000000",
        ] {
            same(s);
        }
        // A halfway case with many digits: the digits past the 767th decide.
        let half = format!("9007199254740993{}", "0".repeat(900));
        same(&format!("{half}e-900"));
        same(&format!("9007199254740993{}1e-901", "0".repeat(900)));
        same(&format!("0.{}1", "0".repeat(330)));
        same(&format!("{}e-340", "7".repeat(1200)));
    }

    #[test]
    fn random_decimals_round_as_the_standard_library_does() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        for _ in 0..200_000 {
            let r = next();
            let len = 1 + (r % 25) as usize;
            let digits: String = (0..len)
                .map(|_| char::from(b'0' + (next() % 10) as u8))
                .collect();
            let dot = (next() % (len as u64 + 1)) as usize;
            let exp = (next() % 700) as i64 - 350;
            let s = format!("{}.{}e{exp}", &digits[..dot], &digits[dot..]);
            same(&s);
            // The shortest form of a random f64.
            let f = f64::from_bits(next() >> 1);
            if f.is_finite() {
                same(&format!("{f:e}"));
            }
        }
    }

    /// The exact decimal form of the value halfway between `f` and the next
    /// `f64` up: (2m + 1) * 2^(q - 1) for `f` = m * 2^q.
    fn midpoint(f: f64) -> String {
        let bits = f.to_bits();
        let (field, frac) = ((bits >> 52) as i64, bits & ((1 << 52) - 1));
        let (m, q) = match field {
            0 => (frac, -1074),
            _ => (frac | 1 << 52, field - 1075),
        };
        let odd = 2 * m + 1;
        let mut n = Big(vec![odd as u32, (odd >> 32) as u32]);
        while n.0.last() == Some(&0) {
            n.0.pop();
        }
        let k = 1 - q;
        if k <= 0 {
            n.shl((-k) as u64);
            return decimal(n);
        }
        for _ in 0..k {
            n.mul_add(5, 0);
        }
        format!("{}e-{k}", decimal(n))
    }

    /// `n` in decimal.
    fn decimal(mut n: Big) -> String {
        let mut groups = Vec::new();
        while !n.0.is_empty() {
            let mut rem = 0u64;
            for limb in n.0.iter_mut().rev() {
                let x = (rem << 32) | u64::from(*limb);
                *limb = (x / 1_000_000_000) as u32;
                rem = x % 1_000_000_000;
            }
            while n.0.last() == Some(&0) {
                n.0.pop();
            }
            groups.push(rem);
        }
        let mut s = groups.pop().map_or("0".to_owned(), |g| g.to_string());
        for g in groups.iter().rev() {
            s.push_str(&format!("{g:09}"));
        }
        s
    }

    #[test]
    fn values_halfway_between_two_f64s_round_to_even() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        for i in 0..3_000u64 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            // Across the range, subnormals and the largest values included.
            let f = match i % 4 {
                0 => f64::from_bits(state % (1 << 53)),
                1 => f64::from_bits(0x7fef_ffff_ffff_ffff - state % (1 << 52)),
                _ => f64::from_bits(state >> 1),
            };
            if !f.is_finite() {
                continue;
            }
            let mid = midpoint(f);
            same(&mid);
            // Just below and just above the tie.
            let (digits, exp) = mid
                .split_once('e')
                .map_or((mid.as_str(), ""), |(d, e)| (d, e));
            let exp = if exp.is_empty() {
                String::new()
            } else {
                format!("e{exp}")
            };
            let (head, last) = digits.split_at(digits.len() - 1);
            let down = char::from(last.as_bytes()[0] - 1);
            if last != "0" {
                same(&format!("{head}{down}.99999999999999999999{exp}"));
            }
            same(&format!("{digits}.00000000000000000001{exp}"));
        }
    }
}
