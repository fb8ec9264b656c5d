//! Checks of the `linked` profile's output contract (linked-profile.md §3),
//! written in Rust so that `cargo test` needs nothing else:
//!
//! * the rules of `../shared/opik/opik-ingest.schema.json`
//!   `Strict_Trace_Write` / `Strict_Span_Write` (allowed keys, required keys,
//!   lowercase UUIDv7 ids, UTC `Z` times, tag limits, int32 usage ≥ 0,
//!   cost ≥ 0, non-empty `error_info` strings, …);
//! * the linked profile's own promises: parents emitted before children in the
//!   same trace, objects for `input`/`output`/`metadata`, `created_from`, no
//!   SDK artefacts.

use super::J;

const TRACE_KEYS: &[&str] = &[
    "id",
    "project_name",
    "name",
    "start_time",
    "end_time",
    "last_updated_at",
    "input",
    "output",
    "metadata",
    "tags",
    "error_info",
    "ttft",
    "source",
    "environment",
    "thread_id",
];

const SPAN_KEYS: &[&str] = &[
    "id",
    "project_name",
    "trace_id",
    "parent_span_id",
    "name",
    "type",
    "start_time",
    "end_time",
    "last_updated_at",
    "input",
    "output",
    "metadata",
    "model",
    "provider",
    "tags",
    "usage",
    "error_info",
    "total_estimated_cost",
    "total_estimated_cost_version",
    "ttft",
    "source",
    "environment",
];

/// `^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`
pub fn is_v7(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 36 {
        return false;
    }
    for (i, &c) in b.iter().enumerate() {
        let ok = match i {
            8 | 13 | 18 | 23 => c == b'-',
            14 => c == b'7',
            19 => matches!(c, b'8' | b'9' | b'a' | b'b'),
            _ => c.is_ascii_digit() || (b'a'..=b'f').contains(&c),
        };
        if !ok {
            return false;
        }
    }
    true
}

/// `^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$`
pub fn is_utc_time(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let shape = b"dddd-dd-ddTdd:dd:dd";
    for (i, &c) in shape.iter().enumerate() {
        let ok = if c == b'd' {
            b[i].is_ascii_digit()
        } else {
            b[i] == c
        };
        if !ok {
            return false;
        }
    }
    let rest = &b[19..b.len() - 1];
    match rest {
        [] => true,
        [b'.', digits @ ..] => {
            (1..=9).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        }
        _ => false,
    }
}

fn json_list_string(v: &J) -> bool {
    match v {
        J::Obj(_) | J::Str(_) => true,
        J::Arr(a) => a.iter().all(|x| matches!(x, J::Obj(_))),
        _ => false,
    }
}

fn check_error_info(e: &J, at: &str, out: &mut Vec<String>) {
    let J::Obj(o) = e else {
        out.push(format!("{at}: error_info is not an object"));
        return;
    };
    for (k, v) in o {
        if !["exception_type", "message", "traceback"].contains(&k.as_str()) {
            out.push(format!("{at}/{k}: unexpected key"));
        }
        match v.str() {
            Some(s) if !s.is_empty() => {}
            _ => out.push(format!("{at}/{k}: must be a non-empty string")),
        }
    }
    for k in ["exception_type", "message", "traceback"] {
        if e.get(k).is_none() {
            out.push(format!("{at}: missing {k}"));
        }
    }
}

fn check_tags(tags: &J, at: &str, out: &mut Vec<String>) {
    let J::Arr(a) = tags else {
        out.push(format!("{at}: tags is not an array"));
        return;
    };
    if a.len() > 50 {
        out.push(format!("{at}: {} tags (max 50)", a.len()));
    }
    for (i, t) in a.iter().enumerate() {
        match t.str() {
            Some(s) if !s.is_empty() && s.chars().count() <= 100 => {}
            _ => out.push(format!(
                "{at}/{i}: tag must be a string of 1–100 characters"
            )),
        }
        if a[..i].contains(t) {
            out.push(format!("{at}/{i}: duplicate tag"));
        }
    }
}

