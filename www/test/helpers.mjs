// Shared set-up of the browser tests: the site built into a temporary
// directory, the loopback server, headless Chromium (Debian's, driven by
// playwright-core), and the native CLI as the oracle for expected output.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { build, listExamples } from '../build.mjs';
import { startServer } from '../serve.mjs';

export const www = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const repo = resolve(www, '..');
export const examplesDir = process.env.DIFY_OPIK_EXAMPLES ? resolve(process.env.DIFY_OPIK_EXAMPLES) : join(repo, 'examples', 'traces');
export const artifacts = join(repo, 'test-artifacts');

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export { listExamples };

let cliPath = null;

/** The native CLI (built once when DIFY_OPIK_CLI is not given). */
export function cli() {
  if (cliPath) return cliPath;
  const given = process.env.DIFY_OPIK_CLI;
  if (given) {
    cliPath = resolve(given);
  } else {
    execFileSync('cargo', ['build', '--release', '--quiet', '--bin', 'dify-opik'], { cwd: repo, stdio: 'inherit' });
    cliPath = join(repo, 'target', 'release', 'dify-opik');
  }
  if (!existsSync(cliPath)) throw new Error(`dify-opik CLI not found at ${cliPath}`);
  return cliPath;
}

/** Runs the CLI and parses its JSON output (it exits 2 on errors but still prints JSON). */
export function runCli(args, input) {
  const r = spawnSync(cli(), args, { cwd: repo, input, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0 && r.status !== 2) throw new Error(`dify-opik ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The CLI's mapping of an example file. */
export function expectedMap(file, profile = 'linked') {
  return runCli(['map', '--profile', profile, join(examplesDir, file)]);
}

/** The CLI's problems for an Opik configuration ([] when it is valid). */
export function expectedConfigProblems({ url, api_key, workspace, project }) {
  const args = ['requests'];
  if (url != null) args.push('--url', url);
  if (api_key != null) args.push('--api-key', api_key);
  if (workspace != null) args.push('--workspace', workspace);
  if (project != null) args.push('--project', project);
  args.push('-');
  const out = runCli(args, '');
  return out.problems || [];
}

/** Builds the site into a temporary directory and serves it on 127.0.0.1. */
export async function siteUp() {
  const outDir = mkdtempSync(join(tmpdir(), 'dify-opik-www-'));
  const built = build({ outDir, examplesDir, pkgDir: process.env.DIFY_OPIK_PKG ? resolve(process.env.DIFY_OPIK_PKG) : undefined });
  const { server, url } = await startServer({ root: outDir, port: 0 });
  return {
    url,
    built,
    async down() {
      await new Promise((ok) => server.close(ok));
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

export async function browserUp() {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM} (apt-get install chromium)`);
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/**
 * Opens the page and records every request it makes and every console error.
 * Resolves when the page has loaded the wasm module and its first example.
 */
export async function openPage(browser, url, { width = 1440, height = 1000 } = {}) {
  const context = await browser.newContext({ viewport: { width, height }, acceptDownloads: true });
  const page = await context.newPage();
  const requests = [];
  const problems = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  await page.goto(url);
  await page.waitForFunction(() => document.documentElement.dataset.ready === 'true', null, { timeout: 30000 });
  return { context, page, requests, problems };
}

/** Number of mapping runs the page has done so far. */
export async function runsOf(page) {
  return Number(await page.evaluate(() => document.documentElement.dataset.runs || 0));
}

/** Waits until the page has mapped again after `before` runs. */
export async function nextRun(page, before) {
  await page.waitForFunction((b) => Number(document.documentElement.dataset.runs || 0) > b, before, { timeout: 15000 });
}

/** What the tree shows: traces and spans, each with its name, id, and the id of the item it sits under. */
export async function treeContents(page) {
  return page.$$eval('#tree [role=treeitem]', (items) =>
    items.map((li) => {
      const up = li.parentElement.closest('[role=treeitem]');
      return {
        kind: li.dataset.kind,
        name: li.dataset.name ?? null,
        id: li.dataset.id,
        type: li.dataset.type ?? null,
        parentId: up ? up.dataset.id : null,
        level: Number(li.getAttribute('aria-level')),
      };
    }),
  );
}

export const sorted = (xs) => [...xs].sort();
