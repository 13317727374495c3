import { DomainError } from '@scan-to-bind/shared/domain';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Caller } from '../devices/device-service.ts';
import { type Refusal, RetryLaterError } from '../ops/overload.ts';
import { errorBody, errorStatus, sendError } from './errors.ts';
import { serialiseThroughContract } from './response-contract.ts';

/** Largest request body the relay reads (16 KB). */
export const BODY_LIMIT = 16 * 1024;

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes received (signatures are checked over these, never a re-serialisation). */
    rawBody: Buffer;
    /** Set by the signed-device context's `deviceSignature` hook (device-auth.ts). */
    caller: Caller | undefined;
  }
}

/** How long the drain waits for a connection that has sent nothing to start a request before closing it. */
export const SILENT_CLOSE_MS = 1_000;

/** Refusals (429/503) are summed into one warn line per this many milliseconds at most. */
export const REFUSAL_SUMMARY_MS = 10_000;

/**
 * Fastify's per-request log lines, with successful calls at debug: "incoming request" always,
 * "request completed" when the answer is < 400 (two info lines per request were a measurable
 * share of the pay path, bench #1 in docs/benchmarks.md). Answers ≥ 400 stay at info (with the
 * request's method and URL), errors at error; money state changes are logged at info by the
 * services (antom call, antom notification, fulfilment, cancellation).
 *
 * Refusals under load (429 RATE_LIMITED, 503 OVERLOADED) are the exception: one line each
 * would flood the log exactly when the relay is busiest (bench #3), so they are logged at
 * debug and summed into one warn line, "requests refused", at most every 10 s (emitted with
 * the next refusal after the window; `relay_rejected_total` counts every one).
 */
class RequestLogLevels extends LogController {
  constructor(private readonly refusals: RefusalSummary) {
    super();
  }

  override incomingRequest(request: FastifyRequest): void {
    request.log.debug({ req: request }, 'incoming request');
  }

  override requestCompleted(error: Error | null | undefined, request: FastifyRequest, reply: FastifyReply): void {
    const status = reply.statusCode;
    if (status === 429 || status === 503) this.#refusal(request, reply);
    else if (error) super.requestCompleted(error, request, reply);
    // The request itself goes with the line now that "incoming request" is at debug.
    else if (status >= 400) reply.log.info({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request completed');
    else reply.log.debug({ res: reply, responseTime: reply.elapsedTime }, 'request completed');
  }

  #refusal(request: FastifyRequest, reply: FastifyReply): void {
    reply.log.debug({ req: request, res: reply, responseTime: reply.elapsedTime }, 'request refused');
    this.refusals.count(reply.statusCode, reply.log);
  }
}

/** The "requests refused" warn line (RequestLogLevels): refusals counted by status, one line per REFUSAL_SUMMARY_MS at most. */
class RefusalSummary {
  #refused: Record<string, number> = {};
  #firstAt = 0;
  #loggedAt = Number.NEGATIVE_INFINITY;

