// The built package against the native CLI: every golden fixture gives the
// same result (parsed JSON) through both, with the same options; every input
// form gives the same result.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import * as opik from 'dify-opik';

import { NOW, PKG, cliMap, errorJson, goldenFixtures, moreInputs } from './helpers.mjs';

const REFERENCE_ARGS = [
  '--profile', 'reference',
  '--project', 'dify-project',
  '--files-url', 'http://127.0.0.1:5001',
  '--now', NOW,
];
const REFERENCE = {
  profile: 'reference',
  project: 'dify-project',
  files_url: 'http://127.0.0.1:5001',
  now: NOW,
};

/** mapBytes' UTF-8 output, decoded: the text `mapJson` gives unless it escaped. */
const viaBytes = (text) => new TextDecoder().decode(opik.mapBytes(new TextEncoder().encode(text), REFERENCE));

/** The package's `map` as the CLI prints it: the result, or `{error}`. */
function viaPackage(input, options) {
  try {
    return opik.map(input, options);
  } catch (e) {
    assert.equal(e.name, 'DifyOpikError');
    return { error: errorJson(e) };
  }
}

const golden = goldenFixtures();

test('the shared golden fixtures are there', () => {
  assert.ok(golden.length >= 19, `found ${golden.length}`);
});

for (const f of golden) {
  test(`golden ${f.name}: package = native CLI (reference profile)`, () => {
    const cli = cliMap(REFERENCE_ARGS, f.file);
    const pkg = viaPackage(f.text, REFERENCE);
    assert.deepEqual(pkg, cli.json);
    assert.equal(cli.status, 'error' in cli.json ? 2 : 0);
    // The golden file says whether Dify's reference failed on this input.
    assert.equal('error' in pkg, f.expected.reference_error !== null, 'error iff the reference failed');
  });

  test(`golden ${f.name}: package = native CLI (linked profile)`, () => {
    const cli = cliMap(['--now', NOW], f.file);
    assert.deepEqual(viaPackage(f.text, { now: NOW }), cli.json);
  });
}

for (const f of moreInputs()) {
  test(`${f.name}: package = native CLI (linked and reference)`, () => {
    for (const [args, options] of [
      [['--now', NOW], { now: NOW }],
      [REFERENCE_ARGS, REFERENCE],
    ]) {
      const cli = cliMap(args, f.file);
      if (cli.json.errors) {
        // A batch with failing tasks: the CLI maps the others, as mapEach does.
        const each = opik.mapEach(f.text, options);
        const { error, ...rest } = cli.json;
        assert.deepEqual(each, rest);
        assert.deepEqual(error, each.errors[0]);
      } else {
        assert.deepEqual(viaPackage(f.text, options), cli.json);
      }
    }
  });
}

test('every input form gives the same result', () => {
  for (const f of golden) {
    const want = viaPackage(f.text, REFERENCE);
    if ('error' in want) continue;
    const bytes = new TextEncoder().encode(f.text);
    assert.deepEqual(opik.map(JSON.parse(f.text), REFERENCE), want, `${f.name}: object`);
    assert.deepEqual(opik.map(bytes, REFERENCE), want, `${f.name}: bytes`);
    assert.deepEqual(opik.map(bytes.buffer.slice(0), REFERENCE), want, `${f.name}: ArrayBuffer`);
    assert.deepEqual(opik.map(f.text, JSON.stringify(REFERENCE)), want, `${f.name}: options as JSON`);
    assert.deepEqual(JSON.parse(opik.mapJson(f.text, REFERENCE)), want, `${f.name}: mapJson`);
    const out = opik.mapBytes(bytes, REFERENCE);
    assert.ok(out instanceof Uint8Array);
    assert.deepEqual(JSON.parse(new TextDecoder().decode(out)), want, `${f.name}: mapBytes`);
    const each = opik.mapEach(f.text, REFERENCE);
    assert.deepEqual(each, { ...want, errors: [] }, `${f.name}: mapEach`);
  }
});

