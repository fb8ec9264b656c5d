//! Mapping: one module per Dify trace type, sharing the context defined here.
//! The profile switch sits at each deviation point, never in a copy of a
//! mapping.

mod aux;
mod dataset_retrieval;
mod generate_name;
mod message;
mod moderation;
mod node_meta;
mod suggested_question;
mod tool;
mod workflow;

use std::borrow::Cow;

use crate::error::{Error, ErrorCode, Warning, WarningCode};
use crate::ids::{self, Uuid, UuidError};
use crate::input::{self, Envelope, TraceType, IGNORED_TYPES};
use crate::json::{Field, Json};
use crate::linked;
use crate::opik::{MapResult, Span, Trace};
use crate::options::{IdTime, Options, Profile};
use crate::time::{self, Time};

/// 24 hours in microseconds: Opik Cloud's id window.
const WINDOW_MICROS: i64 = 24 * 3_600 * 1_000_000;

/// A JSON pointer, built only when an error or warning needs it.
pub(crate) trait PathArg {
    /// The pointer text.
    fn build(&self) -> String;
}

impl PathArg for str {
    fn build(&self) -> String {
        self.to_owned()
    }
}

impl PathArg for String {
    fn build(&self) -> String {
        self.clone()
    }
}

impl<T: PathArg + ?Sized> PathArg for &T {
    fn build(&self) -> String {
        (**self).build()
    }
}

/// `/node_executions/{index}` and a suffix, joined on demand.
pub(crate) struct NodeAt(pub usize, pub &'static str);

impl NodeAt {
    /// `/node_executions/{index}`, written without the formatting machinery
    /// (a path is kept for every node execution).
    pub fn base(index: usize) -> String {
        crate::write::text(|out| {
            out.reserve(24);
            out.extend_from_slice(b"/node_executions/");
            crate::write::int(out, i64::try_from(index).unwrap_or(i64::MAX));
        })
    }
}

impl PathArg for NodeAt {
    fn build(&self) -> String {
        let mut s = NodeAt::base(self.0);
        s.push_str(self.1);
        s
    }
}

/// A pointer that may be missing: the empty pointer then.
impl<T: PathArg> PathArg for Option<T> {
    fn build(&self) -> String {
        self.as_ref().map_or_else(String::new, T::build)
    }
}

/// A base pointer and a suffix, joined on demand.
impl PathArg for (&str, &str) {
    fn build(&self) -> String {
        let mut s = String::with_capacity(self.0.len() + self.1.len());
        s.push_str(self.0);
        s.push_str(self.1);
        s
    }
}

/// Per-task state: options, warnings and path handling.
pub(crate) struct Ctx<'o> {
    pub opts: &'o Options,
    pub warnings: Vec<Warning>,
    prefix: String,
    bare: bool,
    window_warned: bool,
}

impl<'o> Ctx<'o> {
    fn new(opts: &'o Options, prefix: String, bare: bool) -> Self {
        Ctx {
            opts,
            warnings: Vec::new(),
            prefix,
            bare,
            window_warned: false,
        }
    }

    /// Whether the linked profile is on.
    pub fn linked(&self) -> bool {
        self.opts.profile == Profile::Linked
    }

    /// A path relative to the task, as seen in the caller's input.
    pub fn path(&self, p: impl PathArg) -> String {
        self.path_dyn(&p)
    }

    /// A path relative to the task, as seen in the caller's input.
    #[inline(never)]
    fn path_dyn(&self, p: &dyn PathArg) -> String {
        let p = p.build();
        let p = if self.bare {
            p.strip_prefix("/trace_info").unwrap_or(&p)
        } else {
            &p
        };
        format!("{}{}", self.prefix, p)
    }

    /// Records a warning.
    pub fn warn(&mut self, code: WarningCode, path: impl PathArg, message: impl Into<String>) {
        self.warn_dyn(code, &path, message.into())
    }

    /// Records a warning.
    #[inline(never)]
    fn warn_dyn(&mut self, code: WarningCode, path: &dyn PathArg, message: String) {
        let path = self.path(path);
        self.warnings.push(Warning {
            code,
            message,
            path,
        });
    }

    /// Builds an error at a task-relative path.
    pub fn err(&self, code: ErrorCode, path: impl PathArg, message: impl Into<String>) -> Error {
        self.err_dyn(code, &path, message.into())
    }

    /// Builds an error at a task-relative path.
    #[inline(never)]
    #[cold]
    fn err_dyn(&self, code: ErrorCode, path: &dyn PathArg, message: String) -> Error {
        Error::new(code, self.path(path), message)
    }

