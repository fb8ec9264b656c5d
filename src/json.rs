//! JSON values as the mapper sees them: subtrees passed through verbatim
//! (`RawValue`), plus the few values the mapper builds itself.
//!
//! The big subtrees Dify sends (inputs, outputs, prompts, documents) are never
//! turned into trees: they are kept as the exact input text and written back
//! unchanged, which keeps key order and number spelling intact and costs one
//! scan.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, Serializer};
use serde_json::value::RawValue;

/// A string read from the input, borrowed when it has no escapes.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    // Out of line: one string reader per deserializer type.
    #[inline(never)]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V(std::marker::PhantomData))
    }
}

/// Valid JSON text borrowed from the input: one value, no whitespace
/// around it. Written out verbatim.
///
/// Made only by a reader that has validated the text: serde_json's (from a
/// `&RawValue`) or the envelope's fast path ([`crate::reader`]).
#[derive(Clone, Copy)]
pub struct Raw<'a>(&'a str);

impl<'a> Raw<'a> {
    /// The JSON text.
    pub fn get(&self) -> &'a str {
        self.0
    }

    /// Text the caller has validated as one JSON value.
    pub(crate) fn validated(text: &'a str) -> Self {
        Raw(text)
    }
}

impl<'a> From<&'a RawValue> for Raw<'a> {
    fn from(r: &'a RawValue) -> Self {
        Raw(r.get())
    }
}

impl Serialize for Raw<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::write::verbatim(s, self.0)
    }
}

/// Valid JSON text owned by the mapping (decoded from a JSON-string column,
/// or redacted): one value, written out verbatim.
#[derive(Clone)]
pub struct RawBuf(Box<str>);

impl RawBuf {
    /// The JSON text.
    pub fn get(&self) -> &str {
        &self.0
    }
}

impl From<Box<RawValue>> for RawBuf {
    fn from(r: Box<RawValue>) -> Self {
        RawBuf(r.into())
    }
}

impl From<Raw<'_>> for RawBuf {
    fn from(r: Raw<'_>) -> Self {
        RawBuf(r.get().into())
    }
}

impl Serialize for RawBuf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::write::verbatim(s, &self.0)
    }
}

/// A field that distinguishes "absent" from "present, even as null".
///
/// `Option<&RawValue>` folds a JSON `null` into `None`; several of Dify's
/// rules (`process_data["usage"]` present but null) need the difference.
#[derive(Clone, Copy, Default)]
pub struct Field<'a>(pub Option<Raw<'a>>);

impl<'a> Field<'a> {
    /// The raw value when present (a JSON `null` included).
    pub fn present(&self) -> Option<Raw<'a>> {
        self.0
    }
    /// The raw value when present and not `null`.
    pub fn value(&self) -> Option<Raw<'a>> {
        self.0.filter(|r| r.get() != "null")
    }
}

impl fmt::Debug for Field<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            None => f.write_str("absent"),
            Some(_) => f.write_str("present"),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Field<'a> {
    // Out of line: one copy of serde_json's raw-value reader serves every
    // field of every input struct.
    #[inline(never)]
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <&'a RawValue>::deserialize(d).map(|r| Field(Some(Raw::from(r))))
    }
}

/// An ordered JSON object: keys keep their input order, as Python dicts do.
pub type Obj<'a> = Vec<(Cow<'a, str>, Json<'a>)>;

/// A JSON value in the output.
#[derive(Clone)]
pub enum Json<'a> {
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// A signed integer.
    Int(i64),
    /// A float (written with serde_json's shortest round-trip form).
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// Input text passed through verbatim.
    Raw(Raw<'a>),
    /// Input text passed through verbatim, owned (decoded from a JSON-string column).
    RawOwned(RawBuf),
    /// An object built by the mapper.
    Obj(Obj<'a>),
    /// An array built by the mapper.
    Arr(Vec<Json<'a>>),
}

impl fmt::Debug for Json<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Debug output never shows values: they may carry secrets.
        f.write_str(match self {
            Json::Null => "null",
            Json::Bool(_) => "bool",
            Json::Int(_) | Json::Float(_) => "number",
            Json::Str(_) => "string",
            Json::Raw(_) | Json::RawOwned(_) => "raw",
            Json::Obj(_) => "object",
            Json::Arr(_) => "array",
        })
    }
}

