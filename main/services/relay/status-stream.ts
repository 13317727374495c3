import { RELAY_EVENTS } from '@scan-to-bind/shared/relay-api';
import type { Clock, Logger } from '../ports.ts';
import { type BackoffPolicy, backoffDelay } from './backoff.ts';
import { toRelayError } from './errors.ts';
import { type SseEvent, SseParser } from './sse-parser.ts';

/** Opens one connection of the event stream. */
export type OpenStream = (signal: AbortSignal, lastEventId: string | null) => Promise<AsyncIterable<string>>;

/** What the status stream reports. */
export interface StatusStreamHandlers {
  /** A `binding` or `purchase` event (or any other named event). */
  onEvent(event: SseEvent): void;
  /** Connected (true) or lost (false); on reconnect, callers re-read state they may have missed. */
  onConnection(connected: boolean): void;
}

/** The reason of the relay's `event: end` (`replaced`, `lifetime`, `disabled`, `assertion-expired`, `shutdown`; '' unreadable). */
function endReason(data: string): string {
  try {
    const parsed = RELAY_EVENTS.end.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data.reason : '';
  } catch {
    return '';
  }
}

/**
 * The relay's status stream (GET /v1/events) kept open: on any end or failure it reconnects
 * after exponential backoff with jitter (honouring the server's `retry:`), resumes with
 * Last-Event-ID, and resets the backoff once a connection has delivered data. Each connection
 * is a new signed request (`open` signs it), so a reconnect re-authenticates.
 *
 * The relay ends a stream itself with `event: end` (relay/README.md, "Push"); that is no
 * failure and costs no backoff: `lifetime` (its maximum lifetime) reconnects at once;
 * `replaced` (a newer stream of this device took its place) after the base delay, growing only
 * while it keeps happening (two copies of the app fighting over the device's streams). Any
 * other end and every failure keep the backoff.
 */
export class StatusStream {
  readonly #open: OpenStream;
  readonly #handlers: StatusStreamHandlers;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #backoff: BackoffPolicy;
  readonly #random: () => number;
  #abort: AbortController | null = null;
  #timer: unknown = null;
  #attempt = 0;
  #lastEventId: string | null = null;
  #serverRetry: number | null = null;
  #running = false;
  /** Consecutive connections ended as `replaced`. */
  #replacedRun = 0;

  constructor(open: OpenStream, handlers: StatusStreamHandlers, clock: Clock, log: Logger, backoff?: BackoffPolicy, random?: () => number) {
    this.#open = open;
    this.#handlers = handlers;
    this.#clock = clock;
    this.#log = log;
    this.#backoff = backoff ?? { baseMs: 500, maxMs: 30_000 };
    this.#random = random ?? Math.random;
  }

  /** Starts (idempotent). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#connect();
  }

  /** Stops and closes the connection. */
  stop(): void {
    this.#running = false;
    this.#abort?.abort();
    this.#abort = null;
    if (this.#timer !== null) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Drops the backoff and reconnects now (e.g. the OS says we are back online). */
  reconnectNow(): void {
    if (!this.#running) return;
    this.#attempt = 0;
    if (this.#timer !== null) {
      this.#clock.clearTimeout(this.#timer);
      this.#timer = null;
      void this.#connect();
    }
  }

  /** The number of consecutive failed attempts (for tests and diagnostics). */
  get attempts(): number {
    return this.#attempt;
  }

  async #connect(): Promise<void> {
    this.#timer = null;
    if (!this.#running) return;
    const abort = new AbortController();
    this.#abort = abort;
    let connected = false;
    let ended: string | null = null;
    try {
      const chunks = await this.#open(abort.signal, this.#lastEventId);
      connected = true;
      this.#handlers.onConnection(true);
      const parser = new SseParser();
      for await (const chunk of chunks) {
        this.#attempt = 0;
        for (const ev of parser.push(chunk)) {
          if (ev.id !== null) this.#lastEventId = ev.id;
          if (ev.retry !== null) this.#serverRetry = ev.retry;
          if (ev.event === 'end') ended = endReason(ev.data);
          else this.#handlers.onEvent(ev);
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) this.#log.warn('event stream failed', { code: toRelayError(error).code });
    }
    if (connected) this.#handlers.onConnection(false);
    if (!this.#running || abort.signal.aborted) return;
    this.#replacedRun = ended === 'replaced' ? this.#replacedRun + 1 : 0;
    let delay: number;
    if (ended === 'lifetime') delay = 0;
    else if (ended === 'replaced') delay = backoffDelay(this.#backoff, this.#replacedRun - 1, this.#random);
    else {
      delay = Math.max(this.#serverRetry ?? 0, backoffDelay(this.#backoff, this.#attempt, this.#random));
      this.#attempt++;
    }
    this.#timer = this.#clock.setTimeout(() => void this.#connect(), delay);
  }
}
