//! Whole-output properties of the `linked` profile (linked-profile.md §3, §4):
//! every object of every fixture valid for Opik's Strict schema, ids
//! deterministic and lowercase UUIDv7, parents first, a warning with the
//! right path for every degraded case, the bundled examples, and the CLI
//! default.

mod common;

use common::strict::{is_utc_time, is_v7, linked_errors, span_errors, trace_errors};
use common::{
    all_inputs, linked_fixture, linked_options, map_linked, map_with, micros, shared, J, NOW,
};
use dify_opik::{map_each, Options, Profile};

fn objects(r: &J) -> Vec<&J> {
    let mut v: Vec<&J> = r.get("traces").unwrap().arr().iter().collect();
    v.extend(r.get("spans").unwrap().arr());
    v
}

fn warnings(r: &J) -> Vec<(String, String)> {
    r.get("warnings")
        .unwrap()
        .arr()
        .iter()
        .map(|w| {
            (
                w.get("code").and_then(J::str).unwrap().to_owned(),
                w.get("path").and_then(J::str).unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn the_strict_checks_accept_the_patterns_and_catch_violations() {
    assert!(is_v7("019758e8-a14b-775f-8e97-f4cb3c486cf8"));
    assert!(!is_v7("019758E8-A14B-775F-8E97-F4CB3C486CF8"));
    assert!(!is_v7("beb55eff-af2e-475f-8e97-f4cb3c486cf8"));
    assert!(!is_v7("019758e8-a14b-775f-ce97-f4cb3c486cf8"));
    assert!(is_utc_time("2025-06-10T08:15:30.123456Z"));
    assert!(is_utc_time("2025-06-10T08:15:30Z"));
    assert!(is_utc_time("2025-06-10T08:15:30.123456789Z"));
    assert!(!is_utc_time("2025-06-10T08:15:30.1234567890Z"));
    assert!(!is_utc_time("2025-06-10T08:15:30+00:00"));
    assert!(!is_utc_time("2025-06-10T08:15:30"));

    // A span breaking every rule once.
    let bad = J::parse(
        r#"{"id":"beb55eff-af2e-475f-8e97-f4cb3c486cf8","project_name":" ","trace_id":"X",
            "name":1,"type":"agent","start_time":"2025-06-10T08:15:30+08:00",
            "input":[1],"tags":["", "a", "a"],"usage":{"total_tokens":-1,"prompt_tokens":2147483648},
            "total_estimated_cost":-0.5,"error_info":{"exception_type":"","traceback":"t"},
            "ttft":-1,"source":"experiment","last_updated_at":"x","bogus":true}"#,
    );
    let errs = span_errors(&bad, "/s");
    for needle in [
        "/s/id",
        "/s/project_name",
        "/s/trace_id",
        "/s/name",
        "/s/type",
        "/s/start_time",
        "/s/input",
        "/s/tags/0",
        "/s/tags/2",
        "/s/usage/total_tokens",
        "/s/usage/prompt_tokens",
        "/s/total_estimated_cost",
        "/s/error_info/exception_type",
        "/s/error_info: missing message",
        "/s/ttft",
        "/s/source",
        "/s/last_updated_at",
        "/s/bogus",
    ] {
        assert!(
            errs.iter().any(|e| e.starts_with(needle)),
            "{needle} not reported in {errs:#?}"
        );
    }
    let errs = trace_errors(
        &J::parse(r#"{"name":"t","thread_id":"","trace_id":"x"}"#),
        "/t",
    );
    for needle in [
        "/t/thread_id",
        "/t/trace_id",
        "/t: missing required id",
        "/t: missing required start_time",
    ] {
        assert!(
            errs.iter().any(|e| e.starts_with(needle)),
            "{needle}: {errs:#?}"
        );
    }
    let tags: Vec<String> = (0..51).map(|i| format!("\"t{i}\"")).collect();
    let many = J::parse(&format!(
        r#"{{"id":"019758e8-a14b-775f-8e97-f4cb3c486cf8","start_time":"2025-06-10T08:15:30Z","tags":[{},"{}"]}}"#,
        tags.join(","),
        "x".repeat(101)
    ));
    let errs = trace_errors(&many, "/t");
    assert!(errs.iter().any(|e| e.contains("52 tags")), "{errs:?}");
    assert!(errs.iter().any(|e| e.starts_with("/t/tags/51")), "{errs:?}");

    // Parents must come first, in the same trace.
    let r = J::parse(
        r#"{"traces":[],"spans":[
          {"id":"019758e8-a14b-775f-8e97-000000000002","trace_id":"019758e8-a14b-775f-8e97-00000000000a","parent_span_id":"019758e8-a14b-775f-8e97-000000000001","type":"general","start_time":"2025-06-10T08:15:30Z","project_name":"p","metadata":{"created_from":"dify"}},
          {"id":"019758e8-a14b-775f-8e97-000000000001","trace_id":"019758e8-a14b-775f-8e97-00000000000b","type":"general","start_time":"2025-06-10T08:15:30Z","project_name":"p","metadata":{"created_from":"dify"}},
          {"id":"019758e8-a14b-775f-8e97-000000000003","trace_id":"019758e8-a14b-775f-8e97-00000000000a","parent_span_id":"019758e8-a14b-775f-8e97-000000000001","type":"general","start_time":"2025-06-10T08:15:30Z","project_name":"p","metadata":{"created_from":"dify"},"input":"x"}
        ],"warnings":[]}"#,
    );
    let errs = linked_errors(&r);
    assert!(
        errs[0].contains("names no span emitted before it"),
        "{errs:?}"
    );
    assert!(
        errs.iter().any(|e| e.contains("belongs to another trace")),
        "{errs:?}"
    );
    assert!(
        errs.iter()
            .any(|e| e.contains("/spans/2/input: not a JSON object")),
        "{errs:?}"
    );
}

#[test]
fn every_linked_object_of_every_fixture_is_valid_for_opik() {
    let inputs = all_inputs();
    assert!(inputs.len() >= 25, "found {} fixtures", inputs.len());
    let opts = linked_options();
    let mut problems = Vec::new();
    let mut objects_checked = 0;
    for (name, text) in &inputs {
        let b = map_each(text, &opts).expect("tasks");
        assert!(
            b.errors.is_empty(),
            "{name}: linked never fails on a valid envelope: {:?}",
            b.errors
        );
        let r = J::parse(&serde_json::to_string(&b.result).unwrap());
        objects_checked += objects(&r).len();
        problems.extend(linked_errors(&r).into_iter().map(|e| format!("{name}{e}")));
    }
    assert!(objects_checked > 150, "{objects_checked}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_reference_profile_also_writes_lowercase_uuidv7_ids() {
    let opts = common::reference_options();
    for (name, text, _) in common::fixtures() {
        let Ok(r) = dify_opik::map(&text, &opts) else {
            continue;
        };
        let r = J::parse(&r.to_json());
        let trace_ids: Vec<&str> = r
            .get("traces")
            .unwrap()
            .arr()
            .iter()
            .map(|t| t.get("id").and_then(J::str).unwrap())
            .collect();
        for o in objects(&r) {
            for k in ["id", "trace_id", "parent_span_id"] {
                if let Some(v) = o.get(k) {
                    assert!(v.str().is_some_and(is_v7), "{name}: {k} = {v:?}");
                }
            }
        }
        // Where a trace is emitted (workflow, message, generate name), its spans point at it.
        if !trace_ids.is_empty() {
            for s in r.get("spans").unwrap().arr() {
                let t = s.get("trace_id").and_then(J::str).unwrap();
                assert!(trace_ids.contains(&t), "{name}: span of an absent trace");
            }
        }
    }
}

#[test]
fn mapping_twice_is_byte_identical_and_never_reads_a_clock() {
    for (name, text) in all_inputs() {
        let a = dify_opik::map_each_json(&text, &linked_options()).unwrap();
        let b = dify_opik::map_each_json(&text, &linked_options()).unwrap();
        assert_eq!(a, b, "{name}: two runs differ");
        // `now` only feeds the window warning: objects are the same a year later.
        let later = Options {
            now: Some(micros("2027-03-02T10:00:00Z")),
            ..linked_options()
        };
        let c = J::parse(&dify_opik::map_each_json(&text, &later).unwrap());
        let a = J::parse(&a);
        for key in ["traces", "spans"] {
            assert_eq!(a.get(key), c.get(key), "{name}: {key} depend on now");
        }
        // And without any `now`, nothing changes either.
        let none = Options {
            now: None,
            ..linked_options()
        };
        let d = J::parse(&dify_opik::map_each_json(&text, &none).unwrap());
        for key in ["traces", "spans"] {
            assert_eq!(a.get(key), d.get(key), "{name}: {key} need now");
        }
    }
}

#[test]
fn a_task_maps_to_the_same_objects_alone_or_in_a_batch() {
    // No state across tasks: easy-UI auxiliary spans find their message's
    // trace from their own data. (Chatflow joins are the one exception and
    // are tested in linked.rs.)
    for name in ["chat_conversation", "degraded_batch"] {
        let text = linked_fixture(name);
        let batch = map_linked(&text);
        let tasks: Vec<Box<serde_json::value::RawValue>> = serde_json::from_str(&text).unwrap();
        let (mut traces, mut spans) = (Vec::new(), Vec::new());
        for t in &tasks {
            let one = map_linked(t.get());
            traces.extend(one.get("traces").unwrap().arr().iter().cloned());
            spans.extend(one.get("spans").unwrap().arr().iter().cloned());
        }
        assert_eq!(batch.get("traces").unwrap().arr(), &traces[..], "{name}");
        assert_eq!(batch.get("spans").unwrap().arr(), &spans[..], "{name}");
    }
}

/// The warning codes listed in ../shared/reference/linked-profile.md §4.
fn profile_warning_codes() -> Vec<String> {
    let doc = std::fs::read_to_string(shared().join("reference/linked-profile.md")).unwrap();
    let section = doc
        .split("## 4. Warning codes")
        .nth(1)
        .expect("§4 in linked-profile.md");
    let list = section.split("A new degraded").next().unwrap();
    list.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

#[test]
fn every_warning_code_of_the_profile_is_produced_with_its_path() {
    let r = map_linked(&linked_fixture("degraded_batch"));
    let got = warnings(&r);
    let want: Vec<(&str, &str)> = vec![
        ("ignored_type", "/0/trace_info_type"),
        ("no_trace_info", "/1/trace_info"),
        ("trace_not_joined", "/2/trace_info/message_data"),
        ("time_fallback", "/3/trace_info/start_time"),
        ("time_fallback", "/3/trace_info/end_time"),
        ("missing_time", "/4/trace_info/start_time"),
        ("end_before_start", "/5/trace_info/end_time"),
        ("foreign_node_execution", "/6/node_executions/1"),
        ("missing_app_id", "/6/trace_info/metadata/app_id"),
        ("cost_not_usd", "/7/node_executions/2/metadata/total_price"),
        (
            "invalid_usage",
            "/7/node_executions/3/process_data/usage/prompt_tokens",
        ),
        (
            "invalid_usage",
            "/7/node_executions/3/process_data/usage/total_tokens",
        ),
        (
            "container_not_found",
            "/7/node_executions/1/metadata/loop_id",
        ),
        ("message_data_missing", "/8/trace_info/message_data"),
        ("tag_truncated", "/9/trace_info/tool_name"),
        ("redacted", "/10"),
        ("id_outside_window", "/11/trace_info/start_time"),
    ];
    let got_ref: Vec<(&str, &str)> = got.iter().map(|(c, p)| (c.as_str(), p.as_str())).collect();
    assert_eq!(got_ref, want);

    // Every path names a value of the input (or, for a missing key, its object).
    let input: serde_json::Value = serde_json::from_str(&linked_fixture("degraded_batch")).unwrap();
    for (code, path) in &got {
        let found = match code.as_str() {
            "missing_app_id" => input
                .pointer(path.rsplit_once('/').unwrap().0)
                .is_some_and(|m| m.is_object() && m.pointer("/app_id").is_none()),
            _ => input.pointer(path).is_some(),
        };
        assert!(found, "{code}: {path} is not in the input");
    }
    // Messages are sentences, never empty.
    for w in r.get("warnings").unwrap().arr() {
        assert!(w
            .get("message")
            .and_then(J::str)
            .is_some_and(|m| m.len() > 10));
    }

    // The batch covers the whole list of §4.
    let codes = profile_warning_codes();
    assert_eq!(codes.len(), 15, "{codes:?}");
    for c in &codes {
        assert!(
            got.iter().any(|(g, _)| g == c),
            "warning {c} is never produced"
        );
    }
    for (g, _) in &got {
        assert!(
            codes.contains(g),
            "{g} is not a code of linked-profile.md §4"
        );
    }
}

#[test]
fn the_bundled_examples_cover_every_trace_type_and_map_cleanly() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/traces");
    let mut types = std::collections::BTreeSet::new();
    let (mut chatflow, mut workflow) = (false, false);
    let mut files = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        if p.extension().and_then(|x| x.to_str()) != Some("json") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&p).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        let tasks = match v {
            serde_json::Value::Array(a) => a,
            one => vec![one],
        };
        for t in &tasks {
            let ty = t["trace_info_type"].as_str().unwrap().to_owned();
            if ty == "WorkflowTraceInfo" {
                if t["trace_info"]["message_id"].is_string() {
                    chatflow = true;
                } else {
                    workflow = true;
                }
            }
            types.insert(ty);
        }
        let r = map_with(&text, &linked_options());
        let errs = linked_errors(&r);
        assert!(errs.is_empty(), "{}: {errs:?}", p.display());
        assert!(!r.get("spans").unwrap().arr().is_empty(), "{}", p.display());
    }
    assert!(files >= 8);
    for ty in [
        "WorkflowTraceInfo",
        "MessageTraceInfo",
        "ModerationTraceInfo",
        "SuggestedQuestionTraceInfo",
        "DatasetRetrievalTraceInfo",
        "ToolTraceInfo",
        "GenerateNameTraceInfo",
    ] {
        assert!(types.contains(ty), "no example of {ty}");
    }
    assert!(
        chatflow && workflow,
        "examples need a chatflow and a workflow run"
    );
}

fn cli(args: &[&str], file: &std::path::Path) -> (i32, J) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dify-opik"))
        .args(args)
        .arg(file)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        J::parse(std::str::from_utf8(&out.stdout).unwrap()),
    )
}

#[test]
fn the_cli_maps_with_the_linked_profile_by_default() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/linked");
    let file = dir.join("workflow_failed_offsets.json");
    // The external trace id "order-42" fails Dify's integration (B2) …
    let (code, out) = cli(&["map", "--profile", "reference"], &file);
    assert_eq!(code, 2);
    assert_eq!(
        out.get("error")
            .and_then(|e| e.get("code"))
            .and_then(J::str),
        Some("invalid_uuid")
    );
    // … and maps by default, in UTC, with errors as errors.
    let (code, out) = cli(&["map", "--now", NOW], &file);
    assert_eq!(code, 0);
    let trace = &out.get("traces").unwrap().arr()[0];
    assert_eq!(
        trace.get("start_time").and_then(J::str),
        Some("2026-03-02T09:40:00.500000Z")
    );
    assert!(trace.get("error_info").is_some());
    let (_, explicit) = cli(&["map", "--profile", "linked", "--now", NOW], &file);
    assert_eq!(out, explicit);
    assert!(linked_errors(&out).is_empty());
    assert_eq!(dify_opik::Options::default().profile, Profile::Linked);
}
