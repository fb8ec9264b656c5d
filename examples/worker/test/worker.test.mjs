// The example worker in the real workerd runtime, offline: wrangler bundles it
// exactly as `wrangler deploy` would (resolving the package's `workerd`
// export condition, the .wasm as a compiled module), Miniflare runs the bundle
// in workerd, and the worker sends to the loopback Opik-compatible receiver
// (tests/receiver), which validates every body against Opik's schema.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Miniflare } from 'miniflare';
import { map } from 'dify-opik';
import { startReceiver } from '../../../tests/receiver/receiver.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const EXAMPLES = join(root, '..', 'traces');
const SECRET = 'ingest-secret-7f3b2c';
const API_KEY = 'opik-key-9d1e4a6b';
const WORKSPACE = 'acme';
const PROJECT = 'dify-edge';

let work;
let bundle;

before(() => {
  work = mkdtempSync(join(tmpdir(), 'dify-opik-worker-'));
  bundle = join(work, 'dist');
  const t0 = Date.now();
  execFileSync(
    process.execPath,
    [join(root, 'node_modules', 'wrangler', 'bin', 'wrangler.js'), 'deploy', '--dry-run', '--outdir', bundle],
    {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        CI: 'true',
        WRANGLER_SEND_METRICS: 'false',
        WRANGLER_HIDE_BANNER: 'true', // no update check against the npm registry
        WRANGLER_LOG_PATH: join(work, 'logs'),
        XDG_CONFIG_HOME: join(work, 'config'),
      },
    },
  );
  console.log(`# wrangler bundle: ${readdirSync(bundle).join(', ')} in ${Date.now() - t0} ms`);
});

after(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Starts the bundled worker in workerd with these bindings. */
async function startWorker(bindings) {
  const mf = new Miniflare({
    modules: true,
    scriptPath: join(bundle, 'worker.js'),
    modulesRoot: bundle,
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-01-01',
    host: '127.0.0.1',
    bindings: {
      INGEST_SECRET: SECRET,
      OPIK_API_KEY: API_KEY,
      OPIK_WORKSPACE: WORKSPACE,
      OPIK_PROJECT: PROJECT,
      SEND_BACKOFF_MS: '20',
      ...bindings,
    },
  });
  try {
    await mf.ready;
  } catch (e) {
    await mf.dispose().catch(() => {});
    throw e;
  }
  return mf;
}

/** Every example trace task (array files flattened). */
function exampleTasks() {
  const tasks = [];
  for (const f of readdirSync(EXAMPLES).filter((n) => n.endsWith('.json')).sort()) {
    const v = JSON.parse(readFileSync(join(EXAMPLES, f), 'utf8'));
    tasks.push(...(Array.isArray(v) ? v : [v]));
  }
  return tasks;
}

async function post(mf, body, headers = { 'x-dify-opik-secret': SECRET }) {
  const res = await mf.dispatchFetch('http://worker.local/ingest', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });
  const text = await res.text();
  assert.ok(!text.includes(API_KEY), 'the API key must never be echoed');
  return { status: res.status, json: JSON.parse(text) };
}

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
function assertExactly(rx, want) {
  assert.equal(rx.state.traces.length, want.traces.length, 'trace count');
  assert.equal(rx.state.spans.length, want.spans.length, 'span count');
  assert.deepEqual([...rx.state.traces].sort(byId), [...want.traces].sort(byId));
  assert.deepEqual([...rx.state.spans].sort(byId), [...want.spans].sort(byId));
}

test('a good batch: the receiver gets exactly the mapped objects', async () => {
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  const mf = await startWorker({ OPIK_URL: rx.url });
  try {
    const tasks = exampleTasks();
    assert.ok(tasks.length >= 12);
    const body = JSON.stringify(tasks);
    const want = map(body, { project: PROJECT });
    const t0 = Date.now();
    const { status, json } = await post(mf, body);
    console.log(`# ${tasks.length} tasks → ${want.traces.length} traces, ${want.spans.length} spans in ${Date.now() - t0} ms`);
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(json.ok, true);
    assert.deepEqual(json.sent, { traces: want.traces.length, spans: want.spans.length });
    assert.deepEqual(json.mapped, json.sent);
    assert.deepEqual(json.failures, []);
    assert.deepEqual(json.errors, []);
    assert.equal(json.warning_count, want.warnings.length);
    assertExactly(rx, want);
    assert.equal(rx.state.rejected.length, 0);
    for (const q of rx.state.requests) {
      assert.equal(q.headers.authorization, API_KEY);
      assert.equal(q.headers['comet-workspace'], WORKSPACE);
    }

    // JSON lines, and one bare envelope, work the same way
    const lines = tasks.slice(0, 3).map((t) => JSON.stringify(t)).join('\n');
    const r2 = await post(mf, lines);
    assert.equal(r2.status, 200);
    const one = await post(mf, JSON.stringify(tasks[4]));
    assert.equal(one.status, 200);
    assert.equal(one.json.sent.traces, map(JSON.stringify(tasks[4])).traces.length);
  } finally {
    await mf.dispose();
    await rx.close();
  }
});

test('Opik answering 503 twice: retried, delivered once', async () => {
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE, failFirst: 2, failStatus: 503 });
  const mf = await startWorker({ OPIK_URL: rx.url });
  try {
    const body = JSON.stringify(exampleTasks().slice(0, 6));
    const want = map(body, { project: PROJECT });
    const { status, json } = await post(mf, body);
    assert.equal(status, 200, JSON.stringify(json));
    assert.equal(rx.state.rejected.filter((r) => r.status === 503).length, 2);
    assert.equal(json.requests.attempts, json.requests.total + 2);
    assertExactly(rx, want);
  } finally {
    await mf.dispose();
    await rx.close();
  }
});

