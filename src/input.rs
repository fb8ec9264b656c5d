//! The input model: Dify's trace-task envelope (reference §2, §6.2), read in
//! one pass with borrowed strings; subtrees the mapping only passes through
//! stay raw.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{pointer_token, Error, ErrorCode};
use crate::json::{Field, Json, Raw, RawObj, Text};
use crate::reader::{Clean, Reader};

/// Defines a struct of raw fields and a small hand-written reader for it: one
/// key match and one value call per key, later duplicates winning (Python's
/// `dict`), unknown keys skipped. Derived readers generate far more code per
/// field, which matters for the size of the WebAssembly module.
macro_rules! raw_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            raw { $($field:ident),* $(,)? }
            $(other { $($ofield:ident : $oty:ty => $conv:path),* $(,)? })?
            $(extra { $($efield:ident : $ety:ty),* $(,)? })?
        }
    ) => {
        $(#[$meta])*
        #[derive(Default)]
        #[allow(missing_docs)]
        pub struct $name<'a> {
            $(pub $field: Field<'a>,)*
            $($(pub $ofield: $oty,)*)?
            $($(pub $efield: $ety,)*)?
        }

        #[cfg(any(test, fuzzing))]
        impl dump::Dump for $name<'_> {
            fn dump(&self, out: &mut String) {
                out.push('{');
                $(
                    out.push_str(concat!(stringify!($field), "="));
                    self.$field.dump(out);
                    out.push(';');
                )*
                $($(
                    out.push_str(concat!(stringify!($ofield), "="));
                    self.$ofield.dump(out);
                    out.push(';');
                )*)?
                out.push('}');
            }
        }

        impl<'a> $name<'a> {
            /// The keys of the raw fields, in [`Self::raw_slot`]'s order.
            const RAW_KEYS: &'static [&'static str] = &[$(stringify!($field)),*];

            /// [`Self::RAW_KEYS`] by hash.
            const RAW_TABLE: KeyTable = KeyTable::new(Self::RAW_KEYS);

            /// The raw field of a key, when it is one: both readers share
            /// one table lookup instead of a key match each.
            fn raw_slot(&mut self, key: &str) -> Option<&mut Field<'a>> {
                let i = Self::RAW_TABLE.find(Self::RAW_KEYS, key)?;
                self.slot_at(i)
            }

            /// The raw field at position `i` of [`Self::RAW_KEYS`].
            fn slot_at(&mut self, i: usize) -> Option<&mut Field<'a>> {
                [$(&mut self.$field),*].into_iter().nth(i)
            }
        }

        impl<'a> Fast<'a> for $name<'a> {
            fn fast(r: &mut Reader<'a>) -> Option<Self> {
                let mut out = $name::default();
                Self::fast_into(r, &mut out)?;
                Some(out)
            }

            // Out of line, as the serde reader below.
            #[inline(never)]
            fn fast_into(r: &mut Reader<'a>, out: &mut Self) -> Option<()> {
                r.object(&mut |r, k| {
                    if let Some(i) = Self::RAW_TABLE.find(Self::RAW_KEYS, k) {
                        *out.slot_at(i)? = Field(Some(r.raw()?));
                        return Some(());
                    }
                    match k {
                        $($(stringify!($ofield) => out.$ofield = $conv(Fast::fast(r)?),)*)?
                        _ => r.skip()?,
                    }
                    Some(())
                })
            }
        }

        impl<'de: 'a, 'a> Deserialize<'de> for $name<'a> {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                    type Value = $name<'a>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("an object")
                    }
                    // Out of line: a first call compiles only the readers
                    // its input reaches (a message has no node executions).
                    #[inline(never)]
                    fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                        let mut out = $name::default();
                        while let Some(k) = m.next_key::<Text<'a>>()? {
                            // The raw fields share one value call.
                            if let Some(slot) = out.raw_slot(k.as_str()) {
                                *slot = m.next_value()?;
                                continue;
                            }
                            match k.as_str() {
                                $($(stringify!($ofield) => out.$ofield = $conv(m.next_value()?),)*)?
                                _ => {
                                    m.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(out)
                    }
                }
                d.deserialize_map(V(std::marker::PhantomData))
            }
        }
    };
}

raw_struct! {
    /// One trace task: `{app_id, trace_info_type, trace_info}` plus the data
    /// Dify reads from its database (`node_executions`, `end_users`), and, when
    /// the input was a bare trace_info, its type (`bare_type`; paths then have
    /// no `/trace_info` prefix).
    pub struct Envelope {
        raw { app_id, trace_info_type }
        other {
            trace_info: Option<TraceInfo<'a>> => ObjOpt::take,
            node_executions: Option<Vec<NodeExecution<'a>>> => ObjVec::take,
            end_users: Option<EndUserMap<'a>> => EndUsers::take,
            bare_type: Option<String> => never,
        }
        extra {
            clean: Clean,
        }
    }
}

