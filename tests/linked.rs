//! The `linked` profile, item by item (../shared/reference/linked-profile.md
//! §3, items 1–15). Every test here fails when its item is taken away.
//!
//! Inputs are the fixtures in tests/fixtures/linked (written by
//! tests/fixtures/gen_linked.py) and ../shared's golden inputs; a few tests
//! patch a fixture to reach one more case.

mod common;

use common::strict::linked_errors;
use common::{
    linked_fixture, linked_options, map_linked, map_with, micros, reference_options, shared, J,
};
use dify_opik::ids::{seed, uid, v7, Uuid};
use dify_opik::{IdTime, Options, Profile};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// The tasks of a fixture that holds a JSON array.
fn tasks(name: &str) -> Vec<Value> {
    serde_json::from_str(&linked_fixture(name)).unwrap()
}

fn task(name: &str) -> Value {
    serde_json::from_str(&linked_fixture(name)).unwrap()
}

fn shared_input(name: &str) -> String {
    std::fs::read_to_string(shared().join(format!("reference/fixtures/{name}.json"))).unwrap()
}

fn map_value(v: &Value) -> J {
    map_linked(&v.to_string())
}

fn traces(r: &J) -> &[J] {
    r.get("traces").unwrap().arr()
}

fn spans(r: &J) -> &[J] {
    r.get("spans").unwrap().arr()
}

fn named<'a>(items: &'a [J], name: &str) -> Vec<&'a J> {
    items
        .iter()
        .filter(|o| o.get("name").and_then(J::str) == Some(name))
        .collect()
}

fn one_named<'a>(items: &'a [J], name: &str) -> &'a J {
    let v = named(items, name);
    assert_eq!(v.len(), 1, "{} objects named {name}", v.len());
    v[0]
}

fn s<'a>(o: &'a J, key: &str) -> &'a str {
    o.get(key)
        .and_then(J::str)
        .unwrap_or_else(|| panic!("no string {key} in {o:?}"))
}

fn at<'a>(o: &'a J, path: &[&str]) -> Option<&'a J> {
    path.iter().try_fold(o, |o, k| o.get(k))
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// `v7(t, u)` as text.
fn id7(t: &str, u: Uuid) -> String {
    v7(micros(t).div_euclid(1000), u).unwrap().to_text()
}

/// The millisecond time of a v7 id.
fn id_ms(id: &str) -> i64 {
    i64::from_str_radix(&id.replace('-', "")[..12], 16).unwrap()
}

/// The bits of an id after its version nibble (v7 ids keep the 74 bits of
/// their v4 seed there).
fn id_tail(id: &str) -> String {
    id[15..].to_owned()
}

fn warnings(r: &J) -> Vec<(String, String)> {
    r.get("warnings")
        .unwrap()
        .arr()
        .iter()
        .map(|w| (s(w, "code").to_owned(), s(w, "path").to_owned()))
        .collect()
}

fn has_warning(r: &J, code: &str, path: &str) -> bool {
    warnings(r).iter().any(|(c, p)| c == code && p == path)
}

fn float(o: &J, key: &str) -> Option<f64> {
    match o.get(key)? {
        J::Float(f) => Some(*f),
        J::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn usage_of(o: &J) -> Option<Vec<(String, i128)>> {
    match o.get("usage")? {
        J::Obj(u) => Some(
            u.iter()
                .map(|(k, v)| match v {
                    J::Int(n) => (k.clone(), *n),
                    other => panic!("usage value {other:?}"),
                })
                .collect(),
        ),
        _ => None,
    }
}

fn usage3(p: Option<i128>, c: Option<i128>, t: Option<i128>) -> Option<Vec<(String, i128)>> {
    let mut v = Vec::new();
    for (k, n) in [
        ("prompt_tokens", p),
        ("completion_tokens", c),
        ("total_tokens", t),
    ] {
        if let Some(n) = n {
            v.push((k.to_owned(), n));
        }
    }
    Some(v)
}

/// Node executions of the DB-row fixture, decoded.
fn db_rows(env: &Value) -> Vec<Value> {
    env["node_executions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let mut r = r.clone();
            for k in ["inputs", "process_data", "outputs", "execution_metadata"] {
                if let Some(t) = r[k].as_str() {
                    r[k] = serde_json::from_str(t).unwrap();
                }
            }
            r
        })
        .collect()
}

fn by_id<'a>(r: &'a J, id: &str) -> &'a J {
    spans(r)
        .iter()
        .find(|s| s.get("id").and_then(J::str) == Some(id))
        .unwrap_or_else(|| panic!("no span {id}"))
}

fn parent<'a>(r: &'a J, span: &J) -> &'a J {
    by_id(r, s(span, "parent_span_id"))
}

// ---------------------------------------------------------------------------
// Item 1 — every id is deterministic
// ---------------------------------------------------------------------------

#[test]
fn item1_ids_of_auxiliary_llm_and_generate_name_objects_follow_the_table() {
    let t = tasks("chat_conversation");
    let r = map_value(&Value::Array(t.clone()));
    let m1 = text(&t[5]["trace_info"]["message_id"]);
    let ti = |i: usize, k: &str| text(&t[i]["trace_info"][k]).to_owned();
    let us = |time: &str| micros(time).to_string();

    let llm = &named(spans(&r), "llm")[0];
    assert_eq!(
        s(llm, "id"),
        id7(&ti(5, "start_time"), seed(&format!("{m1}:llm")))
    );

    for (i, kind, name) in [
        (0, "moderation", "moderation"),
        (1, "dataset_retrieval", "dataset_retrieval"),
        (6, "suggested_question", "suggested_question"),
    ] {
        let start = ti(i, "start_time");
        let want = id7(&start, seed(&format!("{m1}:{kind}:{}", us(&start))));
        assert_eq!(s(named(spans(&r), name)[0], "id"), want, "{kind}");
    }
    for (i, tool) in [(3, "google_search"), (4, "open_weather")] {
        let start = ti(i, "start_time");
        let want = id7(&start, seed(&format!("{m1}:tool:{tool}:{}", us(&start))));
        assert_eq!(s(one_named(spans(&r), tool), "id"), want, "{tool}");
    }

    let conv = ti(2, "conversation_id");
    let start = ti(2, "start_time");
    let gt = one_named(traces(&r), "generate_conversation_name");
    let gs = one_named(spans(&r), "generate_conversation_name");
    assert_eq!(
        s(gt, "id"),
        id7(&start, seed(&format!("{conv}:generate_name")))
    );
    assert_eq!(
        s(gs, "id"),
        id7(&start, seed(&format!("{conv}:generate_name:span")))
    );
    assert_eq!(s(gs, "trace_id"), s(gt, "id"));
}

#[test]
fn item1_generate_name_without_a_conversation_id_is_keyed_by_its_content() {
    // Dify's own integration draws a random id here (B4).
    let mut g = tasks("chat_conversation")[2].clone();
    g["trace_info"]["conversation_id"] = Value::Null;
    g["trace_info"]["metadata"]["conversation_id"] = Value::Null;
    let a = map_value(&g);
    let b = map_value(&g);
    assert_eq!(a, b);
    let id = s(&traces(&a)[0], "id").to_owned();
    assert!(common::strict::is_v7(&id));
    assert_eq!(s(&spans(&a)[0], "trace_id"), id);
    assert_ne!(s(&spans(&a)[0], "id"), id);
    g["trace_info"]["outputs"] = json!("Another name");
    let c = map_value(&g);
    assert_ne!(s(&traces(&c)[0], "id"), id);
    assert_eq!(id_ms(s(&traces(&c)[0], "id")), id_ms(&id));
}

#[test]
fn item1_ids_that_dify_derives_deterministically_keep_their_value() {
    // Workflow trace, root span, node spans and the message trace upsert
    // what Dify's integration already sent.
    for name in [
        "workflow_basic",
        "workflow_chatflow_with_message",
        "message_chat_end_user",
    ] {
        let input = shared_input(name);
        let reference = map_with(&input, &reference_options());
        let linked = map_linked(&input);
        assert_eq!(
            s(&traces(&reference)[0], "id"),
            s(&traces(&linked)[0], "id"),
            "{name}"
        );
        if name.starts_with("workflow") {
            let ref_ids: Vec<&str> = spans(&reference).iter().map(|o| s(o, "id")).collect();
            let linked_ids: Vec<&str> = spans(&linked).iter().map(|o| s(o, "id")).collect();
            assert_eq!(ref_ids, linked_ids, "{name}");
        }
    }
    // With an external trace id the message trace takes its own id (item 4).
    let input = shared_input("message_agent_account_file_list");
    let v: Value = serde_json::from_str(&input).unwrap();
    let linked = map_linked(&input);
    let want = id7(
        text(&v["trace_info"]["start_time"]),
        uid(text(&v["trace_info"]["message_id"])),
    );
    assert_eq!(s(&traces(&linked)[0], "id"), want);
    let reference = map_with(&input, &reference_options());
    assert_ne!(s(&traces(&reference)[0], "id"), want);
}

// ---------------------------------------------------------------------------
// Item 2 — auxiliary spans live in their message's trace
// ---------------------------------------------------------------------------

#[test]
fn item2_every_span_of_an_easy_ui_conversation_is_in_a_trace_of_that_conversation() {
    let t = tasks("chat_conversation");
    let r = map_value(&Value::Array(t.clone()));
    let trace_ids: Vec<&str> = traces(&r).iter().map(|o| s(o, "id")).collect();
    assert_eq!(
        traces(&r).len(),
        3,
        "two messages and the conversation name"
    );
    assert_eq!(spans(&r).len(), 10);
    for sp in spans(&r) {
        assert!(
            trace_ids.contains(&s(sp, "trace_id")),
            "{} is not in a trace of the conversation",
            s(sp, "name")
        );
        assert_eq!(s(sp, "project_name"), "Default Project");
    }
    // Turn by turn: the message trace is v7(message.created_at, message id).
    let messages = named(traces(&r), "message");
    for (turn, (msg_task, aux)) in [(5, vec![0, 1, 3, 4, 6]), (8, vec![7, 9])]
        .into_iter()
        .enumerate()
    {
        let info = &t[msg_task]["trace_info"];
        let trace_id = id7(
            text(&info["message_data"]["created_at"]),
            uid(text(&info["message_id"])),
        );
        assert_eq!(s(messages[turn], "id"), trace_id);
        for i in aux {
            // Each auxiliary task alone (no state, no batch) finds the trace.
            let alone = map_value(&t[i]);
            assert!(traces(&alone).is_empty(), "task {i} made a trace");
            let sp = &spans(&alone)[0];
            assert_eq!(s(sp, "trace_id"), trace_id, "task {i}");
            assert!(sp.get("parent_span_id").is_none(), "task {i} has a parent");
            assert!(alone
                .get("warnings")
                .unwrap()
                .arr()
                .iter()
                .all(|w| s(w, "code") == "redacted"));
        }
    }
    // The project option reaches every object.
    let opts = Options {
        project: "Travel".into(),
        ..linked_options()
    };
    let r = map_with(&linked_fixture("chat_conversation"), &opts);
    for o in traces(&r).iter().chain(spans(&r)) {
        assert_eq!(s(o, "project_name"), "Travel");
    }
}