test('a batch: map throws on the first failing task, mapEach maps the others', () => {
  const ok = golden.find((f) => f.name === 'tool');
  const bad = golden.find((f) => f.name === 'workflow_non_uuid_external_trace_id');
  const batch = [JSON.parse(ok.text), JSON.parse(bad.text), JSON.parse(ok.text)];
  assert.throws(() => opik.map(batch, REFERENCE), (e) => e.code === 'invalid_uuid' && e.path.startsWith('/1/'));
  const each = opik.mapEach(batch, REFERENCE);
  assert.equal(each.spans.length, 2);
  assert.equal(each.errors.length, 1);
  assert.equal(each.errors[0].code, 'invalid_uuid');
  assert.match(each.errors[0].path, /^\/1\//);
  // JSON lines: the same tasks.
  const lines = batch.map((t) => JSON.stringify(t)).join('\n');
  assert.deepEqual(opik.mapEach(lines, REFERENCE), each);
});

test('non-ASCII text survives every path (UTF-8 in, UTF-16 out)', () => {
  const f = golden.find((x) => x.name === 'workflow_basic');
  const task = JSON.parse(f.text);
  const exotic = 'Zürich — 東京 🚀 \u{10ffff} مرحبا ж';
  for (const n of task.node_executions) n.title = `${exotic} ${n.title}`;
  const text = JSON.stringify(task);
  const r = opik.map(text, REFERENCE);
  assert.ok(r.spans.some((s) => s.name.startsWith(exotic)), 'titles are span names');
  assert.deepEqual(opik.map(new TextEncoder().encode(text), REFERENCE), r);
  const bytes = opik.mapBytes(new TextEncoder().encode(text), REFERENCE);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(bytes)), r);
  // A raw lone surrogate has no UTF-8 form: encoding replaces it with U+FFFD.
  // (JSON.stringify writes it as the escape \ud800, which passes through.)
  const one = { ...task, node_executions: [{ ...task.node_executions[0], title: 'a@@b' }] };
  const raw = JSON.stringify(one).replace('@@', '\ud800');
  assert.ok(opik.map(raw, REFERENCE).spans.some((s) => s.name === 'a\ufffdb'));
  const escaped = JSON.stringify(one).replace('@@', '\\ud800');
  assert.ok(opik.map(escaped, REFERENCE).spans.some((s) => s.name === 'a\ud800b'));
});

test('long strings cross into wasm in pieces: the same result as from bytes', () => {
  // Strings of 16,384 characters or more are copied into wasm memory 65,536
  // UTF-16 units at a time (Node). A piece never ends inside a surrogate
  // pair, a lone surrogate becomes U+FFFD as with TextEncoder, and the wasm
  // converts every piece, mostly ASCII or not (src/utf16.rs): every case
  // must give what the same text gives as UTF-8 bytes.
  const f = golden.find((x) => x.name === 'workflow_basic');
  const task = JSON.parse(f.text);
  const mixed = 'путешествие 東京 🚀 '.repeat(8000);
  const make = (pad, rest) => {
    const t = structuredClone(task);
    t.node_executions[0].outputs = { text: `${'x'.repeat(pad)}@@${rest}` };
    t.node_executions[1].outputs = { text: mixed };
    const s = JSON.stringify(t);
    return [s, s.indexOf('@@')];
  };
  const [, idx] = make(1000, '');
  assert.ok(idx > 0 && idx < 65_000, 'the marker comes early');
  const pad = 1000 + (65_535 - idx);
  for (const [what, marker] of [
    ['a pair across the piece boundary', '\ud83d\ude80'],
    ['a lone high surrogate at the boundary', '\ud800y'],
    ['a lone low surrogate after it', 'y\udc00'],
    ['a reversed pair', '\udc00\ud800'],
  ]) {
    const [s, at] = make(pad, 'tail '.repeat(20_000));
    assert.equal(at, 65_535, 'the marker sits on the last unit of the first piece');
    const raw = s.replace('@@', marker);
    const viaString = opik.mapJson(raw, REFERENCE);
    assert.equal(viaString, viaBytes(raw), what);
    assert.ok(viaString.isWellFormed?.() ?? true, what);
  }
});

