//! `WorkflowTraceInfo` → one trace, a root span and one span per node
//! execution (reference §3.4; linked items 3–11).

use std::borrow::Cow;

use crate::error::{Error, ErrorCode, WarningCode};
use crate::ids::{self, Uuid};
use crate::input::{Embedded, Envelope, NodeExecution, ProcessData, TraceInfo};
use crate::json::{
    decode_json_column, obj_get, obj_set, wrap_dict, Field, Json, Kind, Obj, Raw, RawObj,
};
use crate::linked::{self, node_kind};
use crate::opik::{Span, Trace};
use crate::reader::Clean;
use crate::time::{seconds_to_micros, Time};
use crate::usage::sdk_normalize;

use super::node_meta::{MetaKey, NodeMeta};
use super::{metadata_obj, Ctx, NodeAt, PathArg, TaskOut};

/// A node execution with its DB-row columns decoded.
struct Node<'n, 'a> {
    /// Position in `node_executions` (paths are built from it on demand).
    index: usize,
    id: Option<Cow<'a, str>>,
    node_id: Option<Cow<'a, str>>,
    /// `linked::text_key` of the node id.
    node_key: u64,
    node_type: Option<Cow<'a, str>>,
    title: Json<'a>,
    inputs: Json<'a>,
    outputs: Json<'a>,
    /// `Some(found)` when the reader already found the `usage` member of
    /// `outputs` (not for a JSON-string column, which is decoded here).
    outputs_usage: Option<Option<Raw<'a>>>,
    pd: Pd<'n, 'a>,
    /// The node execution as read, for the raw columns passed through.
    ne: &'n NodeExecution<'a>,
    /// Where `process_data`, `outputs` and the execution metadata sit in the
    /// input (for warning paths).
    pd_deep: bool,
    outputs_deep: bool,
    meta_field: &'static str,
    meta_deep: bool,
    status: Option<Cow<'a, str>>,
    error: Option<Cow<'a, str>>,
    elapsed: Option<f64>,
    /// The execution metadata, borrowed from the input's reading when it
    /// was an object there.
    meta: Cow<'n, [(Cow<'a, str>, Json<'a>)]>,
    created_at: Option<Time>,
    finished_at: Option<Time>,
}

/// A node's `process_data`: the reading's own when it was an object, else
/// decoded from a JSON string column (boxed: a node keeps a word, not the
/// 168 bytes of the struct, and a 5,000-node run writes and drops 5,000).
enum Pd<'n, 'a> {
    Read(&'n ProcessData<'a>),
    Decoded(Box<ProcessData<'a>>),
}

/// The `process_data` of a node execution without one.
static NO_PROCESS_DATA: ProcessData<'static> = ProcessData {
    has_keys: false,
    model_mode: None,
    prompts: None,
    usage: None,
    model_provider: None,
    model_name: None,
};

impl<'a> std::ops::Deref for Pd<'_, 'a> {
    type Target = ProcessData<'a>;
    fn deref(&self) -> &ProcessData<'a> {
        match self {
            Pd::Read(p) => p,
            Pd::Decoded(p) => p,
        }
    }
}

#[inline(never)]
fn field_json(f: Field<'_>) -> Json<'_> {
    f.present().map(Json::Raw).unwrap_or(Json::Null)
}

/// A field that may be a JSON-string column.
#[inline(never)]
fn column<'a>(f: Field<'a>) -> Json<'a> {
    match f.value() {
        Some(r) if crate::json::raw_kind(r.get()) == Kind::String => match decode_json_column(r) {
            Ok(owned) => Json::RawOwned(owned),
            Err(_) => Json::Raw(r),
        },
        Some(r) => Json::Raw(r),
        None => Json::Null,
    }
}

type Entries<'a> = [(Cow<'a, str>, Json<'a>)];