#[test]
fn item2_joining_needs_neither_v4_message_ids_nor_the_absence_of_an_external_id() {
    let mut t = tasks("chat_conversation");
    // UUIDv7 primary keys (Dify is moving to them) and an external trace id.
    let v7_id = "0195f3a2-6b1c-7d4e-8f00-123456789abc";
    for i in [0, 1, 3, 4, 5, 6] {
        let info = &mut t[i]["trace_info"];
        info["message_id"] = json!(v7_id);
        info["message_data"]["id"] = json!(v7_id);
        info["trace_id"] = json!("4bf92f3577b34da6a3ce929d0e0e4736");
    }
    let r = map_value(&Value::Array(t[..7].to_vec()));
    let msg = one_named(traces(&r), "message");
    assert_eq!(
        s(msg, "id"),
        id7(text(&t[5]["trace_info"]["start_time"]), seed(v7_id))
    );
    for sp in spans(&r) {
        if s(sp, "name") != "generate_conversation_name" {
            assert_eq!(s(sp, "trace_id"), s(msg, "id"), "{}", s(sp, "name"));
        }
    }
}

#[test]
fn item2_chatflow_auxiliary_spans_join_the_workflow_trace_mapped_in_the_same_call() {
    let t = tasks("chatflow_conversation");
    let r = map_value(&Value::Array(t.clone()));
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    // Only the workflow trace and the conversation name's trace remain.
    let names: Vec<&str> = traces(&r).iter().map(|o| s(o, "name")).collect();
    assert_eq!(names, ["generate_conversation_name", "message"]);
    let wf = one_named(traces(&r), "message");
    let wf_info = &t[2]["trace_info"];
    assert_eq!(
        s(wf, "id"),
        id7(
            text(&wf_info["start_time"]),
            uid(text(&wf_info["message_id"]))
        )
    );
    for name in ["moderation", "suggested_question"] {
        let sp = one_named(spans(&r), name);
        assert_eq!(s(sp, "trace_id"), s(wf, "id"), "{name}");
        assert!(sp.get("parent_span_id").is_none());
    }
    assert_eq!(s(wf, "thread_id"), text(&wf_info["conversation_id"]));
    // The conversation name is not a turn of the thread.
    let gn = one_named(traces(&r), "generate_conversation_name");
    assert!(gn.get("thread_id").is_none());
    assert_eq!(
        at(gn, &["metadata", "conversation_id"]).and_then(J::str),
        Some(text(&wf_info["conversation_id"]))
    );
    assert_eq!(
        gn.get("tags"),
        Some(&J::Arr(vec![J::Str("generate_name".into())]))
    );

    // The join uses message_data.id: a workflow_app_log_id in message_id
    // does not break it.
    let mut moderation = t[0].clone();
    moderation["trace_info"]["message_id"] = json!("8d2b8c56-1c0e-4c54-9d0e-6a1f0e3b9a77");
    let r = map_value(&json!([moderation, t[2]]));
    assert_eq!(traces(&r).len(), 1);
    assert_eq!(
        s(one_named(spans(&r), "moderation"), "trace_id"),
        s(&traces(&r)[0], "id")
    );
}

#[test]
fn item2_chatflow_auxiliary_spans_alone_get_a_trace_of_their_own() {
    let t = tasks("chatflow_conversation");
    let info = &t[0]["trace_info"];
    let mid = text(&info["message_data"]["id"]);
    let conv = text(&info["message_data"]["conversation_id"]);
    for (i, kind) in [(0, "moderation"), (3, "suggested_question")] {
        let r = map_value(&t[i]);
        let tr = one_named(traces(&r), kind);
        let start = text(&t[i]["trace_info"]["start_time"]);
        assert_eq!(
            s(tr, "id"),
            id7(start, seed(&format!("{mid}:{kind}:trace")))
        );
        assert_eq!(s(&spans(&r)[0], "trace_id"), s(tr, "id"));
        assert_eq!(
            at(tr, &["metadata", "conversation_id"]).and_then(J::str),
            Some(conv)
        );
        assert_eq!(
            at(tr, &["metadata", "message_id"]).and_then(J::str),
            Some(mid)
        );
        // Not a turn: no thread id.
        assert!(tr.get("thread_id").is_none(), "{kind}");
        assert!(has_warning(
            &r,
            "trace_not_joined",
            "/trace_info/message_data/workflow_run_id"
        ));
    }
    // A flagged moderation that answered the user itself is a turn.
    let mut flagged = t[0].clone();
    flagged["trace_info"]["flagged"] = json!(true);
    flagged["trace_info"]["action"] = json!("direct_output");
    flagged["trace_info"]["preset_response"] = json!("I can't help with that.");
    let r = map_value(&flagged);
    assert_eq!(s(&traces(&r)[0], "thread_id"), conv);
}

// ---------------------------------------------------------------------------
// Item 3 — time fallbacks that work
// ---------------------------------------------------------------------------

#[test]
fn item3_auxiliary_spans_fall_back_to_the_message_times() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[3]);
    let sp = &spans(&r)[0];
    let md = &b[3]["trace_info"]["message_data"];
    assert_eq!(micros(s(sp, "start_time")), micros(text(&md["created_at"])));
    assert_eq!(micros(s(sp, "end_time")), micros(text(&md["updated_at"])));
    assert_eq!(
        warnings(&r),
        [
            (
                "time_fallback".to_owned(),
                "/trace_info/start_time".to_owned()
            ),
            (
                "time_fallback".to_owned(),
                "/trace_info/end_time".to_owned()
            ),
        ]
    );
    // Dify's integration crashes here (B3).
    assert!(dify_opik::map(&b[3].to_string(), &reference_options()).is_err());

    // No message times: the end stands in for the start, the start for the end.
    let mut m = tasks("chat_conversation")[0].clone();
    m["trace_info"]["start_time"] = Value::Null;
    m["trace_info"]["message_data"]["created_at"] = Value::Null;
    let r = map_value(&m);
    let sp = &spans(&r)[0];
    assert_eq!(s(sp, "start_time"), "2026-03-02T09:12:03.420000Z");
    assert_eq!(s(sp, "end_time"), "2026-03-02T09:12:03.420000Z");
    assert!(has_warning(&r, "time_fallback", "/trace_info/start_time"));
    // Without message_data.created_at the message's trace id is unknown.
    assert!(has_warning(
        &r,
        "trace_not_joined",
        "/trace_info/message_data/created_at"
    ));
    assert_eq!(traces(&r).len(), 1);

    let mut m = tasks("chat_conversation")[0].clone();
    m["trace_info"]["end_time"] = Value::Null;
    m["trace_info"]["message_data"]["updated_at"] = Value::Null;
    let r = map_value(&m);
    assert_eq!(s(&spans(&r)[0], "end_time"), s(&spans(&r)[0], "start_time"));
    assert!(has_warning(&r, "time_fallback", "/trace_info/end_time"));
}

#[test]
fn item3_tool_spans_without_times_use_the_message_times_never_the_clock() {
    let mut tool = tasks("chat_conversation")[3].clone();
    tool["trace_info"]["start_time"] = Value::Null;
    tool["trace_info"]["end_time"] = Value::Null;
    let r = map_value(&tool);
    let sp = &spans(&r)[0];
    assert_eq!(s(sp, "start_time"), "2026-03-02T09:12:03.250000Z");
    assert_eq!(s(sp, "end_time"), "2026-03-02T09:12:07.850000Z");
    // The same under another `now`: no clock anywhere.
    let later = Options {
        now: Some(micros("2030-01-01T00:00:00Z")),
        ..linked_options()
    };
    assert_eq!(spans(&map_with(&tool.to_string(), &later)), spans(&r));

    // No time at all: nothing is emitted.
    let b = tasks("degraded_batch");
    let r = map_value(&b[4]);
    assert!(traces(&r).is_empty() && spans(&r).is_empty());
    assert_eq!(
        warnings(&r),
        [(
            "missing_time".to_owned(),
            "/trace_info/start_time".to_owned()
        )]
    );
}

