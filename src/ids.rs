//! Ids: Python's UUID parsing, Dify's MD5 seed, and Opik's uuid4 → uuid7
//! derivation (reference §3.1–§3.2).

use std::fmt;

/// A 128-bit UUID.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uuid(pub [u8; 16]);

/// Why a string is not usable as a version-4 seed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UuidError {
    /// Not a UUID in any form Python's `uuid.UUID` accepts.
    Malformed,
    /// A UUID, but not RFC 4122 version 4.
    NotV4,
}

impl fmt::Display for UuidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UuidError::Malformed => "badly formed hexadecimal UUID string",
            UuidError::NotV4 => "Input UUID must be version 4",
        })
    }
}

/// Each byte's value as a hexadecimal digit, either case; `0xFF` for a byte
/// that is no digit (its high bits set, which a parse ORs together and tests
/// once).
const HEX_VALUE: [u8; 256] = {
    let mut t = [0xFF; 256];
    let mut i = 0;
    while i < 16 {
        let digit = crate::write::HEX_DIGITS[i];
        t[digit as usize] = i as u8;
        t[digit.to_ascii_uppercase() as usize] = i as u8;
        i += 1;
    }
    t
};

/// Where each byte's two digits start in the hyphenated form.
const DIGITS_AT: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/// The value of a hexadecimal digit, either case.
fn hex_digit(c: u8) -> Option<u8> {
    let v = HEX_VALUE[usize::from(c)];
    (v < 16).then_some(v)
}

impl Uuid {
    /// Parses the forms Python's `uuid.UUID(str)` accepts: hyphenated or not,
    /// braced, `urn:uuid:` prefixed, any case.
    pub fn parse_py(s: &str) -> Result<Uuid, UuidError> {
        match Uuid::parse_hyphenated(s.as_bytes()) {
            Some(u) => Ok(u),
            None => Uuid::parse_any(s),
        }
    }

    /// [`Uuid::parse_py`] for any form.
    fn parse_any(s: &str) -> Result<Uuid, UuidError> {
        // Python drops `urn:` and `uuid:` wherever they are: only a text with
        // a colon can hold them (the common case, without, copies nothing).
        let replaced;
        let s = if s.contains(':') {
            replaced = s.replace("urn:", "").replace("uuid:", "");
            replaced.as_str()
        } else {
            s
        };
        // Then braces at either end, then hyphens; what is left must be 32
        // hex digits (a non-ASCII byte is not one).
        let b = s.as_bytes();
        let (mut i, mut j) = (0, b.len());
        while i < j && matches!(b[i], b'{' | b'}') {
            i += 1;
        }
        while j > i && matches!(b[j - 1], b'{' | b'}') {
            j -= 1;
        }
        let mut out = [0u8; 16];
        let mut n = 0usize;
        for &c in b[i..j].iter().filter(|&&c| c != b'-') {
            let v = hex_digit(c).ok_or(UuidError::Malformed)?;
            if n >= 32 {
                return Err(UuidError::Malformed);
            }
            out[n / 2] |= if n % 2 == 0 { v << 4 } else { v };
            n += 1;
        }
        if n != 32 {
            return Err(UuidError::Malformed);
        }
        Ok(Uuid(out))
    }

    /// The common form, `8-4-4-4-12` hex digits: what [`Uuid::parse_py`]
    /// reads it as, without its search for `urn:` and braces.
    fn parse_hyphenated(b: &[u8]) -> Option<Uuid> {
        let b: &[u8; 36] = b.try_into().ok()?;
        if [b[8], b[13], b[18], b[23]] != [b'-'; 4] {
            return None;
        }
        // Each pair read from its fixed place, and one test for a non-digit
        // at the end: no branch per digit.
        let mut out = [0u8; 16];
        let mut bad = 0u8;
        for (byte, &at) in out.iter_mut().zip(&DIGITS_AT) {
            let (hi, lo) = (
                HEX_VALUE[usize::from(b[at])],
                HEX_VALUE[usize::from(b[at + 1])],
            );
            bad |= hi | lo;
            *byte = hi << 4 | lo;
        }
        (bad < 16).then_some(Uuid(out))
    }

