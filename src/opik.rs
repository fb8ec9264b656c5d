//! The output model: Opik trace-write and span-write objects, serialised in
//! the field order Opik's Python SDK sends (reference §3.9), with top-level
//! nulls dropped.

use std::borrow::Cow;

use serde::ser::{Serialize, Serializer};

use crate::error::Warning;
use crate::ids::Uuid;
use crate::json::Json;
use crate::time::Time;
use crate::write;

/// Opik's `ErrorInfo_Write`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ErrorInfo {
    /// Non-empty exception type.
    pub exception_type: String,
    /// Message.
    pub message: String,
    /// Non-empty traceback (Dify keeps none: the error text).
    pub traceback: String,
}

/// One Opik trace (`Trace_Write`).
#[derive(Clone, Debug)]
pub struct Trace<'a> {
    /// UUIDv7 id.
    pub id: Uuid,
    /// Project.
    pub project_name: Cow<'a, str>,
    /// Name.
    pub name: Json<'a>,
    /// Start.
    pub start_time: Option<Time>,
    /// End.
    pub end_time: Option<Time>,
    /// Input.
    pub input: Option<Json<'a>>,
    /// Output.
    pub output: Option<Json<'a>>,
    /// Metadata.
    pub metadata: Option<Json<'a>>,
    /// Tags.
    pub tags: Tags<'a>,
    /// Error.
    pub error_info: Option<ErrorInfo>,
    /// Time to first token, ms.
    pub ttft: Option<f64>,
    /// Thread (conversation) id.
    pub thread_id: Option<Json<'a>>,
}

/// One Opik span (`Span_Write`).
#[derive(Clone, Debug)]
pub struct Span<'a> {
    /// UUIDv7 id.
    pub id: Uuid,
    /// Project.
    pub project_name: Cow<'a, str>,
    /// Trace id.
    pub trace_id: Uuid,
    /// Parent span id.
    pub parent_span_id: Option<Uuid>,
    /// Name.
    pub name: Json<'a>,
    /// `general`, `tool`, `llm` or `guardrail`.
    pub kind: &'static str,
    /// Start.
    pub start_time: Option<Time>,
    /// End.
    pub end_time: Option<Time>,
    /// Input.
    pub input: Option<Json<'a>>,
    /// Output.
    pub output: Option<Json<'a>>,
    /// Metadata.
    pub metadata: Option<Json<'a>>,
    /// Model.
    pub model: Option<Json<'a>>,
    /// Provider.
    pub provider: Option<Json<'a>>,
    /// Tags.
    pub tags: Tags<'a>,
    /// Token usage.
    pub usage: Option<Json<'a>>,
    /// Cost in USD.
    pub total_estimated_cost: Option<f64>,
    /// Error.
    pub error_info: Option<ErrorInfo>,
    /// Time to first token, ms.
    pub ttft: Option<f64>,
}

fn some<'j, 'a>(v: &'j Option<Json<'a>>) -> Option<&'j Json<'a>> {
    v.as_ref().filter(|j| !j.is_null())
}

/// A field name and its colon, after a comma: written as ready-made bytes.
macro_rules! key {
    ($name:literal) => {
        concat!(",\"", $name, "\":").as_bytes()
    };
}

fn write_uuid(out: &mut Vec<u8>, id: &Uuid) {
    out.push(b'"');
    out.extend_from_slice(&id.text_bytes());
    out.push(b'"');
}

fn write_time(out: &mut Vec<u8>, t: Time) {
    let (b, n) = t.format_bytes();
    out.push(b'"');
    write::put(out, &b[..n]);
    out.push(b'"');
}