fn embedded_obj<'n, 'a>(
    e: &'n Embedded<'a, RawObj<'a>>,
    ctx: &Ctx,
    path: &dyn PathArg,
) -> Result<Option<Cow<'n, Entries<'a>>>, Error> {
    match e {
        Embedded::Absent | Embedded::Null => Ok(None),
        Embedded::Value(o) => Ok(Some(Cow::Borrowed(&o.0))),
        Embedded::Text(t) => match serde_json::from_str::<RawObj>(t) {
            Ok(o) => Ok(Some(Cow::Owned(
                o.0.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ))),
            Err(_) => Err(ctx.err(
                ErrorCode::InvalidType,
                path,
                "expected an object or a JSON string holding one",
            )),
        },
        Embedded::Other => Err(ctx.err(ErrorCode::InvalidType, path, "expected an object")),
    }
}

/// Reads node execution `i` and pushes it onto `nodes` (pushed here, not
/// returned: a node is some 400 bytes, and each move is a copy).
fn read_node<'n, 'a>(
    ne: &'n NodeExecution<'a>,
    i: usize,
    ctx: &mut Ctx,
    nodes: &mut Vec<Node<'n, 'a>>,
) -> Result<(), Error> {
    let pd = match &ne.process_data {
        Embedded::Absent | Embedded::Null => Pd::Read(&NO_PROCESS_DATA),
        Embedded::Value(p) => Pd::Read(p),
        Embedded::Text(t) => match serde_json::from_str::<ProcessData>(t) {
            Ok(p) => Pd::Decoded(Box::new(p.into_owned())),
            Err(_) => {
                return Err(ctx.err(
                    ErrorCode::InvalidType,
                    NodeAt(i, "/process_data"),
                    "expected an object or a JSON string holding one",
                ))
            }
        },
        Embedded::Other => {
            return Err(ctx.err(
                ErrorCode::InvalidType,
                NodeAt(i, "/process_data"),
                "expected an object",
            ))
        }
    };
    let (meta_src, meta_field, meta_suffix) = match &ne.metadata {
        Embedded::Absent => (
            &ne.execution_metadata,
            "execution_metadata",
            "/execution_metadata",
        ),
        m => (m, "metadata", "/metadata"),
    };
    let meta = embedded_obj(meta_src, ctx, &NodeAt(i, meta_suffix))?;
    // Whether `outputs` is a JSON-string DB column (asked twice below).
    let outputs_column = ne
        .outputs
        .raw
        .value()
        .is_some_and(|r| crate::json::raw_kind(r.get()) == Kind::String);
    // Read in the order of the fields below (the first error is reported);
    // the node id is hashed here, where it was just read (round nesting
    // sorts by it).
    let id = ctx.text(ne.id, NodeAt(i, "/id"))?;
    let node_id = ctx.text(ne.node_id, NodeAt(i, "/node_id"))?;
    nodes.push(Node {
        pd_deep: !matches!(ne.process_data, Embedded::Text(_)),
        outputs_deep: !outputs_column,
        meta_field,
        meta_deep: !matches!(meta_src, Embedded::Text(_)),
        id,
        node_key: node_id.as_deref().map_or(0, linked::text_key),
        node_id,
        node_type: ctx.text(ne.node_type, NodeAt(i, "/node_type"))?,
        title: field_json(ne.title),
        inputs: column(ne.inputs),
        outputs: column(ne.outputs.raw),
        outputs_usage: ne.outputs.usage.filter(|_| !outputs_column),
        pd,
        ne,
        status: ctx.text(ne.status, NodeAt(i, "/status"))?,
        error: ctx.truthy_text(ne.error, NodeAt(i, "/error"))?,
        elapsed: ctx.number(ne.elapsed_time, NodeAt(i, "/elapsed_time"))?,
        meta: meta.unwrap_or_default(),
        created_at: ctx.time(ne.created_at, NodeAt(i, "/created_at"))?,
        finished_at: ctx.time(ne.finished_at, NodeAt(i, "/finished_at"))?,
        index: i,
    });
    Ok(())
}

fn empty_obj<'a>() -> Json<'a> {
    Json::Obj(Vec::new())
}