    /// Parses a seed that must be an RFC 4122 version-4 UUID.
    #[inline(never)]
    pub fn parse_v4(s: &str) -> Result<Uuid, UuidError> {
        let u = Uuid::parse_py(s)?;
        if u.is_v4() {
            Ok(u)
        } else {
            Err(UuidError::NotV4)
        }
    }

    /// RFC 4122 variant (`10`) and version nibble 4, as Python's `UUID.version` checks.
    pub fn is_v4(&self) -> bool {
        self.0[8] & 0xC0 == 0x80 && self.0[6] >> 4 == 4
    }

    /// RFC 4122 variant and version nibble 7.
    pub fn is_v7(&self) -> bool {
        self.0[8] & 0xC0 == 0x80 && self.0[6] >> 4 == 7
    }

    /// The 48-bit millisecond timestamp of a v7 id.
    pub fn v7_millis(&self) -> i64 {
        self.0[..6]
            .iter()
            .fold(0i64, |acc, &b| (acc << 8) | i64::from(b))
    }

    /// Lowercase hyphenated text.
    pub fn to_text(&self) -> String {
        let buf = self.text_bytes();
        String::from_utf8_lossy(&buf).into_owned()
    }

    /// Lowercase hyphenated text as ASCII bytes, without allocating.
    pub fn text_bytes(&self) -> [u8; 36] {
        use crate::write::HEX_DIGITS;
        let mut out = [b'-'; 36];
        for (&b, &at) in self.0.iter().zip(&DIGITS_AT) {
            out[at] = HEX_DIGITS[usize::from(b >> 4)];
            out[at + 1] = HEX_DIGITS[usize::from(b & 15)];
        }
        out
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl fmt::Debug for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_text())
    }
}

impl serde::Serialize for Uuid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let buf = self.text_bytes();
        s.serialize_str(std::str::from_utf8(&buf).unwrap_or_default())
    }
}

/// Dify's `_seed_to_uuid4`: MD5 of the UTF-8 key with version 4 and the RFC
/// variant set.
#[inline(never)]
pub fn seed(key: &str) -> Uuid {
    let mut d = md5(key.as_bytes());
    d[6] = (d[6] & 0x0F) | 0x40;
    d[8] = (d[8] & 0x3F) | 0x80;
    Uuid(d)
}

/// `uid(x)` of the linked profile: `x` itself when it is a v4 UUID, else `seed(x)`.
pub fn uid(x: &str) -> Uuid {
    Uuid::parse_v4(x).unwrap_or_else(|_| seed(x))
}

/// Opik's `uuid4_to_uuid7`: the 48-bit millisecond time `ms`, version 7, and
/// 74 bits of `u`. `None` when `ms` does not fit in 48 bits.
pub fn v7(ms: i64, u: Uuid) -> Option<Uuid> {
    if !(0..1i64 << 48).contains(&ms) {
        return None;
    }
    let mut o = [0u8; 16];
    for (i, b) in o.iter_mut().take(6).enumerate() {
        *b = (ms >> (8 * (5 - i))) as u8;
    }
    o[6] = 0x70 | (u.0[6] & 0x0F);
    o[7] = u.0[7];
    o[8] = 0x80 | (u.0[8] & 0x3F);
    o[9..].copy_from_slice(&u.0[9..]);
    Some(Uuid(o))
}

/// MD5's shift amounts, one a step.
const MD5_S: [u32; 64] = [
    7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9,
    14, 20, 5, 9, 14, 20, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 6, 10, 15,
    21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
];
/// MD5's additive constants, one a step.
const MD5_K: [u32; 64] = [
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
];

/// MD5 (RFC 1321) of `data`.
pub fn md5(data: &[u8]) -> [u8; 16] {
    let mut h: [u32; 4] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    let blocks = data.chunks_exact(64);
    // The last bytes, the 0x80 byte, zeros and the length in bits: one more
    // block, or two when the last bytes leave no room for the 0x80 byte and
    // the eight of the length. On the stack: the linked profile hashes a
    // seed for every round span and every id that is no v4 UUID.
    let rest = blocks.remainder();
    let mut tail = [0u8; 128];
    tail[..rest.len()].copy_from_slice(rest);
    tail[rest.len()] = 0x80;
    let end = if rest.len() < 56 { 64 } else { 128 };
    let bit_len = (data.len() as u64).wrapping_mul(8);
    tail[end - 8..end].copy_from_slice(&bit_len.to_le_bytes());
    for block in blocks.chain(tail[..end].chunks_exact(64)) {
        md5_block(&mut h, block);
    }
    let mut out = [0u8; 16];
    for (i, w) in h.iter().enumerate() {
        out[4 * i..4 * i + 4].copy_from_slice(&w.to_le_bytes());
    }
    out
}

