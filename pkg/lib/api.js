// The package's API over the wasm binding (src/wasm.rs). Shared by the
// Node, browser and worker entries; each entry only decides how the wasm is
// loaded.
//
// Inputs and outputs cross into wasm through reused buffers instead of the
// generated string glue, which copies large strings a character at a time.
// In: Node copies a long string out as UTF-16 (`Buffer#ucs2Write`) for the
// wasm to convert; other hosts use `TextEncoder.encodeInto`. Out: a
// mapping's output comes in pieces as the wasm writes it, ASCII ones read as
// Latin-1 and others converted to UTF-16 in wasm and read as that (`Buffer`
// in Node, `TextDecoder` elsewhere); requests are decoded whole from UTF-8.

import initGlue, {
  initSync as initGlueSync,
  runInput,
  validateConfigJson,
  version as glueVersion,
} from '../dist/dify_opik.js';

export { send } from './send.js';

const OP_MAP = 0;
const OP_EACH = 1;
const OP_BUILD = 2;
const OP_REQUESTS = 3;
/**
 * Set in a mapping's op where `Buffer#latin1Slice` makes strings: output
 * pieces that are narrow (src/wasm.rs `narrow_output`) then come as Latin-1
 * bytes, half the copy of UTF-16. Elsewhere they stay UTF-16, which
 * `TextDecoder` reads exactly (its "latin1" is windows-1252).
 */
const OP_LATIN1 = 0x100;
/** With OP_LATIN1: every piece of a call has one kind (bytes, or UTF-16 units). */
const OP_UNIFORM = 0x200;

/** Outputs above this size are freed in wasm right after decoding. */
const RELEASE_OUTPUT_BYTES = 1 << 20;

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const decoder16 = new TextDecoder('utf-16le', { ignoreBOM: true });

// Node's Buffer makes strings from Latin-1 and UTF-16 bytes with a plain copy,
// several times faster than TextDecoder; elsewhere TextDecoder does it.
const NodeBuffer = globalThis.Buffer;
const nodeSlices =
  typeof NodeBuffer?.from === 'function' &&
  typeof NodeBuffer.prototype.latin1Slice === 'function' &&
  typeof NodeBuffer.prototype.ucs2Slice === 'function';

// Node also copies a string out as UTF-16 with a plain copy (`ucs2Write`),
// which is several times faster than its UTF-8 encoders; the wasm converts.
const nodeWrite = nodeSlices && typeof NodeBuffer.prototype.ucs2Write === 'function';

/** UTF-16 units of the input staged at a time (src/wasm.rs `stageInput`). */
const STAGE_UNITS = 1 << 16;

/**
 * Inputs shorter than this take `encodeInto`: fewer calls for small ones, and
 * a process's first small call (a cold start) does not compile the wasm's
 * converter and build its shuffle tables. Up to this size `encodeInto` costs
 * at most some 15 µs more.
 */
const STAGE_ABOVE = 1 << 14;

/** A string from ASCII bytes (in Node also Latin-1) at [ptr, ptr + n) of memory. */
function asciiString(buffer, ptr, n) {
  if (nodeSlices) return NodeBuffer.from(buffer, ptr, n).latin1Slice(0, n);
  return decoder.decode(new Uint8Array(buffer, ptr, n));
}

/** A string from `n` UTF-16 units at `ptr` of memory. */
function utf16String(buffer, ptr, n) {
  if (nodeSlices) return NodeBuffer.from(buffer, ptr, n * 2).ucs2Slice(0, n * 2);
  return decoder16.decode(new Uint16Array(buffer, ptr, n));
}

/** The wasm instance's exports, once loaded. */
let wasm = null;

/** The error convention of the whole package (the binding throws the same shape). */
function failure(code, message, path = '') {
  const e = new Error(message);
  e.name = 'DifyOpikError';
  e.code = code;
  e.path = path;
  return e;
}

/** Loads the wasm synchronously from its bytes or a `WebAssembly.Module`. */
export function initSync(module) {
  if (!wasm) wasm = initGlueSync({ module });
}

/**
 * Loads the wasm (browsers). Without an argument the `.wasm` next to the glue
 * is fetched; a URL, a `Response`, bytes or a `WebAssembly.Module` also work.
 * Resolves at once when the wasm is already loaded.
 */
export async function init(input) {
  if (!wasm) {
    const exports = await initGlue(input === undefined ? undefined : { module_or_path: input });
    wasm ??= exports;
  }
}

