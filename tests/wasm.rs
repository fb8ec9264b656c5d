//! The WebAssembly binding, run in Node by wasm-bindgen's test runner
//! (`cargo test --target wasm32-unknown-unknown`; `.cargo/config.toml` sets
//! the runner, `scripts/tools.sh` installs it).
//!
//! The binding's source (`src/wasm.rs`) is compiled into this test crate as a
//! plain module: its `#[wasm_bindgen]` attributes are `cfg_attr(not(test))`,
//! so the functions stay callable from Rust here while the library keeps the
//! JS exports. Results are read back into Rust types; thrown errors are read
//! back as JS `Error` objects.
#![cfg(target_arch = "wasm32")]

use serde::Deserialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;

// The crate-root names `src/wasm.rs` refers to as `crate::…`.
#[allow(unused_imports)]
use dify_opik::{
    config, map, map_each_json, map_json, map_json_pieces, options_from_json, requests, utf16,
    write, Error, ErrorCode, Options, VERSION,
};

// Unused functions of the module are allowed by its own `cfg_attr(test)`.
#[path = "../src/wasm.rs"]
mod binding;

// ---------------------------------------------------------------------------
// Output types, strict: an unknown field fails the read.

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct OpikErrorInfo {
    exception_type: String,
    message: String,
    traceback: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Trace {
    id: String,
    project_name: String,
    name: Option<String>,
    start_time: Option<String>,
    end_time: Option<String>,
    input: Option<Value>,
    output: Option<Value>,
    metadata: Option<Value>,
    tags: Vec<String>,
    error_info: Option<OpikErrorInfo>,
    ttft: Option<f64>,
    thread_id: Option<String>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Span {
    id: String,
    project_name: String,
    trace_id: String,
    parent_span_id: Option<String>,
    name: Option<String>,
    #[serde(rename = "type")]
    kind: String,
    start_time: Option<String>,
    end_time: Option<String>,
    input: Option<Value>,
    output: Option<Value>,
    metadata: Option<Value>,
    model: Option<String>,
    provider: Option<String>,
    tags: Vec<String>,
    usage: Option<std::collections::BTreeMap<String, i32>>,
    total_estimated_cost: Option<f64>,
    error_info: Option<OpikErrorInfo>,
    ttft: Option<f64>,
}

#[derive(Deserialize, Debug, PartialEq)]
#[serde(deny_unknown_fields)]
struct Problem {
    code: String,
    message: String,
    path: String,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct MapResult {
    traces: Vec<Trace>,
    spans: Vec<Span>,
    warnings: Vec<Problem>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct BatchResult {
    traces: Vec<Trace>,
    spans: Vec<Span>,
    #[allow(dead_code)]
    warnings: Vec<Problem>,
    errors: Vec<Problem>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Request {
    method: String,
    url: String,
    headers: std::collections::BTreeMap<String, String>,
    body: String,
    kind: String,
    count: usize,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct Requests {
    requests: Vec<Request>,
    warnings: Vec<Problem>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ConfigReport {
    ok: bool,
    target: String,
    url: String,
    workspace: String,
    project: String,
    has_api_key: bool,
    problems: Vec<Problem>,
}

// ---------------------------------------------------------------------------
// Helpers

/// The options the golden fixtures were recorded with.
const REFERENCE: &str = r#"{"profile":"reference","project":"dify-project","files_url":"http://127.0.0.1:5001","now":"2025-11-24T16:00:00Z"}"#;

fn opts(json: &str) -> Option<String> {
    Some(json.to_owned())
}

fn read<T: for<'de> Deserialize<'de>>(text: &str) -> T {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// (name, message, code, path) of a thrown error.
fn thrown(e: js_sys::Error) -> (String, String, String, String) {
    let v: &JsValue = e.as_ref();
    let prop = |k: &str| {
        js_sys::Reflect::get(v, &JsValue::from_str(k))
            .ok()
            .and_then(|x| x.as_string())
            .unwrap_or_else(|| panic!("the error has no string `{k}`"))
    };
    assert!(v.is_instance_of::<js_sys::Error>());
    (
        String::from(e.name()),
        String::from(e.message()),
        prop("code"),
        prop("path"),
    )
}

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        &[$((
            $name,
            include_str!(concat!("../../shared/reference/fixtures/", $name, ".json")),
            include_str!(concat!("../../shared/reference/fixtures/", $name, ".expected.json")),
        )),*]
    };
}

/// Every golden fixture: (name, input, expected).
const FIXTURES: &[(&str, &str, &str)] = fixtures![
    "dataset_retrieval",
    "dataset_retrieval_empty_docs_null_times",
    "empty_trace_info_dict",
    "generate_name",
    "generate_name_with_trace_id",
    "message_agent_account_file_list",
    "message_chat_end_user",
    "message_null_message_data",
    "moderation",
    "moderation_null_times",
    "prompt_generation_unhandled",
    "suggested_question",
    "tool",
    "tool_aware_utc_times",
    "workflow_basic",
    "workflow_chatflow_with_message",
    "workflow_external_trace_id_edge_nodes",
    "workflow_missing_app_id_null_end_time",
    "workflow_non_uuid_external_trace_id",
];

/// Compares with a golden value (linked-profile.md §2.1): `<nondeterministic>`
/// matches anything; `last_updated_at` and `source` (SDK-added) are skipped
/// at the top of each object; numbers compare as numbers.
fn same(actual: &Value, golden: &Value, path: &str, top: bool) -> Result<(), String> {
    match (actual, golden) {
        (_, Value::String(g)) if g == "<nondeterministic>" => Ok(()),
        (Value::Object(a), Value::Object(g)) => {
            let skip = |k: &String| top && (k == "last_updated_at" || k == "source");
            let ak: Vec<&String> = a.keys().filter(|k| !skip(k)).collect();
            let gk: Vec<&String> = g.keys().filter(|k| !skip(k)).collect();
            let (mut sa, mut sg) = (ak.clone(), gk.clone());
            sa.sort();
            sg.sort();
            if sa != sg {
                return Err(format!("{path}: keys {ak:?} != golden {gk:?}"));
            }
            for k in gk {
                same(&a[k], &g[k], &format!("{path}/{k}"), false)?;
            }
            Ok(())
        }
        (Value::Array(a), Value::Array(g)) if a.len() == g.len() => a
            .iter()
            .zip(g)
            .enumerate()
            .try_for_each(|(i, (x, y))| same(x, y, &format!("{path}/{i}"), top)),
        (Value::Number(a), Value::Number(g)) if a.as_f64() == g.as_f64() => Ok(()),
        (a, g) if a == g => Ok(()),
        (a, g) => Err(format!("{path}: {a} != golden {g}")),
    }
}

// ---------------------------------------------------------------------------
// Tests

#[wasm_bindgen_test]
fn every_golden_fixture_maps_in_wasm_as_the_reference_did() {
    let mut failures = Vec::new();
    for (name, input, expected) in FIXTURES {
        let golden: Value = read(expected);
        let want_error = !golden["reference_error"].is_null();
        match binding::map_json(input, opts(REFERENCE)) {
            Err(e) => {
                let (n, _, code, _) = thrown(e);
                assert_eq!(n, "DifyOpikError");
                if !want_error {
                    failures.push(format!("{name}: unexpected error {code}"));
                }
            }
            Ok(text) => {
                let typed: MapResult = read(&text);
                if want_error {
                    failures.push(format!("{name}: expected an error"));
                    continue;
                }
                let actual: Value = read(&text);
                for key in ["traces", "spans"] {
                    // The objects of these arrays are the top-level ones.
                    if let Err(d) = same(&actual[key], &golden[key], key, true) {
                        failures.push(format!("{name}: {d}"));
                    }
                }
                for s in &typed.spans {
                    assert!(
                        ["general", "tool", "llm", "guardrail"].contains(&s.kind.as_str()),
                        "{name}: span type {}",
                        s.kind
                    );
                    assert!(typed.traces.iter().all(|t| t.id.len() == 36));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[wasm_bindgen_test]
fn the_binding_gives_what_the_core_gives() {
    let o = options_from_json(REFERENCE).unwrap();
    for (name, input, _) in FIXTURES {
        let core = map_json(input, &o).map_err(|e| e.code.as_str());
        let wasm = binding::map_json(input, opts(REFERENCE)).map_err(|e| thrown(e).2);
        match (&core, &wasm) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{name}"),
            (Err(a), Err(b)) => assert_eq!(a, b, "{name}"),
            _ => panic!("{name}: core {core:?} but binding {wasm:?}"),
        }
    }
}

#[wasm_bindgen_test]
fn errors_are_js_errors_with_code_and_path() {
    let (name, message, code, path) = thrown(binding::map_json("{bad", None).unwrap_err());
    assert_eq!(
        (name.as_str(), code.as_str(), path.as_str()),
        ("DifyOpikError", "invalid_json", "")
    );
    assert!(!message.is_empty());

    let bad_uuid = FIXTURES
        .iter()
        .find(|f| f.0 == "workflow_non_uuid_external_trace_id")
        .unwrap()
        .1;
    let (_, _, code, path) = thrown(binding::map_json(bad_uuid, opts(REFERENCE)).unwrap_err());
    assert_eq!(code, "invalid_uuid");
    assert!(path.starts_with("/trace_info/"), "{path}");

    let (_, _, code, path) =
        thrown(binding::map_json("{}", opts(r#"{"profile":"nope"}"#)).unwrap_err());
    assert_eq!(
        (code.as_str(), path.as_str()),
        ("invalid_option", "/options/profile")
    );

    let (_, message, code, _) = thrown(binding::map_bytes(&[b'{', 0xff, b'}'], None).unwrap_err());
    assert_eq!(code, "invalid_json");
    assert!(message.contains("UTF-8"), "{message}");
    // A cut sequence after a long valid run (past the SIMD blocks) is found
    // at its offset; the same bytes whole are fine.
    let mut bytes = format!("{{\"a\":\"{}\u{20ac}", "x".repeat(70)).into_bytes();
    let cut = bytes.len() - 1;
    bytes.truncate(cut);
    bytes.extend_from_slice(b"\"}");
    let (_, message, _, _) = thrown(binding::map_bytes(&bytes, None).unwrap_err());
    assert!(
        message.contains(&format!("offset {}", cut - 2)),
        "{message}"
    );
}

#[wasm_bindgen_test]
fn now_comes_from_the_host_clock_unless_given() {
    // The fixture's events are from June 2025. With `now` near them, no id is
    // outside Opik Cloud's 24 h window; with the host clock (later than
    // 2025-06-11), every id is.
    let input = FIXTURES.iter().find(|f| f.0 == "tool").unwrap().1;
    let window = |options: &str| -> usize {
        let r: MapResult = read(&binding::map_json(input, opts(options)).unwrap());
        r.warnings
            .iter()
            .filter(|w| w.code == "id_outside_window")
            .count()
    };
    assert_eq!(window(r#"{"now":"2025-06-10T13:00:00Z"}"#), 0);
    assert!(js_sys::Date::now() > 1_749_600_000_000.0);
    assert!(window("{}") > 0);
    assert!(window(r#"{"now":null}"#) > 0);
}

#[wasm_bindgen_test]
fn a_thousand_bad_inputs_then_a_good_one() {
    let good = FIXTURES.iter().find(|f| f.0 == "workflow_basic").unwrap().1;
    let bad: Vec<String> = (0..1000)
        .map(|i| match i % 8 {
            0 => good[..i % good.len()].to_owned(),
            1 => "[".repeat(i + 1),
            2 => format!("{{\"trace_info_type\":{i},\"trace_info\":[{i}]}}"),
            3 => good.replacen("2025", &"9".repeat(i % 40 + 1), 1),
            4 => good.replace(':', ",").chars().take(i * 7).collect(),
            5 => format!("\"{}\"", "\\u".repeat(i % 50)),
            6 => good.replacen("{", "{\"trace_info\":null,", i % 5 + 1),
            _ => String::from_utf8_lossy(&vec![0xc3; i % 9 + 1]).into_owned(),
        })
        .collect();
    let mut thrown_count = 0;
    for b in &bad {
        if let Err(e) = binding::map_json(b, opts(REFERENCE)) {
            thrown(e);
            thrown_count += 1;
        }
        let _ = binding::map_each_json(b, None);
        let _ = binding::map_bytes(b.as_bytes(), None);
    }
    // A duplicated `trace_info` key keeps its last value, as Python's json
    // module does, so the inputs of kind 6 map; all the others must fail.
    assert!(thrown_count >= 850, "only {thrown_count} of 1000 failed");
    let r: MapResult = read(&binding::map_json(good, opts(REFERENCE)).unwrap());
    assert_eq!((r.traces.len(), r.spans.len()), (1, 5));
}

#[wasm_bindgen_test]
fn map_each_lists_failing_tasks() {
    let tool = FIXTURES.iter().find(|f| f.0 == "tool").unwrap().1;
    let input =
        format!("[{tool}, {{\"trace_info_type\":\"ToolTraceInfo\",\"trace_info\":7}}, {tool}]");
    let r: BatchResult = read(&binding::map_each_json(&input, None).unwrap());
    assert_eq!(r.spans.len(), 2);
    assert!(r.traces.len() <= 2);
    assert_eq!(r.errors.len(), 1);
    assert!(r.errors[0].path.starts_with("/1"), "{:?}", r.errors);
}

/// A sink as the package's wrapper makes one: each piece is read out of wasm
/// memory at once (ASCII bytes for `n > 0`, UTF-16 units for `n < 0`) and
/// appended to `globalThis.sunk`; `globalThis.pieces` counts them.
fn sink() -> binding::PieceSink {
    let global = js_sys::global();
    let _ = js_sys::Reflect::set(&global, &"wasmMemory".into(), &wasm_bindgen::memory());
    let _ = js_sys::Reflect::set(&global, &"sunk".into(), &"".into());
    let _ = js_sys::Reflect::set(&global, &"pieces".into(), &0.into());
    js_sys::Function::new_with_args(
        "at, n",
        "const b = globalThis.wasmMemory.buffer;
         const v = n > 0 ? new Uint8Array(b, at, n) : new Uint16Array(b, at, -n);
         let s = '';
         for (let i = 0; i < v.length; i += 4096) s += String.fromCharCode(...v.subarray(i, i + 4096));
         globalThis.sunk += s;
         globalThis.pieces += 1;",
    )
    .unchecked_into()
}

/// What [`sink`] gathered: the text and the number of pieces.
fn sunk() -> (String, f64) {
    let global = js_sys::global();
    let text = js_sys::Reflect::get(&global, &"sunk".into()).unwrap();
    let pieces = js_sys::Reflect::get(&global, &"pieces".into()).unwrap();
    (text.as_string().unwrap(), pieces.as_f64().unwrap())
}

#[wasm_bindgen_test]
fn the_byte_buffer_path() {
    let input = FIXTURES.iter().find(|f| f.0 == "workflow_basic").unwrap().1;
    binding::input_buffer(input.len());
    binding::set_input(input.as_bytes());
    let n = binding::run_input(0, input.len(), opts(REFERENCE), None, None, None).unwrap();
    let out = binding::output_text();
    assert_eq!(n, out.len());
    assert_eq!(
        out,
        binding::map_json(input, opts(REFERENCE)).unwrap(),
        "same result as the string entry point"
    );

    // Every operation through a sink: the same text, in pieces, none of it
    // kept at `outputPtr()`. Long titles in every script make the mapping's
    // output run to many pieces, ASCII and not.
    let title = "Wörk 工作流 🚀 ".repeat(4000);
    let text = input.replace("\"title\": \"", &format!("\"title\": \"{title}"));
    binding::set_input(text.as_bytes());
    for op in [0, 1] {
        let n = binding::run_input(op, text.len(), opts(REFERENCE), None, None, None).unwrap();
        let whole = binding::output_text();
        assert_eq!(n, whole.len());
        let s = sink();
        let m = binding::run_input(op, text.len(), opts(REFERENCE), None, None, Some(s)).unwrap();
        let (got, pieces) = sunk();
        assert_eq!(m, whole.len(), "op {op}");
        assert!(got == whole, "op {op}: the pieces join to the whole output");
        assert!(pieces > 4.0, "op {op}: {pieces} pieces");
        assert_eq!(binding::output_text(), "", "op {op}: nothing kept");
    }
    let mapped = binding::map_json(&text, opts(REFERENCE)).unwrap();
    let config = r#"{"url":"http://127.0.0.1:9/api","workspace":"w","api_key":"k"}"#.to_owned();
    binding::set_input(mapped.as_bytes());
    let n = binding::run_input(2, mapped.len(), Some(config.clone()), None, None, None).unwrap();
    let whole = binding::output_text();
    assert_eq!(n, whole.len());
    // Requests are not written in pieces: the sink is not called.
    let m = binding::run_input(2, mapped.len(), Some(config), None, None, Some(sink())).unwrap();
    assert_eq!((m, sunk()), (n, (String::new(), 0.0)));
    assert!(binding::output_text() == whole);

    // A sink that throws: a structured error, and the instance goes on.
    binding::set_input(text.as_bytes());
    let bad = js_sys::Function::new_with_args("at, n", "throw new Error('full')").unchecked_into();
    let (_, _, code, _) = thrown(
        binding::run_input(0, text.len(), opts(REFERENCE), None, None, Some(bad)).unwrap_err(),
    );
    assert_eq!(code, "too_large");
    binding::run_input(0, text.len(), opts(REFERENCE), None, None, Some(sink())).unwrap();
    assert!(sunk().0 == mapped);

    // Memory that cannot grow is reported, not a panic (an abort).
    assert_eq!(binding::input_buffer(usize::MAX), 0);
    // A length past the buffer and an unknown operation are errors, not panics.
    let (_, _, code, _) =
        thrown(binding::run_input(0, usize::MAX, None, None, None, None).unwrap_err());
    assert_eq!(code, "invalid_option");
    let (_, _, code, _) = thrown(binding::run_input(9, 1, None, None, None, None).unwrap_err());
    assert_eq!(code, "invalid_option");
    binding::release_output();
    assert_eq!(binding::output_text(), "");
}

/// The UTF-16 piece buffer is kept from call to call at the size it was
/// made with: it used to be reserved from its length (the last call's last
/// piece still in it), so it grew again at the second call, among the mapping's
/// objects, and wasm memory grew with it.
#[wasm_bindgen_test]
fn the_utf16_piece_buffer_keeps_its_size() {
    let base = FIXTURES.iter().find(|f| f.0 == "workflow_basic").unwrap().1;
    // Enough characters above U+00FF that the output keeps them (is not
    // narrow), as a Chinese or Russian workflow would.
    let wide = format!("Wörk {}", "工作流".repeat(30));
    let input = base.replace("\"title\": \"", &format!("\"title\": \"{wide} "));
    assert!(!binding::narrow_output(&input));
    binding::set_input(input.as_bytes());
    let mut sizes = Vec::new();
    for _ in 0..3 {
        binding::run_input(0, input.len(), opts(REFERENCE), None, None, Some(sink())).unwrap();
        assert!(sunk().0.contains(&wide), "non-ASCII pieces were passed");
        sizes.push(binding::output16_capacity());
    }
    assert!(sizes[0] >= write::PIECE, "{sizes:?}");
    assert_eq!(sizes, [sizes[0]; 3]);
}

#[wasm_bindgen_test]
fn staged_utf16_input_is_the_encoded_text() {
    let base = FIXTURES.iter().find(|f| f.0 == "workflow_basic").unwrap().1;
    let input = base.replace("\"title\": \"", "\"title\": \"Ünïcödé — 漢字 😀 ");
    let units: Vec<u16> = input.encode_utf16().collect();
    binding::set_input(b"");
    let expected = binding::map_json(&input, opts(REFERENCE)).unwrap();
    // Pieces of several sizes, none splitting a surrogate pair (the wrapper
    // never does).
    for piece in [1usize, 7, 16, 17, 100, units.len()] {
        let (mut from, mut len) = (0, 0);
        while from < units.len() {
            let mut to = (from + piece).min(units.len());
            if to < units.len() && (units[to - 1] & 0xfc00) == 0xd800 {
                to += 1;
            }
            assert!(binding::stage_buffer(to - from) != 0);
            binding::set_stage(&units[from..to]);
            len = binding::stage_input(len, to - from);
            assert!(len > 0, "piece {piece} at {from}");
            from = to;
        }
        assert_eq!(len, input.len(), "piece {piece}");
        assert_eq!(binding::input_bytes(len), input.as_bytes(), "piece {piece}");
        binding::run_input(0, len, opts(REFERENCE), None, None, None).unwrap();
        assert_eq!(binding::output_text(), expected, "piece {piece}");
    }
    // A lone surrogate becomes U+FFFD, as with TextEncoder.
    binding::stage_buffer(3);
    binding::set_stage(&[0x61, 0xd83d, 0x62]);
    assert_eq!(binding::stage_input(0, 3), 5);
    assert_eq!(binding::input_bytes(5), "a\u{fffd}b".as_bytes());
    // More units than the staging buffer holds, or an offset that
    // overflows: 0, not a panic.
    assert_eq!(binding::stage_input(0, usize::MAX), 0);
    assert_eq!(binding::stage_input(usize::MAX, 1), 0);
    assert_eq!(binding::stage_buffer(usize::MAX), 0);
}

/// Staged pieces wider than the input buffer's first guess make it grow a
/// few times, not at every piece (each growth copies all that came before,
/// and leaves the old buffer's space behind in wasm memory).
#[wasm_bindgen_test]
fn the_input_buffer_grows_seldom_while_pieces_are_staged() {
    // Start from a buffer as small as the Node entry's first guess allows.
    binding::set_input(b"");
    let piece: Vec<u16> = "путешествие ".encode_utf16().cycle().take(1000).collect();
    let total = 60 * piece.len();
    binding::input_buffer(total + total / 64);
    let start = binding::input_capacity();
    let (mut len, mut grew, mut last) = (0, 0, start);
    assert!(binding::stage_buffer(piece.len()) != 0);
    for _ in 0..60 {
        binding::set_stage(&piece);
        len = binding::stage_input(len, piece.len());
        assert!(len > 0);
        let cap = binding::input_capacity();
        grew += usize::from(cap != last);
        last = cap;
    }
    assert_eq!(len, 60 * String::from_utf16(&piece).unwrap().len());
    assert!(
        grew <= 3,
        "the buffer grew {grew} times ({start} to {last} bytes)"
    );
}

/// `runInput` skips the UTF-8 check only on exactly the bytes `stageInput`
/// wrote since the host last had the buffer's address: anything else is
/// checked, and bad bytes are an error, never text.
#[wasm_bindgen_test]
fn staged_input_is_checked_unless_the_wasm_wrote_all_of_it() {
    let stage = |at: usize, units: &[u16]| {
        assert!(binding::stage_buffer(units.len()) != 0);
        binding::set_stage(units);
        binding::stage_input(at, units.len())
    };
    let utf8_error = |len: usize| {
        let (_, message, code, _) =
            thrown(binding::run_input(0, len, None, None, None, None).unwrap_err());
        assert_eq!(code, "invalid_json", "{message}");
        assert!(message.contains("UTF-8"), "{message}");
    };
    let e_acute = [0xe9u16];
    // The host gets the address after staging and writes a bad byte.
    binding::set_input(b"");
    assert_eq!(stage(0, &"[1]".encode_utf16().collect::<Vec<_>>()), 3);
    let ptr = binding::input_buffer(3);
    // SAFETY: `input_buffer(3)` returned the address of at least three
    // writable bytes of the input buffer.
    unsafe { *(ptr as *mut u8).add(1) = 0xff };
    utf8_error(3);
    // A piece that starts inside the last character.
    binding::set_input(b"");
    assert_eq!(stage(0, &e_acute), 2);
    assert_eq!(stage(1, &[0x61]), 2);
    assert_eq!(binding::input_bytes(2), [0xc3, 0x61]);
    utf8_error(2);
    // A length that cuts the staged text inside a character.
    binding::set_input(b"");
    assert_eq!(stage(0, &e_acute), 2);
    utf8_error(1);
    // Staged pieces that continue each other are read as they are.
    binding::set_input(b"");
    assert_eq!(stage(0, &[0x5b, 0x31]), 2);
    assert_eq!(stage(2, &[0x5d]), 3);
    let (_, message, code, _) =
        thrown(binding::run_input(0, 3, None, None, None, None).unwrap_err());
    assert_ne!(code, "invalid_json", "{message}");
}

#[wasm_bindgen_test]
fn utf16_conversion_matches_std() {
    let cases = [
        "",
        "plain ascii only, longer than eight bytes",
        "é",
        "aé",
        "abcdefgh\u{e9}",
        "工作流",
        "🚀",
        "x🚀y\u{10ffff}z",
        "mixed: Zürich — São Paulo, путешествие, 東京, مرحبا, 👩‍💻 end",
        "\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}\u{10000}",
    ];
    // One buffer for all: each call writes over what the last one left.
    let mut out = Vec::new();
    for s in cases {
        assert_eq!(
            utf16_of(s, &mut out, false),
            s.encode_utf16().collect::<Vec<_>>(),
            "{s:?}"
        );
        assert_eq!(utf16_of(s, &mut out, true), narrow_units(s), "narrow {s:?}");
    }
    // Longer mixed text, from many starts: the random test below.
}

#[wasm_bindgen_test]
fn output_is_narrow_while_characters_above_latin_1_are_rare() {
    // One character above U+00FF (3 bytes) per 128 bytes of input is the
    // most that still escapes; one more, and the characters stay as they are.
    let at = |wide: usize, len: usize| {
        let text = "\u{2014}".repeat(wide);
        format!("{text}{}", "é".repeat((len - text.len()) / 2))
    };
    assert!(binding::narrow_output(&at(8, 1024)));
    assert!(!binding::narrow_output(&at(9, 1024)));
    assert!(binding::narrow_output(&at(0, 0)));
    // Latin-1 characters do not count: V8 keeps them one byte a character.
    assert!(binding::narrow_output(&"é".repeat(500)));
    assert!(!binding::narrow_output(&"東京".repeat(500)));
}

/// The units `utf16_write` writes for `s` into `out`.
fn utf16_of(s: &str, out: &mut Vec<u16>, narrow: bool) -> Vec<u16> {
    let n = binding::utf16_write(s, out, narrow).unwrap();
    assert!(out.len() >= n);
    out[..n].to_vec()
}

/// The narrow UTF-16 of `s`, written plainly: a character above U+00FF as
/// `\u` escapes of its UTF-16 units, the others as they are.
fn narrow_units(s: &str) -> Vec<u16> {
    let mut text = String::new();
    for c in s.chars() {
        if u32::from(c) <= 0xff {
            text.push(c);
        } else {
            for u in c.encode_utf16(&mut [0; 2]) {
                text.push_str(&format!("\\u{:04x}", u));
            }
        }
    }
    text.encode_utf16().collect()
}

/// Text of random characters of every width, in runs and alone: what the
/// SIMD paths of both conversions (src/utf16.rs) meet in mixed scripts.
fn random_text(seed: u32, len: usize) -> String {
    const PICKS: [&str; 12] = [
        "a",
        "word ",
        "x",
        "é",
        "ж",
        "Ω",
        "ب",
        "東",
        "京",
        "—",
        "😀",
        "\u{10ffff}",
    ];
    let mut state = seed;
    (0..len)
        .map(|_| {
            // A linear congruential generator: deterministic and dependency-free.
            state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            PICKS[(state >> 16) as usize % PICKS.len()]
        })
        .collect()
}

#[wasm_bindgen_test]
fn utf16_conversions_of_random_mixed_text_match_std() {
    // One buffer for all, as the binding keeps it: what a longer text left
    // in it must not show through.
    let mut out = Vec::new();
    for seed in 0..300 {
        let text = random_text(seed, (seed as usize * 7) % 200);
        // From several starts: blocks fall on every alignment.
        let start = (seed as usize % 20..text.len())
            .find(|&k| text.is_char_boundary(k))
            .unwrap_or(0);
        let s = &text[start..];
        assert_eq!(
            utf16_of(s, &mut out, true),
            narrow_units(s),
            "narrow, seed {seed}"
        );
        let (at, n) = binding::latin1_write(s, &mut out).unwrap();
        // SAFETY: `latin1_write` wrote `n` bytes at `at`, inside `out`.
        let latin1 = unsafe { std::slice::from_raw_parts(at, n) };
        let widened: Vec<u16> = latin1.iter().map(|&b| u16::from(b)).collect();
        assert_eq!(widened, narrow_units(s), "Latin-1, seed {seed}");
        let wide = s.chars().filter(|&c| u32::from(c) > 0xff).count();
        assert_eq!(utf16::wide_chars(s.as_bytes()), wide, "seed {seed}");
        let ascii_end = s.bytes().position(|b| b >= 0x80).unwrap_or(s.len());
        for end in [ascii_end, ascii_end + 1, s.len()] {
            let b = &s.as_bytes()[..end.min(s.len())];
            assert_eq!(utf16::is_ascii(b), b.is_ascii(), "seed {seed}, {end}");
        }
        let units: Vec<u16> = s.encode_utf16().collect();
        assert_eq!(
            utf16_of(s, &mut out, false),
            units,
            "to UTF-16, seed {seed}"
        );
        let mut bytes = vec![0; units.len() * utf16::MAX_BYTES_PER_UNIT];
        let (read, n) = utf16::encode_utf8(&units, &mut bytes);
        assert_eq!(read, units.len(), "seed {seed}");
        assert_eq!(&bytes[..n], s.as_bytes(), "to UTF-8, seed {seed}");
    }
}

/// UTF-16 to UTF-8 on units of chosen widths in random order, lone
/// surrogates included: each mix leads `utf16::encode_utf8` down one of its
/// block paths (two-byte, three-byte, surrogate fallback) or across them.
#[wasm_bindgen_test]
fn utf16_to_utf8_blocks_of_every_width_match_std() {
    const MIXES: [&[u16]; 5] = [
        &[0x61, 0x20, 0x7f, 0xe9, 0x436, 0x7ff],
        &[0x61, 0x80, 0x800, 0x6771, 0xffff, 0xfffd],
        &[0x41, 0x3a9, 0x628, 0x2014, 0x4eac],
        &[0x61, 0x436, 0x6771, 0xd83d, 0xde00],
        &[0x62, 0x7ff, 0x800, 0xd800, 0xdbff, 0xdc00, 0xdfff],
    ];
    let mut state = 7u32;
    for seed in 0..500 {
        let mix = MIXES[seed % MIXES.len()];
        let len = seed % 97 + seed / 5;
        let units: Vec<u16> = (0..len)
            .map(|_| {
                state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                mix[(state >> 16) as usize % mix.len()]
            })
            .collect();
        let mut bytes = vec![0; units.len() * utf16::MAX_BYTES_PER_UNIT];
        let (read, n) = utf16::encode_utf8(&units, &mut bytes);
        assert_eq!(read, units.len(), "seed {seed}");
        let want = String::from_utf16_lossy(&units);
        assert_eq!(&bytes[..n], want.as_bytes(), "seed {seed}: {units:x?}");
    }
}

#[wasm_bindgen_test]
fn config_and_requests() {
    let report: ConfigReport = read(&binding::validate_config_json(
        r#"{"url":"http://127.0.0.1:5173/api","project":" p "}"#,
    ));
    assert!(report.ok && !report.has_api_key);
    assert_eq!(
        (
            report.target.as_str(),
            report.url.as_str(),
            report.workspace.as_str(),
            report.project.as_str()
        ),
        ("self_hosted", "http://127.0.0.1:5173/api/", "default", "p")
    );
    let report: ConfigReport = read(&binding::validate_config_json("{}"));
    assert!(!report.ok);
    assert_eq!(report.target, "cloud");
    let paths: Vec<&str> = report.problems.iter().map(|p| p.path.as_str()).collect();
    assert_eq!(paths, ["/api_key", "/workspace"]);
    assert!(report.problems.iter().all(|p| p.code == "invalid_config"));
    let report: ConfigReport = read(&binding::validate_config_json("not json"));
    assert!(!report.ok);

    let input = FIXTURES.iter().find(|f| f.0 == "workflow_basic").unwrap().1;
    let cfg =
        r#"{"url":"https://www.comet.com/opik/api","api_key":"key-1234567890","workspace":"acme"}"#;
    let result = binding::map_json(input, opts(REFERENCE)).unwrap();
    let built: Requests = read(&binding::build_requests_json(&result, cfg, None).unwrap());
    let kinds: Vec<(&str, usize)> = built
        .requests
        .iter()
        .map(|r| (r.kind.as_str(), r.count))
        .collect();
    assert_eq!(kinds, [("traces", 1), ("spans", 5)]);
    for r in &built.requests {
        assert_eq!(r.method, "POST");
        assert_eq!(
            r.url,
            format!("https://www.comet.com/opik/api/v1/private/{}/batch", r.kind)
        );
        assert_eq!(r.headers["Authorization"], "key-1234567890");
        assert_eq!(r.headers["Comet-Workspace"], "acme");
        let body: Value = read(&r.body);
        assert_eq!(body[&r.kind].as_array().map(Vec::len), Some(r.count));
    }
    assert!(built.warnings.is_empty());

    // One call from the input: the same requests, the mapping's warnings merged.
    let direct: Requests = read(
        &binding::requests_from_input_json(input, opts(REFERENCE), cfg, opts(r#"{"max_items":2}"#))
            .unwrap(),
    );
    let counts: Vec<usize> = direct.requests.iter().map(|r| r.count).collect();
    assert_eq!(counts, [1, 2, 2, 1]);

    let linked: Requests = read(
        &binding::requests_from_input_json(
            input,
            opts(r#"{"now":"2025-06-10T09:00:00Z"}"#),
            cfg,
            None,
        )
        .unwrap(),
    );
    let mapped: MapResult =
        read(&binding::map_json(input, opts(r#"{"now":"2025-06-10T09:00:00Z"}"#)).unwrap());
    assert_eq!(linked.warnings, mapped.warnings);

    let (_, _, code, path) = thrown(binding::build_requests_json(&result, "{}", None).unwrap_err());
    assert_eq!(
        (code.as_str(), path.as_str()),
        ("invalid_config", "/api_key")
    );
    let (_, _, code, _) = thrown(
        binding::build_requests_json(&result, cfg, opts(r#"{"max_items":"x"}"#)).unwrap_err(),
    );
    assert_eq!(code, "invalid_option");
    let (_, _, code, path) =
        thrown(binding::build_requests_json(r#"{"traces":[1]}"#, cfg, None).unwrap_err());
    assert_eq!(
        (code.as_str(), path.as_str()),
        ("invalid_type", "/traces/0")
    );
}

#[wasm_bindgen_test]
fn version_is_the_crate_version() {
    assert_eq!(binding::version(), VERSION);
    assert_eq!(binding::version(), env!("CARGO_PKG_VERSION"));
}
