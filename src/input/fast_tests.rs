//! The envelope's fast path ([`crate::reader`]) against serde_json's reader:
//! whatever the fast path accepts, serde_json accepts too, with the same
//! envelope; and the subtrees it finds clean hold nothing to redact.

use super::dump::{agree, both};
use super::*;

/// Every envelope of the shared fixtures and the bundled examples.
fn envelopes() -> Vec<String> {
    let root = env!("CARGO_MANIFEST_DIR");
    let mut out = Vec::new();
    for dir in ["../shared/reference/fixtures", "examples/traces"] {
        let Ok(entries) = std::fs::read_dir(format!("{root}/{dir}")) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if !name.ends_with(".json") || name.ends_with(".expected.json") {
                continue;
            }
            let text = std::fs::read_to_string(e.path()).unwrap();
            let tasks = parse_tasks(&text, None, usize::MAX).unwrap();
            if !tasks.batch {
                out.push(text.clone());
                continue;
            }
            for r in serde_json::Deserializer::from_str(&text).into_iter::<serde_json::Value>() {
                let v = r.unwrap();
                match v {
                    serde_json::Value::Array(a) => out.extend(a.iter().map(|x| x.to_string())),
                    other => out.push(other.to_string()),
                }
            }
        }
    }
    assert!(out.len() > 20, "fixtures not found: {}", out.len());
    out
}

#[test]
fn every_fixture_takes_the_fast_path_and_reads_as_serde_json_reads_it() {
    for text in envelopes() {
        assert!(agree(&text), "the fast path gave up on {text}");
        maps_alike(&text);
        // Pretty-printed: whitespace everywhere.
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let pretty = serde_json::to_string_pretty(&v).unwrap();
        assert!(agree(&pretty));
    }
}

#[test]
fn the_fast_path_gives_up_where_serde_json_decides() {
    for text in [
        // Escaped keys at the envelope's levels.
        r#"{"app\u005fid": "a"}"#,
        // A number where an object or a JSON string column is read.
        r#"{"node_executions": [{"process_data": 1e400}]}"#,
        // Not an object, trailing text, broken JSON.
        r#"[]"#,
        r#"{"app_id": "a"} x"#,
        r#"{"app_id": "a",}"#,
        r#"{"trace_info": {"inputs": [1,]}}"#,
        r#"{"trace_info": {"inputs": "\x"}}"#,
        r#"{"trace_info": {"inputs": 01}}"#,
        r#"{"trace_info": {"inputs": 1.}}"#,
        r#"{"trace_info": {"inputs": -}}"#,
        r#"{"trace_info": {"inputs": "\u12G4"}}"#,
        "{\"trace_info\": {\"inputs\": \"tab\there\"}}",
        r#"{"trace_info": {"inputs": tru}}"#,
        r#"{"trace_info": {"metadata": [1]}}"#,
        r#"{"node_executions": [null]}"#,
        r#"{"end_users": {"u": 1}}"#,
    ] {
        let (fast, slow) = both(text);
        assert!(fast.is_none(), "{text}");
        // serde_json still reads what it can.
        if text.starts_with(r#"{"app\u005f"#) {
            assert!(slow.is_ok());
        }
    }
    // Nesting: the fast path stops below serde_json's limit and leaves
    // the deep ones to it.
    let deep = |n: usize| {
        format!(
            r#"{{"trace_info": {{"inputs": {}{}}}}}"#,
            "[".repeat(n),
            "]".repeat(n)
        )
    };
    assert!(agree(&deep(50)));
    assert!(!agree(&deep(99)));
    assert!(both(&deep(120)).1.is_ok());
}

/// A small deterministic generator (the tests must not depend on a clock).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// Pieces a mutation inserts: JSON syntax, escapes, credential keys and
/// signed-URL parts.
const PIECES: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    "\"",
    ",",
    ":",
    " ",
    "\\",
    "\\\"",
    "\\u0041",
    "\\u003f",
    "\\ud800",
    "0",
    "-",
    "1e5",
    ".5",
    "true",
    "null",
    "\"password\":\"p\",",
    "\"Api-Key\":1,",
    "?sign=1",
    "?",
    "=",
    "\"a\\u0062\":2,",
    "\t",
    "\n",
    "é",
    "\u{1}",
    "[[[[",
    "]]]]",
    "{\"x\":{\"y\":",
    "\"usage\":{\"total_tokens\":3},",
    "\"us\\u0061ge\":{\"total_tokens\":4},",
];