fn or_empty(v: Json<'_>) -> Json<'_> {
    if v.truthy() {
        v
    } else {
        empty_obj()
    }
}

// Out of line, and kept so by wasm-opt (`-ocimfs` in scripts/build-pkg.sh):
// an engine compiles a wasm function on its first call, so a first
// workflow trace does not also pay for compiling the message mapper
// (cold start; see BENCHMARKS.md).
#[inline(never)]
pub(super) fn map<'a>(
    env: &Envelope<'a>,
    w: &TraceInfo<'a>,
    ctx: &mut Ctx<'a>,
    out: &mut TaskOut<'a>,
) -> Result<(), Error> {
    let linked = ctx.linked();
    let message_id = ctx.truthy_text(w.message_id, "/trace_info/message_id")?;
    let run_id = ctx
        .text(w.workflow_run_id, "/trace_info/workflow_run_id")?
        .ok_or_else(|| {
            ctx.err(
                ErrorCode::MissingField,
                "/trace_info/workflow_run_id",
                "workflow_run_id is required",
            )
        })?;
    let external = ctx.truthy_text(w.trace_id, "/trace_info/trace_id")?;
    let chatflow = message_id.is_some();
    if w.metadata.is_none() && !linked {
        return Err(ctx.err(
            ErrorCode::MissingField,
            "/trace_info/metadata",
            "metadata is required",
        ));
    }

    // Read every node first: the linked profile may need their times.
    let mut nodes = Vec::with_capacity(env.node_executions.as_ref().map_or(0, Vec::len));
    let all = env.node_executions.as_deref().unwrap_or_default();
    for (i, ne) in all.iter().enumerate() {
        // The bytes a node's reading looks at, asked for a few nodes ahead.
        if let Some(ahead) = all.get(i + AHEAD) {
            prefetch_fields(ahead);
        }
        let run = match ctx.text(
            ne.workflow_execution_id,
            NodeAt(i, "/workflow_execution_id"),
        )? {
            Some(r) => Some(r),
            None => ctx.text(ne.workflow_run_id, NodeAt(i, "/workflow_run_id"))?,
        };
        if run.as_deref().is_some_and(|r| r != run_id) {
            if linked {
                ctx.warn(
                    WarningCode::ForeignNodeExecution,
                    NodeAt(i, ""),
                    "this node execution belongs to another workflow run and was left out",
                );
            }
            continue;
        }
        read_node(ne, i, ctx, &mut nodes)?;
    }

    let start = match ctx.time(w.start_time, "/trace_info/start_time")? {
        Some(t) => t,
        None if !linked => ctx.now("/trace_info/start_time")?,
        None => match nodes
            .iter()
            .filter_map(|n| n.created_at)
            .min_by_key(|t| t.micros)
        {
            Some(t) => {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/start_time",
                    "start_time is null: used the earliest node start",
                );
                t
            }
            None => {
                ctx.warn(
                    WarningCode::MissingTime,
                    "/trace_info/start_time",
                    "the run has no time at all: nothing emitted",
                );
                return Ok(());
            }
        },
    };
    let mut end = ctx.time(w.end_time, "/trace_info/end_time")?;
    if linked {
        if end.is_none() {
            let elapsed = ctx.number(
                w.workflow_run_elapsed_time,
                "/trace_info/workflow_run_elapsed_time",
            )?;
            if let Some(e) = elapsed
                .and_then(seconds_to_micros)
                .and_then(|us| start.plus_micros(us))
            {
                ctx.warn(
                    WarningCode::TimeFallback,
                    "/trace_info/end_time",
                    "end_time is null: used start_time + workflow_run_elapsed_time",
                );
                end = Some(e);
            }
        }
        end = linked::clamp_end(ctx, start, end, "/trace_info/end_time");
    }

    // Ids.
    let trace_seed = if linked {
        ids::uid(message_id.as_deref().unwrap_or(&run_id))
    } else {
        match (&external, &message_id) {
            (Some(x), _) => ctx.v4(x, "/trace_info/trace_id")?,
            (None, Some(m)) => ctx.v4(m, "/trace_info/message_id")?,
            (None, None) => ctx.v4(&run_id, "/trace_info/workflow_run_id")?,
        }
    };
    let trace_id = ctx.id(start, trace_seed, "/trace_info/start_time")?;
    let root_seed = if chatflow {
        if linked {
            ids::uid(&run_id)
        } else {
            ctx.v4(&run_id, "/trace_info/workflow_run_id")?
        }
    } else {
        ids::seed(&format!("{run_id}-root"))
    };
    let root_id = ctx.id(start, root_seed, "/trace_info/start_time")?;

    // Metadata shared (by value) by the trace and the root span.
    let mut md = metadata_obj(w.metadata.as_ref());
    obj_set(&mut md, "created_from", Json::str("dify"));
    obj_set(&mut md, "message_id", field_json(w.message_id));
    obj_set(
        &mut md,
        "workflow_app_log_id",
        field_json(w.workflow_app_log_id),
    );
    if linked {
        if let Some(x) = &external {
            obj_set(&mut md, "external_trace_id", Json::Str(x.clone()));
        }
    }

    let status = ctx.text(w.workflow_run_status, "/trace_info/workflow_run_status")?;
    let error = ctx.truthy_text(w.error, "/trace_info/error")?;
    // A stopped run is not an error (item 6), whatever its error text says.
    let stopped = status.as_deref() == Some("stopped");
    let error_info =
        if linked && !stopped && (error.is_some() || status.as_deref() == Some("failed")) {
            Some(linked::error_info(
                "workflow",
                status.as_deref().unwrap_or("failed"),
                error.as_deref(),
            ))
        } else {
            None
        };

    let input = wrap_dict("input", field_json(w.workflow_run_inputs));
    let output = wrap_dict("output", field_json(w.workflow_run_outputs));
    let (name, tags): (&str, &[&'static str]) = if chatflow {
        ("message", &["message", "workflow"])
    } else {
        ("workflow", &["workflow"])
    };
    crate::opik::push_out(
        &mut out.traces,
        Trace {
            id: trace_id,
            project_name: ctx.project(),
            name: Json::str(name),
            start_time: Some(ctx.out(start)),
            end_time: end.map(|t| ctx.out(t)),
            input: Some(input.clone()),
            output: Some(output.clone()),
            metadata: Some(Json::Obj(md.clone())),
            tags: tags.iter().map(|t| Cow::Borrowed(*t)).collect(),
            error_info: error_info.clone(),
            ttft: None,
            thread_id: Some(field_json(w.conversation_id)),
        },
    );
    if let Some(m) = &message_id {
        out.workflow_message = Some((m.to_string(), trace_id));
    }
    crate::opik::push_out(
        &mut out.spans,
        Span {
            id: root_id,
            project_name: ctx.project(),
            trace_id,
            parent_span_id: None,
            name: Json::str("workflow"),
            kind: "general",
            start_time: Some(ctx.out(start)),
            end_time: end.map(|t| ctx.out(t)),
            input: Some(input),
            output: Some(output),
            metadata: Some(Json::Obj(md.clone())),
            model: None,
            provider: None,
            tags: crate::opik::tags!("workflow"),
            usage: None,
            total_estimated_cost: None,
            error_info,
            ttft: None,
        },
    );

    // The app id the node spans carry.
    let app_id = obj_get(&md, "app_id").filter(|v| v.truthy()).cloned();
    let app_id = match app_id {
        Some(a) => a,
        None if !linked => {
            return Err(ctx.err(
                ErrorCode::MissingField,
                "/trace_info/metadata/app_id",
                "metadata.app_id is missing; Dify's integration stops after the root span",
            ))
        }
        None => {
            ctx.warn(
                WarningCode::MissingAppId,
                "/trace_info/metadata/app_id",
                "metadata.app_id is missing: node spans use the envelope's app_id",
            );
            field_json(env.app_id)
        }
    };
    let app_name = obj_get(&md, "app_name").cloned().unwrap_or(Json::Null);

    let run = RunInfo {
        run_id: &run_id,
        clean: &env.clean,
        tenant_id: field_json(w.tenant_id),
        app_id,
        app_name,
        trace_id,
        root_id,
        start,
    };
    let first_node = out.spans.len();
    // The linked profile adds a span per round: room for all of them now,
    // so that the list is not moved when they come.
    let mut facts = if linked {
        nodes_meta(&nodes)
    } else {
        Vec::new()
    };
    out.spans
        .reserve(nodes.len() + linked::round_children(&facts));
    // Linked node spans are finished where they are built (see
    // `linked::Early`): what that found, by the span's place in the run.
    let mut hits = Vec::new();
    let mut tag_cut = false;
    for (k, n) in nodes.iter().enumerate() {
        if let Some(ahead) = nodes.get(k + AHEAD) {
            prefetch_fields(ahead.ne);
            prefetch_values(ahead);
        }
        if linked {
            let h = linked_node(n, &run, ctx, &mut out.spans)?;
            if let (Some(f), Some(span)) = (facts.get_mut(k), out.spans.last()) {
                f.note_span(span);
            }
            if let Some((count, first)) = h.redacted {
                hits.push((k + 1, count, first));
            }
            tag_cut |= h.tag_cut;
        } else {
            let span = reference_node(n, &run, ctx)?;
            crate::opik::push_out(&mut out.spans, span);
        }
    }
    if linked {
        let order = linked::nest_rounds(&facts, &mut out.spans, first_node, root_id, ctx)?;
        out.early = Some(linked::Early {
            start: first_node - 1,
            order,
            nodes: nodes.len(),
            hits,
            tag_cut,
        });
    }
    Ok(())
}

