// Types of the dify-opik package: what goes in (Dify trace tasks, options,
// Opik configuration, limits) and what comes out (Opik trace and span
// objects, warnings, errors, requests, send reports).
//
// These declarations are written by hand and held to the Rust code by
// pkg/test/types.test.mjs: every fixture's real input and output is
// type-checked against them (excess or missing fields fail), every declared
// output field must occur in real outputs, and the code unions must equal the
// codes in src/error.rs.

// ---------------------------------------------------------------------------
// JSON

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

// ---------------------------------------------------------------------------
// Errors and warnings

/** Stable error codes (src/error.rs `ErrorCode`). */
export type ErrorCode =
  | "invalid_json"
  | "invalid_type"
  | "invalid_timestamp"
  | "invalid_uuid"
  | "missing_field"
  | "unsupported_type"
  | "too_large"
  | "too_deep"
  | "invalid_option"
  | "invalid_config";

/** A structured error as JSON: in `mapEach` results and config reports. */
export interface ErrorInfo {
  code: ErrorCode;
  /** Human-readable; never quotes input values. */
  message: string;
  /** JSON pointer to the offending value (`""` for the whole input; `/n/...` for task n of a batch). */
  path: string;
}

/**
 * What every function of the package throws: a JS `Error` named
 * `DifyOpikError` carrying the core's `code` and `path`. `not_initialized` is
 * thrown by the browser entry when a function is called before `init()`.
 */
export interface DifyOpikError extends Error {
  name: "DifyOpikError";
  code: ErrorCode | "not_initialized";
  path: string;
}

/** Stable warning codes (src/error.rs `WarningCode`). */
export type WarningCode =
  | "ignored_type"
  | "no_trace_info"
  | "trace_not_joined"
  | "time_fallback"
  | "missing_time"
  | "end_before_start"
  | "container_not_found"
  | "cost_not_usd"
  | "invalid_usage"
  | "missing_app_id"
  | "message_data_missing"
  | "foreign_node_execution"
  | "tag_truncated"
  | "id_outside_window"
  | "redacted"
  | "truncated"
  | "too_large_object";

/** A degraded but mapped case. */
export interface Warning {
  code: WarningCode;
  message: string;
  /** JSON pointer into the input. */
  path: string;
}

// ---------------------------------------------------------------------------
// Options

/** An instant: RFC 3339 text, epoch milliseconds, or a `Date`. */
export type Instant = string | number | Date;

/** Mapping options (snake_case, as the core and the CLI take them). */
export interface MapOptions {
  /** `linked` (default): Dify's mapping with its flaws fixed; `reference`: Dify's own integration, value for value. */
  profile?: "linked" | "reference" | null;
  /** Opik project; blank → "Default Project". */
  project?: string | null;
  /** Dify's FILES_URL (default `http://127.0.0.1:5001`). */
  files_url?: string | null;
  /** The clock reading used for ids' 24 h window checks; default: the host's clock. */
  now?: Instant | null;
  /** Where ids' time bits come from: `"event"` (default), or every id at `at`, or event times in `[events_from, events_to]` spread linearly over the 23 h before `at`. */
  id_time?:
    | "event"
    | { at: Instant; events_from?: undefined; events_to?: undefined }
    | { at: Instant; events_from: Instant; events_to: Instant }
    | null;
  /** Offset of naive datetimes, e.g. `+08:00` (default `+00:00`). */
  naive_offset?: string | null;
  /** Redact credentials (default true; linked profile). */
  redact?: boolean | null;
  /** The class of a bare `trace_info` object given without its envelope. */
  trace_info_type?: TraceInfoType | null;
  /** Inputs larger than this many bytes fail with `too_large` (default 256 MiB). */
  max_input_bytes?: number | null;
}

// ---------------------------------------------------------------------------
// Dify input (reference §2, §6.2)

/** Dify's trace-info class names; Opik handles the first seven. */
export type TraceInfoType =
  | "WorkflowTraceInfo"
  | "MessageTraceInfo"
  | "ModerationTraceInfo"
  | "SuggestedQuestionTraceInfo"
  | "DatasetRetrievalTraceInfo"
  | "ToolTraceInfo"
  | "GenerateNameTraceInfo"
  | IgnoredTraceInfoType;

/** Types Dify emits and Opik ignores (mapped to an `ignored_type` warning). */
export type IgnoredTraceInfoType =
  | "PromptGenerationTraceInfo"
  | "WorkflowNodeTraceInfo"
  | "DraftNodeExecutionTrace"
  | "dict";

/** An ISO datetime as Dify writes it (naive or with an offset). */
export type DifyTime = string;

