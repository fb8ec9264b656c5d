//! `GenerateNameTraceInfo` → one trace and one span (reference §3.8; linked
//! items 1, 2 and 12).

use std::borrow::Cow;

use crate::error::{Error, WarningCode};
use crate::ids;
use crate::input::TraceInfo;
use crate::json::{obj_set, wrap_dict, Field, Json};
use crate::opik::{Span, Trace};
use crate::time::Time;

use super::{metadata_obj, Ctx, TaskOut};

fn raw(f: Field<'_>) -> Json<'_> {
    f.present().map(Json::Raw).unwrap_or(Json::Null)
}

/// The canonical JSON (sorted keys, compact) of the generate-name fields:
/// the id key when there is no conversation id.
fn canonical_key(g: &TraceInfo) -> String {
    let mut m = serde_json::Map::new();
    let fields: [(&str, Field); 8] = [
        ("message_id", g.message_id),
        ("inputs", g.inputs),
        ("outputs", g.outputs),
        ("start_time", g.start_time),
        ("end_time", g.end_time),
        ("trace_id", g.trace_id),
        ("conversation_id", g.conversation_id),
        ("tenant_id", g.tenant_id),
    ];
    for (k, f) in fields {
        let v = f
            .present()
            .map(|r| {
                serde_json::from_str::<serde_json::Value>(r.get())
                    .unwrap_or_else(|_| r.get().into())
            })
            .unwrap_or(serde_json::Value::Null);
        m.insert(k.to_owned(), v);
    }
    if let Some(md) = &g.metadata {
        let o: serde_json::Map<String, serde_json::Value> =
            md.0.iter()
                .map(|(k, v)| {
                    let t = v.raw_text().unwrap_or("null");
                    (
                        k.to_string(),
                        serde_json::from_str(t).unwrap_or_else(|_| t.into()),
                    )
                })
                .collect();
        m.insert("metadata".to_owned(), serde_json::Value::Object(o));
    }
    serde_json::to_string(&m).unwrap_or_default()
}

pub(super) fn map<'a>(
    g: &TraceInfo<'a>,
    ctx: &mut Ctx,
    out: &mut TaskOut<'a>,
) -> Result<(), Error> {
    let linked = ctx.linked();
    let conversation = ctx.truthy_text(g.conversation_id, "/trace_info/conversation_id")?;
    let key = match &conversation {
        Some(c) => format!("{c}:generate_name"),
        None => canonical_key(g),
    };
    let start = ctx.time(g.start_time, "/trace_info/start_time")?;
    let end = ctx.time(g.end_time, "/trace_info/end_time")?;
    let (start, end): (Time, Option<Time>) = match (start, linked) {
        (Some(s), _) => (s, end),
        (None, false) => (ctx.now("/trace_info/start_time")?, end),
        (None, true) => match end {
            Some(e) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/start_time",
                    "start_time is null: used end_time",
                );
                (e, Some(e))
            }
            None => {
                ctx.warn(
                    WarningCode::MissingTime,
                    "/trace_info/start_time",
                    "the task has no time at all: nothing emitted",
                );
                return Ok(());
            }
        },
    };
    let end = if linked {
        crate::linked::clamp_end(ctx, start, end, "/trace_info/end_time")
    } else {
        end
    };

    let own_seed = ids::seed(&key);
    let trace_seed = if linked {
        own_seed
    } else {
        let given = match ctx.truthy_text(g.trace_id, "/trace_info/trace_id")? {
            Some(x) => Some((x, "/trace_info/trace_id")),
            None => ctx
                .truthy_text(g.message_id, "/trace_info/message_id")?
                .map(|m| (m, "/trace_info/message_id")),
        };
        match given {
            Some((s, path)) => ctx.v4(&s, path)?,
            None => own_seed,
        }
    };
    let trace_id = ctx.id(start, trace_seed, "/trace_info/start_time")?;
    let span_id = ctx.id(
        start,
        ids::seed(&format!("{key}:span")),
        "/trace_info/start_time",
    )?;

    let mut md = metadata_obj(g.metadata.as_ref());
    obj_set(&mut md, "created_from", Json::str("dify"));
    if linked {
        if let Some(x) = ctx.truthy_text(g.trace_id, "/trace_info/trace_id")? {
            obj_set(&mut md, "external_trace_id", Json::Str(x));
        }
    }
    let (inputs, outputs) = (raw(g.inputs), raw(g.outputs));
    let (t_in, t_out) = if linked {
        (
            wrap_dict("input", inputs.clone()),
            wrap_dict("output", outputs.clone()),
        )
    } else {
        (inputs.clone(), outputs.clone())
    };
    let name = "generate_conversation_name";
    let tags = || vec![Cow::Borrowed("generate_name")];
    out.traces.push(Trace {
        id: trace_id,
        project_name: ctx.project(),
        name: Json::str(name),
        start_time: Some(ctx.out(start)),
        end_time: end.map(|t| ctx.out(t)),
        input: Some(t_in),
        output: Some(t_out),
        metadata: Some(Json::Obj(md.clone())),
        tags: tags(),
        error_info: None,
        ttft: None,
        thread_id: if linked {
            None
        } else {
            Some(raw(g.conversation_id))
        },
    });
    out.spans.push(Span {
        id: span_id,
        project_name: ctx.project(),
        trace_id,
        parent_span_id: None,
        name: Json::str(name),
        kind: "general",
        start_time: Some(ctx.out(start)),
        end_time: end.map(|t| ctx.out(t)),
        input: Some(wrap_dict("input", inputs)),
        output: Some(wrap_dict("output", outputs)),
        metadata: Some(Json::Obj(md)),
        model: None,
        provider: None,
        tags: tags(),
        usage: None,
        total_estimated_cost: None,
        error_info: None,
        ttft: None,
    });
    Ok(())
}
