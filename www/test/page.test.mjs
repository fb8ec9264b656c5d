// Browser tests of the previewer in real headless Chromium.
// Expected output comes from the native CLI on the same example files.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  artifacts,
  browserUp,
  examplesDir,
  expectedConfigProblems,
  expectedMap,
  listExamples,
  nextRun,
  openPage,
  runCli,
  runsOf,
  siteUp,
  sorted,
  treeContents,
} from './helpers.mjs';

const examples = listExamples(examplesDir);
let site;
let browser;

/** The CLI's output for every example in both profiles. */
const expectations = new Map(examples.map((f) => [f, { linked: expectedMap(f, 'linked'), reference: expectedMap(f, 'reference') }]));
/** The example with a trace and the most spans (for the interaction tests). */
const rich = examples
  .filter((f) => expectations.get(f).linked.traces?.length)
  .sort((a, b) => expectations.get(b).linked.spans.length - expectations.get(a).linked.spans.length)[0];
const richUrl = () => `${site.url}?example=${encodeURIComponent(rich)}`;

before(async () => {
  site = await siteUp();
  browser = await browserUp();
});

after(async () => {
  await browser?.close();
  await site?.down();
});

/** An example file (envelope, array or JSON lines) as JSON lines. */
function toJsonLines(text) {
  try {
    const v = JSON.parse(text);
    return (Array.isArray(v) ? v : [v]).map((x) => JSON.stringify(x) + '\n').join('');
  } catch {
    return text.split('\n').filter((l) => l.trim()).map((l) => l.trim() + '\n').join('');
  }
}

/** Every example's tasks as one JSON array of envelopes. */
function toJsonArray(files) {
  const tasks = files.flatMap((f) => toJsonLines(readFileSync(join(examplesDir, f), 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l)));
  return JSON.stringify(tasks, null, 2);
}

/** A datetime from the CLI's output as microseconds since the epoch (test-side, independent of the page's parser). */
function micros(text) {
  if (typeof text !== 'string') return null;
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  assert.ok(m, `the CLI writes RFC 3339 datetimes: ${text}`);
  const ms = Date.parse(`${m[1]}${m[3]}`);
  return ms * 1000 + Number(((m[2] ?? '') + '000000').slice(0, 6));
}

/** What each tree row shows: type badge, tag chips, tokens, cost, error marks, and the timeline bar's geometry in pixels. */
async function rowFacts(page) {
  return page.$$eval('#tree [role=treeitem]', (items) =>
    items.map((li) => {
      const row = li.querySelector(':scope > .row');
      const cell = (sel) => row.querySelector(sel);
      const track = cell('.c-time').getBoundingClientRect();
      const barEl = cell('.c-time .bar');
      const bar = barEl?.getBoundingClientRect();
      const more = cell('.c-name .chip-more');
      return {
        kind: li.dataset.kind,
        id: li.dataset.id,
        type: cell('.c-type').textContent.trim(),
        tags: [...row.querySelectorAll('.c-name .chip-tag')].map((c) => c.textContent),
        more: more ? { text: more.textContent, title: more.title } : null,
        tokens: cell('.c-tok').textContent,
        tokensTitle: cell('.c-tok').title,
        cost: cell('.c-cost').textContent,
        costTitle: cell('.c-cost').title,
        errors: [...row.querySelectorAll('.chip-error')].map((c) => ({ text: c.textContent, title: c.title })),
        rowError: row.classList.contains('row-error'),
        track: { width: track.width, visible: track.width > 0 && track.height > 0 },
        bar: bar
          ? { left: bar.left - track.left, width: bar.width, open: barEl.classList.contains('is-open'), error: barEl.classList.contains('is-error') }
          : null,
      };
    }),
  );
}

/**
 * The rows agree with the CLI's objects: each bar sits at the object's start and is as wide as its
 * duration, as shares of its trace's time window (the earliest and latest time of the trace and its
 * spans); spans show their type and tags, tokens and cost exactly when they have them, and an error
 * mark exactly when they have `error_info`; a trace shows the sums over its spans.
 */
