//! `MessageTraceInfo` → one trace and its `llm` span (reference §3.5; linked
//! items 1, 6–8, 11–13).

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::error::{Error, ErrorCode, WarningCode};
use crate::ids;
use crate::input::{Envelope, MessageData, TraceInfo};
use crate::json::{obj_get, obj_set, Field, Json, Kind, Obj};
use crate::linked;
use crate::opik::{Span, Trace};
use crate::usage::sdk_normalize;

use super::{metadata_obj, Ctx, TaskOut};

fn raw(f: Field<'_>) -> Json<'_> {
    f.present().map(Json::Raw).unwrap_or(Json::Null)
}

/// `str(conversation_mode)` as Python writes it.
fn mode_text<'a>(f: Field<'a>) -> Cow<'a, str> {
    let j = raw(f);
    match j.kind() {
        Kind::Null => Cow::Borrowed("None"),
        Kind::String => Cow::Owned(j.as_str().map(|s| s.into_owned()).unwrap_or_default()),
        _ => Cow::Owned(j.raw_text().unwrap_or("").trim().to_owned()),
    }
}

/// The file list with the message file's URL appended (reference §3.5 step 1).
fn file_list<'a>(m: &TraceInfo<'a>, ctx: &Ctx) -> Result<Json<'a>, Error> {
    let base = raw(m.file_list);
    let extra = match m.message_file_data.value() {
        None => None,
        Some(r) => Json::Raw(r)
            .get("url")
            .and_then(|u| u.as_str().map(|s| s.into_owned())),
    };
    let Some(url) = extra else {
        return Ok(if base.truthy() {
            base
        } else {
            Json::Arr(Vec::new())
        });
    };
    let mut items: Vec<Json<'a>> = if !base.truthy() {
        Vec::new()
    } else if base.kind() == Kind::Array {
        let text = m.file_list.value().map(|r| r.get()).unwrap_or("[]");
        serde_json::from_str::<Vec<&'a RawValue>>(text)
            .map_err(|_| {
                ctx.err(
                    ErrorCode::InvalidType,
                    "/trace_info/file_list",
                    "expected a list",
                )
            })?
            .into_iter()
            .map(|r| Json::Raw(r.into()))
            .collect()
    } else if ctx.linked() {
        vec![base]
    } else {
        return Err(ctx.err(
            ErrorCode::InvalidType,
            "/trace_info/file_list",
            "file_list is not a list, so Dify's integration cannot append the message file",
        ));
    };
    let files_url = ctx.opts.files_url.trim_end_matches('/');
    items.push(Json::Str(Cow::Owned(format!("{files_url}/{url}"))));
    Ok(Json::Arr(items))
}