/// How many nodes ahead the loops over nodes ask for the input bytes they
/// will read ([`crate::simd::prefetch`]).
const AHEAD: usize = 3;

/// Asks for the input bytes of a node execution's own fields.
fn prefetch_fields(ne: &NodeExecution<'_>) {
    for f in [
        ne.id,
        ne.workflow_execution_id,
        ne.workflow_run_id,
        ne.node_id,
        ne.node_type,
        ne.title,
        ne.inputs,
        ne.outputs.raw,
        ne.status,
        ne.error,
        ne.elapsed_time,
        ne.created_at,
        ne.finished_at,
    ]
    .into_iter()
    .filter_map(|f| f.present())
    {
        crate::simd::prefetch(f.get());
    }
}

/// Asks for the input bytes a node's span reads beyond its fields: its
/// usage, model and execution metadata.
fn prefetch_values(n: &Node<'_, '_>) {
    if let Some(Some(u)) = n.outputs_usage {
        crate::simd::prefetch(u.get());
    }
    for v in [&n.pd.usage, &n.pd.model_name, &n.pd.model_provider]
        .into_iter()
        .flatten()
    {
        prefetch_raw(v);
    }
    prefetch_meta(n);
}

/// Asks for the input bytes [`nodes_meta`] reads: the title and the
/// execution metadata.
fn prefetch_facts(n: &Node<'_, '_>) {
    prefetch_raw(&n.title);
    prefetch_meta(n);
}