function assertRowsMatch(rows, expected, label) {
  const rowOf = new Map();
  for (const r of rows) if (r.kind === 'trace' || r.kind === 'span') rowOf.set(`${r.kind} ${r.id}`, r);
  const windows = new Map();
  const widen = (traceId, t) => {
    const us = micros(t);
    if (us == null) return;
    const w = windows.get(traceId) ?? { lo: us, hi: us };
    windows.set(traceId, { lo: Math.min(w.lo, us), hi: Math.max(w.hi, us) });
  };
  for (const t of expected.traces) [t.start_time, t.end_time].forEach((x) => widen(t.id, x));
  for (const s of expected.spans) [s.start_time, s.end_time].forEach((x) => widen(s.trace_id, x));

  const px = 1.5; // rounding of the rendered geometry
  const checkBar = (row, obj, traceId, what) => {
    const start = micros(obj.start_time);
    if (start == null) {
      assert.equal(row.bar, null, `${what}: no bar without a start time`);
      return;
    }
    assert.ok(row.bar, `${what}: has a timeline bar`);
    assert.ok(row.track.visible && row.track.width > 40, `${what}: the timeline column is visible (${row.track.width}px)`);
    const w = windows.get(traceId);
    const len = Math.max(w.hi - w.lo, 1);
    const wantLeft = ((start - w.lo) / len) * row.track.width;
    assert.ok(Math.abs(row.bar.left - wantLeft) <= px, `${what}: bar starts at ${wantLeft.toFixed(1)}px, shown at ${row.bar.left.toFixed(1)}px`);
    const end = micros(obj.end_time);
    if (end == null) {
      assert.ok(row.bar.open, `${what}: an open bar without an end time`);
      return;
    }
    assert.equal(row.bar.open, false, `${what}: not drawn as open`);
    const wantWidth = ((end - start) / len) * row.track.width;
    // a very short span keeps a few pixels so that it stays visible
    const ok = Math.abs(row.bar.width - wantWidth) <= px || (wantWidth < 4 && row.bar.width <= 4 + px);
    assert.ok(ok, `${what}: bar is ${wantWidth.toFixed(1)}px wide, shown ${row.bar.width.toFixed(1)}px`);
    // only a minimum-width bar may poke out past the end, by its few pixels
    assert.ok(row.bar.left + Math.max(row.bar.width - 4, 0) <= row.track.width + px, `${what}: bar stays inside the timeline`);
  };
  const checkError = (row, obj, what) => {
    if (obj.error_info) {
      assert.equal(row.errors.length, 1, `${what}: one error mark`);
      if (obj.error_info.exception_type) assert.ok(row.errors[0].text.includes(obj.error_info.exception_type), `${what}: error mark names ${obj.error_info.exception_type}`);
      assert.equal(row.errors[0].title, obj.error_info.message ?? '', `${what}: error message on the mark`);
      assert.ok(row.rowError && row.bar?.error !== false, `${what}: row and bar marked as failed`);
    } else {
      assert.deepEqual(row.errors, [], `${what}: no error mark`);
      assert.ok(!row.rowError && !row.bar?.error, `${what}: row and bar not marked as failed`);
    }
  };
  const digits = (text) => text.replace(/[\s\u202f]/g, '');
  const checkCost = (shown, cost, what) => {
    const m = /^\$(\d+(?:\.\d+)?)$/.exec(shown);
    assert.ok(m, `${what}: cost shown in dollars ("${shown}")`);
    assert.ok(Math.abs(Number(m[1]) - cost) <= cost * 0.005 + 1e-12, `${what}: cost ${shown} rounds ${cost}`);
  };

  for (const s of expected.spans) {
    const what = `${label}: span ${s.name}`;
    const row = rowOf.get(`span ${s.id}`);
    assert.ok(row, `${what} has a row`);
    checkBar(row, s, s.trace_id, what);
    assert.equal(row.type, s.type ?? 'general', `${what}: type`);
    const tags = s.tags ?? [];
    const hidden = row.more ? Number(row.more.text.replace(/^\+/, '')) : 0;
    assert.deepEqual(row.tags, tags.slice(0, row.tags.length), `${what}: the tags shown are the span's, in order`);
    assert.equal(row.tags.length + hidden, tags.length, `${what}: every tag is shown or counted`);
    if (hidden) assert.equal(row.more.title, tags.slice(row.tags.length).join(', '), `${what}: the counted tags are listed`);
    if (typeof s.usage?.total_tokens === 'number') {
      assert.equal(digits(row.tokens), String(s.usage.total_tokens), `${what}: total tokens`);
    } else {
      assert.equal(row.tokens, '', `${what}: no tokens without usage`);
    }
    if (s.usage) {
      for (const k of ['prompt_tokens', 'completion_tokens', 'total_tokens']) {
        if (typeof s.usage[k] === 'number') assert.ok(row.tokensTitle.includes(`${k.replace('_tokens', '')} ${s.usage[k]}`), `${what}: ${k} in "${row.tokensTitle}"`);
      }
    } else {
      assert.equal(row.tokensTitle, '', `${what}: no usage details`);
    }
    if (typeof s.total_estimated_cost === 'number') {
      assert.equal(row.costTitle, `$${s.total_estimated_cost}`, `${what}: exact cost`);
      checkCost(row.cost, s.total_estimated_cost, what);
    } else {
      assert.equal(row.cost, '', `${what}: no cost`);
      assert.equal(row.costTitle, '', `${what}: no cost details`);
    }
    checkError(row, s, what);
  }
  for (const t of expected.traces) {
    const what = `${label}: trace ${t.name}`;
    const row = rowOf.get(`trace ${t.id}`);
    assert.ok(row, `${what} has a row`);
    checkBar(row, t, t.id, what);
    assert.equal(row.type, 'trace');
    const own = expected.spans.filter((s) => s.trace_id === t.id);
    const tokens = own.filter((s) => typeof s.usage?.total_tokens === 'number');
    assert.equal(digits(row.tokens), tokens.length ? String(tokens.reduce((a, s) => a + s.usage.total_tokens, 0)) : '', `${what}: tokens summed over its spans`);
    const costs = own.filter((s) => typeof s.total_estimated_cost === 'number');
    if (costs.length) checkCost(row.cost, costs.reduce((a, s) => a + s.total_estimated_cost, 0), `${what} (sum)`);
    else assert.equal(row.cost, '', `${what}: no cost`);
    checkError(row, t, what);
  }
}

