//! Ready-to-send HTTP requests for Opik's batch ingestion endpoints:
//! traces first, then spans, split by Opik's item and byte limits without
//! ever splitting an object; an object too large on its own is truncated
//! field by field with a visible marker and a warning.

use std::borrow::Cow;
use std::fmt;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::config::{mask, Config};
use crate::error::{Error, ErrorCode, Warning, WarningCode};
use crate::fields::Fields;
use crate::input::parse_at;
use crate::json::{parse_obj, Json, Kind};
use crate::opik::MapResult;

/// Opik's batch endpoints accept 1–1000 items.
pub const MAX_ITEMS: usize = 1000;
/// Default body budget: 20 MiB of uncompressed JSON. Opik Cloud caps a request
/// at about 50 MB on the wire and the Python SDK splits at about 50 MB of
/// estimated JSON; 20 MiB leaves room for proxies with smaller limits.
pub const DEFAULT_MAX_BODY_BYTES: usize = 20 * 1024 * 1024;

/// Batch limits.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Items per request (1–1000).
    pub max_items: usize,
    /// Bytes per request body.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_items: MAX_ITEMS,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// One HTTP request. Its `Debug` output masks the `Authorization` header
/// (the serialised form carries the raw key: use [`Request::masked`] to show it).
#[derive(Clone, Serialize)]
pub struct Request {
    /// Always `POST`.
    pub method: &'static str,
    /// Full URL.
    pub url: String,
    /// Headers, in sending order.
    #[serde(serialize_with = "headers_as_object")]
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: String,
    /// `traces` or `spans`.
    pub kind: &'static str,
    /// Number of objects in the body.
    pub count: usize,
}

fn headers_as_object<S: Serializer>(h: &[(String, String)], s: S) -> Result<S::Ok, S::Error> {
    let mut m = s.serialize_map(Some(h.len()))?;
    for (k, v) in h {
        m.serialize_entry(k, v)?;
    }
    m.end()
}

/// A header value as it may be displayed: the key masked, the rest as is.
fn shown<'v>(name: &str, value: &'v str) -> Cow<'v, str> {
    if name.eq_ignore_ascii_case("authorization") {
        Cow::Owned(mask(value))
    } else {
        Cow::Borrowed(value)
    }
}

impl Request {
    /// The same request with the API key masked (for display).
    pub fn masked(&self) -> Request {
        let mut r = self.clone();
        for (k, v) in &mut r.headers {
            if let Cow::Owned(m) = shown(k, v) {
                *v = m;
            }
        }
        r
    }
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, Cow<str>)> = self
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), shown(k, v)))
            .collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body", &self.body)
            .field("kind", &self.kind)
            .field("count", &self.count)
            .finish()
    }
}

/// Requests plus the warnings of building them. Its derived `Debug` is safe:
/// each request's own `Debug` masks the key.
#[derive(Debug, Default, Serialize)]
pub struct Built {
    /// The requests, traces first.
    pub requests: Vec<Request>,
    /// Truncations.
    pub warnings: Vec<Warning>,
}

/// The headers Opik expects: the raw key (no `Bearer`), the workspace, JSON.
pub fn headers(cfg: &Config) -> Vec<(String, String)> {
    let mut h = Vec::with_capacity(3);
    if let Some(k) = &cfg.api_key {
        h.push(("Authorization".to_owned(), k.expose().to_owned()));
    }
    h.push(("Comet-Workspace".to_owned(), cfg.workspace.clone()));
    h.push(("Content-Type".to_owned(), "application/json".to_owned()));
    h
}

/// Builds requests from a mapping result.
pub fn build(result: &MapResult, cfg: &Config, limits: &Limits) -> Built {
    let traces: Vec<String> = result
        .traces
        .iter()
        .map(|t| crate::write::text(|o| t.write(o)))
        .collect();
    let spans: Vec<String> = result
        .spans
        .iter()
        .map(|s| crate::write::text(|o| s.write(o)))
        .collect();
    build_texts(&traces, &spans, cfg, limits)
}