    /// Reads an optional string field; `None` when absent or null.
    pub fn text<'a>(
        &self,
        f: Field<'a>,
        path: impl PathArg,
    ) -> Result<Option<Cow<'a, str>>, Error> {
        self.text_dyn(f, &path)
    }

    /// Reads an optional string field; `None` when absent or null.
    fn text_dyn<'a>(
        &self,
        f: Field<'a>,
        path: &dyn PathArg,
    ) -> Result<Option<Cow<'a, str>>, Error> {
        match f.value() {
            None => Ok(None),
            Some(r) => {
                if let Some(s) = crate::json::plain_string(r.get()) {
                    return Ok(Some(Cow::Borrowed(s)));
                }
                serde_json::from_str::<crate::json::Text<'a>>(r.get())
                    .map(|t| Some(t.0))
                    .map_err(|_| self.err(ErrorCode::InvalidType, path, "expected a string"))
            }
        }
    }

    /// Reads an optional string field and treats `""` as absent (Python `x or y`).
    pub fn truthy_text<'a>(
        &self,
        f: Field<'a>,
        path: impl PathArg,
    ) -> Result<Option<Cow<'a, str>>, Error> {
        self.truthy_text_dyn(f, &path)
    }

    /// Reads an optional string field and treats `""` as absent.
    #[inline(never)]
    fn truthy_text_dyn<'a>(
        &self,
        f: Field<'a>,
        path: &dyn PathArg,
    ) -> Result<Option<Cow<'a, str>>, Error> {
        Ok(self.text_dyn(f, path)?.filter(|s| !s.is_empty()))
    }

    /// Reads an optional number field.
    pub fn number(&self, f: Field<'_>, path: impl PathArg) -> Result<Option<f64>, Error> {
        self.number_dyn(f, &path)
    }

    /// Reads an optional number field.
    fn number_dyn(&self, f: Field<'_>, path: &dyn PathArg) -> Result<Option<f64>, Error> {
        match f.value() {
            None => Ok(None),
            Some(r) => Json::Raw(r)
                .as_f64()
                .map(Some)
                .ok_or_else(|| self.err(ErrorCode::InvalidType, path, "expected a number")),
        }
    }

    /// Reads an optional datetime field (naive values take `naive_offset`).
    pub fn time(&self, f: Field<'_>, path: impl PathArg) -> Result<Option<Time>, Error> {
        self.time_dyn(f, &path)
    }

    /// Reads an optional datetime field (naive values take `naive_offset`).
    fn time_dyn(&self, f: Field<'_>, path: &dyn PathArg) -> Result<Option<Time>, Error> {
        match self.text(f, path)? {
            None => Ok(None),
            Some(s) => time::parse(&s, self.opts.naive_offset)
                .map(Some)
                .map_err(|_| {
                    self.err(
                        ErrorCode::InvalidTimestamp,
                        path,
                        "expected an ISO 8601 datetime such as 2025-06-10T08:15:30.123456",
                    )
                }),
        }
    }

    /// A time as it is written out: the linked profile always writes UTC.
    pub fn out(&self, t: Time) -> Time {
        if self.linked() {
            t.to_utc()
        } else {
            t
        }
    }

    /// The host's clock reading (reference profile only).
    pub fn now(&self, path: impl PathArg) -> Result<Time, Error> {
        self.opts
            .now
            .map(|us| Time::utc(us).with_offset(self.opts.naive_offset))
            .ok_or_else(|| {
                self.err(
                    ErrorCode::MissingField,
                    path,
                    "this value is missing and Dify would read the clock: pass the `now` option",
                )
            })
    }

    /// `uuid4_to_uuid7` with the millisecond of `t` (moved by `id_time`).
    pub fn id(&mut self, t: Time, seed: Uuid, path: impl PathArg) -> Result<Uuid, Error> {
        self.id_dyn(t, seed, &path)
    }

    /// `uuid4_to_uuid7` with the millisecond of `t` (moved by `id_time`).
    fn id_dyn(&mut self, t: Time, seed: Uuid, path: &dyn PathArg) -> Result<Uuid, Error> {
        let us = match self.opts.id_time {
            IdTime::Event => t.micros,
            IdTime::At(at) => at,
            IdTime::Range { at, from, to } => {
                // In i128 and with the ends in order: `Options` is a public
                // struct, so a Rust caller may pass any values (the JSON
                // options are checked).
                let (from, to) = (i128::from(from.min(to)), i128::from(from.max(to)));
                let span = (to - from).max(1000);
                let e = i128::from(t.micros).clamp(from, to) - from;
                let window = 23 * 3_600 * 1_000_000i128;
                let us = i128::from(at) - window + e * window / span;
                us.clamp(i64::MIN.into(), i64::MAX.into()) as i64
            }
        };
        if self.opts.id_time == IdTime::Event && !self.window_warned {
            if let Some(now) = self.opts.now {
                if (i128::from(us) - i128::from(now)).abs() > i128::from(WINDOW_MICROS) {
                    self.window_warned = true;
                    self.warn(
                        WarningCode::IdOutsideWindow,
                        path,
                        "an id's time is more than 24 h from now; Opik Cloud rejects such ids \
                         (set the id_time option to backfill old data)",
                    );
                }
            }
        }
        ids::v7(us.div_euclid(1000), seed).ok_or_else(|| {
            self.err(
                ErrorCode::InvalidTimestamp,
                path,
                "the time is before 1970 and cannot be put in an id",
            )
        })
    }

    /// Parses a seed that the reference requires to be a v4 UUID.
    pub fn v4(&self, s: &str, path: impl PathArg) -> Result<Uuid, Error> {
        Uuid::parse_v4(s).map_err(|e| {
            let what = match e {
                UuidError::Malformed => "is not a UUID",
                UuidError::NotV4 => "is a UUID but not version 4",
            };
            self.err(
                ErrorCode::InvalidUuid,
                path,
                format!("the id seed {what}; Dify's integration fails here ({e})"),
            )
        })
    }

    /// The project name as a value, borrowed from the options: every
    /// object carries it, and a copy each was an allocation each.
    pub fn project(&self) -> Cow<'o, str> {
        Cow::Borrowed(&self.opts.project)
    }
}

