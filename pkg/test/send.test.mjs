// send(): against a loopback HTTP server (127.0.0.1 only). Waits are recorded
// by an injected `sleep` (and so cost no time), except where a real timer is
// the point.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import * as opik from 'dify-opik';
import { retryAfterMs, send as sendAlone } from '../lib/send.js';
import { GOLDEN_DIR, NOW } from './helpers.mjs';

/** Per path: a queue of scripted answers; every request is logged. */
const script = new Map();
const log = [];
let server;
let base;

function answer(path, ...steps) {
  script.set(path, steps);
}

before(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const path = new URL(req.url, 'http://x').pathname;
      log.push({ path, method: req.method, headers: req.headers, body });
      const steps = script.get(path) ?? [];
      const step = steps.length > 1 ? steps.shift() : steps[0] ?? { status: 204 };
      if (step.hang) return; // never answers
      res.writeHead(step.status, step.headers ?? {});
      res.end(step.body ?? '');
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${server.address().port}`;
});

after(() => {
  server.closeAllConnections?.();
  server.close();
});

function recorder() {
  const waits = [];
  return { waits, sleep: async (ms) => void waits.push(ms) };
}

function request(path, body = '{"traces":[]}') {
  return { method: 'POST', url: `${base}${path}`, headers: { 'Content-Type': 'application/json' }, body, kind: 'traces', count: 0 };
}

test('503 twice, then success: three attempts, backoff doubles', async () => {
  answer('/flaky', { status: 503, body: 'busy' }, { status: 503, body: 'busy' }, { status: 204 });
  const before = log.length;
  const { waits, sleep } = recorder();
  const [r] = await opik.send([request('/flaky')], { sleep, jitter: false, baseDelayMs: 100 });
  assert.deepEqual(
    { ok: r.ok, status: r.status, attempts: r.attempts, error: r.error },
    { ok: true, status: 204, attempts: 3, error: null },
  );
  assert.equal(r.response, undefined);
  assert.deepEqual(waits, [100, 200]);
  assert.equal(log.length - before, 3);
  assert.ok(log.slice(before).every((l) => l.method === 'POST' && l.body === '{"traces":[]}'));
});

test('Retry-After in seconds and as an HTTP date are honoured', async () => {
  const date = new Date(Date.now() + 5000).toUTCString();
  answer('/limited', { status: 429, headers: { 'Retry-After': '2' } }, { status: 503, headers: { 'Retry-After': date } }, { status: 200 });
  const { waits, sleep } = recorder();
  const [r] = await opik.send([request('/limited')], { sleep, jitter: false });
  assert.equal(r.ok, true);
  assert.equal(r.attempts, 3);
  assert.equal(waits[0], 2000);
  assert.ok(waits[1] > 2500 && waits[1] <= 5000, `HTTP-date wait ${waits[1]}`);
  assert.equal(retryAfterMs('1.5'), 1500);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:27:00 GMT')), 60000);
  assert.equal(retryAfterMs('Wed, 21 Oct 2015 07:28:00 GMT', Date.parse('Wed, 21 Oct 2015 07:29:00 GMT')), 0);
  assert.equal(retryAfterMs('soon'), null);
  assert.equal(retryAfterMs(null), null);
});

test('a Retry-After longer than maxDelayMs ends the retries', async () => {
  answer('/later', { status: 503, headers: { 'Retry-After': '3600' } });
  const { waits, sleep } = recorder();
  const [r] = await opik.send([request('/later')], { sleep });
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 1);
  assert.equal(r.status, 503);
  assert.match(r.error, /Retry-After/);
  assert.deepEqual(waits, []);
});

test('other 4xx are never retried; 408 is', async () => {
  for (const status of [400, 401, 403, 404, 409, 413, 422]) {
    answer(`/no-${status}`, { status, body: `{"errors":["status ${status}"]}` });
    const { waits, sleep } = recorder();
    const [r] = await opik.send([request(`/no-${status}`)], { sleep });
    assert.deepEqual(
      { ok: r.ok, status: r.status, attempts: r.attempts, error: r.error, response: r.response },
      { ok: false, status, attempts: 1, error: `HTTP ${status}`, response: `{"errors":["status ${status}"]}` },
    );
    assert.deepEqual(waits, []);
  }
  answer('/timeout-408', { status: 408 }, { status: 200 });
  const [r] = await opik.send([request('/timeout-408')], recorder());
  assert.equal(r.attempts, 2);
  assert.equal(r.ok, true);
});

test('5xx until the retries run out: the last status is reported', async () => {
  answer('/down', { status: 500, body: 'x'.repeat(5000) });
  const { waits, sleep } = recorder();
  const [r] = await opik.send([request('/down')], { sleep, retries: 2, jitter: false, baseDelayMs: 10 });
  assert.equal(r.ok, false);
  assert.equal(r.status, 500);
  assert.equal(r.attempts, 3);
  assert.equal(r.error, 'HTTP 500');
  assert.equal(r.response.length, 1000);
  assert.deepEqual(waits, [10, 20]);
});

test('network errors are retried, then reported', async () => {
  // A port that was just free: connections are refused.
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
  const { waits, sleep } = recorder();
  const req = { ...request('/'), url: `http://127.0.0.1:${port}/` };
  const [r] = await opik.send([req], { sleep, retries: 3, jitter: false, baseDelayMs: 1 });
  assert.equal(r.ok, false);
  assert.equal(r.status, null);
  assert.equal(r.attempts, 4);
  assert.ok(r.error && r.error.length > 0);
  assert.deepEqual(waits, [1, 2, 4]);
});

