//! `SuggestedQuestionTraceInfo` → one `suggested_question` span (reference
//! §3.6; linked type `llm` with model, provider and total usage).

use std::borrow::Cow;

use crate::error::Error;
use crate::input::TraceInfo;
use crate::json::{wrap_dict, Field, Json};
use crate::linked;

use super::aux::{emit, Aux};
use super::{Ctx, TaskOut};

fn raw(f: Field<'_>) -> Json<'_> {
    f.present().map(Json::Raw).unwrap_or(Json::Null)
}

// Out of line, as the message mapper is (see there): a first call compiles
// only the mapper it needs.
#[inline(never)]
pub(super) fn map<'a>(
    info: &TraceInfo<'a>,
    ctx: &mut Ctx<'a>,
    out: &mut TaskOut<'a>,
) -> Result<(), Error> {
    let (mut model, mut provider, mut usage, mut error) = (None, None, None, None);
    if ctx.linked() {
        model = Some(raw(info.model_id)).filter(|m| !m.is_null());
        let model_name = model
            .as_ref()
            .and_then(|m| m.as_str())
            .map(|s| s.into_owned());
        provider = ctx
            .text(info.model_provider, "/trace_info/model_provider")?
            .map(|p| Json::Str(crate::provider::canonical(&p, model_name.as_deref())));
        let total = raw(info.total_tokens);
        usage = linked::usage_counts(
            ctx,
            (None, &""),
            (None, &""),
            (Some(&total), &"/trace_info/total_tokens"),
            None,
        );
        error = ctx.truthy_text(info.error, "/trace_info/error")?;
    }
    let aux = Aux {
        kind: "suggested_question",
        name: Json::str("suggested_question"),
        input: wrap_dict("input", raw(info.inputs)),
        output: wrap_dict("output", raw(info.suggested_question)),
        tags: crate::opik::tags!("suggested_question"),
        linked_type: "llm",
        model,
        provider,
        usage,
        error,
        turn: false,
        needs_message_data: true,
        id_extra: None,
    };
    emit(info, aux, ctx, out)
}
