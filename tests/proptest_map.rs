//! Robustness properties of the mapping, on the real trace tasks of
//! ../shared/reference/fixtures and the repository's examples:
//!
//! * any JSON value in any field (every path of every template, one edge
//!   value at a time; then random values in random fields) gives a result or
//!   a structured error, never a panic;
//! * a result is valid JSON, and the same call twice gives the same bytes
//!   (the `linked` profile is deterministic);
//! * arbitrary JSON as the whole input is refused with a structured error.
//!
//! Regressions found by fuzzing (scripts/fuzz.sh) are at the end.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;
use std::sync::OnceLock;

use dify_opik::{Error, Options, Profile};
use proptest::prelude::*;
use serde_json::{json, Value};

/// A fixed `now` (2026-03-02T09:00:00Z).
const NOW: i64 = 1_772_442_000_000_000;

fn opts(profile: Profile) -> Options {
    Options {
        profile,
        now: Some(NOW),
        ..Default::default()
    }
}

/// The templates: every input fixture of the shared reference and every
/// example trace (name, parsed JSON), read once.
fn templates() -> &'static [(String, Value)] {
    static T: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    T.get_or_init(read_templates)
}

fn read_templates() -> Vec<(String, Value)> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    for dir in [
        root.join("../shared/reference/fixtures"),
        root.join("examples/traces"),
    ] {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        files.sort();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let text = std::fs::read_to_string(&f).unwrap();
            out.push((name, serde_json::from_str(&text).unwrap()));
        }
    }
    assert!(
        out.len() >= 19,
        "expected the shared fixtures, found {} templates",
        out.len()
    );
    out
}

/// A step of a path into a JSON value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Every path below the root, parents before children.
fn paths(v: &Value) -> Vec<Vec<Step>> {
    let mut out = Vec::new();
    let mut stack = vec![(Vec::new(), v)];
    while let Some((p, v)) = stack.pop() {
        let kids: Vec<(Step, &Value)> = match v {
            Value::Object(m) => m.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (Step::Index(i), v))
                .collect(),
            _ => Vec::new(),
        };
        for (s, child) in kids {
            let mut q: Vec<Step> = p.clone();
            q.push(s);
            out.push(q.clone());
            stack.push((q, child));
        }
    }
    out
}

/// The value at `path`, mutably.
fn at<'v>(v: &'v mut Value, path: &[Step]) -> Option<&'v mut Value> {
    let mut cur = v;
    for s in path {
        cur = match (s, cur) {
            (Step::Key(k), Value::Object(m)) => m.get_mut(k)?,
            (Step::Index(i), Value::Array(a)) => a.get_mut(*i)?,
            _ => return None,
        };
    }
    Some(cur)
}

/// Removes the value at `path` (the key, or the array element).
fn remove(v: &mut Value, path: &[Step]) {
    let Some((last, parent)) = path.split_last() else {
        return;
    };
    match (last, at(v, parent)) {
        (Step::Key(k), Some(Value::Object(m))) => {
            m.remove(k);
        }
        (Step::Index(i), Some(Value::Array(a))) if *i < a.len() => {
            a.remove(*i);
        }
        _ => {}
    }
}

/// Asserts that `text` is one JSON value.
fn assert_json(text: &str, what: &str) {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(text) {
        panic!("{what} is not valid JSON: {e}");
    }
}

fn assert_structured(e: &Error, what: &str) {
    assert!(!e.message.is_empty(), "{what}: error without a message");
    assert!(
        e.path.is_empty() || e.path.starts_with('/'),
        "{what}: error path {:?} is not a JSON pointer",
        e.path
    );
}

