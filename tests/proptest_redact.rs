//! Redaction on raw JSON text (`redact::redact_raw`, which scans the text
//! without building a tree) against a plain tree walk that applies the rules
//! of linked item 14 to the parsed value: the same values replaced, the same
//! count, the same first path, and nothing else changed. The texts are
//! random trees written with random whitespace and random `\u` escapes, so
//! that keys, question marks, equals signs and colons come both plain and
//! escaped.
#![cfg(not(target_arch = "wasm32"))]

use dify_opik::error::pointer_token;
use dify_opik::redact::{is_credential, redact_raw, strip_signed, Tally, REDACTED};
use proptest::prelude::*;
use serde_json::Value;

/// A JSON tree with its key order kept.
#[derive(Clone, Debug)]
enum Node {
    Null,
    Bool(bool),
    Num(String),
    Str(String),
    Arr(Vec<Node>),
    Obj(Vec<(String, Node)>),
}

/// One of `fixed`, or (as often as any one of them) a string of `pattern`.
fn words(fixed: &'static [&'static str], pattern: &'static str) -> BoxedStrategy<String> {
    let picked = prop::sample::select(fixed).prop_map(str::to_owned);
    prop_oneof![fixed.len() as u32 => picked, 1 => pattern].boxed()
}

fn key() -> BoxedStrategy<String> {
    words(
        &[
            "token",
            "Authorization",
            "X-Api-Key",
            "api_key",
            "PASSWORD",
            "proxy-authorization",
            "set_cookie",
            "total_tokens",
            "tokens",
            "secret_name",
            "url",
            "a:b",
            "what?",
            "q?sign=1",
            "",
        ],
        "[a-z_:?=\"\\\\ é]{0,8}",
    )
}

fn text() -> BoxedStrategy<String> {
    words(
        &[
            "http://h/files/1/file-preview?timestamp=1&nonce=2&sign=3",
            "https://s3/x?X-Amz-Signature=abc#f",
            "https://e.com/a?page=2",
            "https://e.com/a?token=t&x=1",
            "time: 12:30 ?",
            "[redacted]",
            "",
            " ",
        ],
        "[a-z:?=&\"\\\\/ ü東😀]{0,12}",
    )
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        Just(Node::Null),
        any::<bool>().prop_map(Node::Bool),
        prop_oneof![
            Just("0"),
            Just("0.0"),
            Just("-0"),
            Just("1"),
            Just("2.5e3"),
            Just("-7")
        ]
        .prop_map(|n| Node::Num(n.to_owned())),
        text().prop_map(Node::Str),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Node::Arr),
            prop::collection::vec((key(), inner), 0..6).prop_map(|kv| {
                // Unique keys: a parsed value keeps only the last of repeats.
                let mut o: Vec<(String, Node)> = Vec::new();
                for (k, v) in kv {
                    if !o.iter().any(|(x, _)| *x == k) {
                        o.push((k, v));
                    }
                }
                Node::Obj(o)
            }),
        ]
    })
}

/// How to write a text: whitespace between tokens, and which characters of
/// strings to write as `\u` escapes (a seed stepped for each character).
#[derive(Clone, Copy, Debug)]
struct Style {
    space: u8,
    escape: u32,
}

fn write_str(s: &str, st: &mut Style, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        st.escape = st.escape.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let roll = st.escape >> 28;
        match c {
            '"' => out.push_str(if roll < 4 { "\\u0022" } else { "\\\"" }),
            '\\' => out.push_str(if roll < 4 { "\\u005c" } else { "\\\\" }),
            c if roll < 3 => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    out.push_str(&format!("\\u{:04x}", u));
                }
            }
            c if roll == 3 && (c as u32) < 0x80 => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn ws(st: &Style, out: &mut String) {
    match st.space % 4 {
        0 => {}
        1 => out.push(' '),
        2 => out.push_str("\n  "),
        _ => out.push_str(" \t\r\n"),
    }
}

fn write(n: &Node, st: &mut Style, out: &mut String) {
    match n {
        Node::Null => out.push_str("null"),
        Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Node::Num(x) => out.push_str(x),
        Node::Str(s) => write_str(s, st, out),
        Node::Arr(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(st, out);
                write(v, st, out);
            }
            ws(st, out);
            out.push(']');
        }
        Node::Obj(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(st, out);
                write_str(k, st, out);
                ws(st, out);
                out.push(':');
                ws(st, out);
                write(v, st, out);
            }
            ws(st, out);
            out.push('}');
        }
    }
}

/// Python truthiness of a value.
fn truthy(n: &Node) -> bool {
    match n {
        Node::Null => false,
        Node::Bool(b) => *b,
        Node::Num(x) => x.parse::<f64>().is_ok_and(|f| f != 0.0),
        Node::Str(s) => !s.is_empty(),
        Node::Arr(a) => !a.is_empty(),
        Node::Obj(o) => !o.is_empty(),
    }
}

/// The rules of item 14 on the tree: returns the count and the first path.
fn reference(n: &mut Node, path: &str, count: &mut usize, first: &mut Option<String>) {
    fn hit(p: String, count: &mut usize, first: &mut Option<String>) {
        *count += 1;
        first.get_or_insert(p);
    }
    match n {
        Node::Obj(o) => {
            for (k, v) in o.iter_mut() {
                let p = format!("{path}/{}", pointer_token(k));
                if is_credential(k) {
                    let already = matches!(v, Node::Str(s) if s == REDACTED);
                    if truthy(v) && !already {
                        *v = Node::Str(REDACTED.to_owned());
                        hit(p, count, first);
                    }
                } else {
                    reference(v, &p, count, first);
                }
            }
        }
        Node::Arr(a) => {
            for (i, v) in a.iter_mut().enumerate() {
                reference(v, &format!("{path}/{i}"), count, first);
            }
        }
        Node::Str(s) => {
            if let Some(clean) = strip_signed(s) {
                *s = clean;
                hit(path.to_owned(), count, first);
            }
        }
        Node::Null | Node::Bool(_) | Node::Num(_) => {}
    }
}

fn value(n: &Node) -> Value {
    let mut s = String::new();
    write(
        n,
        &mut Style {
            space: 0,
            escape: 0,
        },
        &mut s,
    );
    serde_json::from_str(&s).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn raw_redaction_is_the_tree_walk(tree in node(), space in any::<u8>(), escape in any::<u32>()) {
        let mut text = String::new();
        write(&tree, &mut Style { space, escape }, &mut text);
        let parsed: Value = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&parsed, &value(&tree));

        let mut tally = Tally::default();
        let out = redact_raw(&text, &|| "/x".to_owned(), &mut tally);
        let (mut expected, mut count, mut first) = (tree.clone(), 0, None);
        reference(&mut expected, "/x", &mut count, &mut first);

        prop_assert_eq!(tally.count, count, "{}", text);
        prop_assert_eq!(&tally.first, &first, "{}", text);
        prop_assert_eq!(out.is_some(), count > 0, "{}", text);
        let got: Value = serde_json::from_str(out.as_deref().unwrap_or(&text)).unwrap();
        prop_assert_eq!(got, value(&expected), "{}", text);
    }
}
