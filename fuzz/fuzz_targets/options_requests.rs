//! The other text entry points: options, Opik configuration, limits, and
//! requests built from a mapping result given as JSON text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // Four parts separated by NUL: options, config, limits, result.
    let mut parts = text.splitn(4, '\0');
    let (o, c, l, r) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    let _ = dify_opik::options_from_json(o);
    dify_opik_fuzz::assert_json(&dify_opik::config::validate_json(c), "config report");
    let _ = dify_opik::requests::limits_from_json(l);
    let config = if c.trim().is_empty() {
        r#"{"url":"http://127.0.0.1:5173/api/"}"#
    } else {
        c
    };
    if let Ok(out) = dify_opik::requests::build_json(r, config, l) {
        dify_opik_fuzz::assert_json(&out, "requests");
    }
});
