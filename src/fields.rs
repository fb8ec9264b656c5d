//! The small flat JSON objects a host passes beside the input (options,
//! Opik configuration, batch limits), read field by field.
//!
//! One reader serves all three instead of a serde derive for each: in
//! WebAssembly every derived reader is kilobytes of code, and these objects
//! have a handful of plain fields. A field that is absent or `null` is unset;
//! an unknown field or a value of the wrong kind is an error whose path names
//! the field.

use crate::error::{Error, ErrorCode};
use crate::json::{Json, Tree};

/// The fields of a flat object, with their values (absent and `null` fields
/// are left out), and the error code and path prefix for its problems.
pub struct Fields {
    code: ErrorCode,
    prefix: &'static str,
    values: Vec<(&'static str, Json<'static>)>,
}

impl std::fmt::Debug for Fields {
    /// Field names only: values may be secrets (the API key).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.values.iter().map(|(n, _)| n))
            .finish()
    }
}

impl Fields {
    /// Reads `text` (an object, or blank or `null` for none) whose fields
    /// may only be `known`. Errors carry `code` and paths `prefix/<field>`.
    pub fn read(
        text: &str,
        known: &[&'static str],
        code: ErrorCode,
        prefix: &'static str,
    ) -> Result<Fields, Error> {
        let mut out = Fields {
            code,
            prefix,
            values: Vec::new(),
        };
        let t = text.trim();
        if t.is_empty() || t == "null" {
            return Ok(out);
        }
        let tree: Tree = serde_json::from_str(t).map_err(|e| {
            Error::new(
                code,
                prefix,
                crate::input::sanitize_serde_message(&e.to_string()),
            )
        })?;
        let Json::Obj(entries) = tree.0 else {
            return Err(Error::new(code, prefix, "expected a JSON object"));
        };
        for (k, v) in entries {
            let Some(&name) = known.iter().find(|n| **n == k) else {
                let expected: Vec<String> = known.iter().map(|n| format!("`{n}`")).collect();
                return Err(out.err(
                    &k,
                    format!(
                        "unknown field `{k}`, expected one of {}",
                        expected.join(", ")
                    ),
                ));
            };
            if !matches!(v, Json::Null) {
                out.values.push((name, v));
            }
        }
        Ok(out)
    }

    fn err(&self, field: &str, message: impl Into<String>) -> Error {
        let path = format!("{}/{}", self.prefix, crate::error::pointer_token(field));
        Error::new(self.code, path, message)
    }

    /// The value of a field, when set.
    pub fn get(&self, name: &str) -> Option<&Json<'static>> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// A string field.
    pub fn string(&self, name: &str) -> Result<Option<String>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Str(s)) => Ok(Some(s.to_string())),
            Some(_) => Err(self.err(name, "expected a string")),
        }
    }

    /// A boolean field.
    pub fn bool(&self, name: &str) -> Result<Option<bool>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(self.err(name, "expected true or false")),
        }
    }

    /// A non-negative whole-number field.
    pub fn count(&self, name: &str) -> Result<Option<usize>, Error> {
        match self.get(name) {
            None => Ok(None),
            Some(Json::Int(i)) => usize::try_from(*i)
                .map(Some)
                .map_err(|_| self.err(name, "expected a non-negative whole number")),
            Some(_) => Err(self.err(name, "expected a non-negative whole number")),
        }
    }

    /// A field taken as it was read (for values of several kinds).
    pub fn tree(&self, name: &str) -> Option<Tree> {
        self.get(name).cloned().map(Tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KNOWN: [&str; 3] = ["name", "on", "n"];

    fn read(text: &str) -> Result<Fields, Error> {
        Fields::read(text, &KNOWN, ErrorCode::InvalidOption, "/options")
    }

    #[test]
    fn fields_are_read_by_kind_and_null_is_unset() {
        let f = read(r#" {"name":"x","on":true,"n":3} "#).unwrap();
        assert_eq!(f.string("name").unwrap().as_deref(), Some("x"));
        assert_eq!(f.bool("on").unwrap(), Some(true));
        assert_eq!(f.count("n").unwrap(), Some(3));
        let f = read(r#"{"name":null}"#).unwrap();
        assert_eq!(f.string("name").unwrap(), None);
        for blank in ["", "  ", "null"] {
            assert!(read(blank).unwrap().get("name").is_none());
        }
    }

    #[test]
    fn problems_name_the_field() {
        let e = read(r#"{"nope":1}"#).unwrap_err();
        assert_eq!(
            (e.code, e.path.as_str()),
            (ErrorCode::InvalidOption, "/options/nope")
        );
        assert!(e.message.contains("`name`, `on`, `n`"), "{}", e.message);
        let f = read(r#"{"name":5,"on":"yes","n":-1}"#).unwrap();
        assert_eq!(f.string("name").unwrap_err().path, "/options/name");
        assert_eq!(f.bool("on").unwrap_err().path, "/options/on");
        assert_eq!(f.count("n").unwrap_err().path, "/options/n");
        assert_eq!(
            read(r#"{"n":1.5}"#).unwrap().count("n").unwrap_err().path,
            "/options/n"
        );
        assert_eq!(read("[1]").unwrap_err().path, "/options");
        assert_eq!(read("{bad").unwrap_err().path, "/options");
        // Debug shows the names, never the values (they may be secrets).
        let shown = format!("{:?}", read(r#"{"name":"sk-secret"}"#).unwrap());
        assert!(
            shown.contains("name") && !shown.contains("sk-secret"),
            "{shown}"
        );
        // Keys are JSON-pointer escaped in paths.
        assert_eq!(read(r#"{"a/b":1}"#).unwrap_err().path, "/options/a~1b");
    }
}