#[test]
fn item3_node_spans_end_at_finished_at_and_fall_back_sensibly() {
    let mut wf = tasks("chatflow_conversation")[2].clone();
    let start = text(&wf["trace_info"]["start_time"]).to_owned();
    // A node that paused: finished_at is later than created_at + elapsed_time (B11).
    wf["node_executions"][2]["finished_at"] = json!("2026-03-02T09:40:09.000000");
    // A node whose finished_at is before its start: created_at + elapsed_time.
    wf["node_executions"][1]["finished_at"] = json!("2026-03-02T09:40:00.000000");
    // A node without created_at: the run's start.
    wf["node_executions"][3]["created_at"] = Value::Null;
    // A run without end_time: start + elapsed.
    wf["trace_info"]["end_time"] = Value::Null;
    let r = map_value(&wf);
    let llm = one_named(spans(&r), "LLM");
    assert_eq!(s(llm, "end_time"), "2026-03-02T09:40:09Z");
    let kr = one_named(spans(&r), "Knowledge Retrieval");
    let created = text(&wf["node_executions"][1]["created_at"]);
    let elapsed = wf["node_executions"][1]["elapsed_time"].as_f64().unwrap();
    assert_eq!(
        micros(s(kr, "end_time")),
        micros(created) + (elapsed * 1e6).round() as i64
    );
    let answer = one_named(spans(&r), "Answer");
    assert_eq!(micros(s(answer, "start_time")), micros(&start));
    assert!(has_warning(
        &r,
        "time_fallback",
        "/node_executions/3/created_at"
    ));
    let elapsed = wf["trace_info"]["workflow_run_elapsed_time"]
        .as_f64()
        .unwrap();
    let end = micros(&start) + (elapsed * 1e6).round() as i64;
    for o in [&traces(&r)[0], one_named(spans(&r), "workflow")] {
        assert_eq!(micros(s(o, "end_time")), end);
    }
    assert!(has_warning(&r, "time_fallback", "/trace_info/end_time"));
    assert!(linked_errors(&r).is_empty());
    // Dify's integration ends the paused node at created_at + elapsed_time.
    let reference = map_with(
        &wf.to_string(),
        &Options {
            now: Some(micros(common::NOW)),
            ..reference_options()
        },
    );
    assert_ne!(
        s(one_named(spans(&reference), "LLM"), "end_time"),
        "2026-03-02T09:40:09Z"
    );
}

#[test]
fn item3_an_end_before_its_start_is_set_to_the_start() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[5]);
    let sp = &spans(&r)[0];
    assert_eq!(s(sp, "end_time"), s(sp, "start_time"));
    assert_eq!(
        warnings(&r),
        [(
            "end_before_start".to_owned(),
            "/trace_info/end_time".to_owned()
        )]
    );
    // Nodes too: a negative elapsed time.
    let mut wf = tasks("chatflow_conversation")[2].clone();
    wf["node_executions"][0]["finished_at"] = Value::Null;
    wf["node_executions"][0]["elapsed_time"] = json!(-1.5);
    let r = map_value(&wf);
    let start = one_named(spans(&r), "Start");
    assert_eq!(s(start, "end_time"), s(start, "start_time"));
    assert!(has_warning(
        &r,
        "end_before_start",
        "/node_executions/0/finished_at"
    ));
}

#[test]
fn item3_every_time_is_written_in_utc_with_z() {
    // +08:00 in, Z out; the instant (and the id's time) unchanged.
    let wf = task("workflow_failed_offsets");
    let r = map_value(&wf);
    assert_eq!(
        text(&wf["trace_info"]["start_time"]),
        "2026-03-02T17:40:00.500000+08:00"
    );
    assert_eq!(
        s(&traces(&r)[0], "start_time"),
        "2026-03-02T09:40:00.500000Z"
    );
    assert_eq!(
        id_ms(s(&traces(&r)[0], "id")),
        micros("2026-03-02T09:40:00.500Z") / 1000
    );
    for o in traces(&r).iter().chain(spans(&r)) {
        for k in ["start_time", "end_time"] {
            assert!(s(o, k).ends_with('Z'), "{k}: {}", s(o, k));
        }
    }
    // The aware (+00:00) tool timer of the conversation.
    let r = map_value(&tasks("chat_conversation")[4]);
    assert_eq!(
        s(&spans(&r)[0], "start_time"),
        "2026-03-02T09:12:05.600000Z"
    );
    // Whole seconds have no fraction; nine fraction digits are read to the µs.
    let mut tool = tasks("chat_conversation")[3].clone();
    tool["trace_info"]["start_time"] = json!("2026-03-02T09:12:04.123456789");
    tool["trace_info"]["end_time"] = json!("2026-03-02T09:12:05");
    let r = map_value(&tool);
    assert_eq!(
        s(&spans(&r)[0], "start_time"),
        "2026-03-02T09:12:04.123456Z"
    );
    assert_eq!(s(&spans(&r)[0], "end_time"), "2026-03-02T09:12:05Z");
}

#[test]
fn item3_naive_times_take_the_naive_offset_option() {
    // A Dify worker running in UTC+8 writes naive local times (B13).
    let opts = Options {
        naive_offset: 8 * 3600,
        now: Some(micros("2026-03-02T02:00:00Z")),
        ..linked_options()
    };
    let r = map_with(&linked_fixture("chat_conversation"), &opts);
    let msg = &named(traces(&r), "message")[0];
    assert_eq!(s(msg, "start_time"), "2026-03-02T01:12:03.250000Z");
    // The aware tool timer is not shifted.
    assert_eq!(
        s(one_named(spans(&r), "open_weather"), "start_time"),
        "2026-03-02T09:12:05.600000Z"
    );
    // Every span still sits in a trace of the conversation.
    let ids: Vec<&str> = traces(&r).iter().map(|o| s(o, "id")).collect();
    assert!(spans(&r).iter().all(|sp| ids.contains(&s(sp, "trace_id"))));
    assert!(linked_errors(&r).is_empty());
}

// ---------------------------------------------------------------------------
// Item 4 — any external trace id is accepted
// ---------------------------------------------------------------------------

#[test]
fn item4_external_trace_ids_never_fail_and_never_seed() {
    for name in ["workflow_50_nodes", "workflow_failed_offsets"] {
        let wf = task(name);
        let info = &wf["trace_info"];
        let external = text(&info["trace_id"]);
        // Dify's integration sends nothing for these (B2).
        let err = dify_opik::map(&wf.to_string(), &reference_options()).unwrap_err();
        assert_eq!(err.code.as_str(), "invalid_uuid");
        assert_eq!(err.path, "/trace_info/trace_id");
        let r = map_value(&wf);
        let run = text(&info["workflow_run_id"]);
        let start = text(&info["start_time"]);
        let tr = &traces(&r)[0];
        assert_eq!(s(tr, "id"), id7(start, uid(run)), "{name}");
        let root = one_named(spans(&r), "workflow");
        assert_eq!(s(root, "id"), id7(start, seed(&format!("{run}-root"))));
        for o in [tr, root] {
            assert_eq!(
                at(o, &["metadata", "external_trace_id"]).and_then(J::str),
                Some(external)
            );
        }
    }
    // A v4 external id does not seed either.
    let input = shared_input("workflow_external_trace_id_edge_nodes");
    let v: Value = serde_json::from_str(&input).unwrap();
    let r = map_linked(&input);
    assert_eq!(
        id_tail(s(&traces(&r)[0], "id")),
        id_tail(&uid(text(&v["trace_info"]["workflow_run_id"])).to_text())
    );
}

