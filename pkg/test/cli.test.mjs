// `dify-opik map` and the command's plumbing: output equal to the package's
// own `map`, errors as `{"error":{code,message,path}}` with exit 2, files,
// directories and stdin, the progress display on a terminal and off it, and
// the command installed from the packed package (`npx dify-opik`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync, rmSync, cpSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { map, mapEach, version } from 'dify-opik';
import { Progress } from '../cli/progress.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const PKG = join(here, '..');
const CLI = join(PKG, 'cli', 'dify-opik.mjs');
const EXAMPLES = join(PKG, '..', 'examples', 'traces');
const NOW = '2026-03-03T00:00:00Z';

const tmpRoots = [];
process.on('exit', () => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});
function tmp() {
  const d = mkdtempSync(join(tmpdir(), 'dify-opik-cli-'));
  tmpRoots.push(d);
  return d;
}

// The command reads defaults from the Opik SDK's variables (OPIK_PROJECT_NAME, …). The tests run it
// without the caller's OPIK_* variables, so a developer's own settings cannot change the results;
// a test that wants one passes it in `env`.
const cleanEnv = (env = {}) => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OPIK_'))),
  ...env,
});

function cli(args, input, env) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8', maxBuffer: 1 << 28, env: cleanEnv(env) });
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // checked by the caller
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

const example = (name) => join(EXAMPLES, name);
const examples = () => readdirSync(EXAMPLES).filter((f) => f.endsWith('.json')).sort();