raw_struct! {
    /// An end-user row.
    pub struct EndUser {
        raw { session_id }
    }
}

raw_struct! {
    /// The union of the fields of Dify's seven TraceInfo types; each mapper
    /// reads the ones of its type. Fields are raw so that a field of another
    /// type never makes a task fail; readers check types with exact paths.
    pub struct TraceInfo {
        raw { message_id, inputs, outputs, start_time, end_time, trace_id, conversation_id, workflow_app_log_id, tenant_id, workflow_run_id, workflow_run_elapsed_time, workflow_run_status, workflow_run_inputs, workflow_run_outputs, error, total_tokens, file_list, conversation_mode, conversation_model, message_tokens, answer_tokens, message_file_data, gen_ai_server_time_to_first_token, flagged, action, preset_response, model_provider, model_id, suggested_question, documents, tool_name, tool_inputs, tool_outputs }
        other {
            message_data: Option<MessageData<'a>> => ObjOpt::take,
            metadata: Option<RawObj<'a>> => ObjOpt::take,
        }
    }
}

raw_struct! {
    /// `Message.to_dict()`: the fields Opik's mapping reads.
    pub struct MessageData {
        raw { id, conversation_id, model_id, inputs, query, total_price, answer, status, error, message_metadata, from_end_user_id, from_account_id, created_at, updated_at, workflow_run_id }
    }
}

raw_struct! {
    /// One node execution, in the domain shape or Dify's DB-row shape
    /// (`workflow_run_id` for `workflow_execution_id`, `execution_metadata`
    /// for `metadata`, JSON-string columns).
    pub struct NodeExecution {
        raw { id, workflow_execution_id, workflow_run_id, node_id, node_type, title, inputs, status, error, elapsed_time, created_at, finished_at }
        other {
            outputs: Outputs<'a> => std::convert::identity,
            process_data: Embedded<'a, ProcessData<'a>> => std::convert::identity,
            metadata: Embedded<'a, RawObj<'a>> => std::convert::identity,
            execution_metadata: Embedded<'a, RawObj<'a>> => std::convert::identity,
        }
    }
}

/// Slots of a [`KeyTable`]: more than any struct has raw keys, so that a
/// probe always meets an empty slot.
const KEY_SLOTS: usize = 64;

/// A struct's raw keys by hash, built at compile time: open addressing over
/// [`KEY_SLOTS`] slots, each empty (0) or holding a key's position plus one.
/// A node execution's 18 keys each cost a probe or two, where a search of
/// the list compared every raw key for each of the seven keys that are none
/// (the table took 1 % off a native workflow mapping's instructions).
struct KeyTable([u8; KEY_SLOTS]);

impl KeyTable {
    const fn new(keys: &[&str]) -> KeyTable {
        assert!(keys.len() < KEY_SLOTS, "a key table needs an empty slot");
        let mut slots = [0u8; KEY_SLOTS];
        let mut i = 0;
        while i < keys.len() {
            let mut at = key_hash(keys[i].as_bytes());
            while slots[at] != 0 {
                at = (at + 1) % KEY_SLOTS;
            }
            slots[at] = (i + 1) as u8;
            i += 1;
        }
        KeyTable(slots)
    }

    /// The position of `key` in `keys`, the list the table was built from.
    fn find(&self, keys: &[&str], key: &str) -> Option<usize> {
        let mut at = key_hash(key.as_bytes());
        // Ends at an empty slot, which every table has, if not at the key.
        loop {
            let i = usize::from(self.0[at]).checked_sub(1)?;
            if crate::json::same_key(keys.get(i)?, key) {
                return Some(i);
            }
            at = (at + 1) % KEY_SLOTS;
        }
    }
}

/// A key's first slot: its length and three of its bytes, multiplied by the
/// golden ratio (Fibonacci hashing), top six bits.
const fn key_hash(k: &[u8]) -> usize {
    const _: () = assert!(KEY_SLOTS == 1 << 6);
    let n = k.len();
    if n == 0 {
        return 0;
    }
    let x =
        (n as u32 & 0xFF) | (k[0] as u32) << 8 | (k[n / 2] as u32) << 16 | (k[n - 1] as u32) << 24;
    (x.wrapping_mul(0x9E37_79B1) >> 26) as usize
}

