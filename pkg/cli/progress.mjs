// A progress display on stderr: a redrawn bar on a terminal, plain lines
// (at every 10 %, at least every 10 s, and at the end) when stderr is a file
// or a pipe.

const WIDTH = 28;
const REDRAW_MS = 100;
const PLAIN_EVERY_MS = 10_000;

export class Progress {
  /**
   * @param {number} total files to go through
   * @param {{stream?: {write(s: string): unknown, isTTY?: boolean}, enabled?: boolean, label?: string, counts?: boolean}} o
   */
  constructor(total, o = {}) {
    this.total = total;
    this.stream = o.stream ?? process.stderr;
    this.enabled = o.enabled ?? true;
    this.label = o.label ?? 'files';
    this.counts = o.counts ?? true;
    this.tty = Boolean(this.stream.isTTY);
    this.done = 0;
    this.failed = 0;
    this.traces = 0;
    this.spans = 0;
    this.started = Date.now();
    this.lastDraw = 0;
    this.lastStep = -1;
    this.lastDone = -1;
    this.drawn = false;
  }

  /** Adds to the counters and redraws (throttled). */
  add({ files = 0, failed = 0, traces = 0, spans = 0 } = {}) {
    this.done += files;
    this.failed += failed;
    this.traces += traces;
    this.spans += spans;
    this.draw(false);
  }

  line() {
    const pct = this.total ? Math.floor((this.done * 100) / this.total) : 100;
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? (this.done / secs).toFixed(1) : '0.0';
    const failed = this.failed ? `, ${this.failed} failed` : '';
    const counts = this.counts ? `, ${this.traces} traces, ${this.spans} spans` : '';
    return `${this.done}/${this.total} ${this.label} (${pct}%)${counts}${failed}, ${rate}/s`;
  }

  draw(force) {
    if (!this.enabled) return;
    const now = Date.now();
    if (this.tty) {
      if (!force && now - this.lastDraw < REDRAW_MS) return;
      this.lastDraw = now;
      const filled = this.total ? Math.round((this.done / this.total) * WIDTH) : WIDTH;
      const bar = '#'.repeat(filled) + '-'.repeat(WIDTH - filled);
      this.stream.write(`\r\x1b[K[${bar}] ${this.line()}`);
      this.drawn = true;
    } else {
      const step = this.total ? Math.floor((this.done * 10) / this.total) : 10;
      if (!force && step === this.lastStep && now - this.lastDraw < PLAIN_EVERY_MS) return;
      this.lastStep = step;
      this.lastDraw = now;
      this.lastDone = this.done;
      this.stream.write(`progress: ${this.line()}\n`);
    }
  }

  /** Prints a message without garbling the bar. */
  note(msg) {
    if (this.tty && this.drawn) this.stream.write('\r\x1b[K');
    this.stream.write(`${msg}\n`);
    if (this.tty && this.drawn) this.draw(true);
  }

  finish() {
    if (!this.enabled) return;
    if (this.tty) {
      this.draw(true);
      this.stream.write('\n');
    } else if (this.lastDone !== this.done) {
      this.draw(true);
    }
  }
}
