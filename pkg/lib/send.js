// `send`: posts ready-made requests ({method, url, headers, body}) with the
// standard `fetch`, one after another (traces before spans, as built).
//
// Retries network errors, timeouts, 408, 429 and 5xx with exponential
// backoff, honouring `Retry-After` (seconds or an HTTP date); never retries
// other statuses. Reports per request what happened; never throws for HTTP or
// network failures. No wasm involved: also importable as `dify-opik/send`.

const DEFAULTS = {
  retries: 4,
  baseDelayMs: 500,
  maxDelayMs: 30_000,
  timeoutMs: 30_000,
  jitter: true,
};

/** How much of an error response's body a report keeps. */
const RESPONSE_CHARS = 1000;

function retryable(status) {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Milliseconds to wait from a `Retry-After` value: delta seconds, or an HTTP
 * date (relative to `now`); null when absent or unreadable.
 */
export function retryAfterMs(value, now = Date.now()) {
  if (value === null || value === undefined) return null;
  const v = String(value).trim();
  if (v === '') return null;
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const t = Date.parse(v);
  if (Number.isNaN(t)) return null;
  return Math.max(0, t - now);
}

function defaultSleep(ms, signal) {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** One fetch with a per-attempt timeout, also aborted by the caller's signal. */
async function attempt(fetchFn, req, timeoutMs, signal) {
  const controller = typeof AbortController === 'function' ? new AbortController() : null;
  const abort = () => controller?.abort();
  const timer = timeoutMs > 0 && controller ? setTimeout(abort, timeoutMs) : null;
  signal?.addEventListener('abort', abort, { once: true });
  try {
    const init = { method: req.method ?? 'POST', headers: req.headers ?? {}, body: req.body };
    if (controller) init.signal = controller.signal;
    const res = await fetchFn(req.url, init);
    // Read the body under the same timeout (and so free the connection).
    const text = await res.text().catch(() => '');
    return { res, text };
  } finally {
    if (timer !== null) clearTimeout(timer);
    signal?.removeEventListener('abort', abort);
  }
}

async function sendOne(req, index, o) {
  const report = { index, url: req.url };
  if (req.kind !== undefined) report.kind = req.kind;
  if (req.count !== undefined) report.count = req.count;
  Object.assign(report, { ok: false, status: null, attempts: 0, error: null });
  for (;;) {
    if (o.signal?.aborted) {
      report.error = report.error ? `aborted after: ${report.error}` : 'aborted';
      return report;
    }
    report.attempts += 1;
    let wait = null;
    try {
      const { res, text } = await attempt(o.fetch, req, o.timeoutMs, o.signal);
      report.status = res.status;
      if (res.status >= 200 && res.status < 300) {
        report.ok = true;
        report.error = null;
        delete report.response;
        return report;
      }
      report.error = `HTTP ${res.status}`;
      if (text) report.response = text.slice(0, RESPONSE_CHARS);
      if (!retryable(res.status)) return report;
      wait = retryAfterMs(res.headers?.get?.('retry-after') ?? null);
    } catch (e) {
      if (o.signal?.aborted) {
        report.error = 'aborted';
        return report;
      }
      report.status = null;
      delete report.response;
      report.error = e?.name === 'AbortError' ? `timed out after ${o.timeoutMs} ms` : String(e?.message ?? e);
    }
    if (report.attempts > o.retries) return report;
    if (wait !== null && wait > o.maxDelayMs) {
      report.error += `; Retry-After asks for ${wait} ms, more than maxDelayMs (${o.maxDelayMs})`;
      return report;
    }
    if (wait === null) {
      const full = Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** (report.attempts - 1));
      wait = o.jitter ? full / 2 + Math.random() * (full / 2) : full;
    }
    await o.sleep(wait, o.signal);
  }
}

/**
 * Sends `requests` (an array, or `{requests}` as `buildRequests` returns it)
 * one after another; resolves to one report per request:
 * `{index, url, kind, count, ok, status, attempts, error, response?}`.
 */
export async function send(requests, options = {}) {
  const list = Array.isArray(requests) ? requests : requests?.requests;
  if (!Array.isArray(list)) {
    throw new TypeError('send(): expected an array of requests or {requests}');
  }
  const o = { ...DEFAULTS, ...options };
  for (const k of Object.keys(DEFAULTS)) {
    if (o[k] === undefined) o[k] = DEFAULTS[k];
  }
  o.fetch = options.fetch ?? globalThis.fetch;
  if (typeof o.fetch !== 'function') {
    throw new TypeError('send(): no fetch function: pass options.fetch');
  }
  if (typeof o.sleep !== 'function') o.sleep = defaultSleep;
  const reports = [];
  for (let i = 0; i < list.length; i++) {
    reports.push(await sendOne(list[i], i, o));
  }
  return reports;
}
