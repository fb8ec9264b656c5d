//! Test helpers: an order-keeping JSON tree and the golden comparison rule of
//! linked-profile.md §2.1.
#![allow(dead_code)]

use std::fmt;
use std::path::PathBuf;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

pub mod strict;

/// JSON with key order and number kinds kept.
#[derive(Clone, Debug, PartialEq)]
pub enum J {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl<'de> Deserialize<'de> for J {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<J, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = J;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<J, E> {
                Ok(J::Null)
            }
            fn visit_bool<E>(self, b: bool) -> Result<J, E> {
                Ok(J::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<J, E> {
                Ok(J::Int(i.into()))
            }
            fn visit_u64<E>(self, i: u64) -> Result<J, E> {
                Ok(J::Int(i.into()))
            }
            fn visit_f64<E>(self, f: f64) -> Result<J, E> {
                Ok(J::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<J, E> {
                Ok(J::Str(s.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<J, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(J::Arr(v))
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<J, M::Error> {
                let mut v: Vec<(String, J)> = Vec::new();
                while let Some((k, x)) = m.next_entry::<String, J>()? {
                    v.retain(|(key, _)| *key != k);
                    v.push((k, x));
                }
                Ok(J::Obj(v))
            }
        }
        d.deserialize_any(V)
    }
}

impl J {
    pub fn parse(s: &str) -> J {
        serde_json::from_str(s).expect("valid JSON")
    }
    pub fn get(&self, k: &str) -> Option<&J> {
        match self {
            J::Obj(o) => o.iter().find(|(key, _)| key == k).map(|(_, v)| v),
            _ => None,
        }
    }
    pub fn arr(&self) -> &[J] {
        match self {
            J::Arr(a) => a,
            _ => &[],
        }
    }
    pub fn str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }
}

const WILDCARD: &str = "<nondeterministic>";

/// Compares an actual value with a golden one; returns the first difference.
pub fn compare(actual: &J, golden: &J, path: &str, top: bool) -> Result<(), String> {
    if let J::Str(s) = golden {
        if s == WILDCARD {
            return Ok(());
        }
    }
    match (actual, golden) {
        (J::Obj(a), J::Obj(g)) => {
            let skip = |k: &str| top && (k == "last_updated_at" || k == "source");
            let ak: Vec<&str> = a
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !skip(k))
                .collect();
            let gk: Vec<&str> = g
                .iter()
                .map(|(k, _)| k.as_str())
                .filter(|k| !skip(k))
                .collect();
            if ak != gk {
                return Err(format!(
                    "{path}: keys differ\n  actual: {ak:?}\n  golden: {gk:?}"
                ));
            }
            for (k, gv) in g.iter().filter(|(k, _)| !skip(k)) {
                let av = a.iter().find(|(key, _)| key == k).map(|(_, v)| v).unwrap();
                compare(av, gv, &format!("{path}/{k}"), false)?;
            }
            Ok(())
        }
        (J::Arr(a), J::Arr(g)) => {
            if a.len() != g.len() {
                return Err(format!("{path}: length {} != golden {}", a.len(), g.len()));
            }
            for (i, (x, y)) in a.iter().zip(g).enumerate() {
                compare(x, y, &format!("{path}/{i}"), false)?;
            }
            Ok(())
        }
        (a, g) if a == g => Ok(()),
        (a, g) => Err(format!("{path}: {a:?} != golden {g:?}")),
    }
}

pub fn shared() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared")
}

/// The golden fixtures: (name, input text, expected).
pub fn fixtures() -> Vec<(String, String, J)> {
    let dir = shared().join("reference/fixtures");
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .expect("../shared/reference/fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json") && !n.ends_with(".expected.json"))
        .collect();
    names.sort();
    for n in names {
        let stem = n.trim_end_matches(".json").to_owned();
        let input = std::fs::read_to_string(dir.join(&n)).unwrap();
        let expected =
            J::parse(&std::fs::read_to_string(dir.join(format!("{stem}.expected.json"))).unwrap());
        out.push((stem, input, expected));
    }
    out
}

/// The options of the golden harness.
pub fn reference_options() -> dify_opik::Options {
    dify_opik::Options {
        profile: dify_opik::Profile::Reference,
        project: "dify-project".into(),
        files_url: "http://127.0.0.1:5001".into(),
        now: Some(1_764_000_000_000_000),
        ..Default::default()
    }
}

/// `2026-03-02T10:00:00Z`, the `now` of the linked tests (the linked fixtures
/// happen within the 24 hours before it).
pub const NOW: &str = "2026-03-02T10:00:00Z";

/// An instant as microseconds since the epoch.
pub fn micros(t: &str) -> i64 {
    dify_opik::time::parse(t, 0).expect("a datetime").micros
}

/// The default (linked) options with a fixed `now`.
pub fn linked_options() -> dify_opik::Options {
    dify_opik::Options {
        now: Some(micros(NOW)),
        ..Default::default()
    }
}

/// The text of `tests/fixtures/linked/<name>.json`.
pub fn linked_fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/linked")
        .join(format!("{name}.json"));
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Every input fixture: ours (`tests/fixtures/linked`) and ../shared's.
pub fn all_inputs() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let ours = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/linked");
    let mut names: Vec<_> = std::fs::read_dir(&ours)
        .expect("tests/fixtures/linked")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    for n in names {
        out.push((
            format!("linked/{n}"),
            std::fs::read_to_string(ours.join(&n)).unwrap(),
        ));
    }
    for (name, input, _) in fixtures() {
        out.push((format!("shared/{name}"), input));
    }
    out
}

/// Maps `text` and returns the result as a tree; panics on an error.
pub fn map_with(text: &str, opts: &dify_opik::Options) -> J {
    match dify_opik::map(text, opts) {
        Ok(r) => J::parse(&r.to_json()),
        Err(e) => panic!("mapping failed: {e}"),
    }
}

/// Maps `text` with [`linked_options`].
pub fn map_linked(text: &str) -> J {
    map_with(text, &linked_options())
}