impl<'a> Json<'a> {
    /// A string value.
    pub fn str(s: impl Into<Cow<'a, str>>) -> Self {
        Json::Str(s.into())
    }

    /// The raw text when this value is input text.
    pub fn raw_text(&self) -> Option<&str> {
        match self {
            Json::Raw(r) => Some(r.get()),
            Json::RawOwned(r) => Some(r.get()),
            _ => None,
        }
    }

    /// The JSON kind of the value.
    pub fn kind(&self) -> Kind {
        match self {
            Json::Null => Kind::Null,
            Json::Bool(_) => Kind::Bool,
            Json::Int(_) | Json::Float(_) => Kind::Number,
            Json::Str(_) => Kind::String,
            Json::Obj(_) => Kind::Object,
            Json::Arr(_) => Kind::Array,
            Json::Raw(r) => raw_kind(r.get()),
            Json::RawOwned(r) => raw_kind(r.get()),
        }
    }

    /// Whether the value is `null`.
    pub fn is_null(&self) -> bool {
        self.kind() == Kind::Null
    }

    /// Python truthiness: `null`, `false`, `0`, `""`, `[]` and `{}` are false.
    #[inline(never)]
    pub fn truthy(&self) -> bool {
        match self {
            Json::Null => false,
            Json::Bool(b) => *b,
            Json::Int(i) => *i != 0,
            Json::Float(f) => *f != 0.0,
            Json::Str(s) => !s.is_empty(),
            Json::Obj(o) => !o.is_empty(),
            Json::Arr(a) => !a.is_empty(),
            Json::Raw(r) => raw_truthy(r.get()),
            Json::RawOwned(r) => raw_truthy(r.get()),
        }
    }

    /// The value as a string, when it is one.
    pub fn as_str(&self) -> Option<Cow<'_, str>> {
        match self {
            Json::Str(s) => Some(Cow::Borrowed(s)),
            Json::Raw(r) => raw_str(r.get()),
            Json::RawOwned(r) => raw_str(r.get()).map(|c| Cow::Owned(c.into_owned())),
            _ => None,
        }
    }

    /// The value as a float, when it is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Int(i) => Some(*i as f64),
            Json::Float(f) => Some(*f),
            Json::Raw(r) => raw_f64(r.get()),
            Json::RawOwned(r) => raw_f64(r.get()),
            _ => None,
        }
    }

    /// Converts borrowed input text into owned text.
    pub fn into_owned(self) -> Json<'static> {
        match self {
            Json::Null => Json::Null,
            Json::Bool(b) => Json::Bool(b),
            Json::Int(i) => Json::Int(i),
            Json::Float(f) => Json::Float(f),
            Json::Str(s) => Json::Str(Cow::Owned(s.into_owned())),
            Json::Raw(r) => Json::RawOwned(RawBuf::from(r)),
            Json::RawOwned(r) => Json::RawOwned(r),
            Json::Obj(o) => Json::Obj(
                o.into_iter()
                    .map(|(k, v)| (Cow::Owned(k.into_owned()), v.into_owned()))
                    .collect(),
            ),
            Json::Arr(a) => Json::Arr(a.into_iter().map(Json::into_owned).collect()),
        }
    }

    /// Reads an object's entries, when the value is an object.
    pub fn to_obj(&self) -> Option<Obj<'_>> {
        match self {
            Json::Obj(o) => Some(o.iter().map(|(k, v)| (k.clone(), v.clone())).collect()),
            Json::Raw(r) => parse_obj(r.get()),
            Json::RawOwned(r) => parse_obj(r.get()),
            _ => None,
        }
    }

    /// Looks up one key of an object value (the last occurrence wins, as in Python).
    #[inline(never)]
    pub fn get(&self, key: &str) -> Option<Json<'_>> {
        let mut out = [None];
        self.get_all(&[key], &mut out);
        let [v] = out;
        v
    }

    /// Looks up several keys (at most 4) of an object value at once, into
    /// `out` (one slot a key; the last occurrence of each wins): raw text is
    /// scanned once instead of once a key.
    #[inline(never)]
    pub(crate) fn get_all<'s>(&'s self, keys: &[&str], out: &mut [Option<Json<'s>>]) {
        match self {
            Json::Obj(o) => {
                for (slot, key) in out.iter_mut().zip(keys) {
                    *slot = obj_get(o, key).cloned();
                }
            }
            Json::Raw(r) => raw_get_all(r.get(), keys, out),
            Json::RawOwned(r) => raw_get_all(r.get(), keys, out),
            _ => {}
        }
    }
}

