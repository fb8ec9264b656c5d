// `dify-opik/send`: the sending helper alone (no wasm).
export { send } from '../index.js';
export type { FetchLike, OpikRequest, RequestsResult, SendOptions, SendReport } from '../index.js';
/** Milliseconds to wait from a `Retry-After` value (seconds or an HTTP date); null when absent or unreadable. */
export function retryAfterMs(value: string | null | undefined, now?: number): number | null;
