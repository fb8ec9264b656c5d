//! Credential redaction (linked item 14), done on the raw JSON text without
//! building a tree: one pass that copies the text and replaces only what it
//! must.

use std::borrow::Cow;

use serde_json::value::RawValue;

use crate::error::pointer_token;
use crate::input::pointer_at_offset;
use crate::json::{string_text, Json};
use crate::reader::Clean;
use crate::scan::{skip_ws, value_end};

/// The replacement text.
pub const REDACTED: &str = "[redacted]";

/// Counts redactions and remembers where the first one was.
#[derive(Default, Debug)]
pub struct Tally<'c> {
    /// Number of values replaced.
    pub count: usize,
    /// Output path of the first one.
    pub first: Option<String>,
    /// Input text known to hold nothing to redact (the envelope reader's
    /// finding), which [`value`] does not scan again.
    pub clean: Option<&'c Clean>,
}

impl Tally<'_> {
    fn hit(&mut self, path: impl FnOnce() -> String) {
        self.add(1, path);
    }

    /// Counts `count` redactions; `first` is the path of the first of them,
    /// asked for only when no earlier one was counted.
    pub(crate) fn add(&mut self, count: usize, first: impl FnOnce() -> String) {
        self.count += count;
        if self.first.is_none() {
            self.first = Some(first());
        }
    }
}

/// Whether a key names a credential: matched whole, case-insensitively, with
/// `-` and `_` alike.
pub fn is_credential(key: &str) -> bool {
    is_credential_bytes(key.as_bytes())
}

/// Item 14's credential names, `-` written `_`, shortest first.
const CREDENTIAL_NAMES: [&[u8]; 15] = [
    b"token",
    b"apikey",
    b"passwd",
    b"secret",
    b"cookie",
    b"api_key",
    b"password",
    b"x_api_key",
    b"set_cookie",
    b"private_key",
    b"access_token",
    b"authorization",
    b"client_secret",
    b"refresh_token",
    b"proxy_authorization",
];

/// For each key length, the first letters of the credential names that long
/// (bit `letter - b'a'`).
const FIRST_LETTERS: [u32; 20] = {
    let mut t = [0u32; 20];
    let mut i = 0;
    while i < CREDENTIAL_NAMES.len() {
        let name = CREDENTIAL_NAMES[i];
        t[name.len()] |= 1 << (name[0] - b'a');
        i += 1;
    }
    t
};

/// For each key length, where the names that long start in
/// [`CREDENTIAL_NAMES`] (the list is checked to be in order of length).
const NAMES_FROM: [u8; 20] = {
    let mut t = [CREDENTIAL_NAMES.len() as u8; 20];
    let mut i = CREDENTIAL_NAMES.len();
    while i > 0 {
        i -= 1;
        assert!(i == 0 || CREDENTIAL_NAMES[i - 1].len() <= CREDENTIAL_NAMES[i].len());
        t[CREDENTIAL_NAMES[i].len()] = i as u8;
    }
    t
};

/// [`is_credential`] on the bytes of a key.
#[inline]
pub(crate) fn is_credential_bytes(k: &[u8]) -> bool {
    // The redaction pass and the envelope reader ask this of every key of
    // every raw subtree: about 26,000 keys for a 500-node workflow. A key's
    // length and first letter settle nine in ten of them (a byte that is no
    // letter maps to a bit no name sets, or to a letter's bit and on to the
    // comparison), before any name is compared.
    let (Some(&first), Some(&letters)) = (k.first(), FIRST_LETTERS.get(k.len())) else {
        return false;
    };
    letters >> ((first | 0x20).wrapping_sub(b'a') & 31) & 1 == 1 && names_match(k)
}

/// Whether `k` is one of [`CREDENTIAL_NAMES`], any case, `-` as `_`.
fn names_match(k: &[u8]) -> bool {
    let norm = |c: u8| {
        if c == b'-' {
            b'_'
        } else {
            c.to_ascii_lowercase()
        }
    };
    let from = NAMES_FROM
        .get(k.len())
        .map_or(CREDENTIAL_NAMES.len(), |&i| usize::from(i));
    CREDENTIAL_NAMES[from..]
        .iter()
        .take_while(|w| w.len() == k.len())
        .any(|w| w.iter().zip(k).all(|(&a, &b)| a == norm(b)))
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
        walk(j, &Trail::Root(path), tally);
    }
}

/// Where a value sits below the redacted field: a chain of steps kept on the
/// stack, turned into a pointer only when something is redacted.
enum Trail<'t> {
    Root(&'t dyn Fn() -> String),
    Key(&'t Trail<'t>, &'t str),
    Index(&'t Trail<'t>, usize),
}

impl Trail<'_> {
    fn path(&self) -> String {
        match self {
            Trail::Root(base) => base(),
            Trail::Key(up, k) => format!("{}/{}", up.path(), pointer_token(k)),
            Trail::Index(up, i) => format!("{}/{i}", up.path()),
        }
    }
}

