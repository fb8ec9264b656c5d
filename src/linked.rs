//! Rules of the `linked` profile shared by several trace types: error info,
//! usage, cost, end-time clamping, node types, iteration/loop rounds, and the
//! final pass that makes every object valid for Opik (tags, redaction).

use std::borrow::Cow;

use crate::error::{Error, WarningCode};
use crate::ids::{self, Uuid};
use crate::json::{obj_get, Json, Kind, Obj};
use crate::map::{Ctx, NodeAt, PathArg, TaskOut};
use crate::opik::{ErrorInfo, Span};
use crate::reader::Clean;
use crate::redact;
use crate::time::Time;
use crate::usage::{count, pydantic_int, Count};

/// Opik's tag limits.
pub const MAX_TAGS: usize = 50;
/// Longest tag Opik accepts, in characters.
pub const MAX_TAG_CHARS: usize = 100;

/// The Opik span type of a Dify node type (linked item 9).
pub fn node_kind(node_type: &str) -> &'static str {
    match node_type {
        "llm" | "question-classifier" | "parameter-extractor" => "llm",
        "tool" | "http-request" | "knowledge-retrieval" | "code" | "agent" | "datasource" => "tool",
        _ => "general",
    }
}

/// `error_info` with every string non-empty (linked item 6).
pub fn error_info(scope: &str, status: &str, error: Option<&str>) -> ErrorInfo {
    let text = error.filter(|e| !e.is_empty()).unwrap_or(status);
    let text = if text.is_empty() { "error" } else { text };
    ErrorInfo {
        exception_type: format!("{scope}_{status}"),
        message: text.to_owned(),
        traceback: text.to_owned(),
    }
}

/// An end before its start becomes the start, with a warning.
pub fn clamp_end(
    ctx: &mut Ctx,
    start: Time,
    end: Option<Time>,
    path: impl PathArg,
) -> Option<Time> {
    match end {
        Some(e) if e.micros < start.micros => {
            ctx.warn(
                WarningCode::EndBeforeStart,
                path,
                "the end is before the start: set to the start",
            );
            Some(start)
        }
        e => e,
    }
}

fn read_count(ctx: &mut Ctx, v: Option<&Json>, path: &dyn PathArg, key: &str) -> Option<i64> {
    match count(v) {
        Count::Valid(n) => Some(n),
        Count::Unknown => None,
        Count::Invalid => {
            ctx.warn(
                WarningCode::InvalidUsage,
                path,
                format!("{key} is not a non-negative 32-bit integer and was dropped"),
            );
            None
        }
    }
}

/// One token count and the input path a warning about it names.
pub type CountAt<'j, 'p> = (Option<&'j Json<'j>>, &'p dyn PathArg);

/// Usage from three counts (item 8): prompt, completion and total, each with
/// the path a warning names; `md_total` stands in for a missing or zero total.
pub fn usage_counts<'a>(
    ctx: &mut Ctx,
    prompt: CountAt,
    completion: CountAt,
    total: CountAt,
    md_total: Option<CountAt>,
) -> Option<Json<'a>> {
    let p = read_count(ctx, prompt.0, prompt.1, "prompt_tokens");
    let c = read_count(ctx, completion.0, completion.1, "completion_tokens");
    let mut t = read_count(ctx, total.0, total.1, "total_tokens");
    if t.unwrap_or(0) == 0 {
        if let Some((v, path)) = md_total {
            if let Some(mt) = read_count(ctx, v, path, "total_tokens").filter(|n| *n > 0) {
                t = Some(mt);
            }
        }
    }
    if t.is_none() {
        if let (Some(p), Some(c)) = (p, c) {
            t = Some(p + c).filter(|s| *s <= i64::from(i32::MAX));
        }
    }
    if [p, c, t].iter().all(|v| v.unwrap_or(0) == 0) {
        return None;
    }
    let mut o: Obj<'a> = Vec::new();
    for (k, v) in [
        ("prompt_tokens", p),
        ("completion_tokens", c),
        ("total_tokens", t),
    ] {
        if let Some(v) = v {
            o.push((Cow::Borrowed(k), Json::Int(v)));
        }
    }
    Some(Json::Obj(o))
}

