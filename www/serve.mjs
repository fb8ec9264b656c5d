#!/usr/bin/env node
// A tiny static file server for the built previewer (www/dist), bound to the
// loopback interface only. GET and HEAD, no directory listings, no uploads.
// Usage: node www/serve.mjs [--port N] [--host 127.0.0.1] [--root DIR]

import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.jsonl': 'application/x-ndjson; charset=utf-8',
  '.ndjson': 'application/x-ndjson; charset=utf-8',
  '.wasm': 'application/wasm',
  '.ts': 'text/plain; charset=utf-8',
  '.md': 'text/plain; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.txt': 'text/plain; charset=utf-8',
};

/** Starts the server; resolves to {server, url}. Port 0 picks a free port. */
export function startServer({ root = join(here, 'dist'), port = 8080, host = '127.0.0.1', log = false } = {}) {
  const base = resolve(root);
  const server = createServer((req, res) => {
    const done = (status, body = '') => {
      res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff' });
      res.end(req.method === 'HEAD' ? '' : body);
      if (log) console.log(`${status} ${req.method} ${req.url}`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return done(405, 'method not allowed\n');
    let path;
    try {
      path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    } catch {
      return done(400, 'bad request\n');
    }
    if (path.includes('\0')) return done(400, 'bad request\n');
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) return done(403, 'forbidden\n');
    let st;
    try {
      st = statSync(file);
      if (st.isDirectory()) {
        file = join(file, 'index.html');
        st = statSync(file);
      }
    } catch {
      return done(404, 'not found\n');
    }
    if (!st.isFile()) return done(404, 'not found\n');
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file).toLowerCase()] || 'application/octet-stream',
      'Content-Length': st.size,
      'Cache-Control': 'no-cache',
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    if (log) console.log(`200 ${req.method} ${req.url}`);
    if (req.method === 'HEAD') return res.end();
    createReadStream(file).pipe(res);
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, () => {
      const a = server.address();
      ok({ server, url: `http://${a.address}:${a.port}/` });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name, dflt) => {
    const i = args.indexOf(name);
    return i >= 0 ? args[i + 1] : dflt;
  };
  const port = Number(opt('--port', process.env.PORT || 8080));
  const host = opt('--host', '127.0.0.1');
  const root = resolve(opt('--root', join(here, 'dist')));
  try {
    statSync(join(root, 'index.html'));
  } catch {
    console.error(`www/serve.mjs: ${root}/index.html is missing (build the site first: node www/build.mjs)`);
    process.exit(1);
  }
  startServer({ root, port, host, log: !!process.env.VERBOSE })
    .then(({ url }) => console.log(`dify-opik previewer: ${url}  (Ctrl-C to stop)`))
    .catch((e) => {
      console.error(`www/serve.mjs: cannot listen on ${host}:${port}: ${e.message}`);
      process.exit(1);
    });
}
