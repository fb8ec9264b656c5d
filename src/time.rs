//! Datetimes: parsing Dify's ISO forms and writing Python's `isoformat()`.
//!
//! An instant is kept as integer microseconds since the Unix epoch (UTC), with
//! the UTC offset it was written in, so that the `reference` profile can write
//! it back the way Opik's Python SDK does.

/// Microseconds per second.
pub const MICROS_PER_SEC: i64 = 1_000_000;

/// Smallest supported instant: 0001-01-01T00:00:00Z.
const MIN_MICROS: i64 = -62_135_596_800 * MICROS_PER_SEC;
/// Largest supported instant: 9999-12-31T23:59:59.999999Z.
const MAX_MICROS: i64 = 253_402_300_799 * MICROS_PER_SEC + 999_999;

/// An instant plus the UTC offset (seconds) it was expressed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Time {
    /// Microseconds since 1970-01-01T00:00:00Z.
    pub micros: i64,
    /// Offset from UTC, in seconds, used when writing in the original zone.
    pub offset: i32,
}

/// Why a datetime string was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadTime;

impl Time {
    /// A UTC instant.
    pub fn utc(micros: i64) -> Self {
        Time { micros, offset: 0 }
    }

    /// The same instant written in UTC.
    pub fn to_utc(self) -> Self {
        Time::utc(self.micros)
    }

    /// Milliseconds since the epoch, rounded down (Python's `int(ts * 1000)`
    /// for every realistic date).
    pub fn millis(self) -> i64 {
        self.micros.div_euclid(1000)
    }

    /// Adds microseconds; `None` when the result leaves years 1–9999.
    pub fn plus_micros(self, delta: i64) -> Option<Self> {
        let m = self.micros.checked_add(delta)?;
        if !(MIN_MICROS..=MAX_MICROS).contains(&m) {
            return None;
        }
        Some(Time { micros: m, ..self })
    }

    /// Writes the instant as Python's `isoformat()` does, with `Z` for a zero
    /// offset (what Opik's SDK sends): 6 fraction digits, none when µs = 0.
    pub fn format(self) -> String {
        let mut s = String::with_capacity(32);
        self.write(&mut s);
        s
    }

    /// The formatted instant in a stack buffer: `(bytes, length)`.
    pub fn format_bytes(self) -> ([u8; 40], usize) {
        let local = self.micros + i64::from(self.offset) * MICROS_PER_SEC;
        let secs = local.div_euclid(MICROS_PER_SEC);
        let us = local.rem_euclid(MICROS_PER_SEC);
        let days = secs.div_euclid(86_400);
        let sod = secs.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        let mut b = [0u8; 40];
        let mut n = 0;
        fn put(b: &mut [u8; 40], n: &mut usize, v: i64, width: usize) {
            let mut v = v.unsigned_abs();
            for k in (0..width).rev() {
                b[*n + k] = b'0' + (v % 10) as u8;
                v /= 10;
            }
            *n += width;
        }
        fn ch(b: &mut [u8; 40], n: &mut usize, c: u8) {
            b[*n] = c;
            *n += 1;
        }
        put(&mut b, &mut n, y, 4);
        ch(&mut b, &mut n, b'-');
        put(&mut b, &mut n, m, 2);
        ch(&mut b, &mut n, b'-');
        put(&mut b, &mut n, d, 2);
        ch(&mut b, &mut n, b'T');
        put(&mut b, &mut n, sod / 3600, 2);
        ch(&mut b, &mut n, b':');
        put(&mut b, &mut n, (sod / 60) % 60, 2);
        ch(&mut b, &mut n, b':');
        put(&mut b, &mut n, sod % 60, 2);
        if us != 0 {
            ch(&mut b, &mut n, b'.');
            put(&mut b, &mut n, us, 6);
        }
        if self.offset == 0 {
            ch(&mut b, &mut n, b'Z');
        } else {
            ch(&mut b, &mut n, if self.offset < 0 { b'-' } else { b'+' });
            let a = i64::from(self.offset.unsigned_abs());
            put(&mut b, &mut n, a / 3600, 2);
            ch(&mut b, &mut n, b':');
            put(&mut b, &mut n, (a / 60) % 60, 2);
            if a % 60 != 0 {
                ch(&mut b, &mut n, b':');
                put(&mut b, &mut n, a % 60, 2);
            }
        }
        (b, n)
    }

    /// Appends the formatted instant to `out`.
    pub fn write(self, out: &mut String) {
        let (b, n) = self.format_bytes();
        out.push_str(std::str::from_utf8(&b[..n]).unwrap_or_default());
    }
}

