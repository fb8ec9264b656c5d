// Input files for the command: a file, or a directory walked recursively for
// Dify trace-task files (`*.json`, `*.jsonl`, `*.ndjson`), as exported from
// Dify's `ops_trace/<app id>/<uuid hex>.json` storage. Dot files and dot
// directories (the state file among them) are skipped.
import { readdir, stat } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';

const TASK_FILE = /\.(json|jsonl|ndjson)$/i;

/**
 * @param {string[]} inputs files or directories
 * @returns {Promise<{abs: string, size: number}[]>} in a stable order (paths sorted)
 */
export async function collectFiles(inputs) {
  const out = [];
  const seen = new Set();
  for (const input of inputs) {
    const abs = resolve(input);
    const st = await stat(abs); // throws ENOENT for a missing input
    if (st.isDirectory()) {
      const found = [];
      await walk(abs, found);
      found.sort((a, b) => (a.abs < b.abs ? -1 : a.abs > b.abs ? 1 : 0));
      for (const f of found) add(f);
    } else {
      add({ abs, size: st.size });
    }
  }
  return out;

  function add(f) {
    if (seen.has(f.abs)) return;
    seen.add(f.abs);
    out.push(f);
  }
}

async function walk(dir, found) {
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries) {
    if (e.name.startsWith('.')) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) await walk(p, found);
    else if (e.isFile() && TASK_FILE.test(e.name)) found.push({ abs: p, size: (await stat(p)).size });
  }
}

/** The key of a file in the state: its path relative to the state file's directory, with `/`. */
export function stateKey(stateDir, abs) {
  return relative(stateDir, abs).split(sep).join('/');
}