#[test]
fn item4_two_runs_sharing_an_external_id_never_collide() {
    let a = task("workflow_failed_offsets");
    let mut b = a.clone();
    let other = "3f0c2a55-8d1e-4f5b-9a7c-2b6d8e4f1a90";
    b["trace_info"]["workflow_run_id"] = json!(other);
    b["trace_info"]["metadata"]["workflow_run_id"] = json!(other);
    for (i, n) in b["node_executions"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .enumerate()
    {
        n["workflow_execution_id"] = json!(other);
        n["id"] = json!(format!("3f0c2a55-8d1e-4f5b-9a7c-2b6d8e4f1a9{i}"));
    }
    let r = map_value(&json!([a, b]));
    let ids: Vec<&str> = traces(&r).iter().map(|o| s(o, "id")).collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    // Same millisecond, same external id: the reference would collide.
    assert_eq!(id_ms(ids[0]), id_ms(ids[1]));
    assert!(linked_errors(&r).is_empty());
}

#[test]
fn item4_dify_ids_that_are_not_v4_seed_through_md5() {
    let mut wf = task("workflow_failed_offsets");
    let run = "0195f3a2-6b1c-7d4e-8f00-0123456789ab";
    wf["trace_info"]["workflow_run_id"] = json!(run);
    wf["node_executions"][1]["id"] = json!("node-exec-7");
    for n in wf["node_executions"].as_array_mut().unwrap() {
        n["workflow_execution_id"] = json!(run);
    }
    let r = map_value(&wf);
    let start = text(&wf["trace_info"]["start_time"]);
    assert_eq!(s(&traces(&r)[0], "id"), id7(start, seed(run)));
    let node = one_named(spans(&r), "Write email");
    assert_eq!(
        s(node, "id"),
        id7(
            text(&wf["node_executions"][1]["created_at"]),
            seed("node-exec-7")
        )
    );
    assert!(linked_errors(&r).is_empty());
}

// ---------------------------------------------------------------------------
// Item 5 — iterations and loops nest per round
// ---------------------------------------------------------------------------

#[test]
fn item5_a_fifty_node_workflow_nests_its_rounds() {
    let wf = task("workflow_50_nodes");
    let rows = db_rows(&wf);
    assert_eq!(rows.len(), 50);
    let r = map_value(&wf);
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    // Root + 50 nodes + 3 iteration rounds + 2 loop rounds.
    assert_eq!(spans(&r).len(), 56);
    assert!(linked_errors(&r).is_empty(), "{:?}", linked_errors(&r));

    let root = one_named(spans(&r), "workflow");
    for (title, kind, rounds, tag) in [
        ("Per city", "iteration", 3, "iteration_round"),
        ("Refine draft", "loop", 2, "loop_round"),
    ] {
        let container = one_named(spans(&r), title);
        assert_eq!(s(container, "parent_span_id"), s(root, "id"));
        let exec = rows.iter().find(|row| row["title"] == title).unwrap();
        let exec_id = text(&exec["id"]);
        for index in 0..rounds {
            let name = format!("{title} #{}", index + 1);
            let round = one_named(spans(&r), &name);
            assert_eq!(s(round, "type"), "general");
            assert_eq!(round.get("tags"), Some(&J::Arr(vec![J::Str(tag.into())])));
            assert_eq!(s(round, "parent_span_id"), s(container, "id"), "{name}");
            assert_eq!(
                round.get("metadata"),
                Some(&J::Obj(vec![
                    (format!("{kind}_id"), J::Str(text(&exec["node_id"]).into())),
                    (format!("{kind}_index"), J::Int(index as i128)),
                    ("container_node_execution_id".into(), J::Str(exec_id.into())),
                    ("created_from".into(), J::Str("dify".into())),
                ]))
            );
            // Children: every node execution of the round, and only those.
            let children: Vec<&Value> = rows
                .iter()
                .filter(|row| {
                    row["execution_metadata"][format!("{kind}_index")] == json!(index)
                        && row["execution_metadata"][format!("{kind}_id")] == exec["node_id"]
                })
                .collect();
            let kids: Vec<&J> = spans(&r)
                .iter()
                .filter(|sp| sp.get("parent_span_id").and_then(J::str) == Some(s(round, "id")))
                .collect();
            assert_eq!(kids.len(), children.len(), "{name}");
            assert_eq!(
                kids.len(),
                if kind == "iteration" && index == 2 {
                    7
                } else {
                    6
                }
            );
            let first = children
                .iter()
                .map(|c| micros(text(&c["created_at"])))
                .min()
                .unwrap();
            let last = children
                .iter()
                .map(|c| micros(text(&c["finished_at"])))
                .max()
                .unwrap();
            assert_eq!(micros(s(round, "start_time")), first);
            assert_eq!(micros(s(round, "end_time")), last);
            assert_eq!(
                s(round, "id"),
                v7(
                    first.div_euclid(1000),
                    seed(&format!("{exec_id}:round:{index}"))
                )
                .unwrap()
                .to_text()
            );
            for k in kids {
                assert_eq!(s(k, "trace_id"), s(root, "trace_id"));
            }
        }
        assert!(named(spans(&r), &format!("{title} #{}", rounds + 1)).is_empty());
    }
    // A failed child (exception, or a retried attempt) marks its round.
    assert!(one_named(spans(&r), "Per city #1")
        .get("error_info")
        .is_none());
    for name in ["Per city #2", "Per city #3"] {
        let e = one_named(spans(&r), name).get("error_info").unwrap();
        assert_eq!(s(e, "exception_type"), "iteration_round_failed");
    }
    // Nodes outside any container hang under the root.
    for title in ["Start", "Collect sections", "Route audience", "End"] {
        assert_eq!(
            s(one_named(spans(&r), title), "parent_span_id"),
            s(root, "id")
        );
    }
}

#[test]
fn item5_spans_come_parents_first_even_when_rows_do_not() {
    let wf = task("workflow_50_nodes");
    let rows = db_rows(&wf);
    // The rows come back in the order they finished: containers after children.
    let pos = |title: &str| rows.iter().position(|r| r["title"] == title).unwrap();
    assert!(pos("Per city") > pos("Merge"));
    let r = map_value(&wf);
    let mut seen = std::collections::HashSet::new();
    for sp in spans(&r) {
        if let Some(p) = sp.get("parent_span_id").and_then(J::str) {
            assert!(seen.contains(p), "{} before its parent", s(sp, "name"));
        }
        seen.insert(s(sp, "id").to_owned());
    }
    assert_eq!(s(&spans(&r)[0], "name"), "workflow");
}

#[test]
fn item5_inner_containers_sit_in_the_round_of_the_outer_one() {
    let wf = task("workflow_nested_containers");
    let r = map_value(&wf);
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    assert!(linked_errors(&r).is_empty(), "{:?}", linked_errors(&r));
    let loops = named(spans(&r), "Polish");
    assert_eq!(loops.len(), 2, "the loop ran once per iteration round");
    for (i, lp) in loops.iter().enumerate() {
        let round = parent(&r, lp);
        assert_eq!(s(round, "name"), format!("Per section #{}", i + 1));
        assert_eq!(s(parent(&r, round), "name"), "Per section");
    }
    // Each loop execution owns exactly its own two rounds of two nodes.
    for lp in &loops {
        let rounds: Vec<&J> = spans(&r)
            .iter()
            .filter(|sp| sp.get("parent_span_id").and_then(J::str) == Some(s(lp, "id")))
            .collect();
        let names: Vec<&str> = rounds.iter().map(|o| s(o, "name")).collect();
        assert_eq!(names, ["Polish #1", "Polish #2"]);
        for round in rounds {
            assert!(micros(s(round, "start_time")) >= micros(s(lp, "start_time")));
            assert!(micros(s(round, "end_time")) <= micros(s(lp, "end_time")));
            let kids: Vec<&str> = spans(&r)
                .iter()
                .filter(|sp| sp.get("parent_span_id").and_then(J::str) == Some(s(round, "id")))
                .map(|o| s(o, "name"))
                .collect();
            assert_eq!(kids, ["Critique", "Fix"]);
        }
    }
    // 17 nodes, 2 iteration rounds, 2 × 2 loop rounds, the root.
    assert_eq!(spans(&r).len(), 24);
}

#[test]
fn item5_rounds_without_their_container_hang_under_the_root() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[7]);
    let root = one_named(spans(&r), "workflow");
    let round = one_named(spans(&r), "missing-loop #1");
    assert_eq!(s(round, "parent_span_id"), s(root, "id"));
    assert_eq!(
        at(round, &["metadata", "container_node_execution_id"]),
        Some(&J::Null)
    );
    assert_eq!(
        s(one_named(spans(&r), "In a loop"), "parent_span_id"),
        s(round, "id")
    );
    assert!(has_warning(
        &r,
        "container_not_found",
        "/node_executions/1/metadata/loop_id"
    ));
}

/// Two containers that did not run, with the same kind and round index:
/// each gets a round of its own under the root, with its own children.
#[test]
fn item5_missing_containers_keep_their_rounds_apart() {
    let mut wf = task("workflow_50_nodes");
    for (row, id) in [(20, "1741000000998"), (21, "1741000000999")] {
        let cell = &mut wf["node_executions"][row]["execution_metadata"];
        let mut meta: Value = serde_json::from_str(cell.as_str().unwrap()).unwrap();
        meta["iteration_id"] = json!(id);
        *cell = json!(meta.to_string());
    }
    let r = map_value(&wf);
    let root = one_named(spans(&r), "workflow");
    for (id, child) in [("1741000000998", 20), ("1741000000999", 21)] {
        let round = one_named(spans(&r), &format!("{id} #3"));
        assert_eq!(s(round, "parent_span_id"), s(root, "id"));
        let kids: Vec<&J> = spans(&r)
            .iter()
            .filter(|sp| sp.get("parent_span_id").and_then(J::str) == Some(s(round, "id")))
            .collect();
        assert_eq!(kids.len(), 1, "{id}");
        let row = &db_rows(&wf)[child];
        assert_eq!(s(kids[0], "name"), text(&row["title"]));
        assert!(has_warning(
            &r,
            "container_not_found",
            &format!("/node_executions/{child}/metadata/iteration_id")
        ));
    }
}

/// An iteration round and a loop round of the same container node id and
/// index are two rounds (the kind is part of a round's key).
#[test]
fn item5_an_iteration_and_a_loop_of_one_id_and_index_are_two_rounds() {
    let mut wf = task("workflow_50_nodes");
    let id = "1741000000998";
    for (row, kind) in [(20, "iteration"), (21, "loop")] {
        let cell = &mut wf["node_executions"][row]["execution_metadata"];
        let mut meta: Value = serde_json::from_str(cell.as_str().unwrap()).unwrap();
        let index = meta["iteration_index"].clone();
        let obj = meta.as_object_mut().unwrap();
        obj.remove("iteration_id");
        obj.remove("iteration_index");
        obj.insert(format!("{kind}_id"), json!(id));
        obj.insert(format!("{kind}_index"), index);
        *cell = json!(meta.to_string());
    }
    let r = map_value(&wf);
    let rounds: Vec<&J> = spans(&r)
        .iter()
        .filter(|sp| sp.get("name").and_then(J::str) == Some(&format!("{id} #3")))
        .collect();
    assert_eq!(rounds.len(), 2);
    let mut tags: Vec<String> = rounds
        .iter()
        .map(|round| {
            let kids = spans(&r)
                .iter()
                .filter(|sp| sp.get("parent_span_id").and_then(J::str) == Some(s(round, "id")))
                .count();
            assert_eq!(kids, 1);
            round.get("tags").unwrap().arr()[0]
                .str()
                .unwrap()
                .to_owned()
        })
        .collect();
    tags.sort();
    assert_eq!(tags, ["iteration_round", "loop_round"]);
}

// ---------------------------------------------------------------------------
// Item 6 — errors are errors
// ---------------------------------------------------------------------------

fn error_info(o: &J) -> (String, String, String) {
    let e = o
        .get("error_info")
        .unwrap_or_else(|| panic!("{} has no error_info", s(o, "name")));
    (
        s(e, "exception_type").to_owned(),
        s(e, "message").to_owned(),
        s(e, "traceback").to_owned(),
    )
}

#[test]
fn item6_a_failed_run_and_its_failed_nodes_carry_error_info() {
    let wf = task("workflow_failed_offsets");
    let error = text(&wf["trace_info"]["error"]);
    let r = map_value(&wf);
    for o in [&traces(&r)[0], one_named(spans(&r), "workflow")] {
        assert_eq!(
            error_info(o),
            ("workflow_failed".into(), error.into(), error.into())
        );
    }
    let (ty, msg, tb) = error_info(one_named(spans(&r), "Send email"));
    assert_eq!(ty, "node_failed");
    assert_eq!(msg, "SMTPAuthenticationError: 535 authentication failed");
    assert_eq!(tb, msg);
    let (ty, msg, _) = error_info(one_named(spans(&r), "Validate"));
    assert_eq!(
        (ty.as_str(), msg.as_str()),
        ("node_exception", "ValueError: subject is empty")
    );
    for ok in ["Start", "Write email"] {
        assert!(one_named(spans(&r), ok).get("error_info").is_none(), "{ok}");
    }
    // Dify's integration sends none of this (B14).
    let mut reference = wf.clone();
    reference["trace_info"]["trace_id"] = Value::Null;
    let rr = map_with(&reference.to_string(), &reference_options());
    assert!(traces(&rr)
        .iter()
        .chain(spans(&rr))
        .all(|o| o.get("error_info").is_none()));
}