async function pickExample(page, file) {
  const before = await runsOf(page);
  await page.selectOption('#example', file);
  await nextRun(page, before);
  await page.waitForFunction((f) => document.querySelector('#tree').dataset.source === f, file);
}

async function setProfile(page, profile) {
  const before = await runsOf(page);
  await page.check(`input[name=profile][value=${profile}]`);
  await nextRun(page, before);
}

/** The tree shows exactly the CLI's traces and spans, spans under their parents; or the CLI's error. */
async function assertTreeMatches(page, expected, label) {
  if (expected.error) {
    const box = page.locator('#input-error');
    assert.ok(await box.isVisible(), `${label}: the error is shown`);
    const first = box.locator('li.err').first();
    assert.equal(await first.locator('.ecode').textContent(), expected.error.code, `${label}: error code`);
    assert.equal(await first.locator('.emsg').textContent(), expected.error.message, `${label}: error message`);
    assert.equal(await first.locator('.epath code').textContent(), expected.error.path || '(whole input)', `${label}: error path`);
    assert.equal(await page.locator('#tree [role=treeitem][data-kind=trace], #tree [role=treeitem][data-kind=span]').count(), 0);
    return;
  }
  assert.equal(await page.locator('#input-error').isVisible(), false, `${label}: no error shown`);
  const items = await treeContents(page);
  const traces = items.filter((i) => i.kind === 'trace');
  const spans = items.filter((i) => i.kind === 'span');
  assert.equal(traces.length, expected.traces.length, `${label}: number of traces`);
  assert.equal(spans.length, expected.spans.length, `${label}: number of spans`);
  assert.deepEqual(sorted(traces.map((t) => t.name)), sorted(expected.traces.map((t) => t.name)), `${label}: trace names`);
  assert.deepEqual(sorted(spans.map((s) => s.name)), sorted(expected.spans.map((s) => s.name)), `${label}: span names`);
  assert.deepEqual(sorted(traces.map((t) => t.id)), sorted(expected.traces.map((t) => t.id)), `${label}: trace ids`);
  const byId = new Map(spans.map((s) => [s.id, s]));
  for (const s of expected.spans) {
    const shown = byId.get(s.id);
    assert.ok(shown, `${label}: span ${s.name} ${s.id} is shown`);
    assert.equal(shown.name, s.name, `${label}: name of span ${s.id}`);
    assert.equal(shown.type, s.type ?? 'general', `${label}: type of span ${s.name}`);
    assert.equal(shown.parentId, s.parent_span_id ?? s.trace_id, `${label}: span ${s.name} sits under its parent`);
  }
  const summary = await page.textContent('#summary');
  const plural = (n, w) => `${n} ${w}${n === 1 ? '' : 's'}`;
  assert.ok(summary.includes(plural(expected.traces.length, 'trace')), `${label}: summary "${summary}" counts traces`);
  assert.ok(summary.includes(plural(expected.spans.length, 'span')), `${label}: summary "${summary}" counts spans`);
}

