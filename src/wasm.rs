//! The WebAssembly binding (compiled only for wasm32): a thin layer over the
//! core's JSON entry points, for the npm package in `pkg/`.
//!
//! One error convention: every failure is thrown as a JS `Error` named
//! `DifyOpikError` whose `code`, `path` and `message` are the core's
//! [`Error`](crate::Error) fields. Nothing here panics on any input (a panic
//! would abort the instance), so the instance keeps working after any error.
//!
//! The package's hand-written wrapper uses a byte-buffer path: it writes the
//! input into a reused buffer in wasm memory (as UTF-8 at `inputBuffer`, or
//! as UTF-16 pieces through `stageBuffer` and `stageInput`, converted here),
//! runs `runInput`, and reads the output as it comes (a mapping's output is
//! handed to a JS sink in pieces, ASCII bytes or UTF-16 units, as it is
//! written) or in place at `outputPtr`. This avoids the generic string glue,
//! which copies large strings slowly. The module exports
//! only what the wrapper calls (`runInput` and its buffers,
//! `validateConfigJson`, `version`); the string entry points (`map_json` and
//! the like) are compiled for `tests/wasm.rs` only.
//!
//! Exports carry `#[cfg_attr(not(test), wasm_bindgen)]` so that
//! `tests/wasm.rs` can compile this file as a plain Rust module and call the
//! same functions (with the attribute every name would be exported twice).
//! In the library's own unit-test build nothing here is exported or called.
#![cfg_attr(test, allow(dead_code))]

use std::cell::RefCell;

#[cfg(not(test))]
use wasm_bindgen::prelude::wasm_bindgen;
use wasm_bindgen::JsValue;

use crate::{config, requests, utf16, Error, ErrorCode, Options};

#[cfg(not(test))]
#[wasm_bindgen]
extern "C" {
    /// The host's function that takes the output pieces of `runInput`.
    pub type PieceSink;

    /// Calls the sink with one piece (see `runInput`).
    #[wasm_bindgen(method, catch, js_name = call)]
    fn take(this: &PieceSink, context: &JsValue, at: usize, n: f64) -> Result<(), JsValue>;
}

/// In `tests/wasm.rs`, which compiles this file a second time, the sink is a
/// plain function (the import above would be defined twice).
#[cfg(test)]
pub type PieceSink = js_sys::Function;

/// [`PieceSink`]'s call, for `tests/wasm.rs`.
#[cfg(test)]
trait Take {
    fn take(&self, context: &JsValue, at: usize, n: f64) -> Result<(), JsValue>;
}

#[cfg(test)]
impl Take for js_sys::Function {
    fn take(&self, context: &JsValue, at: usize, n: f64) -> Result<(), JsValue> {
        self.call2(context, &JsValue::from(at), &JsValue::from(n))
            .map(|_| ())
    }
}

/// Converts the core's error into the thrown JS value.
fn js_error(e: &Error) -> js_sys::Error {
    let err = js_sys::Error::new(&e.message);
    err.set_name("DifyOpikError");
    let obj: &JsValue = err.as_ref();
    // `Reflect.set` on a fresh, extensible Error object cannot fail; the
    // result is ignored rather than unwrapped (no panics in the binding).
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str("code"), &e.code.as_str().into());
    let _ = js_sys::Reflect::set(obj, &JsValue::from_str("path"), &e.path.as_str().into());
    err
}

/// The host clock in µs since the epoch (the core never reads a clock).
fn now_micros() -> i64 {
    (js_sys::Date::now() * 1000.0) as i64
}

/// Parses the options JSON (`None`, `""`, `"null"` → defaults) and fills
/// `now` from the host clock when the caller did not give it.
#[inline(never)]
fn options(json: Option<&str>) -> Result<Options, Error> {
    let mut o = crate::options_from_json(json.unwrap_or(""))?;
    if o.now.is_none() {
        o.now = Some(now_micros());
    }
    Ok(o)
}

/// The input as text. Validation uses WebAssembly SIMD (simdutf8): core's
/// validator checks four bytes at a time at best on wasm32 and was a fifth of
/// a call on mixed-script input. Only a failure asks core where it failed.
fn utf8(bytes: &[u8]) -> Result<&str, Error> {
    if let Ok(s) = simdutf8::basic::from_utf8(bytes) {
        return Ok(s);
    }
    std::str::from_utf8(bytes).map_err(|e| {
        Error::new(
            ErrorCode::InvalidJson,
            "",
            format!(
                "input is not valid UTF-8 (first bad byte at offset {})",
                e.valid_up_to()
            ),
        )
    })
}

