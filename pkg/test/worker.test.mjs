// The worker entry in real workerd (Miniflare 4 / workerd 1.20260426): the
// `.wasm` is a statically imported module (CompiledWasm), instantiated with
// initSync; no fetch or compile at run time. And the `workerd` / `worker`
// conditions resolve to that entry.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { Miniflare } from 'miniflare';

import * as opik from 'dify-opik';
import { GOLDEN_DIR, NOW, PKG } from './helpers.mjs';

let mf;

before(async () => {
  mf = new Miniflare({
    modules: true,
    modulesRoot: PKG,
    scriptPath: join(PKG, 'test/worker/entry.mjs'),
    modulesRules: [
      { type: 'ESModule', include: ['**/*.js', '**/*.mjs'] },
      { type: 'CompiledWasm', include: ['**/*.wasm'] },
    ],
    compatibilityDate: '2025-01-01',
    host: '127.0.0.1',
  });
  await mf.ready;
});

after(async () => {
  await mf?.dispose();
});

test('the workerd and worker conditions pick the worker entry', () => {
  for (const [condition, entry] of [
    ['workerd', 'worker.js'],
    ['worker', 'worker.js'],
    ['node', 'dist/node.js'],
  ]) {
    const r = spawnSync(
      process.execPath,
      [`--conditions=${condition}`, '--input-type=module', '-e', "console.log(import.meta.resolve('dify-opik'))"],
      { cwd: PKG, encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), new URL(entry, `file://${PKG}/`).href, condition);
  }
});

test('maps in workerd exactly as in Node', async () => {
  for (const name of ['workflow_basic', 'message_chat_end_user', 'tool']) {
    const text = readFileSync(join(GOLDEN_DIR, `${name}.json`), 'utf8');
    for (const options of [{ now: NOW }, { now: NOW, profile: 'reference', project: 'dify-project' }]) {
      const res = await mf.dispatchFetch(`http://worker/map?options=${encodeURIComponent(JSON.stringify(options))}`, {
        method: 'POST',
        body: text,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(await res.json(), opik.map(text, options), name);
    }
  }
  const v = await mf.dispatchFetch('http://worker/version');
  assert.deepEqual(await v.json(), { version: opik.version() });
});

test('errors in workerd carry code and path; the instance keeps working', async () => {
  for (let i = 0; i < 50; i++) {
    const res = await mf.dispatchFetch('http://worker/map', { method: 'POST', body: '{bad' + i });
    assert.equal(res.status, 400);
    const e = await res.json();
    assert.equal(e.name, 'DifyOpikError');
    assert.equal(e.code, 'invalid_json');
    assert.equal(e.path, '');
  }
  const text = readFileSync(join(GOLDEN_DIR, 'workflow_basic.json'), 'utf8');
  const res = await mf.dispatchFetch('http://worker/map', { method: 'POST', body: text });
  assert.equal((await res.json()).spans.length, 5);
});

test('send() from workerd to a loopback server that fails twice', async () => {
  const hits = [];
  let failures = 2;
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      hits.push(req.url);
      if (req.url.includes('/traces/') && failures-- > 0) {
        res.writeHead(503).end();
      } else {
        res.writeHead(204).end();
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const config = { url: `http://127.0.0.1:${server.address().port}/api` };
    const text = readFileSync(join(GOLDEN_DIR, 'workflow_basic.json'), 'utf8');
    const res = await mf.dispatchFetch(`http://worker/send?config=${encodeURIComponent(JSON.stringify(config))}`, {
      method: 'POST',
      body: text,
    });
    assert.equal(res.status, 200);
    const reports = await res.json();
    assert.deepEqual(
      reports.map((r) => [r.kind, r.ok, r.status, r.attempts]),
      [
        ['traces', true, 204, 3],
        ['spans', true, 204, 1],
      ],
    );
    assert.equal(hits.length, 4);
  } finally {
    server.close();
  }
});
