// Pure helpers of the previewer: no DOM, no wasm. Unit-tested in Node
// (www/test/model.test.mjs) and used by app.js.

/**
 * Parses an ISO 8601 / RFC 3339 datetime (0–9 fraction digits, `Z`, `±HH:MM`,
 * `±HHMM`, or none = UTC) into integer microseconds since the epoch.
 * Returns null when the text is not such a datetime.
 */
export function parseTime(text) {
  if (typeof text !== 'string') return null;
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d{1,9}))?(Z|z|[+-]\d{2}:?\d{2})?$/.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h, mi, s, frac, off] = m;
  const ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (!Number.isFinite(ms)) return null;
  const micros = frac ? Math.floor(Number((frac + '000000').slice(0, 6))) : 0;
  let offsetMin = 0;
  if (off && off !== 'Z' && off !== 'z') {
    const sign = off[0] === '-' ? -1 : 1;
    const digits = off.slice(1).replace(':', '');
    offsetMin = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4)));
  }
  return (ms - offsetMin * 60000) * 1000 + micros;
}

/** A duration in microseconds as short text: `850 µs`, `12.5 ms`, `1.35 s`, `2 min 05 s`. */
export function formatDuration(us) {
  if (us == null || !Number.isFinite(us)) return '';
  const a = Math.abs(us);
  const sign = us < 0 ? '−' : '';
  if (a < 1000) return `${sign}${Math.round(a)} µs`;
  if (a < 1e6) {
    const ms = a / 1000;
    return `${sign}${ms < 10 ? trimZeros(ms.toFixed(2)) : ms < 100 ? trimZeros(ms.toFixed(1)) : Math.round(ms)} ms`;
  }
  if (a < 60e6) {
    const s = a / 1e6;
    return `${sign}${trimZeros(s.toFixed(s < 10 ? 2 : 1))} s`;
  }
  const totalS = Math.round(a / 1e6);
  const h = Math.floor(totalS / 3600);
  const min = Math.floor((totalS % 3600) / 60);
  const sec = totalS % 60;
  if (h > 0) return `${sign}${h} h ${String(min).padStart(2, '0')} min`;
  return `${sign}${min} min ${String(sec).padStart(2, '0')} s`;
}

function trimZeros(s) {
  return s.includes('.') ? s.replace(/\.?0+$/, '') : s;
}

/** A cost in USD as short text, keeping two significant digits of tiny costs. */
export function formatCost(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  if (n === 0) return '$0';
  if (n >= 0.01) return `$${trimZeros(n.toFixed(4))}`;
  const digits = Math.min(20, Math.max(2, 1 - Math.floor(Math.log10(n)) + 1));
  return `$${trimZeros(n.toFixed(digits))}`;
}

/** A count with thin grouping: 12 345. */
export function formatCount(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '';
  return String(Math.trunc(n)).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
}

