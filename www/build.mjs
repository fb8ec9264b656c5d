#!/usr/bin/env node
// Assembles the static previewer site:
//   www/src/*            → DIST/            (page, styles, scripts)
//   pkg's web build      → DIST/pkg/...     (found through pkg/package.json)
//   DIST/lib.js          the package's browser entry as one default-exported object
//   examples/traces/*    → DIST/examples/   plus DIST/examples/index.json
// Usage: node www/build.mjs [--pkg DIR] [--examples DIR] [--out DIR]

import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..');

/** Picks the browser-loadable file from an `exports` target (string or conditions). */
function resolveTarget(t) {
  if (typeof t === 'string') return t;
  if (!t || typeof t !== 'object' || Array.isArray(t)) return null;
  for (const cond of ['browser', 'import', 'default']) {
    if (cond in t) {
      const r = resolveTarget(t[cond]);
      if (r && !r.endsWith('.d.ts')) return r;
    }
  }
  return null;
}

/** The package's browser entry (an ES module), relative to pkgDir. */
export function findWebEntry(pkgDir) {
  const pjPath = join(pkgDir, 'package.json');
  const candidates = [];
  if (existsSync(pjPath)) {
    const pj = JSON.parse(readFileSync(pjPath, 'utf8'));
    const ex = pj.exports;
    if (ex && typeof ex === 'object') {
      candidates.push(resolveTarget(ex['./web']));
      const dot = ex['.'] ?? ex;
      if (dot && typeof dot === 'object') {
        candidates.push(resolveTarget(dot.browser));
        candidates.push(resolveTarget(dot.default));
      }
    } else if (typeof ex === 'string') {
      candidates.push(ex);
    }
    if (typeof pj.browser === 'string') candidates.push(pj.browser);
    if (typeof pj.module === 'string') candidates.push(pj.module);
  }
  // fallback: any web glue under pkg/web/
  const webDir = join(pkgDir, 'web');
  if (existsSync(webDir)) {
    for (const f of readdirSync(webDir).sort()) if (f.endsWith('.js')) candidates.push(`./web/${f}`);
  }
  for (const c of candidates) {
    if (!c) continue;
    const abs = resolve(pkgDir, c);
    if (!existsSync(abs) || !statSync(abs).isFile()) continue;
    const text = readFileSync(abs, 'utf8');
    // an ES module (the package's browser entry, or wasm-bindgen's web glue), not CommonJS
    if (/^\s*(?:import|export)\b/m.test(text) && !/\brequire\(|\bmodule\.exports\b/.test(text)) {
      return relative(pkgDir, abs).split(sep).join(posix.sep);
    }
  }
  return null;
}

/** What an example file holds: its tasks' `trace_info_type`s. */
export function describeExample(text) {
  const typesOf = (items) => items.map((e) => (e && typeof e === 'object' ? e.trace_info_type ?? null : null));
  try {
    const v = JSON.parse(text);
    if (Array.isArray(v)) return { shape: 'array', tasks: v.length, types: typesOf(v) };
    return { shape: 'envelope', tasks: 1, types: typesOf([v]) };
  } catch {
    const lines = text.split('\n').filter((l) => l.trim());
    try {
      return { shape: 'json_lines', tasks: lines.length, types: typesOf(lines.map((l) => JSON.parse(l))) };
    } catch {
      return { shape: 'unknown', tasks: 0, types: [] };
    }
  }
}

export function titleOf(file) {
  return file.replace(/\.(jsonl|ndjson|json)$/i, '').replace(/[_-]+/g, ' ').trim();
}

export function listExamples(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => /\.(json|jsonl|ndjson)$/i.test(f) && statSync(join(dir, f)).isFile())
    .sort();
}

/**
 * The files (relative to pkgDir, POSIX separators) that a browser needs to
 * load `entry`: followed through relative static and dynamic imports and
 * `new URL('…', import.meta.url)` references.
 */