test('rejected requests send nothing: 401 bad or missing secret, 400 invalid JSON, 413 too large, 405', async () => {
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  const mf = await startWorker({ OPIK_URL: rx.url, MAX_BODY_BYTES: '50000' });
  try {
    const good = JSON.stringify(exampleTasks().slice(0, 2));

    const wrong = await post(mf, good, { 'x-dify-opik-secret': 'guess' });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json.error.code, 'unauthorized');
    const missing = await post(mf, good, {});
    assert.equal(missing.status, 401);

    const bad = await post(mf, '{"app_id": "a", "trace_info_type": "MessageTraceInfo", "trace_info": {');
    assert.equal(bad.status, 400, JSON.stringify(bad.json));
    assert.equal(bad.json.error.code, 'invalid_json');
    assert.equal(typeof bad.json.error.path, 'string');
    assert.ok(bad.json.error.message.length > 0);
    const notJson = await post(mf, 'not json');
    assert.equal(notJson.status, 400);
    assert.deepEqual(
      { code: notJson.json.error.code, path: notJson.json.error.path },
      { code: 'invalid_json', path: '' },
    );
    // JSON lines with one broken line: the path starts with the line's index; nothing is sent
    const lines = `${JSON.stringify(exampleTasks()[0])}\n{"app_id": oops}`;
    const badLine = await post(mf, lines);
    assert.equal(badLine.status, 400);
    assert.equal(badLine.json.error.code, 'invalid_json');
    assert.equal(badLine.json.error.path, '/1/app_id');

    const big = await post(mf, JSON.stringify(exampleTasks()));
    assert.equal(big.status, 413);
    assert.equal(big.json.error.code, 'too_large');
    // no Content-Length (a streamed body): the cap applies while reading
    const chunk = new TextEncoder().encode(JSON.stringify(exampleTasks()).slice(0, 20000));
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent++ < 4) c.enqueue(chunk);
        else c.close();
      },
    });
    const streamed = await mf.dispatchFetch('http://worker.local/ingest', {
      method: 'POST',
      headers: { 'x-dify-opik-secret': SECRET },
      body: stream,
      duplex: 'half',
    });
    assert.equal(streamed.status, 413);
    assert.equal((await streamed.json()).error.code, 'too_large');

    const get = await mf.dispatchFetch('http://worker.local/ingest');
    assert.equal(get.status, 405);
    await get.text();

    assert.equal(rx.state.requests.length, 0, 'nothing reached Opik');

    const health = await mf.dispatchFetch('http://worker.local/health');
    assert.equal(health.status, 200);
    assert.match((await health.json()).version, /^\d+\.\d+\.\d+/);
  } finally {
    await mf.dispose();
    await rx.close();
  }
});

test('a task that cannot be mapped: 422 with its error, the others still sent', async () => {
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  const mf = await startWorker({ OPIK_URL: rx.url });
  try {
    const tasks = exampleTasks().slice(0, 3);
    const body = JSON.stringify([tasks[0], { app_id: 'x', trace_info_type: 'WorkflowTraceInfo', trace_info: 'oops' }, tasks[1]]);
    const { status, json } = await post(mf, body);
    assert.equal(status, 422, JSON.stringify(json));
    assert.equal(json.errors.length, 1);
    assert.match(json.errors[0].path, /^\/1/);
    assertExactly(rx, map(JSON.stringify([tasks[0], tasks[1]]), { project: PROJECT }));
  } finally {
    await mf.dispose();
    await rx.close();
  }
});

test('Opik refusing the key: 502 with the failures, the key not echoed', async () => {
  const rx = await startReceiver({ apiKey: 'another-key', workspace: WORKSPACE });
  const mf = await startWorker({ OPIK_URL: rx.url });
  try {
    const { status, json } = await post(mf, JSON.stringify(exampleTasks()[3]));
    assert.equal(status, 502);
    assert.equal(json.ok, false);
    assert.ok(json.failures.length >= 1);
    assert.equal(json.failures[0].status, 401);
    assert.equal(json.failures[0].attempts, 1, '401 is not retried');
    assert.equal(rx.state.traces.length, 0);
  } finally {
    await mf.dispose();
    await rx.close();
  }
});

test('a worker without INGEST_SECRET refuses everything (500) and sends nothing', async () => {
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  const mf = await startWorker({ OPIK_URL: rx.url, INGEST_SECRET: '' });
  try {
    const { status, json } = await post(mf, JSON.stringify(exampleTasks()[0]));
    assert.equal(status, 500);
    assert.equal(json.error.code, 'not_configured');
    assert.equal(rx.state.requests.length, 0);
  } finally {
    await mf.dispose();
    await rx.close();
  }
});

// The package's worker entry (the `workerd` condition) must survive bundling
// with its initialisation: pkg/package.json lists it under `sideEffects`, so
// esbuild (inside wrangler) keeps worker.js and its `initSync(wasmModule)`.
test('wrangler keeps the package worker entry in the bundle', () => {
  const text = readFileSync(join(bundle, 'worker.js'), 'utf8');
  assert.ok(!/pkg\/browser\.js/.test(text), 'the browser entry must not be bundled');
  assert.ok(/\/\/ .*pkg\/worker\.js/.test(text), 'the worker entry (workerd condition) is bundled');
});