/// What a call does with its input.
#[derive(Clone, Copy)]
enum Op {
    /// `map_json`: fails on the first task that does not map.
    Map,
    /// `map_each_json`: failing tasks are listed under `errors`.
    Each,
    /// Requests from a mapping result.
    Build,
    /// Map, then build the requests.
    Requests,
}

/// Set in `runInput`'s `op` by a host that makes strings from Latin-1
/// bytes with a plain copy (Node's `Buffer#latin1Slice`): narrow output
/// pieces then come as Latin-1 bytes instead of UTF-16 units.
const OP_LATIN1: u32 = 0x100;

/// Set in `runInput`'s `op` by a host that gathers a mapping's pieces into
/// one buffer: every piece of a call then has one kind, bytes when the
/// output is narrow (with [`OP_LATIN1`]) and UTF-16 units otherwise (ASCII
/// pieces widened too).
const OP_UNIFORM: u32 = 0x200;

/// The pieces' form that the host asked for in `runInput`'s `op`.
#[derive(Clone, Copy)]
struct PieceForm {
    /// Narrow pieces as Latin-1 bytes ([`OP_LATIN1`]).
    latin1: bool,
    /// One kind of piece a call ([`OP_UNIFORM`]).
    uniform: bool,
}

impl Op {
    fn from_u32(n: u32) -> Result<Op, Error> {
        match n & !(OP_LATIN1 | OP_UNIFORM) {
            0 => Ok(Op::Map),
            1 => Ok(Op::Each),
            2 => Ok(Op::Build),
            3 => Ok(Op::Requests),
            _ => Err(Error::new(
                ErrorCode::InvalidOption,
                "",
                "unknown operation",
            )),
        }
    }
}

/// Runs `op` on `input` with up to three JSON arguments: the options for
/// `Map` and `Each`; config and limits for `Build`; options, config and
/// limits for `Requests`. Returns the output text. Out of line: a first
/// mapping, which hands its output over in pieces ([`run_to`]), compiles
/// none of this.
#[inline(never)]
fn run(
    op: Op,
    input: &str,
    a: Option<&str>,
    b: Option<&str>,
    c: Option<&str>,
) -> Result<String, Error> {
    match op {
        Op::Map => crate::map_json(input, &options(a)?),
        Op::Each => crate::map_each_json(input, &options(a)?),
        Op::Build => requests::build_json(input, a.unwrap_or(""), b.unwrap_or("")),
        Op::Requests => requests_from_input(input, a, b.unwrap_or(""), c.unwrap_or("")),
    }
}

/// Maps `input`, then builds its requests, as the CLI's `requests` command
/// does; the warnings of both steps are merged.
fn requests_from_input(
    input: &str,
    options_json: Option<&str>,
    config_json: &str,
    limits_json: &str,
) -> Result<String, Error> {
    let cfg = config::config_from_json(config_json)?;
    let limits = requests::limits_from_json(limits_json)?;
    let opts = options(options_json)?;
    let result = crate::map(input, &opts)?;
    let built = requests::build(&result, &cfg, &limits);
    let mut warnings = result.warnings;
    warnings.extend(built.warnings);
    let out = requests::Built {
        requests: built.requests,
        warnings,
    };
    Ok(crate::write::to_string(&out))
}

// The string entry points below are compiled for `tests/wasm.rs` only: the
// package's wrapper reaches every operation through `runInput`, so the module
// does not export them (each export costs its glue in the .wasm and the JS).

/// Maps Dify trace tasks (one envelope, an array, or JSON lines) to
/// `{"traces","spans","warnings"}` JSON text. Throws on the first task that
/// cannot be mapped.
#[cfg(test)]
pub fn map_json(input: &str, options_json: Option<String>) -> Result<String, js_sys::Error> {
    run(Op::Map, input, options_json.as_deref(), None, None).map_err(|e| js_error(&e))
}

/// Like [`map_json`], but maps every task it can and lists the failing ones
/// under `errors`; throws only when the input cannot be split into tasks.
#[cfg(test)]
pub fn map_each_json(input: &str, options_json: Option<String>) -> Result<String, js_sys::Error> {
    run(Op::Each, input, options_json.as_deref(), None, None).map_err(|e| js_error(&e))
}

