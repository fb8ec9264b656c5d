// Browser entry (and the default): call `await init()` once before the other
// functions; it fetches `dist/dify_opik_bg.wasm` next to the glue (bundlers
// that understand `new URL(…, import.meta.url)` copy it), or takes a URL,
// a Response, bytes or a compiled module.
export * from './lib/api.js';
