//! Mapping options (linked-profile.md §1) and their JSON form.

use crate::error::{Error, ErrorCode};
use crate::fields::Fields;
use crate::json::{obj_get, Json, Tree};
use crate::time;

/// The default Opik project.
pub const DEFAULT_PROJECT: &str = "Default Project";
/// Dify's default `FILES_URL`.
pub const DEFAULT_FILES_URL: &str = "http://127.0.0.1:5001";
/// The default input size limit (bytes).
pub const DEFAULT_MAX_INPUT_BYTES: usize = 256 * 1024 * 1024;

/// Which mapping to apply.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Profile {
    /// Dify's own integration, value for value.
    Reference,
    /// Dify's mapping with its flaws fixed (the default).
    #[default]
    Linked,
}

impl Profile {
    /// Parses `reference` / `linked`.
    pub fn parse(s: &str) -> Option<Profile> {
        match s {
            "reference" => Some(Profile::Reference),
            "linked" => Some(Profile::Linked),
            _ => None,
        }
    }
}

/// Where the 48 time bits of every id come from (linked item 15).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum IdTime {
    /// The event's own time.
    #[default]
    Event,
    /// Every id takes the millisecond `at`.
    At(i64),
    /// Event times in `[from, to]` map linearly onto `[at − 23 h, at]` (µs).
    Range {
        /// Target instant (µs).
        at: i64,
        /// Earliest event time (µs).
        from: i64,
        /// Latest event time (µs).
        to: i64,
    },
}

/// Options of one mapping call.
#[derive(Clone, Debug)]
pub struct Options {
    /// `linked` (default) or `reference`.
    pub profile: Profile,
    /// Opik project (already normalised: blank → default, stripped).
    pub project: String,
    /// Dify's FILES_URL.
    pub files_url: String,
    /// The host's clock reading, µs since the epoch; the core never reads a clock.
    pub now: Option<i64>,
    /// Where id times come from.
    pub id_time: IdTime,
    /// The offset, in seconds, of naive datetimes (the Dify worker's zone).
    pub naive_offset: i32,
    /// Redact credentials (linked item 14).
    pub redact: bool,
    /// The type of a bare `trace_info` (when the input is not an envelope).
    pub trace_info_type: Option<String>,
    /// Inputs larger than this fail with `too_large`.
    pub max_input_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            profile: Profile::Linked,
            project: DEFAULT_PROJECT.to_owned(),
            files_url: DEFAULT_FILES_URL.to_owned(),
            now: None,
            id_time: IdTime::Event,
            naive_offset: 0,
            redact: true,
            trace_info_type: None,
            max_input_bytes: DEFAULT_MAX_INPUT_BYTES,
        }
    }
}

/// Normalises a project name as Dify does: blank → default, else stripped.
pub fn normalize_project(p: Option<&str>) -> String {
    match p.map(str::trim) {
        Some(t) if !t.is_empty() => t.to_owned(),
        _ => DEFAULT_PROJECT.to_owned(),
    }
}

/// The JSON form of [`Options`], as the bindings and the CLI accept it.
#[derive(Default)]
pub struct OptionsInput {
    /// `linked` or `reference`.
    pub profile: Option<String>,
    /// Opik project.
    pub project: Option<String>,
    /// Dify's FILES_URL.
    pub files_url: Option<String>,
    /// RFC 3339 instant, or epoch milliseconds.
    pub now: Option<Tree>,
    /// `"event"` or `{at, events_from?, events_to?}`.
    pub id_time: Option<Tree>,
    /// `+00:00` style offset of naive datetimes.
    pub naive_offset: Option<String>,
    /// Redact credentials.
    pub redact: Option<bool>,
    /// Type of a bare trace_info.
    pub trace_info_type: Option<String>,
    /// Input size limit in bytes.
    pub max_input_bytes: Option<usize>,
}

fn opt_err(field: &str, msg: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidOption, format!("/options/{field}"), msg)
}

/// Parses an RFC 3339 instant (or epoch milliseconds) into µs. `v` is a
/// value as [`Tree`] reads it.
pub fn parse_instant(v: &Json, field: &str) -> Result<i64, Error> {
    match v {
        Json::Str(s) => time::parse(s, 0).map(|t| t.micros).map_err(|_| {
            opt_err(
                field,
                "expected an RFC 3339 instant such as 2026-01-01T00:00:00Z",
            )
        }),
        // A whole number above i64 is kept as its digits (`RawOwned`).
        Json::Int(_) | Json::Float(_) | Json::RawOwned(_) => v
            .as_f64()
            .filter(|f| f.is_finite() && f.abs() < 1e15)
            .map(|ms| (ms * 1000.0) as i64)
            .ok_or_else(|| opt_err(field, "expected epoch milliseconds")),
        _ => Err(opt_err(
            field,
            "expected an RFC 3339 string or epoch milliseconds",
        )),
    }
}

