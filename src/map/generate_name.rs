//! `GenerateNameTraceInfo` → one trace and one span (reference §3.8; linked
//! items 1, 2 and 12).

use std::borrow::Cow;

use crate::error::{Error, WarningCode};
use crate::ids;
use crate::input::TraceInfo;
use crate::json::{obj_set, sort_keys, wrap_dict, Field, Json, Obj, Tree};
use crate::opik::{Span, Trace};
use crate::time::Time;

use super::{metadata_obj, Ctx, TaskOut};

fn raw(f: Field<'_>) -> Json<'_> {
    f.present().map(Json::Raw).unwrap_or(Json::Null)
}

/// The canonical JSON (sorted keys, compact) of the generate-name fields:
/// the id key when there is no conversation id.
fn canonical_key(g: &TraceInfo) -> String {
    // Already in key order; absent fields are null.
    let fields: [(&str, Field); 7] = [
        ("conversation_id", g.conversation_id),
        ("end_time", g.end_time),
        ("inputs", g.inputs),
        ("message_id", g.message_id),
        ("outputs", g.outputs),
        ("start_time", g.start_time),
        ("tenant_id", g.tenant_id),
    ];
    let mut m: Obj<'static> = Vec::with_capacity(9);
    for (k, f) in fields {
        let v = f.present().map_or(Json::Null, |r| sorted_or_text(r.get()));
        m.push((Cow::Borrowed(k), v));
    }
    if let Some(md) = &g.metadata {
        let o =
            md.0.iter()
                .map(|(k, v)| {
                    let t = v.raw_text().unwrap_or("null");
                    (Cow::Owned(k.to_string()), sorted_or_text(t))
                })
                .collect();
        m.insert(4, (Cow::Borrowed("metadata"), Json::Obj(sort_keys(o))));
    }
    m.push((
        Cow::Borrowed("trace_id"),
        g.trace_id
            .present()
            .map_or(Json::Null, |r| sorted_or_text(r.get())),
    ));
    crate::write::text(|o| crate::write::json(o, &Json::Obj(m)))
}

/// `text` read as serde_json reads a `Value` (objects with sorted keys), or,
/// when that fails, the text itself as a string.
fn sorted_or_text(text: &str) -> Json<'static> {
    serde_json::from_str::<Tree>(text)
        .map(|s| s.0)
        .unwrap_or_else(|_| Json::Str(Cow::Owned(text.to_owned())))
}

// Out of line, as the message mapper is (see there): a first call compiles
// only the mapper it needs.
#[inline(never)]
pub(super) fn map<'a>(
    g: &TraceInfo<'a>,
    ctx: &mut Ctx<'a>,
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
    let tags = || crate::opik::tags!("generate_name");
    crate::opik::push_out(
        &mut out.traces,
        Trace {
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
        },
    );
    crate::opik::push_out(
        &mut out.spans,
        Span {
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
        },
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the key was built from before: serde_json's `Value`.
    fn via_value(t: &str) -> String {
        let v = serde_json::from_str::<serde_json::Value>(t)
            .unwrap_or_else(|_| serde_json::Value::String(t.to_owned()));
        serde_json::to_string(&v).unwrap()
    }

    #[test]
    fn sorted_values_match_serde_json_values() {
        for t in [
            r#"{"b":1,"a":{"z":[1,{"y":2,"x":3}],"a":null},"b":2,"":"e"}"#,
            r#"[18446744073709551615, 9223372036854775807, 9223372036854775808, -9223372036854775808]"#,
            r#"[-0, 0, -0.0, 1e2, 1.5e-7, 123456789012345678901234567890, 1e400, 0.1]"#,
            r#""é\u00e9\ud83d\ude00\n\"\\\/""#,
            r#"{"$serde_json::private::RawValue":"{\"b\":1,\"a\":2}"}"#,
            r#"{"$serde_json::private::RawValue":"nope"}"#,
            r#"{"$serde_json::private::RawValue":1}"#,
            r#"{"a":1,"$serde_json::private::RawValue":"2"}"#,
            r#"{"$serde_json::private::RawValue":"1","a":1}"#,
            r#"{"é":1,"e":2,"E":3,"ee":4,"e":5}"#,
            "true",
            "null",
            "{}",
            "[]",
            "not json",
        ] {
            let ours = serde_json::to_string(&sorted_or_text(t)).unwrap();
            assert_eq!(ours, via_value(t), "{t}");
        }
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(
            serde_json::to_string(&sorted_or_text(&deep)).unwrap(),
            via_value(&deep)
        );
        let many: String = (0..300)
            .map(|i| format!("\"k{}\":{i}", (i * 7919) % 101))
            .collect::<Vec<_>>()
            .join(",");
        let many = format!("{{{many}}}");
        assert_eq!(
            serde_json::to_string(&sorted_or_text(&many)).unwrap(),
            via_value(&many)
        );
    }
}
