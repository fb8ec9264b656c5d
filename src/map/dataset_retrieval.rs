//! `DatasetRetrievalTraceInfo` → one `dataset_retrieval` span (reference §3.6).

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
    let error = if ctx.linked() {
        ctx.truthy_text(info.error, "/trace_info/error")?
    } else {
        None
    };
    let aux = Aux {
        kind: "dataset_retrieval",
        name: Json::str("dataset_retrieval"),
        input: wrap_dict("input", raw(info.inputs)),
        output: Json::Obj(vec![(Cow::Borrowed("documents"), raw(info.documents))]),
        tags: crate::opik::tags!("dataset_retrieval"),
        linked_type: "tool",
        model: None,
        provider: None,
        usage: None,
        error,
        turn: false,
        needs_message_data: true,
        id_extra: None,
    };
    emit(info, aux, ctx, out)
}
