import type { WalletId } from '@scan-to-bind/shared/domain';
import { type CatalogueItem, contractIssues, type PurchaseRequest, RELAY_ROUTES, type RelayBinding, type RelayPurchase } from '@scan-to-bind/shared/relay-api';
import type { z } from 'zod';
import type { Clock, HttpRequest, Logger, RelayHttp } from '../ports.ts';
import { TransportError } from '../ports.ts';
import { checkRelayUrl } from '../relay-url-policy.ts';
import type { DeviceCredential } from '../vault.ts';
import { type BackoffPolicy, backoffDelay, retryAfterMs } from './backoff.ts';
import { httpErrorFrom, RelayContractError, RelayError, toRelayError } from './errors.ts';
import { signRequest } from './signing.ts';

/** What the player-assertion provider is told each time it is asked. */
export interface PlayerAssertionRequest {
  /** This device's id: the studio puts it in the token's `did` claim (the relay refuses a token without it by default). */
  readonly deviceId: string;
  /** True when the relay has just refused the previous token (expired, say): mint a new one rather than serve a cached one. */
  readonly refresh: boolean;
}

/**
 * The studio's source of player assertions (launchers). Asked before every signed request, so
 * it may cache a token and must hand out a new one before the old one expires; asked once more
 * with `refresh: true` after the relay answers PLAYER_UNAUTHORIZED.
 */
export type PlayerAssertionProvider = (request: PlayerAssertionRequest) => Promise<string | null>;

/** Tuning of the relay client. */
export interface RelayApiOptions {
  readonly http: RelayHttp;
  readonly clock: Clock;
  readonly log: Logger;
  /**
   * Electron's `app.isPackaged`: a packaged build talks to the relay over https only (the rule
   * of relay-url-policy.ts); a refused URL is a RELAY_URL_INSECURE error and no request is sent.
   */
  readonly isPackaged: boolean;
  /** The device credential from the vault (null: not enrolled). */
  readonly credential: () => Promise<DeviceCredential | null>;
  /** The player's JWT from the studio's game server (launchers only). */
  readonly playerAssertion?: PlayerAssertionProvider;
  /** Tells the connectivity monitor about each outcome. */
  readonly onReachability?: (reachable: boolean, offline: boolean) => void;
  readonly timeoutMs?: number;
  readonly retries?: number;
  readonly backoff?: BackoffPolicy;
  readonly random?: () => number;
}

interface CallOptions<S extends z.ZodType> {
  readonly schema: S;
  readonly body?: unknown;
  /** Safe to send again: GET, DELETE, and POSTs the relay makes idempotent by key. */
  readonly idempotent: boolean;
  readonly timeoutMs?: number;
  /** A 404 answers null instead of throwing. */
  readonly notFoundIsNull?: boolean;
}

const RETRY_STATUS = new Set([429, 502, 503, 504]);

/**
 * The relay's client API (relay/README.md "Client API"), over the RelayHttp port. Every
 * request is HMAC-signed with the device credential, fresh per attempt; only idempotent
 * calls are retried (network failures, 429, 502–504, with backoff and Retry-After); every
 * failure becomes a RelayError with a shared error code. Every answer is parsed with its
 * shared/relay-api schema (RELAY_ROUTES); one outside it is a RelayContractError.
 */
export class RelayApi {
  readonly #o: RelayApiOptions;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoff: BackoffPolicy;
  /** Why the last enrolment was refused before sending: shown instead of DEVICE_NOT_ENROLLED. */
  #enrolRefused: RelayError | null = null;

  constructor(options: RelayApiOptions) {
    this.#o = options;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#retries = options.retries ?? 3;
    this.#backoff = options.backoff ?? { baseMs: 250, maxMs: 5_000 };
  }

