//! `ModerationTraceInfo` → one `moderation` span (reference §3.6; linked type `guardrail`).

use std::borrow::Cow;

use crate::error::Error;
use crate::input::TraceInfo;
use crate::json::{wrap_dict, Field, Json};

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
    let inputs = raw(info.inputs);
    let output = Json::Obj(vec![
        (Cow::Borrowed("action"), raw(info.action)),
        (Cow::Borrowed("flagged"), raw(info.flagged)),
        (Cow::Borrowed("preset_response"), raw(info.preset_response)),
        (Cow::Borrowed("inputs"), inputs.clone()),
    ]);
    let turn =
        raw(info.flagged).truthy() && raw(info.action).as_str().as_deref() == Some("direct_output");
    let aux = Aux {
        kind: "moderation",
        name: Json::str("moderation"),
        input: wrap_dict("input", inputs),
        output,
        tags: crate::opik::tags!("moderation"),
        linked_type: "guardrail",
        model: None,
        provider: None,
        usage: None,
        error: None,
        turn,
        needs_message_data: true,
        id_extra: None,
    };
    emit(info, aux, ctx, out)
}