/// MD5's compression of one 64-byte block into `h`.
fn md5_block(h: &mut [u32; 4], block: &[u8]) {
    let m: [u32; 16] = std::array::from_fn(|i| {
        u32::from_le_bytes([
            block[4 * i],
            block[4 * i + 1],
            block[4 * i + 2],
            block[4 * i + 3],
        ])
    });
    let [mut a, mut b, mut c, mut d] = *h;
    for i in 0..64 {
        let (f, g) = match i / 16 {
            0 => ((b & c) | (!b & d), i),
            1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
            2 => (b ^ c ^ d, (3 * i + 5) % 16),
            _ => (c ^ (b | !d), (7 * i) % 16),
        };
        let f = f.wrapping_add(a).wrapping_add(MD5_K[i]).wrapping_add(m[g]);
        a = d;
        d = c;
        c = b;
        b = b.wrapping_add(f.rotate_left(MD5_S[i]));
    }
    h[0] = h[0].wrapping_add(a);
    h[1] = h[1].wrapping_add(b);
    h[2] = h[2].wrapping_add(c);
    h[3] = h[3].wrapping_add(d);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn md5_pads_at_every_block_boundary() {
        // Lengths around the one- and two-block paddings; digests from
        // Python's hashlib.
        let text =
            |n: usize| -> Vec<u8> { (0..n).map(|i| ((i * 7 + 3) % 94 + 33) as u8).collect() };
        for (n, want) in [
            (55, "9fea631225603dce533d850f25d1c7dc"),
            (56, "95e374f63982e178f0ef5d66ab485a56"),
            (63, "6e2062e53f18ff4cc79699aaf4828a09"),
            (64, "1eafe7d5a87b7dc87b07190e2b4bf408"),
            (65, "302b392a009d7ad408824f3e974b0a96"),
            (119, "67e6582c688930d53229fd5eef0f8ed5"),
            (120, "a4c0b289042093c35765fa32736dc325"),
            (128, "0f2fc1b209a44c08efe08d6c1a80c0bc"),
        ] {
            assert_eq!(hex(&md5(&text(n))), want, "{n} bytes");
        }
    }

    #[test]
    fn md5_matches_rfc_1321_vectors() {
        assert_eq!(hex(&md5(b"")), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(hex(&md5(b"a")), "0cc175b9c0f1b6a831c399e269772661");
        assert_eq!(hex(&md5(b"abc")), "900150983cd24fb0d6963f7d28e17f72");
        assert_eq!(
            hex(&md5(b"message digest")),
            "f96b697d7cb7938d525a2f31aaf161d0"
        );
        assert_eq!(
            hex(&md5(
                b"12345678901234567890123456789012345678901234567890123456789012345678901234567890"
            )),
            "57edf4a22be3c955ac49da2e2107b67a"
        );
    }

    #[test]
    fn worked_example_trace_id() {
        let u = Uuid::parse_v4("beb55eff-af2e-475f-8e97-f4cb3c486cf8").unwrap();
        assert_eq!(
            v7(1_749_543_330_123, u).unwrap().to_text(),
            "019758e8-a14b-775f-8e97-f4cb3c486cf8"
        );
        let shanghai = 1_749_543_330_123 - 8 * 3_600_000;
        assert!(v7(shanghai, u)
            .unwrap()
            .to_text()
            .starts_with("01975731-2d4b-775f-"));
    }

    #[test]
    fn worked_example_root_seed() {
        let s = seed("beb55eff-af2e-475f-8e97-f4cb3c486cf8-root");
        assert_eq!(
            hex(&md5(b"beb55eff-af2e-475f-8e97-f4cb3c486cf8-root")),
            "1dc33fafed22c3995e28a92a09761d1e"
        );
        assert_eq!(s.to_text(), "1dc33faf-ed22-4399-9e28-a92a09761d1e");
        assert_eq!(
            v7(1_749_543_330_123, s).unwrap().to_text(),
            "019758e8-a14b-7399-9e28-a92a09761d1e"
        );
    }

    #[test]
    fn python_uuid_forms() {
        let c = "beb55eff-af2e-475f-8e97-f4cb3c486cf8";
        for form in [
            "BEB55EFF-AF2E-475F-8E97-F4CB3C486CF8",
            "{beb55eff-af2e-475f-8e97-f4cb3c486cf8}",
            "urn:uuid:beb55eff-af2e-475f-8e97-f4cb3c486cf8",
            "beb55effaf2e475f8e97f4cb3c486cf8",
            "}{{beb55eff-af2e-475f-8e97-f4cb3c486cf8}",
            "{urn:uuid:beb55eff-af2e-475f-8e97-f4cb3c486cf8}",
            "beb55eff-uuid:af2e-475f-8e97-f4cb3c486cf8",
        ] {
            assert_eq!(Uuid::parse_py(form).unwrap().to_text(), c, "{form}");
        }
        assert_eq!(
            Uuid::parse_py("order-2025-06-12-42"),
            Err(UuidError::Malformed)
        );
        assert_eq!(Uuid::parse_py(""), Err(UuidError::Malformed));
        // Braces only at the ends; hex digits only in ASCII.
        for bad in [
            "beb55eff-af2e-{475f-8e97-f4cb3c486cf8",
            "ｂeb55eff-af2e-475f-8e97-f4cb3c486cf8",
            "beb55eff-af2e-475f-8e97-f4cb3c486cé",
        ] {
            assert_eq!(Uuid::parse_py(bad), Err(UuidError::Malformed), "{bad}");
        }
        assert_eq!(
            Uuid::parse_py("beb55effaf2e475f8e97f4cb3c486cf800"),
            Err(UuidError::Malformed)
        );
        // A v7 and a v1 id are UUIDs but not v4; a wrong variant reports no version.
        assert_eq!(
            Uuid::parse_v4("019758e8-a14b-775f-8e97-f4cb3c486cf8"),
            Err(UuidError::NotV4)
        );
        assert_eq!(
            Uuid::parse_v4("beb55eff-af2e-475f-ce97-f4cb3c486cf8"),
            Err(UuidError::NotV4)
        );
        assert_eq!(
            Uuid::parse_v4("4bf92f3577b34da6a3ce929d0e0e4736"),
            Ok(Uuid::parse_py("4bf92f3577b34da6a3ce929d0e0e4736").unwrap())
        );
    }

    #[test]
    fn the_hyphenated_form_reads_as_any_form() {
        // Every one-byte change of a 36-byte id, and the id itself: the
        // fast path either agrees with the general one or leaves it to it.
        let id = b"beb55eff-af2e-475f-8e97-f4cb3c486cf8";
        let mut tried = 0;
        for at in 0..=id.len() {
            for c in b"-0aFgG{}:x ".iter().copied() {
                let mut v = id.to_vec();
                if at < id.len() {
                    v[at] = c;
                }
                let s = std::str::from_utf8(&v).unwrap();
                let fast = Uuid::parse_hyphenated(s.as_bytes());
                assert_eq!(Uuid::parse_py(s), Uuid::parse_any(s), "{s}");
                if let Some(u) = fast {
                    assert_eq!(Ok(u), Uuid::parse_any(s), "{s}");
                    tried += 1;
                }
            }
        }
        assert!(tried > 36 * 3, "the fast path took {tried}");
    }

    #[test]
    fn uid_keeps_v4_and_seeds_anything_else() {
        let v4 = "beb55eff-af2e-475f-8e97-f4cb3c486cf8";
        assert_eq!(uid(v4).to_text(), v4);
        assert_eq!(uid("order-42"), seed("order-42"));
        assert!(uid("order-42").is_v4());
    }

    #[test]
    fn v7_rejects_times_outside_48_bits() {
        let u = seed("x");
        assert!(v7(-1, u).is_none());
        assert!(v7(1 << 48, u).is_none());
        let id = v7((1 << 48) - 1, u).unwrap();
        assert!(id.is_v7());
        assert_eq!(id.v7_millis(), (1 << 48) - 1);
    }
}
