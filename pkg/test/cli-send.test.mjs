// `dify-opik send` end to end: a directory of 120 generated Dify trace-task
// files (laid out like Dify's ops_trace/<app id>/<hex>.json storage) sent to
// the loopback Opik-compatible receiver (tests/receiver), which validates
// every body against Opik's schema. Covers delivery of exactly the mapped
// objects, retries, skip-on-rerun, an interrupted run resumed without
// duplicates, backfill id times recorded and reused, failures and exit codes,
// dry runs, and the API key never being printed.
//
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID, randomBytes } from 'node:crypto';
import { map } from 'dify-opik';

// The receiver needs `npm ci` in tests/receiver. `make test-hosts` does it and
// sets DIFY_OPIK_HOST_TESTS, so there a missing install is an error; when
// these tests are picked up by another run (the package's `npm test`) without
// that install, they are skipped and say why.
let startReceiver = null;
try {
  ({ startReceiver } = await import('../../tests/receiver/receiver.mjs'));
} catch (e) {
  if (process.env.DIFY_OPIK_HOST_TESTS || e?.code !== 'ERR_MODULE_NOT_FOUND') throw e;
}
const skip = startReceiver ? false : 'the receiver is not installed: run `make test-hosts`';

const here = dirname(fileURLToPath(import.meta.url));
const CLI = join(here, '..', 'cli', 'dify-opik.mjs');
const EXAMPLES = join(here, '..', '..', 'examples', 'traces');
const API_KEY = 'sk-test-5e7a1c0b9d8f4e2a';
const WORKSPACE = 'acme';
const PROJECT = 'dify-backfill';
const FILES = 120;

const tmpRoots = [];
process.on('exit', () => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'dify-opik-cli-'));
  tmpRoots.push(d);
  return d;
}

// --- the input ---------------------------------------------------------------

const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const HEX32 = /"[0-9a-f]{32}"/g;
const DATETIME = /(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2})(\.\d+)?/g;

/**
 * One variant of an example trace task: every UUID (and 32-hex id) replaced
 * consistently by a fresh one, and every datetime moved by `shiftMs`.
 */
function variant(text, shiftMs) {
  const ids = new Map();
  const fresh = (old, make) => {
    if (!ids.has(old)) ids.set(old, make());
    return ids.get(old);
  };
  return text
    .replace(UUID, (m) => fresh(m, randomUUID))
    .replace(HEX32, (m) => fresh(m, () => `"${randomBytes(16).toString('hex')}"`))
    .replace(DATETIME, (m, day, time, frac = '') => {
      const ms = Date.parse(`${day}T${time}Z`) + shiftMs;
      const d = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
      const sep = m[10];
      return `${d.slice(0, 10)}${sep}${d.slice(11, 19)}${frac}`;
    });
}

/** Writes `n` trace-task files under DIR/ops_trace/<app id>/<hex>.json; returns their paths. */
function makeInput(dir, n = FILES) {
  const examples = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => readFileSync(join(EXAMPLES, f), 'utf8'));
  assert.ok(examples.length >= 10, `examples/traces has ${examples.length} files`);
  const paths = [];
  for (let i = 0; i < n; i++) {
    // spread over ~10 days, in a shuffled order relative to the file names
    const shift = ((i * 37) % n) * 2 * 3600 * 1000;
    const task = JSON.parse(variant(examples[i % examples.length], shift));
    const app = (Array.isArray(task) ? task[0] : task).app_id ?? 'tenant-x';
    const file = join(dir, 'ops_trace', app, `${randomBytes(16).toString('hex')}.json`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify(task)); // compact, like Dify's model_dump_json
    paths.push(file);
  }
  return paths;
}

/** What the receiver must end up with: the package's own mapping of every file. */
function expected(paths, options) {
  const traces = [];
  const spans = [];
  for (const p of paths) {
    const r = map(readFileSync(p, 'utf8'), options);
    traces.push(...r.traces);
    spans.push(...r.spans);
  }
  return { traces, spans };
}

const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
function assertDelivered(rx, want, msg) {
  assert.equal(rx.state.traces.length, want.traces.length, `${msg}: trace count (duplicates?)`);
  assert.equal(rx.state.spans.length, want.spans.length, `${msg}: span count (duplicates?)`);
  assert.deepEqual([...rx.state.traces].sort(byId), [...want.traces].sort(byId), `${msg}: traces`);
  assert.deepEqual([...rx.state.spans].sort(byId), [...want.spans].sort(byId), `${msg}: spans`);
}

// --- running the command -------------------------------------------------------

