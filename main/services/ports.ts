/*
 * The ports services depend on. Adapters in main/adapters implement them with keytar,
 * electron-store, got and the file system; tests use the fakes in test/fakes.
 */

/** The OS keychain (keytar today, safeStorage later). Failures throw; there is no fallback. */
export interface SecretStore {
  get(service: string, account: string): Promise<string | null>;
  set(service: string, account: string, secret: string): Promise<void>;
  delete(service: string, account: string): Promise<boolean>;
}

/** A JSON document of non-secret settings (electron-store). */
export interface SettingsStore {
  /** The stored document; unknown because a user may have edited the file. */
  load(): unknown;
  save(value: Readonly<Record<string, unknown>>): void;
}

/** Time and timers, injectable so idle timers and backoff run without sleeping in tests. */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Structured log sink; the adapter redacts secrets before writing. */
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One HTTP request to the relay, already signed. */
export interface HttpRequest {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
}

/** The raw answer; transport failures are thrown as {@link TransportError}. */
export interface HttpResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: string;
}

/** Why a request got no HTTP answer. */
export type TransportFailure = 'offline' | 'refused' | 'timeout' | 'reset' | 'tls' | 'aborted';

/** A request that got no HTTP answer at all. */
export class TransportError extends Error {
  readonly kind: TransportFailure;
  constructor(kind: TransportFailure, detail?: string) {
    super(detail ? `${kind}: ${detail}` : kind);
    this.name = 'TransportError';
    this.kind = kind;
  }
}

/** HTTP to the relay (got). */
export interface RelayHttp {
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Opens a streaming GET (Server-Sent Events); yields text chunks until the server closes or `signal` aborts. */
  stream(request: Omit<HttpRequest, 'method' | 'body' | 'timeoutMs'> & { signal: AbortSignal; connectTimeoutMs: number }): AsyncIterable<string>;
}

/**
 * Durable storage of purchase intents that have no final result yet. Operations take effect in
 * the order they are called (a removal called after a put that has not resolved yet follows
 * it): the purchase service starts a put without awaiting it (issue 17, #6).
 */
export interface PendingIntentStore<T> {
  list(): Promise<T[]>;
  put(id: string, value: T): Promise<void>;
  remove(id: string): Promise<void>;
}

/** Durable storage of the kiosk's visit document (its id and its relay outbox). */
export interface KioskVisitStore {
  /** The stored document, or null when there is none; unknown because it is read from disk. */
  load(): Promise<unknown>;
  /** Replaces the document; resolves once it is on disk (a crash after it keeps it). */
  save(doc: Readonly<Record<string, unknown>>): Promise<void>;
}

/** The system clock and timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};