/// [`map_json`] on UTF-8 bytes, returning UTF-8 bytes.
#[cfg(test)]
pub fn map_bytes(input: &[u8], options_json: Option<String>) -> Result<Vec<u8>, js_sys::Error> {
    utf8(input)
        .and_then(|text| run(Op::Map, text, options_json.as_deref(), None, None))
        .map(String::into_bytes)
        .map_err(|e| js_error(&e))
}

/// Validates an Opik configuration and returns the report as JSON text
/// (`{ok, target, url, workspace, project, has_api_key, problems}`); never
/// throws.
#[cfg_attr(not(test), wasm_bindgen(js_name = validateConfigJson))]
pub fn validate_config_json(config_json: &str) -> String {
    config::validate_json(config_json)
}

/// Builds the batch requests for a mapping result (JSON text), a
/// configuration and optional limits; returns `{"requests","warnings"}`.
#[cfg(test)]
pub fn build_requests_json(
    result_json: &str,
    config_json: &str,
    limits_json: Option<String>,
) -> Result<String, js_sys::Error> {
    let limits = limits_json.as_deref();
    run(Op::Build, result_json, Some(config_json), limits, None).map_err(|e| js_error(&e))
}

/// Maps Dify input and builds its requests in one call; the warnings of both
/// steps are merged. Returns `{"requests","warnings"}`.
#[cfg(test)]
pub fn requests_from_input_json(
    input: &str,
    options_json: Option<String>,
    config_json: &str,
    limits_json: Option<String>,
) -> Result<String, js_sys::Error> {
    run(
        Op::Requests,
        input,
        options_json.as_deref(),
        Some(config_json),
        limits_json.as_deref(),
    )
    .map_err(|e| js_error(&e))
}

/// The library version.
#[cfg_attr(not(test), wasm_bindgen)]
pub fn version() -> String {
    crate::VERSION.to_owned()
}

// ---------------------------------------------------------------------------
// The byte-buffer path of the package's hand-written wrapper.

/// An input buffer larger than this is freed after the call.
const KEEP_INPUT_BYTES: usize = 16 * 1024 * 1024;

/// A value kept from call to call. The module runs on one thread (wasm32
/// without shared memory), so a `RefCell` in a plain static will do; a
/// `thread_local!` would add its access checks and their error messages.
struct Kept<T>(RefCell<T>);

// SAFETY: wasm32-unknown-unknown without the `atomics` feature has exactly
// one thread, so the cell is never reached from two threads (a build with
// threads stops below).
unsafe impl<T> Sync for Kept<T> {}

#[cfg(target_feature = "atomics")]
compile_error!("the binding keeps its buffers in plain statics: it assumes one thread");

impl<T> Kept<T> {
    fn with_borrow<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.0.borrow())
    }
    fn with_borrow_mut<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
    fn set(&self, value: T) {
        *self.0.borrow_mut() = value;
    }
}

/// The reused input buffer; its length is its usable size.
static INPUT: Kept<Vec<u8>> = Kept(RefCell::new(Vec::new()));
/// The output of the last `runInput` call.
static OUTPUT: Kept<String> = Kept(RefCell::new(String::new()));
/// The UTF-16 form of the output piece a sink is being handed (at most one
/// piece: kept from call to call).
static OUTPUT16: Kept<Vec<u16>> = Kept(RefCell::new(Vec::new()));
/// The staging buffer of `stageInput`: UTF-16 units on their way into the
/// input buffer.
static STAGE: Kept<Vec<u16>> = Kept(RefCell::new(Vec::new()));
/// How many bytes at the start of the input buffer `stageInput` wrote (as
/// UTF-8 it made itself) since the host last got the buffer's address to
/// write into: `runInput` on exactly those bytes needs no UTF-8 check.
static STAGED: Kept<usize> = Kept(RefCell::new(0));

/// Makes the input buffer at least `len` bytes long, keeping its first bytes,
/// and returns its address in wasm memory, or 0 when memory cannot grow that
/// far. The address and the memory buffer may change with every call.
#[cfg_attr(not(test), wasm_bindgen(js_name = inputBuffer))]
pub fn input_buffer(len: usize) -> usize {
    // The host may write anywhere in the buffer now.
    STAGED.set(0);
    INPUT.with_borrow_mut(|buf| at_least(buf, len))
}

