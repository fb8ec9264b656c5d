// Shared by the package tests: paths, fixtures, and the native CLI.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PKG = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const REPO = resolve(PKG, '..');
export const SHARED = resolve(REPO, '../shared');
export const GOLDEN_DIR = join(SHARED, 'reference/fixtures');

/** The `now` every comparison uses (the CLI and the package get the same). */
export const NOW = '2025-11-24T16:00:00Z';

/** The golden fixtures: [{name, file, text, expected}]. */
export function goldenFixtures() {
  return readdirSync(GOLDEN_DIR)
    .filter((n) => n.endsWith('.json') && !n.endsWith('.expected.json'))
    .sort()
    .map((n) => {
      const file = join(GOLDEN_DIR, n);
      const name = n.slice(0, -'.json'.length);
      return {
        name,
        file,
        text: readFileSync(file, 'utf8'),
        expected: JSON.parse(readFileSync(join(GOLDEN_DIR, `${name}.expected.json`), 'utf8')),
      };
    });
}

/** Other inputs of the repository (linked-profile fixtures, examples), when present. */
export function moreInputs() {
  const out = [];
  for (const dir of [join(REPO, 'tests/fixtures/linked'), join(REPO, 'examples/traces')]) {
    if (!existsSync(dir)) continue;
    for (const n of readdirSync(dir).sort()) {
      if (!n.endsWith('.json') || n.endsWith('.expected.json')) continue;
      const file = join(dir, n);
      out.push({ name: `${dir.slice(REPO.length + 1)}/${n}`, file, text: readFileSync(file, 'utf8') });
    }
  }
  return out;
}

let cliPath = null;

/** Builds the native CLI once (release) and returns its path. */
export function cli() {
  if (cliPath) return cliPath;
  execFileSync('cargo', ['build', '--release', '--quiet', '--bin', 'dify-opik'], {
    cwd: REPO,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const target = process.env.CARGO_TARGET_DIR
    ? resolve(REPO, process.env.CARGO_TARGET_DIR)
    : join(REPO, 'target');
  cliPath = join(target, 'release', process.platform === 'win32' ? 'dify-opik.exe' : 'dify-opik');
  return cliPath;
}

/** Runs `dify-opik map ARGS FILE`; returns {status, json}. */
export function cliMap(args, file) {
  const r = spawnSync(cli(), ['map', ...args, file], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw r.error;
  return { status: r.status, json: JSON.parse(r.stdout) };
}

/** Turns a thrown DifyOpikError into the CLI's `{code, message, path}`. */
export function errorJson(e) {
  return { code: e.code, message: e.message, path: e.path };
}
