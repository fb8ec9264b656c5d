//! Shared pieces of the fuzz targets: the checks every mapped input must
//! pass, options drawn from fuzz data, and a structure-aware generator of
//! Dify trace tasks (envelopes close to what Dify sends, with any field
//! replaced by unusual or arbitrary JSON).

use arbitrary::{Result, Unstructured};
use dify_opik::requests::{self, Limits};
use dify_opik::{IdTime, Options, Profile};
use serde_json::{json, Map, Value};

/// Asserts that `text` is one JSON value. Output may nest a few levels
/// deeper than the input (which the core caps at serde_json's 128), so the
/// limit is off; the depth stays small enough for the stack.
pub fn assert_json(text: &str, what: &str) {
    use serde::Deserialize;
    let mut de = serde_json::Deserializer::from_str(text);
    de.disable_recursion_limit();
    let r = serde::de::IgnoredAny::deserialize(&mut de).and_then(|_| de.end());
    if let Err(e) = r {
        panic!("{what} is not valid JSON: {e}");
    }
}

/// Maps `text` and checks what must hold for any input: no panic, a
/// structured error or valid JSON, the same result on a second call, and
/// requests whose bodies are JSON.
pub fn check(text: &str, opts: &Options) {
    // The envelope's fast path reads what serde_json reads, or gives up.
    dify_opik::input::check_fast_path(text);
    let first = dify_opik::map_json(text, opts);
    match &first {
        Ok(s) => assert_json(s, "map_json output"),
        Err(e) => {
            assert!(!e.message.is_empty(), "error without a message");
            assert!(
                e.path.is_empty() || e.path.starts_with('/'),
                "error path is not a JSON pointer"
            );
        }
    }
    let second = dify_opik::map_json(text, opts);
    assert_eq!(first, second, "two calls on the same input differ");
    // The npm package's Node path hands the input over as UTF-16; converted
    // back in wasm it must be the same bytes.
    let units: Vec<u16> = text.encode_utf16().collect();
    let mut bytes = vec![0; units.len() * dify_opik::utf16::MAX_BYTES_PER_UNIT];
    let (read, n) = dify_opik::utf16::encode_utf8(&units, &mut bytes);
    assert_eq!(read, units.len(), "all units are read");
    assert_eq!(&bytes[..n], text.as_bytes(), "the UTF-16 round trip differs");
    if let Ok(s) = dify_opik::map_each_json(text, opts) {
        assert_json(&s, "map_each_json output");
    }
    if let Ok(result) = dify_opik::map(text, opts) {
        let cfg = dify_opik::config::config_from_json(
            r#"{"url":"http://127.0.0.1:5173/api/","workspace":"w","api_key":"k"}"#,
        )
        .expect("fixed config is valid");
        let limits = Limits {
            max_items: 3,
            max_body_bytes: 2048,
        };
        for r in requests::build(&result, &cfg, &limits).requests {
            assert_json(&r.body, "request body");
        }
    }
}

/// True one time in `n`; false when the data has run out (so that a short
/// prefix gives the plain default options).
fn one_in(u: &mut Unstructured, n: u32) -> Result<bool> {
    Ok(u.int_in_range(0..=n - 1)? == n - 1)
}

