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
#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
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
        .map(|t| serde_json::to_string(t).unwrap_or_default())
        .collect();
    let spans: Vec<String> = result
        .spans
        .iter()
        .map(|s| serde_json::to_string(s).unwrap_or_default())
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

/// Shrinks one object below `budget` bytes by replacing its largest payload
/// fields (`input`, `output`, `metadata`, then any other) with a marker.
fn truncate(text: &str, budget: usize, path: &str, warnings: &mut Vec<Warning>) -> String {
    let Some(mut obj) = parse_obj(text) else {
        return text.to_owned();
    };
    let original = text.len();
    let mut current = text.to_owned();
    let protected = [
        "id",
        "trace_id",
        "parent_span_id",
        "project_name",
        "start_time",
        "type",
    ];
    while current.len() > budget {
        let pick = obj
            .iter()
            .enumerate()
            .filter(|(_, (k, v))| !protected.contains(&k.as_ref()) && !is_marker(v))
            .max_by_key(|(_, (k, v))| {
                let preferred = matches!(k.as_ref(), "input" | "output" | "metadata");
                (preferred, serde_json::to_string(v).map_or(0, |s| s.len()))
            })
            .map(|(i, _)| i);
        let Some(i) = pick else { break };
        let size = serde_json::to_string(&obj[i].1).map_or(0, |s| s.len());
        let field = obj[i].0.to_string();
        obj[i].1 = marker(size, budget);
        warnings.push(Warning {
            code: WarningCode::Truncated,
            message: format!(
                "{field} ({size} bytes) was replaced by a truncation marker: the object ({original} bytes) exceeds the request body limit"
            ),
            path: format!("{path}/{field}"),
        });
        current = serde_json::to_string(&Json::Obj(obj.clone())).unwrap_or_default();
    }
    current
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
    let t = text.trim();
    if t.is_empty() || t == "null" {
        return Ok(Limits::default());
    }
    serde_json::from_str(t).map_err(|e| {
        Error::new(
            ErrorCode::InvalidOption,
            "/limits",
            crate::input::sanitize_serde_message(&e.to_string()),
        )
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
    Ok(serde_json::to_string(&build_texts(&traces, &spans, &cfg, &limits)).unwrap_or_default())
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