/// Makes `v` at least `len` long (zeros added), and returns its address, or
/// 0 when memory cannot grow that far.
fn at_least<T: Copy + Default>(v: &mut Vec<T>, len: usize) -> usize {
    if v.len() < len {
        if v.try_reserve_exact(len - v.len()).is_err() {
            return 0;
        }
        v.resize(len, T::default());
    }
    v.as_mut_ptr() as usize
}

/// Makes the staging buffer at least `units` UTF-16 units long and returns
/// its address, or 0 when memory cannot grow that far. The host writes a
/// piece of its input there as UTF-16 and calls `stageInput`.
#[cfg_attr(not(test), wasm_bindgen(js_name = stageBuffer))]
pub fn stage_buffer(units: usize) -> usize {
    STAGE.with_borrow_mut(|s| at_least(s, units))
}

/// Converts the first `units` units of the staging buffer to UTF-8 and
/// writes them into the input buffer at byte `at`, growing it when needed;
/// returns the input's length in bytes after them, or 0 when `units` exceeds
/// the staging buffer or memory cannot grow. A host sends a long input piece
/// by piece, each piece starting where the last ended; a piece must not end
/// between the two units of a surrogate pair (a lone surrogate becomes
/// U+FFFD, as with `TextEncoder`).
#[cfg_attr(not(test), wasm_bindgen(js_name = stageInput))]
pub fn stage_input(at: usize, units: usize) -> usize {
    let end = stage_utf8(at, units);
    // The staged prefix goes on when this piece continues it or starts the
    // input again; a piece anywhere else (after bytes the host wrote, or
    // inside a character) leaves it unknown.
    let staged = STAGED.with_borrow(|&n| n);
    STAGED.set(if end > 0 && (at == staged || at == 0) {
        end
    } else {
        0
    });
    end
}

/// [`stage_input`]'s conversion.
fn stage_utf8(at: usize, units: usize) -> usize {
    STAGE.with_borrow(|s| {
        INPUT.with_borrow_mut(|buf| {
            let Some(src) = s.get(..units) else {
                return 0;
            };
            let (mut read, mut end) = (0, at);
            // Twice at most: the buffer grows once, to hold the worst case.
            loop {
                let rest = src.get(read..).unwrap_or_default();
                let (r, w) = utf16::encode_utf8(rest, buf.get_mut(end..).unwrap_or_default());
                read += r;
                end += w;
                if read == units {
                    return end;
                }
                let Some(need) = (units - read)
                    .checked_mul(utf16::MAX_BYTES_PER_UNIT)
                    .and_then(|n| n.checked_add(end))
                else {
                    return 0;
                };
                // A long input arrives in many pieces: room for a quarter
                // more keeps the copies of a growing buffer linear in all
                // (doubling would leave up to the input's size unused). All
                // of it is made usable: the next pieces write into the
                // buffer's length, and reserving from a length that grows
                // by a piece at a time would move the buffer at every piece.
                let target = need.saturating_add(need / 4);
                if buf
                    .try_reserve_exact(target.saturating_sub(buf.len()))
                    .is_err()
                {
                    return 0;
                }
                buf.resize(target, 0);
            }
        })
    })
}

