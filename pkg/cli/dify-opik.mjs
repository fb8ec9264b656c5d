#!/usr/bin/env node
// `dify-opik`: the package's Node command.
//
//   dify-opik map  [mapping options] [--pretty] FILE|DIR|-
//   dify-opik send [mapping options] [Opik options] [send options] FILE|DIR...
//   dify-opik version
//
// `map` prints the Opik payloads. `send` sends Dify trace-task files to Opik:
// batched, concurrent, retried, resumable (a state file records the files
// already delivered), with a `--backfill` mode for old traces (linked profile
// item 15). Run `dify-opik help` for the options.
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { statSync } from 'node:fs';
import { map, mapEach, buildRequests, validateConfig, send, version } from 'dify-opik';
import { collectFiles, stateKey } from './files.mjs';
import { readState, StateWriter, DEFAULT_STATE_NAME } from './state.mjs';
import { Progress } from './progress.mjs';

const USAGE = `usage:
  dify-opik map  [mapping options] [--pretty] FILE|DIR|-
  dify-opik send [mapping options] [Opik options] [send options] FILE|DIR...
  dify-opik version

Mapping options:
  --profile linked|reference   mapping profile (default linked)
  --project NAME               Opik project (default $OPIK_PROJECT_NAME, else "Default Project")
  --files-url URL              Dify's FILES_URL (default http://127.0.0.1:5001)
  --now RFC3339                the clock reading to use (default: now)
  --naive-offset +HH:MM        offset of naive datetimes (default +00:00)
  --no-redact                  keep credential-looking values
  --id-time-at RFC3339 [--events-from RFC3339 --events-to RFC3339]
                               move the ids' time (linked profile item 15)

Opik options (send):
  --url URL                    API base URL (default $OPIK_URL_OVERRIDE or $OPIK_URL, else Opik Cloud)
  --api-key KEY                API key (default $OPIK_API_KEY; prefer the variable)
  --workspace NAME             workspace (default $OPIK_WORKSPACE)

Send options:
  --backfill                   old traces: scan the input first, then map every id's time onto
                               the 23 h before now, keeping the order of events; the choice is
                               recorded in the state file and reused when the run is resumed
  --dry-run                    map and build the requests, send nothing, write no state
  --state FILE                 progress record (default DIR/${DEFAULT_STATE_NAME} for one
                               directory, else ./${DEFAULT_STATE_NAME})
  --restart                    forget the state file and start over
  --concurrency N              batches in flight (default 4)
  --batch N                    files per batch (default 20)
  --retries N                  retries per request on network errors, 408, 429, 5xx (default 3)
  --retry-delay-ms N           first backoff delay, doubled per retry; Retry-After wins (default 500)
  --max-items N                objects per request (default: the package's, 1000)
  --timeout-ms N               per-attempt request timeout (default 60000)
  --quiet                      no progress display
  --verbose                    list every warning and failure on stderr

Exit status: 0 all delivered; 1 some file failed (listed in the summary); 2 bad usage,
configuration or state; 130 interrupted (the state keeps what was delivered).`;