/// An object's tags: most objects share one of a few fixed lists
/// (`node_execution`, ...), borrowed instead of allocated for each.
pub type Tags<'a> = Cow<'a, [Cow<'a, str>]>;

/// A fixed list of tags, as a constant borrowed by every object that has it.
macro_rules! tags {
    ($($t:literal),+) => {{
        const TAGS: &[Cow<'static, str>] = &[$(Cow::Borrowed($t)),+];
        Cow::Borrowed(TAGS)
    }};
}
pub(crate) use tags;

fn write_tags(out: &mut Vec<u8>, tags: &[Cow<'_, str>]) {
    out.extend_from_slice(key!("tags"));
    out.push(b'[');
    for (i, t) in tags.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write::string(out, t);
    }
    out.push(b']');
}

fn write_error_info(out: &mut Vec<u8>, e: &ErrorInfo) {
    out.extend_from_slice(key!("error_info"));
    out.extend_from_slice(b"{\"exception_type\":");
    write::string(out, &e.exception_type);
    out.extend_from_slice(key!("message"));
    write::string(out, &e.message);
    out.extend_from_slice(key!("traceback"));
    write::string(out, &e.traceback);
    out.push(b'}');
}

/// Opens an object with its `id` and `project_name`.
fn write_head(out: &mut Vec<u8>, id: &Uuid, project: &str) {
    out.extend_from_slice(b"{\"id\":");
    write_uuid(out, id);
    out.extend_from_slice(key!("project_name"));
    write::string(out, project);
}

/// Writes `,"name":number` when there is a number.
fn write_float_at(out: &mut Vec<u8>, name: &[u8], f: Option<f64>) {
    if let Some(f) = f {
        write::put(out, name);
        write::float(out, f);
    }
}

/// Writes `,"name":time` when there is a time.
fn write_time_at(out: &mut Vec<u8>, name: &[u8], t: Option<Time>) {
    if let Some(t) = t {
        write::put(out, name);
        write_time(out, t);
    }
}

/// Writes `,"name":value` when `v` is present and not null.
fn write_some(out: &mut Vec<u8>, name: &[u8], v: &Option<Json<'_>>) {
    if let Some(v) = some(v) {
        write::put(out, name);
        write::json(out, v);
    }
}

impl Trace<'_> {
    /// Appends the trace's JSON text to `out`, in the SDK's field order.
    #[inline(never)]
    pub fn write(&self, out: &mut Vec<u8>) {
        write_head(out, &self.id, &self.project_name);
        if !self.name.is_null() {
            out.extend_from_slice(key!("name"));
            write::json(out, &self.name);
        }
        write_time_at(out, key!("start_time"), self.start_time);
        write_time_at(out, key!("end_time"), self.end_time);
        write_some(out, key!("input"), &self.input);
        write_some(out, key!("output"), &self.output);
        write_some(out, key!("metadata"), &self.metadata);
        write_tags(out, &self.tags);
        if let Some(e) = &self.error_info {
            write_error_info(out, e);
        }
        write_float_at(out, key!("ttft"), self.ttft);
        write_some(out, key!("thread_id"), &self.thread_id);
        out.push(b'}');
    }
}

impl Span<'_> {
    /// Appends the span's JSON text to `out`, in the SDK's field order.
    #[inline(never)]
    pub fn write(&self, out: &mut Vec<u8>) {
        write_head(out, &self.id, &self.project_name);
        out.extend_from_slice(key!("trace_id"));
        write_uuid(out, &self.trace_id);
        if let Some(p) = &self.parent_span_id {
            out.extend_from_slice(key!("parent_span_id"));
            write_uuid(out, p);
        }
        if !self.name.is_null() {
            out.extend_from_slice(key!("name"));
            write::json(out, &self.name);
        }
        out.extend_from_slice(key!("type"));
        write::string(out, self.kind);
        write_time_at(out, key!("start_time"), self.start_time);
        write_time_at(out, key!("end_time"), self.end_time);
        write_some(out, key!("input"), &self.input);
        write_some(out, key!("output"), &self.output);
        write_some(out, key!("metadata"), &self.metadata);
        write_some(out, key!("model"), &self.model);
        write_some(out, key!("provider"), &self.provider);
        write_tags(out, &self.tags);
        write_some(out, key!("usage"), &self.usage);
        write_float_at(out, key!("total_estimated_cost"), self.total_estimated_cost);
        if let Some(e) = &self.error_info {
            write_error_info(out, e);
        }
        write_float_at(out, key!("ttft"), self.ttft);
        out.push(b'}');
    }
}

impl Serialize for Trace<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        write::as_raw(s, |out| self.write(out))
    }
}

impl Serialize for Span<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        write::as_raw(s, |out| self.write(out))
    }
}

/// What one mapping call produced.
#[derive(Debug, Default, serde::Serialize)]
pub struct MapResult<'a> {
    /// Traces, in emission order.
    pub traces: Vec<Trace<'a>>,
    /// Spans, parents before children.
    pub spans: Vec<Span<'a>>,
    /// Degraded cases.
    pub warnings: Vec<Warning>,
}

impl MapResult<'_> {
    /// The result as compact JSON text.
    pub fn to_json(&self) -> String {
        self.to_json_sized(0)
    }

    /// The result as compact JSON text, written into a buffer that starts
    /// with `capacity` bytes (a good guess spares the copies of a growing
    /// buffer, and the memory they leave behind).
    pub fn to_json_sized(&self, capacity: usize) -> String {
        crate::write::result_text(self, None, capacity)
    }
}

/// Appends a trace or span to an output list. Out of line: the objects are
/// large, and an inlined `Vec::push` (growth path included) at each of the
/// mappers' call sites costs several hundred bytes of WebAssembly.
#[inline(never)]
pub(crate) fn push_out<T>(list: &mut Vec<T>, item: T) {
    list.push(item);
}