/// Builds requests from the JSON objects of a result (each a JSON object text).
pub fn build_texts<T: AsRef<str>>(
    traces: &[T],
    spans: &[T],
    cfg: &Config,
    limits: &Limits,
) -> Built {
    let mut built = Built::default();
    let limits = Limits {
        max_items: limits.max_items.clamp(1, MAX_ITEMS),
        max_body_bytes: limits.max_body_bytes.max(1024),
    };
    for (kind, items) in [("traces", traces), ("spans", spans)] {
        batch(kind, items, cfg, &limits, &mut built);
    }
    built
}

fn batch<T: AsRef<str>>(
    kind: &'static str,
    items: &[T],
    cfg: &Config,
    limits: &Limits,
    built: &mut Built,
) {
    let url = format!("{}v1/private/{kind}/batch", cfg.url);
    let prefix = format!("{{\"{kind}\":[");
    let suffix = "]}";
    let overhead = prefix.len() + suffix.len();
    let mut body = String::new();
    let mut count = 0usize;
    let flush = |body: &mut String, count: &mut usize, built: &mut Built| {
        if *count > 0 {
            body.push_str(suffix);
            built.requests.push(Request {
                method: "POST",
                url: url.clone(),
                headers: headers(cfg),
                body: std::mem::take(body),
                kind,
                count: *count,
            });
            *count = 0;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let mut text: Cow<str> = Cow::Borrowed(item.as_ref());
        if text.len() + overhead > limits.max_body_bytes {
            text = Cow::Owned(truncate(
                &text,
                limits.max_body_bytes - overhead,
                &format!("/{kind}/{i}"),
                &mut built.warnings,
            ));
        }
        let needed = text.len() + usize::from(count > 0);
        if count == limits.max_items
            || (count > 0 && body.len() + needed + suffix.len() > limits.max_body_bytes)
        {
            flush(&mut body, &mut count, built);
        }
        if count == 0 {
            body.push_str(&prefix);
        } else {
            body.push(',');
        }
        body.push_str(&text);
        count += 1;
    }
    flush(&mut body, &mut count, built);
}

/// Fields truncation never touches: ids, the project, the span type and the
/// timestamps. Changing any of them would move the object elsewhere or break
/// the pattern or enum Opik's schema gives it; all are small when valid.
const KEPT: [&str; 9] = [
    "id",
    "trace_id",
    "parent_span_id",
    "project_name",
    "type",
    "start_time",
    "end_time",
    "last_updated_at",
    "source",
];

/// Serialised size of a value.
fn size_of(v: &Json) -> usize {
    crate::write::text(|o| crate::write::json(o, v)).len()
}

/// What cutting one field does: its new value (`None` removes the field) and
/// one note per thing cut, as (path below the field, what happened).
struct Cut<'a> {
    value: Option<Json<'a>>,
    notes: Vec<(String, String)>,
}

impl<'a> Cut<'a> {
    fn remove(what: &str) -> Self {
        Cut {
            value: None,
            notes: vec![(String::new(), what.to_owned())],
        }
    }
}

/// Shrinks one object below `budget` bytes, largest field first, each cut in
/// a form Opik's schema still accepts: `input`, `output` and `metadata` (which
/// go first) become a marker object; `name`, `model` and `provider` are
/// shortened with a visible suffix; `tags` lose their largest tags;
/// `error_info` keeps its required strings, shortened; any other optional
/// field is removed. Every cut gets a `truncated` warning; an object still
/// over the budget once nothing is left to cut gets `too_large_object` and is
/// returned anyway (it is never dropped).
fn truncate(text: &str, budget: usize, path: &str, warnings: &mut Vec<Warning>) -> String {
    let Some(mut obj) = parse_obj(text) else {
        too_large(text.len(), budget, path, warnings);
        return text.to_owned();
    };
    let original = text.len();
    let mut current = text.to_owned();
    let mut done = vec![false; obj.len()];
    while current.len() > budget {
        let pick = obj
            .iter()
            .enumerate()
            .filter(|(i, (k, _))| !done[*i] && !KEPT.contains(&k.as_ref()))
            .max_by_key(|(_, (k, v))| {
                let preferred = matches!(k.as_ref(), "input" | "output" | "metadata");
                (preferred, size_of(v))
            })
            .map(|(i, _)| i);
        let Some(i) = pick else {
            too_large(current.len(), budget, path, warnings);
            break;
        };
        done[i] = true;
        let size = size_of(&obj[i].1);
        let field = obj[i].0.to_string();
        let Some(cut) = cut_field(&field, &obj[i].1, size, current.len() - budget, budget) else {
            continue;
        };
        for (below, what) in cut.notes {
            warnings.push(Warning {
                code: WarningCode::Truncated,
                message: format!(
                    "{field}{below} ({size} bytes) {what}: the object ({original} bytes) exceeds the request body limit"
                ),
                path: format!("{path}/{}{below}", crate::error::pointer_token(&field)),
            });
        }
        match cut.value {
            Some(v) => obj[i].1 = v,
            None => {
                obj.remove(i);
                done.remove(i);
            }
        }
        current = crate::write::text(|o| crate::write::json(o, &Json::Obj(obj.clone())));
    }
    current
}

