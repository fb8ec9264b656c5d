//! dify-opik: maps Dify's tracing data (trace tasks) to Opik REST payloads.
//!
//! The core is pure: no clock, no randomness, no I/O. Hosts pass `now` and
//! send the requests themselves. Two profiles: `reference` reproduces Dify's
//! own Opik integration value for value; `linked` (the default) fixes its
//! known flaws. See the README for the mapping tables.
#![deny(missing_docs)]

pub mod error;
pub mod ids;
pub mod input;
pub mod json;
pub(crate) mod linked;
mod map;
pub mod opik;
pub mod options;
pub mod provider;
pub mod redact;
pub mod time;
pub mod usage;

#[cfg(target_arch = "wasm32")]
mod wasm;

pub use error::{Error, ErrorCode, Warning, WarningCode};
pub use map::{map, map_each, BatchResult};
pub use opik::{MapResult, Span, Trace};
pub use options::{options_from_json, IdTime, Options, Profile};

/// The library version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
