/** Antom's `result` object: S succeeded, F failed (act on the code), U unknown (retry or inquire). */
export interface AntomResult {
  resultCode: string;
  resultStatus: 'S' | 'F' | 'U';
  resultMessage: string;
}

/** A response body: always a `result`, plus endpoint fields. */
export type AntomBody = { result: AntomResult } & Record<string, unknown>;

/** The success result. */
export const SUCCESS: AntomResult = Object.freeze({ resultCode: 'SUCCESS', resultStatus: 'S', resultMessage: 'success' });

/** A failure (F) body. */
export function fail(resultCode: string, resultMessage: string, extra: Record<string, unknown> = {}): AntomBody {
  return { result: { resultCode, resultStatus: 'F', resultMessage }, ...extra };
}

/** An unknown-outcome (U) body. */
export function unknown(resultCode: string, resultMessage: string, extra: Record<string, unknown> = {}): AntomBody {
  return { result: { resultCode, resultStatus: 'U', resultMessage }, ...extra };
}

/** A success body. */
export function ok(extra: Record<string, unknown> = {}): AntomBody {
  return { result: { ...SUCCESS }, ...extra };
}

/** Keys sorted at every level: the idempotency fingerprint of a request body. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** True when a parsed JSON value nests deeper than `max` (iterative: deep input cannot blow the stack). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
  }
  return false;
}