impl<'a> From<Raw<'a>> for Json<'a> {
    fn from(r: Raw<'a>) -> Self {
        Json::Raw(r)
    }
}

impl<'a> From<&'a RawValue> for Json<'a> {
    fn from(r: &'a RawValue) -> Self {
        Json::Raw(Raw::from(r))
    }
}

/// The kind of a JSON value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `null`
    Null,
    /// `true`/`false`
    Bool,
    /// a number
    Number,
    /// a string
    String,
    /// an array
    Array,
    /// an object
    Object,
}

/// The kind of raw JSON text (which must be valid JSON).
#[inline(never)]
pub fn raw_kind(s: &str) -> Kind {
    // JSON text: only JSON whitespace can come before a value.
    let b = s.as_bytes();
    match b.get(crate::scan::skip_ws(b, 0)) {
        Some(b'{') => Kind::Object,
        Some(b'[') => Kind::Array,
        Some(b'"') => Kind::String,
        Some(b't') | Some(b'f') => Kind::Bool,
        Some(b'n') => Kind::Null,
        _ => Kind::Number,
    }
}

/// Python truthiness of raw JSON text: `null`, `false`, zero, `""`, `[]` and
/// `{}` are false.
pub(crate) fn raw_truthy(s: &str) -> bool {
    let t = json_trim(s);
    match raw_kind(t) {
        Kind::Null => false,
        Kind::Bool => t == "true",
        Kind::String => t != "\"\"",
        Kind::Array | Kind::Object => !json_trim(&t[1..t.len() - 1]).is_empty(),
        Kind::Number => raw_f64(t).map(|f| f != 0.0).unwrap_or(true),
    }
}

/// The content of raw JSON string text that has no escapes, borrowed.
pub fn plain_string(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    (b.len() >= 2
        && b[0] == b'"'
        && b[b.len() - 1] == b'"'
        && memchr::memchr(b'\\', &b[1..b.len() - 1]).is_none())
    .then(|| &s[1..s.len() - 1])
}

fn raw_str(s: &str) -> Option<Cow<'_, str>> {
    if let Some(p) = plain_string(s) {
        return Some(Cow::Borrowed(p));
    }
    if raw_kind(s) != Kind::String {
        return None;
    }
    serde_json::from_str::<Text>(s).ok().map(|t| t.0)
}

#[inline(never)]
fn raw_f64(s: &str) -> Option<f64> {
    if raw_kind(s) != Kind::Number {
        return None;
    }
    // Correctly rounded (serde_json's default parser may be off by a unit
    // in the last place), without the standard library's tables.
    crate::decimal::parse_f64(json_trim(s))
}

/// `s` without JSON whitespace at either end (the only kind JSON text can
/// have around a value; `str::trim` would look for any Unicode space).
fn json_trim(s: &str) -> &str {
    let b = s.as_bytes();
    let start = crate::scan::skip_ws(b, 0);
    let mut end = b.len();
    while end > start && matches!(b[end - 1], b' ' | b'\t' | b'\n' | b'\r') {
        end -= 1;
    }
    s.get(start..end).unwrap_or(s)
}