impl OptionsInput {
    /// Validates and converts into [`Options`].
    pub fn into_options(self) -> Result<Options, Error> {
        let mut o = Options::default();
        if let Some(p) = self.profile {
            o.profile = Profile::parse(&p)
                .ok_or_else(|| opt_err("profile", "expected \"linked\" or \"reference\""))?;
        }
        o.project = normalize_project(self.project.as_deref());
        if let Some(f) = self.files_url {
            o.files_url = f;
        }
        if let Some(n) = &self.now {
            o.now = Some(parse_instant(&n.0, "now")?);
        }
        if let Some(v) = &self.id_time {
            o.id_time = parse_id_time(&v.0)?;
        }
        if let Some(z) = &self.naive_offset {
            o.naive_offset = time::parse_offset(z).map_err(|_| {
                opt_err("naive_offset", "expected an offset such as +00:00 or -0530")
            })?;
        }
        if let Some(r) = self.redact {
            o.redact = r;
        }
        o.trace_info_type = self.trace_info_type;
        if let Some(m) = self.max_input_bytes {
            o.max_input_bytes = m;
        }
        Ok(o)
    }
}

/// Parses the `id_time` option, a value as [`Tree`] reads it (an object's
/// keys are unique).
pub fn parse_id_time(v: &Json) -> Result<IdTime, Error> {
    match v {
        Json::Str(s) if s == "event" => Ok(IdTime::Event),
        Json::Obj(m) => {
            let at = obj_get(m, "at").ok_or_else(|| opt_err("id_time/at", "id_time needs `at`"))?;
            let at = parse_instant(at, "id_time/at")?;
            match (obj_get(m, "events_from"), obj_get(m, "events_to")) {
                (None, None) => Ok(IdTime::At(at)),
                (Some(f), Some(t)) => {
                    let from = parse_instant(f, "id_time/events_from")?;
                    let to = parse_instant(t, "id_time/events_to")?;
                    if to < from {
                        return Err(opt_err(
                            "id_time/events_to",
                            "events_to is before events_from",
                        ));
                    }
                    Ok(IdTime::Range { at, from, to })
                }
                _ => Err(opt_err(
                    "id_time",
                    "give both events_from and events_to, or neither",
                )),
            }
        }
        _ => Err(opt_err("id_time", "expected \"event\" or {\"at\": …}")),
    }
}

/// The fields of the options object.
const OPTION_FIELDS: [&str; 9] = [
    "profile",
    "project",
    "files_url",
    "now",
    "id_time",
    "naive_offset",
    "redact",
    "trace_info_type",
    "max_input_bytes",
];

/// Parses options from JSON text (an object; `""` or `null` give defaults).
pub fn options_from_json(text: &str) -> Result<Options, Error> {
    let f = Fields::read(text, &OPTION_FIELDS, ErrorCode::InvalidOption, "/options")?;
    OptionsInput {
        profile: f.string("profile")?,
        project: f.string("project")?,
        files_url: f.string("files_url")?,
        now: f.tree("now"),
        id_time: f.tree("id_time"),
        naive_offset: f.string("naive_offset")?,
        redact: f.bool("redact")?,
        trace_info_type: f.string("trace_info_type")?,
        max_input_bytes: f.count("max_input_bytes")?,
    }
    .into_options()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_normalisation() {
        assert_eq!(normalize_project(None), DEFAULT_PROJECT);
        assert_eq!(normalize_project(Some("   ")), DEFAULT_PROJECT);
        assert_eq!(normalize_project(Some("  p1 ")), "p1");
    }

    #[test]
    fn options_json() {
        let o = options_from_json(
            r#"{"profile":"reference","project":" x ","now":"2026-01-01T00:00:00Z","naive_offset":"+08:00","id_time":{"at":"2026-01-02T00:00:00Z"}}"#,
        )
        .unwrap();
        assert_eq!(o.profile, Profile::Reference);
        assert_eq!(o.project, "x");
        assert_eq!(o.now, Some(1_767_225_600_000_000));
        assert_eq!(o.naive_offset, 28_800);
        assert_eq!(o.id_time, IdTime::At(1_767_312_000_000_000));
        assert_eq!(options_from_json("").unwrap().profile, Profile::Linked);
        let e = options_from_json(r#"{"profile":"x"}"#).unwrap_err();
        assert_eq!(
            (e.code, e.path.as_str()),
            (ErrorCode::InvalidOption, "/options/profile")
        );
        let e = options_from_json(r#"{"bogus":1}"#).unwrap_err();
        assert_eq!(e.path, "/options/bogus");
        // A value of the wrong kind names its field.
        for (text, path) in [
            (r#"{"project":5}"#, "/options/project"),
            (r#"{"redact":"no"}"#, "/options/redact"),
            (r#"{"max_input_bytes":-1}"#, "/options/max_input_bytes"),
            (r#"[]"#, "/options"),
        ] {
            let e = options_from_json(text).unwrap_err();
            assert_eq!((e.code, e.path.as_str()), (ErrorCode::InvalidOption, path));
        }
        // null is unset, as an absent field.
        assert_eq!(
            options_from_json(r#"{"profile":null}"#).unwrap().profile,
            Profile::Linked
        );
        let e = options_from_json(
            r#"{"id_time":{"at":"2026-01-02T00:00:00Z","events_from":"2026-01-01T00:00:00Z"}}"#,
        )
        .unwrap_err();
        assert_eq!(e.path, "/options/id_time");
    }
}
