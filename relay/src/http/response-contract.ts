import { isDeepStrictEqual } from 'node:util';
import { contractIssues, ErrorBodySchema } from '@scan-to-bind/shared/relay-api';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { errorBody } from './errors.ts';
import { ROUTE_DOCS } from './openapi-routes.ts';

/** The log line of an answer or event that does not match its schema (tests look for it). */
export const CONTRACT_VIOLATION = 'answer does not match the relay API';

/** How an answer compares with its schema. */
export type ContractCheck = { ok: true; value: unknown } | { ok: false; issues: string[]; value?: unknown };

/**
 * Checks `value` against `schema`: the parsed value, or the issues (paths and codes only, never
 * values: an answer may carry a device secret). A field the schema does not name is an issue
 * too, reported with the parsed value (the answer without it).
 */
export function checkAnswer(schema: z.ZodType, value: unknown): ContractCheck {
  const parsed = schema.safeParse(value);
  if (!parsed.success) return { ok: false, issues: contractIssues(parsed.error) };
  // Most answers are already what the schema keeps: said without serialising (every answer,
  // the pay's included, went through four JSON passes for this; issue 17, the pay path).
  if (sameOnTheWire(value, parsed.data)) return { ok: true, value: parsed.data };
  // Otherwise compared as JSON, which is what is sent: an `undefined` field is absent on the wire.
  const sent = JSON.parse(JSON.stringify(value)) as unknown;
  const kept = JSON.parse(JSON.stringify(parsed.data)) as unknown;
  if (!isDeepStrictEqual(sent, kept)) return { ok: false, issues: ['(fields the schema does not name)'], value: parsed.data };
  return { ok: true, value: parsed.data };
}

/** A plain object (an object literal or a null-prototype object) without its own `toJSON`. */
function isPlain(v: object): boolean {
  const proto = Object.getPrototypeOf(v) as unknown;
  return (proto === Object.prototype || proto === null) && !Object.hasOwn(v, 'toJSON');
}

/**
 * True only when `a` and `b` are certain to serialise to the same JSON value (key order aside):
 * the same primitives (Object.is), or plain objects and arrays of such, where an object's
 * `undefined` field counts as absent (as JSON.stringify drops it). Anything else (a Date, a
 * class instance, -0 against 0) is "not certain" (false), and checkAnswer compares the JSON.
 */
function sameOnTheWire(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameOnTheWire(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b) || !isPlain(a) || !isPlain(b)) return false;
  const x = a as Record<string, unknown>;
  const y = b as Record<string, unknown>;
  let defined = 0;
  for (const k in x) {
    if (!Object.hasOwn(x, k) || x[k] === undefined) continue;
    defined++;
    if (!Object.hasOwn(y, k) || !sameOnTheWire(x[k], y[k])) return false;
  }
  for (const k in y) if (Object.hasOwn(y, k) && y[k] !== undefined) defined--;
  return defined === 0;
}

/**
 * What the relay sends for an answer checked against its schema (`checkAnswer`).
 *
 * - Matches: the parsed value.
 * - `strict` (tests: the test stack sets `strictResponses`): any mismatch, an unnamed field
 *   included, is logged at error and answered 500 INTERNAL, so a test that makes the relay send
 *   a shape outside the contract fails.
 * - Production, a field the schema does not name: the answer without it, and a warn line. A
 *   money answer (a purchase that succeeded) is not failed for an extra field, and the field is
 *   never sent: nothing the schema does not name leaves the relay (an internal column cannot
 *   leak by being added to a status object).
 * - Production, a real mismatch (a field missing or of the wrong type): 500 INTERNAL and an
 *   error line. The client parses with the same schema, so sending the shape would only move
 *   the refusal to the client, where it says less; the money is safe either way, because every
 *   state is recorded before it is reported and the client asks again.
 */
export function answerFor(
  check: ContractCheck,
  strict: boolean,
  log: FastifyBaseLogger,
  where: Record<string, unknown>,
): { ok: true; value: unknown } | { ok: false } {
  if (check.ok) return check;
  if (!strict && check.value !== undefined) {
    log.warn({ ...where, issues: check.issues }, `${CONTRACT_VIOLATION} (extra fields dropped)`);
    return { ok: true, value: check.value };
  }
  log.error({ ...where, issues: check.issues }, CONTRACT_VIOLATION);
  return { ok: false };
}

const JSON_SCHEMAS = new Map<string, z.ZodType>();
for (const route of ROUTE_DOCS) {
  if (route.response?.schema && !route.response.contentType) JSON_SCHEMAS.set(`${route.method.toUpperCase()} ${route.path}`, route.response.schema);
}

/**
 * Serialises every JSON answer of `app` through its schema (`answerFor`): an error answer
 * (4xx, 5xx) through the error body, any other through its route's documented answer
 * (openapi-routes.ts; the client API's from shared/relay-api). Streams and text (SSE, metrics,
 * the OpenAPI document) are not JSON objects and pass as they are.
 */
export function serialiseThroughContract(app: FastifyInstance, strict: boolean): void {
  // A callback hook: the check never waits, and an async hook costs a promise per answer (issue 17).
  app.addHook('preSerialization', (req, reply, payload: unknown, done) => {
    const route = req.routeOptions.url;
    const schema = reply.statusCode >= 400 ? ErrorBodySchema : route === undefined ? undefined : JSON_SCHEMAS.get(`${req.method} ${route}`);
    if (!schema) return done(null, payload);
    const answer = answerFor(checkAnswer(schema, payload), strict, reply.log, { method: req.method, route, status: reply.statusCode });
    if (answer.ok) return done(null, answer.value);
    reply.code(500);
    done(null, errorBody('INTERNAL'));
  });
}