/// Parses raw object text into ordered entries; later duplicates replace
/// earlier ones in place (Python's `dict` semantics).
#[inline(never)]
pub fn parse_obj(s: &str) -> Option<Obj<'_>> {
    if raw_kind(s) != Kind::Object {
        return None;
    }
    serde_json::from_str::<RawObj>(s).ok().map(|o| o.0)
}

/// The values of `keys` in the object text `s`, into `out` (one slot a key).
#[inline(never)]
fn raw_get_all<'s>(s: &'s str, keys: &[&str], out: &mut [Option<Json<'s>>]) {
    if raw_kind(s) != Kind::Object {
        return;
    }
    // The text was validated when it was parsed: find the members by their
    // structure alone (the last occurrence wins, as in Python) and parse
    // only the values found.
    let mut found = [(0, 0); 4];
    debug_assert!(keys.len() <= found.len() && out.len() == keys.len());
    for ((k0, k1), v, escaped) in crate::scan::members(s) {
        let decoded;
        let name = if escaped {
            decoded = string_text(&s[k0..k1]);
            &*decoded
        } else {
            s.get(k0 + 1..k1 - 1).unwrap_or_default()
        };
        for (at, key) in found.iter_mut().zip(keys) {
            if same_key(name, key) {
                *at = v;
            }
        }
    }
    for (slot, &(v0, v1)) in out.iter_mut().zip(&found) {
        // A member's value in valid JSON text is valid JSON text.
        if let Some(v) = s.get(v0..v1).filter(|v| !v.is_empty()) {
            *slot = Some(Json::Raw(Raw::validated(v)));
        }
    }
}

/// Whether two keys are equal, comparing their lengths and first bytes
/// before their bytes: most keys differ there, and on wasm32 comparing the
/// bytes is a call to a loop a byte at a time.
#[inline]
pub(crate) fn same_key(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() || a.first() != b.first() {
        return false;
    }
    // Keys are mostly short: two overlapping words compared in place of a
    // call to `memcmp`.
    let n = a.len();
    let word = |s: &[u8], at: usize| u64::from_le_bytes(s[at..at + 8].try_into().unwrap_or([0; 8]));
    let half = |s: &[u8], at: usize| u32::from_le_bytes(s[at..at + 4].try_into().unwrap_or([0; 4]));
    match n {
        8..=16 => word(a, 0) == word(b, 0) && word(a, n - 8) == word(b, n - 8),
        4..=7 => half(a, 0) == half(b, 0) && half(a, n - 4) == half(b, n - 4),
        _ => a == b,
    }
}

/// Finds a key in an ordered object.
#[inline(never)]
pub fn obj_get<'o, 'a>(o: &'o [(Cow<'a, str>, Json<'a>)], key: &str) -> Option<&'o Json<'a>> {
    o.iter().find(|(k, _)| same_key(k, key)).map(|(_, v)| v)
}

/// Sets a key: overwrites in place when present, else appends (Python's
/// `d[key] = value`).
#[inline(never)]
pub fn obj_set<'a>(o: &mut Obj<'a>, key: &'static str, value: Json<'a>) {
    obj_put(o, Cow::Borrowed(key), value);
}

/// [`obj_set`] with a key of any lifetime: also how an object read from the
/// input keeps the last of duplicate keys in the place of the first.
pub(crate) fn obj_put<'a>(o: &mut Obj<'a>, key: Cow<'a, str>, value: Json<'a>) {
    if let Some(slot) = o.iter_mut().find(|(k, _)| same_key(k, &key)) {
        slot.1 = value;
    } else {
        o.push((key, value));
    }
}

/// Removes a key, when present.
#[inline(never)]
pub fn obj_remove<'a>(o: &mut Obj<'a>, key: &str) -> Option<Json<'a>> {
    let i = o.iter().position(|(k, _)| same_key(k, key))?;
    Some(o.remove(i).1)
}

