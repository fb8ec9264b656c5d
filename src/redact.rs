//! Credential redaction (linked item 14), done on the raw JSON text without
//! building a tree: one pass that copies the text and replaces only what it
//! must.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::error::pointer_token;
use crate::json::{string_end, string_text, Json};

/// The replacement text.
pub const REDACTED: &str = "[redacted]";

/// Counts redactions and remembers where the first one was.
#[derive(Default, Debug)]
pub struct Tally {
    /// Number of values replaced.
    pub count: usize,
    /// Output path of the first one.
    pub first: Option<String>,
}

impl Tally {
    fn hit(&mut self, path: impl FnOnce() -> String) {
        self.count += 1;
        if self.first.is_none() {
            self.first = Some(path());
        }
    }
}

/// Whether a key names a credential: matched whole, case-insensitively, with
/// `-` and `_` alike.
pub fn is_credential(key: &str) -> bool {
    const KEYS: [&str; 15] = [
        "authorization",
        "proxy_authorization",
        "api_key",
        "apikey",
        "x_api_key",
        "password",
        "passwd",
        "secret",
        "client_secret",
        "access_token",
        "refresh_token",
        "token",
        "cookie",
        "set_cookie",
        "private_key",
    ];
    let k = key.as_bytes();
    if !(5..=19).contains(&k.len()) {
        return false;
    }
    let norm = |c: u8| {
        if c == b'-' {
            b'_'
        } else {
            c.to_ascii_lowercase()
        }
    };
    KEYS.iter()
        .any(|w| w.len() == k.len() && w.bytes().zip(k).all(|(a, &b)| a == norm(b)))
}

/// A signed URL without its query string, when the query carries a signature.
pub fn strip_signed(s: &str) -> Option<String> {
    let q = s.as_bytes().iter().position(|&b| b == b'?')?;
    let query = &s[q + 1..];
    let query = query.split('#').next().unwrap_or(query);
    let signed = query.split('&').any(|p| {
        let name = p.split('=').next().unwrap_or("");
        p.contains('=')
            && ["sign", "signature", "x-amz-signature", "token"]
                .iter()
                .any(|n| name.eq_ignore_ascii_case(n))
    });
    signed.then(|| s[..q].to_owned())
}

/// Redacts one output field in place; `path` names it for the tally.
pub fn value(v: &mut Option<Json<'_>>, path: &dyn Fn() -> String, tally: &mut Tally) {
    if let Some(j) = v {
        let mut trail: Vec<String> = Vec::new();
        walk(j, path, &mut trail, tally);
    }
}

#[inline(never)]
fn joined(base: &dyn Fn() -> String, trail: &[String]) -> String {
    let mut p = base();
    for t in trail {
        p.push('/');
        p.push_str(t);
    }
    p
}

fn walk(j: &mut Json<'_>, base: &dyn Fn() -> String, trail: &mut Vec<String>, tally: &mut Tally) {
    match j {
        Json::Obj(o) => {
            for (k, v) in o.iter_mut() {
                if is_credential(k) {
                    if v.truthy() && v.as_str().as_deref() != Some(REDACTED) {
                        *v = Json::str(REDACTED);
                        tally.hit(|| format!("{}/{}", joined(base, trail), pointer_token(k)));
                    }
                } else if !matches!(
                    v,
                    Json::Null | Json::Bool(_) | Json::Int(_) | Json::Float(_)
                ) {
                    trail.push(pointer_token(k));
                    walk(v, base, trail, tally);
                    trail.pop();
                }
            }
        }
        Json::Arr(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                trail.push(i.to_string());
                walk(v, base, trail, tally);
                trail.pop();
            }
        }
        Json::Str(s) => {
            if let Some(clean) = strip_signed(s) {
                *s = Cow::Owned(clean);
                tally.hit(|| joined(base, trail));
            }
        }
        Json::Raw(r) => {
            if let Some(new) = redact_raw(r.get(), &|| joined(base, trail), tally) {
                if let Ok(b) = RawValue::from_string(new) {
                    *j = Json::RawOwned(b);
                }
            }
        }
        Json::RawOwned(r) => {
            if let Some(new) = redact_raw(r.get(), &|| joined(base, trail), tally) {
                if let Ok(b) = RawValue::from_string(new) {
                    *r = b;
                }
            }
        }
        Json::Null | Json::Bool(_) | Json::Int(_) | Json::Float(_) => {}
    }
}

struct Frame {
    obj: bool,
    index: usize,
    /// Byte range of the current key's JSON string in the text.
    key: (usize, usize),
}

fn path_of(base: &dyn Fn() -> String, text: &str, frames: &[Frame]) -> String {
    let mut p = base();
    for f in frames {
        p.push('/');
        if f.obj {
            p.push_str(&pointer_token(&string_text(&text[f.key.0..f.key.1])));
        } else {
            p.push_str(&f.index.to_string());
        }
    }
    p
}

