//! What moderation, suggested-question, dataset-retrieval and tool spans have
//! in common: one span, no parent, a trace id derived from the message
//! (reference §3.6–§3.7; linked items 1–3, 6, 13).

use std::borrow::Cow;

use crate::error::{Error, ErrorCode, WarningCode};
use crate::ids;
use crate::input::TraceInfo;
use crate::json::{obj_get, obj_set, Json, Obj};
use crate::linked;
use crate::opik::{Span, Trace};
use crate::time::Time;

use super::{metadata_obj, Ctx, PendingJoin, TaskOut};

/// One auxiliary span, as its type module describes it.
pub(super) struct Aux<'a> {
    /// `moderation`, `suggested_question`, `dataset_retrieval` or `tool`.
    pub kind: &'static str,
    /// Span name.
    pub name: Json<'a>,
    /// Input and output as the reference builds them.
    pub input: Json<'a>,
    /// Output.
    pub output: Json<'a>,
    /// Tags.
    pub tags: crate::opik::Tags<'a>,
    /// Linked span type.
    pub linked_type: &'static str,
    /// Linked model / provider / usage.
    pub model: Option<Json<'a>>,
    /// Provider.
    pub provider: Option<Json<'a>>,
    /// Usage.
    pub usage: Option<Json<'a>>,
    /// Error text (linked `error_info`).
    pub error: Option<Cow<'a, str>>,
    /// Whether an own trace is a conversation turn (flagged direct output).
    pub turn: bool,
    /// Tool spans do not need `message_data`; the others return without it.
    pub needs_message_data: bool,
    /// Extra key for the span id seed (the tool name).
    pub id_extra: Option<String>,
}

fn us(t: Time) -> String {
    t.micros.to_string()
}