fn check_common(o: &J, at: &str, allowed: &[&str], out: &mut Vec<String>) {
    let J::Obj(fields) = o else {
        out.push(format!("{at}: not an object"));
        return;
    };
    for (k, v) in fields {
        let p = format!("{at}/{k}");
        if !allowed.contains(&k.as_str()) {
            out.push(format!("{p}: key not allowed by the Strict schema"));
            continue;
        }
        let number = || match v {
            J::Int(n) => *n >= 0,
            J::Float(f) => f.is_finite() && *f >= 0.0,
            _ => false,
        };
        let rule: Option<(bool, &str)> = match k.as_str() {
            "id" | "trace_id" | "parent_span_id" => {
                Some((v.str().is_some_and(is_v7), "not a lowercase UUIDv7"))
            }
            "start_time" | "end_time" | "last_updated_at" => {
                Some((v.str().is_some_and(is_utc_time), "not a UTC 'Z' time"))
            }
            "project_name" => Some((
                v.str()
                    .is_some_and(|s| s.chars().any(|c| !c.is_whitespace())),
                "blank project",
            )),
            "name" | "model" | "provider" | "total_estimated_cost_version" => {
                Some((v.str().is_some(), "not a string"))
            }
            "thread_id" => Some((
                v.str().is_some_and(|s| !s.is_empty()),
                "thread_id must be a non-empty string",
            )),
            "input" | "output" | "metadata" => Some((
                json_list_string(v),
                "not an object, list of objects or string",
            )),
            "ttft" | "total_estimated_cost" => Some((number(), "must be a number ≥ 0")),
            "source" => Some((v.str() == Some("sdk"), "source must be \"sdk\"")),
            "environment" => Some((
                v.str().is_some_and(|s| s.chars().count() <= 150),
                "environment must be a string ≤ 150",
            )),
            "type" => Some((
                matches!(v.str(), Some("general" | "tool" | "llm" | "guardrail")),
                "type not in the enum",
            )),
            _ => None,
        };
        if let Some((ok, why)) = rule {
            if !ok {
                out.push(format!("{p}: {why}: {v:?}"));
            }
            continue;
        }
        match k.as_str() {
            "tags" => check_tags(v, &p, out),
            "error_info" => check_error_info(v, &p, out),
            "usage" => match v {
                J::Obj(u) => {
                    for (uk, uv) in u {
                        match uv {
                            J::Int(n) if (0..=i128::from(i32::MAX)).contains(n) => {}
                            _ => out.push(format!("{p}/{uk}: usage must be an int32 ≥ 0")),
                        }
                    }
                }
                _ => out.push(format!("{p}: usage must be an object")),
            },
            _ => {}
        }
    }
}

/// Violations of `Strict_Trace_Write` by one trace.
pub fn trace_errors(t: &J, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    check_common(t, at, TRACE_KEYS, &mut out);
    for k in ["id", "start_time"] {
        if t.get(k).is_none() {
            out.push(format!("{at}: missing required {k}"));
        }
    }
    out
}

/// Violations of `Strict_Span_Write` by one span.
pub fn span_errors(s: &J, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    check_common(s, at, SPAN_KEYS, &mut out);
    for k in ["id", "trace_id", "type", "start_time"] {
        if s.get(k).is_none() {
            out.push(format!("{at}: missing required {k}"));
        }
    }
    out
}

/// Every object against the Strict rules, plus the linked profile's
/// structural promises.
pub fn linked_errors(result: &J) -> Vec<String> {
    let mut out = Vec::new();
    let traces = result.get("traces").map(J::arr).unwrap_or(&[]);
    let spans = result.get("spans").map(J::arr).unwrap_or(&[]);
    for (i, t) in traces.iter().enumerate() {
        let at = format!("/traces/{i}");
        out.extend(trace_errors(t, &at));
        out.extend(linked_shape_errors(t, &at));
    }
    // Ids are unique per kind.
    let mut ids: Vec<&str> = traces
        .iter()
        .filter_map(|t| t.get("id").and_then(J::str))
        .collect();
    ids.sort_unstable();
    if ids.windows(2).any(|w| w[0] == w[1]) {
        out.push("two traces share an id".to_owned());
    }
    let mut seen: Vec<(&str, &str)> = Vec::new();
    for (i, s) in spans.iter().enumerate() {
        let at = format!("/spans/{i}");
        out.extend(span_errors(s, &at));
        out.extend(linked_shape_errors(s, &at));
        let id = s.get("id").and_then(J::str).unwrap_or("");
        let trace = s.get("trace_id").and_then(J::str).unwrap_or("");
        if seen.iter().any(|(x, _)| *x == id) {
            out.push(format!("{at}: span id {id} emitted twice"));
        }
        if let Some(p) = s.get("parent_span_id").and_then(J::str) {
            match seen.iter().find(|(x, _)| *x == p) {
                None => out.push(format!(
                    "{at}: parent_span_id {p} names no span emitted before it"
                )),
                Some((_, pt)) if *pt != trace => {
                    out.push(format!("{at}: parent {p} belongs to another trace"))
                }
                _ => {}
            }
        }
        seen.push((id, trace));
    }
    out
}

/// Item 11 / 12 / 8: objects for input, output and metadata; `created_from`;
/// no `original_usage.*` or `metadata.usage` copies.
fn linked_shape_errors(o: &J, at: &str) -> Vec<String> {
    let mut out = Vec::new();
    for k in ["input", "output", "metadata"] {
        if let Some(v) = o.get(k) {
            if !matches!(v, J::Obj(_)) {
                out.push(format!("{at}/{k}: not a JSON object (item 12)"));
            }
        }
    }
    match o.get("metadata") {
        Some(m) => {
            if m.get("created_from").and_then(J::str) != Some("dify") {
                out.push(format!("{at}/metadata: no created_from \"dify\""));
            }
            if m.get("usage").is_some() {
                out.push(format!("{at}/metadata/usage: SDK artefact (item 8)"));
            }
        }
        None => out.push(format!("{at}: no metadata")),
    }
    if let Some(J::Obj(u)) = o.get("usage") {
        for (k, _) in u {
            if !["prompt_tokens", "completion_tokens", "total_tokens"].contains(&k.as_str()) {
                out.push(format!("{at}/usage/{k}: unexpected usage key (item 8)"));
            }
        }
    }
    if o.get("project_name").is_none() {
        out.push(format!("{at}: no project_name"));
    }
    out
}