  count(status: number, log: Pick<Logger, 'warn'>): void {
    const now = Date.now();
    if (Object.keys(this.#refused).length === 0) this.#firstAt = now;
    const key = String(status);
    this.#refused[key] = (this.#refused[key] ?? 0) + 1;
    if (now - this.#loggedAt < REFUSAL_SUMMARY_MS) return;
    log.warn({ refused: this.#refused, sinceMs: now - this.#firstAt }, 'requests refused');
    this.#refused = {};
    this.#loggedAt = now;
  }
}

/** What a server made by createServer shares with its front door (answerEarly). */
interface ServerState {
  log: Logger;
  draining: boolean;
  refusals: RefusalSummary;
}
const states = new WeakMap<FastifyInstance, ServerState>();

/**
 * Whether the answer to `raw` must close its connection. A request refused before its body was
 * read (admission, rate limits, the start gate: onRequest hooks or the front door) has its body
 * left unparsed. Node reads and discards what is left of it after the answer so the kept-alive
 * connection stays usable; that is cheap up to BODY_LIMIT, the most the relay would have read
 * anyway. A body declared larger, or of unknown length (chunked), would make the relay read it
 * all for nothing, so that connection is closed after the answer instead.
 */
function closesUnread(raw: IncomingMessage): boolean {
  if (raw.complete) return false;
  const declared = raw.headers['content-length'];
  return declared === undefined ? raw.headers['transfer-encoding'] !== undefined : !(Number(declared) <= BODY_LIMIT);
}

/**
 * The Fastify instance with the relay's body handling: JSON is read as raw bytes (kept for
 * signature checks) and parsed strictly, bodies are capped at 16 KB, every error is typed, and
 * every JSON answer is serialised through its schema (response-contract.ts; `strictResponses`:
 * a mismatch is a 500, as the tests run).
 */
export function createServer(logger: Logger, options: { trustProxy?: string; strictResponses?: boolean } = {}): FastifyInstance {
  const state: ServerState = { log: logger, draining: false, refusals: new RefusalSummary() };
  const app = Fastify({
    // X-Forwarded-For is believed only from the configured proxies (limits.trustProxy), so a
    // client cannot pick the address its enrolment attempts are counted against.
    trustProxy: options.trustProxy ? options.trustProxy : false,
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    // Requests arriving while the server closes are refused by the `draining` hook below, with
    // the relay's typed error; Fastify's own 503 has a body of its own shape (and still sets
    // `Connection: close` on them, which is kept).
    return503OnClosing: false,
    logController: new RequestLogLevels(state.refusals),
    // Errors raised before routing (a malformed %-escape in the path: FST_ERR_BAD_URL) get the
    // same typed body as every other error, not Fastify's default (which echoes the URL).
    frameworkErrors: (err, _req, reply) => sendError(reply, err),
  });
  const empty = Buffer.alloc(0);
  const bodies = new WeakMap<object, Buffer>();
  app.decorateRequest('rawBody', {
    getter(this: FastifyRequest) {
      return bodies.get(this) ?? empty;
    },
    setter(this: FastifyRequest, value: Buffer) {
      bodies.set(this, value);
    },
  });
  app.decorateRequest('caller', undefined);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (req, body, done) => {
    const raw = body as Buffer;
    req.rawBody = raw;
    if (raw.length === 0) return done(null, undefined);
    try {
      done(null, JSON.parse(raw.toString('utf8')) as unknown);
    } catch {
      done(new DomainError('INVALID_INPUT', 'body is not JSON'), undefined);
    }
  });
  serialiseThroughContract(app, options.strictResponses ?? false);
  app.setErrorHandler((err, req, reply) => {
    if (closesUnread(req.raw)) reply.header('Connection', 'close');
    return sendError(reply, err);
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, new DomainError('NOT_FOUND')));
  // Shutdown (the relay's drain, relay/src/index.ts): in-flight requests run to their outcome,
  // while a request arriving on a connection still open gets 503 OVERLOADED with Retry-After, the
  // answer of every other refusal (clients retry it, on another relay behind a balancer). The
  // first root hook, so it runs before admission and every context's hooks; a callback hook that
  // reads one flag is all it adds to a request.
  // Connections that have not sent a byte yet: a client pool's spare, a balancer's warm connection.
  // Node counts a connection as busy from its accept until its first request has arrived, so its
  // close left such a connection open until the client gave up or the grace ran out (closeWithin).
  // The drain gives them SILENT_CLOSE_MS to start a request (one on its way arrives within a
  // round trip, and gets the 503 below), then closes those still silent. The check runs after
  // the loop's poll phase (setImmediate), so bytes waiting in the kernel are read first even
  // when the event loop ran late.
  const connections = new Set<Socket>();
  app.server.on('connection', (socket: Socket) => {
    connections.add(socket);
    socket.once('close', () => connections.delete(socket));
  });
  const closeSilent = () => {
    for (const socket of connections) if (socket.bytesRead === 0) socket.destroy();
  };
  app.addHook('preClose', (done) => {
    state.draining = true;
    setTimeout(() => setImmediate(closeSilent), SILENT_CLOSE_MS).unref();
    done();
  });
  app.addHook('onRequest', function draining503(_req, _reply, done) {
    if (state.draining) return done(new RetryLaterError('OVERLOADED', 1));
    done();
  });
  // A request in flight when the drain began keeps its kept-alive connection after its answer
  // (Node closes only the connections idle when the close starts), which held the close until
  // the grace ran out (closeWithin): its answer closes the connection instead, so the drain ends
  // with the last request in flight.
  app.addHook('onSend', function drainingClose(_req, reply, payload, done) {
    if (state.draining) reply.header('Connection', 'close');
    done(null, payload);
  });
  states.set(app, state);
  return app;
}

/**
 * The front door of a listener made by createServer, for one route (issue 17, #3: refusals in
 * 10 ms under a 10× overload). `refuse` reads the raw request of `route` as Node hands it over,
 * before Fastify makes a request of it, and returns the refusal the route's onRequest hooks would
 * answer it with now, or undefined. A refusal is answered here, with what the hooks' answer has:
 * status, `Retry-After`, the typed body, `Connection: close` when an unread body is too large to
 * skip, the "requests refused" summary line, and `answered` (request metrics). Every other
 * request goes on to Fastify, whose hooks still check it: the front door only answers sooner
 * what they would answer.
 *
 * Fastify's path (its request and reply, routing, hooks, error handler, contract serialiser, log
 * controller) was about a quarter of a refusal's relay CPU; Node's HTTP and the kernel's loopback
 * are most of the rest (docs/benchmarks.md, issue 17's tenth session). While the listener drains,
 * every request goes to Fastify (draining503).
 */
export function answerEarly(
  app: FastifyInstance,
  route: { method: string; url: string },
  refuse: (raw: IncomingMessage) => Refusal | undefined,
  answered: (status: number, seconds: number) => void,
): void {
  const state = states.get(app);
  const handlers = app.server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
  const fastifyHandler = handlers[0];
  if (!state || !fastifyHandler || handlers.length !== 1) throw new Error('answerEarly: not a listener made by createServer, or one with a front door already');
  const bodies = new Map<string, Buffer>();
  const server = app.server;
  server.removeListener('request', fastifyHandler);
  server.on('request', function frontDoor(req: IncomingMessage, res: ServerResponse): void {
    const t0 = performance.now();
    const url = req.url ?? '';
    const query = url.indexOf('?');
    let refusal: Refusal | undefined;
    try {
      refusal = !state.draining && req.method === route.method && (query < 0 ? url : url.slice(0, query)) === route.url ? refuse(req) : undefined;
    } catch (err) {
      // Never a crash from here (a 'request' listener's throw would end the process): Fastify
      // handles the request, and its hooks answer as they would without a front door.
      state.log.error({ err }, 'front door failed; the request goes on to Fastify');
    }
    if (!refusal) {
      fastifyHandler.call(server, req, res);
      return;
    }
    let body = bodies.get(refusal.code);
    if (!body) {
      body = Buffer.from(JSON.stringify(errorBody(refusal.code)));
      bodies.set(refusal.code, body);
    }
    const status = errorStatus(refusal.code);
    const headers: OutgoingHttpHeaders = {
      'retry-after': String(refusal.retryAfterSeconds),
      'content-type': 'application/json; charset=utf-8',
      'content-length': body.length,
    };
    if (closesUnread(req)) headers['connection'] = 'close';
    res.writeHead(status, headers);
    res.end(body);
    if (state.log.isLevelEnabled('debug')) state.log.debug({ req: { method: req.method, url }, res: { statusCode: status } }, 'request refused');
    state.refusals.count(status, state.log);
    answered(status, (performance.now() - t0) / 1000);
  });
}

/**
 * Closes a listener made by createServer within `graceMs`: requests in flight run to their
 * outcome, and whatever connection is still open at the end of the grace is closed. Without the
 * bound a listener's close waits for every open connection: a kept-alive one whose request was in
 * flight when the close began (Node closes only the connections idle at that moment), or one with
 * a request half sent, holds it for the keep-alive timeout or for ever, and the relay's shutdown
 * with it (operators stop a relay that never finishes closing by force).
 */
export async function closeWithin(app: FastifyInstance, graceMs: number): Promise<void> {
  const grace = setTimeout(() => app.server.closeAllConnections(), Math.max(0, graceMs));
  grace.unref();
  try {
    await app.close();
  } finally {
    clearTimeout(grace);
  }
}