// Out of line, and kept so by wasm-opt (`-ocimfs` in scripts/build-pkg.sh):
// an engine compiles a wasm function on its first call, so a first
// message trace does not also pay for compiling the workflow mapper
// (cold start; see BENCHMARKS.md).
#[inline(never)]
pub(super) fn map<'a>(
    env: &Envelope<'a>,
    m: &TraceInfo<'a>,
    ctx: &mut Ctx<'a>,
    out: &mut TaskOut<'a>,
) -> Result<(), Error> {
    let linked = ctx.linked();
    let files = file_list(m, ctx)?;
    let md_data: Option<&MessageData<'a>> = m.message_data.as_ref();
    if md_data.is_none() {
        if !linked {
            return Ok(());
        }
        ctx.warn(
            WarningCode::MessageDataMissing,
            "/trace_info/message_data",
            "message_data is null: the trace is built from the trace info's own fields",
        );
    }
    let d = md_data;
    let dget = |f: fn(&MessageData<'a>) -> Field<'a>| d.map(f).unwrap_or_default();

    let message_id = ctx.truthy_text(m.message_id, "/trace_info/message_id")?;
    let message_id = match message_id {
        Some(id) => id,
        None => ctx
            .truthy_text(dget(|d| d.id), "/trace_info/message_data/id")?
            .ok_or_else(|| {
                ctx.err(
                    ErrorCode::MissingField,
                    "/trace_info/message_id",
                    "message_id is required",
                )
            })?,
    };
    let external = ctx.truthy_text(m.trace_id, "/trace_info/trace_id")?;

    let mut md: Obj<'a> = metadata_obj(m.metadata.as_ref());
    if !linked {
        obj_set(&mut md, "user_id", raw(dget(|d| d.from_account_id)));
    }
    obj_set(&mut md, "file_list", files);
    if let Some(eu) = ctx.truthy_text(
        dget(|d| d.from_end_user_id),
        "/trace_info/message_data/from_end_user_id",
    )? {
        if let Some(user) = env
            .end_users
            .as_ref()
            .and_then(|m| m.get(&crate::json::Text(eu)))
        {
            obj_set(&mut md, "end_user_id", raw(user.session_id));
        }
    }
    obj_set(&mut md, "created_from", Json::str("dify"));
    if linked {
        if let Some(x) = &external {
            obj_set(&mut md, "external_trace_id", Json::Str(x.clone()));
        }
    }

    let start = match ctx.time(m.start_time, "/trace_info/start_time")? {
        Some(t) => t,
        None if !linked => ctx.now("/trace_info/start_time")?,
        None => match ctx.time(
            dget(|d| d.created_at),
            "/trace_info/message_data/created_at",
        )? {
            Some(t) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/start_time",
                    "start_time is null: used message_data.created_at",
                );
                t
            }
            None => {
                ctx.warn(
                    WarningCode::MissingTime,
                    "/trace_info/start_time",
                    "the message has no time at all: nothing emitted",
                );
                return Ok(());
            }
        },
    };
    let mut end = ctx.time(m.end_time, "/trace_info/end_time")?;
    if linked {
        end = linked::clamp_end(ctx, start, end, "/trace_info/end_time");
    }

    let seed = if linked {
        ids::uid(&message_id)
    } else {
        match &external {
            Some(x) => ctx.v4(x, "/trace_info/trace_id")?,
            None => ctx.v4(&message_id, "/trace_info/message_id")?,
        }
    };
    let trace_id = ctx.id(start, seed, "/trace_info/start_time")?;
    let span_id = ctx.id(
        start,
        ids::seed(&format!("{message_id}:llm")),
        "/trace_info/start_time",
    )?;

    let mode = mode_text(m.conversation_mode);
    out.tag_path = Some("/trace_info/conversation_mode");
    let answer = match d {
        Some(d) => raw(d.answer),
        None => raw(m.outputs),
    };
    let inputs = raw(m.inputs);
    let usage: Obj<'a> = vec![
        (Cow::Borrowed("completion_tokens"), raw(m.answer_tokens)),
        (Cow::Borrowed("prompt_tokens"), raw(m.message_tokens)),
        (Cow::Borrowed("total_tokens"), raw(m.total_tokens)),
    ];

    if !linked {
        let mut span_md = md.clone();
        let backend_usage = sdk_normalize(&usage);
        if obj_get(&span_md, "usage").is_none() {
            span_md.push((Cow::Borrowed("usage"), Json::Obj(usage)));
        }
        crate::opik::push_out(
            &mut out.traces,
            Trace {
                id: trace_id,
                project_name: ctx.project(),
                name: Json::str("message"),
                start_time: Some(start),
                end_time: end,
                input: Some(inputs.clone()),
                output: Some(answer.clone()),
                metadata: Some(Json::Obj(md)),
                tags: vec![Cow::Borrowed("message"), mode.clone()].into(),
                error_info: None,
                ttft: None,
                thread_id: Some(raw(dget(|d| d.conversation_id))),
            },
        );
        crate::opik::push_out(
            &mut out.spans,
            Span {
                id: span_id,
                project_name: ctx.project(),
                trace_id,
                parent_span_id: None,
                name: Json::str("llm"),
                kind: "llm",
                start_time: Some(start),
                end_time: end,
                input: Some(Json::Obj(vec![(Cow::Borrowed("input"), inputs)])),
                output: Some(Json::Obj(vec![(Cow::Borrowed("output"), answer)])),
                metadata: Some(Json::Obj(span_md)),
                model: None,
                provider: None,
                tags: vec![Cow::Borrowed("llm"), mode].into(),
                usage: Some(Json::Obj(backend_usage)),
                total_estimated_cost: None,
                error_info: None,
                ttft: None,
            },
        );
        return Ok(());
    }

    // Linked: objects as inputs and outputs, the conversation's query first.
    let mut trace_input: Obj<'a> = Vec::new();
    match d {
        Some(d) => {
            trace_input.push((Cow::Borrowed("query"), raw(d.query)));
            let app_inputs = raw(d.inputs);
            if app_inputs.truthy() {
                trace_input.push((Cow::Borrowed("inputs"), app_inputs));
            }
        }
        None => trace_input.push((Cow::Borrowed("messages"), inputs.clone())),
    }
    let thread = match d {
        Some(d) => raw(d.conversation_id),
        None => obj_get(&md, "conversation_id")
            .cloned()
            .unwrap_or(Json::Null),
    };
    let error = ctx.truthy_text(m.error, "/trace_info/error")?;
    let status = ctx.text(dget(|d| d.status), "/trace_info/message_data/status")?;
    let error_info = (error.is_some() || status.as_deref() == Some("error"))
        .then(|| linked::error_info("message", "error", error.as_deref()));
    let msg_usage = d
        .map(|d| raw(d.message_metadata))
        .and_then(|mm| mm.get("usage").map(|u| u.into_owned()));
    let ttft = ctx
        .number(
            m.gen_ai_server_time_to_first_token,
            "/trace_info/gen_ai_server_time_to_first_token",
        )?
        .or_else(|| {
            msg_usage
                .as_ref()
                .and_then(|u| u.get("time_to_first_token"))
                .and_then(|t| t.as_f64())
        })
        .filter(|t| t.is_finite() && *t >= 0.0)
        .map(|t| t * 1000.0);
    let model = d
        .map(|d| raw(d.model_id))
        .filter(|m| m.kind() == Kind::String);
    let model_name = model
        .as_ref()
        .and_then(|m| m.as_str())
        .map(|s| s.into_owned());
    let provider = obj_get(&md, "ls_provider")
        .and_then(|p| p.as_str())
        .map(|p| Json::Str(crate::provider::canonical(&p, model_name.as_deref())));
    let (prompt, completion, total) = (
        raw(m.message_tokens),
        raw(m.answer_tokens),
        raw(m.total_tokens),
    );
    let span_usage = linked::usage_counts(
        ctx,
        (Some(&prompt), &"/trace_info/message_tokens"),
        (Some(&completion), &"/trace_info/answer_tokens"),
        (Some(&total), &"/trace_info/total_tokens"),
        None,
    );
    let cost = match msg_usage
        .as_ref()
        .and_then(|u| u.get("total_price").map(|p| p.into_owned()))
        .filter(|p| !p.is_null())
    {
        Some(p) => {
            let cur = msg_usage
                .as_ref()
                .and_then(|u| u.get("currency"))
                .map(|c| c.into_owned());
            linked::cost(
                ctx,
                Some(&p),
                cur.as_ref(),
                "/trace_info/message_data/message_metadata/usage/total_price",
            )
        }
        None => linked::cost(
            ctx,
            d.map(|d| raw(d.total_price)).as_ref(),
            None,
            "/trace_info/message_data/total_price",
        ),
    };
    let answer_obj = Json::Obj(vec![(Cow::Borrowed("answer"), answer)]);
    crate::opik::push_out(
        &mut out.traces,
        Trace {
            id: trace_id,
            project_name: ctx.project(),
            name: Json::str("message"),
            start_time: Some(start.to_utc()),
            end_time: end.map(|t| t.to_utc()),
            input: Some(Json::Obj(trace_input)),
            output: Some(answer_obj.clone()),
            metadata: Some(Json::Obj(md.clone())),
            tags: vec![Cow::Borrowed("message"), mode.clone()].into(),
            error_info: error_info.clone(),
            ttft,
            thread_id: Some(thread),
        },
    );
    crate::opik::push_out(
        &mut out.spans,
        Span {
            id: span_id,
            project_name: ctx.project(),
            trace_id,
            parent_span_id: None,
            name: Json::str("llm"),
            kind: "llm",
            start_time: Some(start.to_utc()),
            end_time: end.map(|t| t.to_utc()),
            input: Some(Json::Obj(vec![(Cow::Borrowed("messages"), inputs)])),
            output: Some(answer_obj),
            metadata: Some(Json::Obj(md)),
            model,
            provider,
            tags: vec![Cow::Borrowed("llm"), mode].into(),
            usage: span_usage,
            total_estimated_cost: cost,
            error_info,
            ttft,
        },
    );
    Ok(())
}