/// An object parsed into ordered entries with raw values.
pub struct RawObj<'a>(pub Obj<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for RawObj<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = RawObj<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out: Obj<'a> = Vec::new();
                while let Some(k) = m.next_key::<Text<'a>>()? {
                    let v: &'a RawValue = m.next_value()?;
                    obj_put(&mut out, k.0, Json::from(v));
                }
                Ok(RawObj(out))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        crate::write::as_raw(s, |out| crate::write::json(out, self))
    }
}

/// Sorts object entries by key, bytewise, the last of equal keys winning:
/// the order and the values of a `BTreeMap` built from them.
pub(crate) fn sort_keys(o: Obj<'static>) -> Obj<'static> {
    let mut idx: Vec<usize> = (0..o.len()).collect();
    crate::sort::stable_sort(&mut idx, &|a, b| o[a].0 < o[b].0);
    let mut keep = vec![true; o.len()];
    for w in idx.windows(2) {
        if o[w[0]].0 == o[w[1]].0 {
            keep[w[0]] = false;
        }
    }
    let mut slots: Vec<Option<(Cow<'static, str>, Json<'static>)>> =
        o.into_iter().map(Some).collect();
    idx.iter()
        .filter(|&&i| keep[i])
        .filter_map(|&i| slots[i].take())
        .collect()
}

/// A whole JSON value, read the way serde_json builds a `Value`: the same
/// numbers, the same failures and error messages, objects sorted by key with
/// the last duplicate winning. Used where the mapping or the options need a
/// tree, without serde_json's `Value` and its `BTreeMap` code.
pub struct Tree(pub Json<'static>);

/// The key serde_json's `Value` reader treats as a boxed raw value when it
/// comes first in an object, and the struct name under which its serializer
/// writes a string verbatim.
pub(crate) const RAW_VALUE_TOKEN: &str = "$serde_json::private::RawValue";

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TreeVisitor).map(Tree)
    }
}

struct TreeVisitor;

impl<'de> Visitor<'de> for TreeVisitor {
    type Value = Json<'static>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any valid JSON value")
    }
    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
        Ok(Json::Bool(b))
    }
    fn visit_i64<E: de::Error>(self, i: i64) -> Result<Self::Value, E> {
        Ok(Json::Int(i))
    }
    fn visit_u64<E: de::Error>(self, u: u64) -> Result<Self::Value, E> {
        Ok(match i64::try_from(u) {
            Ok(i) => Json::Int(i),
            // Above i64: the digits, as serde_json writes a u64.
            Err(_) => match RawValue::from_string(u.to_string()) {
                Ok(r) => Json::RawOwned(r.into()),
                Err(_) => Json::Null,
            },
        })
    }
    fn visit_f64<E: de::Error>(self, f: f64) -> Result<Self::Value, E> {
        // A `Value` holds a non-finite float as null.
        Ok(if f.is_finite() {
            Json::Float(f)
        } else {
            Json::Null
        })
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(s.to_owned())))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Json::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        Tree::deserialize(d).map(|s| s.0)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(Tree(x)) = a.next_element()? {
            v.push(x);
        }
        Ok(Json::Arr(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
        let Some(first) = a.next_key::<String>()? else {
            return Ok(Json::Obj(Vec::new()));
        };
        if first == RAW_VALUE_TOKEN {
            // serde_json's `Value` reads the string and parses it as JSON.
            let RawText(text) = a.next_value()?;
            return serde_json::from_str::<Tree>(&text)
                .map(|s| s.0)
                .map_err(de::Error::custom);
        }
        let Tree(v) = a.next_value()?;
        let mut o: Obj<'static> = vec![(Cow::Owned(first), v)];
        while let Some(k) = a.next_key::<String>()? {
            let Tree(v) = a.next_value()?;
            o.push((Cow::Owned(k), v));
        }
        Ok(Json::Obj(sort_keys(o)))
    }
}

/// The string after serde_json's raw-value key, read with the same
/// expectations (and error messages) as serde_json's own reader.
struct RawText(String);

impl<'de> Deserialize<'de> for RawText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("raw value")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawText, E> {
                Ok(RawText(s.to_owned()))
            }
        }
        d.deserialize_str(V)
    }
}

