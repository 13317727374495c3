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
 * Per-device token buckets. Rate limiting is not money state: a bucket per process is fine
 * (with N relays a device gets at most N times the rate), and nothing correct depends on it.
 */
export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly perMinute: number,
    private readonly burst: number,
  ) {}

  /** Takes one token for `key` or throws RATE_LIMITED with the wait until the next token. */
  take(key: string, now = Date.now()): void {
    const rate = this.perMinute / 60_000;
    const b = this.#buckets.get(key) ?? { tokens: this.burst, at: now };
    b.tokens = Math.min(this.burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens < 1) {
      this.#buckets.set(key, b);
      throw new RetryLaterError('RATE_LIMITED', Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)));
    }
    b.tokens -= 1;
    this.#buckets.set(key, b);
    if (this.#buckets.size > 100_000) this.#buckets.clear();
  }
}

/** Admission control: at most `maxInFlight` requests at once; the rest get 503 + Retry-After. */
export class Admission {
  #inFlight = 0;

  constructor(private readonly maxInFlight: number) {}

  /** Requests being handled now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Admits one request or throws OVERLOADED. */
  enter(): void {
    if (this.#inFlight >= this.maxInFlight) throw new RetryLaterError('OVERLOADED', 1);
    this.#inFlight += 1;
  }

  /** Marks one admitted request finished. */
  leave(): void {
    this.#inFlight = Math.max(0, this.#inFlight - 1);
  }
}
