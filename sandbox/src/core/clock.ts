/**
 * The sandbox clock: real time plus an offset the admin API can only move forward. Every
 * rule with a deadline (code 15 min, authCode 1 min, payment expiry, token expiry, cancel
 * and refund windows, notification retries) reads this clock, so tests jump instead of sleeping.
 */
export class SandboxClock {
  #offsetMs: number;

  constructor(offsetMs = 0) {
    this.#offsetMs = offsetMs;
  }

  /** Sandbox time in epoch milliseconds. */
  now(): number {
    return Date.now() + this.#offsetMs;
  }

  /** Current offset from real time (persisted with the state). */
  get offsetMs(): number {
    return this.#offsetMs;
  }

  /** Moves the clock forward; negative moves are refused because deadlines must never un-pass. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('advanceMs must be a non-negative number');
    this.#offsetMs += ms;
  }

  /** Resets to real time (admin reset only). */
  reset(): void {
    this.#offsetMs = 0;
  }
}

/** ISO 8601 with an explicit offset, as Antom writes times (`2025-01-01T12:00:00+08:00`). */
export function isoWithOffset(epochMs: number, offsetMinutes = 480): string {
  const local = new Date(epochMs + offsetMinutes * 60_000).toISOString().slice(0, 19);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const hh = String(Math.floor(abs / 60)).padStart(2, '0');
  const mm = String(abs % 60).padStart(2, '0');
  return `${local}${sign}${hh}:${mm}`;
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})$/;

/**
 * Parses a `Request-Time` header: epoch milliseconds (docs, Java and Go SDKs) or ISO 8601
 * with an offset (Python and PHP SDKs): the docs and SDKs disagree, so both are accepted.
 * Returns undefined when neither.
 */
export function parseRequestTime(value: string): number | undefined {
  if (/^\d{10,15}$/.test(value)) return Number(value);
  return parseIsoTime(value);
}

/** Parses an ISO 8601 body time with offset (paymentExpiryTime); undefined when invalid. */
export function parseIsoTime(value: string): number | undefined {
  if (!ISO_RE.test(value)) return undefined;
  // PHP's DATE_ISO8601 writes the offset without a colon (+0800); Date.parse wants +08:00.
  const ms = Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isNaN(ms) ? undefined : ms;
}
