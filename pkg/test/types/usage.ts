// A typed tour of the package, checked by `tsc -p tsconfig.json` (make
// test-js). It imports the package by name, as users do; the @ts-expect-error
// lines prove that wrong calls are rejected.
import {
  buildRequests,
  init,
  map,
  mapBytes,
  mapEach,
  mapJson,
  send,
  validateConfig,
  version,
  type BatchResult,
  type ConfigReport,
  type DifyOpikError,
  type MapOptions,
  type MapResult,
  type OpikSpan,
  type OpikTrace,
  type RequestsResult,
  type SendReport,
  type TraceTask,
  type Warning,
} from 'dify-opik';
import { send as sendOnly, retryAfterMs } from 'dify-opik/send';

export async function tour(text: string): Promise<SendReport[]> {
  await init();
  const options: MapOptions = { profile: 'linked', project: 'Dify', now: new Date(), id_time: 'event' };
  const result: MapResult = map(text, options);
  const first: OpikTrace | undefined = result.traces[0];
  const names: (string | undefined)[] = result.spans.map((s: OpikSpan) => s.name);
  const kinds: OpikSpan['type'][] = result.spans.map((s) => s.type);
  const tokens: number | undefined = result.spans[0]?.usage?.['total_tokens'];
  const codes: Warning['code'][] = result.warnings.map((w) => w.code);
  void [first, names, kinds, tokens, codes];

  const each: BatchResult = mapEach(text);
  for (const e of each.errors) {
    const where: string = `${e.code} at ${e.path}: ${e.message}`;
    void where;
  }

  const task: TraceTask = {
    app_id: 'app',
    trace_info_type: 'ToolTraceInfo',
    trace_info: { tool_name: 'search', tool_inputs: { q: 'x' }, start_time: '2025-06-10T12:00:01', metadata: {} },
  };
  const fromObject: MapResult = map(task, { now: '2025-06-10T12:00:00Z' });
  const fromBytes: Uint8Array = mapBytes(new TextEncoder().encode(text));
  const asText: string = mapJson([task, task]);
  void [fromObject, fromBytes, asText];

  try {
    map('{');
  } catch (err) {
    const e = err as DifyOpikError;
    const code: DifyOpikError['code'] = e.code;
    const path: string = e.path;
    void [code, path];
  }

  const report: ConfigReport = validateConfig({ url: 'http://localhost:5173/api', project: 'Dify' });
  if (!report.ok) return [];
  const built: RequestsResult = buildRequests(result, { url: report.url }, { max_items: 500 });
  const again: RequestsResult = buildRequests(text, { url: report.url }, null, options);
  void again;
  const wait: number | null = retryAfterMs('2');
  void [wait, sendOnly, version()];
  return send(built, { retries: 3, baseDelayMs: 250, fetch: (url, init) => fetch(url, init) });
}

// @ts-expect-error: the profile is "linked" or "reference"
map('{}', { profile: 'fast' });
// @ts-expect-error: options are snake_case
map('{}', { filesUrl: 'x' });
// @ts-expect-error: a trace task needs trace_info_type
map({ trace_info: {} });
// @ts-expect-error: an unknown trace-info type
map({ trace_info_type: 'Nope', trace_info: null });
// @ts-expect-error: mapBytes takes bytes
mapBytes('text');
// @ts-expect-error: config fields are snake_case
validateConfig({ apiKey: 'k' });
// @ts-expect-error: limits are numbers
buildRequests('{}', {}, { max_items: '10' });
// @ts-expect-error: the result's spans are typed
const wrong: number = map('{}').spans[0]?.type;
void wrong;
