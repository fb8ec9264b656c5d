//! The output model: Opik trace-write and span-write objects, serialised in
//! the field order Opik's Python SDK sends (reference §3.9), with top-level
//! nulls dropped.

use std::borrow::Cow;

use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::error::Warning;
use crate::ids::Uuid;
use crate::json::Json;
use crate::time::Time;

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
    pub tags: Vec<Cow<'a, str>>,
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
    pub tags: Vec<Cow<'a, str>>,
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

struct TimeText(Time);

impl Serialize for TimeText {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let (b, n) = self.0.format_bytes();
        s.serialize_str(std::str::from_utf8(&b[..n]).unwrap_or_default())
    }
}

impl Serialize for Trace<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("project_name", &self.project_name)?;
        if !self.name.is_null() {
            m.serialize_entry("name", &self.name)?;
        }
        if let Some(t) = self.start_time {
            m.serialize_entry("start_time", &TimeText(t))?;
        }
        if let Some(t) = self.end_time {
            m.serialize_entry("end_time", &TimeText(t))?;
        }
        if let Some(v) = some(&self.input) {
            m.serialize_entry("input", v)?;
        }
        if let Some(v) = some(&self.output) {
            m.serialize_entry("output", v)?;
        }
        if let Some(v) = some(&self.metadata) {
            m.serialize_entry("metadata", v)?;
        }
        m.serialize_entry("tags", &self.tags)?;
        if let Some(e) = &self.error_info {
            m.serialize_entry("error_info", e)?;
        }
        if let Some(t) = self.ttft {
            m.serialize_entry("ttft", &t)?;
        }
        if let Some(v) = some(&self.thread_id) {
            m.serialize_entry("thread_id", v)?;
        }
        m.end()
    }
}

impl Serialize for Span<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &self.id)?;
        m.serialize_entry("project_name", &self.project_name)?;
        m.serialize_entry("trace_id", &self.trace_id)?;
        if let Some(p) = &self.parent_span_id {
            m.serialize_entry("parent_span_id", p)?;
        }
        if !self.name.is_null() {
            m.serialize_entry("name", &self.name)?;
        }
        m.serialize_entry("type", self.kind)?;
        if let Some(t) = self.start_time {
            m.serialize_entry("start_time", &TimeText(t))?;
        }
        if let Some(t) = self.end_time {
            m.serialize_entry("end_time", &TimeText(t))?;
        }
        if let Some(v) = some(&self.input) {
            m.serialize_entry("input", v)?;
        }
        if let Some(v) = some(&self.output) {
            m.serialize_entry("output", v)?;
        }
        if let Some(v) = some(&self.metadata) {
            m.serialize_entry("metadata", v)?;
        }
        if let Some(v) = some(&self.model) {
            m.serialize_entry("model", v)?;
        }
        if let Some(v) = some(&self.provider) {
            m.serialize_entry("provider", v)?;
        }
        m.serialize_entry("tags", &self.tags)?;
        if let Some(v) = some(&self.usage) {
            m.serialize_entry("usage", v)?;
        }
        if let Some(c) = self.total_estimated_cost {
            m.serialize_entry("total_estimated_cost", &c)?;
        }
        if let Some(e) = &self.error_info {
            m.serialize_entry("error_info", e)?;
        }
        if let Some(t) = self.ttft {
            m.serialize_entry("ttft", &t)?;
        }
        m.end()
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
        crate::write::to_string_sized(self, capacity)
    }
}

/// Appends a trace or span to an output list. Out of line: the objects are
/// large, and an inlined `Vec::push` (growth path included) at each of the
/// mappers' call sites costs several hundred bytes of WebAssembly.
#[inline(never)]
pub(crate) fn push_out<T>(list: &mut Vec<T>, item: T) {
    list.push(item);
}
