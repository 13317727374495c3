import type { KeyObject } from 'node:crypto';
import { type ClientRequest, Agent as HttpAgent, type IncomingHttpHeaders, type IncomingMessage, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { antomBaseUrlProblem, isSandboxClientId } from './base-url.ts';
import { type AntomApis, type AntomEndpoint, type AntomOutcome, type AntomReply, type AntomResult, readOutcome } from './endpoints.ts';
import { parseSignatureHeader, signatureHeader, signBase64Async, signContent, verifyBase64 } from './signature.ts';

/** The production path of each Antom API the relay calls. */
export const ANTOM_ENDPOINTS = {
  consult: '/ams/api/v1/authorizations/consult',
  applyToken: '/ams/api/v1/authorizations/applyToken',
  revoke: '/ams/api/v1/authorizations/revoke',
  pay: '/ams/api/v1/payments/pay',
  inquiryPayment: '/ams/api/v1/payments/inquiryPayment',
  cancel: '/ams/api/v1/payments/cancel',
  refund: '/ams/api/v1/payments/refund',
  inquiryRefund: '/ams/api/v1/payments/inquiryRefund',
  declare: '/ams/api/v1/customs/declare',
  inquiryDeclarationRequests: '/ams/api/v1/customs/inquiryDeclarationRequests',
} as const satisfies Record<AntomEndpoint, string>;

/** Everything the client needs; keys are parsed once, at start. */
export interface AntomClientOptions {
  baseUrl: string;
  clientId: string;
  keyVersion: string;
  merchantPrivateKey: KeyObject;
  antomPublicKey: KeyObject;
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  /** Told of every call's outcome (`resultCode`, or `unknown:<reason>`) and duration, for metrics. */
  onCall?: (endpoint: AntomEndpoint, result: string, ms: number) => void;
}

/** Longest answer body read from Antom. */
const MAX_ANSWER_BYTES = 1 << 20;

/**
 * Codes Antom answers without a signature header: it refused the request before any
 * processing. Such an answer is still unknown, not a refusal: anyone between the
 * relay and Antom can write it, and taking it as a final F would mark a debited pay FAILED
 * (issue 14 §5). It is only told apart in the log, where it most often means wrong keys.
 */
const UNSIGNED_REFUSALS = new Set(['INVALID_SIGNATURE', 'SIGNATURE_INVALID', 'KEY_NOT_FOUND', 'CLIENT_INVALID']);

/** The path actually called: sandbox client ids use `/ams/sandbox/api/...`, as Antom's SDKs do. */
export function antomPath(endpoint: AntomEndpoint, clientId: string): string {
  const path = ANTOM_ENDPOINTS[endpoint];
  return isSandboxClientId(clientId) ? path.replace('/ams/api', '/ams/sandbox/api') : path;
}

function parseResult(body: unknown): AntomResult | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const result = (body as Record<string, unknown>)['result'];
  if (typeof result !== 'object' || result === null) return undefined;
  const { resultStatus, resultCode, resultMessage } = result as Record<string, unknown>;
  if (resultStatus !== 'S' && resultStatus !== 'F' && resultStatus !== 'U') return undefined;
  if (typeof resultCode !== 'string') return undefined;
  return { resultStatus, resultCode, ...(typeof resultMessage === 'string' ? { resultMessage } : {}) };
}

/** An answer as read off the wire. */
interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Where the state of one POST hangs on its request and response objects. */
const EXCHANGE = Symbol('antom exchange');

/**
 * The state of one POST (AntomClient.#post). Its listeners are the module-level functions
 * below, which find it on the request or response they are called on: no closures are made
 * per call (issue 17, the pay path).
 */
interface Exchange {
  req: ClientRequest;
  resolve: (answer: RawAnswer) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout | undefined;
  timeoutMs: number;
  chunks: Buffer[];
  size: number;
}
type Carrier = { [EXCHANGE]?: Exchange };

function exchangeOf(emitter: object): Exchange {
  return (emitter as Carrier)[EXCHANGE] as Exchange;
}

function failExchange(ex: Exchange, err: Error): void {
  clearTimeout(ex.timer);
  ex.reject(err);
}

function onRequestError(this: ClientRequest, err: Error): void {
  failExchange(exchangeOf(this), err);
}

