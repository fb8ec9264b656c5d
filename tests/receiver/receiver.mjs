// A loopback stand-in for Opik's batch ingestion endpoints, for tests only.
// It checks the auth headers Opik checks, validates every body against the
// published schema (opik-ingest.schema.json), records the objects it
// accepts, and can be told to fail the first N requests.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import Ajv from 'ajv';

const here = dirname(fileURLToPath(import.meta.url));
/** Path of the schema in ../shared (beside the repository). */
export const SCHEMA_PATH = join(here, '..', '..', '..', 'shared', 'opik', 'opik-ingest.schema.json');

let cachedAjv;
/** Compiled validators: `strict` (generated output rules) or `spec` (the REST spec as published). */
export function validators() {
  if (!cachedAjv) {
    const schema = JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'));
    const ajv = new Ajv({ allErrors: true, validateFormats: false, strict: false });
    ajv.addSchema(schema);
    const get = (name) => ajv.getSchema(`${schema.$id}#/definitions/${name}`);
    cachedAjv = {
      strict: { traces: get('Strict_TraceBatch_Write'), spans: get('Strict_SpanBatch_Write') },
      spec: { traces: get('TraceBatch_Write'), spans: get('SpanBatch_Write') },
    };
  }
  return cachedAjv;
}

/**
 * Starts the receiver on 127.0.0.1 (a free port).
 * Optional, for host tests: `delayMs` holds every answer that long (requests
 * are still recorded when they are answered), and `state.inFlight` /
 * `state.maxInFlight` count requests being handled at once.
 * @param {{apiKey?: string, workspace?: string, mode?: 'strict'|'spec', failFirst?: number, failStatus?: number, delayMs?: number}} o
 */
export async function startReceiver(o = {}) {
  const mode = o.mode ?? 'strict';
  const state = { traces: [], spans: [], requests: [], rejected: [], inFlight: 0, maxInFlight: 0 };
  let failuresLeft = o.failFirst ?? 0;
  const server = createServer((req, res) => {
    const chunks = [];
    state.inFlight += 1;
    state.maxInFlight = Math.max(state.maxInFlight, state.inFlight);
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => (o.delayMs ? setTimeout(handle, o.delayMs) : handle()));
    const handle = () => {
      const answer = (status, body) => {
        state.inFlight -= 1;
        state.requests.push({ method: req.method, url: req.url, status, headers: req.headers });
        if (status >= 400) state.rejected.push({ url: req.url, status, body });
        res.writeHead(status, body ? { 'content-type': 'application/json' } : {});
        res.end(body ? JSON.stringify(body) : undefined);
      };
      const m = /^\/api\/v1\/private\/(traces|spans)\/batch$/.exec(req.url ?? '');
      if (req.method !== 'POST' || !m) return answer(404, { code: 404, message: 'not found' });
      if (failuresLeft > 0) {
        failuresLeft -= 1;
        return answer(o.failStatus ?? 503, { code: o.failStatus ?? 503, message: 'try again' });
      }
      if (o.apiKey !== undefined && req.headers.authorization !== o.apiKey) {
        return answer(401, { code: 401, message: 'User not allowed to access workspace' });
      }
      if (o.workspace !== undefined && req.headers['comet-workspace'] !== o.workspace) {
        return answer(403, { code: 403, message: 'Workspace name should be provided' });
      }
      if (!String(req.headers['content-type'] ?? '').startsWith('application/json')) {
        return answer(415, { code: 415, message: 'expected application/json' });
      }
      let raw = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') raw = gunzipSync(raw);
      let body;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        return answer(400, { code: 400, message: 'invalid JSON' });
      }
      const kind = m[1];
      const validate = validators()[mode][kind];
      if (!validate(body)) {
        return answer(422, { errors: validate.errors.map((e) => `${e.instancePath} ${e.message}`) });
      }
      state[kind].push(...body[kind]);
      return answer(204);
    };
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/api/`,
    state,
    close: () =>
      new Promise((resolve) => {
        server.close(resolve);
        // keep-alive sockets of a client that is still running must not hold the port
        server.closeAllConnections?.();
      }),
  };
}