describe('previewer page', () => {
  test('there are bundled examples to test', () => {
    assert.ok(examples.length > 0, 'examples/traces/ holds at least one example');
  });

  test('loads the wasm module, preloads the first example, makes no outside requests', async () => {
    const { context, page, requests, problems } = await openPage(browser, site.url);
    try {
      const version = await page.textContent('#version');
      assert.match(version, /library \S+/);
      const options = await page.$$eval('#example option', (os) => os.map((o) => o.value).filter(Boolean));
      assert.deepEqual(options, examples, 'the picker lists every bundled example, in file order');
      assert.equal(await page.inputValue('#example'), examples[0]);
      await assertTreeMatches(page, expectations.get(examples[0]).linked, examples[0]);
      const origin = new URL(site.url).origin;
      const outside = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
      assert.deepEqual(outside, [], 'no request leaves the local server');
      assert.deepEqual(problems, [], 'no console errors or warnings');
    } finally {
      await context.close();
    }
  });

  test('each example shows the right traces and spans, in both profiles', async () => {
    const { context, page, problems } = await openPage(browser, site.url);
    try {
      for (const profile of ['linked', 'reference']) {
        if (profile !== 'linked') await setProfile(page, profile);
        for (const file of examples) {
          await pickExample(page, file);
          const expected = expectations.get(file)[profile];
          await assertTreeMatches(page, expected, `${file} (${profile})`);
          if (expected.error) continue;
          const shownWarnings = await page.$$eval('#warnings li[data-source=mapping]', (ls) =>
            ls.map((l) => `${l.dataset.code} ${l.querySelector('.wpath code').textContent}`),
          );
          assert.deepEqual(
            sorted(shownWarnings),
            sorted(expected.warnings.map((w) => `${w.code} ${w.path === '' ? '(whole input)' : w.path}`)),
            `${file} (${profile}): warnings with their paths`,
          );
        }
      }
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('each row shows its timeline bar, type, tags, tokens, cost and error mark, as the CLI maps them', async () => {
    const { context, page, problems } = await openPage(browser, site.url);
    try {
      const seen = { bars: 0, usage: 0, cost: 0, errors: 0, tags: 0 };
      for (const profile of ['linked', 'reference']) {
        if (profile !== 'linked') await setProfile(page, profile);
        for (const file of examples) {
          await pickExample(page, file);
          const expected = expectations.get(file)[profile];
          if (expected.error) continue;
          assertRowsMatch(await rowFacts(page), expected, `${file} (${profile})`);
          seen.bars += expected.spans.length + expected.traces.length;
          seen.usage += expected.spans.filter((s) => s.usage).length;
          seen.cost += expected.spans.filter((s) => typeof s.total_estimated_cost === 'number').length;
          seen.errors += expected.spans.filter((s) => s.error_info).length;
          seen.tags += expected.spans.filter((s) => s.tags?.length).length;
        }
      }
      // the examples exercise every kind of cell, so none of the checks above ran empty
      for (const [k, n] of Object.entries(seen)) assert.ok(n > 0, `the examples have spans with ${k}`);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('an opened or dropped JSON array of envelopes is mapped as a batch', async () => {
    const { context, page, problems } = await openPage(browser, site.url);
    try {
      const array = toJsonArray(examples);
      assert.ok(Array.isArray(JSON.parse(array)) && JSON.parse(array).length > examples.length / 2, 'the input is an array of envelopes');
      const want = runCli(['map', '-'], array);
      assert.ok(!want.error, 'the CLI maps the array');
      const assertShown = async (name) => {
        assert.equal(await page.inputValue('#input'), array, `${name}: the file is in the input`);
        assert.match(await page.textContent('#input-status'), new RegExp(name.replace('.', '\\.')));
        const items = await treeContents(page);
        const ids = (kind) => sorted(items.filter((i) => i.kind === kind).map((i) => i.id));
        assert.deepEqual(ids('trace'), sorted(want.traces.map((t) => t.id)), `${name}: the CLI's traces`);
        assert.deepEqual(ids('span'), sorted(want.spans.map((s) => s.id)), `${name}: the CLI's spans`);
        const errs = await page.locator('#input-error li.err').evaluateAll((ls) => ls.map((l) => [l.dataset.code, l.querySelector('.epath code').textContent]));
        assert.deepEqual(errs, (want.errors ?? []).map((e) => [e.code, e.path]), `${name}: the CLI's per-task errors`);
        const shownWarnings = await page.$$eval('#warnings li[data-source=mapping]', (ls) => ls.map((l) => `${l.dataset.code} ${l.querySelector('.wpath code').textContent}`));
        assert.deepEqual(sorted(shownWarnings), sorted(want.warnings.map((w) => `${w.code} ${w.path === '' ? '(whole input)' : w.path}`)), `${name}: warnings with their /n/ paths`);
      };
      let before = await runsOf(page);
      await page.setInputFiles('#file', { name: 'batch.json', mimeType: 'application/json', buffer: Buffer.from(array) });
      await nextRun(page, before);
      await assertShown('batch.json');
      // a different input in between, so the drop has to map again
      await pickExample(page, rich);
      before = await runsOf(page);
      await page.evaluate((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'dropped-batch.json', { type: 'application/json' }));
        const zone = document.querySelector('#drop');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
      }, array);
      await nextRun(page, before);
      await assertShown('dropped-batch.json');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('selecting a tree item shows its exact JSON; the tree works with the keyboard', async () => {
    assert.ok(rich, 'an example with a trace');
    const { context, page } = await openPage(browser, richUrl());
    try {
      const expected = expectations.get(rich).linked;
      assert.equal(await page.inputValue('#example'), rich, 'the ?example= parameter picks the example');
      const first = page.locator('#tree [role=treeitem]').first();
      await first.locator(':scope > .row').click();
      const shown = JSON.parse(await page.textContent('#detail'));
      assert.equal(shown.id, expected.traces[0].id);
      assert.deepEqual(Object.keys(shown), Object.keys(expected.traces[0]), 'same keys, same order');
      assert.equal(await first.getAttribute('aria-selected'), 'true');
      if (expected.spans.length) {
        await page.keyboard.press('ArrowDown');
        const focused = await page.evaluate(() => document.activeElement.dataset.kind);
        assert.equal(focused, 'span', 'ArrowDown moves to the first span');
        const spanJson = JSON.parse(await page.textContent('#detail'));
        const spanId = await page.evaluate(() => document.activeElement.dataset.id);
        assert.equal(spanJson.id, spanId, 'the detail pane follows the keyboard');
        assert.ok(expected.spans.some((s) => s.id === spanId));
        await page.keyboard.press('ArrowLeft');
        // a leaf goes to its parent; a span with children closes first
        const kind = await page.evaluate(() => document.activeElement.dataset.kind);
        assert.ok(['trace', 'span'].includes(kind));
        await page.keyboard.press('Home');
        assert.equal(await page.evaluate(() => document.activeElement.dataset.id), expected.traces[0].id);
        await page.keyboard.press('ArrowLeft');
        assert.equal(await first.getAttribute('aria-expanded'), 'false', 'ArrowLeft closes the trace');
        assert.equal(await page.locator('#tree [role=treeitem][data-kind=span]').first().isVisible(), false);
        await page.keyboard.press('ArrowRight');
        assert.equal(await first.getAttribute('aria-expanded'), 'true', 'ArrowRight opens it again');
      }
      // Tab reaches the tree from the button before it
      await page.focus('#download');
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement.getAttribute('role')), 'treeitem', 'Tab reaches the tree');
      // only one tree item is in the tab order
      assert.equal(await page.locator('#tree [role=treeitem][tabindex="0"]').count(), 1);
    } finally {
      await context.close();
    }
  });

  test('invalid JSON shows the code, message and path next to the input, and the page keeps working', async () => {
    const { context, page, problems } = await openPage(browser, site.url);
    try {
      const bad = '{"app_id": "x", "trace_info_type": ';
      const want = runCli(['map', '-'], bad).error;
      let before = await runsOf(page);
      await page.fill('#input', bad);
      await nextRun(page, before);
      const box = page.locator('#input-error');
      assert.ok(await box.isVisible(), 'the error box is shown');
      assert.equal(await box.locator('.ecode').first().textContent(), want.code);
      assert.equal(await box.locator('.emsg').first().textContent(), want.message);
      assert.equal(await box.locator('.epath code').first().textContent(), want.path === '' ? '(whole input)' : want.path);
      assert.equal(await page.getAttribute('#input', 'aria-invalid'), 'true');
      assert.equal(await page.locator('#tree [role=treeitem]').count(), 0, 'no stale output');
      assert.equal(await page.isDisabled('#download'), true);
      // the page keeps working: an example maps again
      await pickExample(page, rich);
      assert.equal(await box.isVisible(), false, 'the error box is gone');
      await assertTreeMatches(page, expectations.get(rich).linked, 'after an error');
      // a batch (JSON lines) with one broken task: the good tasks are shown, the bad one listed
      const good = toJsonLines(readFileSync(join(examplesDir, rich), 'utf8')).trimEnd();
      const lines = `${good}\n{"app_id": "x"}\n`;
      const cliBatch = runCli(['map', '-'], lines);
      before = await runsOf(page);
      await page.fill('#input', lines);
      await nextRun(page, before);
      const errs = await box.locator('li.err').evaluateAll((ls) => ls.map((l) => [l.dataset.code, l.querySelector('.epath code').textContent]));
      assert.deepEqual(errs, cliBatch.errors.map((e) => [e.code, e.path]));
      const items = await treeContents(page);
      assert.equal(items.filter((i) => i.kind === 'trace').length, cliBatch.traces.length);
      assert.equal(items.filter((i) => i.kind === 'span').length, cliBatch.spans.length);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
    }
  });

  test('settings are validated live by the library, with its messages', async () => {
    const { context, page } = await openPage(browser, site.url);
    try {
      const cases = [
        { url: 'ftp://example.com/api/' },
        { url: 'http://localhost:5173/' },
        { url: '', api_key: '', workspace: '' },
      ];
      for (const c of cases) {
        const cfg = { url: c.url, api_key: c.api_key ?? '', workspace: c.workspace ?? '', project: '' };
        const want = expectedConfigProblems(cfg);
        assert.ok(want.length > 0, `the CLI rejects ${JSON.stringify(c)}`);
        await page.fill('#cfg-key', cfg.api_key);
        await page.fill('#cfg-ws', cfg.workspace);
        await page.fill('#cfg-url', cfg.url);
        for (const p of want) {
          const field = p.path.replace(/^\//, '');
          const msg = page.locator(`.msg[data-for="${field}"]`);
          await msg.waitFor({ state: 'visible' });
          assert.ok((await msg.textContent()).includes(p.message), `${field}: "${p.message}"`);
        }
        assert.match(await page.textContent('#req-note'), /Fix the Opik settings/);
      }
      // blank URL = Opik Cloud; a self-hosted URL is shown as such
      assert.match(await page.textContent('#cfg-target'), /Opik Cloud/);
      await page.fill('#cfg-url', 'http://localhost:5173/api/');
      assert.match(await page.textContent('#cfg-target'), /Self-hosted/);
      assert.equal(await page.locator('#settings .msg:visible').count(), 0, 'valid settings show no problem');
    } finally {
      await context.close();
    }
  });

  test('requests are shown as curl commands with the key masked unless revealed', async () => {
    const { context, page, requests: sent } = await openPage(browser, richUrl());
    try {
      const key = 'sk-previewer-test-9f8e7d6c';
      await page.fill('#cfg-url', 'http://localhost:5173/api/');
      await page.fill('#cfg-ws', 'team-a');
      await page.fill('#cfg-key', key);
      const want = runCli(
        ['requests', '--url', 'http://localhost:5173/api/', '--workspace', 'team-a', '--api-key', key, join(examplesDir, rich)],
        '',
      );
      const items = page.locator('#requests li.req');
      await page.waitForFunction((n) => document.querySelectorAll('#requests li.req').length === n, want.requests.length);
      assert.equal(await items.count(), want.requests.length);
      const urls = await items.locator('.url').allTextContents();
      assert.deepEqual(urls, want.requests.map((r) => r.url));
      const curl = await items.first().locator('pre.curl').textContent();
      assert.ok(curl.startsWith(`curl -X POST '${want.requests[0].url}'`));
      assert.ok(curl.includes("'Comet-Workspace: team-a'"));
      assert.ok(curl.includes('Authorization: ****6c'.replace('6c', key.slice(-4))), 'the key is masked');
      assert.ok(!(await page.evaluate(() => document.body.innerText)).includes(key), 'the key is nowhere on screen');
      const body = JSON.parse(curl.match(/--data-raw '(.*)'$/s)[1].replace(/'\\''/g, "'"));
      assert.deepEqual(body, JSON.parse(want.requests[0].body), 'the curl body is the request body');
      await page.check('#reveal');
      const revealed = await items.first().locator('pre.curl').textContent();
      assert.ok(revealed.includes(`Authorization: ${key}`), 'revealed on request');
      await page.uncheck('#reveal');
      assert.ok(!(await items.first().locator('pre.curl').textContent()).includes(key));
      const origin = new URL(site.url).origin;
      assert.deepEqual(sent.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')), []);
      // the key field itself is masked
      assert.equal(await page.getAttribute('#cfg-key', 'type'), 'password');
    } finally {
      await context.close();
    }
  });

  test('a dropped or opened file (JSON lines) is mapped, and the payloads download', async () => {
    const { context, page } = await openPage(browser, site.url);
    try {
      const jsonl = examples.map((f) => toJsonLines(readFileSync(join(examplesDir, f), 'utf8'))).join('');
      const want = runCli(['map', '-'], jsonl);
      const before = await runsOf(page);
      await page.setInputFiles('#file', { name: 'all.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(jsonl) });
      await nextRun(page, before);
      const items = await treeContents(page);
      assert.equal(items.filter((i) => i.kind === 'trace').length, want.traces.length);
      assert.equal(items.filter((i) => i.kind === 'span').length, want.spans.length);
      assert.match(await page.textContent('#input-status'), /all\.jsonl/);
      // dropping a file on the input does the same
      const dropped = readFileSync(join(examplesDir, rich), 'utf8');
      const beforeDrop = await runsOf(page);
      await page.evaluate((text) => {
        const dt = new DataTransfer();
        dt.items.add(new File([text], 'dropped.json', { type: 'application/json' }));
        const zone = document.querySelector('#drop');
        for (const type of ['dragenter', 'dragover', 'drop']) {
          zone.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
        }
      }, dropped);
      await nextRun(page, beforeDrop);
      assert.equal(await page.inputValue('#input'), dropped);
      assert.match(await page.textContent('#input-status'), /dropped\.json/);
      assert.equal((await treeContents(page)).filter((i) => i.kind === 'span').length, expectations.get(rich).linked.spans.length);
      // and back to the JSON lines file for the download
      const beforeAgain = await runsOf(page);
      await page.setInputFiles('#file', { name: 'all.jsonl', mimeType: 'application/x-ndjson', buffer: Buffer.from(jsonl) });
      await nextRun(page, beforeAgain);
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      assert.equal(download.suggestedFilename(), 'all.opik.json');
      const saved = JSON.parse(readFileSync(await download.path(), 'utf8'));
      assert.equal(saved.traces.length, want.traces.length);
      assert.equal(saved.spans.length, want.spans.length);
      assert.deepEqual(saved.traces.map((t) => t.id), want.traces.map((t) => t.id));
    } finally {
      await context.close();
    }
  });

  test('screenshots at desktop and narrow widths; no sideways scrolling on a phone', async () => {
    mkdirSync(artifacts, { recursive: true });
    for (const [name, width, height] of [
      ['www-desktop', 1440, 1100],
      ['www-narrow', 390, 844],
    ]) {
      const { context, page } = await openPage(browser, richUrl(), { width, height });
      try {
        await page.locator('#tree [role=treeitem] > .row').first().click();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(overflow <= 0, `${name}: page is ${overflow}px wider than the viewport`);
        await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
      } finally {
        await context.close();
      }
    }
  });
});