const MAP_OPTIONS = {
  profile: { type: 'string' },
  project: { type: 'string' },
  'files-url': { type: 'string' },
  now: { type: 'string' },
  'naive-offset': { type: 'string' },
  'no-redact': { type: 'boolean' },
  'id-time-at': { type: 'string' },
  'events-from': { type: 'string' },
  'events-to': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const SEND_OPTIONS = {
  ...MAP_OPTIONS,
  url: { type: 'string' },
  'api-key': { type: 'string' },
  workspace: { type: 'string' },
  backfill: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  state: { type: 'string' },
  restart: { type: 'boolean' },
  concurrency: { type: 'string' },
  batch: { type: 'string' },
  retries: { type: 'string' },
  'retry-delay-ms': { type: 'string' },
  'max-items': { type: 'string' },
  'timeout-ms': { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  verbose: { type: 'boolean', short: 'v' },
};

/** A usage, configuration or state problem: exit 2 with `{"error":…}`. */
class UsageError extends Error {
  constructor(message, code = 'invalid_option', path = '/options') {
    super(message);
    this.code = code;
    this.path = path;
  }
}

const out = (v, pretty = false) => process.stdout.write(`${JSON.stringify(v, null, pretty ? 2 : 0)}\n`);
const errOut = (s) => process.stderr.write(`${s}\n`);
// Errors from the package carry its stable code; the command's own failures carry a CLI-level code
// (pkg/cli/README.md, "Error codes"). Anything else is a bug: `internal`, with the message.
const errorJson = (e) => ({
  code: typeof e?.code === 'string' && e.code ? e.code : 'internal',
  message: String(e?.message ?? e),
  path: typeof e?.path === 'string' ? e.path : '',
});

async function main(argv) {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'map':
      return runMap(rest);
    case 'send':
      return runSend(rest);
    case 'version':
    case '--version':
      out({ version: version() });
      return 0;
    case 'help':
    case '--help':
    case '-h':
    case undefined:
      process.stdout.write(`${USAGE}\n`);
      return cmd === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(cmd)}\n${USAGE}`);
  }
}

function parse(args, options) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${e.message}\n${USAGE}`);
  }
}