function onResponse(this: ClientRequest, res: IncomingMessage): void {
  (res as Carrier)[EXCHANGE] = exchangeOf(this);
  res.on('data', onAnswerData);
  res.on('end', onAnswerEnd);
  res.on('error', onAnswerError);
  res.on('aborted', onAnswerAborted);
}

function onAnswerData(this: IncomingMessage, chunk: Buffer): void {
  const ex = exchangeOf(this);
  ex.size += chunk.length;
  if (ex.size > MAX_ANSWER_BYTES) ex.req.destroy(new Error('answer larger than 1 MiB'));
  else ex.chunks.push(chunk);
}

function onAnswerEnd(this: IncomingMessage): void {
  const ex = exchangeOf(this);
  clearTimeout(ex.timer);
  ex.resolve({ status: this.statusCode ?? 0, headers: this.headers, text: Buffer.concat(ex.chunks).toString('utf8') });
}

function onAnswerError(this: IncomingMessage, err: Error): void {
  failExchange(exchangeOf(this), err);
}

function onAnswerAborted(this: IncomingMessage): void {
  failExchange(exchangeOf(this), new Error('answer aborted'));
}

/** A single-valued answer header. */
function one(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return typeof v === 'string' ? v : undefined;
}

function onExchangeTimeout(ex: Exchange): void {
  const e = new Error(`no answer within ${ex.timeoutMs} ms`);
  e.name = 'TimeoutError';
  ex.req.destroy(e);
}

/**
 * The signed Antom client. Every request is signed with Antom's RSA256 message signature; every
 * response signature is verified with Antom's public key. A call is sent once: this client never
 * re-sends a POST by itself. Callers decide, per API, whether and how to retry (same request id,
 * or an inquiry instead).
 */
export class AntomClient {
  readonly #o: AntomClientOptions;
  /** Antom's address, read out of the URL once (its getters cost on every call). */
  readonly #target: { protocol: string; hostname: string; port: string; prefix: string; agent: HttpAgent; send: typeof httpRequest };

  constructor(options: AntomClientOptions) {
    this.#o = { ...options, baseUrl: options.baseUrl.replace(/\/+$/u, '') };
    const url = new URL(this.#o.baseUrl);
    // The config refuses it already (config.ts); checked again for whoever builds a client directly.
    const problem = antomBaseUrlProblem(this.#o.baseUrl, this.#o.clientId);
    if (problem) throw new Error(problem);
    const https = url.protocol === 'https:';
    // Kept-alive connections, dropped by us after 4 s idle, before a server would close them
    // (Node's default is 5 s): a POST is never re-sent, so a connection the server closed under
    // us would turn a pay into an inquiry. Node also honours the server's `Keep-Alive: timeout`.
    const agentOptions = { keepAlive: true, timeout: 4_000, scheduling: 'lifo' as const };
    this.#target = {
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port,
      prefix: url.pathname.replace(/\/+$/u, ''),
      agent: https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions),
      send: https ? (httpsRequest as typeof httpRequest) : httpRequest,
    };
  }

  /** Closes the kept-alive connections (relay shutdown). */
  close(): void {
    this.#target.agent.destroy();
  }

  /** Calls one Antom API with its typed request; its answer is read once into the API's outcome (endpoints.ts). */
  async call<E extends AntomEndpoint>(endpoint: E, request: AntomApis[E]['request']): Promise<AntomOutcome<AntomApis[E]['answer']>> {
    return readOutcome(endpoint, await this.send(endpoint, request));
  }

  /**
   * Sends one signed request and verifies the answer: the transport level under `call`, for
   * any payload. Never throws for transport failures.
   */
  async send(endpoint: AntomEndpoint, payload: object): Promise<AntomReply> {
    const started = Date.now();
    const reply = await this.#send(endpoint, payload);
    this.#o.onCall?.(endpoint, reply.kind === 'answer' ? reply.result.resultCode : `unknown:${reply.reason}`, Date.now() - started);
    return reply;
  }