/// Asks for the keys and values of a node's execution metadata.
fn prefetch_meta(n: &Node<'_, '_>) {
    for (k, v) in n.meta.iter() {
        crate::simd::prefetch(k);
        prefetch_raw(v);
    }
}

/// Asks for a value's input text, when it is input text.
fn prefetch_raw(v: &Json<'_>) {
    if let Json::Raw(r) = v {
        crate::simd::prefetch(r.get());
    }
}

/// What the nesting of iteration and loop rounds needs from each node.
fn nodes_meta<'n>(nodes: &'n [Node<'_, '_>]) -> Vec<linked::NodeFacts<'n>> {
    nodes
        .iter()
        .enumerate()
        .map(|(k, n)| {
            if let Some(ahead) = nodes.get(k + AHEAD) {
                prefetch_facts(ahead);
            }
            linked::NodeFacts {
                index: n.index,
                node_id: n.node_id.as_deref(),
                node_key: n.node_key,
                exec_id: n.id.as_deref(),
                title: n.title.as_str(),
                round: linked::round_of(&n.meta),
                span: linked::SpanFacts::default(),
            }
        })
        .collect()
}

struct RunInfo<'r, 'a> {
    run_id: &'r Cow<'a, str>,
    /// The input the envelope reader found nothing to redact in.
    clean: &'r Clean,
    tenant_id: Json<'a>,
    app_id: Json<'a>,
    app_name: Json<'a>,
    trace_id: Uuid,
    root_id: Uuid,
    start: Time,
}