function intOption(values, name, dflt, min) {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} takes a whole number ≥ ${min}`);
  return n;
}

/** The package's mapping options from the command line (snake_case keys). */
function mappingOptions(values) {
  const o = {};
  if (values.profile !== undefined) o.profile = values.profile;
  const project = values.project ?? process.env.OPIK_PROJECT_NAME;
  if (project !== undefined) o.project = project;
  if (values['files-url'] !== undefined) o.files_url = values['files-url'];
  if (values.now !== undefined) o.now = values.now;
  if (values['naive-offset'] !== undefined) o.naive_offset = values['naive-offset'];
  if (values['no-redact']) o.redact = false;
  const idTime = idTimeOption(values);
  if (idTime) o.id_time = idTime;
  return o;
}

function idTimeOption(values) {
  const at = values['id-time-at'];
  const from = values['events-from'];
  const to = values['events-to'];
  if (at === undefined) {
    if (from !== undefined || to !== undefined) throw new UsageError('--events-from/--events-to need --id-time-at');
    return null;
  }
  const t = { at };
  if (from !== undefined) t.events_from = from;
  if (to !== undefined) t.events_to = to;
  return t;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

async function readText(path) {
  let bytes;
  try {
    bytes = path === '-' ? await readStdin() : await readFile(path);
  } catch (e) {
    throw Object.assign(new Error(`cannot read ${path}: ${e.code ?? e.message}`), { code: 'unreadable', path: '' });
  }
  try {
    return decoder.decode(bytes);
  } catch {
    throw Object.assign(new Error(`${path} is not UTF-8`), { code: 'invalid_json', path: '' });
  }
}

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks);
}

// ---------------------------------------------------------------------------
// map

async function runMap(args) {
  const { values, positionals } = parse(args, { ...MAP_OPTIONS, pretty: { type: 'boolean' } });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const options = mappingOptions(values);
  const inputs = positionals.length ? positionals : ['-'];
  const single = inputs.length === 1 && (inputs[0] === '-' || !isDirectory(inputs[0]));
  if (single) {
    // One input: the package's `map`, which fails on the first bad task.
    try {
      const text = await readText(inputs[0]);
      out(map(text, options), values.pretty);
      return 0;
    } catch (e) {
      out({ error: errorJson(e) }, values.pretty);
      return 2;
    }
  }
  // Several files or a directory: map each file, list the failing ones.
  if (inputs.includes('-')) throw new UsageError('"-" (stdin) cannot be combined with other inputs');
  const files = await collectFiles(inputs).catch((e) => {
    throw new UsageError(`cannot read the input: ${e.message}`, 'unreadable', '');
  });
  const result = { traces: [], spans: [], warnings: [], errors: [] };
  for (const f of files) {
    const name = stateKey(process.cwd(), f.abs);
    try {
      const r = mapEach(await readText(f.abs), options);
      result.traces.push(...r.traces);
      result.spans.push(...r.spans);
      for (const w of r.warnings) result.warnings.push({ file: name, ...w });
      for (const e of r.errors ?? []) result.errors.push({ file: name, ...e });
    } catch (e) {
      result.errors.push({ file: name, ...errorJson(e) });
    }
  }
  out(result, values.pretty);
  return result.errors.length ? 2 : 0;
}

function isDirectory(p) {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------
// send

async function runSend(args) {
  const { values, positionals } = parse(args, SEND_OPTIONS);
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!positionals.length) throw new UsageError(`send needs a file or a directory\n${USAGE}`);
  if (positionals.includes('-')) throw new UsageError('send reads files, not stdin ("-")');
  const dryRun = Boolean(values['dry-run']);
  const concurrency = intOption(values, 'concurrency', 4, 1);
  const batchFiles = intOption(values, 'batch', 20, 1);
  const retries = intOption(values, 'retries', 3, 0);
  const baseDelayMs = intOption(values, 'retry-delay-ms', 500, 0);
  const timeoutMs = intOption(values, 'timeout-ms', 60000, 1);
  const maxItems = intOption(values, 'max-items', undefined, 1);
  const verbose = Boolean(values.verbose);
  const showProgress = !values.quiet;
  const log = (s) => {
    if (showProgress || verbose) errOut(s);
  };

  // Configuration: flags, then the Opik SDK's environment variables.
  const config = {};
  const url = values.url ?? process.env.OPIK_URL_OVERRIDE ?? process.env.OPIK_URL;
  const apiKey = values['api-key'] ?? process.env.OPIK_API_KEY;
  const workspace = values.workspace ?? process.env.OPIK_WORKSPACE;
  const project = values.project ?? process.env.OPIK_PROJECT_NAME;
  if (url) config.url = url;
  if (apiKey) config.api_key = apiKey;
  if (workspace) config.workspace = workspace;
  if (project !== undefined) config.project = project;
  const check = validateConfig(config);
  if (!check.ok) {
    const problems = check.problems.map((p) => `  ${p.code} ${p.path}: ${p.message}`).join('\n');
    throw Object.assign(new UsageError(`the Opik configuration is not valid:\n${problems}`, 'invalid_config', '/config'), {
      problems: check.problems,
    });
  }

  const options = mappingOptions(values);
  const explicitIdTime = options.id_time ?? null;
  if (values.backfill && explicitIdTime?.events_from !== undefined) {
    throw new UsageError('--backfill picks the event range itself; give --id-time-at alone to fix T');
  }

  // Files and state.
  let files;
  try {
    files = await collectFiles(positionals);
  } catch (e) {
    throw new UsageError(`cannot read the input: ${e.message}`, 'unreadable', '');
  }
  if (!files.length) {
    throw new UsageError(`no trace-task files (*.json, *.jsonl, *.ndjson) in ${positionals.join(', ')}`, 'no_input', '');
  }
  const stateFile = resolve(
    values.state ?? (positionals.length === 1 && isDirectory(positionals[0]) ? `${positionals[0]}/${DEFAULT_STATE_NAME}` : DEFAULT_STATE_NAME),
  );
  const stateDir = dirname(stateFile);
  const target = { url: check.url, workspace: check.workspace ?? null, project: check.project ?? null };
  const mapping = {
    profile: options.profile ?? 'linked',
    files_url: options.files_url ?? null,
    naive_offset: options.naive_offset ?? null,
    redact: options.redact ?? true,
  };

  let previous = null;
  if (!values.restart) {
    try {
      previous = readState(stateFile);
    } catch (e) {
      throw new UsageError(`${e.message}; use --restart or another --state`, 'invalid_state', '');
    }
  }
  if (previous) {
    const h = previous.header;
    const differs = [];
    if (JSON.stringify(h.target) !== JSON.stringify(target)) differs.push('the Opik target (url, workspace, project)');
    if (JSON.stringify(h.mapping) !== JSON.stringify(mapping)) differs.push('the mapping options');
    if (values.backfill && !isRange(h.id_time)) differs.push('--backfill (the earlier run did not backfill)');
    if (explicitIdTime && JSON.stringify(explicitIdTime) !== JSON.stringify(h.id_time)) {
      if (!(values.backfill && isRange(h.id_time) && h.id_time.at === explicitIdTime.at)) differs.push('the id time');
    }
    if (differs.length) {
      throw new UsageError(
        `${stateFile} records a run with different settings: ${differs.join(', ')}. ` +
          'Resuming would mix ids; use --restart (files already sent are sent again) or another --state.',
        'state_mismatch',
        '',
      );
    }
  }

  // The id time: recorded (resume), scanned (backfill), given, or the events' own.
  let idTime;
  let scan = null;
  if (previous) {
    idTime = previous.header.id_time;
    if (idTime !== 'event') {
      log(`resuming ${stateFile}: ${previous.done.size} files already sent; id time ${describeIdTime(idTime)}`);
      warnIfStale(idTime, log);
    } else {
      log(`resuming ${stateFile}: ${previous.done.size} files already sent`);
    }
  } else if (values.backfill) {
    scan = await scanEvents(files, options, showProgress);
    const at = explicitIdTime?.at ?? new Date().toISOString();
    idTime = scan.from === null ? { at } : { at, events_from: iso(scan.from), events_to: iso(scan.to) };
    log(`backfill: ${scan.events} objects from ${scan.from === null ? '-' : iso(scan.from)} to ${scan.to === null ? '-' : iso(scan.to)}; id time ${describeIdTime(idTime)}`);
  } else {
    idTime = explicitIdTime ?? 'event';
  }
  const mapOpts = { ...options };
  if (idTime === 'event') delete mapOpts.id_time;
  else mapOpts.id_time = idTime;

  // What is left to send.
  const done = previous?.done ?? new Map();
  let pending = [];
  let skipped = 0;
  for (const f of files) {
    const rec = done.get(stateKey(stateDir, f.abs));
    if (rec && rec.size === f.size) skipped += 1;
    else pending.push(f);
  }
  if (scan) {
    // Backfills go oldest first, so a late resume keeps the newest ids in Opik's window.
    pending = pending
      .map((f, i) => ({ f, i, t: scan.first.get(f.abs) ?? Infinity }))
      .sort((a, b) => a.t - b.t || a.i - b.i)
      .map((x) => x.f);
  }

  let writer = null;
  if (!dryRun && pending.length) {
    try {
      writer = previous
        ? StateWriter.open(stateFile)
        : StateWriter.create(stateFile, { created: new Date().toISOString(), target, mapping, id_time: idTime });
    } catch (e) {
      throw new UsageError(`cannot write the state file ${stateFile}: ${e.code ?? e.message}; use --state`, 'unwritable_state', '');
    }
  }

  const progress = new Progress(pending.length, { enabled: showProgress });

  // Interrupts: the first stops starting batches, the second leaves at once.
  let stopping = false;
  const onSignal = (sig) => {
    if (stopping) {
      writer?.close();
      errOut(`\n${sig} again: leaving now; batches in flight are not recorded and will be sent again`);
      process.exit(130);
    }
    stopping = true;
    progress.note(`${sig}: finishing the batches in flight (${sig} again to leave at once)`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const totals = { files: 0, traces: 0, spans: 0, requests: 0, attempts: 0, failedRequests: 0 };
  const failures = [];
  const warningCounts = {};
  let outsideWindow = 0;

  const batches = makeBatches(pending, batchFiles);
  let nextBatch = 0;
  const startedAt = Date.now();
  const workers = Array.from({ length: Math.min(concurrency, batches.length) }, async () => {
    while (!stopping && nextBatch < batches.length) {
      const batch = batches[nextBatch++];
      await runBatch(batch);
    }
  });

  async function runBatch(batch) {
    const mapped = [];
    let batchFailed = 0;
    for (const f of batch) {
      const name = stateKey(stateDir, f.abs);
      try {
        const r = mapEach(await readText(f.abs), mapOpts);
        mapped.push({ f, name, r });
        for (const w of r.warnings) {
          warningCounts[w.code] = (warningCounts[w.code] ?? 0) + 1;
          if (w.code === 'id_outside_window') outsideWindow += 1;
          if (verbose) progress.note(`warning ${name}: ${w.code} ${w.path}: ${w.message}`);
        }
        for (const e of r.errors ?? []) {
          failures.push({ file: name, ...errorJson(e) });
          if (verbose) progress.note(`error ${name}: ${e.code} ${e.path}: ${e.message}`);
        }
      } catch (e) {
        failures.push({ file: name, ...errorJson(e) });
        if (verbose) progress.note(`error ${name}: ${e.code} ${e.message}`);
        batchFailed += 1;
      }
    }
    const result = { traces: [], spans: [], warnings: [] };
    for (const m of mapped) {
      result.traces.push(...m.r.traces);
      result.spans.push(...m.r.spans);
    }
    let delivered = true;
    let failure = null;
    if (result.traces.length || result.spans.length) {
      const built = buildRequests(result, config, maxItems ? { max_items: maxItems } : undefined);
      for (const w of built.warnings ?? []) warningCounts[w.code] = (warningCounts[w.code] ?? 0) + 1;
      totals.requests += built.requests.length;
      if (!dryRun) {
        const outcome = await sendRequests(built.requests, { retries, baseDelayMs, timeoutMs });
        totals.attempts += outcome.attempts;
        totals.failedRequests += outcome.failed.length;
        if (outcome.failed.length) {
          delivered = false;
          failure = outcome.failed[0];
        }
      }
    }
    let traces = 0;
    let spans = 0;
    for (const m of mapped) {
      const clean = !(m.r.errors ?? []).length;
      if (delivered) {
        traces += m.r.traces.length;
        spans += m.r.spans.length;
      }
      if (delivered && clean) {
        writer?.append({ done: m.name, size: m.f.size, traces: m.r.traces.length, spans: m.r.spans.length });
      } else {
        batchFailed += 1;
        if (!delivered) {
          failures.push({ file: m.name, code: 'not_delivered', message: describeFailure(failure), path: '' });
          if (verbose) progress.note(`failed ${m.name}: ${describeFailure(failure)}`);
        }
      }
    }
    totals.files += batch.length - batchFailed;
    totals.traces += traces;
    totals.spans += spans;
    progress.add({ files: batch.length, failed: batchFailed, traces, spans });
  }

  await Promise.all(workers);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  writer?.close();
  progress.finish();

  const interrupted = stopping && nextBatch < batches.length;
  const failedFiles = new Set(failures.map((f) => f.file)).size;
  const summary = {
    ok: failures.length === 0 && !interrupted,
    dry_run: dryRun,
    interrupted,
    files: {
      total: files.length,
      skipped,
      sent: totals.files,
      failed: failedFiles,
      left: pending.length - progress.done,
    },
    traces: totals.traces,
    spans: totals.spans,
    requests: dryRun
      ? { built: totals.requests }
      : { sent: totals.requests - totals.failedRequests, failed: totals.failedRequests, attempts: totals.attempts },
    warnings: warningCounts,
    failures: failures.slice(0, 100),
    failure_count: failures.length,
    id_time: idTime,
    target: { url: target.url, workspace: target.workspace, project: target.project, api_key: config.api_key ? 'set' : 'unset' },
    state: dryRun ? null : stateFile,
    seconds: Math.round((Date.now() - startedAt) / 100) / 10,
  };
  out(summary, true);
  const verb = dryRun ? 'would send' : 'sent';
  log(
    `${verb} ${totals.traces} traces and ${totals.spans} spans from ${totals.files} files` +
      `${skipped ? ` (${skipped} already sent, skipped)` : ''}` +
      `${failedFiles ? `; ${failedFiles} files failed` : ''}` +
      `${interrupted ? `; interrupted with ${summary.files.left} files left: run the same command again to resume` : ''}`,
  );
  if (outsideWindow && idTime === 'event') {
    log(`${outsideWindow} tasks have ids outside Opik Cloud's 24 h window: use --backfill for old traces`);
  }
  if (interrupted) return 130;
  return failures.length ? 1 : 0;
}