/// End (exclusive) of the value starting at `i`.
fn value_end(b: &[u8], mut i: usize) -> usize {
    match b.get(i) {
        Some(b'"') => string_end(b, i),
        Some(b'{') | Some(b'[') => {
            let mut depth = 0usize;
            while i < b.len() {
                match b[i] {
                    b'"' => {
                        i = string_end(b, i);
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return i + 1;
                        }
                    }
                    _ => {}
                }
                i += 1;
            }
            b.len()
        }
        _ => {
            while i < b.len() && !matches!(b[i], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                i += 1;
            }
            i
        }
    }
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// Redacts valid JSON text; `None` when nothing changed. Iterative, so any
/// nesting depth is fine.
pub fn redact_raw(text: &str, base: &dyn Fn() -> String, tally: &mut Tally) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0usize;
    let mut frames: Vec<Frame> = Vec::new();
    let mut expect_key = false;
    let mut i = 0usize;
    let replace =
        |out: &mut Option<String>, copied: &mut usize, from: usize, to: usize, with: &str| {
            let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
            o.push_str(&text[*copied..from]);
            o.push_str(with);
            *copied = to;
        };
    while i < b.len() {
        match b[i] {
            b'{' => {
                frames.push(Frame {
                    obj: true,
                    index: 0,
                    key: (0, 0),
                });
                expect_key = true;
                i += 1;
            }
            b'[' => {
                frames.push(Frame {
                    obj: false,
                    index: 0,
                    key: (0, 0),
                });
                expect_key = false;
                i += 1;
            }
            b'}' | b']' => {
                frames.pop();
                expect_key = false;
                i += 1;
            }
            b',' => {
                if let Some(f) = frames.last_mut() {
                    if f.obj {
                        expect_key = true;
                    } else {
                        f.index += 1;
                    }
                }
                i += 1;
            }
            b'"' => {
                let end = string_end(b, i);
                if !expect_key && !b[i..end].contains(&b'?') {
                    i = end;
                    continue;
                }
                let s = string_text(&text[i..end]);
                if expect_key {
                    expect_key = false;
                    let credential = is_credential(&s);
                    if let Some(f) = frames.last_mut() {
                        f.key = (i, end);
                    }
                    if credential {
                        let mut v = skip_ws(b, end);
                        if b.get(v) == Some(&b':') {
                            v = skip_ws(b, v + 1);
                        }
                        let ve = value_end(b, v);
                        let val = &text[v..ve];
                        if !matches!(val, "null" | "\"\"" | "false") && val != "\"[redacted]\"" {
                            replace(&mut out, &mut copied, v, ve, "\"[redacted]\"");
                            tally.hit(|| path_of(base, text, &frames));
                        }
                        i = ve;
                        continue;
                    }
                } else if let Some(clean) = strip_signed(&s) {
                    let enc = serde_json::to_string(&clean).unwrap_or_default();
                    replace(&mut out, &mut copied, i, end, &enc);
                    tally.hit(|| path_of(base, text, &frames));
                }
                i = end;
            }
            _ => i += 1,
        }
    }
    out.map(|mut o| {
        o.push_str(&text[copied..]);
        o
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn red(s: &str) -> (String, Tally) {
        let mut t = Tally::default();
        let out = redact_raw(s, &|| "/x".to_owned(), &mut t).unwrap_or_else(|| s.to_owned());
        (out, t)
    }

    #[test]
    fn credential_keys_match_whole_and_case_insensitively() {
        for k in [
            "Authorization",
            "api-key",
            "API_KEY",
            "apikey",
            "X-Api-Key",
            "password",
            "Set-Cookie",
            "private_key",
            "token",
        ] {
            assert!(is_credential(k), "{k}");
        }
        for k in [
            "total_tokens",
            "max_tokens",
            "tokenizer",
            "secret_santa",
            "passwords",
            "key",
        ] {
            assert!(!is_credential(k), "{k}");
        }
    }

    #[test]
    fn values_at_any_depth_are_replaced_and_the_rest_is_untouched() {
        let (out, t) = red(
            r#"{"a":1,"headers":{"Authorization":"Bearer sk-1","x":[{"api_key":{"nested":true}}]},"total_tokens":5,"n":1.50e3}"#,
        );
        assert_eq!(
            out,
            r#"{"a":1,"headers":{"Authorization":"[redacted]","x":[{"api_key":"[redacted]"}]},"total_tokens":5,"n":1.50e3}"#
        );
        assert_eq!(t.count, 2);
        assert_eq!(t.first.as_deref(), Some("/x/headers/Authorization"));
    }

    #[test]
    fn signed_urls_lose_their_query() {
        let (out, t) = red(
            r#"["http://h/files/1/file-preview?timestamp=1&nonce=2&sign=3", "http://h/a?b=1", "https://s3/x?X-Amz-Signature=abc#f"]"#,
        );
        assert_eq!(
            out,
            r#"["http://h/files/1/file-preview", "http://h/a?b=1", "https://s3/x"]"#
        );
        assert_eq!(t.count, 2);
        assert_eq!(t.first.as_deref(), Some("/x/0"));
    }

    #[test]
    fn untouched_text_is_not_copied_and_escapes_are_respected() {
        let mut t = Tally::default();
        assert!(redact_raw(
            r#"{"k":"va\"lue","password_hint":"x"}"#,
            &String::new,
            &mut t
        )
        .is_none());
        let (out, _) = red(r#"{"pass\u0077ord":"p\"w","z":"}"}"#);
        assert_eq!(out, r#"{"pass\u0077ord":"[redacted]","z":"}"}"#);
    }

    #[test]
    fn deep_nesting_is_fine() {
        let deep = format!(
            "{}{}{}",
            "[".repeat(100_000),
            r#"{"token":"t"}"#,
            "]".repeat(100_000)
        );
        let (out, t) = red(&deep);
        assert_eq!(t.count, 1);
        assert!(out.contains(r#"{"token":"[redacted]"}"#));
    }
}