/// Where a value of the input sits, for warnings: a node's pointer, the
/// field, an optional key inside it, and whether keys inside can be named
/// (not when the field is a JSON-string DB column). Built only when used.
#[derive(Clone, Copy, Debug)]
pub struct At {
    /// Position of the enclosing node execution in `node_executions`.
    pub node: usize,
    /// Field of the node execution.
    pub field: &'static str,
    /// A key inside the field (e.g. `usage`).
    pub sub: Option<&'static str>,
    /// Whether the field is a real JSON object whose keys extend the pointer.
    pub deep: bool,
}

impl At {
    /// The same place, one key deeper.
    pub fn sub(self, key: &'static str) -> At {
        At {
            sub: Some(key),
            ..self
        }
    }

    /// The pointer of `key` inside this value (the column itself when the
    /// value is a JSON string column).
    pub fn key(&self, key: &str) -> String {
        let mut p = format!("{}/{}", NodeAt::base(self.node), self.field);
        if self.deep {
            for k in self.sub.into_iter().chain(Some(key)) {
                p.push('/');
                p.push_str(&crate::error::pointer_token(k));
            }
        }
        p
    }
}

/// A key inside an [`At`], as a lazy path.
pub struct KeyAt(pub At, pub &'static str);

impl PathArg for KeyAt {
    fn build(&self) -> String {
        self.0.key(self.1)
    }
}

/// Usage of a span: from a usage object, else the metadata total (item 8).
/// With `ttft`, the usage object's `time_to_first_token` is put there, found
/// in the same scan of the object.
pub fn usage<'a, 'u>(
    ctx: &mut Ctx,
    src: Option<(&'u Json, At)>,
    md_total: Option<(&Json, At)>,
    ttft: Option<&mut Option<Json<'u>>>,
) -> Option<Json<'a>> {
    let (src, at) = match src.filter(|(u, _)| u.kind() == Kind::Object) {
        Some((u, at)) => (Some(u), Some(at)),
        None => (None, None),
    };
    let mut found = [None, None, None, None];
    if let Some(u) = src {
        let keys = [
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "time_to_first_token",
        ];
        let n = if ttft.is_some() { 4 } else { 3 };
        u.get_all(&keys[..n], &mut found[..n]);
    }
    let [p, c, t, first] = found;
    if let Some(ttft) = ttft {
        *ttft = first;
    }
    let key = |k: &'static str| at.map(|a| KeyAt(a, k));
    let (pp, cp, tp) = (
        key("prompt_tokens"),
        key("completion_tokens"),
        key("total_tokens"),
    );
    let md = md_total.map(|(v, a)| (v, KeyAt(a, "total_tokens")));
    usage_counts(
        ctx,
        (p.as_ref(), &pp),
        (c.as_ref(), &cp),
        (t.as_ref(), &tp),
        md.as_ref().map(|(v, k)| (Some(*v), k as &dyn PathArg)),
    )
}

/// A price as a non-negative number, from a number or a numeric string.
fn price(v: &Json) -> Option<f64> {
    let f = match v.kind() {
        Kind::Number => v.as_f64()?,
        Kind::String => crate::decimal::parse_f64(v.as_str()?.trim())?,
        _ => return None,
    };
    (f.is_finite() && f >= 0.0).then_some(f)
}

/// `total_estimated_cost` from Dify's price when it is in USD (item 7).
pub fn cost(
    ctx: &mut Ctx,
    total_price: Option<&Json>,
    currency: Option<&Json>,
    path: impl PathArg,
) -> Option<f64> {
    let p = price(total_price.filter(|v| !v.is_null())?)?;
    let cur = currency.filter(|c| !c.is_null()).and_then(|c| c.as_str());
    match cur {
        None => Some(p),
        Some(c) if c.eq_ignore_ascii_case("USD") => Some(p),
        Some(_) => {
            ctx.warn(
                WarningCode::CostNotUsd,
                path,
                "the price is not in USD: no cost sent, the price stays in metadata",
            );
            None
        }
    }
}

/// What round nesting needs to know of each node execution.
pub struct NodeFacts<'n> {
    /// Position of the node execution in `node_executions`.
    pub index: usize,
    /// Graph node id.
    pub node_id: Option<&'n str>,
    /// [`text_key`] of the node id (0 without one).
    pub node_key: u64,
    /// Node execution id.
    pub exec_id: Option<&'n str>,
    /// Title.
    pub title: Option<Cow<'n, str>>,
    /// The round the execution ran in, from its metadata ([`round_of`]).
    pub round: Option<RoundOf<'n>>,
    /// The node span's id, start and end in µs (the end is the start when
    /// the span has none; 0 without either), and whether it has an error:
    /// set by [`NodeFacts::note_span`] when the span is built. Round nesting
    /// reads them for every round child and its container's executions:
    /// read from the span list, each would fetch a span of some 500 bytes
    /// from memory again.
    pub span: SpanFacts,
}