/// Reading a type on the envelope's fast path ([`crate::reader`]): `None`
/// when the reader gives up, and serde_json reads the text instead.
trait Fast<'a>: Sized {
    fn fast(r: &mut Reader<'a>) -> Option<Self>;

    /// [`Fast::fast`] into a value already in place (an element of a list),
    /// which is then not moved: a node execution is some 460 bytes.
    fn fast_into(r: &mut Reader<'a>, slot: &mut Self) -> Option<()> {
        *slot = Self::fast(r)?;
        Some(())
    }
}

impl<'a> Fast<'a> for IgnoredAny {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        r.skip().map(|()| IgnoredAny)
    }
}

impl<'a, T: Fast<'a>> Fast<'a> for ObjOpt<T> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        if r.null()? {
            return Some(ObjOpt(None));
        }
        T::fast(r).map(|v| ObjOpt(Some(v)))
    }
}

impl<'a, T: Fast<'a> + Default> Fast<'a> for ObjVec<T> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        if r.null()? {
            return Some(ObjVec(None));
        }
        let mut v: Vec<T> = Vec::new();
        r.array(&mut |r| {
            // At the first element, room for one per `ELEMENT_BYTES` of what
            // is left of the input: each growth of the list copies all of it
            // (2.3 MB for 5,000 node executions), and what is reserved stays
            // under a quarter of the input's size (nothing for an empty list).
            if v.capacity() == 0 {
                v.reserve(r.remaining() / ELEMENT_BYTES);
            }
            // Read in place, not read and then moved into the list.
            v.push(T::default());
            T::fast_into(r, v.last_mut()?)
        })?;
        Some(ObjVec(Some(v)))
    }
}

impl<'a> Fast<'a> for EndUsers<'a> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        if r.null()? {
            return Some(EndUsers(None));
        }
        let mut out = Vec::new();
        r.object(&mut |r, k| {
            out.push((Text(Cow::Borrowed(k)), EndUser::fast(r)?));
            Some(())
        })?;
        Some(EndUsers(Some(EndUserMap(out))))
    }
}

impl<'a, T: Fast<'a>> Fast<'a> for Embedded<'a, T> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        Some(match r.peek()? {
            b'{' => Embedded::Value(T::fast(r)?),
            b'n' => {
                r.null()?;
                Embedded::Null
            }
            b'"' => {
                let (text, escapes) = r.string_value()?;
                Embedded::Text(if escapes {
                    // The reader `raw_str` uses: one copy of it in the module.
                    Cow::Owned(serde_json::from_str::<Text>(text).ok()?.0.into_owned())
                } else {
                    Cow::Borrowed(text.get(1..text.len() - 1)?)
                })
            }
            // Numbers are left to serde_json, which may reject them (out of
            // range).
            b't' | b'f' | b'[' => {
                r.skip()?;
                Embedded::Other
            }
            _ => return None,
        })
    }
}

impl<'a> Fast<'a> for ProcessData<'a> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        let mut p = ProcessData::default();
        r.object(&mut |r, k| {
            p.has_keys = true;
            match p.slot(k) {
                Some(slot) => *slot = Some(Json::Raw(r.raw()?)),
                None => r.skip()?,
            }
            Some(())
        })?;
        Some(p)
    }
}

impl<'a> Fast<'a> for RawObj<'a> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        // Room for a node's execution metadata (mostly up to eight keys)
        // without growing the list twice.
        let mut out: crate::json::Obj<'a> = Vec::with_capacity(8);
        r.object(&mut |r, k| {
            crate::json::obj_put(&mut out, Cow::Borrowed(k), Json::Raw(r.raw()?));
            Some(())
        })?;
        Some(RawObj(out))
    }
}

/// A node's `outputs`, with its top-level `usage` member when the fast
/// path found it while reading (the linked mapping looks it up for every
/// node without a `process_data.usage`).
#[derive(Clone, Copy, Default)]
pub struct Outputs<'a> {
    /// The value.
    pub raw: Field<'a>,
    /// `Some(found)` when known: the `usage` member's value, if any.
    pub usage: Option<Option<Raw<'a>>>,
}

impl<'de: 'a, 'a> Deserialize<'de> for Outputs<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Field::deserialize(d).map(|raw| Outputs { raw, usage: None })
    }
}

impl<'a> Fast<'a> for Outputs<'a> {
    fn fast(r: &mut Reader<'a>) -> Option<Self> {
        let (raw, usage) = r.raw_member("usage")?;
        Some(Outputs {
            raw: Field(Some(raw)),
            usage,
        })
    }
}

#[cfg(any(test, fuzzing))]
impl dump::Dump for Outputs<'_> {
    fn dump(&self, out: &mut String) {
        self.raw.dump(out);
    }
}

/// `bare_type` never comes from the input.
fn never(_: IgnoredAny) -> Option<String> {
    None
}

