import { DomainError, type ErrorCode } from '@scan-to-bind/shared/domain';
import { ErrorBodySchema } from '@scan-to-bind/shared/relay-api';
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

/**
 * The relay answered 2xx with a body outside the client API (shared/relay-api): refused, never
 * guessed at. Code INTERNAL (nothing the player can fix); `issues` names the fields, for the log.
 */
export class RelayContractError extends RelayError {
  readonly issues: readonly string[];
  constructor(status: number, issues: readonly string[]) {
    super('INTERNAL', status, `relay answer does not match the client API (${issues.join('; ').slice(0, 200)})`);
    this.name = 'RelayContractError';
    this.issues = issues;
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
 * Maps an error answer to the shared vocabulary: the relay's error body (shared/relay-api
 * ErrorBodySchema) gives the code; any other body (a proxy's page, an empty body: not the
 * relay speaking) gets a code from the HTTP status. The relay's message is kept for the log only.
 */
export function httpErrorFrom(status: number, body: string): RelayError {
  let json: unknown = null;
  try {
    json = JSON.parse(body);
  } catch {
    // not JSON: the status decides
  }
  const parsed = ErrorBodySchema.safeParse(json);
  if (!parsed.success) return new RelayError(statusCode(status), status, `HTTP ${status}`);
  return new RelayError(parsed.data.error.code, status, parsed.data.error.message.slice(0, 200) || `HTTP ${status}`);
}

/** Any thrown value as a RelayError. */
export function toRelayError(error: unknown): RelayError {
  if (error instanceof RelayError) return error;
  if (error instanceof TransportError) return new RelayError(transportErrorCode(error), null, error.message);
  if (error instanceof DomainError) return new RelayError(error.code, null, error.message);
  return new RelayError('INTERNAL', null, String(error).slice(0, 200));
}