/// Maps `text` in both profiles and checks the invariants; returns how many
/// of the two calls gave a result. `twice`: also map again in the linked
/// profile and through `map`, and compare.
fn check(text: &str, what: &str, twice: bool) -> usize {
    let mut ok = 0;
    for profile in [Profile::Linked, Profile::Reference] {
        let o = opts(profile);
        let first = dify_opik::map_json(text, &o);
        match &first {
            Ok(s) => {
                ok += 1;
                assert_json(s, what);
            }
            Err(e) => assert_structured(e, what),
        }
        if twice && profile == Profile::Linked {
            let second = dify_opik::map_json(text, &o);
            assert_eq!(first, second, "{what}: linked output differs between calls");
            if let Ok(r) = dify_opik::map(text, &o) {
                assert_eq!(Ok(r.to_json()), first, "{what}: map and map_json disagree");
            }
        }
    }
    ok
}

/// Values that stress each kind of reader: wrong kinds, extremes of numbers,
/// odd strings, empty and nested containers.
fn edge_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(u64::MAX),
        json!(1e308),
        json!(-0.0),
        json!(""),
        json!("x\u{0}\"\\ naïve 東京 🙂"),
        json!("9999-12-31T23:59:59.999999+14:00"),
        json!([]),
        json!({}),
        json!([[{"a": [null]}]]),
        json!({"api_key": "sk-1", "usage": {"total_tokens": -5}}),
    ]
}

#[test]
fn every_field_of_every_template_takes_any_json() {
    let mut maps = 0usize;
    let mut results = 0usize;
    // The two large examples (34 and 69 KB) would take minutes in a debug
    // build; the random test below covers them.
    for (name, template) in templates() {
        let text = template.to_string();
        if text.len() > 16_000 {
            continue;
        }
        results += check(&text, name, true);
        for path in paths(template) {
            let p = format!("{name}{}", pointer(&path));
            let mut v = template.clone();
            remove(&mut v, &path);
            results += check(&v.to_string(), &format!("{p} removed"), false);
            maps += 2;
            for e in edge_values() {
                let mut v = template.clone();
                *at(&mut v, &path).unwrap() = e.clone();
                results += check(&v.to_string(), &format!("{p} = {e}"), false);
                maps += 2;
            }
        }
    }
    // Most edits still map: the test exercises the mappers, not just the
    // envelope checks.
    assert!(results * 2 > maps, "{results} results of {maps} calls");
}

fn pointer(path: &[Step]) -> String {
    path.iter()
        .map(|s| match s {
            Step::Key(k) => format!("/{k}"),
            Step::Index(i) => format!("/{i}"),
        })
        .collect()
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|i| json!(i)),
        any::<u64>().prop_map(|u| json!(u)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        any::<String>().prop_map(Value::String),
        "[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:?[0-9]{2})?"
            .prop_map(Value::String),
        "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(
                (
                    prop_oneof![
                        "[a-z_]{1,12}",
                        Just("total_tokens".to_owned()),
                        Just("iteration_id".to_owned()),
                        Just("iteration_index".to_owned()),
                        Just("api_key".to_owned()),
                        Just("usage".to_owned()),
                    ],
                    inner
                ),
                0..6
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Random values in one to three random fields of a random template.
    #[test]
    fn random_values_in_random_fields(
        pick in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any_json()), 1..4),
    ) {
        let ts = templates();
        let (name, template) = &ts[pick.index(ts.len())];
        let ps = paths(template);
        let mut v = template.clone();
        let mut what = name.clone();
        for (i, value) in edits {
            let path = &ps[i.index(ps.len())];
            if let Some(slot) = at(&mut v, path) {
                what.push_str(&format!(" {}", pointer(path)));
                *slot = value;
            }
        }
        check(&v.to_string(), &what, true);
    }

    /// Arbitrary JSON as the whole input: refused with a structured error,
    /// or (an object that happens to be a task) mapped.
    #[test]
    fn arbitrary_json_input(v in any_json()) {
        check(&v.to_string(), "arbitrary input", true);
    }

    /// Arbitrary text as the whole input.
    #[test]
    fn arbitrary_text_input(s in any::<String>()) {
        for profile in [Profile::Linked, Profile::Reference] {
            match dify_opik::map_json(&s, &opts(profile)) {
                Ok(out) => assert_json(&out, "arbitrary text"),
                Err(e) => assert_structured(&e, "arbitrary text"),
            }
        }
    }

    /// Any UTF-16 (lone surrogates included, in runs that cross the
    /// converter's blocks) converts to the UTF-8 that `TextEncoder` writes:
    /// the npm package's Node input path.
    #[test]
    fn utf16_converts_as_text_encoder_does(
        units in prop::collection::vec(
            prop_oneof![
                4 => 0x20u16..0x80,
                2 => 0x80u16..0x800,
                2 => 0x800u16..0xd800,
                1 => 0xd800u16..0xe000,
                1 => 0xe000u16..=0xffff,
            ],
            0..200,
        ),
    ) {
        let mut out = vec![0; units.len() * dify_opik::utf16::MAX_BYTES_PER_UNIT];
        let (read, n) = dify_opik::utf16::encode_utf8(&units, &mut out);
        prop_assert_eq!(read, units.len());
        let expected = String::from_utf16_lossy(&units);
        prop_assert_eq!(&out[..n], expected.as_bytes());
        // A short destination: a prefix of whole characters, as long as fits.
        for room in [0, 1, 2, 3, 17, 49, 50, n / 2] {
            let mut short = vec![0; room.min(n)];
            let (read, written) = dify_opik::utf16::encode_utf8(&units, &mut short);
            let head = String::from_utf16_lossy(&units[..read]);
            prop_assert_eq!(&short[..written], head.as_bytes());
            if read < units.len() {
                let next = String::from_utf16_lossy(&units[read..(read + 2).min(units.len())]);
                let width = next.chars().next().map_or(0, char::len_utf8);
                prop_assert!(written + width > short.len(), "stopped early at {}", read);
            }
        }
    }
}