/// Options drawn from fuzz data; exhausted data gives the defaults (linked,
/// redaction on, a fixed `now`).
pub fn options(u: &mut Unstructured) -> Result<Options> {
    let mut o = Options {
        profile: if u.arbitrary()? {
            Profile::Reference
        } else {
            Profile::Linked
        },
        redact: !one_in(u, 8)?,
        ..Default::default()
    };
    // Mostly what the JSON options allow; sometimes any i64 (a Rust caller
    // builds `Options` directly).
    o.now = match u.int_in_range(0..=4u8)? {
        0 => Some(1_772_442_000_000_000),
        1 => None,
        2 => Some(u.int_in_range(-1_000_000_000_000_000..=1_000_000_000_000_000i64)?),
        3 => Some(u.arbitrary()?),
        _ => Some(0),
    };
    o.id_time = match u.int_in_range(0..=5u8)? {
        4 => IdTime::At(u.int_in_range(-1_000_000_000_000_000..=1_000_000_000_000_000i64)?),
        5 => {
            let from: i64 = u.int_in_range(-1_000_000_000_000_000..=1_000_000_000_000_000)?;
            let to = from.saturating_add(u.int_in_range(0..=1_000_000_000_000_000i64)?);
            IdTime::Range {
                at: u.int_in_range(-1_000_000_000_000_000..=1_000_000_000_000_000)?,
                from,
                to,
            }
        }
        3 => IdTime::Range {
            at: u.arbitrary()?,
            from: u.arbitrary()?,
            to: u.arbitrary()?,
        },
        _ => IdTime::Event,
    };
    o.naive_offset = *u.choose(&[0, 0, 28_800, -19_800, 86_399, -86_399])?;
    if one_in(u, 16)? {
        o.trace_info_type = Some(u.choose(TYPES)?.to_string());
    }
    if one_in(u, 32)? {
        o.max_input_bytes = u.int_in_range(0..=4096)?;
    }
    Ok(o)
}

/// Dify's class names, ignored ones and a wrong one.
pub const TYPES: &[&str] = &[
    "WorkflowTraceInfo",
    "WorkflowTraceInfo",
    "MessageTraceInfo",
    "MessageTraceInfo",
    "ModerationTraceInfo",
    "SuggestedQuestionTraceInfo",
    "DatasetRetrievalTraceInfo",
    "ToolTraceInfo",
    "GenerateNameTraceInfo",
    "PromptGenerationTraceInfo",
    "WorkflowNodeTraceInfo",
    "dict",
    "NoSuchTraceInfo",
];

const NODE_TYPES: &[&str] = &[
    "start",
    "llm",
    "llm",
    "code",
    "tool",
    "http-request",
    "knowledge-retrieval",
    "question-classifier",
    "parameter-extractor",
    "if-else",
    "iteration",
    "iteration",
    "loop",
    "loop",
    "agent",
    "answer",
    "end",
    "",
];

const NODE_IDS: &[&str] = &["1000", "1001", "1002", "1003", "it", ""];

const RUN_ID: &str = "beb55eff-af2e-475f-8e97-f4cb3c486cf8";
const MESSAGE_ID: &str = "42ff58c6-bf3a-4035-a0a4-ec6cabb228de";
const END_USER: &str = "ea7541f8-110a-477d-88f9-5f5816ab1a90";

/// Builds field values: mostly plausible, sometimes odd, sometimes anything.
pub struct Gen<'u, 'd> {
    u: &'u mut Unstructured<'d>,
    clock: i64,
}

impl<'u, 'd> Gen<'u, 'd> {
    /// A generator over fuzz data.
    pub fn new(u: &'u mut Unstructured<'d>) -> Self {
        Gen {
            u,
            clock: 1_749_543_330_123_456,
        }
    }

    fn pick<T: Clone>(&mut self, xs: &[T]) -> Result<T> {
        self.u.choose(xs).cloned()
    }

    /// Any JSON value, at most `depth` levels deep.
    pub fn any(&mut self, depth: u32) -> Result<Value> {
        let top = if depth == 0 { 5 } else { 7 };
        Ok(match self.u.int_in_range(0..=top)? {
            0 => Value::Null,
            1 => Value::Bool(self.u.arbitrary()?),
            2 => self.number()?,
            3 => Value::String(self.u.arbitrary::<String>()?),
            4 => Value::String(self.text()?),
            5 => Value::String(self.time()?),
            6 => {
                let n = self.u.int_in_range(0..=4)?;
                let mut a = Vec::with_capacity(n);
                for _ in 0..n {
                    a.push(self.any(depth - 1)?);
                }
                Value::Array(a)
            }
            _ => {
                let n = self.u.int_in_range(0..=4)?;
                let mut m = Map::new();
                for _ in 0..n {
                    let k = self.key()?;
                    m.insert(k, self.any(depth - 1)?);
                }
                Value::Object(m)
            }
        })
    }