/** Fields common to every trace info (`BaseTraceInfo`). */
export interface BaseTraceInfo {
  message_id?: string | null;
  message_data?: MessageData | null;
  inputs?: string | JsonObject | JsonValue[] | null;
  outputs?: string | JsonObject | JsonValue[] | null;
  start_time?: DifyTime | null;
  end_time?: DifyTime | null;
  metadata?: JsonObject | null;
  /** The external trace id (not necessarily a UUID). */
  trace_id?: string | null;
}

/** `Message.to_dict()`. */
export interface MessageData {
  id?: string | null;
  app_id?: string | null;
  conversation_id?: string | null;
  model_id?: string | null;
  inputs?: JsonValue;
  query?: string | null;
  /** A decimal as a string, e.g. `"0.0000186"`. */
  total_price?: string | number | null;
  message?: JsonValue;
  answer?: string | null;
  status?: string | null;
  error?: string | null;
  message_metadata?: JsonObject | string | null;
  from_source?: string | null;
  from_end_user_id?: string | null;
  from_account_id?: string | null;
  created_at?: DifyTime | null;
  updated_at?: DifyTime | null;
  agent_based?: boolean | null;
  workflow_run_id?: string | null;
}

export interface WorkflowTraceInfo extends BaseTraceInfo {
  workflow_data?: JsonValue;
  conversation_id?: string | null;
  workflow_app_log_id?: string | null;
  workflow_id?: string | null;
  tenant_id?: string | null;
  workflow_run_id?: string | null;
  workflow_run_elapsed_time?: number | null;
  workflow_run_status?: string | null;
  workflow_run_inputs?: JsonObject | null;
  workflow_run_outputs?: JsonObject | null;
  workflow_run_version?: string | null;
  error?: string | null;
  total_tokens?: number | null;
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  file_list?: string[] | null;
  query?: string | null;
  invoked_by?: string | null;
}

export interface MessageTraceInfo extends BaseTraceInfo {
  conversation_model?: string | null;
  message_tokens?: number | null;
  answer_tokens?: number | null;
  total_tokens?: number | null;
  error?: string | null;
  file_list?: string | JsonObject | JsonValue[] | null;
  message_file_data?: JsonValue;
  conversation_mode?: string | null;
  gen_ai_server_time_to_first_token?: number | null;
  llm_streaming_time_to_generate?: number | null;
  is_streaming_request?: boolean | null;
}

export interface ModerationTraceInfo extends BaseTraceInfo {
  flagged?: boolean | null;
  action?: string | null;
  preset_response?: string | null;
  query?: string | null;
}

export interface SuggestedQuestionTraceInfo extends BaseTraceInfo {
  total_tokens?: number | null;
  status?: string | null;
  error?: string | null;
  from_account_id?: string | null;
  agent_based?: boolean | null;
  from_source?: string | null;
  model_provider?: string | null;
  model_id?: string | null;
  status_message?: string | null;
  workflow_run_id?: string | null;
  suggested_question?: string[] | null;
  level?: string | null;
}

export interface DatasetRetrievalTraceInfo extends BaseTraceInfo {
  documents?: JsonValue;
  error?: string | null;
}

export interface ToolTraceInfo extends BaseTraceInfo {
  tool_name?: string | null;
  tool_inputs?: JsonObject | null;
  tool_outputs?: string | null;
  tool_config?: JsonObject | null;
  time_cost?: number | null;
  tool_parameters?: JsonObject | null;
  message_file_data?: JsonValue;
  error?: string | null;
  file_url?: string | string[] | null;
}

export interface GenerateNameTraceInfo extends BaseTraceInfo {
  conversation_id?: string | null;
  tenant_id?: string | null;
}

/** A trace info of a type Opik ignores: any object. */
export type OtherTraceInfo = JsonObject;

/** Any of the trace infos. */
export type TraceInfo =
  | WorkflowTraceInfo
  | MessageTraceInfo
  | ModerationTraceInfo
  | SuggestedQuestionTraceInfo
  | DatasetRetrievalTraceInfo
  | ToolTraceInfo
  | GenerateNameTraceInfo;

/**
 * One node execution of a workflow run: the domain shape
 * (`WorkflowNodeExecution` in JSON mode), or the DB-row shape where
 * `inputs`, `process_data`, `outputs` and `execution_metadata` are JSON text.
 */
export interface NodeExecution {
  id?: string | null;
  node_execution_id?: string | null;
  workflow_id?: string | null;
  workflow_execution_id?: string | null;
  /** DB-row name of `workflow_execution_id`. */
  workflow_run_id?: string | null;
  index?: number | null;
  predecessor_node_id?: string | null;
  node_id?: string | null;
  node_type?: string | null;
  title?: string | null;
  inputs?: JsonObject | string | null;
  process_data?: JsonObject | string | null;
  outputs?: JsonObject | string | null;
  status?: string | null;
  error?: string | null;
  /** Seconds. */
  elapsed_time?: number | null;
  metadata?: JsonObject | string | null;
  /** DB-row name of `metadata` (JSON text). */
  execution_metadata?: JsonObject | string | null;
  created_at?: DifyTime | null;
  finished_at?: DifyTime | null;
  // Other columns of the DB row (`workflow_node_executions`); not mapped.
  tenant_id?: string | null;
  app_id?: string | null;
  triggered_from?: string | null;
  created_by_role?: string | null;
  created_by?: string | null;
}

