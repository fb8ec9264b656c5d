// An edge-worker host for dify-opik (Cloudflare Workers / workerd, ES module
// syntax). POST Dify trace tasks to it (one envelope, a JSON array of
// envelopes, or JSON lines); it maps them to Opik objects, sends them to Opik
// with retries, and answers with a summary.
//
// Bindings (wrangler.toml [vars] and `wrangler secret put`):
//   INGEST_SECRET   required; callers send it in the X-Dify-Opik-Secret header
//   OPIK_URL        Opik API base URL (default: Opik Cloud)
//   OPIK_API_KEY    Opik API key (Cloud and enterprise; never echoed back)
//   OPIK_WORKSPACE  Opik workspace (Cloud and enterprise)
//   OPIK_PROJECT    Opik project (default: "Default Project")
//   MAX_BODY_BYTES  request body cap in bytes (default 10 MiB)
//   DIFY_OPIK_PROFILE, FILES_URL, NAIVE_OFFSET, REDACT ("false" turns it off)
//   SEND_RETRIES, SEND_BACKOFF_MS  retry count and first backoff delay
//
// Answers: 200 everything delivered; 401 missing or wrong secret; 405 not a
// POST; 413 body over the cap; 400 the body (or one of its JSON lines) is not
// JSON (the error's code and path); 422 some tasks could not be mapped
// (listed with code and path; the others were sent); 502 Opik did not accept some
// requests after retries (listed); 500 the worker is misconfigured. Nothing
// is sent for a 401, 405, 413, 400 or 500. Re-sending after a 502 is safe:
// ids are deterministic and Opik upserts by id.
//
// The package is imported by name: bundlers for workers (wrangler, esbuild
// with the `workerd` condition) pick its worker entry, which instantiates the
// statically imported .wasm module synchronously.
import { mapEach, buildRequests, validateConfig, send, version } from 'dify-opik';

/** The header that carries the shared secret. */
const SECRET_HEADER = 'x-dify-opik-secret';
const DEFAULT_MAX_BODY = 10 * 1024 * 1024;
/** At most this many warnings are listed in a summary (the count is exact). */
const MAX_LISTED_WARNINGS = 100;

export default {
  async fetch(request, env) {
    try {
      return await handle(request, env ?? {});
    } catch (e) {
      // A bug, not an input problem: say so without echoing configuration.
      return json(500, { ok: false, error: { code: 'internal', message: String(e?.message ?? e) } });
    }
  },
};

async function handle(request, env) {
  const url = new URL(request.url);
  if (request.method === 'GET' && url.pathname === '/health') {
    return json(200, { ok: true, version: version() });
  }
  if (request.method !== 'POST') {
    return json(405, { ok: false, error: { code: 'method_not_allowed', message: 'POST Dify trace tasks' } }, {
      allow: 'POST',
    });
  }
  if (!env.INGEST_SECRET) {
    // Fail closed: an endpoint without a secret would accept anyone.
    return json(500, {
      ok: false,
      error: { code: 'not_configured', message: 'the INGEST_SECRET binding is not set' },
    });
  }
  if (!(await sameSecret(request.headers.get(SECRET_HEADER), env.INGEST_SECRET))) {
    return json(401, { ok: false, error: { code: 'unauthorized', message: `missing or wrong ${SECRET_HEADER} header` } });
  }

  const cap = positiveInt(env.MAX_BODY_BYTES, DEFAULT_MAX_BODY);
  const body = await readCapped(request, cap);
  if (body === null) {
    return json(413, {
      ok: false,
      error: { code: 'too_large', message: `the body is larger than ${cap} bytes; split the batch` },
    });
  }

  const config = {
    url: env.OPIK_URL || undefined,
    api_key: env.OPIK_API_KEY || undefined,
    workspace: env.OPIK_WORKSPACE || undefined,
    project: env.OPIK_PROJECT || undefined,
  };
  const check = validateConfig(config);
  if (!check.ok) {
    return json(500, {
      ok: false,
      error: { code: 'not_configured', message: 'the Opik configuration is not valid', problems: check.problems },
    });
  }

  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return json(400, { ok: false, error: { code: 'invalid_json', path: '', message: 'the body is not UTF-8' } });
  }

  let mapped;
  try {
    mapped = mapEach(text, mapOptions(env));
  } catch (e) {
    return json(e?.code === 'invalid_option' ? 500 : 400, {
      ok: false,
      error: { code: e?.code ?? 'invalid_json', path: e?.path ?? '', message: String(e?.message ?? e) },
    });
  }
  const errors = mapped.errors ?? [];
  // Broken JSON (the body, or one of its JSON lines) is the caller's bug:
  // refuse the whole request. Tasks that are JSON but cannot be mapped are
  // reported (422) while the others are sent, as for any batch host.
  const syntax = errors.filter((e) => e.code === 'invalid_json');
  if (syntax.length) {
    return json(400, { ok: false, error: syntax[0], errors: syntax });
  }

  const built = buildRequests({ traces: mapped.traces, spans: mapped.spans, warnings: [] }, config);
  const warnings = [...mapped.warnings, ...(built.warnings ?? [])];

  const report = built.requests.length
    ? await send(built.requests, {
        fetch: (input, init) => fetch(input, init),
        retries: nonNegativeInt(env.SEND_RETRIES, 3),
        ...(env.SEND_BACKOFF_MS ? { baseDelayMs: nonNegativeInt(env.SEND_BACKOFF_MS, 500) } : {}),
      })
    : [];

  const summary = summarize(mapped, built.requests, report, warnings, errors);
  const status = summary.failures.length ? 502 : errors.length ? 422 : 200;
  return json(status, summary);
}

