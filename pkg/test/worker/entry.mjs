// A worker for the Miniflare test: imports the package's worker entry (what
// the `workerd` condition resolves to) and exposes it over fetch.
//   POST /map?options=JSON    body: Dify input → the mapping result
//   POST /send?config=JSON    body: Dify input → map, build, send; the reports
//   GET  /version
import { buildRequests, map, send, version } from '../../worker.js';

function json(status, value) {
  return new Response(JSON.stringify(value), { status, headers: { 'content-type': 'application/json' } });
}

export default {
  async fetch(request) {
    const url = new URL(request.url);
    try {
      if (url.pathname === '/version') return json(200, { version: version() });
      const text = await request.text();
      if (url.pathname === '/map') {
        return json(200, map(text, JSON.parse(url.searchParams.get('options') ?? 'null')));
      }
      if (url.pathname === '/send') {
        const config = JSON.parse(url.searchParams.get('config'));
        const built = buildRequests(text, config, null, { now: '2025-06-10T09:00:00Z' });
        const reports = await send(built.requests, { baseDelayMs: 1, jitter: false });
        return json(200, reports);
      }
      return json(404, {});
    } catch (e) {
      return json(400, { name: e.name, code: e.code, path: e.path, message: e.message });
    }
  },
};
