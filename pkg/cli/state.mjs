// The progress record of `dify-opik send`, for resuming: a JSON-lines file.
// Line 1 is the run header (target, mapping options, id time); every later
// line records one file whose tasks were all mapped and delivered. Lines are
// appended (O_APPEND) as files finish, so an interrupted run loses at most the
// files that were in flight; a torn last line is ignored on reading.
import { openSync, writeSync, closeSync, readFileSync, existsSync, rmSync, fsyncSync, truncateSync, writeFileSync } from 'node:fs';

export const STATE_FORMAT = 1;
export const DEFAULT_STATE_NAME = '.dify-opik-state.jsonl';

/**
 * Reads a state file. Returns null when it does not exist.
 * @returns {{header: object, done: Map<string, object>} | null}
 */
export function readState(file) {
  if (!existsSync(file)) return null;
  const lines = readFileSync(file, 'utf8').split('\n');
  let header = null;
  const done = new Map();
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    let rec;
    try {
      rec = JSON.parse(line);
    } catch {
      // Only the last line can be torn (a crash mid-append); anything else is damage.
      if (lines.slice(i + 1).some((l) => l.trim())) {
        throw new Error(`${file}: line ${i + 1} is not JSON; the state file is damaged`);
      }
      continue;
    }
    if (header === null) {
      if (rec?.dify_opik_state !== STATE_FORMAT) {
        throw new Error(`${file} is not a dify-opik state file (format ${STATE_FORMAT})`);
      }
      header = rec;
    } else if (typeof rec?.done === 'string') {
      done.set(rec.done, rec);
    }
  }
  if (header === null) return null;
  return { header, done };
}

/** An append-only writer for a state file. */
export class StateWriter {
  /** Starts a new state file (replacing any old one) with `header`. */
  static create(file, header) {
    rmSync(file, { force: true });
    writeFileSync(file, '');
    const w = new StateWriter(file);
    w.append({ dify_opik_state: STATE_FORMAT, ...header });
    w.sync();
    return w;
  }

  /** Opens an existing state file for appending. */
  static open(file) {
    return new StateWriter(file);
  }

  constructor(file) {
    this.file = file;
    // A torn last line (a crash mid-append) is cut off before appending.
    const text = readFileSync(file, 'utf8');
    if (text.length && !text.endsWith('\n')) {
      truncateSync(file, Buffer.byteLength(text.slice(0, text.lastIndexOf('\n') + 1)));
    }
    this.fd = openSync(file, 'a');
  }

  append(rec) {
    writeSync(this.fd, `${JSON.stringify(rec)}\n`);
  }

  sync() {
    try {
      fsyncSync(this.fd);
    } catch {
      // fsync is best effort (some file systems refuse it)
    }
  }

  close() {
    if (this.fd !== null) {
      this.sync();
      closeSync(this.fd);
      this.fd = null;
    }
  }
}