/// The node's metadata with the keys every node span gets.
fn base_meta<'a>(n: &Node<'_, 'a>, run: &RunInfo<'_, 'a>) -> NodeMeta<'a> {
    let mut meta = NodeMeta::new(&n.meta);
    meta.set(MetaKey::WorkflowRunId, Json::Str(run.run_id.clone()));
    meta.set(MetaKey::NodeExecutionId, field_json(n.ne.id));
    meta.set(MetaKey::TenantId, run.tenant_id.clone());
    meta.set(MetaKey::AppId, run.app_id.clone());
    meta
}

fn reference_node<'a>(
    n: &Node<'_, 'a>,
    run: &RunInfo<'_, 'a>,
    ctx: &mut Ctx<'a>,
) -> Result<Span<'a>, Error> {
    let pd = &n.pd;
    let inputs = if n.node_type.as_deref() == Some("llm") {
        if pd.has_keys {
            pd.prompts.clone().unwrap_or_else(empty_obj)
        } else {
            empty_obj()
        }
    } else {
        or_empty(n.inputs.clone())
    };
    let outputs = or_empty(n.outputs.clone());
    let created = match n.created_at {
        Some(t) => t,
        None => ctx.now(NodeAt(n.index, "/created_at"))?,
    };
    let elapsed = n.elapsed.ok_or_else(|| {
        ctx.err(
            ErrorCode::MissingField,
            NodeAt(n.index, "/elapsed_time"),
            "elapsed_time is null; Dify's integration fails here",
        )
    })?;
    let finished = seconds_to_micros(elapsed)
        .and_then(|us| created.plus_micros(us))
        .ok_or_else(|| {
            ctx.err(
                ErrorCode::InvalidTimestamp,
                NodeAt(n.index, "/elapsed_time"),
                "the end time is out of range",
            )
        })?;

    let mut meta = base_meta(n, run);
    meta.set(MetaKey::AppName, n.title.clone());
    meta.set(MetaKey::NodeType, field_json(n.ne.node_type));
    meta.set(MetaKey::Status, field_json(n.ne.status));

    let is_llm =
        pd.has_keys && pd.model_mode.as_ref().and_then(|m| m.as_str()).as_deref() == Some("chat");
    let (mut model, mut provider) = (None, None);
    let zero = || Json::Int(0);
    let (mut total, mut prompt, mut completion) = (zero(), zero(), zero());
    if is_llm {
        let p = pd.model_provider.clone().unwrap_or(Json::Null);
        let m = pd.model_name.clone().unwrap_or_else(|| Json::str(""));
        meta.set(MetaKey::LsProvider, p.clone());
        meta.set(MetaKey::LsModelName, m.clone());
        provider = Some(p);
        model = Some(m);
        let source = match &pd.usage {
            Some(u) => Some(u.clone()),
            None => match outputs.kind() {
                Kind::Object => Some(
                    outputs
                        .get("usage")
                        .map(|u| u.into_owned())
                        .unwrap_or_else(empty_obj),
                ),
                _ => None,
            },
        };
        if let Some(src) = source.filter(|s| s.kind() == Kind::Object) {
            let read = |k: &str| src.get(k).map(|v| v.into_owned()).unwrap_or_else(zero);
            total = read("total_tokens");
            prompt = read("prompt_tokens");
            completion = read("completion_tokens");
        }
    }
    if !total.truthy() {
        total = obj_get(&n.meta, "total_tokens")
            .filter(|v| v.truthy())
            .cloned()
            .unwrap_or_else(zero);
    }
    let usage: Obj<'a> = vec![
        (Cow::Borrowed("total_tokens"), total),
        (Cow::Borrowed("completion_tokens"), completion),
        (Cow::Borrowed("prompt_tokens"), prompt),
    ];
    meta.set(MetaKey::CreatedFrom, Json::str("dify"));
    let backend_usage = sdk_normalize(&usage);
    if !meta.has(MetaKey::Usage) {
        meta.set(MetaKey::Usage, Json::Obj(usage));
    }
    let seed = match &n.id {
        Some(id) => ctx.v4(id, NodeAt(n.index, "/id"))?,
        None => {
            return Err(ctx.err(
                ErrorCode::MissingField,
                NodeAt(n.index, "/id"),
                "node execution id is required",
            ))
        }
    };
    Ok(Span {
        id: ctx.id(created, seed, NodeAt(n.index, "/created_at"))?,
        project_name: ctx.project(),
        trace_id: run.trace_id,
        parent_span_id: Some(run.root_id),
        name: n.title.clone(),
        kind: if is_llm { "llm" } else { "tool" },
        start_time: Some(created),
        end_time: Some(finished),
        input: Some(wrap_dict("input", inputs)),
        output: Some(wrap_dict("output", outputs)),
        metadata: Some(Json::Obj(meta.into_obj())),
        model,
        provider,
        tags: crate::opik::tags!("node_execution"),
        usage: Some(Json::Obj(backend_usage)),
        total_estimated_cost: None,
        error_info: None,
        ttft: None,
    })
}

