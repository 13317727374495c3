import { DomainError, type ErrorCode, errorMessage } from '@scan-to-bind/shared/domain';
import type { FastifyReply } from 'fastify';
import { ZodError } from 'zod';
import { RetryLaterError } from '../ops/overload.ts';

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_INPUT: 400,
  INVALID_MONEY: 400,
  UNKNOWN_CURRENCY: 400,
  DEVICE_NOT_ENROLLED: 401,
  DEVICE_UNAUTHORIZED: 401,
  REQUEST_EXPIRED: 401,
  PLAYER_UNAUTHORIZED: 401,
  NOT_FOUND: 404,
  BINDING_NOT_FOUND: 404,
  REQUEST_REPLAYED: 409,
  IDEMPOTENCY_CONFLICT: 409,
  ILLEGAL_TRANSITION: 409,
  BINDING_NOT_ACTIVE: 409,
  BINDING_EXPIRED: 409,
  BINDING_REVOKED: 409,
  BINDING_FAILED: 409,
  KIOSK_VISIT_ENDED: 409,
  QR_REFRESH_LIMIT: 409,
  QR_EXPIRED: 409,
  WALLET_NOT_AVAILABLE: 422,
  UNKNOWN_SKU: 422,
  CURRENCY_MISMATCH: 422,
  INVALID_QUANTITY: 422,
  BELOW_MIN: 422,
  REFUND_EXCEEDS_PAID: 422,
  REFUND_WINDOW_EXCEEDED: 422,
  CANCEL_NOT_ALLOWED: 422,
  PAYMENT_DECLINED: 422,
  RATE_LIMITED: 429,
  OVERLOADED: 503,
  PROVIDER_ERROR: 502,
  TIMEOUT: 504,
};

/** The HTTP status a DomainError of `code` is answered with. */
export function errorStatus(code: ErrorCode): number {
  return STATUS[code] ?? 400;
}

/** The error body every client endpoint answers with: `{error: {code, message}}`. */
export function errorBody(code: ErrorCode): { error: { code: ErrorCode; message: string } } {
  return { error: { code, message: errorMessage(code, 'en') } };
}

/**
 * The database is unreachable for a moment (restart, failover, a dropped connection): SQLSTATE
 * class 08 (connection exception), 57P01-57P03 (shutdown, cannot connect now), or a socket
 * error from the driver. Nothing was committed, so the client may retry: 503 + Retry-After.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (/^08/u.test(code) || ['57P01', '57P02', '57P03', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE'].includes(code)) return true;
  const message = typeof e?.message === 'string' ? e.message : '';
  return /^Connection terminated|Client has encountered a connection error|Client was closed and is not queryable/u.test(message);
}

/** Sends a typed error for anything thrown by a handler. */
export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isDatabaseUnavailable(err)) {
    reply.log.warn({ code: (err as { code?: unknown }).code }, 'database unavailable');
    return sendError(reply, new RetryLaterError('OVERLOADED', 1));
  }
  if (err instanceof RetryLaterError) reply.header('Retry-After', String(err.retryAfterSeconds));
  if (err instanceof DomainError) return reply.code(errorStatus(err.code)).send(errorBody(err.code));
  if (err instanceof ZodError) return reply.code(400).send(errorBody('INVALID_INPUT'));
  const e = err as { statusCode?: number; code?: string };
  if (e?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send(errorBody('INVALID_INPUT'));
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return reply.code(e.statusCode).send(errorBody('INVALID_INPUT'));
  }
  reply.log.error({ err }, 'unhandled error');
  return reply.code(500).send(errorBody('INTERNAL'));
}