function loaded() {
  if (!wasm) {
    throw failure(
      'not_initialized',
      'dify-opik is not loaded yet: call `await init()` first (browser entry)',
    );
  }
  return wasm;
}

/** The input buffer's address, grown to `len` bytes. */
function reserve(w, len) {
  const ptr = w.inputBuffer(len) >>> 0;
  if (ptr === 0) throw failure('too_large', `the input (${len} bytes) does not fit in wasm memory`);
  return ptr;
}

/** Copies UTF-8 bytes into the input buffer; returns their length. */
function putBytes(w, bytes) {
  const ptr = reserve(w, bytes.length);
  new Uint8Array(w.memory.buffer, ptr, bytes.length).set(bytes);
  return bytes.length;
}

/**
 * Encodes `text` into the input buffer; returns the byte length. The first
 * guess assumes ASCII; on the first wider character the buffer grows to fit
 * the worst case of the rest (3 bytes per UTF-16 unit) and encoding resumes.
 */
function putText(w, text) {
  const n = text.length;
  if (nodeWrite && n >= STAGE_ABOVE) return stageText(w, text);
  let ptr = reserve(w, n);
  let { read, written } = encoder.encodeInto(text, new Uint8Array(w.memory.buffer, ptr, n));
  if (read < n) {
    const cap = written + (n - read) * 3;
    ptr = reserve(w, cap);
    const view = new Uint8Array(w.memory.buffer, ptr + written, cap - written);
    written += encoder.encodeInto(read === 0 ? text : text.slice(read), view).written;
  }
  return written;
}

/**
 * Puts `text` into the input buffer piece by piece (Node); returns the byte
 * length. A piece is copied out as UTF-16 into the staging buffer and
 * converted in wasm (src/utf16.rs, eight units a step in mixed scripts:
 * faster than `encodeInto` for every script but emoji-heavy text, where it
 * is about 10 % slower). Pieces never split a surrogate pair.
 */
function stageText(w, text) {
  const n = text.length;
  // The first guess: mostly ASCII, with room for a few wider characters.
  // Past it, the wasm grows the buffer as pieces need (it is kept between
  // calls). The buffer's address is not asked for again: the wasm then
  // knows that the input is the UTF-8 it wrote and skips checking it.
  reserve(w, n + (n >> 6));
  const full = () => failure('too_large', `the input (${n} characters) does not fit in wasm memory`);
  const stage = w.stageBuffer(Math.min(n, STAGE_UNITS)) >>> 0;
  if (stage === 0) throw full();
  let len = 0;
  for (let from = 0; from < n; ) {
    let to = Math.min(n, from + STAGE_UNITS);
    if (to < n && (text.charCodeAt(to - 1) & 0xfc00) === 0xd800) to -= 1;
    const units = to - from;
    NodeBuffer.from(w.memory.buffer, stage, units * 2).ucs2Write(units === n ? text : text.slice(from, to));
    len = w.stageInput(len, units) >>> 0;
    if (len === 0) throw full();
    from = to;
  }
  return len;
}

/** JSON text of an argument: strings pass as they are; null/undefined → undefined. */
function jsonArg(value, what) {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw failure('invalid_type', `the ${what} cannot be written as JSON: ${e.message}`);
  }
}

/** The core's default `max_input_bytes`. */
const DEFAULT_MAX_INPUT = 256 * 1024 * 1024;
/** Inputs above this size are checked against the limit before they are copied. */
const CHECK_ABOVE = 64 * 1024 * 1024;

/**
 * Refuses, before copying it into wasm memory, an input that is certainly
 * over `max_input_bytes` (the core would refuse it after the copy; a huge
 * copy could exhaust wasm memory first). `size` is a lower bound of the
 * input's UTF-8 length; `optionsJson` null means no limit.
 */
function checkSize(size, optionsJson) {
  if (optionsJson === null || size <= CHECK_ABOVE) return;
  let limit = DEFAULT_MAX_INPUT;
  try {
    const v = optionsJson ? JSON.parse(optionsJson)?.max_input_bytes : undefined;
    if (typeof v === 'number' && v >= 0) limit = v;
  } catch {
    // The core reports bad options.
  }
  if (size > limit) {
    throw failure('too_large', `input is at least ${size} bytes; the limit is ${limit} bytes`);
  }
}