#[test]
fn item6_retries_exceptions_and_errors_without_status() {
    let r = map_value(&task("workflow_50_nodes"));
    let weather = named(spans(&r), "Weather API");
    let retries: Vec<_> = weather
        .iter()
        .filter(|o| o.get("error_info").is_some())
        .collect();
    assert_eq!(retries.len(), 1);
    assert_eq!(error_info(retries[0]).0, "node_retry");
    assert_eq!(error_info(retries[0]).1, "Request timed out after 10 s");
    let summaries = named(spans(&r), "Summarise city");
    assert_eq!(error_info(summaries[1]).0, "node_exception");
    // A partially succeeded run is not a failed one.
    assert!(traces(&r)[0].get("error_info").is_none());

    // A node whose status is missing but whose error is set; the status
    // stands in for a missing error text.
    let mut wf = task("workflow_failed_offsets");
    wf["node_executions"][0]["error"] = json!("boom");
    wf["node_executions"][0]["status"] = Value::Null;
    wf["node_executions"][2]["error"] = Value::Null;
    let r = map_value(&wf);
    assert_eq!(
        error_info(one_named(spans(&r), "Start")),
        ("node_error".into(), "boom".into(), "boom".into())
    );
    assert_eq!(
        error_info(one_named(spans(&r), "Validate")),
        (
            "node_exception".into(),
            "exception".into(),
            "exception".into()
        )
    );
}

#[test]
fn item6_stopped_is_not_an_error() {
    let mut wf = task("workflow_failed_offsets");
    wf["trace_info"]["workflow_run_status"] = json!("stopped");
    wf["trace_info"]["error"] = json!("Stopped by user.");
    wf["node_executions"][3]["status"] = json!("stopped");
    wf["node_executions"][3]["error"] = json!("Stopped by user.");
    let r = map_value(&wf);
    assert!(traces(&r)[0].get("error_info").is_none());
    assert!(one_named(spans(&r), "workflow").get("error_info").is_none());
    assert!(one_named(spans(&r), "Send email")
        .get("error_info")
        .is_none());
    // The node that raised before the stop is still an error.
    assert!(one_named(spans(&r), "Validate").get("error_info").is_some());
}

#[test]
fn item6_message_tool_retrieval_and_suggestion_errors() {
    let t = tasks("chat_conversation");
    let mut msg = t[5].clone();
    msg["trace_info"]["error"] = json!("Rate limit reached");
    msg["trace_info"]["message_data"]["status"] = json!("error");
    let r = map_value(&msg);
    let want = (
        "message_error".to_owned(),
        "Rate limit reached".to_owned(),
        "Rate limit reached".to_owned(),
    );
    assert_eq!(error_info(&traces(&r)[0]), want);
    assert_eq!(error_info(&spans(&r)[0]), want);
    // Status "error" without a text: the status is the message.
    msg["trace_info"]["error"] = json!("");
    let r = map_value(&msg);
    assert_eq!(error_info(&traces(&r)[0]).1, "error");
    // A normal message with an empty error is fine.
    assert!(traces(&map_value(&t[5]))[0].get("error_info").is_none());

    for (i, field, kind) in [
        (3, "error", "tool"),
        (1, "error", "dataset_retrieval"),
        (6, "error", "suggested_question"),
    ] {
        let mut x = t[i].clone();
        assert!(
            spans(&map_value(&x))[0].get("error_info").is_none(),
            "{kind}"
        );
        x["trace_info"][field] = json!("upstream 503");
        let r = map_value(&x);
        assert_eq!(
            error_info(&spans(&r)[0]),
            (
                format!("{kind}_error"),
                "upstream 503".into(),
                "upstream 503".into()
            )
        );
    }
}

// ---------------------------------------------------------------------------
// Item 7 — cost from Dify's own prices
// ---------------------------------------------------------------------------

#[test]
fn item7_node_spans_carry_dify_prices_in_usd_containers_and_root_none() {
    let wf = task("workflow_50_nodes");
    let rows = db_rows(&wf);
    let r = map_value(&wf);
    let mut priced = 0;
    for row in &rows {
        let md = &row["execution_metadata"];
        let sp = by_id(&r, &id7(text(&row["created_at"]), uid(text(&row["id"]))));
        let container = matches!(text(&row["node_type"]), "iteration" | "loop");
        let price = match &md["total_price"] {
            Value::String(p) => Some(p.parse::<f64>().unwrap()),
            Value::Number(n) => Some(n.as_f64().unwrap()),
            _ => None,
        };
        match (container, price) {
            (true, p) => {
                assert!(p.is_some(), "the fixture prices its containers");
                assert!(sp.get("total_estimated_cost").is_none());
            }
            (false, Some(p)) => {
                priced += 1;
                assert_eq!(
                    float(sp, "total_estimated_cost"),
                    Some(p),
                    "{}",
                    s(sp, "name")
                );
            }
            (false, None) => assert!(sp.get("total_estimated_cost").is_none()),
        }
    }
    // Numeric prices (the completion-mode Rewrite nodes) and text prices.
    assert!(rows
        .iter()
        .any(|r| r["execution_metadata"]["total_price"].is_number()));
    assert_eq!(priced, 11, "every successful LLM call");
    assert!(one_named(spans(&r), "workflow")
        .get("total_estimated_cost")
        .is_none());
    assert!(traces(&r)[0].get("total_estimated_cost").is_none());
}

#[test]
fn item7_message_cost_and_other_currencies() {
    let t = tasks("chat_conversation");
    let r = map_value(&t[5]);
    let usage = &t[5]["trace_info"]["message_data"]["message_metadata"]["usage"];
    let want: f64 = text(&usage["total_price"]).parse().unwrap();
    assert_eq!(float(&spans(&r)[0], "total_estimated_cost"), Some(want));
    assert!(traces(&r)[0].get("total_estimated_cost").is_none());
    // Without a price in the usage: message_data.total_price.
    let mut m = t[5].clone();
    m["trace_info"]["message_data"]["message_metadata"] = json!({});
    m["trace_info"]["message_data"]["total_price"] = json!("0.0004200");
    assert_eq!(
        float(&spans(&map_value(&m))[0], "total_estimated_cost"),
        Some(0.00042)
    );
    // Another currency: no cost, a warning; the price stays in metadata.
    let mut m = t[5].clone();
    m["trace_info"]["message_data"]["message_metadata"]["usage"]["currency"] = json!("RMB");
    let r = map_value(&m);
    assert!(spans(&r)[0].get("total_estimated_cost").is_none());
    assert!(has_warning(
        &r,
        "cost_not_usd",
        "/trace_info/message_data/message_metadata/usage/total_price"
    ));
    let b = tasks("degraded_batch");
    let r = map_value(&b[7]);
    let rmb = one_named(spans(&r), "Priced in RMB");
    assert!(rmb.get("total_estimated_cost").is_none());
    assert_eq!(
        at(rmb, &["metadata", "currency"]).and_then(J::str),
        Some("RMB")
    );
    assert!(at(rmb, &["metadata", "total_price"]).is_some());
    assert!(has_warning(
        &r,
        "cost_not_usd",
        "/node_executions/2/metadata/total_price"
    ));
    // A negative or non-numeric price is no cost.
    let mut m = t[5].clone();
    m["trace_info"]["message_data"]["message_metadata"]["usage"]["total_price"] = json!("-1");
    assert!(spans(&map_value(&m))[0]
        .get("total_estimated_cost")
        .is_none());
}

#[test]
fn item7_db_row_prices_in_other_currencies_point_at_the_column() {
    let mut wf = task("workflow_50_nodes");
    let rows = wf["node_executions"].as_array_mut().unwrap();
    let i = rows.iter().position(|r| r["title"] == "Headline").unwrap();
    let md = text(&rows[i]["execution_metadata"]).replace("\"USD\"", "\"EUR\"");
    rows[i]["execution_metadata"] = json!(md);
    let r = map_value(&wf);
    assert!(one_named(spans(&r), "Headline")
        .get("total_estimated_cost")
        .is_none());
    assert!(has_warning(
        &r,
        "cost_not_usd",
        &format!("/node_executions/{i}/execution_metadata")
    ));
}

// ---------------------------------------------------------------------------
// Item 8 — usage where tokens were used
// ---------------------------------------------------------------------------

#[test]
fn item8_usage_from_process_data_outputs_or_the_metadata_total() {
    let wf = task("workflow_50_nodes");
    let r = map_value(&wf);
    // process_data.usage
    assert_eq!(
        usage_of(one_named(spans(&r), "Plan queries")),
        usage3(Some(120), Some(45), Some(165))
    );
    // outputs.usage (process_data has none)
    assert_eq!(
        usage_of(named(spans(&r), "Summarise city")[0]),
        usage3(Some(300), Some(80), Some(380))
    );
    // the metadata total only (an agent node)
    assert_eq!(
        usage_of(one_named(spans(&r), "Fact checker")),
        usage3(None, None, Some(420))
    );
    // nothing where nothing was used; never on containers or the root
    for name in [
        "Start",
        "Per city",
        "Refine draft",
        "workflow",
        "Per city #1",
        "Score",
    ] {
        for o in named(spans(&r), name) {
            assert!(o.get("usage").is_none(), "{name}");
        }
    }
    // a failed call that used nothing
    assert!(named(spans(&r), "Summarise city")[1].get("usage").is_none());

    // "usage": null in process_data falls back to the outputs (B10).
    let mut cf = tasks("chatflow_conversation")[2].clone();
    cf["node_executions"][2]["process_data"]["usage"] = Value::Null;
    let r = map_value(&cf);
    assert_eq!(
        usage_of(one_named(spans(&r), "LLM")),
        usage3(Some(410), Some(38), Some(448))
    );
}

#[test]
fn item8_message_and_suggestion_usage_and_time_to_first_token() {
    let t = tasks("chat_conversation");
    let r = map_value(&t[5]);
    let llm = &spans(&r)[0];
    assert_eq!(usage_of(llm), usage3(Some(812), Some(164), Some(976)));
    assert!(traces(&r)[0].get("usage").is_none());
    assert_eq!(float(llm, "ttft"), Some(910.0));
    assert_eq!(float(&traces(&r)[0], "ttft"), Some(910.0));
    let r = map_value(&t[6]);
    assert_eq!(usage_of(&spans(&r)[0]), usage3(None, None, Some(230)));
    // The LLM node's own time to first token.
    let r = map_value(&task("workflow_50_nodes"));
    assert_eq!(
        float(one_named(spans(&r), "Plan queries"), "ttft"),
        Some(410.0)
    );
    // All-zero usage is left out.
    let mut m = t[5].clone();
    for k in ["message_tokens", "answer_tokens", "total_tokens"] {
        m["trace_info"][k] = json!(0);
    }
    assert!(spans(&map_value(&m))[0].get("usage").is_none());
}