/// What round nesting reads of a node span ([`NodeFacts::span`]); all
/// zero before it is noted.
#[derive(Clone, Copy)]
pub struct SpanFacts {
    /// The span's id.
    pub id: Uuid,
    /// Its start, in µs.
    pub start: i64,
    /// Its end, in µs.
    pub end: i64,
    /// Whether it has an `error_info`.
    pub failed: bool,
}

impl Default for SpanFacts {
    fn default() -> Self {
        SpanFacts {
            id: Uuid([0; 16]),
            start: 0,
            end: 0,
            failed: false,
        }
    }
}

impl NodeFacts<'_> {
    /// Notes what round nesting reads of the node's span, `span`.
    pub fn note_span(&mut self, span: &Span) {
        self.span = SpanFacts {
            id: span.id,
            start: span.start_time.map_or(0, |t| t.micros),
            end: span.end_time.or(span.start_time).map_or(0, |t| t.micros),
            failed: span.error_info.is_some(),
        };
    }
}

/// An execution's round: `iteration` or `loop`, the container's node id, the
/// round index, and the node id's [`text_key`].
pub type RoundOf<'m> = (&'static str, Cow<'m, str>, i128, u64);

#[cfg(test)]
thread_local! {
    /// Makes every [`text_key`] 0, so that tests see what equal hashes of
    /// different ids do.
    pub(crate) static ALL_KEYS_COLLIDE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// A hash of a text, for sorting and looking up node ids by a number: a
/// large run's ids sit all over the input, and comparing them as strings
/// reads each from memory again. Equal hashes do not prove equal texts.
#[inline(never)]
pub fn text_key(text: &str) -> u64 {
    #[cfg(test)]
    if ALL_KEYS_COLLIDE.with(std::cell::Cell::get) {
        return 0;
    }
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut h = text.len() as u64;
    let mut chunks = text.as_bytes().chunks_exact(8);
    for c in &mut chunks {
        let mut w = [0u8; 8];
        w.copy_from_slice(c);
        h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    }
    let mut w = [0u8; 8];
    w[..chunks.remainder().len()].copy_from_slice(chunks.remainder());
    h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(K);
    h ^ (h >> 29)
}

struct Round<'m> {
    container: Option<usize>,
    container_id: Cow<'m, str>,
    kind: &'static str,
    index: i128,
    children: Vec<usize>,
    start: i64,
    end: i64,
}

/// The round an execution ran in, read from its metadata: an iteration's or
/// loop's id with its index.
pub fn round_of<'m>(meta: &'m [(Cow<'m, str>, Json<'m>)]) -> Option<RoundOf<'m>> {
    for (kind, id_key, idx_key) in [
        ("iteration", "iteration_id", "iteration_index"),
        ("loop", "loop_id", "loop_index"),
    ] {
        let id = obj_get(meta, id_key).and_then(Json::as_str);
        let idx = obj_get(meta, idx_key)
            .filter(|v| v.kind() == Kind::Number)
            .and_then(pydantic_int);
        if let (Some(id), Some(idx)) = (id, idx) {
            if !id.is_empty() {
                let key = text_key(&id);
                return Some((kind, id, idx, key));
            }
        }
    }
    None
}

/// How many executions ran in a round: at most that many round spans are
/// added to a run, so the span list can be reserved for them at once (one
/// growth of a 5,000-node run's list copies megabytes).
pub fn round_children(facts: &[NodeFacts]) -> usize {
    facts.iter().filter(|f| f.round.is_some()).count()
}

/// What makes a round, as numbers, so that sorting by it compares no text:
/// its container execution's place + 1 (0 when not found); when the container
/// was not found, the container node id's place + 1 among those not found
/// (else 0); whether it is a loop (else an iteration); and the round index.
/// Two round children are in one round exactly when their keys are equal.
type RoundKey = (usize, usize, bool, i128);

