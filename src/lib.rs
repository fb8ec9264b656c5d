//! dify-opik: maps Dify's tracing data (trace tasks) to Opik REST payloads.
//!
//! The core is pure: no clock, no randomness, no I/O. Hosts pass `now` and
//! send the requests themselves. Two profiles: `reference` reproduces Dify's
//! own Opik integration value for value; `linked` (the default) fixes its
//! known flaws. See the README for the mapping tables.
#![deny(missing_docs)]

pub mod config;
pub mod decimal;
pub mod error;
pub mod fields;
pub mod ids;
pub mod input;
pub mod json;
pub(crate) mod linked;
mod map;
pub mod opik;
pub mod options;
pub mod provider;
pub mod reader;
pub mod redact;
pub mod requests;
pub mod scan;
mod simd;
mod sort;
pub mod time;
pub mod usage;
pub mod utf16;
pub mod write;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, ErrorCode, Warning, WarningCode};
pub use map::{map, map_each, BatchResult};
pub use opik::{MapResult, Span, Trace};
pub use options::{options_from_json, IdTime, Options, Profile};

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Maps `input` (one envelope, an array, or JSON lines) and returns the
/// result as JSON text: `{"traces":[…],"spans":[…],"warnings":[…]}`. Fails
/// on the first task that cannot be mapped.
pub fn map_json(input: &str, opts: &Options) -> Result<String, Error> {
    write_mapped(input, opts, false)
}

/// Maps every task of `input`, going on past failing tasks; returns
/// `{"traces","spans","warnings","errors"}` as JSON text. Only an input that
/// cannot be split into tasks at all is an error.
pub fn map_each_json(input: &str, opts: &Options) -> Result<String, Error> {
    write_mapped(input, opts, true)
}

/// [`map_json`], or [`map_each_json`] with `each`, with the text handed to
/// `pass` in pieces of about 48 KiB that end on character boundaries
/// ([`write::result_pieces`]) instead of returned whole: the whole text is never
/// in memory at once. Fails, before any piece, as the other two do.
pub fn map_json_pieces(
    input: &str,
    opts: &Options,
    each: bool,
    pass: &mut dyn FnMut(&str),
) -> Result<(), Error> {
    if each {
        map_each(input, opts).map(|b| write::result_pieces(&b.result, Some(&b.errors), pass))
    } else {
        map(input, opts).map(|r| write::result_pieces(&r, None, pass))
    }
}

/// The one writing path of [`map_json`] and [`map_each_json`]: maps `input` (every
/// task it can with `each`) and writes the result.
#[inline(never)]
fn write_mapped(input: &str, opts: &Options, each: bool) -> Result<String, Error> {
    // The output is about the input's size (the passed-through subtrees are
    // most of both), a little more for ids, times and tags.
    let n = input.len();
    let guess = n.saturating_add(n / 8).saturating_add(4096);
    if each {
        map_each(input, opts).map(|b| write::result_text(&b.result, Some(&b.errors), guess))
    } else {
        map(input, opts).map(|r| write::result_text(&r, None, guess))
    }
}