trait WithOffset {
    fn with_offset(self, offset: i32) -> Self;
}

impl WithOffset for Time {
    fn with_offset(self, offset: i32) -> Self {
        Time { offset, ..self }
    }
}

/// The output of one task.
#[derive(Default)]
pub(crate) struct TaskOut<'a> {
    pub traces: Vec<Trace<'a>>,
    pub spans: Vec<Span<'a>>,
    /// Linked chatflow auxiliary spans waiting to join a workflow trace of the
    /// same call: (span index, own-trace index, message id, warning path).
    pub pending_join: Option<PendingJoin>,
    /// A chatflow workflow trace: (message id, trace id).
    pub workflow_message: Option<(String, Uuid)>,
    /// The input field that tags are made of, when one is (for `tag_truncated`).
    pub tag_path: Option<&'static str>,
    /// Spans finished where they were built ([`linked::finish_early`]).
    pub early: Option<linked::Early>,
}

pub(crate) struct PendingJoin {
    pub message_id: String,
    pub path: String,
}

/// Maps every task of `text`. A task that cannot be mapped makes the call fail
/// (use [`map_each`] to keep going past it).
pub fn map<'a>(text: &'a str, opts: &'a Options) -> Result<MapResult<'a>, Error> {
    let mut all = map_each(text, opts)?;
    if let Some(e) = all.errors.drain(..).next() {
        return Err(e);
    }
    Ok(all.result)
}

/// The result of mapping a batch, with the errors of tasks that failed.
#[derive(Debug, Default, serde::Serialize)]
pub struct BatchResult<'a> {
    /// Objects and warnings of the tasks that mapped.
    #[serde(flatten)]
    pub result: MapResult<'a>,
    /// One error per task that did not map (paths start with `/n`).
    pub errors: Vec<Error>,
    /// Whether the input held several tasks (an array or JSON lines).
    #[serde(skip)]
    pub batch: bool,
}