/// A round child: its round's key, the round's kind and container node id,
/// its place among the node spans, its start and end.
type Keyed<'m> = (RoundKey, &'static str, Cow<'m, str>, usize, i64, i64);

/// Item 5: puts the node spans of iteration and loop rounds under a round
/// span, under their container's node span, and orders the run's spans
/// parents first. `spans[first..]` are the node spans, one per `facts` entry
/// (each noted: [`NodeFacts::note_span`]); the root span is `root`. Returns the order: for each of the run's spans
/// (`spans[first - 1..]`) in its new place, where it was and whether it was
/// put under the root.
pub fn nest_rounds<'a>(
    facts: &[NodeFacts],
    spans: &mut Vec<Span<'a>>,
    first: usize,
    root: Uuid,
    ctx: &mut Ctx<'a>,
) -> Result<Vec<(usize, bool)>, Error> {
    let mut rounds: Vec<Round> = Vec::new();
    let mut missing: Vec<Cow<str>> = Vec::new();
    // Lookups in sorted indices, not by scanning: the work stays
    // O(n log n) in the number of node executions (a 5,000-node run has
    // thousands of round children). Sorted lists rather than hash maps: each
    // hash map instance is kilobytes of WebAssembly.
    let mut by_node: Vec<usize> = (0..facts.len())
        .filter(|&j| facts[j].node_id.is_some())
        .collect();
    let node_of = |j: usize| facts[j].node_id.unwrap_or("");
    // By the ids' hashes: the executions of one node id are a run of the
    // list (with any other id of the same hash), in input order.
    let key_of = |j: usize| facts[j].node_key;
    crate::sort::stable_sort(&mut by_node, &|a, b| key_of(a) < key_of(b));
    // Each round child with the key of its round, in input order.
    let mut keyed: Vec<Keyed> = Vec::with_capacity(round_children(facts));
    let mut last_container: Option<(u64, usize, usize)> = None;
    for (k, f) in facts.iter().enumerate() {
        let Some((kind, cid, index, cid_key)) = f.round.clone() else {
            continue;
        };
        let child_start = f.span.start;
        // A container's round children mostly come one after another: the
        // last container's executions are looked up once for all of them.
        let (lo, hi) = match last_container {
            Some((key, lo, hi)) if key == cid_key => (lo, hi),
            _ => {
                let lo = by_node.partition_point(|&j| key_of(j) < cid_key);
                let hi = lo + by_node[lo..].partition_point(|&j| key_of(j) <= cid_key);
                last_container = Some((cid_key, lo, hi));
                (lo, hi)
            }
        };
        let candidates = by_node[lo..hi]
            .iter()
            .filter(|&&j| j != k && node_of(j) == cid);
        let mut containing: Option<(usize, i64)> = None;
        let mut before: Option<(usize, i64)> = None;
        for &j in candidates {
            let (cs, ce) = (facts[j].span.start, facts[j].span.end);
            if cs <= child_start && child_start <= ce && containing.is_none_or(|(_, t)| cs > t) {
                containing = Some((j, cs));
            }
            if cs <= child_start && before.is_none_or(|(_, t)| cs > t) {
                before = Some((j, cs));
            }
        }
        let container = containing.or(before).map(|(j, _)| j);
        let id_place = if container.is_some() {
            0
        } else if let Some(p) = missing.iter().position(|m| *m == cid) {
            p + 1
        } else {
            missing.push(cid.clone());
            ctx.warn(
                WarningCode::ContainerNotFound,
                format!("{}/metadata/{kind}_id", NodeAt::base(f.index)),
                format!("no execution of the {kind} container in this run: its rounds hang under the root span"),
            );
            missing.len()
        };
        keyed.push((
            (
                container.map_or(0, |j| j + 1),
                id_place,
                kind == "loop",
                index,
            ),
            kind,
            cid,
            k,
            child_start,
            f.span.end,
        ));
    }
    // One round per key, its children in input order; rounds in the order
    // of their first child.
    let mut by_key: Vec<usize> = (0..keyed.len()).collect();
    crate::sort::stable_sort(&mut by_key, &|a, b| keyed[a].0 < keyed[b].0);
    for (n, &i) in by_key.iter().enumerate() {
        let (key, kind, cid, k, start, end) = &keyed[i];
        let same = n > 0 && keyed[by_key[n - 1]].0 == *key;
        match rounds.last_mut() {
            Some(r) if same => {
                r.children.push(*k);
                r.start = r.start.min(*start);
                r.end = r.end.max(*end);
            }
            _ => rounds.push(Round {
                container: key.0.checked_sub(1),
                container_id: cid.clone(),
                kind,
                index: key.3,
                children: vec![*k],
                start: *start,
                end: *end,
            }),
        }
    }
    let mut first_child: Vec<usize> = (0..rounds.len()).collect();
    crate::sort::stable_sort(&mut first_child, &|a, b| {
        rounds[a].children[0] < rounds[b].children[0]
    });
    let mut slots: Vec<Option<Round>> = rounds.into_iter().map(Some).collect();
    let rounds: Vec<Round> = first_child
        .iter()
        .filter_map(|&i| slots[i].take())
        .collect();
    let run_key = spans
        .get(first.wrapping_sub(1))
        .map(|s| s.id.to_text())
        .unwrap_or_default();
    // Round spans go straight after the node spans, into the room the caller
    // reserved ([`round_children`]).
    spans.reserve(rounds.len());
    for r in &rounds {
        // Borrowed where they can be: only the name and the seed's text
        // are built.
        let (parent, exec_key) = match r.container {
            Some(j) => (
                facts[j].span.id,
                facts[j].exec_id.map_or_else(
                    || Cow::Owned(format!("{run_key}:{}", r.container_id)),
                    Cow::Borrowed,
                ),
            ),
            None => (root, Cow::Owned(format!("{run_key}:{}", r.container_id))),
        };
        let title: &str = r
            .container
            .and_then(|j| facts[j].title.as_deref())
            .unwrap_or(&r.container_id);
        let start = Time::utc(r.start);
        let id = ctx.id(
            start,
            ids::seed(&format!("{exec_key}:round:{}", r.index)),
            NodeAt(facts[r.children[0]].index, ""),
        )?;
        let failed = r
            .children
            .iter()
            .find(|&&k| facts[k].span.failed)
            .and_then(|&k| spans[first + k].error_info.clone());
        let (id_key, idx_key) = if r.kind == "iteration" {
            ("iteration_id", "iteration_index")
        } else {
            ("loop_id", "loop_index")
        };
        let meta: Obj<'static> = vec![
            (
                Cow::Borrowed(id_key),
                Json::Str(Cow::Owned(r.container_id.to_string())),
            ),
            (Cow::Borrowed(idx_key), Json::Int(r.index as i64)),
            (
                Cow::Borrowed("container_node_execution_id"),
                r.container
                    .and_then(|j| facts[j].exec_id)
                    .map_or(Json::Null, |e| Json::Str(Cow::Owned(e.to_owned()))),
            ),
            (Cow::Borrowed("created_from"), Json::str("dify")),
        ];
        for &k in &r.children {
            spans[first + k].parent_span_id = Some(id);
        }
        crate::opik::push_out(
            spans,
            Span {
                id,
                project_name: ctx.project(),
                trace_id: spans[first - 1].trace_id,
                parent_span_id: Some(parent),
                name: Json::Str(Cow::Owned(format!("{title} #{}", r.index + 1))),
                kind: "general",
                start_time: Some(start),
                end_time: Some(Time::utc(r.end)),
                input: None,
                output: None,
                metadata: Some(Json::Obj(meta)),
                model: None,
                provider: None,
                tags: if r.kind == "iteration" {
                    crate::opik::tags!("iteration_round")
                } else {
                    crate::opik::tags!("loop_round")
                },
                usage: None,
                total_estimated_cost: None,
                error_info: failed.map(|e| ErrorInfo {
                    exception_type: format!("{}_round_failed", r.kind),
                    ..e
                }),
                ttft: None,
            },
        );
    }
    // Parents first: a depth-first walk from the root span, children by start.
    let run = &mut spans[first - 1..];
    let first_node = facts.first().map(|f| NodeAt(f.index, ""));
    let order = parents_first(run, root, ctx, &first_node);
    put_in_order(run, &order, |s| s.parent_span_id = Some(root));
    Ok(order)
}

