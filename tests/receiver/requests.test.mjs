// The requests the native CLI builds, validated against Opik's published
// schema with a real JSON-schema validator (ajv) and sent with a plain HTTP
// client to the loopback receiver: all accepted, and what it recorded equals
// the mapping result.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, existsSync, readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startReceiver, validators } from './receiver.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = join(root, 'target', 'release', 'dify-opik');
const NOW = '2025-06-11T00:00:00Z';

function cliJson(args) {
  try {
    return { code: 0, out: JSON.parse(execFileSync(cli, args, { encoding: 'utf8', maxBuffer: 1 << 28 })) };
  } catch (e) {
    return { code: e.status, out: JSON.parse(e.stdout) };
  }
}

function inputs() {
  const dirs = [
    join(root, '..', 'shared', 'reference', 'fixtures'),
    join(root, 'tests', 'fixtures', 'linked'),
    join(root, 'examples', 'traces'),
  ];
  const files = [];
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d).sort()) {
      if (f.endsWith('.json') && !f.endsWith('.expected.json')) files.push(join(d, f));
    }
  }
  return files;
}

for (const profile of ['linked', 'reference']) {
  test(`every ${profile} body validates and is accepted by the receiver`, async () => {
    const mode = profile === 'linked' ? 'strict' : 'spec';
    const files = inputs();
    assert.ok(files.length >= 19, `found ${files.length} inputs`);
    let sent = 0;
    let mappedTasks = 0;
    for (const file of files) {
      const rx = await startReceiver({ apiKey: 'test-key-0123456789', workspace: 'acme', mode });
      try {
        const common = ['--profile', profile, '--project', 'dify-project', '--now', NOW, file];
        const mapped = cliJson(['map', ...common]);
        const built = cliJson([
          'requests', '--url', rx.url, '--api-key', 'test-key-0123456789', '--workspace', 'acme',
          '--show-secrets', '--max-items', '3', ...common,
        ]);
        if (mapped.code !== 0) {
          assert.equal(built.code, 2, `${file}: requests must fail like map`);
          assert.deepEqual(built.out.error, mapped.out.error);
          continue;
        }
        mappedTasks += 1;
        const { requests } = built.out;
        // traces first, then spans; no batch over 3 items
        const kinds = requests.map((r) => r.kind);
        assert.deepEqual(kinds, [...kinds].sort((a, b) => (a === b ? 0 : a === 'traces' ? -1 : 1)));
        for (const r of requests) {
          const body = JSON.parse(r.body);
          assert.ok(body[r.kind].length >= 1 && body[r.kind].length <= 3);
          const v = validators()[mode][r.kind];
          assert.ok(v(body), `${file} ${r.kind}: ${JSON.stringify(v.errors)}`);
          const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
          assert.ok(res.status >= 200 && res.status < 300, `${file}: HTTP ${res.status} ${await res.text()}`);
          sent += 1;
        }
        assert.deepEqual(rx.state.traces, mapped.out.traces, `${file}: traces`);
        assert.deepEqual(rx.state.spans, mapped.out.spans, `${file}: spans`);
      } finally {
        await rx.close();
      }
    }
    assert.ok(sent > 0 && mappedTasks > 0);
  });
}

test('the receiver rejects wrong credentials and bodies that break the schema', async () => {
  const rx = await startReceiver({ apiKey: 'right-key-123456', workspace: 'acme' });
  try {
    const file = join(root, 'examples', 'traces', 'chat_message.json');
    const built = cliJson(['requests', '--url', rx.url, '--api-key', 'wrong-key-123456', '--workspace', 'acme',
      '--show-secrets', file]);
    const r = built.out.requests[0];
    assert.equal((await fetch(r.url, { method: 'POST', headers: r.headers, body: r.body })).status, 401);
    const ok = { ...r.headers, Authorization: 'right-key-123456' };
    assert.equal((await fetch(r.url, { method: 'POST', headers: { ...ok, 'Comet-Workspace': 'x' }, body: r.body })).status, 403);
    const bad = JSON.parse(r.body);
    bad.traces[0].id = 'not-a-uuid';
    assert.equal((await fetch(r.url, { method: 'POST', headers: ok, body: JSON.stringify(bad) })).status, 422);
    assert.equal(rx.state.traces.length, 0);
  } finally {
    await rx.close();
  }
});

test('without --show-secrets the key is masked', () => {
  const file = join(root, 'examples', 'traces', 'chat_message.json');
  const built = cliJson(['requests', '--url', 'http://127.0.0.1:9/api/', '--api-key', 'sk-very-secret-abcd', file]);
  const text = JSON.stringify(built.out);
  assert.ok(!text.includes('sk-very-secret'), 'key leaked');
  assert.equal(built.out.requests[0].headers.Authorization, '****abcd');
});

test('objects over the body limit are cut into bodies the strict schema still accepts', async () => {
  const example = (name) => JSON.parse(readFileSync(join(root, 'examples', 'traces', name), 'utf8'));
  const tool = example('tool.json');
  tool.trace_info.tool_name = 'N'.repeat(5000); // the span's name, a tag, metadata
  const failed = example('workflow_failed.json');
  failed.trace_info.error = 'E'.repeat(6000); // error_info's message and traceback
  const dir = mkdtempSync(join(tmpdir(), 'dify-opik-cut-'));
  const cases = [
    { name: 'tool', input: tool, project: 'p', cut: '/spans/0/name' },
    { name: 'failed', input: failed, project: 'p', cut: '/traces/0/error_info/traceback' },
    // a project name over the limit can never be cut: sent with too_large_object
    { name: 'project', input: example('tool.json'), project: 'P'.repeat(2000), cut: '/spans/0/metadata', tooLarge: '/spans/0' },
  ];
  try {
    for (const c of cases) {
      const rx = await startReceiver({ workspace: 'acme', mode: 'strict' });
      try {
        const file = join(dir, `${c.name}.json`);
        writeFileSync(file, JSON.stringify(c.input));
        const built = cliJson(['requests', '--url', rx.url, '--workspace', 'acme', '--max-body-bytes', '1024',
          '--project', c.project, '--now', NOW, file]);
        assert.equal(built.code, 0, JSON.stringify(built.out));
        const { requests, warnings } = built.out;
        const paths = (code) => warnings.filter((w) => w.code === code).map((w) => w.path);
        assert.ok(paths('truncated').includes(c.cut), `${c.name}: ${JSON.stringify(warnings)}`);
        assert.deepEqual(paths('too_large_object'), c.tooLarge ? [c.tooLarge] : [], c.name);
        for (const r of requests) {
          const body = JSON.parse(r.body);
          if (!c.tooLarge) assert.ok(r.body.length <= 1024, `${c.name}: ${r.body.length} bytes`);
          const v = validators().strict[r.kind];
          assert.ok(v(body), `${c.name} ${r.kind}: ${JSON.stringify(v.errors)}`);
          const res = await fetch(r.url, { method: r.method, headers: r.headers, body: r.body });
          assert.equal(res.status, 204, `${c.name}: ${await res.text()}`);
        }
        assert.equal(rx.state.traces.length + rx.state.spans.length, requests.reduce((n, r) => n + r.count, 0));
        assert.ok(rx.state.spans.length > 0, 'nothing dropped');
      } finally {
        await rx.close();
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