test('a long non-ASCII output is converted in pieces that join exactly', () => {
  const f = golden.find((x) => x.name === 'workflow_basic');
  const task = JSON.parse(f.text);
  // About 9 MB of output: pieces of 48 KiB, with 3- and 4-byte characters
  // (a surrogate pair) landing on every side of the piece boundaries.
  const filler = 'ascii run 東京 🚀 ж '.repeat(100_000);
  for (const [i, n] of task.node_executions.entries()) n.outputs = { text: `${i}:${filler}` };
  const text = JSON.stringify(task);
  const viaString = opik.mapJson(text, REFERENCE);
  assert.ok(Buffer.byteLength(viaString) > 8 * 1024 * 1024, `the output spans several pieces (${Buffer.byteLength(viaString)} bytes)`);
  assert.equal(viaString, viaBytes(text));
  assert.ok(JSON.parse(viaString).spans.every((s) => !s.output || !JSON.stringify(s.output).includes('\ufffd')));
});

test('rare characters above U+00FF leave the output as \\u escapes: one byte a character, the same value', () => {
  const f = golden.find((x) => x.name === 'workflow_basic');
  const task = JSON.parse(f.text);
  const exotic = 'Zürich — 東京 🚀 café';
  const make = (text) => {
    const t = structuredClone(task);
    t.node_executions[0].outputs = { text };
    return JSON.stringify(t);
  };
  // Four characters above U+00FF in about 200 KB (more than 48 KiB: several
  // pieces): narrow. Latin-1 characters stay as they are.
  const rare = make(`${'plain English prose, '.repeat(5000)}${exotic}${' and more'.repeat(5000)}`);
  const narrow = opik.mapJson(rare, REFERENCE);
  const plain = viaBytes(rare);
  assert.ok(plain.includes(exotic), 'UTF-8 output keeps the characters');
  assert.ok(!/[^\x00-\xff]/.test(narrow), 'nothing above U+00FF in the text');
  assert.ok(narrow.includes('Zürich \\u2014 \\u6771\\u4eac \\ud83d\\ude80 café'), 'escaped in place');
  assert.deepEqual(JSON.parse(narrow), JSON.parse(plain));
  assert.deepEqual(opik.map(rare, REFERENCE), JSON.parse(plain));
  assert.deepEqual(opik.mapEach(rare, REFERENCE), JSON.parse(opik.mapEachJson(rare, REFERENCE)));
  // Dense: one such character every 30 bytes or so. The text keeps them.
  const dense = make(`${exotic} `.repeat(5000));
  assert.equal(opik.mapJson(dense, REFERENCE), viaBytes(dense));
});

test('mapJson makes one string of its pieces up to 16 MiB of input, and joins them above', () => {
  // In Node, the pieces of an input up to 16 MiB are gathered into one
  // Buffer (bytes when narrow, UTF-16 otherwise); a larger one is joined as
  // a rope. Both must give the text mapBytes gives, on either side.
  const f = golden.find((x) => x.name === 'workflow_basic');
  const task = JSON.parse(f.text);
  for (const [size, extra] of [[(16 << 20) - 200_000, ''], [(16 << 20) + 100_000, ''], [3 << 20, ' ж東']]) {
    const t = structuredClone(task);
    t.node_executions[0].outputs = { text: 'x'.repeat(size) + extra.repeat(100_000) };
    const text = JSON.stringify(t);
    const got = opik.mapJson(text, REFERENCE);
    assert.ok(got.length > size, `the output holds the text (${got.length})`);
    assert.equal(got, viaBytes(text), `input of ${Buffer.byteLength(text)} bytes`);
  }
});

/**
 * Where `write::result_pieces` cuts the output text `text`: the UTF-8 byte
 * offsets after which a piece ends, found from the spans' ends as the
 * writer finds them (a piece ends after the first span that brings it to
 * 48 KiB), and the offset of the end of the last span.
 */
function pieceEnds(text) {
  const PIECE = 48 << 10;
  const start = text.indexOf('"spans":[') + '"spans":['.length;
  const spanEnds = [];
  let depth = 0;
  for (let i = start; i < text.length && depth >= 0; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '{' || c === '[') {
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) spanEnds.push(Buffer.byteLength(text.slice(0, i + 1)));
    }
  }
  const cuts = [];
  for (const end of spanEnds) if (end - (cuts.at(-1) ?? 0) >= PIECE) cuts.push(end);
  return { cuts, lastSpanEnd: spanEnds.at(-1) };
}

