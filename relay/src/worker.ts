import type { Logger } from 'pino';

/**
 * Runs the database-driven jobs on a timer. Nothing it needs lives in memory: every pending
 * step is a row (due time + lease), so a restarted relay, or another relay process, resumes it.
 * `kick()` runs a pass soon without waiting for the next tick.
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
  ) {}

  /** Starts ticking. */
  start(): void {
    this.#stopped = false;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.tick(), ms);
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
    else this.#schedule(0);
  }

  /** Stops ticking and waits for the pass in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running;
  }
}