/// An object, or null (a derived reader would also accept an array).
struct ObjOpt<T>(Option<T>);

impl<T> ObjOpt<T> {
    fn take(self) -> Option<T> {
        self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjOpt<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        object_only(d).map(ObjOpt)
    }
}

/// A list of objects, or null.
struct ObjVec<T>(Option<Vec<T>>);

/// What a list's element is guessed to take of the input at the least, for
/// the room reserved before reading it: a node execution with its inputs,
/// outputs and metadata is kilobytes.
const ELEMENT_BYTES: usize = 2048;

impl<T> ObjVec<T> {
    fn take(self) -> Option<Vec<T>> {
        self.0
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjVec<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        objects_only(d).map(ObjVec)
    }
}

/// The `end_users` sibling: end users by id, in input order. A task holds
/// few; a lookup scans from the end, so a repeated id gives its last value,
/// as a Python dict does. (A list, not a hash map: each hash map instance is
/// kilobytes of WebAssembly.)
#[derive(Default)]
pub struct EndUserMap<'a>(pub Vec<(Text<'a>, EndUser<'a>)>);

impl<'a> EndUserMap<'a> {
    /// The end user with this id.
    pub fn get(&self, id: &Text) -> Option<&EndUser<'a>> {
        self.0.iter().rev().find(|(k, _)| k == id).map(|(_, v)| v)
    }
}

/// `{end_user_id: {session_id}}`, or null.
struct EndUsers<'a>(Option<EndUserMap<'a>>);

impl<'a> EndUsers<'a> {
    fn take(self) -> Option<EndUserMap<'a>> {
        self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for EndUsers<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        end_users_map(d).map(EndUsers)
    }
}

/// Reads a value that must be a JSON object (derived struct readers would
/// also accept an array, field by position).
struct ObjectOnly<T>(T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for ObjectOnly<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = T;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, m: M) -> Result<T, M::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
            .map(ObjectOnly)
    }
}

fn object_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Option::<ObjectOnly<T>>::deserialize(d).map(|o| o.map(|x| x.0))
}

fn objects_only<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Vec<T>>, D::Error> {
    Option::<Vec<ObjectOnly<T>>>::deserialize(d)
        .map(|o| o.map(|v| v.into_iter().map(|x| x.0).collect()))
}

#[allow(clippy::type_complexity)]
fn end_users_map<'de: 'a, 'a, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<EndUserMap<'a>>, D::Error> {
    Option::<UserMap<'a>>::deserialize(d).map(|o| o.map(|m| m.0))
}

/// The end-user map read straight into its final type: the same calls,
/// expectations and duplicate handling (the last value wins) as serde's
/// `HashMap` reader, whose values here must be objects.
struct UserMap<'a>(EndUserMap<'a>);

impl<'de: 'a, 'a> Deserialize<'de> for UserMap<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = UserMap<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a map")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = m.next_entry::<Text<'a>, ObjectOnly<EndUser<'a>>>()? {
                    out.push((k, v.0));
                }
                Ok(UserMap(EndUserMap(out)))
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// An object field that may also arrive as a JSON string holding the object
/// (Dify's DB-row columns).
#[derive(Default)]
pub enum Embedded<'a, T> {
    /// Absent.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// An object.
    Value(T),
    /// A JSON string column, decoded later.
    Text(Cow<'a, str>),
    /// Any other JSON kind.
    Other,
}

impl<'de: 'a, 'a, T: Deserialize<'de>> Deserialize<'de> for Embedded<'a, T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a, T>(std::marker::PhantomData<(&'a (), T)>);
        impl<'de: 'a, 'a, T: Deserialize<'de>> Visitor<'de> for V<'a, T> {
            type Value = Embedded<'a, T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object, a JSON string or null")
            }
            fn visit_map<M: MapAccess<'de>>(self, m: M) -> Result<Self::Value, M::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(Embedded::Value)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded::Null)
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Embedded::Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Embedded::Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Embedded::Text(Cow::Owned(v)))
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
                Ok(Embedded::Other)
            }
            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
                Ok(Embedded::Other)
            }
            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
                Ok(Embedded::Other)
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
                Ok(Embedded::Other)
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, mut s: S) -> Result<Self::Value, S::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Embedded::Other)
            }
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// The keys of `process_data` the mapping reads, and whether it has any key
/// (Python's truthiness of the dict).
#[derive(Default)]
#[allow(missing_docs)]
pub struct ProcessData<'a> {
    pub has_keys: bool,
    pub model_mode: Option<Json<'a>>,
    pub prompts: Option<Json<'a>>,
    pub usage: Option<Json<'a>>,
    pub model_provider: Option<Json<'a>>,
    pub model_name: Option<Json<'a>>,
}