/// Maps every task of `text`, reporting the error of each failing task and
/// going on with the others.
pub fn map_each<'a>(text: &'a str, opts: &'a Options) -> Result<BatchResult<'a>, Error> {
    let tasks = input::parse_tasks(text, opts.trace_info_type.as_deref(), opts.max_input_bytes)?;
    let mut outs: Vec<(TaskOut<'a>, Vec<Warning>)> = Vec::with_capacity(tasks.items.len());
    let mut errors = Vec::new();
    for (i, item) in tasks.items.into_iter().enumerate() {
        let prefix = if tasks.batch {
            format!("/{i}")
        } else {
            String::new()
        };
        match item {
            Err(e) => errors.push(e),
            Ok(env) => {
                let mut ctx = Ctx::new(opts, prefix, env.bare_type.is_some());
                let mut out = TaskOut::default();
                match map_task(&env, &mut ctx, &mut out) {
                    Ok(()) => {
                        if ctx.linked() {
                            linked::finish(&mut out, &mut ctx, &env.clean);
                        }
                        outs.push((out, ctx.warnings));
                    }
                    Err(e) => errors.push(e),
                }
            }
        }
    }
    let mut result = MapResult::default();
    join_chatflow_aux(&mut outs);
    for (out, warnings) in outs {
        // The first task's lists are taken whole, not copied: for a large
        // workflow its spans are megabytes.
        append(&mut result.traces, out.traces);
        append(&mut result.spans, out.spans);
        append(&mut result.warnings, warnings);
    }
    Ok(BatchResult {
        result,
        errors,
        batch: tasks.batch,
    })
}

/// Appends `items` to `list`, taking the vector when `list` is empty.
fn append<T>(list: &mut Vec<T>, mut items: Vec<T>) {
    if list.is_empty() {
        std::mem::swap(list, &mut items);
    } else {
        list.append(&mut items);
    }
}

/// Linked item 2: an auxiliary span of a chatflow joins the workflow trace of
/// its message when the same call mapped it; otherwise it keeps its own trace
/// and a `trace_not_joined` warning.
fn join_chatflow_aux(outs: &mut [(TaskOut<'_>, Vec<Warning>)]) {
    let index: Vec<(String, Uuid)> = outs
        .iter()
        .filter_map(|(o, _)| o.workflow_message.clone())
        .collect();
    for (out, warnings) in outs.iter_mut() {
        let Some(p) = out.pending_join.take() else {
            continue;
        };
        match index.iter().find(|(m, _)| *m == p.message_id) {
            Some((_, trace_id)) => {
                out.traces.clear();
                for s in &mut out.spans {
                    s.trace_id = *trace_id;
                }
            }
            None => warnings.push(Warning {
                code: WarningCode::TraceNotJoined,
                message: "the chatflow's workflow trace was not in this call; the span got a trace of its own"
                    .to_owned(),
                path: p.path,
            }),
        }
    }
}

fn map_task<'a>(env: &Envelope<'a>, ctx: &mut Ctx<'a>, out: &mut TaskOut<'a>) -> Result<(), Error> {
    let type_name: Cow<str> = match &env.bare_type {
        Some(t) => Cow::Owned(t.clone()),
        None => match ctx.text(env.trace_info_type, "/trace_info_type")? {
            Some(t) => t,
            None => {
                return Err(ctx.err(
                    ErrorCode::MissingField,
                    "/trace_info_type",
                    "trace_info_type is required",
                ))
            }
        },
    };
    let ty = TraceType::from_class(&type_name);
    if ty.is_none() && env.bare_type.is_some() && !IGNORED_TYPES.contains(&type_name.as_ref()) {
        return Err(ctx.err(
            ErrorCode::UnsupportedType,
            "",
            "trace_info_type names no Dify trace type (expected e.g. WorkflowTraceInfo)",
        ));
    }
    let Some(info) = &env.trace_info else {
        if ctx.linked() {
            ctx.warn(
                WarningCode::NoTraceInfo,
                "/trace_info",
                "trace_info is null: Dify had nothing to trace",
            );
            return Ok(());
        }
        return Err(ctx.err(
            ErrorCode::MissingField,
            "/trace_info",
            "trace_info is null or absent; Dify's worker fails on such a task",
        ));
    };
    let Some(ty) = ty else {
        ctx.warn(
            WarningCode::IgnoredType,
            "/trace_info_type",
            format!(
                "{} is not a type Dify's Opik integration sends",
                safe_name(&type_name)
            ),
        );
        return Ok(());
    };
    match ty {
        TraceType::Workflow => workflow::map(env, info, ctx, out),
        TraceType::Message => message::map(env, info, ctx, out),
        TraceType::Moderation => moderation::map(info, ctx, out),
        TraceType::SuggestedQuestion => suggested_question::map(info, ctx, out),
        TraceType::DatasetRetrieval => dataset_retrieval::map(info, ctx, out),
        TraceType::Tool => tool::map(info, ctx, out),
        TraceType::GenerateName => generate_name::map(info, ctx, out),
    }
}

/// A type name fit for a message: short and made of identifier characters.
fn safe_name(s: &str) -> String {
    if s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        s.to_owned()
    } else {
        "the given type".to_owned()
    }
}

/// Metadata as an ordered object, with `created_from: "dify"` added (Dify's
/// `wrap_metadata`).
pub(crate) fn metadata_obj<'a>(md: Option<&crate::json::RawObj<'a>>) -> crate::json::Obj<'a> {
    md.map(|m| m.0.clone()).unwrap_or_default()
}