/// Parses an ISO-8601 datetime as Dify writes it (and pydantic reads it):
/// `YYYY-MM-DD[T| ]HH:MM[:SS[.f{1,9}]][Z|±HH:MM|±HHMM]`, or a bare date.
/// Fraction digits past the sixth are cut, as pydantic does. A value without
/// an offset is taken to be at `naive_offset` seconds from UTC.
pub fn parse(s: &str, naive_offset: i32) -> Result<Time, BadTime> {
    let b = s.as_bytes();
    let mut p = Cursor { b, i: 0 };
    let year = p.digits(4)?;
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) || year < 1 {
        return Err(BadTime);
    }
    let (mut hour, mut minute, mut second, mut micros) = (0, 0, 0, 0i64);
    let mut offset = None;
    if p.i < b.len() {
        match b[p.i] {
            b'T' | b't' | b' ' => p.i += 1,
            _ => return Err(BadTime),
        }
        hour = p.digits(2)?;
        p.expect(b':')?;
        minute = p.digits(2)?;
        if p.peek() == Some(b':') {
            p.i += 1;
            second = p.digits(2)?;
            if matches!(p.peek(), Some(b'.') | Some(b',')) {
                p.i += 1;
                let start = p.i;
                while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                    p.i += 1;
                }
                let n = p.i - start;
                if n == 0 || n > 9 {
                    return Err(BadTime);
                }
                let frac = &b[start..p.i];
                for k in 0..6 {
                    micros = micros * 10 + frac.get(k).map_or(0, |c| i64::from(c - b'0'));
                }
            }
        }
        if hour > 23 || minute > 59 || second > 59 {
            return Err(BadTime);
        }
        match p.peek() {
            None => {}
            Some(b'Z') | Some(b'z') => {
                p.i += 1;
                offset = Some(0);
            }
            Some(c @ (b'+' | b'-')) => {
                p.i += 1;
                let oh = p.digits(2)?;
                if p.peek() == Some(b':') {
                    p.i += 1;
                }
                let om = p.digits(2)?;
                if oh > 23 || om > 59 {
                    return Err(BadTime);
                }
                let v = (oh * 3600 + om * 60) as i32;
                offset = Some(if c == b'-' { -v } else { v });
            }
            Some(_) => return Err(BadTime),
        }
    }
    if p.i != b.len() {
        return Err(BadTime);
    }
    let offset = offset.unwrap_or(naive_offset);
    let days = days_from_civil(year, month, day);
    let local = (days * 86_400 + hour * 3600 + minute * 60 + second) * MICROS_PER_SEC + micros;
    let utc = local - i64::from(offset) * MICROS_PER_SEC;
    if !(MIN_MICROS..=MAX_MICROS).contains(&utc) {
        return Err(BadTime);
    }
    Ok(Time {
        micros: utc,
        offset,
    })
}

/// Parses a UTC offset written `Z`, `±HH:MM` or `±HHMM` into seconds.
pub fn parse_offset(s: &str) -> Result<i32, BadTime> {
    if s == "Z" || s == "z" {
        return Ok(0);
    }
    let t = parse(&format!("2000-01-01T00:00:00{s}"), i32::MIN)?;
    if t.offset == i32::MIN {
        return Err(BadTime);
    }
    Ok(t.offset)
}

/// Converts seconds as a float into whole microseconds, rounding half to
/// even as Python's `timedelta(seconds=x)` does; `None` when not finite or
/// out of range.
pub fn seconds_to_micros(x: f64) -> Option<i64> {
    let us = (x * 1e6).round_ties_even();
    if !us.is_finite() || us.abs() > 1e17 {
        return None;
    }
    Some(us as i64)
}

