// Unit tests of the page's pure helpers and of the site builder (no browser).

import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import { browserFiles, describeExample, findWebEntry } from '../build.mjs';
import {
  barOf,
  buildForest,
  curlCommand,
  flatten,
  formatCost,
  formatDuration,
  highlightJson,
  parseTime,
  shellQuote,
  totalsOf,
} from '../src/model.js';

test('parseTime reads the forms the library emits and accepts', () => {
  assert.equal(parseTime('2026-03-02T09:30:00Z'), Date.UTC(2026, 2, 2, 9, 30) * 1000);
  assert.equal(parseTime('2026-03-02T09:30:00.250000Z') - parseTime('2026-03-02T09:30:00Z'), 250000);
  assert.equal(parseTime('2026-03-02T09:30:00.123456789Z') % 1e6, 123456);
  assert.equal(parseTime('2026-03-02T15:00:00+05:30'), parseTime('2026-03-02T09:30:00Z'));
  assert.equal(parseTime('2026-03-02T15:00:00+0530'), parseTime('2026-03-02T09:30:00Z'));
  assert.equal(parseTime('2026-03-02T09:30:00'), parseTime('2026-03-02T09:30:00Z'), 'naive = UTC');
  assert.equal(parseTime('yesterday'), null);
  assert.equal(parseTime(null), null);
});

test('durations and costs read well', () => {
  assert.equal(formatDuration(850), '850 µs');
  assert.equal(formatDuration(12500), '12.5 ms');
  assert.equal(formatDuration(1100000), '1.1 s');
  assert.equal(formatDuration(125e6), '2 min 05 s');
  assert.equal(formatCost(4.2e-5), '$0.000042');
  assert.equal(formatCost(0.125), '$0.125');
  assert.equal(formatCost(0), '$0');
});

const t = (id, start, end) => ({ id, name: id, start_time: start, end_time: end });
const s = (id, trace_id, parent_span_id, start, end, extra = {}) => ({ id, name: id, trace_id, parent_span_id, start_time: start, end_time: end, ...extra });

test('buildForest nests spans under their parents and traces', () => {
  const result = {
    traces: [t('T1', '2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z')],
    spans: [
      s('child', 'T1', 'root', '2026-01-01T00:00:02Z', '2026-01-01T00:00:04Z', { usage: { total_tokens: 7 }, total_estimated_cost: 0.5 }),
      s('root', 'T1', null, '2026-01-01T00:00:00Z', '2026-01-01T00:00:10Z'),
      s('lost', 'T1', 'nope', '2026-01-01T00:00:05Z', null),
      s('elsewhere', 'T9', null, '2026-01-01T00:00:05Z', '2026-01-01T00:00:06Z', { error_info: { exception_type: 'x' } }),
    ],
  };
  const roots = buildForest(result);
  assert.deepEqual(roots.map((r) => r.kind), ['trace', 'missing_trace']);
  const names = flatten(roots).map((n) => `${n.depth}:${n.obj.name ?? n.kind}`);
  assert.deepEqual(names, ['0:T1', '1:root', '2:child', '1:lost', '0:missing_trace', '1:elsewhere']);
  const lost = flatten(roots).find((n) => n.obj.name === 'lost');
  assert.equal(lost.orphan, true);
  const child = flatten(roots).find((n) => n.obj.name === 'child');
  assert.deepEqual(barOf(child), { left: 0.2, width: 0.2, open: false });
  assert.equal(barOf(lost).open, true);
  assert.deepEqual(totalsOf(roots[0]), { tokens: 7, cost: 0.5, errors: 0 });
  assert.equal(totalsOf(roots[1]).errors, 1);
});

test('buildForest survives a parent cycle', () => {
  const roots = buildForest({
    traces: [t('T', '2026-01-01T00:00:00Z', '2026-01-01T00:00:01Z')],
    spans: [s('a', 'T', 'b', '2026-01-01T00:00:00Z', null), s('b', 'T', 'a', '2026-01-01T00:00:00Z', null)],
  });
  assert.equal(flatten(roots).length, 3);
});

test('curl commands quote for the shell and let the caller mask headers', () => {
  const req = { method: 'POST', url: 'http://h/api/v1/private/traces/batch', headers: { Authorization: 'secret-key-123456', 'Content-Type': 'application/json' }, body: `{"a":"it's"}` };
  const masked = curlCommand(req, (k, v) => (k === 'Authorization' ? '****3456' : v));
  assert.equal(
    masked,
    `curl -X POST 'http://h/api/v1/private/traces/batch' \\\n  -H 'Authorization: ****3456' \\\n  -H 'Content-Type: application/json' \\\n  --data-raw '{"a":"it'\\''s"}'`,
  );
  assert.ok(!masked.includes('secret'));
  assert.equal(shellQuote("a'b"), `'a'\\''b'`);
});

test('highlightJson escapes HTML and keeps the JSON text', () => {
  const v = { k: '<b>"x"</b>', n: -1.5e-7, ok: true, z: null };
  const html = highlightJson(v);
  assert.ok(!html.includes('<b>'));
  const text = html.replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
  assert.equal(text, JSON.stringify(v, null, 2));
});

test('the builder finds the web entry through package.json exports and describes examples', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dify-opik-pkg-'));
  try {
    mkdirSync(join(dir, 'web'));
    mkdirSync(join(dir, 'node'));
    writeFileSync(join(dir, 'web', 'x.js'), 'export default async function init() {}\n');
    writeFileSync(join(dir, 'node', 'x.js'), 'module.exports = require("./y")\n');
    writeFileSync(
      join(dir, 'package.json'),
      JSON.stringify({ main: './node/x.js', exports: { '.': { node: { default: './node/x.js' }, browser: { types: './web/x.d.ts', default: './web/x.js' } } } }),
    );
    assert.equal(findWebEntry(dir), 'web/x.js');
    // the files a browser needs: followed through imports and import.meta.url assets
    mkdirSync(join(dir, 'dist'));
    writeFileSync(join(dir, 'browser.js'), "import init, { f } from './dist/glue.js';\nexport * from './lib/api.js';\nexport default init;\n");
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'api.js'), "export { g } from '../dist/glue.js';\n// import './not-this.js'\n");
    writeFileSync(join(dir, 'dist', 'glue.js'), "export default function init() { return new URL('glue_bg.wasm', import.meta.url); }\nexport const f = 1, g = 2;\n");
    writeFileSync(join(dir, 'dist', 'glue_bg.wasm'), '');
    assert.deepEqual(browserFiles(dir, 'browser.js'), ['browser.js', 'dist/glue.js', 'dist/glue_bg.wasm', 'lib/api.js']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(describeExample('{"trace_info_type":"A"}'), { shape: 'envelope', tasks: 1, types: ['A'] });
  assert.deepEqual(describeExample('[{"trace_info_type":"A"},{"trace_info_type":"B"}]'), { shape: 'array', tasks: 2, types: ['A', 'B'] });
  assert.deepEqual(describeExample('{"trace_info_type":"A"}\n{"trace_info_type":"B"}\n'), { shape: 'json_lines', tasks: 2, types: ['A', 'B'] });
  assert.ok(readFileSync(new URL('../src/index.html', import.meta.url), 'utf8').includes("default-src 'none'"), 'the page forbids outside requests by CSP');
});
