//! The one error type, warnings, and their stable codes.

use std::fmt;

use serde::Serialize;

/// Stable error codes (linked-profile.md §2). Scripts match on these strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The input is not JSON.
    InvalidJson,
    /// A value has the wrong JSON type.
    InvalidType,
    /// A datetime string cannot be read, or leaves years 1–9999.
    InvalidTimestamp,
    /// An id seed is not a version-4 UUID (reference profile).
    InvalidUuid,
    /// A required value is missing.
    MissingField,
    /// `trace_info_type` names no Dify type (bare `trace_info` calls).
    UnsupportedType,
    /// The input exceeds the size limit.
    TooLarge,
    /// The input nests deeper than the parser allows.
    TooDeep,
    /// An option has an invalid value.
    InvalidOption,
    /// An Opik configuration value is invalid.
    InvalidConfig,
}

impl ErrorCode {
    /// The code as written in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidJson => "invalid_json",
            ErrorCode::InvalidType => "invalid_type",
            ErrorCode::InvalidTimestamp => "invalid_timestamp",
            ErrorCode::InvalidUuid => "invalid_uuid",
            ErrorCode::MissingField => "missing_field",
            ErrorCode::UnsupportedType => "unsupported_type",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::TooDeep => "too_deep",
            ErrorCode::InvalidOption => "invalid_option",
            ErrorCode::InvalidConfig => "invalid_config",
        }
    }
}

/// A structured error: a stable `code`, a JSON-pointer `path` into the input
/// (or the options), and a human `message`. Messages never quote input
/// values, so a secret in the input cannot leak through an error.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Error {
    /// Stable code.
    pub code: ErrorCode,
    /// Human-readable explanation.
    pub message: String,
    /// JSON pointer to the offending value (`""` for the whole input).
    pub path: String,
}

impl Error {
    /// A new error.
    pub fn new(code: ErrorCode, path: impl Into<String>, message: impl Into<String>) -> Self {
        Self::from_parts(code, path.into(), message.into())
    }

    /// One out-of-line constructor for every caller (errors are rare; their
    /// code need not be repeated at each call site).
    #[inline(never)]
    #[cold]
    fn from_parts(code: ErrorCode, path: String, message: String) -> Self {
        Error {
            code,
            message,
            path,
        }
    }

    /// Prefixes the path, e.g. with `/3` for the fourth task of a batch.
    pub fn under(mut self, prefix: &str) -> Self {
        self.path.insert_str(0, prefix);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} at '{}': {}",
            self.code.as_str(),
            self.path,
            self.message
        )
    }
}

impl std::error::Error for Error {}

/// Stable warning codes (linked-profile.md §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// A trace type that Dify's Opik integration ignores.
    IgnoredType,
    /// `trace_info` is null or absent.
    NoTraceInfo,
    /// An auxiliary span could not join its message's trace.
    TraceNotJoined,
    /// A missing time was taken from another field.
    TimeFallback,
    /// No time at all: the object was not emitted.
    MissingTime,
    /// An end before its start was set to the start.
    EndBeforeStart,
    /// An iteration or loop container execution was not found.
    ContainerNotFound,
    /// A price in a currency other than USD.
    CostNotUsd,
    /// A token count that is not a non-negative int32.
    InvalidUsage,
    /// A workflow without `metadata.app_id`.
    MissingAppId,
    /// A message without `message_data`.
    MessageDataMissing,
    /// A node execution of another workflow run.
    ForeignNodeExecution,
    /// A tag longer than Opik accepts, or over the tag count.
    TagTruncated,
    /// An id outside Opik Cloud's 24 h window.
    IdOutsideWindow,
    /// Credentials were redacted.
    Redacted,
    /// A field was truncated to fit Opik's request size limit.
    Truncated,
    /// An object is still over the request size limit with every field that
    /// can be cut cut; it is sent anyway.
    TooLargeObject,
}

/// A degraded but mapped case, with a JSON pointer into the input.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Warning {
    /// Stable code.
    pub code: WarningCode,
    /// Human-readable explanation.
    pub message: String,
    /// JSON pointer into the input.
    pub path: String,
}

/// Escapes one JSON-pointer reference token (RFC 6901).
#[inline(never)]
pub fn pointer_token(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialise_as_snake_case() {
        let e = Error::new(ErrorCode::InvalidUuid, "/trace_info/trace_id", "x");
        let j = serde_json::to_string(&e).unwrap();
        assert_eq!(
            j,
            r#"{"code":"invalid_uuid","message":"x","path":"/trace_info/trace_id"}"#
        );
        assert_eq!(
            serde_json::to_string(&ErrorCode::TooDeep).unwrap(),
            "\"too_deep\""
        );
        assert_eq!(
            serde_json::to_string(&WarningCode::IdOutsideWindow).unwrap(),
            "\"id_outside_window\""
        );
        for c in [
            ErrorCode::InvalidJson,
            ErrorCode::InvalidType,
            ErrorCode::InvalidTimestamp,
            ErrorCode::InvalidUuid,
            ErrorCode::MissingField,
            ErrorCode::UnsupportedType,
            ErrorCode::TooLarge,
            ErrorCode::TooDeep,
            ErrorCode::InvalidOption,
            ErrorCode::InvalidConfig,
        ] {
            assert_eq!(
                serde_json::to_string(&c).unwrap(),
                format!("\"{}\"", c.as_str())
            );
        }
    }

    #[test]
    fn paths_are_prefixed_and_tokens_escaped() {
        let e = Error::new(ErrorCode::MissingField, "/trace_info", "m").under("/2");
        assert_eq!(e.path, "/2/trace_info");
        assert_eq!(pointer_token("a/b~c"), "a~1b~0c");
    }
}