struct Cursor<'b> {
    b: &'b [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), BadTime> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(BadTime)
        }
    }
    fn digits(&mut self, n: usize) -> Result<i64, BadTime> {
        let mut v = 0i64;
        for _ in 0..n {
            match self.peek() {
                Some(c) if c.is_ascii_digit() => {
                    v = v * 10 + i64::from(c - b'0');
                    self.i += 1;
                }
                _ => return Err(BadTime),
            }
        }
        Ok(v)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt(s: &str) -> String {
        parse(s, 0).unwrap().format()
    }

    #[test]
    fn formats_like_python_isoformat_with_z() {
        assert_eq!(
            rt("2025-06-10T08:15:30.123456"),
            "2025-06-10T08:15:30.123456Z"
        );
        assert_eq!(rt("2025-06-12T01:02:03"), "2025-06-12T01:02:03Z");
        assert_eq!(rt("2025-06-12T01:02:03.000000"), "2025-06-12T01:02:03Z");
        assert_eq!(rt("2025-06-10T11:30:04.5"), "2025-06-10T11:30:04.500000Z");
        assert_eq!(
            rt("2025-06-10T12:00:05.000001"),
            "2025-06-10T12:00:05.000001Z"
        );
        assert_eq!(
            rt("2025-06-11T23:59:59.999999"),
            "2025-06-11T23:59:59.999999Z"
        );
    }

    #[test]
    fn offsets_are_kept_and_z_and_plus_zero_are_the_same_instant() {
        assert_eq!(rt("2025-06-10T12:00:01+00:00"), "2025-06-10T12:00:01Z");
        assert_eq!(rt("2025-06-10T12:00:01Z"), "2025-06-10T12:00:01Z");
        assert_eq!(rt("2025-06-10T12:00:01-00:00"), "2025-06-10T12:00:01Z");
        let a = parse("2025-06-10T17:30:01+05:30", 0).unwrap();
        assert_eq!(a.format(), "2025-06-10T17:30:01+05:30");
        assert_eq!(a.to_utc().format(), "2025-06-10T12:00:01Z");
        assert_eq!(parse("2025-06-10T17:30:01+0530", 0).unwrap(), a);
        let b = parse("2025-06-09T23:00:00-08:00", 0).unwrap();
        assert_eq!(b.to_utc().format(), "2025-06-10T07:00:00Z");
    }

    #[test]
    fn naive_times_take_the_configured_offset() {
        let t = parse("2025-06-10T09:00:00.5", 8 * 3600).unwrap();
        assert_eq!(t.format(), "2025-06-10T09:00:00.500000+08:00");
        assert_eq!(t.to_utc().format(), "2025-06-10T01:00:00.500000Z");
    }

    #[test]
    fn fraction_digits_from_one_to_nine_are_truncated_to_micros() {
        assert_eq!(rt("2025-06-10T08:15:30.1"), "2025-06-10T08:15:30.100000Z");
        assert_eq!(
            rt("2025-06-10T08:15:30.123456789"),
            "2025-06-10T08:15:30.123456Z"
        );
        assert_eq!(
            rt("2025-06-10T08:15:30.9999999Z"),
            "2025-06-10T08:15:30.999999Z"
        );
        assert!(parse("2025-06-10T08:15:30.1234567890", 0).is_err());
        assert!(parse("2025-06-10T08:15:30.", 0).is_err());
    }

    #[test]
    fn epoch_values_match_python_timestamps() {
        assert_eq!(parse("1970-01-01T00:00:00", 0).unwrap().micros, 0);
        assert_eq!(
            parse("2025-06-10T08:15:30.123456", 0).unwrap().millis(),
            1_749_543_330_123
        );
        assert_eq!(
            parse("2025-06-10T08:15:30.123456+08:00", 0)
                .unwrap()
                .millis(),
            1_749_543_330_123 - 8 * 3_600_000
        );
    }

    #[test]
    fn year_boundaries_and_leap_days() {
        assert_eq!(
            rt("2024-12-31T23:59:59.999999"),
            "2024-12-31T23:59:59.999999Z"
        );
        let t = parse("2024-12-31T23:59:59.999999", 0).unwrap();
        assert_eq!(t.plus_micros(1).unwrap().format(), "2025-01-01T00:00:00Z");
        assert_eq!(rt("2024-02-29T12:00:00"), "2024-02-29T12:00:00Z");
        assert_eq!(rt("2000-02-29T00:00:00"), "2000-02-29T00:00:00Z");
        assert!(parse("2025-02-29T00:00:00", 0).is_err());
        assert!(parse("1900-02-29T00:00:00", 0).is_err());
        let l = parse("2024-02-28T23:00:00", 0).unwrap();
        assert_eq!(
            l.plus_micros(3_600_000_000).unwrap().format(),
            "2024-02-29T00:00:00Z"
        );
        assert_eq!(rt("0001-01-01T00:00:00"), "0001-01-01T00:00:00Z");
        assert_eq!(
            rt("9999-12-31T23:59:59.999999"),
            "9999-12-31T23:59:59.999999Z"
        );
        assert!(parse("9999-12-31T23:59:59.999999", 0)
            .unwrap()
            .plus_micros(1)
            .is_none());
        assert!(parse("9999-12-31T23:00:00-05:00", 0).is_err());
    }

    #[test]
    fn accepts_pydantic_variants_and_rejects_garbage() {
        assert_eq!(rt("2025-06-10 08:15:30"), "2025-06-10T08:15:30Z");
        assert_eq!(rt("2025-06-10t08:15:30z"), "2025-06-10T08:15:30Z");
        assert_eq!(rt("2025-06-10T08:15"), "2025-06-10T08:15:00Z");
        assert_eq!(rt("2025-06-10"), "2025-06-10T00:00:00Z");
        for bad in [
            "",
            "2025-6-10",
            "2025-06-10T24:00:00",
            "2025-06-10T08:60:00",
            "2025-13-01T00:00:00",
            "2025-06-10T08:15:30+05",
            "2025-06-10T08:15:30 UTC",
            "not a date",
            "2025-06-10T08:15:30+24:00",
            "２０２５-06-10",
        ] {
            assert!(parse(bad, 0).is_err(), "{bad}");
        }
    }

    #[test]
    fn timedelta_rounding_is_half_even() {
        assert_eq!(seconds_to_micros(0.35), Some(350_000));
        assert_eq!(seconds_to_micros(2.5), Some(2_500_000));
        assert_eq!(seconds_to_micros(0.0000005), Some(0));
        assert_eq!(seconds_to_micros(0.0000015), Some(2));
        assert_eq!(seconds_to_micros(f64::NAN), None);
        assert_eq!(seconds_to_micros(1e300), None);
    }

    #[test]
    fn offsets_parse() {
        assert_eq!(parse_offset("Z"), Ok(0));
        assert_eq!(parse_offset("+08:00"), Ok(28_800));
        assert_eq!(parse_offset("-0530"), Ok(-19_800));
        assert!(parse_offset("8").is_err());
    }
}