fn walk(j: &mut Json<'_>, trail: &Trail<'_>, tally: &mut Tally) {
    match j {
        Json::Obj(o) => {
            for (k, v) in o.iter_mut() {
                let k: &str = k;
                if is_credential(k) {
                    if v.truthy() && v.as_str().as_deref() != Some(REDACTED) {
                        *v = Json::str(REDACTED);
                        tally.hit(|| Trail::Key(trail, k).path());
                    }
                } else if !matches!(
                    v,
                    Json::Null | Json::Bool(_) | Json::Int(_) | Json::Float(_)
                ) {
                    walk(v, &Trail::Key(trail, k), tally);
                }
            }
        }
        Json::Arr(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                walk(v, &Trail::Index(trail, i), tally);
            }
        }
        Json::Str(s) => {
            if let Some(clean) = strip_signed(s) {
                *s = Cow::Owned(clean);
                tally.hit(|| trail.path());
            }
        }
        Json::Raw(r) => {
            if tally.clean.is_some_and(|c| c.contains(r.get())) {
                return;
            }
            if let Some(new) = redact_raw(r.get(), &|| trail.path(), tally) {
                if let Ok(b) = RawValue::from_string(new) {
                    *j = Json::RawOwned(b.into());
                }
            }
        }
        Json::RawOwned(r) => {
            if let Some(new) = redact_raw(r.get(), &|| trail.path(), tally) {
                if let Ok(b) = RawValue::from_string(new) {
                    *r = b.into();
                }
            }
        }
        Json::Null | Json::Bool(_) | Json::Int(_) | Json::Float(_) => {}
    }
}

/// Whether the escape whose text (after its backslash) starts `after` is
/// the ASCII character `c`, as `\u00XX` with either case of hex letter: how
/// both this pass and the envelope reader ([`crate::reader`]) spot an escaped
/// `?` or `=`.
#[inline(always)]
pub(crate) fn escape_is(after: &[u8], c: u8) -> bool {
    let hex = |n: u8| crate::write::HEX_DIGITS[usize::from(n & 15)];
    after.get(..5).is_some_and(|u| {
        u[..3] == *b"u00" && u[3] == hex(c >> 4) && u[4].eq_ignore_ascii_case(&hex(c))
    })
}

/// Whether the part of a JSON string body after its first `?` (plain or
/// escaped) may make it a signed URL: it has a `=`, plain or escaped. A cheap
/// filter; [`strip_signed`] decides. The envelope's reader makes the same
/// test while it scans a string ([`crate::reader`]).
pub(crate) fn may_be_signed(after_question: &[u8]) -> bool {
    find_char(after_question, b'=').is_some()
}

/// The first position in a JSON string body of the ASCII character `c`,
/// written plainly or as a `\u00XX` escape (a false hit on an escaped
/// backslash followed by `u00XX` is harmless here: callers only filter).
fn find_char(body: &[u8], c: u8) -> Option<usize> {
    let plain = memchr::memchr(c, body);
    let escaped = memchr::memchr_iter(b'\\', &body[..plain.unwrap_or(body.len())])
        .find(|&e| escape_is(&body[e + 1..], c));
    escaped.or(plain)
}