pub(super) fn emit<'a>(
    info: &TraceInfo<'a>,
    a: Aux<'a>,
    ctx: &mut Ctx<'a>,
    out: &mut TaskOut<'a>,
) -> Result<(), Error> {
    let linked = ctx.linked();
    let d = info.message_data.as_ref();
    if d.is_none() && a.needs_message_data && !linked {
        return Ok(());
    }
    let message_id = ctx.truthy_text(info.message_id, "/trace_info/message_id")?;
    let data_id = match d {
        Some(d) => ctx.truthy_text(d.id, "/trace_info/message_data/id")?,
        None => None,
    };
    let join_id = data_id.clone().or_else(|| message_id.clone());
    let created = match d {
        Some(d) => ctx.time(d.created_at, "/trace_info/message_data/created_at")?,
        None => None,
    };
    let updated = match d {
        Some(d) => ctx.time(d.updated_at, "/trace_info/message_data/updated_at")?,
        None => None,
    };
    let info_start = ctx.time(info.start_time, "/trace_info/start_time")?;
    let info_end = ctx.time(info.end_time, "/trace_info/end_time")?;

    let (start, end) = if linked {
        let start = match (info_start, created, info_end) {
            (Some(s), _, _) => Some(s),
            (None, Some(c), _) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/start_time",
                    "start_time is null: used message_data.created_at",
                );
                Some(c)
            }
            (None, None, Some(e)) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/start_time",
                    "start_time is null: used end_time",
                );
                Some(e)
            }
            _ => None,
        };
        let Some(start) = start else {
            ctx.warn(
                WarningCode::MissingTime,
                "/trace_info/start_time",
                "the task has no time at all: nothing emitted",
            );
            return Ok(());
        };
        let end = match (info_end, updated) {
            (Some(e), _) => e,
            (None, Some(u)) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/end_time",
                    "end_time is null: used message_data.updated_at",
                );
                u
            }
            (None, None) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/end_time",
                    "end_time is null: used the start",
                );
                start
            }
        };
        let end = linked::clamp_end(ctx, start, Some(end), "/trace_info/end_time");
        (start, end)
    } else {
        let start = match info_start {
            Some(s) => s,
            None if a.needs_message_data => {
                return Err(ctx.err(
                    ErrorCode::MissingField,
                    "/trace_info/start_time",
                    "start_time is null; Dify's integration fails on its string fallback",
                ))
            }
            None => ctx.now("/trace_info/start_time")?,
        };
        let end = match info_end {
            Some(e) => Some(e),
            None if a.needs_message_data => updated,
            None => None,
        };
        (start, end)
    };

    let join = join_id.clone().ok_or_else(|| {
        ctx.err(
            ErrorCode::MissingField,
            "/trace_info/message_id",
            "message_id is required",
        )
    })?;
    let span_key = match &a.id_extra {
        Some(x) => format!("{join}:{}:{x}:{}", a.kind, us(start)),
        None => format!("{join}:{}:{}", a.kind, us(start)),
    };
    let span_id = ctx.id(start, ids::seed(&span_key), "/trace_info/start_time")?;
    let own_trace_id = ctx.id(
        start,
        ids::seed(&format!("{join}:{}:trace", a.kind)),
        "/trace_info/start_time",
    )?;

    let mut md: Obj<'a> = metadata_obj(info.metadata.as_ref());
    obj_set(&mut md, "created_from", Json::str("dify"));

    if !linked {
        let external = ctx.truthy_text(info.trace_id, "/trace_info/trace_id")?;
        let trace_id = match (&external, &message_id) {
            (Some(x), _) => ctx.id(
                start,
                ctx.v4(x, "/trace_info/trace_id")?,
                "/trace_info/start_time",
            )?,
            (None, Some(m)) => ctx.id(
                start,
                ctx.v4(m, "/trace_info/message_id")?,
                "/trace_info/start_time",
            )?,
            (None, None) => match created {
                Some(c) => ctx.id(c, ids::uid(&join), "/trace_info/message_data/created_at")?,
                None => own_trace_id,
            },
        };
        crate::opik::push_out(
            &mut out.spans,
            Span {
                id: span_id,
                project_name: ctx.project(),
                trace_id,
                parent_span_id: None,
                name: a.name,
                kind: "tool",
                start_time: Some(start),
                end_time: end,
                input: Some(a.input),
                output: Some(a.output),
                metadata: Some(Json::Obj(md)),
                model: None,
                provider: None,
                tags: a.tags,
                usage: None,
                total_estimated_cost: None,
                error_info: None,
                ttft: None,
            },
        );
        return Ok(());
    }

    if let Some(x) = ctx.truthy_text(info.trace_id, "/trace_info/trace_id")? {
        obj_set(&mut md, "external_trace_id", Json::Str(x));
    }
    let chatflow = match d {
        Some(d) => ctx
            .truthy_text(
                d.workflow_run_id,
                "/trace_info/message_data/workflow_run_id",
            )?
            .is_some(),
        None => false,
    };
    let easy_ui = d.is_some() && !chatflow && created.is_some();
    let trace_id = if easy_ui {
        // The message trace's own id: v7(message.created_at, message id).
        ctx.id(
            created.unwrap_or(start),
            ids::uid(&join),
            "/trace_info/message_data/created_at",
        )?
    } else {
        let conversation = d
            .map(|d| d.conversation_id)
            .and_then(|f| f.present())
            .map(Json::Raw)
            .or_else(|| obj_get(&md, "conversation_id").cloned())
            .unwrap_or(Json::Null);
        let tmd: Obj<'a> = vec![
            (Cow::Borrowed("conversation_id"), conversation.clone()),
            (Cow::Borrowed("message_id"), Json::Str(join.clone())),
            (Cow::Borrowed("created_from"), Json::str("dify")),
        ];
        crate::opik::push_out(
            &mut out.traces,
            Trace {
                id: own_trace_id,
                project_name: ctx.project(),
                name: a.name.clone(),
                start_time: Some(start.to_utc()),
                end_time: end.map(Time::to_utc),
                input: Some(a.input.clone()),
                output: Some(a.output.clone()),
                metadata: Some(Json::Obj(tmd)),
                tags: vec![Cow::Borrowed(a.kind)].into(),
                error_info: None,
                ttft: None,
                thread_id: a.turn.then_some(conversation),
            },
        );
        if chatflow {
            out.pending_join = Some(PendingJoin {
                message_id: join.to_string(),
                path: ctx.path("/trace_info/message_data/workflow_run_id"),
            });
        } else if d.is_none() {
            ctx.warn(
                WarningCode::TraceNotJoined,
                "/trace_info/message_data",
                "message_data is null: the span got a trace of its own",
            );
        } else {
            ctx.warn(
                WarningCode::TraceNotJoined,
                "/trace_info/message_data/created_at",
                "message_data.created_at is null, so the message's trace id is unknown: \
                 the span got a trace of its own",
            );
        }
        own_trace_id
    };
    crate::opik::push_out(
        &mut out.spans,
        Span {
            id: span_id,
            project_name: ctx.project(),
            trace_id,
            parent_span_id: None,
            name: a.name,
            kind: a.linked_type,
            start_time: Some(start.to_utc()),
            end_time: end.map(Time::to_utc),
            input: Some(a.input),
            output: Some(a.output),
            metadata: Some(Json::Obj(md)),
            model: a.model,
            provider: a.provider,
            tags: a.tags,
            usage: a.usage,
            total_estimated_cost: None,
            error_info: a
                .error
                .as_deref()
                .map(|e| linked::error_info(a.kind, "error", Some(e))),
            ttft: None,
        },
    );
    Ok(())
}