test('map and mapEach parse the output piece by piece: the same value as the whole text', () => {
  const f = golden.find((x) => x.name === 'workflow_basic');
  const bad = golden.find((x) => x.name === 'workflow_non_uuid_external_trace_id');
  const seen = { single: false, lastIsSpan: false, lastAfterSpans: false };
  // Node outputs from 200 bytes (many spans in a piece) to 60 KB (a piece
  // for each span, so the last piece holds only what follows the spans),
  // ASCII and not, as one task and in a batch with a failing task.
  for (const size of [200, 5_000, 20_000, 60_000]) {
    for (const filler of ['ascii ', 'путь 東京 🚀 ']) {
      const task = JSON.parse(f.text);
      const text = filler.repeat(Math.ceil(size / filler.length));
      for (const [i, n] of task.node_executions.entries()) n.outputs = { text: `${i}:${text}` };
      for (const [input, what] of [
        [task, 'one task'],
        [[task, JSON.parse(bad.text), task, task], 'a batch'],
      ]) {
        const whole = opik.mapEachJson(input, REFERENCE);
        assert.deepEqual(opik.mapEach(input, REFERENCE), JSON.parse(whole), `${what}, ${size}`);
        if (what === 'one task') {
          assert.deepEqual(opik.map(input, REFERENCE), JSON.parse(opik.mapJson(input, REFERENCE)));
        } else {
          assert.throws(() => opik.map(input, REFERENCE), (e) => e.code === 'invalid_uuid');
        }
        const { cuts, lastSpanEnd } = pieceEnds(whole);
        if (cuts.length === 0) seen.single = true;
        else if (cuts.at(-1) === lastSpanEnd) seen.lastAfterSpans = true;
        else seen.lastIsSpan = true;
      }
    }
  }
  // Each way the last piece can begin was met: whole text in one piece, a
  // last piece that starts with a span, and one that starts after them.
  assert.deepEqual(seen, { single: true, lastIsSpan: true, lastAfterSpans: true });
});

test('options: now defaults to the host clock; project and profile apply', () => {
  const f = golden.find((x) => x.name === 'tool');
  const windowed = (options) => opik.map(f.text, options).warnings.filter((w) => w.code === 'id_outside_window').length;
  assert.equal(windowed({ now: '2025-06-10T13:00:00Z' }), 0);
  assert.ok(windowed({}) > 0, 'the clock is later than the fixture');
  assert.ok(windowed(undefined) > 0);
  assert.equal(windowed({ now: new Date('2025-06-10T13:00:00Z') }), 0, 'a Date is accepted');
  assert.equal(windowed({ now: Date.parse('2025-06-10T13:00:00Z') }), 0, 'epoch ms are accepted');
  const r = opik.map(f.text, { project: '  my project ', now: NOW });
  assert.ok(r.spans.every((s) => s.project_name === 'my project'));
});

test('version is the crate version', () => {
  assert.match(opik.version(), /^\d+\.\d+\.\d+/);
  assert.equal(opik.version(), JSON.parse(JSON.stringify(opik.version())));
});

test('the Node entry is one bundled module that maps as its source does', async () => {
  // `dify-opik` resolves (node condition) to dist/node.js, esbuild's bundle
  // of node.js and lib/ (scripts/build-pkg.sh): one module to load.
  const bundle = readFileSync(join(PKG, 'dist/node.js'), 'utf8');
  assert.doesNotMatch(bundle, /(?:from|import)\s*\(?\s*["']\.{1,2}\//, 'no relative import is left');
  assert.match(bundle, /new URL\("\.\/dify_opik_bg\.wasm", import\.meta\.url\)/);
  const source = await import('../node.js');
  assert.deepEqual(Object.keys(opik).sort(), Object.keys(source).sort());
  for (const f of golden.slice(0, 6)) {
    for (const options of [{ now: NOW }, REFERENCE]) {
      let a, b;
      try { a = opik.mapJson(f.text, options); } catch (e) { a = errorJson(e); }
      try { b = source.mapJson(f.text, options); } catch (e) { b = errorJson(e); }
      assert.deepEqual(a, b, f.name);
    }
  }
});
