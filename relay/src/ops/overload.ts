import { readFileSync } from 'node:fs';
import { DomainError } from '@scan-to-bind/shared/domain';

/** Thrown to refuse a request with a Retry-After (seconds). */
export class RetryLaterError extends DomainError {
  constructor(
    code: 'RATE_LIMITED' | 'OVERLOADED',
    readonly retryAfterSeconds: number,
  ) {
    super(code);
  }
}

/**
 * A refusal as a rule decides it (admission, the rate limits, the start gate): its code and its
 * Retry-After (seconds). A plain value, so deciding one captures no stack trace: the front door
 * (http/server.ts answerEarly) answers it as it is, a hook turns it into a RetryLaterError
 * (`refusalError`). A RetryLaterError is one too.
 */
export interface Refusal {
  readonly code: 'RATE_LIMITED' | 'OVERLOADED';
  readonly retryAfterSeconds: number;
}

/** The refusal of a full relay: 503 OVERLOADED, retry after 1 s. */
export const OVERLOADED: Refusal = Object.freeze({ code: 'OVERLOADED', retryAfterSeconds: 1 });

/** The error a hook refuses with for `refusal` (none for none). */
export function refusalError(refusal: Refusal | undefined): RetryLaterError | undefined {
  return refusal && new RetryLaterError(refusal.code, refusal.retryAfterSeconds);
}

/**
 * Per-device token buckets. Rate limiting is not money state: a bucket per process is fine
 * (with N relays a device gets at most N times the rate), and nothing correct depends on it.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
  ) {}

  /**
   * Seconds until `key` has a token again, or 0 when it has one now. Changes nothing: it lets
   * the relay refuse an over-limit device before the work of authenticating it, while only an
   * authenticated request (`take`) spends a token, so a forged device id drains nobody's bucket.
   */
  wait(key: string, now = Date.now()): number {
    return this.#secondsUntilToken(this.#tokens(key, now));
  }

  /** RATE_LIMITED with the wait until `key`'s next token, or undefined when it has one now. Read-only, like `wait`. */
  refusal(key: string, now = Date.now()): Refusal | undefined {
    const wait = this.wait(key, now);
    return wait > 0 ? { code: 'RATE_LIMITED', retryAfterSeconds: wait } : undefined;
  }

  /** Takes one token for `key` or throws RATE_LIMITED with the wait until the next token. */
  take(key: string, now = Date.now()): void {
    const tokens = this.#tokens(key, now);
    if (tokens < 1) {
      this.#buckets.set(key, { tokens, at: now });
      throw new RetryLaterError('RATE_LIMITED', this.#secondsUntilToken(tokens));
    }
    this.#buckets.set(key, { tokens: tokens - 1, at: now });
    if (this.#buckets.size > 100_000) this.#buckets.clear();
  }

  /** The tokens `key` has at `now` (a full burst for a key never seen). */
  #tokens(key: string, now: number): number {
    const b = this.#buckets.get(key);
    return b ? Math.min(this.burst, b.tokens + (now - b.at) * (this.perMinute / 60_000)) : this.burst;
  }

  /** Whole seconds until `tokens` reaches one (0 when it has). */
  #secondsUntilToken(tokens: number): number {
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / (this.perMinute / 60_000) / 1000));
  }
}

/** How often the event loop's lag is sampled. */
const LAG_SAMPLE_MS = 10;

/**
 * Admission control, before any work is done for a request:
 * - at most `maxInFlight` requests at once;
 * - none while the event loop runs more than `maxLagMs` behind (0: off). The number in flight
 *   alone does not bound the work queued: most pays in flight wait on Antom, while a burst of
 *   new ones (each device's whole burst allowance at once) can queue a second of CPU work, and
 *   every request, a cheap refusal included, waits behind it (bench #3). The lag is sampled
 *   every 10 ms (a timer's lateness; the smaller of the last two samples, so that it takes
 *   sustained lateness, not one pause); refusing while it is high keeps the queue from growing.
 * Refused requests get 503 OVERLOADED with Retry-After.
 */