/** Options for the mapper from the bindings (unset ones take the package's defaults). */
function mapOptions(env) {
  const o = {};
  if (env.DIFY_OPIK_PROFILE) o.profile = env.DIFY_OPIK_PROFILE;
  if (env.OPIK_PROJECT) o.project = env.OPIK_PROJECT;
  if (env.FILES_URL) o.files_url = env.FILES_URL;
  if (env.NAIVE_OFFSET) o.naive_offset = env.NAIVE_OFFSET;
  if (String(env.REDACT ?? '').toLowerCase() === 'false') o.redact = false;
  return o;
}

/** Per-request outcome: the package's `send` reports one entry per request, in order. */
function outcomes(reports, requests) {
  return requests.map((r, i) => {
    const o = reports[i] ?? {};
    return { kind: r.kind, count: r.count, ok: Boolean(o.ok), status: o.status ?? null, attempts: o.attempts ?? 0, error: o.error ?? null };
  });
}

function summarize(mapped, requests, report, warnings, errors) {
  const per = outcomes(report, requests);
  const sent = { traces: 0, spans: 0 };
  const failures = [];
  let attempts = 0;
  for (const o of per) {
    attempts += o.attempts;
    if (o.ok) sent[o.kind] += o.count;
    else failures.push({ kind: o.kind, count: o.count, status: o.status, attempts: o.attempts, error: o.error });
  }
  return {
    ok: failures.length === 0 && errors.length === 0,
    mapped: { traces: mapped.traces.length, spans: mapped.spans.length },
    sent,
    requests: { total: requests.length, delivered: per.filter((o) => o.ok).length, attempts },
    warnings: warnings.slice(0, MAX_LISTED_WARNINGS),
    warning_count: warnings.length,
    errors,
    failures,
  };
}

/**
 * Reads the body, giving up (null) as soon as it is larger than `cap` bytes:
 * a Content-Length over the cap is refused before reading anything.
 */
async function readCapped(request, cap) {
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > cap) return null;
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > cap) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out;
}

/** Compares secrets in constant time (SHA-256 digests, then every byte). */
async function sameSecret(given, expected) {
  if (typeof given !== 'string' || given.length === 0) return false;
  const enc = new TextEncoder();
  const [a, b] = await Promise.all([
    crypto.subtle.digest('SHA-256', enc.encode(given)),
    crypto.subtle.digest('SHA-256', enc.encode(String(expected))),
  ]);
  const x = new Uint8Array(a);
  const y = new Uint8Array(b);
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i] ^ y[i];
  return diff === 0;
}

function positiveInt(v, dflt) {
  const n = Number(v);
  return Number.isSafeInteger(n) && n > 0 ? n : dflt;
}

function nonNegativeInt(v, dflt) {
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : dflt;
}

function json(status, body, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
  });
}
