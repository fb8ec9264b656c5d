// Deterministic benchmark inputs: a small message trace and workflow runs of
// any size with a realistic node mix (chat llm nodes with 2–4 KB prompts,
// code, tool, http-request, knowledge retrieval with documents, iterations,
// branches, templates), as Dify's exporter would send them (reference §2.4,
// §6.2: domain-shaped `node_executions`).
//
//   node benches/js/gen.mjs [OUTDIR]     writes message.json, wf-N[-mixed].json
//
// `script: "ascii"` gives mostly-ASCII text (a few accented letters and
// dashes); `script: "mixed"` mixes Latin, Cyrillic, Greek, CJK, Arabic and
// emoji, as multilingual apps produce. The same seed always gives the same
// bytes.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** mulberry32: a small, fast, seeded PRNG. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ASCII_WORDS = (
  'the of and to in is for on with that as by from this are be at or an it ' +
  'workflow model prompt answer context document retrieval summary section city ' +
  'travel weather guide museum river market morning evening budget hotel train ' +
  'report source quality score review draft outline analysis customer request ' +
  'policy refund order invoice shipping account password reset language support'
).split(' ');
const RARE = ['café', 'naïve', 'façade', '—', '–', 'São', 'Zürich', '°C'];
const MIXED_WORDS = [
  ...ASCII_WORDS.slice(0, 40),
  'путешествие', 'погода', 'документ', 'отчёт', 'город', 'музей',
  'καιρός', 'ταξίδι', 'πόλη',
  '旅行', '天气', '文档', '摘要', '城市', '博物馆', '東京', 'ラーメン', '検索', '요약', '날씨',
  'الطقس', 'مدينة', 'تقرير',
  '🙂', '🚆', '☀️', '📄', '✅',
];