fn too_large(size: usize, budget: usize, path: &str, warnings: &mut Vec<Warning>) {
    warnings.push(Warning {
        code: WarningCode::TooLargeObject,
        message: format!(
            "the object is still {size} bytes after every field that can be cut was cut, over the {budget} bytes a request body leaves for it; it is sent as is and Opik may refuse it"
        ),
        path: path.to_owned(),
    });
}

/// Cuts one field by at least `excess` bytes when it can, in a form its
/// schema type allows; `None` when cutting it would not make it smaller.
fn cut_field<'a>(
    field: &str,
    v: &Json<'a>,
    size: usize,
    excess: usize,
    budget: usize,
) -> Option<Cut<'a>> {
    match field {
        "input" | "output" | "metadata" => {
            let m = marker(size, budget);
            (!is_marker(v) && size_of(&m) < size).then(|| Cut {
                value: Some(m),
                notes: vec![(String::new(), "was replaced by a truncation marker".into())],
            })
        }
        "name" | "model" | "provider" => Some(match v.as_str() {
            Some(s) => match shorten(&s, size, excess) {
                Some(short) => Cut {
                    value: Some(Json::Str(Cow::Owned(short))),
                    notes: vec![(String::new(), "was shortened, with a marker suffix".into())],
                },
                None => Cut::remove("was removed (too short to shorten)"),
            },
            None => Cut::remove("was removed (not a string)"),
        }),
        "tags" => Some(cut_tags(v, excess)),
        "error_info" => cut_error_info(v, excess),
        _ => Some(Cut::remove("was removed (an optional field)")),
    }
}

/// Bytes of one character inside a JSON string as serde_json writes it.
fn escaped_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\u{8}' | '\u{c}' | '\n' | '\r' | '\t' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// A prefix of `s` plus a marker suffix, at most `size - excess` bytes as a
/// JSON string when the suffix leaves room (else just the suffix, the
/// shortest form); `None` when that would not be shorter than `size`.
fn shorten(s: &str, size: usize, excess: usize) -> Option<String> {
    let suffix = format!("...[opik_truncated: {} bytes]", s.len());
    let fixed = 2 + suffix.chars().map(escaped_len).sum::<usize>();
    let mut room = size.saturating_sub(excess).saturating_sub(fixed);
    let mut end = 0;
    for (i, c) in s.char_indices() {
        let n = escaped_len(c);
        if n > room {
            break;
        }
        room -= n;
        end = i + c.len_utf8();
    }
    let out = format!("{}{suffix}", &s[..end]);
    (2 + out.chars().map(escaped_len).sum::<usize>() < size).then_some(out)
}

/// The elements of an array value.
fn items<'v>(v: &'v Json) -> Option<Vec<Json<'v>>> {
    match v {
        Json::Arr(a) => Some(a.clone()),
        _ => {
            let raw = v.raw_text()?;
            serde_json::from_str::<Vec<&RawValue>>(raw)
                .ok()
                .map(|a| a.into_iter().map(|r| Json::Raw(r.into())).collect())
        }
    }
}

/// Drops the largest tags until `excess` bytes are saved; the others keep
/// their order. With no tag left, the field goes.
fn cut_tags<'a>(v: &Json<'a>, excess: usize) -> Cut<'a> {
    let Some(tags) = items(v) else {
        return Cut::remove("was removed (not an array)");
    };
    let total = tags.len();
    let mut keep: Vec<(usize, Json<'static>)> = tags
        .into_iter()
        .map(|t| (size_of(&t), t.into_owned()))
        .collect();
    let mut saved = 0;
    while saved < excess && !keep.is_empty() {
        let largest = (0..keep.len()).max_by_key(|&j| keep[j].0).unwrap_or(0);
        saved += keep.remove(largest).0 + 1;
    }
    if keep.is_empty() {
        return Cut::remove(&format!("were removed (all {total} tags)"));
    }
    let dropped = total - keep.len();
    Cut {
        value: Some(Json::Arr(keep.into_iter().map(|(_, t)| t).collect())),
        notes: vec![(
            String::new(),
            format!("lost their {dropped} largest of {total} tags"),
        )],
    }
}