/**
 * Puts an input (text, bytes, or a JSON-able value) into the buffer; returns
 * its length in bytes.
 */
function putInput(w, input, optionsJson) {
  if (typeof input === 'string') {
    checkSize(input.length, optionsJson);
    return putText(w, input);
  }
  if (input instanceof ArrayBuffer) input = new Uint8Array(input);
  if (input instanceof Uint8Array) {
    checkSize(input.length, optionsJson);
    return putBytes(w, input);
  }
  const text = jsonArg(input, 'input');
  if (text === undefined) {
    throw failure('invalid_type', 'expected JSON text, UTF-8 bytes or a JSON-able value as input');
  }
  checkSize(text.length, optionsJson);
  return putText(w, text);
}

/**
 * Runs a mapping (`op` is OP_MAP or OP_EACH, `a` its options) on an input
 * already put into wasm (`len` bytes) and hands each piece of its output to
 * `onPiece` as a string, as the wasm writes it.
 */
function runPieces(w, len, op, a, onPiece) {
  runInput(nodeSlices ? op | OP_LATIN1 : op, len, a, undefined, undefined, (at, n) => {
    const buffer = w.memory.buffer;
    onPiece(n > 0 ? asciiString(buffer, at >>> 0, n) : utf16String(buffer, at >>> 0, -n));
  });
}

/**
 * Runs an operation and returns its output as a string. A mapping's output
 * is handed over in pieces of about 48 KiB as the wasm writes it, so the
 * whole text is never in wasm memory: ASCII pieces as bytes (read as
 * Latin-1), others converted to UTF-16 in wasm (engines build strings from
 * either much faster than they decode UTF-8). In Node, the pieces of an
 * input up to GATHER_MAX_BYTES are gathered into one Buffer (`gatherText`).
 * Elsewhere, and above that, they are joined by `+`, which engines keep as
 * a rope until the string is read; a piece's string is under V8's
 * large-object size, so it is made in the young generation. Other outputs
 * (requests) are decoded whole from UTF-8.
 */
function callText(op, input, a, b, c) {
  const w = loaded();
  if (op === OP_MAP || op === OP_EACH) {
    const len = putInput(w, input, a ?? '');
    if (nodeSlices && len <= GATHER_MAX_BYTES) return gatherText(w, len, op, a);
    let text = '';
    runPieces(w, len, op, a, (piece) => {
      text += piece;
    });
    return text;
  }
  // `a` is the options for OP_REQUESTS; a result (OP_BUILD) has no size limit.
  const len = putInput(w, input, op === OP_BUILD ? null : (a ?? ''));
  const n = runInput(op, len, a, b, c);
  const text = decoder.decode(new Uint8Array(w.memory.buffer, w.outputPtr() >>> 0, n));
  if (n > RELEASE_OUTPUT_BYTES) w.releaseOutput();
  return text;
}

/** The Buffer that `gatherText` copies pieces into, kept between calls up to this size. */
let gathered = null;
const KEEP_GATHERED_BYTES = 8 << 20;

/**
 * Inputs up to this size have their output gathered (`gatherText`); larger
 * ones are joined as a rope of pieces. Node makes a string of more than
 * about 1 MB from a Buffer as an external string, which V8 frees by
 * external-memory pressure: up to some 64 MB of them can wait for a
 * collection, where a 128 MB worker mapping 18 MB traces has no room.
 */
const GATHER_MAX_BYTES = 16 << 20;

/**
 * `callText` for a mapping in Node (input put, `len` bytes): the pieces
 * are copied, as they come, into one Buffer, and one string is made of it
 * at the end, one byte a character when the output is narrow (all pieces
 * are then Latin-1 bytes) and UTF-16 otherwise (all pieces are then UTF-16:
 * `OP_UNIFORM`). A rope of 48 KiB strings costs as much again to flatten
 * when it is first read; the string made of a Buffer is flat (and from
 * about 1 MB on, external: outside the JS heap), several times faster.
 */
