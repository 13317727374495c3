import type { Logger } from 'pino';

/**
 * Runs the database-driven jobs on a timer. Nothing it needs lives in memory: every pending
 * step is a row (due time + lease), so a restarted relay, or another relay process, resumes it.
 * `kick()` runs a pass soon without waiting for the next tick. `timed` (optional) says whether
 * the timed passes run in this process: several processes on one PostgreSQL leave them to the
 * holder of the worker lock (change-watcher.ts), so the shared tables are polled once, not once
 * per process; kicked passes run regardless.
 */
export class Worker {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #stopped = false;

  constructor(
    private readonly jobs: readonly (() => Promise<void>)[],
    private readonly tickMs: number,
    private readonly logger: Logger,
    private readonly timed: () => boolean = () => true,
  ) {}

  /** Starts ticking. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  /** The next pass after `ms`: a timed one (skipped, and the next one scheduled, while `timed()` says no) or a kicked one. */
  #schedule(ms: number, kicked = false): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => (kicked || this.timed() ? void this.tick() : this.#schedule(this.tickMs)), ms);
    this.#timer.unref();
  }

  /** Runs one pass now (or right after the pass in progress). */
  async tick(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = (async () => {
      do {
        this.#again = false;
        for (const job of this.jobs) {
          if (this.#stopped) break;
          try {
            await job();
          } catch (err) {
            this.logger.error({ err: (err as Error).message }, 'worker job failed');
          }
        }
      } while (this.#again && !this.#stopped);
    })();
    try {
      await this.#running;
    } finally {
      this.#running = undefined;
      this.#schedule(this.tickMs);
    }
  }

  /** Asks for a pass soon. */
  kick(): void {
    if (this.#running) this.#again = true;
    else this.#schedule(0, true);
  }

  /** Stops ticking and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
