//! Structure-aware: Dify trace tasks of every type, built from fuzz data
//! with plausible, odd and arbitrary values in every field.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(opts) = dify_opik_fuzz::options(&mut u) else {
        return;
    };
    let Ok(text) = dify_opik_fuzz::Gen::new(&mut u).input() else {
        return;
    };
    dify_opik_fuzz::check(&text, &opts);
});