function gatherText(w, len, op, a) {
  // The output is about the input's size (a little more for ids, times and
  // tags), one byte a character when narrow and two otherwise.
  const guess = len + (len >> 3) + 4096;
  let buf = gathered !== null && gathered.length >= guess ? gathered : null;
  let n = 0;
  let units = false;
  runInput(op | OP_LATIN1 | OP_UNIFORM, len, a, undefined, undefined, (at, k) => {
    const bytes = k > 0 ? k : -2 * k;
    units = k < 0;
    if (buf === null || n + bytes > buf.length) {
      const size = Math.max(units ? 2 * guess : guess, n + bytes, buf === null ? 0 : buf.length + (buf.length >> 1));
      const grown = NodeBuffer.allocUnsafe(size);
      if (buf !== null) buf.copy(grown, 0, 0, n);
      buf = grown;
    }
    buf.set(new Uint8Array(w.memory.buffer, at >>> 0, bytes), n);
    n += bytes;
  });
  if (buf === null) return '';
  gathered = buf.length <= KEEP_GATHERED_BYTES ? buf : gathered;
  return units ? buf.ucs2Slice(0, n) : buf.latin1Slice(0, n);
}

/** Maps Dify trace tasks; returns `{"traces","spans","warnings"}` JSON text. */
export function mapJson(input, options) {
  return callText(OP_MAP, input, jsonArg(options, 'options'));
}

/** Maps every task it can; returns `{"traces","spans","warnings","errors"}` JSON text. */
export function mapEachJson(input, options) {
  return callText(OP_EACH, input, jsonArg(options, 'options'));
}

/**
 * Runs a mapping and returns its result as a value. Each piece the wasm
 * hands over is parsed as it comes, instead of the whole text once joined:
 * making one string of a large output (a two-byte one as soon as a piece
 * has a character above U+00FF) costs several milliseconds a megabyte on
 * its own. This relies on how the pieces are cut (`write::result_pieces`):
 * the first holds `{"traces":[…],"spans":[` and ends after a span; each
 * later one starts with the `,` before a span (or, the last one, with the
 * `]` after the last span) and ends after a span, except the last, which
 * closes the whole object.
 */
function callValue(op, input, a) {
  let result = null;
  let spans = null;
  const add = (list) => {
    for (let i = 0; i < list.length; i++) spans.push(list[i]);
  };
  let failed = null;
  const w = loaded();
  const len = putInput(w, input, a ?? '');
  // A piece is parsed once the next one (or the end) shows whether it was
  // the last: `held.text(first, last)` is its text wrapped to parse alone.
  (nodeSlices ? bufferPieces : stringPieces)(w, len, op, a, (held, last) => {
    if (failed !== null) return;
    try {
      const value = JSON.parse(held.text(result === null, last));
      if (result === null) {
        result = value;
        spans = result.spans;
      } else if (!last) {
        add(value);
      } else {
        add(value.spans);
        for (const key of Object.keys(value)) if (key !== 'spans') result[key] = value[key];
      }
    } catch (e) {
      // Kept for after the call: thrown here, the wasm would report only
      // that the output was not handed over.
      failed = e;
    }
  });
  if (failed !== null) throw failed;
  return result;
}

/**
 * How a piece of a mapping's output is wrapped to parse alone (see
 * `callValue`): `head` goes before it, in place of its leading comma when
 * `skip` is 1, and `tail` after it. The first piece gets `]}` (unless it is
 * also the last); a middle one becomes an array of its spans; the last
 * becomes `{"spans":[…` with the rest of the result's fields.
 */
function wrapping(first, last, comma) {
  if (first) return { head: '', skip: 0, tail: last ? '' : ']}' };
  if (!last) return { head: '[', skip: 1, tail: ']' };
  return { head: '{"spans":[', skip: comma ? 1 : 0, tail: '' };
}

/** `callValue`'s pieces as strings, wrapped with `+` (hosts without Node's Buffer). */
function stringPieces(w, len, op, a, onHeld) {
  let piece = null;
  const held = {
    text(first, last) {
      const { head, skip, tail } = wrapping(first, last, piece.charCodeAt(0) === 44);
      return head + (skip ? piece.slice(skip) : piece) + tail;
    },
  };
  runPieces(w, len, op, a, (p) => {
    if (piece !== null) onHeld(held, false);
    piece = p;
  });
  if (piece !== null) onHeld(held, true);
}

/** Characters kept free before a held piece: `{"spans":[`. */
const HEAD_CHARS = 10;
/** Characters kept free after a held piece: `]}`. */
const TAIL_CHARS = 2;
/** The Buffer that `bufferPieces` holds a piece in, reused from call to call. */
let heldBuffer = null;
/** `heldBuffer` is kept between calls up to this size (a piece is about 48 KiB). */
const KEEP_HELD_BYTES = 1 << 20;