impl<'a> ProcessData<'a> {
    /// The field of a key the mapping reads (both readers fill it).
    fn slot(&mut self, key: &str) -> Option<&mut Option<Json<'a>>> {
        Some(match key {
            "model_mode" => &mut self.model_mode,
            "prompts" => &mut self.prompts,
            "usage" => &mut self.usage,
            "model_provider" => &mut self.model_provider,
            "model_name" => &mut self.model_name,
            _ => return None,
        })
    }

    /// Converts into owned values.
    pub fn into_owned(self) -> ProcessData<'static> {
        ProcessData {
            has_keys: self.has_keys,
            model_mode: self.model_mode.map(Json::into_owned),
            prompts: self.prompts.map(Json::into_owned),
            usage: self.usage.map(Json::into_owned),
            model_provider: self.model_provider.map(Json::into_owned),
            model_name: self.model_name.map(Json::into_owned),
        }
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for ProcessData<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = ProcessData<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut m: M) -> Result<Self::Value, M::Error> {
                let mut p = ProcessData::default();
                while let Some(k) = m.next_key::<Text<'a>>()? {
                    p.has_keys = true;
                    match p.slot(k.as_str()) {
                        Some(s) => *s = Some(Json::from(m.next_value::<&'a RawValue>()?)),
                        None => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(p)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}

/// Dify's trace-info class names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TraceType {
    /// `WorkflowTraceInfo`
    Workflow,
    /// `MessageTraceInfo`
    Message,
    /// `ModerationTraceInfo`
    Moderation,
    /// `SuggestedQuestionTraceInfo`
    SuggestedQuestion,
    /// `DatasetRetrievalTraceInfo`
    DatasetRetrieval,
    /// `ToolTraceInfo`
    Tool,
    /// `GenerateNameTraceInfo`
    GenerateName,
}

impl TraceType {
    /// Maps a class name to a type Opik handles.
    pub fn from_class(name: &str) -> Option<TraceType> {
        Some(match name {
            "WorkflowTraceInfo" => TraceType::Workflow,
            "MessageTraceInfo" => TraceType::Message,
            "ModerationTraceInfo" => TraceType::Moderation,
            "SuggestedQuestionTraceInfo" => TraceType::SuggestedQuestion,
            "DatasetRetrievalTraceInfo" => TraceType::DatasetRetrieval,
            "ToolTraceInfo" => TraceType::Tool,
            "GenerateNameTraceInfo" => TraceType::GenerateName,
            _ => return None,
        })
    }
}

/// Dify types that exist but that Dify's Opik integration ignores.
pub const IGNORED_TYPES: &[&str] = &[
    "PromptGenerationTraceInfo",
    "WorkflowNodeTraceInfo",
    "DraftNodeExecutionTrace",
    "dict",
];

/// Cuts quoted input values out of a serde message, so that no input text
/// (which may hold a secret) reaches an error.
pub fn sanitize_serde_message(msg: &str) -> String {
    for lead in ["invalid type: ", "invalid value: ", "invalid length "] {
        if let Some(rest) = msg.strip_prefix(lead) {
            if let Some(i) = rest.find(", expected") {
                let what = rest[..i].split([' ', '`']).next().unwrap_or("value");
                return format!("{lead}{what}{}", &rest[i..]);
            }
        }
    }
    if msg.starts_with("unknown variant") {
        if let Some(i) = msg.find(", expected") {
            return format!("unknown variant{}", &msg[i..]);
        }
    }
    msg.to_owned()
}

/// Converts a serde_json error at `path` into a structured error.
pub fn json_error(e: &serde_json::Error, path: String) -> Error {
    use serde_json::error::Category;
    let msg = e.to_string();
    let code = match e.classify() {
        _ if msg.starts_with("recursion limit exceeded") => ErrorCode::TooDeep,
        Category::Data if msg.starts_with("missing field") => ErrorCode::MissingField,
        Category::Data => ErrorCode::InvalidType,
        Category::Syntax | Category::Eof | Category::Io => ErrorCode::InvalidJson,
    };
    Error::new(code, path, sanitize_serde_message(&msg))
}

struct Frame {
    obj: bool,
    index: usize,
    key: Option<(usize, usize)>,
    in_value: bool,
}

/// The JSON pointer of the value at a serde_json error position (1-based
/// line, column as serde_json reports them), found by rescanning the text up
/// to that point. Only runs when there is an error.
pub fn pointer_at(text: &str, line: usize, column: usize) -> String {
    let b = text.as_bytes();
    let mut start = 0usize;
    for _ in 1..line {
        match b[start..].iter().position(|&c| c == b'\n') {
            Some(i) => start += i + 1,
            None => break,
        }
    }
    let offset = (start + column.saturating_sub(1)).min(b.len().saturating_sub(1));
    pointer_at_offset(text, offset)
}

/// The JSON pointer of the value that contains byte `offset` of `text`: the
/// containers open at that byte, with their keys and indices (a key or value
/// starting exactly there is not included).
pub fn pointer_at_offset(text: &str, offset: usize) -> String {
    let b = text.as_bytes();
    let mut frames: Vec<Frame> = Vec::new();
    let mut i = 0usize;
    while i <= offset && i < b.len() {
        match b[i] {
            b'"' => {
                let end = crate::scan::string_end(b, i);
                let is_key = frames.last().is_some_and(|f| f.obj && !f.in_value);
                if end > offset + 1 {
                    break;
                }
                if is_key {
                    if let Some(f) = frames.last_mut() {
                        f.key = Some((i, end));
                    }
                }
                i = end;
                continue;
            }
            b'{' | b'[' => frames.push(Frame {
                obj: b[i] == b'{',
                index: 0,
                key: None,
                in_value: b[i] == b'[',
            }),
            // A closing bracket at the error position is what the parser
            // choked on: the error is still inside that container.
            b'}' | b']' if i < offset => {
                frames.pop();
            }
            b':' => {
                if let Some(f) = frames.last_mut() {
                    f.in_value = true;
                }
            }
            b',' => {
                if let Some(f) = frames.last_mut() {
                    if f.obj {
                        f.in_value = false;
                        f.key = None;
                    } else {
                        f.index += 1;
                    }
                }
            }
            _ => {}
        }
        i += 1;
    }
    let mut p = String::new();
    for f in &frames {
        match (f.obj, f.key) {
            (true, Some((s, e))) if f.in_value => {
                p.push('/');
                p.push_str(&pointer_token(&crate::json::string_text(&text[s..e])));
            }
            (true, _) => break,
            (false, _) => {
                p.push('/');
                p.push_str(&f.index.to_string());
            }
        }
    }
    p
}

/// Parses `text` as `T`, giving a JSON pointer to the failing value.
pub fn parse_at<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, Error> {
    serde_json::from_str(text).map_err(|e| json_error(&e, pointer_at(text, e.line(), e.column())))
}

/// The tasks of one input text.
pub struct Tasks<'a> {
    /// Whether the input was a batch (array or JSON lines): paths get `/n`.
    pub batch: bool,
    /// Each task, or the error that stopped it from being read.
    pub items: Vec<Result<Envelope<'a>, Error>>,
}

/// Splits and parses an input text: one envelope, a JSON array of envelopes,
/// or JSON lines. A bare trace_info is read as such when `bare_type` names its
/// type and the object has neither `trace_info` nor `trace_info_type`.
pub fn parse_tasks<'a>(
    text: &'a str,
    bare_type: Option<&str>,
    max_bytes: usize,
) -> Result<Tasks<'a>, Error> {
    if text.len() > max_bytes {
        return Err(Error::new(
            ErrorCode::TooLarge,
            "",
            format!(
                "input is {} bytes; the limit is {max_bytes} bytes",
                text.len()
            ),
        ));
    }
    let t = text.trim_start();
    match t.as_bytes().first() {
        None => Err(Error::new(ErrorCode::InvalidJson, "", "empty input")),
        Some(b'[') => {
            let raws: Vec<&'a RawValue> = parse_at(text)?;
            let items = raws
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    parse_envelope(r.get(), bare_type).map_err(|e| e.under(&format!("/{i}")))
                })
                .collect();
            Ok(Tasks { batch: true, items })
        }
        Some(b'{') => {
            let single = parse_envelope(text, bare_type);
            if single.is_ok() {
                return Ok(Tasks {
                    batch: false,
                    items: vec![single],
                });
            }
            // Either a bad single envelope, or several values (JSON lines).
            let mut raws = Vec::new();
            let mut broken = false;
            for r in serde_json::Deserializer::from_str(text).into_iter::<&'a RawValue>() {
                match r {
                    Ok(r) => raws.push(r),
                    Err(_) => {
                        broken = true;
                        break;
                    }
                }
            }
            let many = |parts: Vec<&'a str>| Tasks {
                batch: true,
                items: parts
                    .into_iter()
                    .enumerate()
                    .map(|(i, p)| {
                        parse_envelope(p, bare_type).map_err(|e| e.under(&format!("/{i}")))
                    })
                    .collect(),
            };
            if !broken && raws.len() > 1 {
                return Ok(many(raws.iter().map(|r| r.get()).collect()));
            }
            if broken && !raws.is_empty() {
                // JSON lines with a damaged line: every line is its own task.
                let lines: Vec<&'a str> = split_lines(text)
                    .into_iter()
                    .filter(|l| !l.trim().is_empty())
                    .collect();
                if lines.len() > 1 && lines.iter().all(|l| l.trim_start().starts_with('{')) {
                    return Ok(many(lines));
                }
            }
            Ok(Tasks {
                batch: false,
                items: vec![single],
            })
        }
        Some(_) => {
            // Report what serde says (a syntax error), or a type error for other JSON.
            match serde_json::from_str::<IgnoredAny>(text) {
                Err(e) => Err(json_error(&e, String::new())),
                Ok(_) => Err(Error::new(
                    ErrorCode::InvalidType,
                    "",
                    "expected a trace-task object, an array of them, or JSON lines",
                )),
            }
        }
    }
}

