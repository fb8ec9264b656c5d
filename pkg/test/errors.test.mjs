// The error convention: every failure is a JS Error named DifyOpikError with
// `code`, `path` and `message`; the instance keeps working after any error.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as opik from 'dify-opik';
import { GOLDEN_DIR, NOW, PKG } from './helpers.mjs';

const good = readFileSync(join(GOLDEN_DIR, 'workflow_basic.json'), 'utf8');
const OPTIONS = { profile: 'reference', now: NOW };

function caught(f) {
  try {
    f();
  } catch (e) {
    return e;
  }
  assert.fail('expected a throw');
}

function assertOpikError(e, code, path) {
  assert.ok(e instanceof Error, 'an Error');
  assert.equal(e.name, 'DifyOpikError');
  assert.equal(e.code, code);
  if (path !== undefined) assert.equal(e.path, path);
  assert.equal(typeof e.path, 'string');
  assert.equal(typeof e.message, 'string');
  assert.ok(e.message.length > 0);
  assert.ok(typeof e.stack === 'string');
}

test('errors carry code, path and message', () => {
  assertOpikError(caught(() => opik.map('{bad')), 'invalid_json', '');
  assertOpikError(caught(() => opik.map('')), 'invalid_json', '');
  assertOpikError(caught(() => opik.map('42')), 'invalid_type', '');
  assertOpikError(caught(() => opik.map(good, { profile: 'nope' })), 'invalid_option', '/options/profile');
  assertOpikError(caught(() => opik.map(good, { bogus: 1 })), 'invalid_option', '/options/bogus');
  assertOpikError(caught(() => opik.map(good, '{not json')), 'invalid_option', '/options');
  assertOpikError(caught(() => opik.map(good, { max_input_bytes: 10 })), 'too_large', '');
  assertOpikError(caught(() => opik.map('['.repeat(100000))), 'invalid_json');
  assertOpikError(caught(() => opik.mapBytes(new Uint8Array([0x7b, 0xff, 0x7d]))), 'invalid_json', '');
  assertOpikError(caught(() => opik.mapBytes('text')), 'invalid_type', '');
  assertOpikError(caught(() => opik.map(undefined)), 'invalid_type', '');
  assertOpikError(caught(() => opik.map({ big: 1n })), 'invalid_type', '');
  const uuid = readFileSync(join(GOLDEN_DIR, 'workflow_non_uuid_external_trace_id.json'), 'utf8');
  const e = caught(() => opik.map(uuid, OPTIONS));
  assertOpikError(e, 'invalid_uuid');
  assert.match(e.path, /^\/trace_info\//);
});

test('error messages never quote input values', () => {
  const secret = 'sk-very-secret-value-0123456789';
  const task = JSON.parse(good);
  task.trace_info.start_time = secret;
  const e = caught(() => opik.map(task, OPTIONS));
  assert.equal(e.code, 'invalid_timestamp');
  assert.ok(!e.message.includes(secret) && !e.stack.includes(secret));
});

test('buildRequests rejects an invalid configuration with invalid_config', () => {
  const r = opik.map(good, OPTIONS);
  assertOpikError(caught(() => opik.buildRequests(r, {})), 'invalid_config', '/api_key');
  assertOpikError(caught(() => opik.buildRequests(good, { url: 'ftp://x/api/' })), 'invalid_config', '/url');
  assertOpikError(
    caught(() => opik.buildRequests(r, { url: 'http://127.0.0.1:5173/api' }, { max_items: 'x' })),
    'invalid_option',
  );
  // validateConfig reports instead of throwing.
  const report = opik.validateConfig({ url: 'ftp://x/api/', api_key: 'a\nb' });
  assert.equal(report.ok, false);
  assert.deepEqual(report.problems.map((p) => p.path), ['/url', '/api_key']);
  assert.equal(opik.validateConfig('not json').ok, false);
});

test('1,000 bad inputs, then a good one, still work', () => {
  const want = opik.map(good, OPTIONS);
  const bytes = new TextEncoder().encode(good);
  let failures = 0;
  for (let i = 0; i < 1000; i++) {
    let bad;
    switch (i % 10) {
      case 0: bad = good.slice(0, (i * 37) % good.length); break;
      case 1: bad = '['.repeat(i + 1); break;
      case 2: bad = `{"trace_info_type":${i},"trace_info":[${i}]}`; break;
      case 3: bad = good.replace('"2025-06-10', `"${'9'.repeat((i % 30) + 5)}-06-10`); break;
      case 4: bad = good.replace(/"id": "[^"]+"/, `"id": ${i}`); break;
      case 5: bad = bytes.slice(0, i % 200).fill(0xff, 0, 1); break;
      case 6: bad = `"${'\\u'.repeat(i % 50)}"`; break;
      case 7: bad = good.replaceAll(':', ','); break;
      case 8: bad = { trace_info_type: 'WorkflowTraceInfo', trace_info: { metadata: i } }; break;
      default: bad = good.replace('WorkflowTraceInfo', 'MessageTraceInfo').replace('"message_data": null', '"message_data": 5');
    }
    for (const f of [() => opik.map(bad, OPTIONS), () => opik.mapEach(bad, OPTIONS)]) {
      try {
        f();
      } catch (e) {
        assert.equal(e.name, 'DifyOpikError', String(e));
        assert.equal(typeof e.code, 'string');
        failures += 1;
      }
    }
  }
  assert.ok(failures > 900, `only ${failures} calls failed`);
  assert.deepEqual(opik.map(good, OPTIONS), want);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(opik.mapBytes(bytes, OPTIONS))), want);
});