test('map FILE prints exactly what the package maps, for every example and both profiles', () => {
  for (const name of examples()) {
    const text = readFileSync(example(name), 'utf8');
    for (const extra of [[], ['--profile', 'reference', '--project', 'dify-project']]) {
      const r = cli(['map', '--now', NOW, ...extra, example(name)]);
      const options = { now: NOW, ...(extra.length ? { profile: 'reference', project: 'dify-project' } : {}) };
      let want;
      try {
        want = map(text, options);
      } catch (e) {
        assert.equal(r.code, 2, `${name}: ${r.stderr}`);
        assert.deepEqual(r.json, { error: { code: e.code, message: e.message, path: e.path } });
        continue;
      }
      assert.equal(r.code, 0, `${name} ${extra}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(r.json, want, name);
    }
  }
});

test('map: stdin, --pretty, mapping options and id time are passed through', () => {
  const text = readFileSync(example('workflow_failed.json'), 'utf8');
  const r = cli(['map', '--pretty', '--now', NOW, '--project', '  Backfill  ', '--files-url', 'https://dify.example.com',
    '--naive-offset', '+08:00', '--no-redact', '--id-time-at', '2026-11-01T00:00:00Z',
    '--events-from', '2026-03-01T00:00:00Z', '--events-to', '2026-03-05T00:00:00Z', '-'], text);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /^\{\n {2}"traces"/);
  const want = map(text, {
    now: NOW, project: '  Backfill  ', files_url: 'https://dify.example.com', naive_offset: '+08:00', redact: false,
    id_time: { at: '2026-11-01T00:00:00Z', events_from: '2026-03-01T00:00:00Z', events_to: '2026-03-05T00:00:00Z' },
  });
  assert.deepEqual(r.json, want);
  assert.equal(r.json.traces[0].project_name, 'Backfill');
  assert.notDeepEqual(r.json, map(text, { now: NOW }), 'the options changed something');
});

test('map: OPIK_PROJECT_NAME is the default project; --project wins over it', () => {
  const file = example('workflow_failed.json');
  const text = readFileSync(file, 'utf8');
  const project = 'Project From The Environment';
  const plain = cli(['map', '--now', NOW, file]);
  assert.equal(plain.code, 0, plain.stderr);
  assert.ok(plain.json.traces.length > 0 && plain.json.spans.length > 0, 'the example has traces and spans');
  assert.notEqual(plain.json.traces[0].project_name, project);
  const fromEnv = cli(['map', '--now', NOW, file], undefined, { OPIK_PROJECT_NAME: project });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.deepEqual(fromEnv.json, map(text, { now: NOW, project }), 'the same as the package mapping with that project');
  for (const o of [...fromEnv.json.traces, ...fromEnv.json.spans]) assert.equal(o.project_name, project);
  const dir = tmp();
  cpSync(file, join(dir, 'a.json'));
  const fromEnvDir = cli(['map', '--now', NOW, dir], undefined, { OPIK_PROJECT_NAME: project });
  assert.ok([...fromEnvDir.json.traces, ...fromEnvDir.json.spans].every((o) => o.project_name === project), 'directories too');
  const flag = cli(['map', '--now', NOW, '--project', 'From The Flag', file], undefined, { OPIK_PROJECT_NAME: project });
  assert.equal(flag.code, 0, flag.stderr);
  assert.deepEqual(flag.json, map(text, { now: NOW, project: 'From The Flag' }));
});

test('map: errors are {"error":{code,message,path}} with exit 2', () => {
  const bad = cli(['map'], '{"app_id": "a", "trace_info_type": ');
  assert.equal(bad.code, 2);
  assert.equal(bad.json.error.code, 'invalid_json');
  assert.equal(typeof bad.json.error.path, 'string');
  const missing = cli(['map', join(tmp(), 'nope.json')]);
  assert.equal(missing.code, 2);
  assert.equal(missing.json.error.code, 'unreadable');
  const badUtf8 = join(tmp(), 'latin1.json');
  writeFileSync(badUtf8, Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x7d]));
  assert.equal(cli(['map', badUtf8]).json.error.code, 'invalid_json');
  const option = cli(['map', '--profile', 'nope', example('tool.json')]);
  assert.equal(option.code, 2);
  assert.equal(option.json.error.code, 'invalid_option');
  const unknown = cli(['map', '--frobnicate', example('tool.json')]);
  assert.equal(unknown.code, 2);
  assert.equal(unknown.json.error.code, 'invalid_option');
  const cmd = cli(['frobnicate']);
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /usage:/);
});

test('map DIR maps every task file (recursively), failing files listed with their path', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'ops_trace', 'app-1'), { recursive: true });
  cpSync(example('message.json'), join(dir, 'ops_trace', 'app-1', 'a.json'));
  cpSync(example('tool.json'), join(dir, 'ops_trace', 'b.json'));
  writeFileSync(join(dir, 'ops_trace', 'c.json'), '{"broken": ');
  writeFileSync(join(dir, 'ops_trace', 'notes.txt'), 'not a task file');
  writeFileSync(join(dir, '.hidden.json'), '{"broken": ');
  const r = cli(['map', '--now', NOW, dir]);
  assert.equal(r.code, 2);
  const a = mapEach(readFileSync(example('message.json'), 'utf8'), { now: NOW });
  const b = mapEach(readFileSync(example('tool.json'), 'utf8'), { now: NOW });
  assert.deepEqual(r.json.traces, [...a.traces, ...b.traces]);
  assert.deepEqual(r.json.spans, [...a.spans, ...b.spans]);
  assert.equal(r.json.errors.length, 1);
  assert.match(r.json.errors[0].file, /ops_trace\/c\.json$/);
  assert.equal(r.json.errors[0].code, 'invalid_json');
  assert.ok(r.json.warnings.every((w) => typeof w.file === 'string'));
});

/** A loopback port nobody listens on (connection refused). */
async function deadPort() {
  const server = createServer();
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  const { port } = server.address();
  await new Promise((ok) => server.close(ok));
  return port;
}

/**
 * Runs the command with the package's `map` and `mapEach` replaced by functions that throw a plain
 * Error (no code): what a bug in the package would look like to the command.
 */
function cliWithBrokenPackage(args) {
  const dir = tmp();
  const real = import.meta.resolve('dify-opik');
  writeFileSync(join(dir, 'stub.mjs'), `export * from ${JSON.stringify(real)};
export function map() { throw new TypeError('stub: map exploded'); }
export function mapEach() { throw new TypeError('stub: mapEach exploded'); }
`);
  writeFileSync(join(dir, 'hooks.mjs'), `const stub = ${JSON.stringify(pathToFileURL(join(dir, 'stub.mjs')).href)};
export async function resolve(specifier, context, next) {
  if (specifier === 'dify-opik' && !context.parentURL?.startsWith(stub)) return { url: stub, shortCircuit: true };
  return next(specifier, context);
}
`);
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(join(dir, 'hooks.mjs')).href)});
`);
  const r = spawnSync(process.execPath, ['--import', pathToFileURL(join(dir, 'register.mjs')).href, CLI, ...args], {
    encoding: 'utf8',
    env: cleanEnv(),
  });
  let json = null;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    // checked by the caller
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, json };
}

/** The command's own error codes, from the table in pkg/cli/README.md. */
function documentedCliCodes() {
  const text = readFileSync(join(PKG, 'cli', 'README.md'), 'utf8');
  const table = text.slice(text.indexOf('<!-- cli-codes'));
  const codes = [];
  for (const line of table.split('\n').slice(1)) {
    if (!line.startsWith('|')) {
      if (codes.length) break;
      continue;
    }
    const m = /^\| `([a-z_]+)` \|/.exec(line);
    if (m) codes.push(m[1]);
  }
  return codes;
}

/** The package's stable codes, from src/error.rs (`ErrorCode::as_str`). */
function libraryCodes() {
  const rs = readFileSync(join(PKG, '..', 'src', 'error.rs'), 'utf8');
  return [...rs.matchAll(/ErrorCode::\w+ => "([a-z_]+)"/g)].map((m) => m[1]);
}

test('error codes: each of the command\'s own codes is documented and produced; every other code is the package\'s', async () => {
  const lib = libraryCodes();
  assert.ok(lib.includes('invalid_json') && lib.includes('invalid_config'), `codes read from src/error.rs: ${lib}`);
  const documented = documentedCliCodes();
  assert.ok(documented.length > 0, 'pkg/cli/README.md lists the command\'s codes');
  for (const c of documented) assert.ok(!lib.includes(c), `${c} is the package's code, not the command's`);

  // every code literal in the command's source is the package's or documented
  const source = readdirSync(join(PKG, 'cli'))
    .filter((f) => f.endsWith('.mjs'))
    .map((f) => readFileSync(join(PKG, 'cli', f), 'utf8'))
    .join('\n');
  const used = new Set();
  for (const re of [/\bcode:\s*'([a-z_]+)'/g, /\bcode\s*=\s*'([a-z_]+)'/g, /'([a-z_]+)',\s*'[^']*',?\s*\)/g, /\? e\.code : '([a-z_]+)'/g]) {
    for (const m of source.matchAll(re)) used.add(m[1]);
  }
  assert.ok(used.has('unreadable') && used.has('internal'), `code literals found in the source: ${[...used]}`);
  for (const c of used) assert.ok(lib.includes(c) || documented.includes(c), `the command emits ${c}: not the package's and not in pkg/cli/README.md`);

  // the main README's error list names them too
  const readme = readFileSync(join(PKG, '..', 'README.md'), 'utf8');
  const errorsSection = readme.slice(readme.indexOf('## Errors and warnings'), readme.indexOf('Warnings ('));
  for (const c of documented) assert.ok(errorsSection.includes(`\`${c}\``), `README.md's error list names ${c}`);

  // and each one is produced
  const file = example('tool.json');
  const url = `http://127.0.0.1:${await deadPort()}/api/`;
  const send = (...a) => cli(['send', '--url', url, '--quiet', ...a]);
  const produced = {
    unreadable: () => {
      const one = cli(['map', join(tmp(), 'nope.json')]);
      assert.equal(one.code, 2);
      const many = cli(['map', file, join(tmp(), 'nope.json')]);
      assert.equal(many.code, 2);
      const s = send(join(tmp(), 'nope'));
      assert.equal(s.code, 2);
      return [one.json.error.code, many.json.error.code, s.json.error.code];
    },
    no_input: () => {
      const r = send(tmp());
      assert.equal(r.code, 2);
      return [r.json.error.code];
    },
    invalid_state: () => {
      const state = join(tmp(), 'state.jsonl');
      writeFileSync(state, '{"something": "else"}\n');
      const r = send('--state', state, file);
      assert.equal(r.code, 2);
      assert.equal(readFileSync(state, 'utf8'), '{"something": "else"}\n', 'the file is left alone');
      return [r.json.error.code];
    },
    unwritable_state: () => {
      const r = send('--state', join(tmp(), 'no', 'such', 'dir', 'state.jsonl'), file);
      assert.equal(r.code, 2);
      return [r.json.error.code];
    },
    not_delivered: () => {
      const r = send('--state', join(tmp(), 'state.jsonl'), '--retries', '0', file);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.json.files.failed, 1);
      return r.json.failures.map((f) => f.code);
    },
    state_mismatch: () => {
      const state = join(tmp(), 'state.jsonl');
      assert.equal(send('--state', state, '--retries', '0', file).code, 1, 'a first run writes the state');
      const r = send('--workspace', 'another-team', '--state', state, file);
      assert.equal(r.code, 2);
      return [r.json.error.code];
    },
    internal: () => {
      const one = cliWithBrokenPackage(['map', file]);
      assert.equal(one.code, 2, one.stderr);
      assert.match(one.json.error.message, /stub: map exploded/);
      const dir = tmp();
      cpSync(file, join(dir, 'a.json'));
      const many = cliWithBrokenPackage(['map', dir]);
      assert.equal(many.code, 2, many.stderr);
      assert.match(many.json.errors[0].message, /stub: mapEach exploded/);
      const s = cliWithBrokenPackage(['send', '--url', url, '--quiet', '--dry-run', file]);
      assert.equal(s.code, 1, s.stderr);
      return [one.json.error.code, many.json.errors[0].code, s.json.failures[0].code];
    },
  };
  assert.deepEqual(Object.keys(produced).sort(), [...documented].sort(), 'a scenario for each documented code');
  for (const [code, run] of Object.entries(produced)) {
    const got = run();
    assert.ok(got.length > 0);
    for (const g of got) assert.equal(g, code, `scenario for ${code}`);
  }
});

test('version and help', () => {
  assert.deepEqual(cli(['version']).json, { version: version() });
  const help = cli(['help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /dify-opik send/);
  assert.match(help.stdout, /--backfill/);
});

test('progress: a redrawn bar on a terminal, plain lines otherwise', () => {
  const writes = [];
  const tty = { isTTY: true, write: (s) => writes.push(s) };
  const p = new Progress(4, { stream: tty });
  p.add({ files: 1, traces: 1, spans: 3 });
  p.note('a message');
  p.add({ files: 3, traces: 2, spans: 5, failed: 1 });
  p.finish();
  const all = writes.join('');
  assert.match(all, /\r\x1b\[K\[#{7}-{21}\] 1\/4 files \(25%\), 1 traces, 3 spans/);
  assert.match(all, /\r\x1b\[Ka message\n/);
  assert.match(all, /\[#{28}\] 4\/4 files \(100%\), 3 traces, 8 spans, 1 failed/);
  assert.ok(all.endsWith('\n'));

  const lines = [];
  const pipe = { isTTY: false, write: (s) => lines.push(s) };
  const q = new Progress(100, { stream: pipe });
  for (let i = 0; i < 100; i++) q.add({ files: 1 });
  q.finish();
  assert.equal(lines.length, 11, lines.join('')); // 1 %, then every 10 %
  assert.ok(lines.every((l) => /^progress: \d+\/100 files \(\d+%\), 0 traces, 0 spans, [\d.]+\/s\n$/.test(l)));
  assert.match(lines.at(-1), /^progress: 100\/100 files \(100%\)/);

  const quiet = [];
  const off = new Progress(3, { stream: { isTTY: true, write: (s) => quiet.push(s) }, enabled: false });
  off.add({ files: 3 });
  off.finish();
  assert.deepEqual(quiet, []);
});

test('npx dify-opik: the command from the packed package', () => {
  const dir = tmp();
  const packed = execFileSync('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: PKG, encoding: 'utf8' })
    .trim()
    .split('\n')
    .at(-1);
  const app = join(dir, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, packed)], { cwd: app, stdio: 'pipe' });
  const npx = (args) => spawnSync('npx', ['--no-install', 'dify-opik', ...args], { cwd: app, encoding: 'utf8', env: cleanEnv() });
  const v = npx(['version']);
  assert.equal(v.status, 0, v.stderr);
  assert.deepEqual(JSON.parse(v.stdout), { version: version() });
  const m = npx(['map', '--now', NOW, example('message.json')]);
  assert.equal(m.status, 0, m.stderr);
  assert.deepEqual(JSON.parse(m.stdout), map(readFileSync(example('message.json'), 'utf8'), { now: NOW }));
});