test('a server that never answers times out per attempt', async () => {
  answer('/hang', { hang: true });
  const { sleep } = recorder();
  const t = Date.now();
  const [r] = await opik.send([request('/hang')], { sleep, retries: 1, timeoutMs: 150 });
  assert.equal(r.ok, false);
  assert.equal(r.attempts, 2);
  assert.match(r.error, /timed out after 150 ms/);
  assert.ok(Date.now() - t < 5000);
});

test('jittered backoff stays between half and all of the delay, capped by maxDelayMs', async () => {
  answer('/jitter', { status: 502 });
  const { waits, sleep } = recorder();
  await opik.send([request('/jitter')], { sleep, retries: 6, baseDelayMs: 1000, maxDelayMs: 8000 });
  const full = [1000, 2000, 4000, 8000, 8000, 8000];
  waits.forEach((w, i) => assert.ok(w >= full[i] / 2 && w <= full[i], `wait ${i}: ${w}`));
});

test('requests built by the package, sent in order with their headers', async () => {
  const good = readFileSync(join(GOLDEN_DIR, 'workflow_basic.json'), 'utf8');
  const config = { url: `${base}/api`, api_key: 'key-0123456789', workspace: 'acme' };
  const built = opik.buildRequests(good, config, { max_items: 2 }, { now: NOW });
  answer('/api/v1/private/traces/batch', { status: 503 }, { status: 201 });
  answer('/api/v1/private/spans/batch', { status: 201 });
  const before = log.length;
  const reports = await opik.send(built, recorder());
  assert.deepEqual(
    reports.map((r) => [r.index, r.kind, r.count, r.ok, r.attempts]),
    [
      [0, 'traces', 1, true, 2],
      [1, 'spans', 2, true, 1],
      [2, 'spans', 2, true, 1],
      [3, 'spans', 1, true, 1],
    ],
  );
  const seen = log.slice(before);
  assert.deepEqual(seen.map((l) => l.path), [
    '/api/v1/private/traces/batch',
    '/api/v1/private/traces/batch',
    '/api/v1/private/spans/batch',
    '/api/v1/private/spans/batch',
    '/api/v1/private/spans/batch',
  ]);
  for (const l of seen) {
    assert.equal(l.headers.authorization, 'key-0123456789');
    assert.equal(l.headers['comet-workspace'], 'acme');
    assert.equal(l.headers['content-type'], 'application/json');
  }
  const spans = seen.slice(2).flatMap((l) => JSON.parse(l.body).spans);
  assert.deepEqual(spans, opik.map(good, { now: NOW }).spans);
});

test('an abort signal stops sending', async () => {
  answer('/abort', { status: 503 });
  const controller = new AbortController();
  const reports = await opik.send([request('/abort'), request('/abort')], {
    signal: controller.signal,
    sleep: async () => controller.abort(),
  });
  assert.deepEqual(
    reports.map((r) => [r.ok, r.attempts, r.status, r.error]),
    [
      [false, 1, 503, 'aborted after: HTTP 503'],
      [false, 0, null, 'aborted'],
    ],
  );
});

test('bad arguments throw; the helper also loads without the wasm', async () => {
  await assert.rejects(() => opik.send('nope'), TypeError);
  await assert.rejects(() => opik.send([], { fetch: 42 }), TypeError);
  assert.deepEqual(await sendAlone([]), []);
});

test('plain {method, url, headers, body} requests work; reports are JSON-shaped', async () => {
  answer('/plain', { status: 200 });
  const reports = await opik.send([{ method: 'POST', url: `${base}/plain`, headers: {}, body: '{}' }], recorder());
  assert.deepEqual(reports, [{ index: 0, url: `${base}/plain`, ok: true, status: 200, attempts: 1, error: null }]);
  assert.deepEqual(JSON.parse(JSON.stringify(reports)), reports);
});
