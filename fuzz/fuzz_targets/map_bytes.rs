//! Arbitrary bytes as the input text (the first bytes choose the options):
//! any input gives a result or a structured error, never a panic.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.len().min(8);
    let mut u = Unstructured::new(&data[..split]);
    let Ok(opts) = dify_opik_fuzz::options(&mut u) else {
        return;
    };
    let text = String::from_utf8_lossy(&data[split..]);
    dify_opik_fuzz::check(&text, &opts);
});