/**
 * `callValue`'s pieces in Node. Each piece is copied out of wasm memory into
 * one reused Buffer, with room around it, where its wrapping is written; one
 * `latin1Slice` or `ucs2Slice` then makes a flat string. `JSON.parse` of a
 * flat string is faster than of a string joined with `+`, which it must
 * first copy.
 */
function bufferPieces(w, len, op, a, onHeld) {
  let units = false;
  let n = 0;
  const held = {
    text(first, last) {
      const c = units ? 2 : 1;
      const write = (str, at) => (units ? heldBuffer.ucs2Write(str, at) : heldBuffer.latin1Write(str, at));
      const at = HEAD_CHARS * c;
      const comma = (units ? heldBuffer.readUInt16LE(at) : heldBuffer[at]) === 44;
      const { head, skip, tail } = wrapping(first, last, comma);
      const start = at + (skip - head.length) * c;
      write(head, start);
      const end = at + n + write(tail, at + n);
      return units ? heldBuffer.ucs2Slice(start, end) : heldBuffer.latin1Slice(start, end);
    },
  };
  let have = false;
  runInput(op | OP_LATIN1, len, a, undefined, undefined, (at, k) => {
    if (have) onHeld(held, false);
    units = k < 0;
    n = units ? -2 * k : k;
    const c = units ? 2 : 1;
    const size = (HEAD_CHARS + TAIL_CHARS) * c + n;
    if (heldBuffer === null || heldBuffer.length < size) heldBuffer = NodeBuffer.allocUnsafe(Math.max(size, 64 << 10));
    heldBuffer.set(new Uint8Array(w.memory.buffer, at >>> 0, n), HEAD_CHARS * c);
    have = true;
  });
  if (have) onHeld(held, true);
  // One span larger than this made the Buffer grow: not kept.
  if (heldBuffer !== null && heldBuffer.length > KEEP_HELD_BYTES) heldBuffer = null;
}

/** Maps Dify trace tasks; returns `{traces, spans, warnings}`. */
export function map(input, options) {
  return callValue(OP_MAP, input, jsonArg(options, 'options'));
}

/** Maps every task it can; returns `{traces, spans, warnings, errors}`. */
export function mapEach(input, options) {
  return callValue(OP_EACH, input, jsonArg(options, 'options'));
}

/** `mapJson` from UTF-8 bytes to UTF-8 bytes. */
export function mapBytes(input, options) {
  if (!(input instanceof Uint8Array)) {
    throw failure('invalid_type', 'mapBytes expects a Uint8Array');
  }
  const w = loaded();
  const optionsJson = jsonArg(options, 'options');
  const n = runInput(OP_MAP, putInput(w, input, optionsJson ?? ''), optionsJson);
  // A view is made after the last call that may allocate (memory growth
  // detaches the old buffer).
  const out = new Uint8Array(w.memory.buffer, w.outputPtr() >>> 0, n).slice();
  if (n > RELEASE_OUTPUT_BYTES) w.releaseOutput();
  return out;
}

/** Validates an Opik configuration; returns the report (never throws). */
export function validateConfig(config) {
  loaded();
  return JSON.parse(validateConfigJson(jsonArg(config, 'config') ?? ''));
}

const RESULT_START = /^\s*\{\s*"(?:traces|spans|warnings|errors)"\s*:/;

/** Whether a value is a mapping result rather than Dify input. */
function isResult(x) {
  if (typeof x === 'string') return RESULT_START.test(x.slice(0, 64));
  if (x instanceof Uint8Array) return RESULT_START.test(decoder.decode(x.subarray(0, 64)));
  return (
    x !== null &&
    typeof x === 'object' &&
    !Array.isArray(x) &&
    (Array.isArray(x.traces) || Array.isArray(x.spans))
  );
}

/**
 * Ready-to-send requests from a mapping result, or from Dify input (mapped
 * first with `options`); returns `{requests, warnings}`.
 */
export function buildRequests(resultOrInput, config, limits, options) {
  const cfg = jsonArg(config, 'config') ?? '';
  const lim = jsonArg(limits, 'limits');
  const text = isResult(resultOrInput)
    ? callText(OP_BUILD, resultOrInput, cfg, lim)
    : callText(OP_REQUESTS, resultOrInput, jsonArg(options, 'options'), cfg, lim);
  return JSON.parse(text);
}

/** The library version. */
export function version() {
  loaded();
  return glueVersion();
}