/// Shortens `error_info`'s strings (largest first) and removes entries that
/// are not strings; `exception_type` and `traceback`, which Opik requires,
/// stay as non-empty strings. An `error_info` without them as strings
/// already breaks the schema and is removed.
fn cut_error_info<'a>(v: &Json<'a>, excess: usize) -> Option<Cut<'a>> {
    let required = ["exception_type", "traceback"];
    let entries = v.to_obj().filter(|o| {
        required
            .iter()
            .all(|r| crate::json::obj_get(o, r).is_some_and(|x| x.kind() == Kind::String))
    });
    let Some(entries) = entries else {
        return Some(Cut::remove("was removed (not a valid error_info)"));
    };
    let mut entries: Vec<(String, usize, Json<'static>)> = entries
        .into_iter()
        .map(|(k, v)| (k.into_owned(), size_of(&v), v.into_owned()))
        .collect();
    let mut order: Vec<usize> = (0..entries.len()).collect();
    // Largest first; equal sizes keep their order.
    crate::sort::stable_sort(&mut order, &|a, b| entries[a].1 > entries[b].1);
    let mut remove = Vec::new();
    let mut notes = Vec::new();
    let mut saved = 0;
    for j in order {
        if saved >= excess {
            break;
        }
        let (key, size, value) = &mut entries[j];
        let below = format!("/{}", crate::error::pointer_token(key));
        match value
            .as_str()
            .and_then(|s| shorten(&s, *size, excess - saved))
        {
            Some(short) => {
                saved += *size - (short.chars().map(escaped_len).sum::<usize>() + 2);
                *value = Json::Str(Cow::Owned(short));
                notes.push((below, format!("was shortened to fit ({size} bytes before)")));
            }
            None if !required.contains(&key.as_str()) => {
                saved += *size + key.len() + 4;
                remove.push(j);
                notes.push((below, "was removed".to_owned()));
            }
            None => {}
        }
    }
    if notes.is_empty() {
        return None;
    }
    let kept = entries
        .into_iter()
        .enumerate()
        .filter(|(j, _)| !remove.contains(j))
        .map(|(_, (k, _, v))| (Cow::Owned(k), v))
        .collect();
    Some(Cut {
        value: Some(Json::Obj(kept)),
        notes,
    })
}

fn marker(size: usize, budget: usize) -> Json<'static> {
    Json::Obj(vec![
        (Cow::Borrowed("opik_truncated"), Json::Bool(true)),
        (
            Cow::Borrowed("reason"),
            Json::Str(Cow::Owned(format!(
                "omitted_due_to_size: {size} bytes over a {budget}-byte request limit"
            ))),
        ),
    ])
}

fn is_marker(v: &Json) -> bool {
    v.kind() == Kind::Object && v.get("opik_truncated").is_some()
}

/// `{"traces":[…],"spans":[…]}` as raw objects (a mapping result's JSON).
#[derive(Deserialize)]
struct ResultText<'a> {
    #[serde(borrow, default)]
    traces: Vec<&'a RawValue>,
    #[serde(borrow, default)]
    spans: Vec<&'a RawValue>,
}

/// Parses limits JSON (`""`/`null` → defaults).
pub fn limits_from_json(text: &str) -> Result<Limits, Error> {
    let f = Fields::read(
        text,
        &["max_items", "max_body_bytes"],
        ErrorCode::InvalidOption,
        "/limits",
    )?;
    let d = Limits::default();
    Ok(Limits {
        max_items: f.count("max_items")?.unwrap_or(d.max_items),
        max_body_bytes: f.count("max_body_bytes")?.unwrap_or(d.max_body_bytes),
    })
}