function run(args, { env = {}, onSpawn, timeoutMs = 120000 } = {}) {
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPIK_')));
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...base, OPIK_API_KEY: API_KEY, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    onSpawn?.(child);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`dify-opik ${args.join(' ')} timed out\n${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json = null;
      try {
        json = JSON.parse(stdout);
      } catch {
        // left null: the test says what it expected
      }
      resolve({ code, signal, stdout, stderr, json, child });
    });
  });
}

const sendArgs = (rx, dir, extra = []) => [
  'send', '--url', rx.url, '--workspace', WORKSPACE, '--project', PROJECT, ...extra, dir,
];

function stateLines(file) {
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

function noKey(r) {
  assert.ok(!r.stdout.includes(API_KEY), 'the API key must not be printed (stdout)');
  assert.ok(!r.stderr.includes(API_KEY), 'the API key must not be printed (stderr)');
}

// --- tests ---------------------------------------------------------------------

test('send: 120 files delivered exactly once, concurrency bounded, re-run skips them all', { skip }, async () => {
  const dir = tmp();
  const paths = makeInput(dir);
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE, delayMs: 20 });
  try {
    const t0 = Date.now();
    const r = await run(sendArgs(rx, dir, ['--concurrency', '3', '--batch', '7']));
    const secs = (Date.now() - t0) / 1000;
    assert.equal(r.code, 0, r.stderr);
    noKey(r);
    const want = expected(paths, { project: PROJECT });
    assertDelivered(rx, want, 'first run');
    assert.equal(rx.state.rejected.length, 0);
    assert.equal(r.json.ok, true);
    assert.deepEqual(r.json.files, { total: FILES, skipped: 0, sent: FILES, failed: 0, left: 0 });
    assert.equal(r.json.traces, want.traces.length);
    assert.equal(r.json.spans, want.spans.length);
    assert.equal(r.json.target.api_key, 'set');
    // old events: the summary suggests --backfill
    assert.ok((r.json.warnings.id_outside_window ?? 0) > 0, JSON.stringify(r.json.warnings));
    assert.match(r.stderr, /--backfill/);
    // non-TTY progress: plain lines
    assert.match(r.stderr, /^progress: \d+\/120 files/m);
    assert.match(r.stderr, /^progress: 120\/120 files \(100%\)/m);
    // every request carries the raw key and the workspace
    for (const q of rx.state.requests) {
      assert.equal(q.headers.authorization, API_KEY);
      assert.equal(q.headers['comet-workspace'], WORKSPACE);
    }
    // 3 batches in flight at most (each sends its requests one after another), and more than one
    assert.ok(rx.state.maxInFlight >= 2 && rx.state.maxInFlight <= 3, `max in flight ${rx.state.maxInFlight}`);
    const state = stateLines(join(dir, '.dify-opik-state.jsonl'));
    assert.equal(state[0].dify_opik_state, 1);
    assert.equal(state[0].id_time, 'event');
    assert.ok(!JSON.stringify(state).includes(API_KEY), 'the state file must not hold the key');
    assert.equal(state.length - 1, FILES);
    console.log(`# 120 files, ${want.traces.length} traces, ${want.spans.length} spans, ${rx.state.requests.length} requests in ${secs.toFixed(2)} s`);

    const before = rx.state.requests.length;
    const again = await run(sendArgs(rx, dir));
    assert.equal(again.code, 0, again.stderr);
    assert.equal(rx.state.requests.length, before, 're-run must send nothing');
    assert.deepEqual(again.json.files, { total: FILES, skipped: FILES, sent: 0, failed: 0, left: 0 });
  } finally {
    await rx.close();
  }
});