#[test]
fn item8_counts_that_are_not_int32_are_dropped_with_a_warning() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[7]);
    // prompt -3 and total 3e9 dropped; the metadata total stands in.
    assert_eq!(
        usage_of(one_named(spans(&r), "Odd usage")),
        usage3(None, Some(5), Some(15))
    );
    assert_eq!(
        warnings(&r)
            .into_iter()
            .filter(|(c, _)| c == "invalid_usage")
            .map(|(_, p)| p)
            .collect::<Vec<_>>(),
        [
            "/node_executions/3/process_data/usage/prompt_tokens",
            "/node_executions/3/process_data/usage/total_tokens"
        ]
    );
    let mut m = tasks("chat_conversation")[5].clone();
    m["trace_info"]["message_tokens"] = json!(1.5);
    m["trace_info"]["answer_tokens"] = json!(true);
    let r = map_value(&m);
    assert_eq!(usage_of(&spans(&r)[0]), usage3(None, None, Some(976)));
    assert!(has_warning(
        &r,
        "invalid_usage",
        "/trace_info/message_tokens"
    ));
    assert!(has_warning(
        &r,
        "invalid_usage",
        "/trace_info/answer_tokens"
    ));
    // A DB-row column cannot be pointed into: the column is named.
    let mut wf = task("workflow_50_nodes");
    let rows = wf["node_executions"].as_array_mut().unwrap();
    let i = rows.iter().position(|r| r["title"] == "Outline").unwrap();
    let pd = text(&rows[i]["process_data"])
        .replace("\"prompt_tokens\": 96", "\"prompt_tokens\": \"many\"");
    rows[i]["process_data"] = json!(pd);
    let r = map_value(&wf);
    assert!(has_warning(
        &r,
        "invalid_usage",
        &format!("/node_executions/{i}/process_data")
    ));
}

// ---------------------------------------------------------------------------
// Item 9 — span type from what the node is
// ---------------------------------------------------------------------------

