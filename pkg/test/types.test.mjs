// Holds the hand-written declarations (index.d.ts) to what the Rust code
// really produces, so that they cannot drift:
//   1. real inputs and outputs, as object literals, type-check against the
//      declared types (tsc's excess-property check rejects undeclared fields;
//      missing required fields and wrong types fail too);
//   2. every field declared on OpikTrace and OpikSpan occurs in real output;
//   3. the ErrorCode and WarningCode unions are exactly the codes of
//      src/error.rs;
//   4. the usage example (test/types/usage.ts) compiles (`tsc -p tsconfig.json`).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

import * as opik from 'dify-opik';
import { NOW, PKG, REPO, goldenFixtures, moreInputs } from './helpers.mjs';

const TSC = join(PKG, 'node_modules/.bin/tsc');
const DTS = readFileSync(join(PKG, 'index.d.ts'), 'utf8');

function tsc(args, cwd) {
  const r = spawnSync(TSC, args, { cwd, encoding: 'utf8' });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

/** The string members of a union type alias `export type NAME = | "a" | "b";`. */
function unionMembers(name) {
  const m = DTS.match(new RegExp(`export type ${name} =([^;]*);`));
  assert.ok(m, `no type ${name} in index.d.ts`);
  return [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]).sort();
}

/** The member names of `export interface NAME { … }` (top level only). */
function interfaceMembers(name) {
  const start = DTS.indexOf(`export interface ${name} {`);
  assert.ok(start >= 0, `no interface ${name}`);
  const body = DTS.slice(DTS.indexOf('{', start) + 1, DTS.indexOf('\n}', start));
  return [...body.matchAll(/^ {2}(\w+)\??:/gm)].map((x) => x[1]).sort();
}

/** Every input, both profiles, every result kind: [{label, type, value}]. */
function samples() {
  const out = [];
  const config = { url: 'http://127.0.0.1:5173/api', api_key: 'key-0123456789', workspace: 'acme' };
  const inputs = [...goldenFixtures(), ...moreInputs()];
  for (const f of inputs) {
    for (const options of [{ now: NOW }, { now: NOW, profile: 'reference', project: 'dify-project' }]) {
      const each = opik.mapEach(f.text, options);
      out.push({ label: `${f.name} mapEach`, type: 'BatchResult', value: each });
      try {
        out.push({ label: `${f.name} map`, type: 'MapResult', value: opik.map(f.text, options) });
        out.push({ label: `${f.name} requests`, type: 'RequestsResult', value: opik.buildRequests(f.text, config, { max_items: 3 }, options) });
      } catch (e) {
        out.push({ label: `${f.name} error`, type: 'ErrorInfo', value: { code: e.code, message: e.message, path: e.path } });
      }
    }
  }
  // Real Dify inputs (golden fixtures are serialised Dify models; examples
  // follow them). The linked-profile fixtures are left out: some are
  // deliberately malformed.
  for (const f of [...goldenFixtures(), ...moreInputs().filter((x) => x.name.startsWith('examples/'))]) {
    let v;
    try {
      v = JSON.parse(f.text);
    } catch {
      continue; // JSON lines
    }
    out.push({ label: `${f.name} input`, type: Array.isArray(v) ? 'TraceTask[]' : 'TraceTask', value: v });
  }
  for (const c of [{}, config, { url: 'ftp://x' }, { url: 'https://www.comet.com/opik/api/', workspace: 'default' }]) {
    out.push({ label: 'config report', type: 'ConfigReport', value: opik.validateConfig(c) });
  }
  return out;
}

test('real inputs and outputs type-check against index.d.ts (no excess, no missing fields)', { timeout: 120_000 }, () => {
  const all = samples();
  const dir = mkdtempSync(join(tmpdir(), 'dify-opik-types-'));
  try {
    const lines = [
      `import type { BatchResult, ConfigReport, ErrorInfo, MapResult, RequestsResult, TraceTask } from ${JSON.stringify(join(PKG, 'index.js'))};`,
    ];
    all.forEach((s, i) => {
      lines.push(`// ${s.label}`);
      lines.push(`export const v${i}: ${s.type} = ${JSON.stringify(s.value)};`);
    });
    writeFileSync(join(dir, 'check.ts'), lines.join('\n'));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], strict: true, noEmit: true },
        files: ['check.ts'],
      }),
    );
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const r = tsc(['-p', 'tsconfig.json'], dir);
    // Name the samples behind the first errors.
    const labels = [...r.out.matchAll(/check\.ts\((\d+),/g)].slice(0, 5).map((m) => lines[Number(m[1]) - 2]);
    assert.equal(r.status, 0, `${r.out.slice(0, 3000)}\n${labels.join('\n')}`);
    assert.ok(all.length > 100, `${all.length} samples`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('every declared OpikTrace and OpikSpan field occurs in real output', () => {
  const seen = { traces: new Set(), spans: new Set() };
  for (const s of samples()) {
    if (s.type !== 'BatchResult') continue;
    for (const kind of ['traces', 'spans']) for (const o of s.value[kind]) for (const k of Object.keys(o)) seen[kind].add(k);
  }
  assert.deepEqual(interfaceMembers('OpikTrace'), [...seen.traces].sort());
  assert.deepEqual(interfaceMembers('OpikSpan'), [...seen.spans].sort());
});

test('the code unions are the codes of src/error.rs', () => {
  const rust = readFileSync(join(REPO, 'src/error.rs'), 'utf8');
  const asStr = rust.slice(rust.indexOf('pub fn as_str'), rust.indexOf('impl fmt::Display'));
  const errorCodes = [...asStr.matchAll(/=> "([a-z_]+)"/g)].map((m) => m[1]).sort();
  assert.ok(errorCodes.length >= 10);
  assert.deepEqual(unionMembers('ErrorCode'), errorCodes);
  const enumBody = rust.slice(rust.indexOf('pub enum WarningCode {'), rust.indexOf('}', rust.indexOf('pub enum WarningCode {')));
  const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
  const warningCodes = [...enumBody.matchAll(/^\s{4}([A-Z]\w*),/gm)].map((m) => snake(m[1])).sort();
  assert.ok(warningCodes.length >= 16);
  assert.deepEqual(unionMembers('WarningCode'), warningCodes);
});

test('the usage example compiles (tsc -p tsconfig.json)', () => {
  const r = tsc(['-p', 'tsconfig.json'], PKG);
  assert.equal(r.status, 0, r.out);
});