class Gen {
  constructor(seed, script) {
    this.r = rng(seed);
    this.script = script;
    this.clock = Date.UTC(2026, 2, 2, 8, 30, 0) * 1000; // µs, naive UTC
  }
  int(lo, hi) {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick(a) {
    return a[Math.floor(this.r() * a.length)];
  }
  uuid() {
    const h = [];
    for (let i = 0; i < 16; i++) h.push(this.int(0, 255));
    h[6] = (h[6] & 0x0f) | 0x40;
    h[8] = (h[8] & 0x3f) | 0x80;
    const s = h.map((b) => b.toString(16).padStart(2, '0')).join('');
    return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
  }
  word() {
    if (this.script === 'mixed') return this.pick(MIXED_WORDS);
    return this.r() < 0.01 ? this.pick(RARE) : this.pick(ASCII_WORDS);
  }
  /** About `bytes` UTF-8 bytes of sentences. */
  text(bytes) {
    let out = '';
    let n = 0;
    while (n < bytes) {
      const len = this.int(6, 16);
      const ws = [];
      for (let i = 0; i < len; i++) ws.push(this.word());
      let s = ws.join(' ');
      s = s[0].toUpperCase() + s.slice(1) + (this.r() < 0.1 ? '?\n' : '. ');
      out += s;
      n += Buffer.byteLength(s);
    }
    return out.trimEnd();
  }
  /** Naive ISO time of the clock, then moves it on by `secs`. */
  tick(secs) {
    const t = iso(this.clock);
    this.clock += Math.round(secs * 1e6);
    return t;
  }
}

function iso(us) {
  const ms = Math.floor(us / 1000);
  const frac = String(us % 1_000_000).padStart(6, '0');
  return new Date(ms).toISOString().slice(0, 19) + '.' + frac;
}

function usage(g, prompt, completion) {
  const pp = prompt * 1.5e-7;
  const cp = completion * 6e-7;
  return {
    prompt_tokens: prompt,
    prompt_unit_price: 0.15,
    prompt_price_unit: 1e-6,
    prompt_price: pp,
    completion_tokens: completion,
    completion_unit_price: 0.6,
    completion_price_unit: 1e-6,
    completion_price: cp,
    total_tokens: prompt + completion,
    total_price: pp + cp,
    currency: 'USD',
    latency: g.int(300, 4000) / 1000,
    time_to_first_token: g.int(100, 900) / 1000,
    time_to_generate: g.int(200, 3000) / 1000,
  };
}

const MODELS = [
  ['langgenius/openai/openai', 'gpt-4o-mini'],
  ['langgenius/anthropic/anthropic', 'claude-sonnet-4-5'],
  ['langgenius/gemini/google', 'gemini-2.0-flash'],
];

/** Builds node executions; `ctx` holds the run's ids and running totals. */
class Nodes {
  constructor(g, runId, workflowId) {
    this.g = g;
    this.runId = runId;
    this.workflowId = workflowId;
    this.list = [];
    this.index = 0;
    this.nodeSeq = 1741000000000;
    this.tokens = 0;
  }
  base(type, title, secs, extra) {
    const g = this.g;
    const id = g.uuid();
    this.index += 1;
    this.nodeSeq += 1;
    const created = g.tick(0);
    g.tick(secs);
    const finished = iso(g.clock);
    g.tick(0.004);
    return {
      id,
      node_execution_id: id,
      workflow_id: this.workflowId,
      workflow_execution_id: this.runId,
      index: this.index,
      predecessor_node_id: String(this.nodeSeq - 1),
      node_id: String(this.nodeSeq),
      node_type: type,
      title,
      inputs: null,
      process_data: null,
      outputs: null,
      status: 'succeeded',
      error: null,
      elapsed_time: secs,
      metadata: null,
      created_at: created,
      finished_at: finished,
      ...extra,
    };
  }
  meta(extra, round) {
    const m = { ...extra };
    if (round) {
      m.iteration_id = round.parent;
      m.iteration_index = round.index;
    }
    return Object.keys(m).length ? m : null;
  }
  push(n) {
    this.list.push(n);
    return n;
  }
  llm(round) {
    const g = this.g;
    const [provider, model] = g.pick(MODELS);
    const promptBytes = g.int(2048, 4096);
    const system = g.text(Math.floor(promptBytes * 0.25));
    const prompts = [{ role: 'system', text: system, files: [] }];
    if (g.r() < 0.3) {
      prompts.push({ role: 'user', text: g.text(120), files: [] });
      prompts.push({ role: 'assistant', text: g.text(200), files: [] });
    }
    prompts.push({ role: 'user', text: g.text(Math.floor(promptBytes * 0.6)), files: [] });
    const answer = g.text(g.int(700, 2000));
    const u = usage(g, Math.floor(promptBytes / 4), Math.floor(answer.length / 4));
    this.tokens += u.total_tokens;
    return this.push(
      this.base('llm', g.pick(['Summarise', 'Answer', 'Classify intent', 'Rewrite', 'Plan']), u.latency, {
        inputs: { '#context#': null },
        process_data: {
          model_mode: 'chat',
          prompts,
          usage: u,
          finish_reason: 'stop',
          model_provider: provider,
          model_name: model,
        },
        outputs: { text: answer, reasoning_content: '', usage: u, finish_reason: 'stop' },
        metadata: this.meta(
          { total_tokens: u.total_tokens, total_price: u.total_price, currency: 'USD' },
          round,
        ),
      }),
    );
  }
  code(round) {
    const g = this.g;
    return this.push(
      this.base('code', g.pick(['Normalize', 'Score', 'Split list', 'Measure']), g.int(5, 80) / 1000, {
        inputs: { text: g.text(g.int(200, 600)), limit: g.int(1, 50) },
        outputs: {
          result: g.text(g.int(80, 300)),
          count: g.int(0, 99),
          ok: g.r() < 0.9,
          items: [g.word(), g.word(), g.word()],
        },
        metadata: this.meta({}, round),
      }),
    );
  }
  tool(round) {
    const g = this.g;
    const q = g.text(g.int(40, 120));
    return this.push(
      this.base('tool', g.pick(['Translate', 'Web search', 'Currency']), g.int(200, 2500) / 1000, {
        inputs: { query: q, language: 'en' },
        outputs: { text: g.text(g.int(500, 1300)), files: [], json: [{ data: g.text(60) }] },
        metadata: this.meta(
          {
            tool_info: {
              provider_type: 'builtin',
              provider_id: 'langgenius/google/google',
              tool_parameters: { query: q, result_type: 'text' },
            },
          },
          round,
        ),
      }),
    );
  }
  http(round) {
    const g = this.g;
    const city = g.word();
    const body = JSON.stringify({ city, avg: g.int(-5, 35), summary: g.text(g.int(400, 1000)) });
    return this.push(
      this.base('http-request', g.pick(['Weather API', 'Fetch brief', 'Lint']), g.int(50, 900) / 1000, {
        inputs: {},
        process_data: {
          request: `GET /v1/climate?city=${encodeURIComponent(city)} HTTP/1.1\r\nHost: api.example.test\r\nAuthorization: Bearer sk-test-${g.int(1e6, 9e6)}\r\n`,
        },
        outputs: {
          status_code: 200,
          body,
          headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
          files: [],
        },
        metadata: this.meta({}, round),
      }),
    );
  }
  knowledge(round) {
    const g = this.g;
    const query = g.text(g.int(30, 100));
    const docs = [];
    const k = g.int(3, 5);
    for (let i = 0; i < k; i++) {
      docs.push({
        metadata: {
          _source: 'knowledge',
          dataset_id: g.uuid(),
          dataset_name: 'Guides',
          document_id: g.uuid(),
          document_name: `${g.word()}-${i}.md`,
          data_source_type: 'upload_file',
          segment_id: g.uuid(),
          retriever_from: 'workflow',
          score: Math.round(g.r() * 1e6) / 1e6,
          segment_hit_count: g.int(0, 40),
          segment_word_count: g.int(50, 500),
          segment_position: g.int(1, 30),
          position: i + 1,
        },
        title: `${g.word()}-${i}.md`,
        content: g.text(g.int(400, 900)),
      });
    }
    return this.push(
      this.base('knowledge-retrieval', 'Find guides', g.int(100, 700) / 1000, {
        inputs: { query },
        outputs: { result: docs },
        metadata: this.meta({}, round),
      }),
    );
  }
  small(type, round) {
    const g = this.g;
    const titles = {
      'if-else': 'Enough content?',
      'template-transform': 'Format section',
      'variable-aggregator': 'Merge',
    };
    const outputs =
      type === 'if-else'
        ? { result: g.r() < 0.5, selected_case_id: g.r() < 0.5 ? 'true' : 'false' }
        : { output: g.text(g.int(100, 400)) };
    return this.push(
      this.base(type, titles[type], g.int(1, 20) / 1000, {
        inputs: type === 'if-else' ? {} : { arg1: g.text(80) },
        process_data: type === 'if-else' ? { condition_results: [{ group: 'true', results: [true] }] } : null,
        outputs,
        metadata: this.meta({}, round),
      }),
    );
  }
  /** An iteration of `rounds` rounds of [knowledge, llm, code]; the
   * container row follows its children, as Dify's repository returns them. */
  iteration(rounds, budget) {
    const g = this.g;
    const parentSeq = this.nodeSeq + 1;
    this.nodeSeq += 1;
    const parentStart = g.clock;
    let used = 0;
    const outputs = [];
    for (let i = 0; i < rounds && used + 3 < budget; i++) {
      const round = { parent: String(parentSeq), index: i };
      this.knowledge(round);
      this.llm(round);
      this.code(round);
      used += 3;
      outputs.push(g.text(60));
    }
    const secs = (g.clock - parentStart) / 1e6;
    g.clock = parentStart;
    const saveSeq = this.nodeSeq;
    this.nodeSeq = parentSeq - 1;
    const n = this.base('iteration', 'Per item', secs, {
      inputs: { iterator_selector: outputs.map((_, i) => `item ${i}`) },
      outputs: { output: outputs },
      metadata: { iteration_duration_map: Object.fromEntries(outputs.map((_, i) => [String(i), 0.5])) },
    });
    this.nodeSeq = saveSeq;
    g.clock = parentStart + Math.round(secs * 1e6) + 4000;
    this.push(n);
    return used + 1;
  }
}

/** A WorkflowTraceInfo task with exactly `nodes` node executions. */
export function workflow(nodes, { script = 'ascii', seed = 7 } = {}) {
  const g = new Gen(seed + nodes * 31 + (script === 'mixed' ? 1 : 0), script);
  const appId = g.uuid();
  const runId = g.uuid();
  const workflowId = g.uuid();
  const tenantId = g.uuid();
  const userId = g.uuid();
  const start = g.tick(0.005);
  const ns = new Nodes(g, runId, workflowId);
  const query = g.text(200);
  ns.push(
    ns.base('start', 'Start', 0.001, {
      inputs: { query, 'sys.user_id': userId, 'sys.files': [] },
      outputs: { query },
    }),
  );
  const body = ['llm', 'code', 'knowledge', 'llm', 'tool', 'http', 'iteration', 'if-else', 'template-transform', 'llm'];
  let b = 0;
  while (ns.list.length < nodes - 1) {
    const left = nodes - 1 - ns.list.length;
    const kind = body[b++ % body.length];
    if (kind === 'iteration') {
      if (left >= 7) ns.iteration(g.int(2, 4), left);
      continue;
    }
    if (kind === 'llm') ns.llm();
    else if (kind === 'code') ns.code();
    else if (kind === 'knowledge') ns.knowledge();
    else if (kind === 'tool') ns.tool();
    else if (kind === 'http') ns.http();
    else ns.small(kind);
  }
  const answer = g.text(400);
  if (nodes > 1) {
    ns.push(ns.base('end', 'End', 0.001, { inputs: { answer }, outputs: { answer } }));
  }
  ns.list.length = Math.min(ns.list.length, nodes);
  const end = iso(g.clock);
  const elapsed = Math.round((g.clock - Date.parse(start + 'Z') * 1000) / 1000) / 1000;
  const runInputs = {
    query,
    'sys.files': [],
    'sys.user_id': userId,
    'sys.app_id': appId,
    'sys.workflow_id': workflowId,
    'sys.workflow_run_id': runId,
  };
  return {
    app_id: appId,
    trace_info_type: 'WorkflowTraceInfo',
    trace_info: {
      message_id: null,
      message_data: null,
      inputs: null,
      outputs: null,
      start_time: start,
      end_time: end,
      metadata: {
        workflow_id: workflowId,
        conversation_id: null,
        workflow_run_id: runId,
        tenant_id: tenantId,
        elapsed_time: elapsed,
        status: 'succeeded',
        version: '2026-03-01 10:11:12.345678',
        total_tokens: ns.tokens,
        file_list: [],
        triggered_from: 'app-run',
        user_id: userId,
        app_id: appId,
        app_name: 'Research assistant',
        workspace_name: 'Acme',
      },
      trace_id: null,
      workflow_data: null,
      conversation_id: null,
      workflow_app_log_id: g.uuid(),
      workflow_id: workflowId,
      tenant_id: tenantId,
      workflow_run_id: runId,
      workflow_run_elapsed_time: elapsed,
      workflow_run_status: 'succeeded',
      workflow_run_inputs: runInputs,
      workflow_run_outputs: { answer },
      workflow_run_version: '2026-03-01 10:11:12.345678',
      error: '',
      total_tokens: ns.tokens,
      file_list: [],
      query,
      invoked_by: `account:${userId}`,
    },
    node_executions: ns.list,
  };
}

/** A small MessageTraceInfo task (an agent chat turn of about 4 KB). */
export function message({ script = 'ascii', seed = 7 } = {}) {
  const g = new Gen(seed, script);
  const appId = g.uuid();
  const messageId = g.uuid();
  const conversationId = g.uuid();
  const endUser = g.uuid();
  const created = g.tick(4.6);
  const updated = iso(g.clock);
  const prompt = [
    { role: 'system', text: g.text(300), files: [] },
    { role: 'user', text: g.text(200), files: [] },
  ];
  const answer = g.text(500);
  const u = usage(g, 812, 164);
  for (const k of Object.keys(u)) if (k.endsWith('price') || k.endsWith('unit')) u[k] = u[k].toFixed(7);
  const md = {
    conversation_id: conversationId,
    ls_provider: 'langgenius/openai/openai',
    ls_model_name: 'gpt-4o-mini',
    status: 'normal',
    from_end_user_id: endUser,
    from_account_id: null,
    agent_based: false,
    workflow_run_id: null,
    from_source: 'api',
    message_id: messageId,
    tenant_id: g.uuid(),
    app_id: appId,
    user_id: endUser,
    app_name: 'Support bot',
    workspace_name: 'Acme',
  };
  return {
    app_id: appId,
    trace_info_type: 'MessageTraceInfo',
    trace_info: {
      message_id: messageId,
      message_data: {
        id: messageId,
        app_id: appId,
        conversation_id: conversationId,
        model_id: 'gpt-4o-mini',
        inputs: {},
        query: prompt[1].text,
        total_price: u.total_price,
        message: prompt,
        answer,
        status: 'normal',
        error: null,
        message_metadata: { usage: u },
        from_source: 'api',
        from_end_user_id: endUser,
        from_account_id: null,
        created_at: created,
        updated_at: updated,
        agent_based: false,
        workflow_run_id: null,
      },
      inputs: prompt,
      outputs: answer,
      start_time: created,
      end_time: updated,
      metadata: md,
      trace_id: null,
      conversation_model: 'chat',
      message_tokens: 812,
      answer_tokens: 164,
      total_tokens: 976,
      error: '',
      file_list: [],
      message_file_data: null,
      conversation_mode: 'chat',
      gen_ai_server_time_to_first_token: 0.41,
      llm_streaming_time_to_generate: 2.9,
      is_streaming_request: true,
    },
    end_users: { [endUser]: { session_id: 'visitor-42' } },
  };
}

/** The inputs every benchmark uses: name → JSON text. */
export function inputs({ sizes = [20, 50, 500, 5000], scripts = ['ascii', 'mixed'] } = {}) {
  const out = { message: JSON.stringify(message()) };
  for (const script of scripts) {
    for (const n of sizes) {
      out[`wf-${n}${script === 'ascii' ? '' : '-mixed'}`] = JSON.stringify(workflow(n, { script }));
    }
  }
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? 'target/bench-data';
  mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(inputs())) {
    writeFileSync(join(dir, `${name}.json`), text);
    console.log(`${name}.json ${Buffer.byteLength(text)} bytes`);
  }
}