test('deep nesting anywhere neither overflows the stack nor breaks the instance', () => {
  const deep = '{"a":'.repeat(100000) + '1' + '}'.repeat(100000);
  const task = JSON.parse(good);
  task.trace_info.workflow_run_inputs = { x: '@@' };
  task.node_executions[1].outputs = { x: '@@' };
  const text = JSON.stringify(task).replaceAll('"@@"', deep);
  for (const profile of ['linked', 'reference']) {
    const r = opik.map(text, { profile, now: NOW });
    assert.equal(r.spans.length, 5);
  }
  assert.deepEqual(opik.map(good, OPTIONS).spans.length, 5);
});

test('large inputs reuse and then release the buffers', () => {
  const task = JSON.parse(good);
  const node = task.node_executions[1];
  task.node_executions = Array.from({ length: 2000 }, (_, i) => ({
    ...node,
    id: node.id.replace(/.{4}$/, String(1000 + i)),
    title: i % 2 ? node.title : `節點 ${i} — ${node.title}`,
  }));
  const big = JSON.stringify(task);
  assert.ok(big.length > 2_000_000);
  const r = opik.map(big, OPTIONS);
  assert.equal(r.spans.length, 2001);
  assert.equal(r.spans.filter((s) => s.name.startsWith('節點 ')).length, 1000);
  assert.deepEqual(opik.map(new TextEncoder().encode(big), OPTIONS), r);
  // A small input afterwards gives the small result (no stale bytes).
  assert.deepEqual(opik.map(good, OPTIONS), opik.map(JSON.parse(good), OPTIONS));
});

test('the browser entry throws not_initialized before init(), then works', () => {
  // A fresh process: in this one the Node entry already loaded the wasm.
  const script = `
    import * as b from ${JSON.stringify(join(PKG, 'browser.js'))};
    import { readFileSync } from 'node:fs';
    const out = {};
    try { b.map('{}'); } catch (e) { out.before = { name: e.name, code: e.code, path: e.path }; }
    await b.init(readFileSync(${JSON.stringify(join(PKG, 'dist/dify_opik_bg.wasm'))}));
    await b.init();
    out.after = b.map(${JSON.stringify(good)}, { now: ${JSON.stringify(NOW)} }).spans.length;
    console.log(JSON.stringify(out));
  `;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    before: { name: 'DifyOpikError', code: 'not_initialized', path: '' },
    after: 5,
  });
});

test('an input certainly over max_input_bytes is refused before it is copied', () => {
  const big = ' '.repeat(70 * 1024 * 1024);
  const e = caught(() => opik.map(big, { max_input_bytes: 65 * 1024 * 1024 }));
  assertOpikError(e, 'too_large', '');
  assert.match(e.message, /the limit is 68157440 bytes/);
  const bytes = new Uint8Array(300 * 1024 * 1024);
  assertOpikError(caught(() => opik.mapBytes(bytes)), 'too_large', '');
  // Under the limit, the core decides (here: whitespace only is not JSON).
  assertOpikError(caught(() => opik.map(big)), 'invalid_json');
  assert.equal(opik.map(good, OPTIONS).spans.length, 5);
});
