// Node entry (also Deno and Bun through the `node` condition): loads the
// wasm synchronously from the file next to the glue, so every function works
// right after `import`.
import { readFileSync } from 'node:fs';
import { initSync } from './lib/api.js';

initSync(readFileSync(new URL('./dist/dify_opik_bg.wasm', import.meta.url)));

export * from './lib/api.js';
