//! A text form of everything an envelope holds, to compare the fast path's
//! reading of a text with serde_json's (the unit tests and the fuzz
//! targets).

use std::fmt::Write;

use super::*;

/// A text form of everything an envelope holds, for comparing two readings.
pub trait Dump {
    fn dump(&self, out: &mut String);
}

impl Dump for Field<'_> {
    fn dump(&self, out: &mut String) {
        match self.present() {
            Some(r) => r.dump(out),
            None => out.push_str("absent"),
        }
    }
}

impl Dump for Raw<'_> {
    fn dump(&self, out: &mut String) {
        let _ = write!(out, "raw({})", self.get());
    }
}

impl Dump for Json<'_> {
    fn dump(&self, out: &mut String) {
        match self {
            Json::Raw(r) => r.dump(out),
            other => out.push_str(&crate::write::to_string(other)),
        }
    }
}

impl<T: Dump> Dump for Option<T> {
    fn dump(&self, out: &mut String) {
        match self {
            Some(v) => v.dump(out),
            None => out.push_str("none"),
        }
    }
}

impl<T: Dump> Dump for Vec<T> {
    fn dump(&self, out: &mut String) {
        out.push('[');
        for v in self {
            v.dump(out);
            out.push(',');
        }
        out.push(']');
    }
}

impl Dump for String {
    fn dump(&self, out: &mut String) {
        let _ = write!(out, "{self:?}");
    }
}

impl Dump for EndUserMap<'_> {
    fn dump(&self, out: &mut String) {
        for (k, v) in &self.0 {
            let _ = write!(out, "{:?}:", k.as_str());
            v.dump(out);
        }
    }
}

impl Dump for RawObj<'_> {
    fn dump(&self, out: &mut String) {
        for (k, v) in &self.0 {
            let _ = write!(out, "{k:?}:");
            v.dump(out);
            out.push(',');
        }
    }
}

impl Dump for ProcessData<'_> {
    fn dump(&self, out: &mut String) {
        let _ = write!(out, "has_keys={};", self.has_keys);
        for v in [
            &self.model_mode,
            &self.prompts,
            &self.usage,
            &self.model_provider,
            &self.model_name,
        ] {
            v.dump(out);
            out.push(';');
        }
    }
}

impl<T: Dump> Dump for Embedded<'_, T> {
    fn dump(&self, out: &mut String) {
        match self {
            Embedded::Absent => out.push_str("absent"),
            Embedded::Null => out.push_str("null"),
            Embedded::Value(v) => v.dump(out),
            Embedded::Text(t) => {
                let _ = write!(out, "text({t:?})");
            }
            Embedded::Other => out.push_str("other"),
        }
    }
}

fn dump(e: &Envelope) -> String {
    let mut out = String::new();
    e.dump(&mut out);
    out
}

/// The fast path's reading (`None` when it gives up) and serde_json's.
pub(crate) fn both(text: &str) -> (Option<String>, Result<String, Error>) {
    let fast = Reader::read_all(text, Envelope::fast).map(|(e, _)| dump(&e));
    let slow = parse_at::<ObjectOnly<Envelope>>(text).map(|e| dump(&e.0));
    (fast, slow)
}

/// Checks the one rule: an accepted text reads as serde_json reads it.
pub(crate) fn agree(text: &str) -> bool {
    let (fast, slow) = both(text);
    if let Some(f) = &fast {
        match &slow {
            Ok(s) => assert_eq!(f, s, "{text}"),
            Err(e) => panic!("the fast path accepted what serde_json rejects ({e:?}): {text}"),
        }
    }
    fast.is_some()
}
