import { DomainError, type ErrorCode, isErrorCode } from '@scan-to-bind/shared/domain';
import { TransportError } from '../ports.ts';

/** An error from the relay or the way to it, carrying a shared error code. */
export class RelayError extends DomainError {
  /** HTTP status, or null when there was no answer. */
  readonly status: number | null;
  constructor(code: ErrorCode, status: number | null, detail?: string) {
    super(code, detail);
    this.name = 'RelayError';
    this.status = status;
  }
}

/** Maps a transport failure: no route or DNS → OFFLINE, refused/reset/TLS → RELAY_UNAVAILABLE, timeout → TIMEOUT. */
export function transportErrorCode(error: TransportError): ErrorCode {
  switch (error.kind) {
    case 'offline':
      return 'OFFLINE';
    case 'timeout':
      return 'TIMEOUT';
    default:
      return 'RELAY_UNAVAILABLE';
  }
}

function statusCode(status: number): ErrorCode {
  if (status === 400 || status === 422) return 'INVALID_INPUT';
  if (status === 401) return 'DEVICE_UNAUTHORIZED';
  if (status === 403) return 'DEVICE_UNAUTHORIZED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 409) return 'IDEMPOTENCY_CONFLICT';
  if (status === 408 || status === 504) return 'TIMEOUT';
  if (status === 429) return 'RATE_LIMITED';
  if (status === 503) return 'OVERLOADED';
  if (status >= 500) return 'RELAY_UNAVAILABLE';
  return 'INTERNAL';
}

/**
 * Maps a relay error answer to the shared vocabulary: the body's `{error:{code}}` when it is a
 * known code, else a code from the HTTP status. The relay's message is kept for the log only.
 */
export function httpErrorFrom(status: number, body: string): RelayError {
  let code: ErrorCode | null = null;
  let message = '';
  try {
    const parsed = JSON.parse(body) as { error?: { code?: unknown; message?: unknown } };
    if (isErrorCode(parsed?.error?.code)) code = parsed.error.code;
    if (typeof parsed?.error?.message === 'string') message = parsed.error.message.slice(0, 200);
  } catch {
    // not JSON: a proxy page or an empty body; the status decides
  }
  return new RelayError(code ?? statusCode(status), status, message || `HTTP ${status}`);
}

/** Any thrown value as a RelayError. */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof TransportError) return new RelayError(transportErrorCode(error), null, error.message);
  if (error instanceof DomainError) return new RelayError(error.code, null, error.message);
  return new RelayError('INTERNAL', null, String(error).slice(0, 200));
}