/// Puts `items` in `order` (a permutation of their indices, each with
/// whether `reparent` applies to the item), in place: one swap an item,
/// where moving spans through lists copied each (some 500 bytes) four times.
fn put_in_order<T>(items: &mut [T], order: &[(usize, bool)], reparent: impl Fn(&mut T)) {
    debug_assert_eq!(order.len(), items.len());
    // `at[i]`: where the item first at `i` is now; `held[p]`: which item
    // (by its first index) is at `p` now.
    let mut at: Vec<usize> = (0..items.len()).collect();
    let mut held = at.clone();
    for (k, &(i, moved)) in order.iter().enumerate() {
        let p = at[i];
        // Most items are in place already (the input lists nodes mostly in
        // order).
        if p != k {
            items.swap(k, p);
            let j = held[k];
            (held[k], held[p]) = (i, j);
            (at[i], at[j]) = (k, p);
        }
        if moved {
            reparent(&mut items[k]);
        }
    }
}

/// A depth-first order of `spans` (the root first), children sorted by start;
/// spans the walk cannot reach (a containment cycle) are put under the root.
fn parents_first(
    spans: &[Span],
    root: Uuid,
    ctx: &mut Ctx,
    path: &dyn PathArg,
) -> Vec<(usize, bool)> {
    // Children sorted by (parent, start, position): one parent's children
    // are a run, found by binary search.
    // Keys computed once, ids as integers: comparing them is the sort's cost.
    let as_int = |u: Uuid| u128::from_be_bytes(u.0);
    let parent: Vec<Option<u128>> = spans
        .iter()
        .map(|s| s.parent_span_id.filter(|p| *p != s.id).map(as_int))
        .collect();
    let start: Vec<i64> = spans
        .iter()
        .map(|s| s.start_time.map_or(0, |t| t.micros))
        .collect();
    let mut kids: Vec<usize> = (0..spans.len()).filter(|&i| parent[i].is_some()).collect();
    crate::sort::stable_sort(&mut kids, &|a, b| {
        (parent[a], start[a]) < (parent[b], start[b])
    });
    let children_of = |id: Uuid| {
        let id = Some(as_int(id));
        let lo = kids.partition_point(|&i| parent[i] < id);
        let n = kids[lo..].iter().take_while(|&&i| parent[i] == id).count();
        &kids[lo..lo + n]
    };
    let mut seen = vec![false; spans.len()];
    let mut order = Vec::with_capacity(spans.len());
    let roots: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].id == root).collect();
    let mut stack: Vec<usize> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        order.push((i, false));
        stack.extend(children_of(spans[i].id).iter().rev().copied());
    }
    let mut cut = false;
    for (i, s) in seen.iter().enumerate() {
        if !s {
            order.push((i, true));
            cut = true;
        }
    }
    if cut {
        ctx.warn(
            WarningCode::ContainerNotFound,
            path,
            "iteration/loop containers refer to each other in a cycle: those spans hang under the root span",
        );
    }
    order
}