/// Runs operation `op` on the first `len` bytes of the input buffer.
/// `op`: 0 map and 1 map each (`a` = options); 2 requests from a mapping
/// result (`a` = config, `b` = limits); 3 map and build requests (`a` =
/// options, `b` = config, `c` = limits).
///
/// With `sink`, a mapping's output (ops 0 and 1) goes to it in pieces as it
/// is written, and is never whole in wasm memory: `sink(at, n)` for each,
/// which must copy the piece out before it returns. `n > 0`: `n` ASCII (or
/// Latin-1, see below) bytes at `at`; `n < 0`: `-n` UTF-16 units at `at`.
/// When few characters of the input are above U+00FF, the output writes
/// each of them as a `\u` escape, so that every unit fits Latin-1 (see
/// [`narrow_output`]); with `OP_LATIN1` (0x100) set in `op`, such pieces
/// come as `n > 0` Latin-1 bytes instead of UTF-16 units. With `OP_UNIFORM`
/// (0x200) too, every piece of a call has the same kind: bytes when narrow,
/// else UTF-16 units. Returns the output's length in UTF-8 bytes, before
/// any escape.
/// Otherwise the output is kept at `outputPtr()`, and its length in bytes is
/// returned.
#[cfg_attr(not(test), wasm_bindgen(js_name = runInput))]
pub fn run_input(
    op: u32,
    len: usize,
    a: Option<String>,
    b: Option<String>,
    c: Option<String>,
    sink: Option<PieceSink>,
) -> Result<usize, js_sys::Error> {
    release_output();
    let result = INPUT.with_borrow_mut(|buf| {
        let out = buf
            .get(..len)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidOption,
                    "",
                    "the length exceeds the input buffer",
                )
            })
            .and_then(|bytes| {
                if len == STAGED.with_borrow(|&n| n) {
                    // SAFETY: `stageInput` wrote these bytes, all of them,
                    // from `utf16::encode_utf8`, which writes whole UTF-8
                    // characters only; the host has not had the buffer's
                    // address since (`inputBuffer` resets `STAGED`).
                    Ok(unsafe { std::str::from_utf8_unchecked(bytes) })
                } else {
                    utf8(bytes)
                }
            })
            .and_then(|text| {
                let op_bits = op;
                let op = Op::from_u32(op)?;
                let (a, b, c) = (a.as_deref(), b.as_deref(), c.as_deref());
                match (&sink, op) {
                    (Some(sink), Op::Map | Op::Each) => {
                        let form = PieceForm {
                            latin1: op_bits & OP_LATIN1 != 0,
                            uniform: op_bits & OP_UNIFORM != 0,
                        };
                        run_to(sink, op, form, text, a).map(|n| (n, None))
                    }
                    _ => run(op, text, a, b, c).map(|s| (s.len(), Some(s))),
                }
            });
        if buf.len() > KEEP_INPUT_BYTES {
            *buf = Vec::new();
        }
        out
    });
    match result {
        Ok((n, whole)) => {
            if let Some(s) = whole {
                OUTPUT.set(s);
            }
            Ok(n)
        }
        Err(e) => Err(js_error(&e)),
    }
}

/// A mapping (`Map` or `Each`), its output handed to `sink` piece by piece
/// as it is serialised (see [`run_input`]). Returns the output's length in
/// bytes.
fn run_to(
    sink: &PieceSink,
    op: Op,
    form: PieceForm,
    input: &str,
    a: Option<&str>,
) -> Result<usize, Error> {
    let (mut total, mut lost) = (0usize, false);
    let narrow = narrow_output(input);
    let mut pass = |s: &str| {
        if lost {
            return;
        }
        total += s.len();
        let (at, n) = if (narrow || !form.uniform) && utf16::is_ascii(s.as_bytes()) {
            (s.as_ptr() as usize, s.len() as f64)
        } else if narrow && form.latin1 {
            match OUTPUT16.with_borrow_mut(|w| latin1_write(s, w)) {
                Some((p, bytes)) => (p as usize, bytes as f64),
                None => {
                    lost = true;
                    return;
                }
            }
        } else {
            match OUTPUT16.with_borrow_mut(|w| utf16_write(s, w, narrow).map(|n| (w.as_ptr(), n))) {
                Some((p, units)) => (p as usize, -(units as f64)),
                None => {
                    lost = true;
                    return;
                }
            }
        };
        lost = sink.take(&JsValue::NULL, at, n).is_err();
    };
    // The UTF-16 buffer is made before the mapping allocates: made among
    // the mapping's objects and kept, it would split the space they leave
    // for the next call, and wasm memory would grow once more. It is emptied
    // first: `try_reserve_exact` counts from the length, and the buffer still
    // holds the last call's last piece (that grew it again at the second call).
    OUTPUT16.with_borrow_mut(|w| {
        w.clear();
        let _ = w.try_reserve_exact(crate::write::PIECE + crate::write::PIECE / 4);
    });
    crate::map_json_pieces(input, &options(a)?, matches!(op, Op::Each), &mut pass)?;
    if lost {
        return Err(Error::new(
            ErrorCode::TooLarge,
            "",
            "output not handed over",
        ));
    }
    Ok(total)
}

/// The address of the last output in wasm memory.
#[cfg_attr(not(test), wasm_bindgen(js_name = outputPtr))]
pub fn output_ptr() -> usize {
    OUTPUT.with_borrow(|o| o.as_ptr() as usize)
}