/// Builds a node's span, finished (`linked::finish_early`), onto `spans`;
/// returns what finishing it found.
fn linked_node<'a>(
    n: &Node<'_, 'a>,
    run: &RunInfo<'_, 'a>,
    ctx: &mut Ctx<'a>,
    spans: &mut Vec<Span<'a>>,
) -> Result<linked::EarlyHits, Error> {
    let pd = &n.pd;
    let node_type = n.node_type.as_deref().unwrap_or("");
    let kind = node_kind(node_type);
    let container = matches!(node_type, "iteration" | "loop");
    let inputs = match (kind, &pd.prompts) {
        ("llm", Some(p)) if !p.is_null() => p.clone(),
        _ => or_empty(n.inputs.clone()),
    };
    let outputs = or_empty(n.outputs.clone());
    let created = match n.created_at {
        Some(t) => t,
        None => {
            ctx.warn(
                WarningCode::TimeFallback,
                NodeAt(n.index, "/created_at"),
                "created_at is null: used the run's start",
            );
            run.start
        }
    };
    let by_elapsed = n
        .elapsed
        .and_then(seconds_to_micros)
        .and_then(|us| created.plus_micros(us));
    let end = match n.finished_at {
        Some(f) if f.micros >= created.micros => Some(f),
        _ => by_elapsed.or(n.finished_at).or(Some(created)),
    };
    let end = linked::clamp_end(ctx, created, end, NodeAt(n.index, "/finished_at"));

    let mut meta = base_meta(n, run);
    meta.set(MetaKey::AppName, run.app_name.clone());
    meta.set(MetaKey::NodeTitle, n.title.clone());
    meta.set(MetaKey::NodeType, field_json(n.ne.node_type));
    meta.set(MetaKey::Status, field_json(n.ne.status));

    let (mut model, mut provider) = (None, None);
    if kind == "llm" {
        let m = pd.model_name.clone().filter(|m| !m.is_null());
        let p = pd.model_provider.clone().filter(|p| !p.is_null());
        if let Some(p) = &p {
            meta.set(MetaKey::LsProvider, p.clone());
        }
        if let Some(m) = &m {
            meta.set(MetaKey::LsModelName, m.clone());
        }
        let model_name = m.as_ref().and_then(|m| m.as_str());
        provider = p
            .as_ref()
            .and_then(|p| p.as_str())
            .map(|p| Json::Str(crate::provider::canonical(&p, model_name.as_deref())));
        model = m;
    }
    meta.set(MetaKey::CreatedFrom, Json::str("dify"));

    let mut span = Span {
        id: Uuid([0; 16]),
        project_name: ctx.project(),
        trace_id: run.trace_id,
        parent_span_id: Some(run.root_id),
        name: n.title.clone(),
        kind,
        start_time: Some(created.to_utc()),
        end_time: end.map(Time::to_utc),
        input: Some(wrap_dict("input", inputs)),
        output: Some(wrap_dict("output", outputs.clone())),
        metadata: None,
        model,
        provider,
        tags: crate::opik::tags!("node_execution"),
        usage: None,
        total_estimated_cost: None,
        error_info: None,
        ttft: None,
    };
    if !container {
        let at = |field: &'static str, deep: bool| linked::At {
            node: n.index,
            field,
            sub: None,
            deep,
        };
        let usage_src = match pd.usage.as_ref().filter(|u| u.kind() == Kind::Object) {
            Some(u) => Some((u.clone(), at("process_data", n.pd_deep).sub("usage"))),
            None => match n.outputs_usage {
                Some(found) => found.map(Json::Raw),
                None => outputs.get("usage").map(|u| u.into_owned()),
            }
            .filter(|u| u.kind() == Kind::Object)
            .map(|u| (u, at("outputs", n.outputs_deep).sub("usage"))),
        };
        let meta_at = at(n.meta_field, n.meta_deep);
        let mut ttft = None;
        span.usage = linked::usage(
            ctx,
            usage_src.as_ref().map(|(u, a)| (u, *a)),
            obj_get(&n.meta, "total_tokens").map(|v| (v, meta_at)),
            (kind == "llm").then_some(&mut ttft),
        );
        if kind == "llm" {
            span.ttft = ttft
                .and_then(|t| t.as_f64())
                .filter(|t| t.is_finite() && *t >= 0.0)
                .map(|t| t * 1000.0);
        }
        span.total_estimated_cost = linked::cost(
            ctx,
            obj_get(&n.meta, "total_price"),
            obj_get(&n.meta, "currency"),
            linked::KeyAt(meta_at, "total_price"),
        );
    }
    let status = n.status.as_deref().unwrap_or("");
    if status != "stopped"
        && (n.error.is_some() || matches!(status, "failed" | "exception" | "retry"))
    {
        let st = if status.is_empty() { "error" } else { status };
        span.error_info = Some(linked::error_info("node", st, n.error.as_deref()));
    }
    span.metadata = Some(Json::Obj(meta.into_obj()));
    let seed = match &n.id {
        Some(id) => ids::uid(id),
        None => ids::seed(&format!("{}:node:{}", run.run_id, NodeAt::base(n.index))),
    };
    span.id = ctx.id(created, seed, NodeAt(n.index, "/created_at"))?;
    let hits = linked::finish_early(&mut span, ctx, run.clean);
    // Pushed here, not returned: a span is some 500 bytes, and each move
    // through a return value is a copy.
    crate::opik::push_out(spans, span);
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use crate::linked::ALL_KEYS_COLLIDE;
    use crate::Options;

    /// Round nesting looks node ids up by their hashes: when two ids share a
    /// hash, only the executions of the round's own container may count. Here
    /// one round child names a container that did not run, and every hash is
    /// made equal: the child must still hang under the root with a warning,
    /// not under the container that did run at that time.
    #[test]
    fn equal_node_id_hashes_do_not_join_rounds_to_another_container() {
        let text = include_str!("../../tests/fixtures/linked/workflow_50_nodes.json");
        let mut wf: serde_json::Value = serde_json::from_str(text).unwrap();
        let row = &mut wf["node_executions"][20];
        let mut meta: serde_json::Value =
            serde_json::from_str(row["execution_metadata"].as_str().unwrap()).unwrap();
        meta["iteration_id"] = "1741000000999".into();
        row["execution_metadata"] = meta.to_string().into();
        let text = wf.to_string();
        let opts = Options {
            now: Some(1_741_000_000_000_000),
            ..Default::default()
        };
        let plain = crate::map_json(&text, &opts).unwrap();
        ALL_KEYS_COLLIDE.with(|c| c.set(true));
        let collided = crate::map_json(&text, &opts);
        ALL_KEYS_COLLIDE.with(|c| c.set(false));
        assert!(plain.contains("container_not_found"), "{plain}");
        assert!(plain.contains("Per city #3"));
        assert_eq!(collided.unwrap(), plain);
    }
}