#[test]
fn item9_span_types_follow_the_node_type() {
    let wf = task("workflow_50_nodes");
    let rows = db_rows(&wf);
    let r = map_value(&wf);
    for row in &rows {
        let sp = by_id(&r, &id7(text(&row["created_at"]), uid(text(&row["id"]))));
        let want = match text(&row["node_type"]) {
            "llm" | "question-classifier" | "parameter-extractor" => "llm",
            "tool" | "http-request" | "knowledge-retrieval" | "code" | "agent" | "datasource" => {
                "tool"
            }
            _ => "general",
        };
        assert_eq!(s(sp, "type"), want, "{}", s(sp, "name"));
        if want == "llm" {
            assert_eq!(s(sp, "model"), text(&row["process_data"]["model_name"]));
            assert!(sp.get("provider").is_some());
            // The prompts are the input.
            assert_eq!(
                at(sp, &["input", "input"]).map(|p| p.arr().len()),
                row["process_data"]["prompts"].as_array().map(Vec::len)
            );
        } else {
            assert!(sp.get("model").is_none() && sp.get("provider").is_none());
        }
    }
    // The completion-mode LLM is an llm span (Dify's integration: tool, B9).
    let rewrite = &named(spans(&r), "Rewrite")[0];
    assert_eq!(s(rewrite, "type"), "llm");
    assert!(rows
        .iter()
        .any(|r| r["title"] == "Rewrite" && r["process_data"]["model_mode"] == "completion"));
    // An LLM node without process data: its inputs.
    let r = map_linked(&shared_input("workflow_external_trace_id_edge_nodes"));
    let bare = one_named(spans(&r), "LLM without process data");
    assert_eq!(s(bare, "type"), "llm");
    assert_eq!(bare.get("input"), Some(&J::parse(r#"{"q":"hi"}"#)));

    let t = tasks("chat_conversation");
    let r = map_value(&Value::Array(t));
    for (name, want) in [
        ("moderation", "guardrail"),
        ("dataset_retrieval", "tool"),
        ("google_search", "tool"),
        ("open_weather", "tool"),
        ("suggested_question", "llm"),
        ("llm", "llm"),
        ("generate_conversation_name", "general"),
    ] {
        for sp in named(spans(&r), name) {
            assert_eq!(s(sp, "type"), want, "{name}");
        }
    }
    let sq = &named(spans(&r), "suggested_question")[0];
    assert_eq!(
        (s(sq, "model"), s(sq, "provider")),
        ("gpt-4o-mini", "openai")
    );
    let llm = &named(spans(&r), "llm")[0];
    assert_eq!(
        (s(llm, "model"), s(llm, "provider")),
        ("gpt-4o-mini", "openai")
    );
}

// ---------------------------------------------------------------------------
// Item 10 — providers Opik can price
// ---------------------------------------------------------------------------

#[test]
fn item10_providers_take_opik_names_and_the_raw_id_stays_in_metadata() {
    let r = map_value(&task("workflow_50_nodes"));
    for (title, provider, raw) in [
        ("Outline", "mistral", "langgenius/mistralai/mistralai"),
        ("Plan queries", "openai", "langgenius/openai/openai"),
        (
            "Extract cities",
            "anthropic",
            "langgenius/anthropic/anthropic",
        ),
        ("Critique", "deepseek", "langgenius/deepseek/deepseek"),
        (
            "Route audience",
            "anthropic_vertexai",
            "langgenius/vertex_ai/vertex_ai",
        ),
        ("Headline", "xai", "langgenius/x/x"),
        ("Summarise city", "google_ai", "langgenius/gemini/google"),
    ] {
        let sp = named(spans(&r), title)[0];
        assert_eq!(s(sp, "provider"), provider, "{title}");
        assert_eq!(
            at(sp, &["metadata", "ls_provider"]).and_then(J::str),
            Some(raw)
        );
    }
    let r = map_value(&task("workflow_failed_offsets"));
    assert_eq!(s(one_named(spans(&r), "Write email"), "provider"), "azure");
    let r = map_value(&tasks("degraded_batch")[7]);
    assert_eq!(s(one_named(spans(&r), "Priced in RMB"), "provider"), "zai");
    // The message span: metadata.ls_provider, raw id kept.
    let r = map_value(&tasks("chat_conversation")[5]);
    assert_eq!(s(&spans(&r)[0], "provider"), "openai");
    assert_eq!(
        at(&spans(&r)[0], &["metadata", "ls_provider"]).and_then(J::str),
        Some("langgenius/openai/openai")
    );
}

// ---------------------------------------------------------------------------
// Item 11 — metadata that says what happened
// ---------------------------------------------------------------------------

#[test]
fn item11_message_metadata_keeps_the_user() {
    let t = tasks("chat_conversation");
    let end_user = text(&t[5]["trace_info"]["message_data"]["from_end_user_id"]);
    let r = map_value(&t[5]);
    for o in [&traces(&r)[0], &spans(&r)[0]] {
        assert_eq!(
            at(o, &["metadata", "user_id"]).and_then(J::str),
            Some(end_user)
        );
        assert_eq!(
            at(o, &["metadata", "end_user_id"]).and_then(J::str),
            Some("visitor-42")
        );
    }
    // Dify's integration overwrites it with the (null) account id (B5).
    let rr = map_with(&t[5].to_string(), &reference_options());
    assert_eq!(
        at(&traces(&rr)[0], &["metadata", "user_id"]),
        Some(&J::Null)
    );
}

#[test]
fn item11_node_metadata_names_the_app_and_the_node() {
    let r = map_value(&task("workflow_50_nodes"));
    for sp in spans(&r) {
        if sp.get("tags") == Some(&J::Arr(vec![J::Str("node_execution".into())])) {
            assert_eq!(
                at(sp, &["metadata", "app_name"]).and_then(J::str),
                Some("Research report")
            );
            assert_eq!(
                at(sp, &["metadata", "node_title"]).and_then(J::str),
                Some(s(sp, "name"))
            );
        }
    }
    // Every object says where it came from (checked for all in linked_validity).
    for o in traces(&r).iter().chain(spans(&r)) {
        assert_eq!(
            at(o, &["metadata", "created_from"]).and_then(J::str),
            Some("dify")
        );
    }
}

// ---------------------------------------------------------------------------
// Item 12 — inputs and outputs are always JSON objects
// ---------------------------------------------------------------------------

#[test]
fn item12_message_traces_show_the_query_and_the_answer() {
    let t = tasks("chat_conversation");
    let r = map_value(&t[5]);
    let d = &t[5]["trace_info"]["message_data"];
    let tr = &traces(&r)[0];
    assert_eq!(
        tr.get("input"),
        Some(&J::Obj(vec![
            ("query".into(), J::Str(text(&d["query"]).into())),
            ("inputs".into(), J::parse(r#"{"city":"Lisbon"}"#)),
        ]))
    );
    let answer = J::Obj(vec![("answer".into(), J::Str(text(&d["answer"]).into()))]);
    assert_eq!(tr.get("output"), Some(&answer));
    let llm = &spans(&r)[0];
    assert_eq!(
        at(llm, &["input", "messages"]).map(|m| m.arr().len()),
        Some(2)
    );
    assert_eq!(llm.get("output"), Some(&answer));
    // No app variables: no "inputs" key.
    let mut m = t[5].clone();
    m["trace_info"]["message_data"]["inputs"] = json!({});
    let r = map_value(&m);
    assert_eq!(
        traces(&r)[0].get("input"),
        Some(&J::Obj(vec![(
            "query".into(),
            J::Str(text(&d["query"]).into())
        )]))
    );
    // Dify's integration sends a list and a string (B16).
    let rr = map_with(&t[5].to_string(), &reference_options());
    assert!(matches!(traces(&rr)[0].get("input"), Some(J::Arr(_))));
    assert!(matches!(traces(&rr)[0].get("output"), Some(J::Str(_))));
}

#[test]
fn item12_every_input_and_output_is_an_object() {
    let mut all = Vec::new();
    for (name, input) in common::all_inputs() {
        let r = J::parse(&dify_opik::map_each_json(&input, &linked_options()).unwrap());
        all.push((name, r));
    }
    let mut n = 0;
    for (name, r) in &all {
        for o in traces(r).iter().chain(spans(r)) {
            for k in ["input", "output", "metadata"] {
                if let Some(v) = o.get(k) {
                    n += 1;
                    assert!(matches!(v, J::Obj(_)), "{name}: {k} of {}", s(o, "name"));
                }
            }
        }
    }
    assert!(n > 300);
    // Generate name: strings wrapped; chatflow traces keep sys.query / answer.
    let r = map_value(&tasks("chatflow_conversation").into());
    let gn = one_named(traces(&r), "generate_conversation_name");
    assert_eq!(
        gn.get("input"),
        Some(&J::parse(r#"{"input":"How do I export traces to Opik?"}"#))
    );
    let wf = one_named(traces(&r), "message");
    assert!(at(wf, &["input", "sys.query"]).is_some());
    assert!(at(wf, &["output", "answer"]).is_some());
}

// ---------------------------------------------------------------------------
// Item 13 — nothing is lost on partial input
// ---------------------------------------------------------------------------

#[test]
fn item13_a_workflow_without_app_id_keeps_its_nodes() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[6]);
    // Root + 2 nodes of this run; the other run's node is left out.
    assert_eq!(spans(&r).len(), 3);
    assert!(named(spans(&r), "End").len() == 1);
    for sp in &spans(&r)[1..] {
        assert_eq!(
            at(sp, &["metadata", "app_id"]).and_then(J::str),
            Some(text(&b[6]["app_id"]))
        );
    }
    assert_eq!(
        warnings(&r),
        [
            (
                "foreign_node_execution".to_owned(),
                "/node_executions/1".to_owned()
            ),
            (
                "missing_app_id".to_owned(),
                "/trace_info/metadata/app_id".to_owned()
            ),
        ]
    );
    // Dify's integration stops after the root span (B7).
    assert!(dify_opik::map(&b[6].to_string(), &reference_options()).is_err());
}

#[test]
fn item13_a_message_without_message_data_is_still_sent() {
    let b = tasks("degraded_batch");
    let info = &b[8]["trace_info"];
    let r = map_value(&b[8]);
    let tr = &traces(&r)[0];
    assert_eq!(s(tr, "start_time"), "2026-03-02T09:50:00Z");
    assert_eq!(s(tr, "end_time"), "2026-03-02T09:50:01.200000Z");
    assert_eq!(
        s(tr, "thread_id"),
        text(&info["metadata"]["conversation_id"])
    );
    assert_eq!(
        s(tr, "id"),
        id7(text(&info["start_time"]), uid(text(&info["message_id"])))
    );
    let llm = &spans(&r)[0];
    assert_eq!(s(llm, "trace_id"), s(tr, "id"));
    assert_eq!(usage_of(llm), usage3(Some(9), Some(3), Some(12)));
    assert_eq!(
        at(llm, &["output", "answer"]).and_then(J::str),
        Some("Hello!")
    );
    assert_eq!(
        warnings(&r),
        [(
            "message_data_missing".to_owned(),
            "/trace_info/message_data".to_owned()
        )]
    );
    // Dify's integration sends nothing.
    let rr = map_with(&b[8].to_string(), &reference_options());
    assert!(traces(&rr).is_empty() && spans(&rr).is_empty());
}

#[test]
fn item13_auxiliary_tasks_without_message_data_get_a_trace_of_their_own() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[2]);
    assert_eq!(traces(&r).len(), 1);
    assert_eq!(s(&spans(&r)[0], "trace_id"), s(&traces(&r)[0], "id"));
    assert!(traces(&r)[0].get("thread_id").is_none());
    assert_eq!(
        warnings(&r),
        [(
            "trace_not_joined".to_owned(),
            "/trace_info/message_data".to_owned()
        )]
    );
}

#[test]
fn item13_ignored_types_and_empty_tasks_give_an_empty_result() {
    let b = tasks("degraded_batch");
    for (i, code, path) in [
        (0, "ignored_type", "/trace_info_type"),
        (1, "no_trace_info", "/trace_info"),
    ] {
        let r = map_value(&b[i]);
        assert!(traces(&r).is_empty() && spans(&r).is_empty());
        assert_eq!(warnings(&r), [(code.to_owned(), path.to_owned())]);
    }
    // The reference fails on the `dict` envelope.
    assert!(dify_opik::map(&b[1].to_string(), &reference_options()).is_err());
}

// ---------------------------------------------------------------------------
// Item 14 — secrets stay out of Opik
// ---------------------------------------------------------------------------

#[test]
fn item14_credentials_and_signed_urls_are_redacted() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[10]);
    let sp = &spans(&r)[0];
    let headers = at(sp, &["input", "headers"]).unwrap();
    assert_eq!(s(headers, "Authorization"), "[redacted]");
    assert_eq!(s(headers, "X-Api-Key"), "[redacted]");
    assert_eq!(
        at(sp, &["input", "url"]).and_then(J::str),
        Some("https://api.example.com/v1/items")
    );
    assert_eq!(
        at(sp, &["output", "output"]).and_then(J::str),
        Some("https://bucket.s3.amazonaws.com/report.pdf")
    );
    let md = sp.get("metadata").unwrap();
    assert_eq!(
        at(md, &["tool_inputs", "headers", "Authorization"]).and_then(J::str),
        Some("[redacted]")
    );
    assert_eq!(
        md.get("tool_outputs").and_then(J::str),
        Some("https://bucket.s3.amazonaws.com/report.pdf")
    );
    let w = &r.get("warnings").unwrap().arr()[0];
    assert_eq!((s(w, "code"), s(w, "path")), ("redacted", ""));
    assert!(s(w, "message").starts_with("8 "), "{}", s(w, "message"));
    assert!(s(w, "message").contains("/spans/0/input/headers/Authorization"));
    let out = r.to_owned();
    let text_out = format!("{out:?}");
    for secret in ["sk-live-123", "k-456", "deadbeef"] {
        assert!(!text_out.contains(secret), "{secret} leaked");
    }

    // The conversation's signed file-preview URL and the mailer's password.
    let r = map_value(&tasks("chat_conversation")[5]);
    let files = at(&traces(&r)[0], &["metadata", "file_list"])
        .unwrap()
        .arr();
    assert!(!s_of(&files[0]).contains('?'), "{:?}", files[0]);
    assert!(s_of(&files[0]).starts_with("http://127.0.0.1:5001/files/tools/"));
    let r = map_value(&task("workflow_failed_offsets"));
    assert_eq!(
        at(one_named(spans(&r), "Send email"), &["input", "password"]).and_then(J::str),
        Some("[redacted]")
    );
    assert!(has_warning(&r, "redacted", ""));
}

/// The same credential keys, with values that hold nothing (Python-falsy)
/// and values that do, once in an object the mapper builds (the trace's
/// metadata) and once in a subtree it passes through as raw text (a node's
/// inputs): both are treated alike. Raw text used to redact `0`, `[]` and `{}`
/// that a built object kept.
#[test]
fn item14_empty_credential_values_are_kept_alike_in_built_and_raw_objects() {
    let mut wf = task("workflow_failed_offsets");
    let values = json!({
        "token": 0, "password": [], "secret": {}, "api_key": 0.0, "cookie": "", "passwd": null,
        "authorization": false, "x-api-key": " ", "private_key": [0], "client_secret": 7
    });
    let empty = [
        "token",
        "password",
        "secret",
        "api_key",
        "cookie",
        "passwd",
        "authorization",
    ];
    let full = ["x-api-key", "private_key", "client_secret"];
    for (k, v) in values.as_object().unwrap() {
        wf["trace_info"]["metadata"][k] = v.clone();
    }
    wf["node_executions"][0]["inputs"] = values.clone();
    let r = map_value(&wf);
    let built = traces(&r)[0].get("metadata").unwrap();
    let raw = spans(&r)
        .iter()
        .filter_map(|s| s.get("input"))
        .find(|i| i.get("client_secret").is_some())
        .unwrap();
    for obj in [built, raw] {
        for k in empty {
            let want = J::parse(&values[k].to_string());
            assert_eq!(obj.get(k), Some(&want), "{k} kept");
        }
        for k in full {
            assert_eq!(obj.get(k).and_then(J::str), Some("[redacted]"), "{k}");
        }
    }
}

fn s_of(j: &J) -> &str {
    j.str().unwrap()
}

/// The paths of the values `[redacted]` in a mapped result, in output order:
/// traces, then spans, each object's input, output and metadata depth first.
fn redacted_paths(r: &J) -> Vec<String> {
    fn walk(v: &J, path: String, out: &mut Vec<String>) {
        match v {
            J::Str(t) if t == "[redacted]" => out.push(path),
            J::Obj(entries) => {
                for (k, v) in entries {
                    walk(
                        v,
                        format!("{path}/{}", dify_opik::error::pointer_token(k)),
                        out,
                    );
                }
            }
            J::Arr(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, format!("{path}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for list in ["traces", "spans"] {
        for (i, o) in r.get(list).unwrap().arr().iter().enumerate() {
            for field in ["input", "output", "metadata"] {
                if let Some(v) = o.get(field) {
                    walk(v, format!("/{list}/{i}/{field}"), &mut out);
                }
            }
        }
    }
    out
}

/// Node spans are redacted where they are built, before the run's spans are
/// put parents first: the warning must still count every redaction and name
/// the first one in output order. Here the first in the input (a round's
/// child) comes after its container (whose row is later) in the output.
#[test]
fn item14_redactions_are_counted_and_the_first_named_in_output_order() {
    let mut wf = task("workflow_50_nodes");
    let patch = |wf: &mut Value, row: usize, column: &str, key: &str, value: &str| {
        let cell = &mut wf["node_executions"][row][column];
        let mut obj: Value = match cell.as_str() {
            Some(t) => serde_json::from_str(t).unwrap(),
            None => json!({}),
        };
        obj[key] = json!(value);
        *cell = json!(obj.to_string());
    };
    patch(
        &mut wf,
        10,
        "execution_metadata",
        "Authorization",
        "Bearer child-10",
    );
    patch(
        &mut wf,
        27,
        "execution_metadata",
        "api_key",
        "sk-container-27",
    );
    patch(&mut wf, 27, "execution_metadata", "token", "t-container-27");
    patch(&mut wf, 32, "inputs", "password", "pw-loop-32");
    patch(&mut wf, 49, "execution_metadata", "secret", "s-end-49");
    let r = map_value(&wf);

    let found = redacted_paths(&r);
    assert_eq!(found.len(), 5, "{found:?}");
    let w = r
        .get("warnings")
        .unwrap()
        .arr()
        .iter()
        .find(|w| s(w, "code") == "redacted")
        .expect("a redacted warning");
    let message = s(w, "message");
    assert!(message.starts_with("5 "), "{message}");
    assert!(
        message.contains(&format!("the first at {} of", found[0])),
        "{message} / {found:?}"
    );
    // The first in output order is the container's, not the earlier row's.
    let first_span: usize = found[0].split('/').nth(2).unwrap().parse().unwrap();
    assert_eq!(s(&spans(&r)[first_span], "name"), "Per city");
    assert!(found[0].ends_with("/metadata/api_key"), "{found:?}");
    let text_out = format!("{:?}", r.to_owned());
    for secret in ["child-10", "container-27", "pw-loop-32", "s-end-49"] {
        assert!(!text_out.contains(secret), "{secret} leaked");
    }
}

#[test]
fn item14_keys_match_whole_case_insensitively_and_redaction_can_be_off() {
    let mut tool = tasks("chat_conversation")[3].clone();
    let inputs = json!({
        "Proxy-Authorization": "Basic x", "APIKEY": "a", "api-key": "b", "passwd": "c",
        "Client_Secret": "d", "refresh_token": "e", "access-token": "f", "Token": "g",
        "Cookie": "h", "set_cookie": "i", "PRIVATE-KEY": "j", "secret": "k", "password": "l",
        "authorization": "m", "x_api_key": "n",
        "nested": [{"deep": {"token": "o"}}],
        "max_tokens": 512, "total_tokens": 9, "token_count": 3, "secret_name": "p",
        "empty_password": "", "password2": "q",
        "link": "https://files.example.com/a.png?signature=abc&x=1",
        "plain": "https://example.com/a?page=2"
    });
    tool["trace_info"]["tool_inputs"] = inputs;
    let r = map_value(&tool);
    let input = spans(&r)[0].get("input").unwrap();
    for k in [
        "Proxy-Authorization",
        "APIKEY",
        "api-key",
        "passwd",
        "Client_Secret",
        "refresh_token",
        "access-token",
        "Token",
        "Cookie",
        "set_cookie",
        "PRIVATE-KEY",
        "secret",
        "password",
        "authorization",
        "x_api_key",
    ] {
        assert_eq!(input.get(k).and_then(J::str), Some("[redacted]"), "{k}");
    }
    assert_eq!(
        at(&input.get("nested").unwrap().arr()[0], &["deep", "token"]).and_then(J::str),
        Some("[redacted]")
    );
    assert_eq!(input.get("max_tokens"), Some(&J::Int(512)));
    assert_eq!(input.get("total_tokens"), Some(&J::Int(9)));
    assert_eq!(input.get("token_count"), Some(&J::Int(3)));
    assert_eq!(input.get("secret_name").and_then(J::str), Some("p"));
    assert_eq!(input.get("password2").and_then(J::str), Some("q"));
    assert_eq!(
        input.get("link").and_then(J::str),
        Some("https://files.example.com/a.png")
    );
    assert_eq!(
        input.get("plain").and_then(J::str),
        Some("https://example.com/a?page=2")
    );

    let off = Options {
        redact: false,
        ..linked_options()
    };
    let r = map_with(&tool.to_string(), &off);
    let input = spans(&r)[0].get("input").unwrap();
    assert_eq!(input.get("password").and_then(J::str), Some("l"));
    assert!(warnings(&r).is_empty());
}

// ---------------------------------------------------------------------------
// Item 15 — ids for backfills
// ---------------------------------------------------------------------------

fn all_ids(r: &J) -> Vec<String> {
    let mut v = Vec::new();
    for o in traces(r).iter().chain(spans(r)) {
        for k in ["id", "trace_id", "parent_span_id"] {
            if let Some(x) = o.get(k).and_then(J::str) {
                v.push(x.to_owned());
            }
        }
    }
    v
}

#[test]
fn item15_id_time_at_moves_every_id_to_one_millisecond() {
    let text = linked_fixture("chat_conversation");
    let event = map_linked(&text);
    let at_t = micros("2027-01-15T12:00:00.123Z");
    let opts = Options {
        id_time: IdTime::At(at_t),
        now: Some(micros("2027-01-15T12:00:00Z")),
        ..linked_options()
    };
    let moved = map_with(&text, &opts);
    let (a, b) = (all_ids(&event), all_ids(&moved));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(id_ms(y), at_t / 1000);
        assert_eq!(id_tail(x), id_tail(y), "the other 74 bits stay");
    }
    // Event times stay; spans still find their traces; no window warning.
    for (x, y) in traces(&event)
        .iter()
        .chain(spans(&event))
        .zip(traces(&moved).iter().chain(spans(&moved)))
    {
        assert_eq!(x.get("start_time"), y.get("start_time"));
        assert_eq!(x.get("end_time"), y.get("end_time"));
    }
    let ids: Vec<&str> = traces(&moved).iter().map(|o| s(o, "id")).collect();
    assert!(spans(&moved)
        .iter()
        .all(|sp| ids.contains(&s(sp, "trace_id"))));
    assert!(!warnings(&moved)
        .iter()
        .any(|(c, _)| c == "id_outside_window"));
    assert_eq!(
        map_with(&text, &opts),
        moved,
        "the same option gives the same ids"
    );
}

#[test]
fn item15_an_event_range_maps_linearly_and_keeps_the_order_of_turns() {
    let text = linked_fixture("chat_conversation");
    let e0 = micros("2026-03-02T09:12:00Z");
    let e1 = micros("2026-03-02T09:14:00Z");
    let t = micros("2027-01-15T12:00:00Z");
    let opts = Options {
        id_time: IdTime::Range {
            at: t,
            from: e0,
            to: e1,
        },
        now: Some(t),
        ..linked_options()
    };
    let r = map_with(&text, &opts);
    let h23 = 23 * 3_600_000i64;
    let expect = |e: i64| {
        let e = e.clamp(e0, e1) / 1000;
        t / 1000 - h23 + (e - e0 / 1000) * h23 / ((e1 - e0) / 1000).max(1)
    };
    for tr in named(traces(&r), "message") {
        assert_eq!(id_ms(s(tr, "id")), expect(micros(s(tr, "start_time"))));
    }
    let msgs = named(traces(&r), "message");
    assert!(s(msgs[0], "id") < s(msgs[1], "id"), "turn order survives");
    // Spans of a turn join its trace under the mapping too.
    let ids: Vec<&str> = traces(&r).iter().map(|o| s(o, "id")).collect();
    assert!(spans(&r).iter().all(|sp| ids.contains(&s(sp, "trace_id"))));
    // Times outside the range are clamped to its ends.
    let b = tasks("degraded_batch");
    let old = map_with(&b[11].to_string(), &opts);
    assert_eq!(id_ms(s(&traces(&old)[0], "id")), t / 1000 - h23);
    // The whole window is within Opik Cloud's 24 h.
    for id in all_ids(&r) {
        assert!((t / 1000 - id_ms(&id)).abs() <= h23);
    }
}

#[test]
fn item15_ids_outside_the_24_hour_window_are_flagged_once_per_task() {
    let b = tasks("degraded_batch");
    let r = map_value(&b[11]);
    let w = &r.get("warnings").unwrap().arr()[0];
    assert_eq!(s(w, "code"), "id_outside_window");
    assert_eq!(s(w, "path"), "/trace_info/start_time");
    assert!(
        s(w, "message").contains("id_time"),
        "the warning names the option"
    );
    // A whole workflow from a week ago: one warning for its 57 ids.
    let opts = Options {
        now: Some(micros("2026-03-09T10:00:00Z")),
        ..linked_options()
    };
    let r = map_with(&linked_fixture("workflow_50_nodes"), &opts);
    assert_eq!(
        warnings(&r),
        [(
            "id_outside_window".to_owned(),
            "/trace_info/start_time".to_owned()
        )]
    );
    // Ids in the future count too.
    let opts = Options {
        now: Some(micros("2026-02-27T10:00:00Z")),
        ..linked_options()
    };
    let r = map_with(&linked_fixture("chat_conversation"), &opts);
    let n = warnings(&r)
        .iter()
        .filter(|(c, _)| c == "id_outside_window")
        .count();
    assert_eq!(n, 10, "once per task that emits objects");
    // Within 24 h: nothing.
    assert!(!warnings(&map_linked(&linked_fixture("workflow_50_nodes")))
        .iter()
        .any(|(c, _)| c == "id_outside_window"));
    // And never with id_time set.
    let opts = Options {
        now: Some(micros("2030-01-01T00:00:00Z")),
        id_time: IdTime::At(micros("2030-01-01T00:00:00Z")),
        ..linked_options()
    };
    assert!(warnings(&map_with(&b[11].to_string(), &opts)).is_empty());
    let _ = Profile::Linked;
}

#[test]
fn tags_longer_than_opik_allows_are_cut_with_a_warning() {
    let b = tasks("degraded_batch");
    let name = text(&b[9]["trace_info"]["tool_name"]).to_owned();
    assert!(name.chars().count() > 100);
    let r = map_value(&b[9]);
    let sp = &spans(&r)[0];
    let tags = sp.get("tags").unwrap().arr();
    assert_eq!(tags[0].str(), Some("tool"));
    let cut = tags[1].str().unwrap();
    assert_eq!(cut.chars().count(), 100);
    assert!(name.starts_with(cut));
    // The name itself is not a tag: it stays whole.
    assert_eq!(s(sp, "name"), name);
    assert_eq!(
        warnings(&r),
        [(
            "tag_truncated".to_owned(),
            "/trace_info/tool_name".to_owned()
        )]
    );
}