/// Frees the last output.
#[cfg_attr(not(test), wasm_bindgen(js_name = releaseOutput))]
pub fn release_output() {
    OUTPUT.set(String::new());
}

/// Writes `s` as UTF-16 to the start of `out`, with every character above
/// U+00FF as a `\u` escape when `narrow` (JSON text only: see
/// [`narrow_output`]); the number of units written, or `None` when `out`
/// cannot grow enough. `out` keeps its length from piece to piece (at least
/// the units written), so that its memory is not filled with zeros again
/// for each piece: that was a second pass over as many bytes as the output.
pub(crate) fn utf16_write(s: &str, out: &mut Vec<u16>, narrow: bool) -> Option<usize> {
    // UTF-16 never needs more units than UTF-8 has bytes; escapes need more.
    let n = if narrow {
        utf16::narrow_units(s)
    } else {
        s.len()
    };
    if at_least(out, n) == 0 {
        return None;
    }
    Some(utf16::encode_utf16(s, out.get_mut(..n)?, narrow))
}

/// Writes `s` as narrow Latin-1 bytes (see [`utf16::encode_latin1`]) into
/// the memory of `out` (replacing what it held); their address and number,
/// or `None` when `out` cannot grow enough.
pub(crate) fn latin1_write(s: &str, out: &mut Vec<u16>) -> Option<(*const u8, usize)> {
    // As in `utf16_write`, `out` keeps its length.
    let need = utf16::narrow_units(s).div_ceil(2);
    if at_least(out, need) == 0 {
        return None;
    }
    // SAFETY: the units are plain memory; viewing them as twice as many
    // bytes (alignment 1) stays inside the vector's initialised length.
    let bytes = unsafe { std::slice::from_raw_parts_mut(out.as_mut_ptr().cast::<u8>(), need * 2) };
    let n = utf16::encode_latin1(s, bytes);
    Some((bytes.as_ptr(), n))
}

/// Whether a mapping of `input` writes its output narrow (see
/// [`utf16_write`]): when at most one byte in [`NARROW_BELOW`] of the input
/// starts a character above U+00FF. A JS engine makes a string one byte a
/// character when all of its characters fit Latin-1, and two bytes a
/// character, for all of it, as soon as one does not: a dash in 2 MB of
/// English doubles the result's memory and the time to make it. A handful
/// of escapes keeps it one byte; text in other scripts keeps its
/// characters as they are. Measured on wf-500 with curly quotes added, in
/// one process: at one such character in 150 bytes, narrow text made
/// `mapJson` 5 % and `map` 3 % faster; at one in 70, 2 % and 9 % slower
/// (the escapes are written one character at a time, and parse slower).
pub(crate) fn narrow_output(input: &str) -> bool {
    utf16::wide_chars(input.as_bytes()) <= input.len() / NARROW_BELOW
}

/// See [`narrow_output`].
pub(crate) const NARROW_BELOW: usize = 128;

/// Copies `bytes` to the start of the input buffer (tests; the JS wrapper
/// writes into wasm memory directly).
#[cfg(test)]
pub fn set_input(bytes: &[u8]) {
    input_buffer(bytes.len());
    INPUT.with_borrow_mut(|b| b[..bytes.len()].copy_from_slice(bytes));
}

/// Copies `units` to the start of the staging buffer (tests).
#[cfg(test)]
pub fn set_stage(units: &[u16]) {
    STAGE.with_borrow_mut(|s| s[..units.len()].copy_from_slice(units));
}

/// The capacity of the input buffer, in bytes (tests).
#[cfg(test)]
pub fn input_capacity() -> usize {
    INPUT.with_borrow(Vec::capacity)
}

/// A copy of the first `len` bytes of the input buffer (tests).
#[cfg(test)]
pub fn input_bytes(len: usize) -> Vec<u8> {
    INPUT.with_borrow(|b| b[..len].to_vec())
}

/// The capacity of the UTF-16 piece buffer, in units (tests).
#[cfg(test)]
pub fn output16_capacity() -> usize {
    OUTPUT16.with_borrow(Vec::capacity)
}

/// A copy of the last output (tests read it back through this).
#[cfg(test)]
pub fn output_text() -> String {
    OUTPUT.with_borrow(|o| o.clone())
}