export class Admission {
  #inFlight = 0;
  #lagMs = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly maxInFlight: number,
    private readonly maxLagMs = 0,
  ) {
    if (maxLagMs > 0) {
      let expected = performance.now() + LAG_SAMPLE_MS;
      let previous = 0;
      this.#timer = setInterval(() => {
        const now = performance.now();
        const late = Math.max(0, now - expected);
        // Two late samples in a row: one long GC pause alone does not refuse anyone.
        this.#lagMs = Math.min(late, previous);
        previous = late;
        expected = now + LAG_SAMPLE_MS;
      }, LAG_SAMPLE_MS);
      this.#timer.unref();
    }
  }

  /** Requests being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** How late the event loop runs (ms): the smaller of the last two 10 ms samples. */
  get lagMs(): number {
    return this.#lagMs;
  }

  /**
   * The refusal `enter` would throw for a request now (OVERLOADED past `maxInFlight` or while the
   * loop runs late), or undefined. Changes nothing: the front door (http/front-door.ts) asks it
   * before Fastify sees the request.
   */
  refusal(): Refusal | undefined {
    if (this.#inFlight >= this.maxInFlight) return OVERLOADED;
    if (this.maxLagMs > 0 && this.#lagMs > this.maxLagMs) return OVERLOADED;
    return undefined;
  }

  /**
   * Admits one request or throws OVERLOADED; the returned release counts once however often it
   * is called. `always` counts the request without refusing it (Antom's notifications: they
   * are how money state becomes final, so no cap or lag refuses them).
   */
  enter(always = false): () => void {
    const refused = always ? undefined : refusalError(this.refusal());
    if (refused) throw refused;
    this.#inFlight += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.leave();
    };
  }

  /** Marks one admitted request finished. */
  leave(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }

  /** Stops sampling (shutdown). */
  stop(): void {
    clearInterval(this.#timer);
  }
}

/**
 * The current turn of the event loop, as seen by the pays read in it: a clock started by the
 * first pay checked in a turn (`elapsedMs`) and stopped in the turn's check phase
 * (`setImmediate`, which runs once the poll phase has handed over every socket that was ready).
 * Everything the relay does for the requests of one poll batch runs before the next batch is
 * read (on SQLite a pay's begin is one synchronous transaction; only its commit's flush is
 * awaited, off the event loop), so how long the turn has run since its first pay is the work
 * accepted in it, which every request still unread waits behind: the refusals among them
 * included (bench #3). Started by a pay, not by any request, so other work
 * (held connections opening, refusals) never refuses a lone pay.
 */
export class LoopTurn {
  #startedAt = -1;
  readonly #end = (): void => {
    this.#startedAt = -1;
  };

  /** Milliseconds since the first request of this turn (0 for the first one; starts the clock). */
  elapsedMs(now = performance.now()): number {
    if (this.#startedAt < 0) {
      this.#startedAt = now;
      setImmediate(this.#end);
    }
    return now - this.#startedAt;
  }
}

/**
 * Authenticated, well-formed pays between their validation and their Antom call: the part of a
 * pay that costs the relay most (the spending checks, the intent's commit, the signature). A pay
 * is refused with 503 OVERLOADED at once instead of queueing when
 * - `max` pays are in that part already (admission by the number in flight cannot see this: most
 *   pays in flight wait on Antom, while a burst of new ones queues seconds of work that every
 *   later request, a cheap refusal included, waits behind; bench #3), or
 * - the current loop turn has already run `turnBudgetMs` (0: off; see LoopTurn): the work budget.
 *   The first pay of a turn always starts, so the relay keeps making progress; the rest of a
 *   burst read in one turn is refused rather than run ahead of the requests behind it. The
 *   budget bounds the wait of a refusal where the gate's count cannot: the count bounds the pays
 *   waiting in that part (on both engines a pay holds its slot while its intent's commit is made
 *   durable: PostgreSQL's round trip, SQLite's group-commit flush off the event loop), not the
 *   work one turn runs, and on SQLite each pay's begin is one synchronous transaction, so up to
 *   `max` of them can run back to back in one turn.
 */
export class StartGate {
  #starting = 0;

  constructor(
    private readonly max: number,
    private readonly turn?: LoopTurn,
    private readonly turnBudgetMs = 0,
  ) {}

  /** Pays in their starting part now. */
  get starting(): number {
    return this.#starting;
  }

  /**
   * Whether a pay could start now. Changes nothing: it lets the relay refuse a pay before its
   * body is read and its signature checked (device-auth.ts), while `enter` decides.
   */
  canEnter(): boolean {
    return this.#starting < this.max && !(this.turnBudgetMs > 0 && this.turn !== undefined && this.turn.elapsedMs() >= this.turnBudgetMs);
  }

  /** Lets one pay start, or throws OVERLOADED; the returned release may be called any number of times. */
  enter(): () => void {
    if (!this.canEnter()) throw new RetryLaterError('OVERLOADED', 1);
    this.#starting += 1;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#starting -= 1;
    };
  }
}

/**
 * The kernel's cap on a listen backlog (`net.core.somaxconn`), or undefined where it cannot be
 * read (not Linux). A larger `limits.listenBacklog` is silently cut to it by the kernel, so the
 * relay says so at start (index.ts).
 */
export function kernelBacklogCap(read: () => string = () => readFileSync('/proc/sys/net/core/somaxconn', 'utf8')): number | undefined {
  try {
    const n = Number(read().trim());
    return Number.isInteger(n) && n > 0 ? n : undefined;
  } catch {
    return undefined;
  }
}