/** An end-user row: `{session_id}`. */
export interface EndUser {
  session_id?: string | null;
}

interface TaskFields {
  /** The app id, or `tenant-<id>`. */
  app_id?: string | null;
  /** The run's node executions (workflow traces). */
  node_executions?: NodeExecution[] | null;
  /** `{end_user_id: {session_id}}` (message traces). */
  end_users?: { [endUserId: string]: EndUser } | null;
}

/** One Dify trace task: the envelope Dify's Celery task receives, plus the data Dify reads from its database. */
export type TraceTask =
  | (TaskFields & { trace_info_type: "WorkflowTraceInfo"; trace_info: WorkflowTraceInfo | null })
  | (TaskFields & { trace_info_type: "MessageTraceInfo"; trace_info: MessageTraceInfo | null })
  | (TaskFields & { trace_info_type: "ModerationTraceInfo"; trace_info: ModerationTraceInfo | null })
  | (TaskFields & {
      trace_info_type: "SuggestedQuestionTraceInfo";
      trace_info: SuggestedQuestionTraceInfo | null;
    })
  | (TaskFields & {
      trace_info_type: "DatasetRetrievalTraceInfo";
      trace_info: DatasetRetrievalTraceInfo | null;
    })
  | (TaskFields & { trace_info_type: "ToolTraceInfo"; trace_info: ToolTraceInfo | null })
  | (TaskFields & { trace_info_type: "GenerateNameTraceInfo"; trace_info: GenerateNameTraceInfo | null })
  | (TaskFields & { trace_info_type: IgnoredTraceInfoType; trace_info: OtherTraceInfo | null });

/**
 * What the mapping functions take: JSON text (one task, an array, or JSON
 * lines), its UTF-8 bytes, a task object, an array of tasks, or a bare trace
 * info (with the `trace_info_type` option).
 */
export type MapInput = string | Uint8Array | TraceTask | readonly TraceTask[] | TraceInfo;

// ---------------------------------------------------------------------------
// Opik output (Trace_Write / Span_Write)

/** Opik's `ErrorInfo_Write`. */
export interface OpikErrorInfo {
  exception_type: string;
  message: string;
  traceback: string;
}

/** input, output and metadata: what Opik accepts (an object, a list of objects, or a string). */
export type OpikJson = JsonObject | JsonObject[] | string;

/** One Opik trace (`Trace_Write`); absent fields are not sent. */
export interface OpikTrace {
  /** UUIDv7. */
  id: string;
  project_name: string;
  name?: string;
  /** RFC 3339, UTC (`Z`). */
  start_time?: string;
  end_time?: string;
  input?: OpikJson;
  output?: OpikJson;
  metadata?: OpikJson;
  tags: string[];
  error_info?: OpikErrorInfo;
  /** Time to first token, ms. */
  ttft?: number;
  /** The conversation id. */
  thread_id?: string;
}

/** One Opik span (`Span_Write`); absent fields are not sent. */
export interface OpikSpan {
  id: string;
  project_name: string;
  trace_id: string;
  parent_span_id?: string;
  name?: string;
  type: "general" | "tool" | "llm" | "guardrail";
  start_time?: string;
  end_time?: string;
  input?: OpikJson;
  output?: OpikJson;
  metadata?: OpikJson;
  model?: string;
  provider?: string;
  tags: string[];
  /** Token counts (int32). */
  usage?: { [key: string]: number };
  /** USD. */
  total_estimated_cost?: number;
  error_info?: OpikErrorInfo;
  ttft?: number;
}

/** What `map` returns. */
export interface MapResult {
  traces: OpikTrace[];
  /** Parents before children. */
  spans: OpikSpan[];
  warnings: Warning[];
}

/** What `mapEach` returns: the tasks that mapped, and one error per task that did not. */
export interface BatchResult extends MapResult {
  errors: ErrorInfo[];
}

// ---------------------------------------------------------------------------
// Opik configuration, requests

/** Where and as whom to send (Dify's `OpikConfig`). */
export interface OpikConfig {
  /** API base, ending with `/api/`; blank → Opik Cloud (`https://www.comet.com/opik/api/`). */
  url?: string | null;
  /** Required on Opik Cloud. */
  api_key?: string | null;
  /** Required on Opik Cloud (and not `default`); self-hosted default `default`. */
  workspace?: string | null;
  project?: string | null;
}