/// Node spans of a workflow run finished where they were built
/// ([`finish_early`]), so that [`finish`] passes over them: a 5,000-node run
/// is megabytes, and a second walk through it reads it all from memory again.
#[derive(Default)]
pub struct Early {
    /// Where the run's spans begin in the task's spans (its root span).
    pub start: usize,
    /// The order [`nest_rounds`] put the run's spans in: for each final
    /// place, the span's place before.
    pub order: Vec<(usize, bool)>,
    /// The node spans' places before the order: 1 to `nodes`.
    pub nodes: usize,
    /// The redactions in those spans, by place before the order (ascending):
    /// how many, and the path of the first below its span (`/input/...`).
    pub hits: Vec<(usize, usize, String)>,
    /// Whether a tag of those spans was cut.
    pub tag_cut: bool,
}

/// What [`finish_early`] found in one span.
pub struct EarlyHits {
    /// Redactions: how many, and the path of the first below the span.
    pub redacted: Option<(usize, String)>,
    /// Whether a tag was cut.
    pub tag_cut: bool,
}

/// Finishes a span as [`finish`] would, where it is built (its values still
/// in the caches). The span must not change after this in what `finish`
/// looks at (values, tags, name, model, provider).
pub fn finish_early(s: &mut Span<'_>, ctx: &Ctx, clean: &Clean) -> EarlyHits {
    let mut red = redact::Tally {
        clean: Some(clean),
        ..Default::default()
    };
    let tag_cut = finish_span(s, ctx.opts.redact, &mut red, None);
    EarlyHits {
        redacted: red.first.map(|first| (red.count, first)),
        tag_cut,
    }
}

