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

  /**
   * Seconds until `key` has a token again, or 0 when it has one now. Changes nothing: it lets
   * the relay refuse an over-limit device before the work of authenticating it, while only an
   * authenticated request (`take`) spends a token, so a forged device id drains nobody's bucket.
   */
  wait(key: string, now = Date.now()): number {
    const b = this.#buckets.get(key);
    if (!b) return 0;
    const rate = this.perMinute / 60_000;
    const tokens = Math.min(this.burst, b.tokens + (now - b.at) * rate);
    return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / rate / 1000));
  }

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