/// Dify's `wrap_dict(key, v)`: objects pass unchanged, anything else becomes `{key: v}`.
#[inline(never)]
pub fn wrap_dict<'a>(key: &'static str, v: Json<'a>) -> Json<'a> {
    if v.kind() == Kind::Object {
        v
    } else {
        Json::Obj(vec![(Cow::Borrowed(key), v)])
    }
}

/// The text of the JSON string `s` (quotes included): borrowed when it has no escapes.
pub(crate) fn string_text(s: &str) -> Cow<'_, str> {
    let inner = &s[1..s.len().saturating_sub(1).max(1)];
    if memchr::memchr(b'\\', inner.as_bytes()).is_none() {
        return Cow::Borrowed(inner);
    }
    serde_json::from_str::<crate::json::Text>(s)
        .map(|t| Cow::Owned(t.0.into_owned()))
        .unwrap_or(Cow::Borrowed(""))
}

/// Decodes a JSON-string column (Dify's DB-row shape) into owned JSON text.
pub fn decode_json_column(raw: Raw<'_>) -> Result<RawBuf, serde_json::Error> {
    let text: String = serde_json::from_str(raw.get())?;
    RawValue::from_string(text).map(RawBuf::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_is_string_equality() {
        let base = "abcdefghijklmnopqrstuvwxyz";
        for n in 0..=20 {
            let a = &base[..n];
            assert!(same_key(a, a), "{a}");
            assert!(!same_key(a, &base[..n + 1]), "{a}");
            for at in 0..n {
                let mut b = a.as_bytes().to_vec();
                b[at] = b'_';
                let b = String::from_utf8(b).unwrap();
                assert!(!same_key(a, &b), "{a} {b}");
            }
        }
    }

    #[test]
    fn trees_read_like_serde_json_values() {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Ours {
            #[allow(dead_code)]
            now: Option<Tree>,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Theirs {
            #[allow(dead_code)]
            now: Option<serde_json::Value>,
        }
        for v in [
            "null",
            "1",
            "-1.5e3",
            "1e400",
            "18446744073709551616",
            r#"{"at":1,"at":"x","b":[1,{"$serde_json::private::RawValue":"2"}]}"#,
            r#"{"$serde_json::private::RawValue":3}"#,
            r#"{"$serde_json::private::RawValue":"[1,"}"#,
            r#"{"$serde_json::private::RawValue":"1","x":2}"#,
            r#"[1,2,"#,
            r#""\ud800""#,
        ] {
            let t = format!(r#"{{"now":{v}}}"#);
            let ours = serde_json::from_str::<Ours>(&t).map(|o| {
                o.now
                    .map(|n| serde_json::to_string(&n.0).unwrap())
                    .unwrap_or_default()
            });
            let theirs = serde_json::from_str::<Theirs>(&t).map(|o| {
                o.now
                    .map(|n| serde_json::to_string(&n).unwrap())
                    .unwrap_or_default()
            });
            assert_eq!(
                ours.map_err(|e| e.to_string()),
                theirs.map_err(|e| e.to_string()),
                "{v}"
            );
        }
    }

    fn raw(s: &str) -> RawBuf {
        RawValue::from_string(s.to_owned()).unwrap().into()
    }

    #[test]
    fn truthiness_follows_python() {
        for (s, t) in [
            ("null", false),
            ("false", false),
            ("true", true),
            ("0", false),
            ("0.0", false),
            ("-0.0", false),
            ("1e-9", true),
            ("\"\"", false),
            ("\" \"", true),
            ("[]", false),
            ("[ ]", false),
            ("[0]", true),
            ("{}", false),
            ("{ }", false),
            ("{\"a\":1}", true),
        ] {
            assert_eq!(Json::RawOwned(raw(s)).truthy(), t, "{s}");
        }
    }

    #[test]
    fn objects_keep_order_and_last_duplicate_wins_in_place() {
        let o = parse_obj(r#"{"b":1,"a":2,"b":3}"#).unwrap();
        let keys: Vec<&str> = o.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["b", "a"]);
        assert_eq!(o[0].1.raw_text(), Some("3"));
    }

    #[test]
    fn several_keys_are_found_in_one_scan_like_one_at_a_time() {
        let text = r#" { "p" : 1, "c":{"x":[1,"}"]}, "p":"2", "t\u0061":[3], "q\"":4 } "#;
        let keys = ["p", "c", "ta", "q\""];
        let text_value = Json::RawOwned(raw(text));
        let built = Json::Obj(parse_obj(text).unwrap());
        for v in [&text_value, &built] {
            let mut all = [None, None, None, None];
            v.get_all(&keys, &mut all);
            let texts: Vec<String> = all
                .iter()
                .map(|j| serde_json::to_string(j.as_ref().unwrap()).unwrap())
                .collect();
            // The last duplicate wins; escaped keys are decoded.
            assert_eq!(texts, ["\"2\"", r#"{"x":[1,"}"]}"#, "[3]", "4"]);
            for (k, one) in keys.iter().zip(&all) {
                let got = v.get(k).map(|j| serde_json::to_string(&j).unwrap());
                assert_eq!(got, one.as_ref().map(|j| serde_json::to_string(j).unwrap()));
            }
            let mut none = [None, None];
            v.get_all(&["x", "P"], &mut none);
            assert!(none.iter().all(Option::is_none));
        }
        let array = Json::RawOwned(raw("[1]"));
        let mut out = [None];
        array.get_all(&["p"], &mut out);
        assert!(out[0].is_none());
    }

    #[test]
    fn set_overwrites_in_place_and_appends_new_keys() {
        let mut o = parse_obj(r#"{"x":1,"user_id":"u"}"#).unwrap();
        obj_set(&mut o, "user_id", Json::Null);
        obj_set(&mut o, "created_from", Json::str("dify"));
        let out = serde_json::to_string(&Json::Obj(o)).unwrap();
        assert_eq!(out, r#"{"x":1,"user_id":null,"created_from":"dify"}"#);
    }

    #[test]
    fn wrap_dict_wraps_everything_but_objects() {
        let w =
            |s: &str| serde_json::to_string(&wrap_dict("input", Json::RawOwned(raw(s)))).unwrap();
        assert_eq!(w("{\"a\":1}"), "{\"a\":1}");
        assert_eq!(w("[1]"), "{\"input\":[1]}");
        assert_eq!(w("\"s\""), "{\"input\":\"s\"}");
        assert_eq!(w("null"), "{\"input\":null}");
        assert_eq!(w("3"), "{\"input\":3}");
    }

    #[test]
    fn raw_numbers_are_written_verbatim() {
        let v = Json::RawOwned(raw(
            "{\"big\":123456789012345678901234567890,\"f\":1.86e-05}",
        ));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            "{\"big\":123456789012345678901234567890,\"f\":1.86e-05}"
        );
    }

    #[test]
    fn numbers_are_read_correctly_rounded() {
        // Python's shortest form of a float just below a half microsecond.
        // serde_json's default parser reads it one unit in the last place
        // high, as 3.7966655, which would put an end time computed from
        // `elapsed_time` 1 µs late (3796666 µs instead of Python's 3796665).
        let v = Json::RawOwned(raw("3.7966654999999996"));
        let x = v.as_f64().unwrap();
        assert_eq!(x.to_string(), "3.7966654999999996");
        assert_eq!(crate::time::seconds_to_micros(x), Some(3_796_665));
        assert_eq!(
            crate::time::seconds_to_micros(
                Json::RawOwned(raw("93.77037949999999")).as_f64().unwrap()
            ),
            Some(93_770_379)
        );
    }

    #[test]
    fn decodes_string_columns() {
        let r = raw(r#""{\"a\": [1, 2]}""#);
        assert_eq!(
            decode_json_column(Raw(r.get())).unwrap().get(),
            r#"{"a": [1, 2]}"#
        );
        assert!(decode_json_column(Raw(raw(r#""{not json""#).get())).is_err());
    }
}