/// Redacts valid JSON text; `None` when nothing changed.
///
/// One pass over the quotes, backslashes and question marks of the text
/// (found with `memchr`): a string followed by `:` is a key, any other
/// string is a value. Structure is only rebuilt, by a rescan, for the path
/// of the first redaction. Iterative, so any nesting depth is fine.
pub fn redact_raw(text: &str, base: &dyn Fn() -> String, tally: &mut Tally) -> Option<String> {
    let b = text.as_bytes();
    let mut out: Option<String> = None;
    let mut copied = 0usize;
    let mut replace = |from: usize, to: usize, with: &str| {
        let o = out.get_or_insert_with(|| String::with_capacity(text.len()));
        o.push_str(&text[copied..from]);
        o.push_str(with);
        copied = to;
    };
    let path = |at: usize, key: Option<&str>| {
        let mut p = base();
        p.push_str(&pointer_at_offset(text, at));
        if let Some(k) = key {
            p.push('/');
            p.push_str(&pointer_token(k));
        }
        p
    };
    // Positions below `skip` are inside an escape or a redacted value.
    let mut skip = 0usize;
    // The open string: where its quote is, whether it has escapes, and
    // where its first `?` is (plain, or the backslash of an escaped one).
    let mut open: Option<usize> = None;
    let (mut escapes, mut question) = (false, None);
    for p in crate::scan::hits3(b'"', b'\\', b'?', b) {
        if p < skip {
            continue;
        }
        match (b[p], open) {
            (b'\\', Some(_)) => {
                escapes = true;
                if question.is_none() && escape_is(&b[p + 1..], b'?') {
                    question = Some(p);
                }
                skip = p + 2;
            }
            (b'?', Some(_)) => {
                question.get_or_insert(p);
            }
            (b'"', None) => {
                open = Some(p);
                (escapes, question) = (false, None);
            }
            (b'"', Some(start)) => {
                open = None;
                let end = p + 1;
                let body = &b[start + 1..p];
                let after = skip_ws(b, end);
                if b.get(after) == Some(&b':') {
                    let credential = if escapes {
                        is_credential(&string_text(&text[start..end]))
                    } else {
                        is_credential_bytes(body)
                    };
                    if credential {
                        let v = skip_ws(b, after + 1);
                        let ve = value_end(b, v);
                        let val = &text[v..ve];
                        // As for built objects (`walk`): a value with nothing in
                        // it (Python-falsy), or redacted already, is left as it is.
                        let done = val.starts_with('"') && string_text(val) == REDACTED;
                        if crate::json::raw_truthy(val) && !done {
                            replace(v, ve, "\"[redacted]\"");
                            tally.hit(|| path(start, Some(&string_text(&text[start..end]))));
                        }
                        skip = ve;
                    }
                } else if question.is_some_and(|q| may_be_signed(&b[q + 1..p])) {
                    if let Some(clean) = strip_signed(&string_text(&text[start..end])) {
                        let enc = crate::write::text(|o| crate::write::string(o, &clean));
                        replace(start, end, &enc);
                        tally.hit(|| path(start, None));
                    }
                }
            }
            // A `?` or backslash outside a string: not in valid JSON.
            _ => {}
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

    fn red(s: &str) -> (String, Tally<'static>) {
        let mut t = Tally::default();
        let out = redact_raw(s, &|| "/x".to_owned(), &mut t).unwrap_or_else(|| s.to_owned());
        (out, t)
    }

    #[test]
    fn the_letter_table_lets_every_credential_through() {
        for name in CREDENTIAL_NAMES {
            let text = std::str::from_utf8(name).unwrap();
            for k in [text.to_owned(), text.to_uppercase(), text.replace('_', "-")] {
                assert!(is_credential(&k), "{k}");
            }
            // Whatever the first byte, the table only ever settles a key the
            // comparison would reject too.
            for c in 0..=255u8 {
                let mut k = name.to_vec();
                k[0] = c;
                assert_eq!(is_credential_bytes(&k), names_match(&k), "{text} with {c}");
            }
        }
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
    fn every_name_of_item_14_matches_and_its_neighbours_do_not() {
        // Item 14's list, as linked-profile.md spells it.
        let names = [
            "authorization",
            "proxy-authorization",
            "api_key",
            "apikey",
            "x-api-key",
            "password",
            "passwd",
            "secret",
            "client_secret",
            "access_token",
            "refresh_token",
            "token",
            "cookie",
            "set-cookie",
            "private_key",
        ];
        for name in names {
            let swapped: String = name
                .chars()
                .map(|c| match c {
                    '-' => '_',
                    '_' => '-',
                    c => c.to_ascii_uppercase(),
                })
                .collect();
            assert!(is_credential(name) && is_credential(&swapped), "{name}");
            // One byte more, one less, or one changed at either end: not a name.
            let n = name.len();
            for other in [
                format!("{name}s"),
                format!("x{name}"),
                name[1..].to_owned(),
                name[..n - 1].to_owned(),
                format!("{}q", &name[..n - 1]),
                format!("q{}", &name[1..]),
            ] {
                assert!(!is_credential(&other), "{other}");
            }
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
    fn signed_urls_are_found_when_their_marks_are_escaped() {
        // `?` and `=` written as \u escapes decode to the same URL.
        let (out, t) =
            red(r#"["http://h/f\u003Ftimestamp=1&sign\u003dabc", "http://h/x?token=t"]"#);
        assert_eq!(out, r#"["http://h/f", "http://h/x"]"#);
        assert_eq!(t.count, 2);
        // A question in prose, escapes and all, is not a URL query.
        let mut t = Tally::default();
        let prose = r#"{"q":"What is it?\nWhy?\tBecause \u003c3","a":"x=1? no"}"#;
        assert!(redact_raw(prose, &String::new, &mut t).is_none());
        assert_eq!(t.count, 0);
    }

    #[test]
    fn paths_name_the_first_redaction_inside_built_objects() {
        let inner = RawValue::from_string(r#"{"h":{"Cookie":"c"}}"#.to_owned()).unwrap();
        let mut v = Some(Json::Obj(vec![
            (
                Cow::Borrowed("a/b"),
                Json::Arr(vec![Json::Null, Json::RawOwned(inner.into())]),
            ),
            (Cow::Borrowed("token"), Json::str("t")),
        ]));
        let mut t = Tally::default();
        value(&mut v, &|| "/spans/3/input".to_owned(), &mut t);
        assert_eq!(t.count, 2);
        assert_eq!(t.first.as_deref(), Some("/spans/3/input/a~1b/1/h/Cookie"));
        let out = serde_json::to_string(&v).unwrap();
        assert_eq!(
            out,
            r#"{"a/b":[null,{"h":{"Cookie":"[redacted]"}}],"token":"[redacted]"}"#
        );
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