/// Builds requests from a mapping result given as JSON text, a configuration
/// and limits given as JSON; returns `{"requests":[…],"warnings":[…]}`.
pub fn build_json(
    result_json: &str,
    config_json: &str,
    limits_json: &str,
) -> Result<String, Error> {
    let cfg = crate::config::config_from_json(config_json)?;
    let limits = limits_from_json(limits_json)?;
    let r: ResultText = parse_at(result_json)?;
    for (kind, items) in [("traces", &r.traces), ("spans", &r.spans)] {
        if let Some(i) = items
            .iter()
            .position(|o| crate::json::raw_kind(o.get()) != Kind::Object)
        {
            return Err(Error::new(
                ErrorCode::InvalidType,
                format!("/{kind}/{i}"),
                "expected an object",
            ));
        }
    }
    let traces: Vec<&str> = r.traces.iter().map(|t| t.get()).collect();
    let spans: Vec<&str> = r.spans.iter().map(|s| s.get()).collect();
    Ok(crate::write::to_string(&build_texts(
        &traces, &spans, &cfg, &limits,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{validate, ConfigInput};

    fn cfg(key: Option<&str>) -> Config {
        validate(&ConfigInput {
            url: Some("https://www.comet.com/opik/api".into()),
            api_key: key.map(Into::into).or(Some("key-1234567890".into())),
            workspace: Some("acme".into()),
            project: None,
        })
        .0
        .unwrap()
    }

    fn obj(n: usize, pad: usize) -> String {
        format!(
            "{{\"id\":\"{n}\",\"input\":{{\"x\":\"{}\"}}}}",
            "a".repeat(pad)
        )
    }

    fn objects_of(reqs: &[Request], kind: &str) -> Vec<String> {
        reqs.iter()
            .filter(|r| r.kind == kind)
            .flat_map(|r| {
                let v: serde_json::Value = serde_json::from_str(&r.body).unwrap();
                v[kind]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|o| o.to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    #[test]
    fn urls_and_headers() {
        let c = cfg(Some("raw-key-value-123"));
        let b = build_texts(&["{\"id\":1}"], &["{\"id\":2}"], &c, &Limits::default());
        assert_eq!(b.requests.len(), 2);
        assert_eq!(
            b.requests[0].url,
            "https://www.comet.com/opik/api/v1/private/traces/batch"
        );
        assert_eq!(
            b.requests[1].url,
            "https://www.comet.com/opik/api/v1/private/spans/batch"
        );
        assert_eq!(
            b.requests[0].headers,
            vec![
                ("Authorization".to_owned(), "raw-key-value-123".to_owned()),
                ("Comet-Workspace".to_owned(), "acme".to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ]
        );
        assert_eq!(b.requests[0].body, "{\"traces\":[{\"id\":1}]}");
        assert_eq!(b.requests[0].masked().headers[0].1, "****-123");
        let oss = validate(&ConfigInput {
            url: Some("http://localhost:5173/api".into()),
            ..Default::default()
        })
        .0
        .unwrap();
        let b = build_texts(&["{}"], &[], &oss, &Limits::default());
        assert_eq!(
            b.requests[0].headers[0],
            ("Comet-Workspace".to_owned(), "default".to_owned())
        );
        assert_eq!(
            b.requests[0].url,
            "http://localhost:5173/api/v1/private/traces/batch"
        );
        assert!(build_texts::<&str>(&[], &[], &oss, &Limits::default())
            .requests
            .is_empty());
    }

    #[test]
    fn debug_output_masks_the_key() {
        let secret = "sk-live-secret-0123456789";
        let b = build_texts(
            &["{\"id\":1}"],
            &["{\"id\":2}"],
            &cfg(Some(secret)),
            &Limits::default(),
        );
        let r = &b.requests[0];
        for text in [
            format!("{r:?}"),
            format!("{r:#?}"),
            format!("{b:?}"),
            format!("{b:#?}"),
        ] {
            assert!(!text.contains(secret), "{text}");
            assert!(!text.contains("secret-0123"), "{text}");
            assert!(text.contains("****6789"), "{text}");
            assert!(text.contains("Comet-Workspace"), "{text}");
        }
        assert!(!format!("{:#?}", r.masked()).contains(secret));
        // The request itself still carries the key for sending.
        assert_eq!(r.headers[0].1, secret);
    }

    #[test]
    fn item_limit_splits_exactly() {
        let items: Vec<String> = (0..2001).map(|i| obj(i, 1)).collect();
        let b = build_texts(&items, &[], &cfg(None), &Limits::default());
        let counts: Vec<usize> = b.requests.iter().map(|r| r.count).collect();
        assert_eq!(counts, [1000, 1000, 1]);
        assert_eq!(objects_of(&b.requests, "traces").len(), 2001);
        let b = build_texts(&items[..1000], &[], &cfg(None), &Limits::default());
        assert_eq!(b.requests.len(), 1);
    }

    #[test]
    fn byte_limit_boundaries() {
        let items: Vec<String> = (0..3).map(|i| obj(i, 100)).collect();
        let one = items[0].len();
        let overhead = "{\"spans\":[".len() + "]}".len();
        // Exactly two objects fit.
        let exact = overhead + 2 * one + 1;
        let limits = Limits {
            max_items: 1000,
            max_body_bytes: exact.max(1024),
        };
        let pad = limits.max_body_bytes - exact;
        let mut big: Vec<String> = items.clone();
        big[1] = obj(1, 100 + pad);
        let b = build_texts(&[], &big, &cfg(None), &limits);
        assert_eq!(
            b.requests.iter().map(|r| r.count).collect::<Vec<_>>(),
            [2, 1]
        );
        assert_eq!(b.requests[0].body.len(), limits.max_body_bytes);
        // One byte more and the second object moves to the next request.
        big[1] = obj(1, 101 + pad);
        let b = build_texts(&[], &big, &cfg(None), &limits);
        assert_eq!(
            b.requests.iter().map(|r| r.count).collect::<Vec<_>>(),
            [1, 1, 1]
        );
        assert!(b
            .requests
            .iter()
            .all(|r| r.body.len() <= limits.max_body_bytes));
        assert!(b.warnings.is_empty());
        let back = objects_of(&b.requests, "spans");
        let want: Vec<String> = big
            .iter()
            .map(|s| {
                serde_json::from_str::<serde_json::Value>(s)
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(back, want, "bodies concatenated give the objects in order");
    }

    #[test]
    fn a_huge_object_is_truncated_not_dropped() {
        let huge = format!(
            "{{\"id\":\"x\",\"name\":\"n\",\"input\":{{\"blob\":\"{}\"}},\"output\":{{\"o\":\"{}\"}},\"metadata\":{{\"k\":1}}}}",
            "a".repeat(5000),
            "b".repeat(3000)
        );
        let limits = Limits {
            max_items: 10,
            max_body_bytes: 2048,
        };
        let b = build_texts(&[obj(0, 10), huge, obj(2, 10)], &[], &cfg(None), &limits);
        let objs = objects_of(&b.requests, "traces");
        assert_eq!(objs.len(), 3);
        let v: serde_json::Value = serde_json::from_str(&objs[1]).unwrap();
        assert_eq!(v["input"]["opik_truncated"], true);
        assert_eq!(v["output"]["opik_truncated"], true);
        assert_eq!(v["metadata"]["k"], 1);
        assert_eq!(v["id"], "x");
        let paths: Vec<&str> = b.warnings.iter().map(|w| w.path.as_str()).collect();
        assert_eq!(paths, ["/traces/1/input", "/traces/1/output"]);
        assert!(b.warnings.iter().all(|w| w.code == WarningCode::Truncated));
        assert!(b.requests.iter().all(|r| r.body.len() <= 2048));
    }

    const TRACE_ID: &str = "019cadd1-a3b2-7035-a0a4-ec6cabb228de";
    const SPAN_ID: &str = "019cadd1-a704-7b94-9a2a-5ed57f1234cb";
    const SMALL: Limits = Limits {
        max_items: 10,
        max_body_bytes: 1024,
    };

    /// A span as the mapper writes it, with `extra` fields appended.
    fn span_with(extra: &str) -> String {
        format!(
            r#"{{"id":"{SPAN_ID}","project_name":"p","trace_id":"{TRACE_ID}","name":"n","type":"llm","start_time":"2026-03-02T09:12:04.100000Z","end_time":"2026-03-02T09:12:05Z","input":{{"q":"{}"}},"output":{{"a":"{}"}},"metadata":{{"m":"{}"}}{extra}}}"#,
            "i".repeat(900),
            "o".repeat(880),
            "m".repeat(860)
        )
    }

    /// Checks the types Opik's strict write schema gives each field (the
    /// receiver tests check the full schema with ajv).
    fn assert_schema_types(o: &serde_json::Value) {
        use serde_json::Value;
        let o = o.as_object().unwrap();
        for k in ["id", "trace_id", "start_time", "project_name"] {
            if let Some(v) = o.get(k) {
                assert!(v.is_string(), "{k}");
            }
        }
        for k in ["name", "model", "provider", "thread_id"] {
            if let Some(v) = o.get(k) {
                assert!(v.is_string(), "{k}: {v}");
            }
        }
        if let Some(t) = o.get("tags") {
            let t = t.as_array().expect("tags is an array");
            assert!(t.len() <= 50);
            let mut seen = std::collections::HashSet::new();
            for x in t {
                let x = x.as_str().expect("a tag is a string");
                assert!((1..=100).contains(&x.chars().count()));
                assert!(seen.insert(x), "tags are unique");
            }
        }
        if let Some(e) = o.get("error_info") {
            let e = e.as_object().expect("error_info is an object");
            for k in ["exception_type", "traceback"] {
                assert!(!e[k].as_str().expect(k).is_empty(), "{k}");
            }
            if let Some(m) = e.get("message") {
                assert!(m.is_string());
            }
        }
        if let Some(u) = o.get("usage") {
            for (_, n) in u.as_object().expect("usage is an object") {
                assert!(n.as_u64().is_some_and(|n| n <= i32::MAX as u64), "{n}");
            }
        }
        for k in ["input", "output", "metadata"] {
            match o.get(k) {
                None | Some(Value::Object(_) | Value::String(_)) => {}
                Some(Value::Array(a)) => assert!(a.iter().all(Value::is_object)),
                Some(v) => panic!("{k}: {v}"),
            }
        }
    }

    /// Builds one span with the small limits; returns it and the warnings.
    fn one_span(text: String) -> (serde_json::Value, Vec<(WarningCode, String)>) {
        let b = build_texts(&[], &[text], &cfg(None), &SMALL);
        assert_eq!(b.requests.len(), 1);
        assert_eq!(b.requests[0].count, 1, "never dropped");
        let objs = objects_of(&b.requests, "spans");
        let v: serde_json::Value = serde_json::from_str(&objs[0]).unwrap();
        assert_schema_types(&v);
        assert_eq!(v["id"], SPAN_ID);
        assert_eq!(v["trace_id"], TRACE_ID);
        let w = b.warnings.into_iter().map(|w| (w.code, w.path)).collect();
        (v, w)
    }

    fn truncated(paths: &[&str]) -> Vec<(WarningCode, String)> {
        paths
            .iter()
            .map(|p| (WarningCode::Truncated, (*p).to_owned()))
            .collect()
    }

    #[test]
    fn a_huge_name_is_shortened_with_a_visible_suffix() {
        let name = "N".repeat(5000);
        let text = span_with("").replace("\"name\":\"n\"", &format!("\"name\":\"{name}\""));
        let (v, w) = one_span(text);
        let short = v["name"].as_str().unwrap();
        assert!(
            short.ends_with("...[opik_truncated: 5000 bytes]"),
            "{short}"
        );
        assert!(short.starts_with("NNN") && short.len() < 1000);
        assert_eq!(
            w,
            truncated(&[
                "/spans/0/input",
                "/spans/0/output",
                "/spans/0/metadata",
                "/spans/0/name"
            ])
        );
    }

    #[test]
    fn huge_tags_lose_their_largest_tags() {
        let tags: Vec<String> = (0..50)
            .map(|i| format!("{i:02}{}", "t".repeat(98)))
            .collect();
        let extra = format!(",\"tags\":{}", serde_json::to_string(&tags).unwrap());
        let (v, w) = one_span(span_with(&extra));
        let kept = v["tags"].as_array().unwrap();
        assert!(!kept.is_empty() && kept.len() < 50, "{}", kept.len());
        // The tags kept are the first ones, whole and in order.
        for (i, t) in kept.iter().enumerate() {
            assert_eq!(t.as_str().unwrap(), tags[i]);
        }
        assert_eq!(
            w.last().unwrap(),
            &(WarningCode::Truncated, "/spans/0/tags".to_owned())
        );
        assert!(w.iter().all(|(c, _)| *c == WarningCode::Truncated));
        // Tags that cannot fit at all go, and so does the field.
        let one = format!(",\"tags\":[\"{}\"]", "x".repeat(3000));
        let (v, w) = one_span(span_with(&one));
        assert!(v.get("tags").is_none());
        assert_eq!(w.last().unwrap().1, "/spans/0/tags");
    }

    #[test]
    fn a_huge_error_info_keeps_its_required_strings() {
        let extra = format!(
            r#","error_info":{{"exception_type":"Boom","message":"{}","traceback":"{}"}}"#,
            "m".repeat(3000),
            "t".repeat(5000)
        );
        let (v, w) = one_span(span_with(&extra));
        let e = &v["error_info"];
        assert_eq!(e["exception_type"], "Boom");
        assert!(e["traceback"]
            .as_str()
            .unwrap()
            .ends_with("...[opik_truncated: 5000 bytes]"));
        assert!(e["message"]
            .as_str()
            .unwrap()
            .ends_with("...[opik_truncated: 3000 bytes]"));
        assert_eq!(
            w,
            truncated(&[
                "/spans/0/input",
                "/spans/0/output",
                "/spans/0/metadata",
                "/spans/0/error_info/traceback",
                "/spans/0/error_info/message",
            ])
        );
    }

    #[test]
    fn an_object_too_large_to_cut_is_sent_with_a_distinct_warning() {
        let project = "P".repeat(2000);
        let extra = r#","tags":["a","b"],"usage":{"prompt_tokens":1,"completion_tokens":2},"model":"gpt","ttft":1.5,"error_info":{"exception_type":"E","traceback":"T"}"#;
        let text = span_with(extra).replace(
            "\"project_name\":\"p\"",
            &format!("\"project_name\":\"{project}\""),
        );
        let (v, w) = one_span(text);
        assert_eq!(
            v["project_name"],
            project.as_str(),
            "the project is never cut"
        );
        assert_eq!(v["type"], "llm");
        assert_eq!(v["start_time"], "2026-03-02T09:12:04.100000Z");
        assert_eq!(
            w.last().unwrap(),
            &(WarningCode::TooLargeObject, "/spans/0".to_owned())
        );
        assert_eq!(
            w.iter()
                .filter(|(c, _)| *c == WarningCode::TooLargeObject)
                .count(),
            1
        );
        assert!(w.contains(&(WarningCode::Truncated, "/spans/0/usage".to_owned())));
        assert!(v.get("usage").is_none());
        // Text that is not an object cannot be cut either: it is sent, with the warning.
        let mut warnings = Vec::new();
        let raw = format!("[\"{}\"]", "x".repeat(2000));
        assert_eq!(truncate(&raw, 1000, "/spans/3", &mut warnings), raw);
        assert_eq!(warnings[0].code, WarningCode::TooLargeObject);
    }

    #[test]
    fn shortening_counts_escapes_and_keeps_whole_characters() {
        let s = "é\"\n\u{1}".repeat(500);
        let size = serde_json::to_string(&s).unwrap().len();
        let out = shorten(&s, size, 1000).unwrap();
        let written = serde_json::to_string(&out).unwrap().len();
        assert!(written <= size - 1000, "{written} > {}", size - 1000);
        assert!(written > size - 1100, "keeps what fits");
        assert!(
            shorten("short", 7, 3).is_none(),
            "the suffix alone is longer"
        );
    }

    #[test]
    fn json_entry_point() {
        let out = build_json(
            r#"{"traces":[{"id":"t"}],"spans":[{"id":"s"}],"warnings":[]}"#,
            r#"{"url":"http://localhost:5173/api/"}"#,
            "",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["requests"].as_array().unwrap().len(), 2);
        assert_eq!(v["requests"][0]["headers"]["Comet-Workspace"], "default");
        let e = build_json("{}", "{}", "").unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidConfig);
        let e = build_json(r#"{"traces":[1]}"#, r#"{"url":"http://h/api/"}"#, "").unwrap_err();
        assert_eq!(
            (e.code, e.path.as_str()),
            (ErrorCode::InvalidType, "/traces/0")
        );
        let e = build_json("[]", r#"{"url":"http://h/api/"}"#, r#"{"max_items":"x"}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidOption);
    }
}
