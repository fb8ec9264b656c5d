// The browser entry in headless Chromium (Debian's, driven by
// playwright-core): a page imports the package by name through an import
// map, awaits init() (which fetches the .wasm next to the glue), and maps.
// Skipped when no Chromium is installed (scripts/tools.sh chromium).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { test } from 'node:test';

import * as opik from 'dify-opik';
import { GOLDEN_DIR, NOW, PKG } from './helpers.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);

const TYPES = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html', '.json': 'application/json' };

const PAGE = `<!doctype html>
<meta charset="utf-8">
<script type="importmap">{"imports": {"dify-opik": "/browser.js"}}</script>
<script type="module">
  import * as opik from 'dify-opik';
  window.run = async (text, options) => {
    const out = {};
    try { opik.map(text, options); } catch (e) { out.before = { name: e.name, code: e.code }; }
    await opik.init();
    out.result = opik.map(text, options);
    out.bytes = new TextDecoder().decode(opik.mapBytes(new TextEncoder().encode(text), options));
    try { opik.map('{bad', options); } catch (e) { out.error = { name: e.name, code: e.code, path: e.path, isError: e instanceof Error }; }
    out.again = opik.map(text, options);
    out.config = opik.validateConfig({ url: 'http://127.0.0.1:5173/api' }).ok;
    out.version = opik.version();
    return out;
  };
  window.mapOnly = (text, options) => opik.map(text, options);
  window.ready = true;
</script>`;

test('browser entry: await init(), then map', { skip: CHROMIUM ? false : 'no Chromium installed', timeout: 120_000 }, async () => {
  const { chromium } = await import('playwright-core');
  const server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/page.html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
      return;
    }
    const file = normalize(join(PKG, path));
    if (!file.startsWith(PKG) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    const problems = [];
    page.on('pageerror', (e) => problems.push(String(e)));
    await page.goto(`http://127.0.0.1:${server.address().port}/page.html`);
    await page.waitForFunction(() => window.ready === true);
    // Non-ASCII names: the output then crosses as UTF-16 (TextDecoder here, no Buffer).
    const text = readFileSync(join(GOLDEN_DIR, 'workflow_basic.json'), 'utf8').replaceAll('"title": "', '"title": "Zürich 東京 🚀 ');
    const options = { now: NOW, profile: 'reference', project: 'dify-project' };
    const out = await page.evaluate(([t, o]) => window.run(t, o), [text, options]);
    const want = opik.map(text, options);
    assert.deepEqual(out.before, { name: 'DifyOpikError', code: 'not_initialized' });
    assert.ok(want.spans.some((s) => s.name.startsWith('Zürich 東京 🚀 ')));
    assert.deepEqual(out.result, want);
    assert.deepEqual(JSON.parse(out.bytes), want);
    assert.deepEqual(out.error, { name: 'DifyOpikError', code: 'invalid_json', path: '', isError: true });
    assert.deepEqual(out.again, want);
    assert.equal(out.config, true);
    assert.equal(out.version, opik.version());
    // Outputs of several pieces (about 300 KB), each parsed as it comes:
    // here with TextDecoder's strings, in Node with a reused Buffer's.
    for (const fill of ['x'.repeat(40_000), 'é東🚀'.repeat(8_000)]) {
      const big = text.replaceAll('"title": "', `"title": "${fill}`);
      const got = await page.evaluate(([t, o]) => window.mapOnly(t, o), [big, options]);
      assert.ok(opik.mapJson(big, options).length > 5 * 48 * 1024);
      assert.deepEqual(got, opik.map(big, options));
      assert.deepEqual(got, JSON.parse(opik.mapJson(big, options)));
    }
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
    server.close();
  }
});