/// Parses one envelope (or a bare trace_info when `bare_type` is given).
pub fn parse_envelope<'a>(text: &'a str, bare_type: Option<&str>) -> Result<Envelope<'a>, Error> {
    if !raw_kind_is_object(text) {
        return Err(Error::new(
            ErrorCode::InvalidType,
            "",
            "expected a trace-task object",
        ));
    }
    if let Some(ty) = bare_type {
        if let Some(bare) = parse_bare(text, ty)? {
            return Ok(bare);
        }
    }
    // The fast path, when it can read the text; else serde_json, whose
    // errors the caller gets.
    #[cfg(test)]
    let fast = !SERDE_ONLY.with(std::cell::Cell::get);
    #[cfg(not(test))]
    let fast = true;
    if let Some((mut env, clean)) = fast
        .then(|| Reader::read_all(text, Envelope::fast))
        .flatten()
    {
        env.clean = clean;
        return Ok(env);
    }
    parse_envelope_serde(text)
}

/// A bare trace_info of type `ty`: the object, when it has neither
/// `trace_info` nor `trace_info_type` (else `None`: it is an envelope).
#[inline(never)]
fn parse_bare<'a>(text: &'a str, ty: &str) -> Result<Option<Envelope<'a>>, Error> {
    #[derive(Deserialize)]
    struct Probe<'b> {
        #[serde(borrow, default)]
        trace_info: Field<'b>,
        #[serde(borrow, default)]
        trace_info_type: Field<'b>,
    }
    let probe: Probe = parse_at(text)?;
    if probe.trace_info.present().is_some() || probe.trace_info_type.present().is_some() {
        return Ok(None);
    }
    let info: TraceInfo<'a> = parse_at(text)?;
    Ok(Some(Envelope {
        trace_info: Some(info),
        bare_type: Some(ty.to_owned()),
        ..Default::default()
    }))
}