export function browserFiles(pkgDir, entry) {
  const seen = new Set();
  const todo = [posix.normalize(entry)];
  const refs = [
    /\b(?:import|export)\s[^;'"]*?\bfrom\s*['"]([^'"]+)['"]/g,
    /\bimport\s*['"]([^'"]+)['"]/g,
    /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bnew\s+URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url\s*\)/g,
  ];
  while (todo.length) {
    const f = todo.pop();
    if (seen.has(f)) continue;
    const abs = join(pkgDir, f);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw new Error(`${entry} needs ${f}, which is not in ${pkgDir}`);
    seen.add(f);
    if (!/\.m?js$/.test(f)) continue;
    const text = readFileSync(abs, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    for (const re of refs) {
      for (const m of text.matchAll(re)) {
        const spec = m[1];
        if (/^[a-z][a-z0-9+.-]*:/i.test(spec) || spec.startsWith('/')) continue; // absolute URLs are not ours
        if (!spec.startsWith('.') && !re.source.includes('URL')) continue; // bare specifiers
        const target = posix.normalize(posix.join(posix.dirname(f), spec));
        if (target.startsWith('..')) throw new Error(`${f} refers outside the package: ${spec}`);
        todo.push(target);
      }
    }
  }
  return [...seen].sort();
}

export function build({ pkgDir = join(repo, 'pkg'), examplesDir = join(repo, 'examples', 'traces'), outDir = join(here, 'dist') } = {}) {
  const entry = findWebEntry(pkgDir);
  if (!entry) {
    throw new Error(`no web build found in ${pkgDir} (run \`make pkg\` first): expected pkg/package.json exports with a browser entry, or pkg/web/*.js`);
  }
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  // page files
  const src = join(here, 'src');
  for (const f of readdirSync(src)) cpSync(join(src, f), join(outDir, f), { recursive: true });
  // the package's web build: the entry and every file it loads (relative
  // imports, and `new URL('…', import.meta.url)` assets such as the .wasm)
  const files = browserFiles(pkgDir, entry);
  for (const f of files) {
    mkdirSync(dirname(join(outDir, 'pkg', f)), { recursive: true });
    cpSync(join(pkgDir, f), join(outDir, 'pkg', f));
  }
  const wasm = files.filter((f) => f.endsWith('.wasm'));
  if (wasm.length === 0) throw new Error(`the web entry ${entry} of ${pkgDir} loads no .wasm file`);
  const spec = `./pkg/${entry.replace(/^\.\//, '')}`;
  writeFileSync(
    join(outDir, 'lib.js'),
    `// Generated by www/build.mjs: the package's browser entry (${entry}) as one object.\nimport * as pkg from '${spec}';\nexport default pkg;\n`,
  );
  // examples
  const exOut = join(outDir, 'examples');
  mkdirSync(exOut, { recursive: true });
  const examples = [];
  for (const f of listExamples(examplesDir)) {
    const text = readFileSync(join(examplesDir, f), 'utf8');
    writeFileSync(join(exOut, f), text);
    const d = describeExample(text);
    examples.push({ file: f, name: f.replace(/\.[^.]+$/, ''), title: titleOf(f), shape: d.shape, tasks: d.tasks, types: [...new Set(d.types.filter(Boolean))], bytes: Buffer.byteLength(text) });
  }
  writeFileSync(join(exOut, 'index.json'), JSON.stringify({ examples }, null, 2) + '\n');
  return { outDir, entry, wasm, examples };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? resolve(args[i + 1]) : undefined;
  };
  try {
    const r = build({ pkgDir: opt('--pkg'), examplesDir: opt('--examples'), outDir: opt('--out') });
    console.log(`built ${relative(process.cwd(), r.outDir) || '.'}: package entry ${r.entry} (${r.wasm.join(', ')}), ${r.examples.length} example(s)`);
  } catch (e) {
    console.error(`www/build.mjs: ${e.message}`);
    process.exit(1);
  }
}
