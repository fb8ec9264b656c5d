//! The decimal parser (src/decimal.rs) against the standard library's: the
//! same `f64`, bit for bit, for every text (finite results only: the parser
//! returns `None` for infinities and NaN, which the mapping never keeps).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Half the inputs as they are; the other half spelled with the characters
    // of a number only, so that most of them are numbers, long ones included.
    let text = match data.split_first() {
        Some((&k, rest)) if k & 1 == 1 => rest
            .iter()
            .map(|&b| char::from(b"0123456789012345678901234.e-+"[usize::from(b) % 29]))
            .collect(),
        _ => String::from_utf8_lossy(data).into_owned(),
    };
    let ours = dify_opik::decimal::parse_f64(&text);
    let std = text.parse::<f64>().ok().filter(|f| f.is_finite());
    assert_eq!(
        ours.map(f64::to_bits),
        std.map(f64::to_bits),
        "{text:?}: {ours:?} against {std:?}"
    );
});