/// serde_json's reading of an envelope: for what the fast path leaves to it.
/// Out of line, so that a first call that does not need it does not compile
/// it.
#[inline(never)]
fn parse_envelope_serde(text: &str) -> Result<Envelope<'_>, Error> {
    parse_at::<ObjectOnly<Envelope>>(text).map(|e| e.0)
}

/// `str::lines` without its iterator machinery: splits at `\n`, drops a `\r`
/// before it, and has no empty last line after a final `\n`.
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.as_bytes().iter().position(|&b| b == b'\n') {
            Some(i) => {
                let line = rest.get(..i).unwrap_or_default();
                out.push(line.strip_suffix('\r').unwrap_or(line));
                rest = rest.get(i + 1..).unwrap_or_default();
            }
            None => {
                out.push(rest);
                rest = "";
            }
        }
    }
    out
}

fn raw_kind_is_object(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

#[cfg(test)]
thread_local! {
    /// Makes [`parse_envelope`] skip its fast path (tests compare the two).
    static SERDE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(any(test, fuzzing))]
mod dump;

/// Reads `text` as one envelope with the fast path and with serde_json
/// alone, and panics when the fast path accepts what serde_json rejects or
/// reads it differently. For the fuzz targets (built with `cfg(fuzzing)`).
#[cfg(any(test, fuzzing))]
#[doc(hidden)]
pub fn check_fast_path(text: &str) {
    dump::agree(text);
}

#[cfg(test)]
mod fast_tests;

#[cfg(test)]
mod tests {
    use super::*;

    fn ptr(text: &str) -> String {
        let e = serde_json::from_str::<serde_json::Value>(text)
            .err()
            .or_else(|| {
                parse_at::<Envelope>(text)
                    .err()
                    .map(|_| serde_json::from_str::<u8>("x").unwrap_err())
            })
            .unwrap();
        pointer_at(text, e.line(), e.column())
    }

    /// The list of node executions is reserved at its first element, in
    /// proportion to what is left of the envelope: an empty list takes no
    /// room however large the rest, and a long one is not grown element by
    /// element.
    #[test]
    fn node_execution_lists_are_reserved_from_their_first_element() {
        let pad = "x".repeat(1 << 20);
        let info =
            format!(r#""trace_info_type":"WorkflowTraceInfo","trace_info":{{"pad":"{pad}"}}"#);
        let empty = format!(r#"{{"node_executions":[],{info}}}"#);
        let env = parse_envelope(&empty, None).unwrap();
        assert_eq!(env.node_executions.as_ref().map(Vec::capacity), Some(0));
        let one = r#"{"id":"a","node_type":"start"}"#;
        let three = format!(r#"{{"node_executions":[{one},{one},{one}],{info}}}"#);
        let env = parse_envelope(&three, None).unwrap();
        let list = env.node_executions.as_ref().unwrap();
        assert_eq!(list.len(), 3);
        assert!(
            list.capacity() >= (1 << 20) / ELEMENT_BYTES,
            "{}",
            list.capacity()
        );
    }

    #[test]
    fn split_lines_is_str_lines() {
        for t in [
            "",
            "\n",
            "a",
            "a\n",
            "a\n\n",
            "a\r\nb\r",
            "\r\n\r\n",
            "a\rb\n",
            "é\n\u{2028}x",
        ] {
            assert_eq!(split_lines(t), t.lines().collect::<Vec<_>>(), "{t:?}");
        }
    }

    #[test]
    fn duplicate_keys_keep_the_last_value_like_python() {
        let e: Envelope = parse_at(r#"{"trace_info": null, "app_id": "a", "trace_info": {"message_id": "m"}, "app_id": "b"}"#).unwrap();
        assert!(e.trace_info.is_some());
        assert_eq!(e.app_id.present().map(|r| r.get()), Some("\"b\""));
    }

    #[test]
    fn pointers_of_syntax_errors() {
        assert_eq!(ptr("{not json"), "");
        assert_eq!(ptr("{\"a\": [1, 2, {\"b\": tru}]}"), "/a/2/b");
        assert_eq!(ptr("{\"a\": {\"x/y\": [1,]}}"), "/a/x~1y/1");
        assert_eq!(ptr("{\"a\": 1} x"), "");
    }

    #[test]
    fn pointers_of_type_errors() {
        let e = parse_at::<Envelope>(r#"{"node_executions": [{"id": "a"}, ["x"]]}"#)
            .err()
            .unwrap();
        assert_eq!(
            (e.code, e.path.as_str()),
            (ErrorCode::InvalidType, "/node_executions/1")
        );
        let e = parse_at::<Envelope>("{\"trace_info\":\n  {\"metadata\": [1]}}")
            .err()
            .unwrap();
        assert_eq!(
            (e.code, e.path.as_str()),
            (ErrorCode::InvalidType, "/trace_info/metadata")
        );
        let e = parse_at::<Envelope>(r#"{"end_users": {"u\"1": 5}}"#)
            .err()
            .unwrap();
        assert_eq!(e.path, "/end_users/u\"1");
        let e = parse_at::<Envelope>(r#"{"trace_info": {"message_data": "x"}}"#)
            .err()
            .unwrap();
        assert_eq!(e.path, "/trace_info/message_data");
    }

    #[test]
    fn key_tables_find_each_raw_key_and_nothing_else() {
        fn check(keys: &[&str], table: &KeyTable) {
            let expect = |probe: &str| keys.iter().position(|k| *k == probe);
            for (i, k) in keys.iter().enumerate() {
                assert_eq!(table.find(keys, k), Some(i), "{k}");
                // The key with one byte changed, cut short or grown: another
                // key at most.
                let mut probes = vec![format!("{k}_"), String::new()];
                for at in 0..k.len() {
                    let mut v = k.as_bytes().to_vec();
                    v[at] ^= 0x20;
                    probes.push(String::from_utf8(v).unwrap());
                    probes.push(k[..at].to_owned());
                }
                for p in probes {
                    assert_eq!(table.find(keys, &p), expect(&p), "{p}");
                }
            }
        }
        check(Envelope::RAW_KEYS, &Envelope::RAW_TABLE);
        check(EndUser::RAW_KEYS, &EndUser::RAW_TABLE);
        check(TraceInfo::RAW_KEYS, &TraceInfo::RAW_TABLE);
        check(MessageData::RAW_KEYS, &MessageData::RAW_TABLE);
        check(NodeExecution::RAW_KEYS, &NodeExecution::RAW_TABLE);
        // A table with a long probe chain: keys of one length and ends.
        let keys: Vec<String> = (0..40).map(|i| format!("k{:02}k", i)).collect();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let table = KeyTable::new(&keys);
        check(&keys, &table);
    }
}