/** The outcome of `validateConfig`: every problem at once; the key is never echoed. */
export interface ConfigReport {
  ok: boolean;
  target: "cloud" | "self_hosted";
  url: string;
  workspace: string;
  project: string;
  has_api_key: boolean;
  /** Each with code `invalid_config` and the field's path. */
  problems: ErrorInfo[];
}

/** Batch limits. */
export interface Limits {
  /** Items per request, 1–1000 (default 1000). */
  max_items?: number;
  /** Bytes per request body (default 20 MiB). */
  max_body_bytes?: number;
}

/** One ready-to-send HTTP request. */
export interface OpikRequest {
  method: "POST";
  url: string;
  headers: { [name: string]: string };
  /** JSON: `{"traces":[…]}` or `{"spans":[…]}`. */
  body: string;
  kind: "traces" | "spans";
  /** Objects in the body. */
  count: number;
}

/** What `buildRequests` returns. */
export interface RequestsResult {
  /** Traces first, then spans. */
  requests: OpikRequest[];
  warnings: Warning[];
}

// ---------------------------------------------------------------------------
// Sending

/** The subset of `fetch` that `send` uses. */
export type FetchLike = (
  url: string,
  init: { method: string; headers: { [name: string]: string }; body: string },
) => Promise<{
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}>;

export interface SendOptions {
  /** Default: the global `fetch`. */
  fetch?: FetchLike;
  /** Retries after the first attempt (default 4). */
  retries?: number;
  /** First backoff delay, doubled per retry (default 500 ms). */
  baseDelayMs?: number;
  /** Longest wait between attempts (default 30 s); a longer `Retry-After` ends the retries. */
  maxDelayMs?: number;
  /** Per-attempt timeout (default 30 s; 0: none). */
  timeoutMs?: number;
  /** Randomise each backoff delay between half and all of it (default true). */
  jitter?: boolean;
  /** Cancels everything. */
  signal?: AbortSignalLike;
  /** Waits `ms` (default: a timer); tests pass their own. */
  sleep?: (ms: number) => Promise<void>;
}

/** The subset of `AbortSignal` that `send` uses. */
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: "abort", listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: "abort", listener: () => void): void;
}

/** What happened to one request. */
export interface SendReport {
  /** Position in the list given to `send`. */
  index: number;
  url: string;
  kind?: "traces" | "spans";
  count?: number;
  ok: boolean;
  /** The last HTTP status, or null when no response came. */
  status: number | null;
  attempts: number;
  /** Why it failed (null when ok). */
  error: string | null;
  /** The start of the last error response's body. */
  response?: string;
}

// ---------------------------------------------------------------------------
// Functions

/** Loads the wasm (browsers; a no-op in Node and workers, where loading is synchronous). */
export function init(wasm?: string | ArrayBuffer | ArrayBufferView | object): Promise<void>;
/** Loads the wasm synchronously from its bytes or a compiled `WebAssembly.Module`. */
export function initSync(wasm: ArrayBuffer | ArrayBufferView | object): void;

/** Maps Dify trace tasks to Opik objects; throws a `DifyOpikError` on the first task that does not map. */
export function map(input: MapInput, options?: MapOptions | string | null): MapResult;
/** Maps every task it can; failing tasks are listed under `errors`. Throws only when the input cannot be split into tasks. */
export function mapEach(input: MapInput, options?: MapOptions | string | null): BatchResult;
/**
 * `map`, returning the result as JSON text. When characters above U+00FF are
 * rare in the input (at most one in 128 bytes), the text writes them as `\u`
 * escapes, so that it stays one byte a character in JS engines.
 */
export function mapJson(input: MapInput, options?: MapOptions | string | null): string;
/** `mapEach`, returning the result as JSON text. */
export function mapEachJson(input: MapInput, options?: MapOptions | string | null): string;
/** `map` from UTF-8 bytes to UTF-8 bytes (JSON text). */
export function mapBytes(input: Uint8Array, options?: MapOptions | string | null): Uint8Array;
/** Validates an Opik configuration (never throws). */
export function validateConfig(config?: OpikConfig | string | null): ConfigReport;
/**
 * Ready-to-send requests: from a mapping result (an object with `traces` /
 * `spans`, or JSON text starting with `{"traces"`), or from Dify input, which
 * is mapped first with `options`. Throws a `DifyOpikError` (`invalid_config`)
 * when the configuration is not valid.
 */
export function buildRequests(
  resultOrInput: MapResult | BatchResult | MapInput,
  config: OpikConfig | string,
  limits?: Limits | string | null,
  options?: MapOptions | string | null,
): RequestsResult;
/** Sends requests one after another with retries; never throws for HTTP or network failures. */
export function send(
  requests: readonly OpikRequest[] | RequestsResult,
  options?: SendOptions,
): Promise<SendReport[]>;
/** The library version. */
export function version(): string;