test('send --backfill: interrupted (SIGINT) then resumed: no duplicates, id time recorded and reused', { skip }, async () => {
  const dir = tmp();
  const paths = makeInput(dir);
  const stateFile = join(tmp(), 'backfill.state.jsonl');
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE, delayMs: 40 });
  try {
    const args = sendArgs(rx, dir, ['--backfill', '--state', stateFile, '--concurrency', '2', '--batch', '4']);
    let signalled = false;
    const first = await run(args, {
      onSpawn: (child) => {
        // interrupt once some (but not all) files are delivered
        const poll = setInterval(() => {
          if (rx.state.traces.length >= 20) {
            clearInterval(poll);
            signalled = true;
            child.kill('SIGINT');
          }
        }, 5);
        child.on('close', () => clearInterval(poll));
      },
    });
    assert.ok(signalled, `never interrupted:\n${first.stderr}`);
    assert.equal(first.code, 130, first.stderr);
    assert.equal(first.json.interrupted, true);
    assert.match(first.stderr, /run the same command again to resume/);
    const header = stateLines(stateFile)[0];
    const doneFirst = stateLines(stateFile).length - 1;
    assert.ok(doneFirst > 0 && doneFirst < FILES, `recorded ${doneFirst} files`);
    assert.equal(first.json.files.sent, doneFirst);
    // T = now, the event range = the input's
    const { at, events_from: from, events_to: to } = header.id_time;
    assert.ok(Math.abs(Date.parse(at) - Date.now()) < 120000, at);
    assert.ok(Date.parse(from) < Date.parse(to));
    const tracesFirst = rx.state.traces.length;

    const second = await run(args);
    assert.equal(second.code, 0, second.stderr);
    assert.match(second.stderr, /resuming .* already sent/);
    assert.equal(second.json.files.skipped, doneFirst);
    assert.equal(second.json.files.sent, FILES - doneFirst);
    assert.deepEqual(stateLines(stateFile)[0], header, 'the resumed run keeps the recorded id time');
    assert.deepEqual(second.json.id_time, header.id_time);
    assert.ok(rx.state.traces.length > tracesFirst);

    // exactly the objects mapped with the recorded id time, each once
    const want = expected(paths, { project: PROJECT, id_time: header.id_time });
    assertDelivered(rx, want, 'after resume');
    assert.equal(second.json.warnings.id_outside_window, undefined, 'backfilled ids are in the window');

    // every id's time is in [T - 23 h, T], and trace ids keep the order of start times
    const T = Date.parse(at);
    const idMs = (id) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
    for (const o of [...rx.state.traces, ...rx.state.spans]) {
      const ms = idMs(o.id);
      assert.ok(ms >= T - 23 * 3600e3 && ms <= T, `${o.id} at ${new Date(ms).toISOString()}`);
    }
    const traces = [...rx.state.traces].sort((a, b) => a.start_time.localeCompare(b.start_time));
    for (let i = 1; i < traces.length; i++) {
      assert.ok(idMs(traces[i - 1].id) <= idMs(traces[i].id), 'id order follows start_time');
    }
    noKey(first);
    noKey(second);
  } finally {
    await rx.close();
  }
});

test('send: killed (SIGKILL) mid-run, torn state line: the resumed run completes the set', { skip }, async () => {
  const dir = tmp();
  const paths = makeInput(dir);
  const stateFile = join(dir, '.dify-opik-state.jsonl');
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE, delayMs: 30 });
  try {
    const args = sendArgs(rx, dir, ['--concurrency', '2', '--batch', '5']);
    const first = await run(args, {
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (rx.state.traces.length >= 30) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 5);
        child.on('close', () => clearInterval(poll));
      },
    });
    assert.equal(first.signal, 'SIGKILL');
    const recorded = stateLines(stateFile).length - 1;
    assert.ok(recorded > 0 && recorded < FILES, `recorded ${recorded}`);
    // a crash in the middle of an append leaves a torn last line
    writeFileSync(stateFile, readFileSync(stateFile, 'utf8') + '{"done":"ops_tr', { flag: 'w' });

    const second = await run(args);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.json.files.skipped, recorded);
    assert.equal(stateLines(stateFile).length - 1, FILES, 'every file recorded once');

    // Batches in flight at the kill were delivered but not recorded, so they are
    // sent again: Opik upserts by id, so they are duplicates of the same objects.
    const want = expected(paths, { project: PROJECT });
    const unique = (list) => [...new Map(list.map((o) => [o.id, o])).values()].sort(byId);
    assert.deepEqual(unique(rx.state.traces), [...want.traces].sort(byId));
    assert.deepEqual(unique(rx.state.spans), [...want.spans].sort(byId));
    // Only files the first run had not recorded were sent twice, and at most the
    // batches in flight: 2 (--concurrency) of 5 (--batch) files.
    const fileOf = new Map();
    for (const p of paths) {
      const r = map(readFileSync(p, 'utf8'), { project: PROJECT });
      for (const o of [...r.traces, ...r.spans]) fileOf.set(o.id, p.slice(dir.length + 1));
    }
    const seen = new Set();
    const twice = new Set();
    for (const o of [...rx.state.traces, ...rx.state.spans]) {
      if (seen.has(o.id)) twice.add(fileOf.get(o.id));
      seen.add(o.id);
    }
    const recordedFirst = new Set(stateLines(stateFile).slice(1, 1 + recorded).map((l) => l.done));
    for (const f of twice) assert.ok(!recordedFirst.has(f), `${f} was recorded, yet sent again`);
    assert.ok(twice.size <= 2 * 5, `${twice.size} files sent twice`);
    console.log(`# SIGKILL after ${recorded} recorded files; ${twice.size} files in flight were sent again`);
  } finally {
    await rx.close();
  }
});