/** A byte size as text: 812 B, 3.4 KiB, 1.2 MiB. */
export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${trimZeros((n / 1024).toFixed(1))} KiB`;
  return `${trimZeros((n / 1024 / 1024).toFixed(1))} MiB`;
}

function objStart(o) {
  return parseTime(o.start_time);
}

function objEnd(o) {
  const e = parseTime(o.end_time);
  return e == null ? null : e;
}

/**
 * Builds the trace tree of a mapping result: traces (in emission order), each
 * with its spans nested via `parent_span_id`. A span whose trace is not in the
 * result hangs under a placeholder node (`kind: 'missing_trace'`); a span
 * whose parent span is missing hangs under its trace with `orphan: true`.
 *
 * Node: {kind, key, obj, index, children, depth, window: {start, end}, orphan?}
 * `key` is unique in the forest (`trace:<index>`, `span:<index>`, `missing:<trace_id>`).
 */
export function buildForest(result) {
  const traces = Array.isArray(result?.traces) ? result.traces : [];
  const spans = Array.isArray(result?.spans) ? result.spans : [];
  const roots = [];
  const traceNodes = new Map();
  traces.forEach((t, index) => {
    const node = { kind: 'trace', key: `trace:${index}`, obj: t, index, children: [] };
    roots.push(node);
    if (!traceNodes.has(t.id)) traceNodes.set(t.id, node);
  });
  const spanNodes = spans.map((s, index) => ({ kind: 'span', key: `span:${index}`, obj: s, index, children: [] }));
  const byId = new Map();
  for (const n of spanNodes) {
    const k = `${n.obj.trace_id}\u0000${n.obj.id}`;
    if (!byId.has(k)) byId.set(k, n);
  }
  const traceOf = (traceId) => {
    let node = traceNodes.get(traceId);
    if (!node) {
      node = { kind: 'missing_trace', key: `missing:${traceId}`, obj: { id: traceId }, index: -1, children: [] };
      traceNodes.set(traceId, node);
      roots.push(node);
    }
    return node;
  };
  for (const n of spanNodes) {
    const s = n.obj;
    let parent = null;
    if (s.parent_span_id != null) {
      parent = byId.get(`${s.trace_id}\u0000${s.parent_span_id}`) || null;
      if (parent === n || (parent && isAncestor(n, parent))) parent = null;
      if (!parent) n.orphan = true;
    }
    n.parent = parent || traceOf(s.trace_id);
    n.parent.children.push(n);
  }
  for (const r of roots) finish(r, 0);
  return roots;
}

function isAncestor(a, b) {
  // true when `a` is an ancestor of `b` (guards against cycles)
  for (let p = b.parent; p; p = p.parent) if (p === a) return true;
  return false;
}

function finish(root, depth) {
  // depth, and the time window of the whole trace for its timeline bars
  let lo = Infinity;
  let hi = -Infinity;
  const visit = (n, d) => {
    n.depth = d;
    if (n.kind !== 'missing_trace') {
      const s = objStart(n.obj);
      const e = objEnd(n.obj);
      if (s != null) { lo = Math.min(lo, s); hi = Math.max(hi, s); }
      if (e != null) { lo = Math.min(lo, e); hi = Math.max(hi, e); }
    }
    for (const c of n.children) visit(c, d + 1);
  };
  visit(root, depth);
  const window = Number.isFinite(lo) ? { start: lo, end: hi } : null;
  const spread = (n) => { n.window = window; n.children.forEach(spread); };
  spread(root);
}

/** All nodes of a forest in display (depth-first) order. */
export function flatten(roots) {
  const out = [];
  const walk = (n) => { out.push(n); n.children.forEach(walk); };
  roots.forEach(walk);
  return out;
}

/**
 * Where a node's timeline bar sits, as fractions of its trace's window:
 * {left, width, open} — `open` when the object has no end time.
 */
export function barOf(node) {
  const w = node.window;
  const s = objStart(node.obj);
  if (!w || s == null) return null;
  const e = objEnd(node.obj);
  const span = Math.max(w.end - w.start, 1);
  const left = (s - w.start) / span;
  const width = e == null ? 0 : Math.max(e - s, 0) / span;
  return { left: clamp01(left), width: Math.min(width, 1 - clamp01(left)), open: e == null };
}

function clamp01(x) {
  return Math.min(1, Math.max(0, x));
}

/** Duration of an object in µs, or null. */
export function durationOf(obj) {
  const s = objStart(obj);
  const e = objEnd(obj);
  return s == null || e == null ? null : e - s;
}

/** Sum of `usage.total_tokens` and of `total_estimated_cost` over a subtree's spans. */
export function totalsOf(node) {
  let tokens = 0;
  let hasTokens = false;
  let cost = 0;
  let hasCost = false;
  let errors = 0;
  const walk = (n) => {
    if (n.kind === 'span') {
      const t = n.obj.usage?.total_tokens;
      if (typeof t === 'number') { tokens += t; hasTokens = true; }
      const c = n.obj.total_estimated_cost;
      if (typeof c === 'number') { cost += c; hasCost = true; }
    }
    if (n.obj.error_info) errors += 1;
    n.children.forEach(walk);
  };
  walk(node);
  return { tokens: hasTokens ? tokens : null, cost: hasCost ? cost : null, errors };
}

/** Quotes a string for a POSIX shell. */
export function shellQuote(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/**
 * A curl command for one request. `showHeader(name, value)` returns the text
 * to print for a header value (the caller masks the API key there).
 */
export function curlCommand(req, showHeader = (_n, v) => v) {
  const lines = [`curl -X ${req.method || 'POST'} ${shellQuote(req.url)}`];
  const headers = headerEntries(req.headers);
  for (const [k, v] of headers) lines.push(`  -H ${shellQuote(`${k}: ${showHeader(k, v)}`)}`);
  lines.push(`  --data-raw ${shellQuote(req.body ?? '')}`);
  return lines.join(' \\\n');
}

/** Headers as [name, value] pairs, from an object, a Map or a list of pairs. */
export function headerEntries(h) {
  if (!h) return [];
  if (h instanceof Map) return [...h.entries()];
  if (Array.isArray(h)) return h.map((p) => (Array.isArray(p) ? [p[0], p[1]] : [p.name, p.value]));
  return Object.entries(h);
}

/** Whether a header carries the API key. */
export function isSecretHeader(name) {
  return /^authorization$/i.test(name);
}

/** Escapes text for HTML. */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

/** Pretty JSON as HTML with classes for keys, strings, numbers, literals. */
export function highlightJson(value) {
  const text = JSON.stringify(value, null, 2) ?? 'undefined';
  const re = /("(?:[^"\\]|\\.)*")(\s*:)?|\b(true|false|null)\b|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g;
  let out = '';
  let last = 0;
  for (const m of text.matchAll(re)) {
    out += escapeHtml(text.slice(last, m.index));
    const [all, str, colon, lit, num] = m;
    if (str) out += colon ? `<span class="j-key">${escapeHtml(str)}</span>${colon}` : `<span class="j-str">${escapeHtml(str)}</span>`;
    else if (lit) out += `<span class="j-lit">${lit}</span>`;
    else if (num) out += `<span class="j-num">${num}</span>`;
    else out += escapeHtml(all);
    last = m.index + all.length;
  }
  return out + escapeHtml(text.slice(last));
}

/** Human title of an example file name: `chat_message.json` → `chat message`. */
export function exampleTitle(file) {
  return String(file).replace(/\.(jsonl|ndjson|json)$/i, '').replace(/[_-]+/g, ' ').trim();
}

/** Describes a JSON pointer for people: "" → "(whole input)". */
export function describePath(path) {
  return path === '' || path == null ? '(whole input)' : path;
}
