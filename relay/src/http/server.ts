import { DomainError } from '@scan-to-bind/shared/domain';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest, LogController } from 'fastify';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Caller } from '../devices/device-service.ts';
import { RetryLaterError } from '../ops/overload.ts';
import { sendError } from './errors.ts';
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
  #refused: Record<string, number> = {};
  #firstAt = 0;
  #loggedAt = Number.NEGATIVE_INFINITY;

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
    const now = Date.now();
    if (Object.keys(this.#refused).length === 0) this.#firstAt = now;
    const key = String(reply.statusCode);
    this.#refused[key] = (this.#refused[key] ?? 0) + 1;
    if (now - this.#loggedAt < REFUSAL_SUMMARY_MS) return;
    reply.log.warn({ refused: this.#refused, sinceMs: now - this.#firstAt }, 'requests refused');
    this.#refused = {};
    this.#loggedAt = now;
  }
}

/**
 * A request refused before its body was read (admission, rate limits, the start gate: onRequest
 * hooks) has its body left unparsed. Node reads and discards what is left of it after the answer
 * so the kept-alive connection stays usable; that is cheap up to BODY_LIMIT, the most the relay
 * would have read anyway. A body declared larger, or of unknown length (chunked), would make the
 * relay read it all for nothing, so that connection is closed after the answer instead.
 */
function keepOrCloseUnread(req: FastifyRequest, reply: FastifyReply): void {
  if (req.raw.complete) return;
  const declared = req.headers['content-length'];
  if (declared === undefined ? req.headers['transfer-encoding'] !== undefined : !(Number(declared) <= BODY_LIMIT)) reply.header('Connection', 'close');
}

/**
 * The Fastify instance with the relay's body handling: JSON is read as raw bytes (kept for
 * signature checks) and parsed strictly, bodies are capped at 16 KB, every error is typed, and
 * every JSON answer is serialised through its schema (response-contract.ts; `strictResponses`:
 * a mismatch is a 500, as the tests run).
 */
export function createServer(logger: Logger, options: { trustProxy?: string; strictResponses?: boolean } = {}): FastifyInstance {
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
    logController: new RequestLogLevels(),
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
    keepOrCloseUnread(req, reply);
    return sendError(reply, err);
  });
  app.setNotFoundHandler((_req, reply) => sendError(reply, new DomainError('NOT_FOUND')));
  // Shutdown (the relay's drain, relay/src/index.ts): in-flight requests run to their outcome,
  // while a request arriving on a connection still open gets 503 OVERLOADED with Retry-After, the
  // answer of every other refusal (clients retry it, on another relay behind a balancer). The
  // first root hook, so it runs before admission and every context's hooks; a callback hook that
  // reads one flag is all it adds to a request.
  let draining = false;
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
    draining = true;
    setTimeout(() => setImmediate(closeSilent), SILENT_CLOSE_MS).unref();
    done();
  });
  app.addHook('onRequest', function draining503(_req, _reply, done) {
    if (draining) return done(new RetryLaterError('OVERLOADED', 1));
    done();
  });
  // A request in flight when the drain began keeps its kept-alive connection after its answer
  // (Node closes only the connections idle when the close starts), which held the close until
  // the grace ran out (closeWithin): its answer closes the connection instead, so the drain ends
  // with the last request in flight.
  app.addHook('onSend', function drainingClose(_req, reply, payload, done) {
    if (draining) reply.header('Connection', 'close');
    done(null, payload);
  });
  return app;
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
