//! `ToolTraceInfo` → one span named after the tool (reference §3.7).

use std::borrow::Cow;

use crate::error::Error;
use crate::input::TraceInfo;
use crate::json::{wrap_dict, Field, Json, Kind};

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
    let name = raw(info.tool_name);
    // Python's str() of the tool name, for the tag.
    let tag: Cow<'a, str> = match name.kind() {
        Kind::String => Cow::Owned(name.as_str().map(|s| s.into_owned()).unwrap_or_default()),
        Kind::Null => Cow::Borrowed("None"),
        _ => Cow::Owned(name.raw_text().unwrap_or("").trim().to_owned()),
    };
    let error = if ctx.linked() {
        ctx.truthy_text(info.error, "/trace_info/error")?
    } else {
        None
    };
    let aux = Aux {
        kind: "tool",
        name: name.clone(),
        input: wrap_dict("input", raw(info.tool_inputs)),
        output: wrap_dict("output", raw(info.tool_outputs)),
        tags: vec![Cow::Borrowed("tool"), tag.clone()].into(),
        linked_type: "tool",
        model: None,
        provider: None,
        usage: None,
        error,
        turn: false,
        needs_message_data: false,
        id_extra: Some(tag.into_owned()),
    };
    out.tag_path = Some("/trace_info/tool_name");
    emit(info, aux, ctx, out)
}