    fn key(&mut self) -> Result<String> {
        if self.u.ratio(1, 4)? {
            return self.u.arbitrary();
        }
        Ok(self
            .pick(&[
                "prompt_tokens",
                "completion_tokens",
                "total_tokens",
                "total_price",
                "currency",
                "api_key",
                "Authorization",
                "password",
                "text",
                "role",
                "query",
                "iteration_id",
                "iteration_index",
                "loop_id",
                "loop_index",
                "usage",
                "url",
                "a/b~c",
            ])?
            .to_owned())
    }

    fn number(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0..=7)? {
            0 => json!(0),
            1 => json!(self.u.arbitrary::<i64>()?),
            2 => json!(self.u.arbitrary::<u64>()?),
            3 => {
                let f: f64 = self.u.arbitrary()?;
                if f.is_finite() {
                    json!(f)
                } else {
                    json!(1e308)
                }
            }
            4 => json!(-1),
            5 => json!(2.5),
            6 => json!(self.u.int_in_range(0..=100_000)?),
            _ => json!(-0.0),
        })
    }

    fn text(&mut self) -> Result<String> {
        Ok(self
            .pick(&[
                "hello",
                "",
                " ",
                "naïve café 東京 🙂",
                "Bearer sk-live-123",
                "http://127.0.0.1:5001/files/x.png?timestamp=1&nonce=2&sign=abc",
                "https://s3.example/x?X-Amz-Signature=ff&a=1#frag",
                "?sign=",
                "\u{0}\u{1f}\"\\",
                "succeeded",
                "failed",
                "exception",
                "stopped",
                "partial-succeeded",
                "chat",
                "completion",
                "agent-chat",
                "langgenius/openai/openai",
                "openai",
                "gpt-4o-mini",
                "USD",
                "RMB",
                "account:ed9d4030-336e-4c84-a94b-6e386c860a7c",
                "end_user:ea7541f8-110a-477d-88f9-5f5816ab1a90",
                "anonymous",
            ])?
            .to_owned())
    }

    fn id(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0..=9)? {
            9 => Value::Null,
            1 => json!(""),
            2 => json!("not-a-uuid"),
            3 => json!("c5faf75f-65af-1ae1-bf92-0491c622b6cb"),
            4 => json!(RUN_ID),
            5 => json!(MESSAGE_ID),
            6 => json!(format!("tenant-{RUN_ID}")),
            7 => self.any(1)?,
            _ => {
                let b: [u8; 16] = self.u.arbitrary()?;
                let mut s = String::new();
                for (i, x) in b.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        s.push('-');
                    }
                    let x = match i {
                        6 => (x & 0x0f) | 0x40,
                        8 => (x & 0x3f) | 0x80,
                        _ => *x,
                    };
                    s.push_str(&format!("{x:02x}"));
                }
                json!(s)
            }
        })
    }

    fn time(&mut self) -> Result<String> {
        let step: i64 = self.u.int_in_range(-2_000_000..=5_000_000)?;
        self.clock = self.clock.saturating_add(step);
        let base = fmt_micros(self.clock);
        Ok(match self.u.int_in_range(0..=12)? {
            0 => format!("{base}Z"),
            1 => format!("{base}+08:00"),
            2 => format!("{base}-05:30"),
            3 => base[..19].to_owned(),
            4 => base[..10].to_owned(),
            5 => "0001-01-01T00:00:00".to_owned(),
            6 => "9999-12-31T23:59:59.999999".to_owned(),
            7 => "1969-12-31T23:59:59.999999".to_owned(),
            8 => "2025-02-30T25:61:61".to_owned(),
            9 => "2025-06-10 08:15:30.1234567891".to_owned(),
            _ => base,
        })
    }

    fn time_value(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0..=9)? {
            9 => Value::Null,
            8 => self.any(1)?,
            _ => Value::String(self.time()?),
        })
    }

    fn num_value(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0..=9)? {
            9 => Value::Null,
            8 => self.any(1)?,
            7 => json!("12"),
            6 => json!(self.u.int_in_range(0..=10_000)? as f64 / 100.0),
            _ => self.number()?,
        })
    }

    fn text_value(&mut self) -> Result<Value> {
        Ok(match self.u.int_in_range(0..=9)? {
            9 => Value::Null,
            8 => self.any(1)?,
            _ => Value::String(self.text()?),
        })
    }

    fn usage(&mut self) -> Result<Value> {
        if self.u.ratio(1, 6)? {
            return self.any(2);
        }
        let mut m = Map::new();
        for k in [
            "prompt_tokens",
            "completion_tokens",
            "total_tokens",
            "total_price",
            "prompt_price",
            "completion_price",
            "currency",
            "latency",
            "time_to_first_token",
        ] {
            if self.u.ratio(4, 5)? {
                let v = if k == "currency" {
                    self.text_value()?
                } else {
                    self.num_value()?
                };
                m.insert(k.to_owned(), v);
            }
        }
        Ok(Value::Object(m))
    }

    fn prompts(&mut self) -> Result<Value> {
        if self.u.ratio(1, 6)? {
            return self.any(3);
        }
        let n = self.u.int_in_range(0..=3)?;
        let mut a = Vec::new();
        for _ in 0..n {
            a.push(json!({
                "role": self.pick(&["system", "user", "assistant", "tool"])?,
                "text": self.text_value()?,
                "files": [],
            }));
        }
        Ok(Value::Array(a))
    }

    /// A field of an object: usually `plausible`, sometimes another value,
    /// sometimes absent (`None`).
    fn field(&mut self, plausible: Value) -> Result<Option<Value>> {
        // Exhausted data (0) gives the plausible value.
        Ok(match self.u.int_in_range(0..=15)? {
            13 => None,
            14 => Some(Value::Null),
            15 => Some(self.any(3)?),
            _ => Some(plausible),
        })
    }

    fn put(&mut self, m: &mut Map<String, Value>, k: &str, plausible: Value) -> Result<()> {
        if let Some(v) = self.field(plausible)? {
            m.insert(k.to_owned(), v);
        }
        Ok(())
    }

    /// A JSON-string column (DB-row shape) or the value itself.
    fn column(&mut self, v: Value, db_row: bool) -> Result<Value> {
        if db_row && !v.is_null() && self.u.ratio(3, 4)? {
            let s = v.to_string();
            if self.u.ratio(1, 16)? {
                // A broken column: its first half, cut at a character
                // boundary (the column text may hold any script).
                let mut half = s.len() / 2;
                while !s.is_char_boundary(half) {
                    half -= 1;
                }
                return Ok(Value::String(s[..half].to_owned()));
            }
            return Ok(Value::String(s));
        }
        Ok(v)
    }

    fn metadata(&mut self) -> Result<Value> {
        let mut m = Map::new();
        for k in [
            "app_id",
            "user_id",
            "workflow_id",
            "conversation_id",
            "tenant_id",
            "message_id",
            "from_end_user_id",
            "from_account_id",
        ] {
            if self.u.ratio(2, 3)? {
                let v = self.id()?;
                m.insert(k.to_owned(), v);
            }
        }
        for k in ["ls_provider", "ls_model_name", "status", "app_name"] {
            if self.u.ratio(1, 2)? {
                let v = self.text_value()?;
                m.insert(k.to_owned(), v);
            }
        }
        if self.u.ratio(1, 4)? {
            let k = self.key()?;
            let v = self.any(2)?;
            m.insert(k, v);
        }
        Ok(Value::Object(m))
    }

    fn node_metadata(&mut self) -> Result<Value> {
        let mut m = Map::new();
        if self.u.ratio(1, 2)? {
            let (id_key, idx_key) = self.pick(&[
                ("iteration_id", "iteration_index"),
                ("loop_id", "loop_index"),
            ])?;
            let id = self.pick(NODE_IDS)?;
            m.insert(id_key.to_owned(), json!(id));
            let idx = match self.u.int_in_range(0..=7)? {
                0 => self.any(1)?,
                1 => json!(-1),
                2 => json!(1e300),
                3 => json!(2.0),
                4 => json!(u64::MAX),
                _ => json!(self.u.int_in_range(0..=3)?),
            };
            m.insert(idx_key.to_owned(), idx);
        }
        for k in ["total_tokens", "total_price", "prompt_tokens"] {
            if self.u.ratio(1, 3)? {
                let v = self.num_value()?;
                m.insert(k.to_owned(), v);
            }
        }
        if self.u.ratio(1, 4)? {
            let v = self.text_value()?;
            m.insert("currency".to_owned(), v);
        }
        if self.u.ratio(1, 6)? {
            m.insert(
                "tool_info".to_owned(),
                json!({"provider_type": "builtin", "tool_parameters": {"api_key": "sk-1"}}),
            );
        }
        Ok(Value::Object(m))
    }

    fn node(&mut self) -> Result<Value> {
        let db_row = self.u.ratio(1, 4)?;
        let mut m = Map::new();
        let id = self.id()?;
        self.put(&mut m, "id", id)?;
        let run_key = if db_row {
            "workflow_run_id"
        } else {
            "workflow_execution_id"
        };
        let run = if self.u.ratio(7, 8)? {
            json!(RUN_ID)
        } else {
            self.id()?
        };
        self.put(&mut m, run_key, run)?;
        let nid = self.pick(NODE_IDS)?;
        self.put(&mut m, "node_id", json!(nid))?;
        let ty = self.pick(NODE_TYPES)?;
        self.put(&mut m, "node_type", json!(ty))?;
        let title = self.text_value()?;
        self.put(&mut m, "title", title)?;
        let inputs = self.any(3)?;
        let inputs = self.column(inputs, db_row)?;
        self.put(&mut m, "inputs", inputs)?;
        let pd = if ty == "llm" || self.u.ratio(1, 4)? {
            let mut p = Map::new();
            if self.u.ratio(4, 5)? {
                let v = self.pick(&["chat", "completion", ""])?;
                p.insert("model_mode".into(), json!(v));
            }
            if self.u.ratio(4, 5)? {
                let v = self.prompts()?;
                p.insert("prompts".into(), v);
            }
            if self.u.ratio(3, 4)? {
                let v = self.usage()?;
                p.insert("usage".into(), v);
            }
            for k in ["model_provider", "model_name"] {
                if self.u.ratio(4, 5)? {
                    let v = self.text_value()?;
                    p.insert(k.into(), v);
                }
            }
            Value::Object(p)
        } else {
            Value::Null
        };
        let pd = self.column(pd, db_row)?;
        self.put(&mut m, "process_data", pd)?;
        let mut out = Map::new();
        if self.u.ratio(1, 2)? {
            let v = self.text_value()?;
            out.insert("text".into(), v);
        }
        if self.u.ratio(1, 3)? {
            let v = self.usage()?;
            out.insert("usage".into(), v);
        }
        let out = self.column(Value::Object(out), db_row)?;
        self.put(&mut m, "outputs", out)?;
        let status = self.text_value()?;
        self.put(&mut m, "status", status)?;
        let err = self.text_value()?;
        self.put(&mut m, "error", err)?;
        let el = self.num_value()?;
        self.put(&mut m, "elapsed_time", el)?;
        let md = self.node_metadata()?;
        let md = self.column(md, db_row)?;
        self.put(
            &mut m,
            if db_row {
                "execution_metadata"
            } else {
                "metadata"
            },
            md,
        )?;
        let t = self.time_value()?;
        self.put(&mut m, "created_at", t)?;
        let t = self.time_value()?;
        self.put(&mut m, "finished_at", t)?;
        Ok(Value::Object(m))
    }

    fn message_data(&mut self) -> Result<Value> {
        let mut m = Map::new();
        for k in [
            "id",
            "conversation_id",
            "from_end_user_id",
            "from_account_id",
            "workflow_run_id",
        ] {
            let v = self.id()?;
            self.put(&mut m, k, v)?;
        }
        for k in ["model_id", "query", "answer", "status", "error"] {
            let v = self.text_value()?;
            self.put(&mut m, k, v)?;
        }
        let v = self.num_value()?;
        self.put(&mut m, "total_price", v)?;
        let v = self.any(2)?;
        self.put(&mut m, "inputs", v)?;
        let u = self.usage()?;
        self.put(&mut m, "message_metadata", json!({ "usage": u }))?;
        for k in ["created_at", "updated_at"] {
            let v = self.time_value()?;
            self.put(&mut m, k, v)?;
        }
        Ok(Value::Object(m))
    }

    /// One trace_info of type `ty`.
    pub fn trace_info(&mut self, ty: &str) -> Result<Value> {
        let mut m = Map::new();
        let message_id = if self.u.ratio(3, 4)? {
            json!(MESSAGE_ID)
        } else {
            self.id()?
        };
        self.put(&mut m, "message_id", message_id)?;
        for k in ["start_time", "end_time"] {
            let v = self.time_value()?;
            self.put(&mut m, k, v)?;
        }
        let md = self.metadata()?;
        self.put(&mut m, "metadata", md)?;
        let v = self.id()?;
        self.put(&mut m, "trace_id", v)?;
        for k in ["inputs", "outputs"] {
            let v = if self.u.arbitrary()? {
                self.prompts()?
            } else {
                self.any(3)?
            };
            self.put(&mut m, k, v)?;
        }
        if self.u.ratio(1, 2)? || ty != "WorkflowTraceInfo" {
            let md = self.message_data()?;
            self.put(&mut m, "message_data", md)?;
        }
        for k in [
            "total_tokens",
            "message_tokens",
            "answer_tokens",
            "time_cost",
        ] {
            let v = self.num_value()?;
            self.put(&mut m, k, v)?;
        }
        for k in [
            "error",
            "workflow_run_status",
            "conversation_mode",
            "conversation_model",
            "tool_name",
            "action",
            "preset_response",
            "model_provider",
            "model_id",
        ] {
            let v = self.text_value()?;
            self.put(&mut m, k, v)?;
        }
        for k in ["conversation_id", "tenant_id", "workflow_app_log_id"] {
            let v = self.id()?;
            self.put(&mut m, k, v)?;
        }
        self.put(&mut m, "workflow_run_id", json!(RUN_ID))?;
        let v = self.num_value()?;
        self.put(&mut m, "workflow_run_elapsed_time", v)?;
        for k in [
            "workflow_run_inputs",
            "workflow_run_outputs",
            "tool_inputs",
            "tool_outputs",
            "documents",
            "suggested_question",
            "file_list",
            "flagged",
            "gen_ai_server_time_to_first_token",
        ] {
            if self.u.ratio(1, 2)? {
                let v = self.any(3)?;
                m.insert(k.to_owned(), v);
            }
        }
        Ok(Value::Object(m))
    }

    /// One trace task (envelope).
    pub fn envelope(&mut self) -> Result<Value> {
        let ty = self.pick(TYPES)?;
        let mut m = Map::new();
        let app = self.id()?;
        self.put(&mut m, "app_id", app)?;
        self.put(&mut m, "trace_info_type", json!(ty))?;
        let info = self.trace_info(ty)?;
        self.put(&mut m, "trace_info", info)?;
        if ty == "WorkflowTraceInfo" || self.u.ratio(1, 8)? {
            let n = self.u.int_in_range(0..=10)?;
            let mut a = Vec::with_capacity(n);
            for _ in 0..n {
                a.push(self.node()?);
            }
            self.put(&mut m, "node_executions", Value::Array(a))?;
        }
        if self.u.ratio(1, 2)? {
            let session = self.text_value()?;
            self.put(
                &mut m,
                "end_users",
                json!({ END_USER: { "session_id": session } }),
            )?;
        }
        Ok(Value::Object(m))
    }

    /// The input text: one envelope, an array of them, or JSON lines.
    pub fn input(&mut self) -> Result<String> {
        Ok(match self.u.int_in_range(0..=5)? {
            0 => {
                let n = self.u.int_in_range(0..=3)?;
                let mut a = Vec::new();
                for _ in 0..n {
                    a.push(self.envelope()?);
                }
                Value::Array(a).to_string()
            }
            1 => {
                let n = self.u.int_in_range(1..=3)?;
                let mut s = String::new();
                for _ in 0..n {
                    s.push_str(&self.envelope()?.to_string());
                    s.push('\n');
                }
                s
            }
            _ => self.envelope()?.to_string(),
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SS.ffffff` (naive) for µs since the epoch.
pub fn fmt_micros(us: i64) -> String {
    let secs = us.div_euclid(1_000_000);
    let frac = us.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    // Civil from days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let mo = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = if mo <= 2 { y + 1 } else { y };
    format!(
        "{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}.{frac:06}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60
    )
}