  async #send(endpoint: AntomEndpoint, payload: object): Promise<AntomReply> {
    const { clientId, keyVersion, merchantPrivateKey, logger } = this.#o;
    const path = antomPath(endpoint, clientId);
    const body = JSON.stringify(payload);
    const requestTime = String(this.#o.clock.now());
    const signature = await signBase64Async(merchantPrivateKey, signContent('POST', path, clientId, requestTime, body));
    const started = Date.now();
    let response: RawAnswer;
    try {
      response = await this.#post(path, body, {
        'Content-Type': 'application/json; charset=UTF-8',
        'Client-Id': clientId,
        'Request-Time': requestTime,
        Signature: signatureHeader(keyVersion, signature),
      });
    } catch (err) {
      const e = err as Error;
      const reason = e.name === 'TimeoutError' ? 'timeout' : 'network';
      logger.warn({ endpoint, reason, ms: Date.now() - started }, 'antom call without answer');
      return { kind: 'unknown', reason, detail: e.message };
    }
    const { text } = response;
    const ms = Date.now() - started;
    if (response.status !== 200) {
      logger.warn({ endpoint, httpStatus: response.status, ms }, 'antom http error');
      return { kind: 'unknown', reason: 'http', detail: `HTTP ${response.status}` };
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      return { kind: 'unknown', reason: 'malformed', detail: 'response is not JSON' };
    }
    const result = parseResult(parsed);
    if (!result) return { kind: 'unknown', reason: 'malformed', detail: 'response has no result' };
    const verified = this.#verifyResponse(path, response.headers, text);
    if (verified === 'missing' && result.resultStatus === 'F' && UNSIGNED_REFUSALS.has(result.resultCode)) {
      logger.error(
        { endpoint, resultCode: result.resultCode, ms },
        'unsigned refusal of the request signature: treating as unknown; if it persists, check keys and client id',
      );
      return { kind: 'unknown', reason: 'unverified', detail: `unsigned ${result.resultCode}` };
    }
    if (verified !== 'ok') {
      logger.error({ endpoint, verified, ms }, 'antom response signature not verified; treating as unknown');
      return { kind: 'unknown', reason: 'unverified', detail: `response signature ${verified}` };
    }
    // Logging at info costs nothing per successful pay (issue 17): an S answer is a debug line
    // (relay_antom_calls_total counts every call by result code); F and U stay at info.
    logger[result.resultStatus === 'S' ? 'debug' : 'info']({ endpoint, resultStatus: result.resultStatus, resultCode: result.resultCode, ms }, 'antom call');
    return { kind: 'answer', result, body: parsed as Record<string, unknown> };
  }

  /**
   * One POST over a kept-alive connection (node:http/https rather than fetch: the pay path's
   * HTTP client cost was ~4× lower in the relay's CPU profile, docs/benchmarks.md). The whole
   * exchange, answer body included, is bounded by `timeoutMs`; an answer over 1 MiB is cut off
   * and counts as a network failure (nothing Antom sends is near that size). `headers` is the
   * caller's own object; Content-Length is added to it.
   */
  #post(path: string, body: string, headers: Record<string, string>): Promise<RawAnswer> {
    const { protocol, hostname, port, prefix, agent, send } = this.#target;
    headers['Content-Length'] = String(Buffer.byteLength(body));
    const req = send({ protocol, hostname, port, path: `${prefix}${path}`, method: 'POST', agent, headers }, onResponse);
    const timeoutMs = this.#o.timeoutMs;
    const answer = new Promise<RawAnswer>((resolve, reject) => {
      const ex: Exchange = { req, resolve, reject, timer: undefined, timeoutMs, chunks: [], size: 0 };
      (req as Carrier)[EXCHANGE] = ex;
      ex.timer = setTimeout(onExchangeTimeout, timeoutMs, ex);
    });
    req.on('error', onRequestError);
    req.end(body);
    return answer;
  }

  #verifyResponse(path: string, headers: IncomingHttpHeaders, text: string): 'ok' | 'missing' | 'bad' {
    const header = one(headers, 'signature');
    const time = one(headers, 'response-time');
    if (!header || !time) return 'missing';
    const clientId = one(headers, 'client-id') ?? this.#o.clientId;
    if (clientId !== this.#o.clientId) return 'bad';
    const parsed = parseSignatureHeader(header);
    if (!parsed) return 'bad';
    const content = signContent('POST', path, clientId, time, text);
    return verifyBase64(this.#o.antomPublicKey, content, parsed.signature) ? 'ok' : 'bad';
  }
}