fn mutate(text: &str, rng: &mut Lcg) -> String {
    let mut b = text.as_bytes().to_vec();
    for _ in 0..1 + rng.next(3) {
        let at = rng.next(b.len() + 1);
        match rng.next(4) {
            0 => {
                let end = (at + 1 + rng.next(8)).min(b.len());
                b.drain(at.min(end)..end);
            }
            1 | 2 => {
                let p = PIECES[rng.next(PIECES.len())].as_bytes();
                b.splice(at..at, p.iter().copied());
            }
            _ => {
                let end = (at + 1 + rng.next(40)).min(b.len());
                let copy = b[at.min(end)..end].to_vec();
                let to = rng.next(b.len() + 1);
                b.splice(to..to, copy);
            }
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

#[test]
fn mutated_inputs_never_read_differently() {
    let mut rng = Lcg(0x5eed);
    let (mut taken, mut total) = (0, 0);
    for text in envelopes() {
        for _ in 0..200 {
            let m = mutate(&text, &mut rng);
            total += 1;
            if agree(&m) {
                taken += 1;
                maps_alike(&m);
            }
        }
    }
    // Many mutations stay valid JSON (inside strings, whitespace): the
    // comparison has cases on both sides.
    assert!(taken > total / 10 && taken < total, "{taken} of {total}");
}

/// Maps `text` with the fast path and with serde_json's reader alone: the
/// same output, warnings (redactions among them) and errors. This checks the
/// clean ranges too: a value skipped by the redaction pass that needed it
/// would come out unredacted.
fn maps_alike(text: &str) {
    let opts = crate::options_from_json(r#"{"now":"2026-03-02T09:00:00Z"}"#).unwrap();
    let flat = |r: Result<String, Error>| r.map_err(|e| format!("{e:?}"));
    let fast = flat(crate::map_each_json(text, &opts));
    SERDE_ONLY.with(|c| c.set(true));
    let slow = flat(crate::map_each_json(text, &opts));
    SERDE_ONLY.with(|c| c.set(false));
    assert_eq!(fast, slow, "{text}");
}

#[test]
fn redactable_subtrees_are_never_clean() {
    let text = r#"{"trace_info": {"inputs": {"a": 1}, "outputs": {"h": {"Set-Cookie": "c"}},
        "metadata": {"u": "https://x/y?sign=abc", "v": "https://x/y\u003fX-Amz-Signature\u003d1",
        "w": "what?", "ok": [1, "two"], "e": "a=b, c?", "f": "what?\\u003d", "g": "x?y\u003D1",
        "h": "x\u003fy=1", "i": "=?"}}}"#;
    let (env, clean) = Reader::read_all(text, Envelope::fast).unwrap();
    let info = env.trace_info.unwrap();
    assert!(clean.contains(info.inputs.present().unwrap().get()));
    assert!(!clean.contains(info.outputs.present().unwrap().get()));
    let meta = info.metadata.unwrap().0;
    let raw_of = |k: &str| {
        meta.iter()
            .find(|(n, _)| n == k)
            .unwrap()
            .1
            .raw_text()
            .unwrap()
    };
    assert!(!clean.contains(raw_of("u")));
    assert!(!clean.contains(raw_of("v")));
    // A `?` without a `=` after it is no signed URL: nor is a `=` before
    // it, or an escaped backslash before the text `u003d`.
    assert!(clean.contains(raw_of("w")));
    assert!(clean.contains(raw_of("e")));
    assert!(clean.contains(raw_of("f")));
    assert!(clean.contains(raw_of("i")));
    // An escaped `=` after a `?`, or a `=` after an escaped `?`, may be one.
    assert!(!clean.contains(raw_of("g")));
    assert!(!clean.contains(raw_of("h")));
    assert!(clean.contains(raw_of("ok")));
    // An escaped key inside a value is taken as dirty; so is a signed URL
    // nested in it.
    let (env, clean) = Reader::read_all(
        r#"{"trace_info": {"inputs": {"p\u0061ss": 1}, "outputs": [{"u": "a?token=b"}]}}"#,
        Envelope::fast,
    )
    .unwrap();
    let info = env.trace_info.unwrap();
    assert!(!clean.contains(info.inputs.present().unwrap().get()));
    assert!(!clean.contains(info.outputs.present().unwrap().get()));
    // Text outside the input is never clean.
    assert!(!clean.contains("{}"));
}

#[test]
fn the_usage_member_found_while_reading_is_the_one_a_lookup_finds() {
    for outputs in [
        r#"{"usage": {"total_tokens": 3}}"#,
        r#"{"a": [{"usage": 1}], "b": {"usage": 2}}"#,
        r#"{"a": [{"x": 0, "usage": 1}], "b": {"y": 1, "usage": 2}}"#,
        r#"{"usage": 1, "x": {"usage": 2}, "usage": {"prompt_tokens": 4}}"#,
        r#" { "text" : "usage" , "usage" : [ 1 , 2 ] } "#,
        r#"{"usage": {}}"#,
        r#"{"usage": "s", "y": 2}"#,
        r#"[{"usage": 1}]"#,
        r#""usage""#,
        "null",
        "{}",
        // An escaped key may be the one: left to the lookup.
        r#"{"usage": 1, "us\u0061ge": 2}"#,
        r#"{"x\n": 1, "usage": 2}"#,
    ] {
        let text = format!(r#"{{"node_executions": [{{"outputs": {outputs}}}]}}"#);
        let (env, _) = Reader::read_all(&text, Envelope::fast).unwrap();
        let out = env.node_executions.unwrap()[0].outputs;
        let looked_up = Json::Raw(out.raw.present().unwrap())
            .get("usage")
            .map(|j| crate::write::to_string(&j));
        match out.usage {
            Some(found) => {
                assert_eq!(found.map(|r| r.get().to_owned()), looked_up, "{outputs}")
            }
            None => assert!(outputs.contains('\\'), "{outputs}"),
        }
    }
    // A node without `process_data.usage` takes its usage from `outputs`.
    let text = r#"{"trace_info_type": "WorkflowTraceInfo", "trace_info": {"workflow_run_id": "0192b6a0-0000-4000-8000-000000000001", "workflow_id": "w", "start_time": "2025-01-01T00:00:00", "end_time": "2025-01-01T00:00:05", "metadata": {}},
        "node_executions": [{"id": "0192b6a0-0000-4000-8000-000000000002", "node_type": "llm", "title": "t", "created_at": "2025-01-01T00:00:01", "finished_at": "2025-01-01T00:00:02", "status": "succeeded",
        "process_data": {"model_name": "m"}, "outputs": {"text": "hi", "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3, "time_to_first_token": 0.5}}}]}"#;
    maps_alike(text);
    let opts = crate::options_from_json(r#"{"now":"2026-03-02T09:00:00Z"}"#).unwrap();
    let out = crate::map_json(text, &opts).unwrap();
    assert!(out.contains(r#""total_tokens":3"#), "{out}");
}
