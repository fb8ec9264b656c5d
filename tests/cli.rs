//! The command-line contract: exit codes, output shape, every error code.

mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::J;

fn run(args: &[&str], stdin: &str) -> (i32, J) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dify-opik"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("binary runs");
    // The program may answer (a usage error) without reading its input.
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    (out.status.code().unwrap_or(-1), J::parse(&text))
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        common::shared()
            .join("reference/fixtures")
            .join(format!("{name}.json")),
    )
    .unwrap()
}

fn error_of(args: &[&str], stdin: &str) -> (String, String) {
    let (code, out) = run(args, stdin);
    assert_eq!(code, 2, "{out:?}");
    let e = out.get("error").expect("an error object");
    assert!(e
        .get("message")
        .and_then(J::str)
        .is_some_and(|m| !m.is_empty()));
    (
        e.get("code").unwrap().str().unwrap().to_owned(),
        e.get("path").unwrap().str().unwrap().to_owned(),
    )
}

#[test]
fn maps_with_the_default_profile_and_project() {
    let (code, out) = run(&["map", "-"], &fixture("workflow_basic"));
    assert_eq!(code, 0);
    let keys: Vec<&str> = match &out {
        J::Obj(o) => o.iter().map(|(k, _)| k.as_str()).collect(),
        _ => vec![],
    };
    assert_eq!(keys, ["traces", "spans", "warnings"]);
    let trace = &out.get("traces").unwrap().arr()[0];
    assert_eq!(
        trace.get("project_name").and_then(J::str),
        Some("Default Project")
    );
    // linked is the default: the workflow's node spans carry node_title.
    let node = &out.get("spans").unwrap().arr()[1];
    assert!(node.get("metadata").unwrap().get("node_title").is_some());
    let (_, r) = run(
        &["map", "--profile", "reference", "--project", "  p  "],
        &fixture("workflow_basic"),
    );
    let span = &r.get("spans").unwrap().arr()[1];
    assert!(span.get("metadata").unwrap().get("node_title").is_none());
    assert_eq!(span.get("project_name").and_then(J::str), Some("p"));
}

#[test]
fn every_error_code_is_reachable_with_a_path() {
    let wf = fixture("workflow_basic");
    let cases: Vec<(Vec<&str>, String, &str, &str)> = vec![
        (vec!["map"], "{not json".into(), "invalid_json", ""),
        (vec!["map"], "42".into(), "invalid_type", ""),
        (
            vec!["map"],
            wf.replace(
                "\"workflow_run_elapsed_time\": 3.21",
                "\"workflow_run_elapsed_time\": \"x\"",
            )
            .replace(
                "\"start_time\": \"2025-06-10T08:15:30.123456\"",
                "\"start_time\": 5",
            ),
            "invalid_type",
            "/trace_info/start_time",
        ),
        (
            vec!["map"],
            wf.replace(
                "2025-06-10T08:15:30.123456\",\n    \"end_time",
                "2025-06-31T08:15:30\",\n    \"end_time",
            ),
            "invalid_timestamp",
            "/trace_info/start_time",
        ),
        (
            vec!["map", "--profile", "reference"],
            fixture("workflow_non_uuid_external_trace_id"),
            "invalid_uuid",
            "/trace_info/trace_id",
        ),
        (
            vec!["map", "--profile", "reference"],
            fixture("moderation_null_times"),
            "missing_field",
            "/trace_info/start_time",
        ),
        (
            vec!["map", "--profile", "reference"],
            fixture("workflow_missing_app_id_null_end_time"),
            "missing_field",
            "/trace_info/metadata/app_id",
        ),
        (
            vec!["map", "--profile", "reference"],
            fixture("empty_trace_info_dict"),
            "missing_field",
            "/trace_info",
        ),
        (
            vec!["map", "--type", "NoSuchTraceInfo"],
            "{\"message_id\":null}".into(),
            "unsupported_type",
            "",
        ),
        (
            vec!["map", "--profile", "nope"],
            wf.clone(),
            "invalid_option",
            "/options",
        ),
        (
            vec!["requests", "--url", "ftp://x"],
            wf.clone(),
            "invalid_config",
            "/url",
        ),
    ];
    for (args, input, code, path) in cases {
        let (c, p) = error_of(&args, &input);
        assert_eq!((c.as_str(), p.as_str()), (code, path), "{args:?}");
    }
}

