// Edge-worker entry (`workerd` / `worker` conditions): the `.wasm` is imported
// statically, so the bundler or runtime (wrangler, workerd) ships it as a
// compiled `WebAssembly.Module`; no fetch or compile happens at run time.
import wasmModule from './dist/dify_opik_bg.wasm';
import { initSync } from './lib/api.js';

initSync(wasmModule);

export * from './lib/api.js';