/// Passed-through values are skipped without recursion, so any depth maps
/// (no stack overflow, no depth error) and comes out intact.
#[test]
fn deep_nesting_maps_at_any_depth() {
    let task = |deep: &str| {
        format!(
            r#"{{"app_id":"a","trace_info_type":"ToolTraceInfo","trace_info":{{"message_id":"9f4a8c37-5b52-4a6e-8d8e-3c1f9a7b2e10","start_time":"2025-01-01T00:00:00","tool_inputs":{deep}}}}}"#
        )
    };
    for depth in [127usize, 128, 129, 1_000, 100_000, 1_000_000] {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        for profile in [Profile::Linked, Profile::Reference] {
            let out = dify_opik::map_json(&task(&deep), &opts(profile))
                .unwrap_or_else(|e| panic!("depth {depth}: {e:?}"));
            assert_json(&out, "deep input");
            assert!(
                out.contains(&deep),
                "depth {depth}: the value is not intact"
            );
        }
    }
}

// ---------------------------------------------------------------------------
// Regressions found by fuzzing. Each case is the input of a crash that
// scripts/fuzz.sh found, reduced, with the options it ran under.

/// `Options` is a public struct: values a JSON caller cannot give (an id-time
/// range with its ends swapped, clock readings at the ends of i64) must not
/// panic either.
#[test]
fn extreme_options_built_in_rust_do_not_panic() {
    let (name, template) = &templates()[0];
    let text = template.to_string();
    let ranges = [
        (0, 10, 0),
        (i64::MIN, i64::MIN, i64::MAX),
        (i64::MAX, i64::MAX, i64::MIN),
    ];
    for (at, from, to) in ranges {
        for now in [None, Some(i64::MIN), Some(i64::MAX)] {
            for profile in [Profile::Linked, Profile::Reference] {
                let o = Options {
                    profile,
                    now,
                    id_time: dify_opik::IdTime::Range { at, from, to },
                    ..Default::default()
                };
                if let Err(e) = dify_opik::map_json(&text, &o) {
                    assert_structured(&e, name);
                }
                let o = Options {
                    id_time: dify_opik::IdTime::Event,
                    ..o
                };
                if let Err(e) = dify_opik::map_json(&text, &o) {
                    assert_structured(&e, name);
                }
            }
        }
    }
}