#[test]
fn node_execution_errors_point_into_the_list() {
    let wf = fixture("workflow_basic").replace(
        "\"created_at\": \"2025-06-10T08:15:30.143456\"",
        "\"created_at\": \"yesterday\"",
    );
    assert_eq!(
        error_of(&["map"], &wf),
        (
            "invalid_timestamp".into(),
            "/node_executions/1/created_at".into()
        )
    );
    let wf = fixture("workflow_basic").replacen(
        "\"id\": \"61def014-aa1d-4a66-9339-361abae22072\"",
        "\"id\": \"node-2\"",
        1,
    );
    assert_eq!(
        error_of(&["map", "--profile", "reference"], &wf),
        ("invalid_uuid".into(), "/node_executions/1/id".into())
    );
    // linked seeds non-v4 ids instead of failing.
    assert_eq!(run(&["map"], &wf).0, 0);
}

#[test]
fn batches_report_failing_tasks_and_map_the_others() {
    let lines = format!(
        "{}\n{}\n{{broken\n",
        fixture("tool").replace('\n', ""),
        fixture("moderation_null_times").replace('\n', "")
    );
    let (code, out) = run(&["map", "--profile", "reference"], &lines);
    assert_eq!(code, 2);
    assert_eq!(out.get("spans").unwrap().arr().len(), 1);
    let paths: Vec<&str> = out
        .get("errors")
        .unwrap()
        .arr()
        .iter()
        .map(|e| e.get("path").unwrap().str().unwrap())
        .collect();
    assert_eq!(paths, ["/1/trace_info/start_time", "/2"]);
    let array = format!("[{},{}]", fixture("tool"), fixture("moderation"));
    let (code, out) = run(&["map"], &array);
    assert_eq!(code, 0);
    assert_eq!(out.get("spans").unwrap().arr().len(), 2);
}

#[test]
fn a_bare_trace_info_needs_its_type() {
    let env = J::parse(&fixture("tool"));
    let info = serde_json::to_string(
        &serde_json::from_str::<serde_json::Value>(&fixture("tool")).unwrap()["trace_info"],
    )
    .unwrap();
    let (code, out) = run(&["map", "--type", "ToolTraceInfo"], &info);
    assert_eq!(code, 0, "{out:?}");
    assert_eq!(out.get("spans").unwrap().arr().len(), 1);
    assert!(env.get("trace_info").is_some());
    // Errors in a bare trace_info have paths without /trace_info.
    let bad = info.replace("\"2025-06-10T12:00:01\"", "\"soon\"");
    assert_eq!(
        error_of(&["map", "--type", "ToolTraceInfo"], &bad),
        ("invalid_timestamp".into(), "/start_time".into())
    );
}

#[test]
fn too_large_inputs_are_refused_before_parsing() {
    let big = format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024 * 1024));
    let (c, p) = error_of(&["map"], &big);
    assert_eq!((c.as_str(), p.as_str()), ("too_large", ""));
}

#[test]
fn error_messages_never_quote_input_values() {
    let secret = "sk-live-should-never-appear";
    let wf = fixture("workflow_basic").replace(
        "\"start_time\": \"2025-06-10T08:15:30.123456\"",
        &format!("\"start_time\": [\"{secret}\"]"),
    );
    let (code, out) = run(&["map"], &wf);
    assert_eq!(code, 2);
    assert!(!format!("{out:?}").contains(secret));
    let wf = fixture("workflow_basic").replace(
        "\"start_time\": \"2025-06-10T08:15:30.123456\"",
        &format!("\"start_time\": \"{secret}\""),
    );
    let (_, out) = run(&["map"], &wf);
    assert!(!format!("{out:?}").contains(secret));
    let (_, out) = run(
        &["map", "--type", "ToolTraceInfo"],
        &format!("{{\"tool_name\": {{\"{secret}\": 1}}, \"message_id\": 7}}"),
    );
    assert!(!format!("{out:?}").contains(secret));
}