/// One span's part of [`finish`]: `index` is the span's place in the task's
/// spans, for the paths of redactions (below the span without it).
/// Returns whether a tag was cut.
fn finish_span(
    s: &mut Span<'_>,
    redact: bool,
    red: &mut redact::Tally,
    index: Option<usize>,
) -> bool {
    if redact {
        for (field, v) in [
            ("input", &mut s.input),
            ("output", &mut s.output),
            ("metadata", &mut s.metadata),
        ] {
            redact::value(
                v,
                &|| match index {
                    Some(i) => format!("/spans/{i}/{field}"),
                    None => format!("/{field}"),
                },
                red,
            );
        }
    }
    let tag_cut = fix_tags(&mut s.tags);
    if s.name.kind() != Kind::String {
        s.name = Json::Null;
    }
    for v in [&mut s.model, &mut s.provider] {
        if v.as_ref().is_some_and(|m| m.kind() != Kind::String) {
            *v = None;
        }
    }
    tag_cut
}

/// The last pass over a task's objects in the linked profile: credentials
/// redacted, tags made valid, non-string names and models dropped.
/// `clean`: the input text the envelope reader found nothing to redact in.
pub fn finish(out: &mut TaskOut<'_>, ctx: &mut Ctx, clean: &Clean) {
    let mut red = redact::Tally {
        clean: Some(clean),
        ..Default::default()
    };
    let mut tag_cut = false;
    for (i, t) in out.traces.iter_mut().enumerate() {
        if ctx.opts.redact {
            for (field, v) in [
                ("input", &mut t.input),
                ("output", &mut t.output),
                ("metadata", &mut t.metadata),
            ] {
                redact::value(v, &|| format!("/traces/{i}/{field}"), &mut red);
            }
        }
        tag_cut |= fix_tags(&mut t.tags);
        if t.name.kind() != Kind::String {
            t.name = Json::Null;
        }
        if t.thread_id
            .as_ref()
            .is_some_and(|v| v.as_str().is_none_or(|s| s.is_empty()))
        {
            t.thread_id = None;
        }
    }
    let early = out.early.take().unwrap_or_default();
    tag_cut |= early.tag_cut;
    for (i, s) in out.spans.iter_mut().enumerate() {
        let was = early.order.get(i.wrapping_sub(early.start)).map(|o| o.0);
        if let Some(was) = was.filter(|w| (1..=early.nodes).contains(w)) {
            // Finished where it was built: only its redactions are counted,
            // in this order, so that the first one named is the same.
            let hit = early.hits.binary_search_by_key(&was, |h| h.0);
            if let Ok((_, count, first)) = hit.map(|h| &early.hits[h]) {
                red.add(*count, || format!("/spans/{i}{first}"));
            }
            continue;
        }
        tag_cut |= finish_span(s, ctx.opts.redact, &mut red, Some(i));
    }
    if tag_cut {
        ctx.warn(
            WarningCode::TagTruncated,
            out.tag_path.unwrap_or(""),
            format!("tags were cut to Opik's limits ({MAX_TAGS} tags of at most {MAX_TAG_CHARS} characters)"),
        );
    }
    if red.count > 0 {
        ctx.warn(
            WarningCode::Redacted,
            "",
            format!(
                "{} credential value(s) or signed URL(s) redacted; the first at {} of this task's objects",
                red.count,
                red.first.as_deref().unwrap_or("?")
            ),
        );
    }
}

/// Drops empty and duplicate tags, cuts long ones, keeps at most 50.
/// Returns whether anything was cut.
fn fix_tags(tags: &mut crate::opik::Tags<'_>) -> bool {
    // Most lists are one of the mappers' fixed ones, which need nothing:
    // they stay borrowed.
    let fine = |i: usize, t: &Cow<'_, str>| !t.is_empty() && !too_long(t) && !tags[..i].contains(t);
    if tags.len() <= MAX_TAGS && tags.iter().enumerate().all(|(i, t)| fine(i, t)) {
        return false;
    }
    fix_tag_list(tags.to_mut())
}