test('send: 503 twice is retried and delivered once; Opik down → exit 1, nothing recorded, re-run delivers', { skip }, async () => {
  const dir = tmp();
  const paths = makeInput(dir, 12);
  const want = expected(paths, { project: PROJECT });

  const flaky = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE, failFirst: 2, failStatus: 503 });
  try {
    const r = await run(sendArgs(flaky, dir, ['--state', join(tmp(), 's.jsonl'), '--concurrency', '1', '--retry-delay-ms', '10']));
    assert.equal(r.code, 0, r.stderr);
    assertDelivered(flaky, want, '503 twice');
    assert.equal(flaky.state.rejected.filter((x) => x.status === 503).length, 2);
    assert.equal(r.json.requests.attempts, r.json.requests.sent + 2);
  } finally {
    await flaky.close();
  }

  // a port nobody listens on: connection refused on every attempt
  const gone = await startReceiver();
  const deadUrl = gone.url;
  await gone.close();
  const state = join(tmp(), 'down.jsonl');
  const down = await run(['send', '--url', deadUrl, '--workspace', WORKSPACE, '--project', PROJECT,
    '--state', state, '--retries', '1', '--retry-delay-ms', '10', dir]);
  assert.equal(down.code, 1, down.stderr);
  assert.equal(down.json.ok, false);
  assert.equal(down.json.files.failed, 12);
  assert.equal(down.json.failures[0].code, 'not_delivered');
  assert.equal(stateLines(state).length, 1, 'nothing recorded as sent');
  noKey(down);

  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  try {
    const r = await run(['send', '--url', rx.url, '--workspace', WORKSPACE, '--project', PROJECT, '--state', state, dir]);
    // a different URL is a different target: the state says so
    assert.equal(r.code, 2);
    assert.equal(r.json.error.code, 'state_mismatch');
    const again = await run(['send', '--url', rx.url, '--workspace', WORKSPACE, '--project', PROJECT,
      '--state', state, '--restart', dir]);
    assert.equal(again.code, 0, again.stderr);
    assertDelivered(rx, want, 'after restart');
  } finally {
    await rx.close();
  }
});

test('send: files that cannot be mapped fail (exit 1) while the rest is delivered; re-run retries only them', { skip }, async () => {
  const dir = tmp();
  const paths = makeInput(dir, 8);
  writeFileSync(join(dir, 'ops_trace', 'broken.json'), '{"app_id": "x", "trace_info_type": ');
  writeFileSync(join(dir, 'ops_trace', 'not-a-task.json'), '[1, 2]');
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  try {
    const r = await run(sendArgs(rx, dir, ['--verbose']));
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.json.files.total, 10);
    assert.equal(r.json.files.sent, 8);
    assert.equal(r.json.files.failed, 2);
    const codes = Object.fromEntries(r.json.failures.map((f) => [f.file, f.code]));
    assert.equal(codes['ops_trace/broken.json'], 'invalid_json');
    assert.ok(codes['ops_trace/not-a-task.json'], JSON.stringify(r.json.failures));
    assertDelivered(rx, expected(paths, { project: PROJECT }), 'good files');
    assert.match(r.stderr, /error ops_trace\/broken\.json: invalid_json/);

    const before = rx.state.requests.length;
    const again = await run(sendArgs(rx, dir));
    assert.equal(again.code, 1);
    assert.equal(again.json.files.skipped, 8);
    assert.equal(again.json.files.failed, 2);
    assert.equal(rx.state.requests.length, before, 'nothing new to send');
  } finally {
    await rx.close();
  }
});

test('send --dry-run: maps and builds, sends nothing, writes no state', { skip }, async () => {
  const dir = tmp();
  const paths = makeInput(dir, 15);
  const rx = await startReceiver({ apiKey: API_KEY, workspace: WORKSPACE });
  try {
    const r = await run(sendArgs(rx, dir, ['--dry-run', '--backfill', '--max-items', '10']));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(rx.state.requests.length, 0);
    assert.equal(existsSync(join(dir, '.dify-opik-state.jsonl')), false);
    assert.equal(r.json.dry_run, true);
    assert.equal(r.json.state, null);
    const want = expected(paths, { project: PROJECT });
    assert.equal(r.json.traces, want.traces.length);
    assert.equal(r.json.spans, want.spans.length);
    assert.ok(r.json.requests.built >= Math.ceil(want.spans.length / 10));
    assert.equal(typeof r.json.id_time.events_from, 'string');
    noKey(r);
  } finally {
    await rx.close();
  }
});

test('send: configuration problems exit 2 before anything is read or sent', async () => {
  const r = await run(['send', '--url', 'ftp://example.invalid/', '--workspace', WORKSPACE, tmp()]);
  assert.equal(r.code, 2);
  assert.equal(r.json.error.code, 'invalid_config');
  assert.ok(r.json.error.problems.length >= 1);
  noKey(r);
  const u = await run(['send', '--concurrency', '0', tmp()]);
  assert.equal(u.code, 2);
  assert.equal(u.json.error.code, 'invalid_option');
  const none = await run(['send']);
  assert.equal(none.code, 2);
  const empty = await run(['send', '--url', 'http://127.0.0.1:9/api/', tmp()]);
  assert.equal(empty.code, 2);
  assert.equal(empty.json.error.code, 'no_input');
});