/** Sends one batch's requests with the package's `send` (retries with backoff, Retry-After). */
async function sendRequests(requests, options) {
  const reports = await send(requests, options);
  let attempts = 0;
  const failed = [];
  for (const r of reports) {
    attempts += r.attempts;
    if (!r.ok) failed.push({ kind: r.kind, status: r.status, attempts: r.attempts, error: r.error });
  }
  return { attempts, failed };
}

function makeBatches(files, size) {
  const out = [];
  const MAX_BATCH_BYTES = 8 * 1024 * 1024;
  let cur = [];
  let bytes = 0;
  for (const f of files) {
    if (cur.length && (cur.length >= size || bytes + f.size > MAX_BATCH_BYTES)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(f);
    bytes += f.size;
  }
  if (cur.length) out.push(cur);
  return out;
}

function describeFailure(f) {
  if (!f) return 'not delivered';
  const status = f.status ? `HTTP ${f.status}` : 'network error';
  return `${f.kind ?? 'request'} ${status} after ${f.attempts ?? '?'} attempts${f.error ? `: ${f.error}` : ''}`;
}

const isRange = (t) => t !== null && typeof t === 'object' && typeof t.at === 'string';
const iso = (ms) => new Date(ms).toISOString();

function describeIdTime(t) {
  if (t === 'event') return 'event';
  if (t.events_from === undefined) return `every id at ${t.at}`;
  return `${t.events_from}..${t.events_to} onto the 23 h before ${t.at}`;
}

/** Ids minted from T − 23 h leave Opik Cloud's 24 h window one hour after T. */
function warnIfStale(idTime, log) {
  const age = Date.now() - Date.parse(idTime.at);
  if (age > 60 * 60 * 1000) {
    const hours = (age / 3600000).toFixed(1);
    log(
      `warning: the recorded id time is ${hours} h old; Opik Cloud rejects ids more than 24 h old, ` +
        'so the oldest events may be refused (OSS Opik does not check). --restart picks a new time ' +
        'but gives already-sent traces new ids (duplicates in Opik).',
    );
  }
}

/**
 * Backfill scan: maps every file with event-time ids and takes the earliest
 * and latest object time (start or end) over all of them, plus each file's
 * earliest time (to send the oldest first).
 */
async function scanEvents(files, options, showProgress) {
  const scanOpts = { ...options };
  delete scanOpts.id_time;
  const progress = new Progress(files.length, { enabled: showProgress, label: 'files scanned', counts: false });
  let from = null;
  let to = null;
  let events = 0;
  const first = new Map();
  for (const f of files) {
    let r;
    try {
      r = mapEach(await readText(f.abs), scanOpts);
    } catch {
      progress.add({ files: 1 });
      continue; // reported when it is sent
    }
    let fileFirst = Infinity;
    for (const o of [...r.traces, ...r.spans]) {
      for (const t of [o.start_time, o.end_time]) {
        if (typeof t !== 'string') continue;
        const ms = Date.parse(t);
        if (Number.isNaN(ms)) continue;
        if (from === null || ms < from) from = ms;
        if (to === null || ms > to) to = ms;
        if (ms < fileFirst) fileFirst = ms;
      }
      events += 1;
    }
    first.set(f.abs, fileFirst);
    progress.add({ files: 1 });
  }
  progress.finish();
  return { from, to, events, first };
}

// ---------------------------------------------------------------------------

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    if (e instanceof UsageError) {
      out({ error: { ...errorJson(e), ...(e.problems ? { problems: e.problems } : {}) } });
      errOut(`dify-opik: ${e.message}`);
      process.exitCode = 2;
    } else {
      errOut(`dify-opik: ${e?.stack ?? e}`);
      process.exitCode = 2;
    }
  },
);