  /** POST /v1/devices/enroll (unsigned): trades a one-time code for a device credential. */
  async enroll(relayUrl: string, code: string, label?: string): Promise<DeviceCredential> {
    // The code and the secret in the answer must never cross a connection the rule refuses.
    let url: string;
    try {
      url = this.#url(relayUrl, '/v1/devices/enroll').href;
    } catch (error) {
      this.#enrolRefused = toRelayError(error);
      throw this.#enrolRefused;
    }
    const body = JSON.stringify(label ? { code, label } : { code });
    const res = await this.#send({
      method: 'POST',
      url,
      headers: { 'content-type': 'application/json', accept: 'application/json' },
      body,
      timeoutMs: this.#timeoutMs,
    }).catch((e: unknown) => {
      throw toRelayError(e);
    });
    if (res.status < 200 || res.status > 299) throw httpErrorFrom(res.status, res.body);
    const parsed = parseBody(RELAY_ROUTES.enroll.response.schema, res.status, res.body);
    return { relayUrl, ...parsed };
  }

  /** GET /v1/wallets: the ids of the wallets the relay offers. */
  async wallets(): Promise<WalletId[]> {
    const { wallets } = await this.#call('GET', '/v1/wallets', { schema: RELAY_ROUTES.wallets.response.schema, idempotent: true });
    return wallets.map((w) => w.id);
  }

  /** GET /v1/catalogue?currency=… */
  async catalogue(currency: 'HKD' | 'IDR'): Promise<CatalogueItem[]> {
    const { items } = await this.#call('GET', `/v1/catalogue?currency=${currency}`, { schema: RELAY_ROUTES.catalogue.response.schema, idempotent: true });
    return items;
  }

  /**
   * POST /v1/bindings: starts a binding and returns its first QR. Not retried (each call mints
   * a code). A kiosk names its visit (`visitId`).
   */
  createBinding(wallet: WalletId, visitId?: string | null): Promise<RelayBinding> {
    const body = visitId ? { wallet, visitId } : { wallet };
    return this.#call('POST', '/v1/bindings', { schema: RELAY_ROUTES.startBinding.response.schema, body, idempotent: false });
  }

  /** GET /v1/bindings/current (null when the player has none: 404); a kiosk asks for its visit's. */
  currentBinding(visitId?: string | null): Promise<RelayBinding | null> {
    const q = visitId ? `?visitId=${encodeURIComponent(visitId)}` : '';
    return this.#call('GET', `/v1/bindings/current${q}`, {
      schema: RELAY_ROUTES.currentBinding.response.schema.nullable(),
      idempotent: true,
      notFoundIsNull: true,
    });
  }

  /** GET /v1/bindings/:id, optionally long-polling until its version passes `waitForChange`. */
  getBinding(bindingId: string, waitForChange?: number): Promise<RelayBinding> {
    const q = waitForChange === undefined ? '' : `?waitForChange=${waitForChange}`;
    return this.#call('GET', `/v1/bindings/${encodeURIComponent(bindingId)}${q}`, {
      schema: RELAY_ROUTES.binding.response.schema,
      idempotent: true,
      timeoutMs: waitForChange === undefined ? undefined : 40_000,
    });
  }

  /** POST /v1/bindings/:id/refresh-code. Not retried: a retry could spend a second refresh. */
  refreshCode(bindingId: string): Promise<RelayBinding> {
    return this.#call('POST', `/v1/bindings/${encodeURIComponent(bindingId)}/refresh-code`, {
      schema: RELAY_ROUTES.refreshCode.response.schema,
      idempotent: false,
    });
  }

  /** POST /v1/bindings/:id/withdraw: withdraws a pending QR. Withdrawing twice changes nothing, so it is retried. */
  withdraw(bindingId: string): Promise<RelayBinding> {
    return this.#call('POST', `/v1/bindings/${encodeURIComponent(bindingId)}/withdraw`, {
      schema: RELAY_ROUTES.withdraw.response.schema,
      idempotent: true,
    });
  }

  /** DELETE /v1/bindings/:id: unlink, which revokes the token at Antom. */
  revoke(bindingId: string): Promise<RelayBinding> {
    return this.#call('DELETE', `/v1/bindings/${encodeURIComponent(bindingId)}`, {
      schema: RELAY_ROUTES.unlink.response.schema,
      idempotent: true,
    });
  }

  /** POST /v1/kiosk/visits: the kiosk's new visit; the relay ends older visits' bindings. Idempotent, so retried. */
  rotateVisit(visitId: string): Promise<{ visitId: string }> {
    return this.#call('POST', '/v1/kiosk/visits', { schema: RELAY_ROUTES.rotateVisit.response.schema, body: { visitId }, idempotent: true });
  }

  /** POST /v1/purchases: idempotent by purchaseIntentId (same id + same body → same purchase), so it is retried. */
  createPurchase(body: PurchaseRequest): Promise<RelayPurchase> {
    return this.#call('POST', '/v1/purchases', { schema: RELAY_ROUTES.createPurchase.response.schema, body, idempotent: true });
  }

  /** GET /v1/purchases/:intentId (null when the relay never received it). */
  getPurchase(intentId: string): Promise<RelayPurchase | null> {
    return this.#call('GET', `/v1/purchases/${encodeURIComponent(intentId)}`, {
      schema: RELAY_ROUTES.purchase.response.schema.nullable(),
      idempotent: true,
      notFoundIsNull: true,
    });
  }

  /** GET /v1/purchases?pending=true. */
  async pendingPurchases(): Promise<RelayPurchase[]> {
    const { purchases } = await this.#call('GET', '/v1/purchases?pending=true', { schema: RELAY_ROUTES.purchases.response.schema, idempotent: true });
    return purchases;
  }

  /** Opens GET /v1/events (SSE), signed; the status stream reconnects around it. */
  async openEvents(signal: AbortSignal, lastEventId: string | null): Promise<AsyncIterable<string>> {
    const cred = await this.#requireCredential();
    const url = this.#url(cred.relayUrl, '/v1/events');
    const headers = await this.#headers(cred, 'GET', url, '');
    headers.accept = 'text/event-stream';
    if (lastEventId) headers['Last-Event-ID'] = lastEventId;
    return this.#o.http.stream({ url: url.href, headers, signal, connectTimeoutMs: this.#timeoutMs });
  }

  /** The URL of `path` on the relay, if the relay URL passes the rule; else RELAY_URL_INSECURE. */
  #url(relayUrl: string, path: string): URL {
    const verdict = checkRelayUrl(relayUrl, this.#o.isPackaged);
    if (!verdict.ok) {
      this.#o.log.error('relay URL refused', { reason: verdict.reason });
      throw new RelayError('RELAY_URL_INSECURE', null, verdict.reason);
    }
    return urlFor(relayUrl, path);
  }

  async #requireCredential(): Promise<DeviceCredential> {
    const cred = await this.#o.credential();
    // Not enrolled because the relay URL was refused: say that (the operator can fix it).
    if (!cred) throw this.#enrolRefused ?? new RelayError('DEVICE_NOT_ENROLLED', null, 'no device credential');
    return cred;
  }

  async #headers(cred: DeviceCredential, method: string, url: URL, rawBody: string, refresh = false): Promise<Record<string, string>> {
    // The assertion is fetched before signing: the signature covers it (relay/README.md).
    const playerAssertion = cred.kind === 'launcher' && this.#o.playerAssertion ? await this.#o.playerAssertion({ deviceId: cred.deviceId, refresh }) : null;
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...signRequest(cred, { method, pathWithQuery: url.pathname + url.search, rawBody, playerAssertion }, this.#o.clock.now()),
    };
    if (rawBody !== '') headers['content-type'] = 'application/json';
    return headers;
  }

  async #send(req: HttpRequest) {
    try {
      const res = await this.#o.http.request(req);
      this.#o.onReachability?.(res.status < 500 || res.status === 503, false);
      return res;
    } catch (error) {
      if (error instanceof TransportError) this.#o.onReachability?.(false, error.kind === 'offline');
      throw error;
    }
  }

  async #call<S extends z.ZodType>(method: HttpRequest['method'], path: string, o: CallOptions<S>): Promise<z.output<S>> {
    const cred = await this.#requireCredential();
    const url = this.#url(cred.relayUrl, path);
    const rawBody = o.body === undefined ? '' : JSON.stringify(o.body);
    let refreshAssertion = false;
    for (let attempt = 0; ; attempt++) {
      let wait: number | null = null;
      let failure: RelayError;
      try {
        const headers = await this.#headers(cred, method, url, rawBody, refreshAssertion);
        const res = await this.#send({
          method,
          url: url.href,
          headers,
          body: rawBody === '' ? undefined : rawBody,
          timeoutMs: o.timeoutMs ?? this.#timeoutMs,
        });
        if (res.status >= 200 && res.status < 300) return parseBody(o.schema, res.status, res.body);
        if (res.status === 404 && o.notFoundIsNull) return o.schema.parse(null);
        failure = httpErrorFrom(res.status, res.body);
        // A refused assertion (expired, most often) is asked for anew once and the request sent
        // again at once; safe for any call, because a request refused at authentication
        // recorded nothing on the relay.
        if (failure.code === 'PLAYER_UNAUTHORIZED' && !refreshAssertion && cred.kind === 'launcher' && this.#o.playerAssertion) {
          refreshAssertion = true;
          attempt--;
          continue;
        }
        if (!RETRY_STATUS.has(res.status)) throw failure;
        wait = retryAfterMs(res.headers['retry-after'], this.#o.clock.now(), this.#backoff.maxMs * 4);
      } catch (error) {
        failure = toRelayError(error);
        const retryable = error instanceof TransportError && error.kind !== 'aborted';
        if (!(error instanceof RelayError && RETRY_STATUS.has(error.status ?? 0)) && !retryable) throw failure;
      }
      if (!o.idempotent || attempt >= this.#retries) throw failure;
      const delay = wait ?? backoffDelay(this.#backoff, attempt, this.#o.random);
      this.#o.log.debug('relay retry', { method, path: url.pathname, attempt: attempt + 1, delay, code: failure.code });
      await new Promise<void>((resolve) => this.#o.clock.setTimeout(resolve, delay));
    }
  }
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}

function urlFor(relayUrl: string, path: string): URL {
  return new URL(path.replace(/^\/+/, ''), withSlash(relayUrl));
}

/** A 2xx body read with its route's shared/relay-api schema; anything else is a RelayContractError. */
function parseBody<S extends z.ZodType>(schema: S, status: number, body: string): z.output<S> {
  let json: unknown;
  try {
    json = body === '' ? null : JSON.parse(body);
  } catch {
    throw new RelayContractError(status, ['(body is not JSON)']);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new RelayContractError(status, contractIssues(parsed.error));
  return parsed.data;
}