/// Whether a tag is over Opik's length (in characters).
fn too_long(t: &str) -> bool {
    t.len() > MAX_TAG_CHARS && t.chars().count() > MAX_TAG_CHARS
}

/// [`fix_tags`] on a list that needs a change.
fn fix_tag_list(tags: &mut Vec<Cow<'_, str>>) -> bool {
    // In place (a span's list is most often one tag): `tags[..kept]` holds
    // the tags kept so far, in order.
    let mut cut = false;
    let mut kept = 0;
    for i in 0..tags.len() {
        let t = &mut tags[i];
        if too_long(t) {
            cut = true;
            *t = Cow::Owned(t.chars().take(MAX_TAG_CHARS).collect());
        }
        if !tags[i].is_empty() && !tags[..kept].contains(&tags[i]) {
            tags.swap(kept, i);
            kept += 1;
        }
    }
    tags.truncate(kept);
    if tags.len() > MAX_TAGS {
        tags.truncate(MAX_TAGS);
        cut = true;
    }
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `fix_tags` must do, written plainly: cut each tag to its first
    /// MAX_TAG_CHARS characters, drop empty ones and repeats (keeping the
    /// first), keep at most MAX_TAGS.
    fn plain(tags: &[Cow<'_, str>]) -> (Vec<String>, bool) {
        let mut cut = false;
        let mut out: Vec<String> = Vec::new();
        for t in tags {
            cut |= t.chars().count() > MAX_TAG_CHARS;
            let t: String = t.chars().take(MAX_TAG_CHARS).collect();
            if !t.is_empty() && !out.contains(&t) {
                out.push(t);
            }
        }
        if out.len() > MAX_TAGS {
            out.truncate(MAX_TAGS);
            cut = true;
        }
        (out, cut)
    }

    #[test]
    fn items_are_put_in_any_order_in_place() {
        let mut seed = 11u32;
        for n in 0..40usize {
            for _ in 0..25 {
                // A random permutation (Fisher-Yates) with random flags.
                let mut order: Vec<(usize, bool)> = (0..n).map(|i| (i, false)).collect();
                for k in (1..n).rev() {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    order.swap(k, (seed >> 8) as usize % (k + 1));
                }
                for o in &mut order {
                    seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                    o.1 = seed >> 30 == 0;
                }
                let mut items: Vec<(usize, bool)> = (0..n).map(|i| (i * 7, false)).collect();
                put_in_order(&mut items, &order, |x| x.1 = true);
                let want: Vec<(usize, bool)> = order.iter().map(|&(i, m)| (i * 7, m)).collect();
                assert_eq!(items, want, "{order:?}");
            }
        }
    }

    #[test]
    fn tags_are_cut_deduplicated_and_kept_in_order() {
        let long = "é".repeat(MAX_TAG_CHARS + 3);
        let at_most = "x".repeat(MAX_TAG_CHARS);
        let one_over = "y".repeat(MAX_TAG_CHARS + 1);
        let wide = "é".repeat(MAX_TAG_CHARS / 2 + 1);
        let pool = [
            "a",
            "b",
            "",
            "a",
            "node_execution",
            &long,
            &at_most,
            &one_over,
            &wide,
            "ü",
            "b",
        ];
        let mut seed = 7u32;
        for n in (0..12).chain([49, 50, 51, 80]) {
            for _ in 0..40 {
                let tags: Vec<Cow<'_, str>> = (0..n)
                    .map(|k| {
                        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                        if n > 12 {
                            Cow::Owned(format!("t{}", (seed >> 16) % (n as u32 + 5) + k as u32 % 2))
                        } else {
                            Cow::Borrowed(pool[(seed >> 16) as usize % pool.len()])
                        }
                    })
                    .collect();
                let (want, want_cut) = plain(&tags);
                let mut got: crate::opik::Tags = Cow::Borrowed(&tags[..]);
                let cut = fix_tags(&mut got);
                assert_eq!(got.as_ref(), want, "{tags:?}");
                assert_eq!(cut, want_cut, "{tags:?}");
                // A list that needs nothing stays borrowed (not copied).
                if tags == want {
                    assert!(matches!(got, Cow::Borrowed(_)), "{tags:?}");
                }
            }
        }
    }
}
