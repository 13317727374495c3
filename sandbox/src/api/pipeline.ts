import type { FastifyReply, FastifyRequest } from 'fastify';
import { isoWithOffset, parseRequestTime } from '../core/clock.ts';
import { maskSecret } from '../core/ids.ts';
import { logRequest, type RequestLogEntry, type SandboxContext } from '../core/context.ts';
import { rawBodyOf } from '../core/raw-body.ts';
import { formatSignatureHeader, parseSignatureHeader, signBase64, signContent, verifyBase64 } from '../core/signature.ts';
import { type AntomBody, fail, nestsDeeperThan } from './result.ts';

/** Deepest JSON nesting accepted; Antom's deepest request (order.buyer.buyerName) is 4. */
const MAX_DEPTH = 16;

/** The request once its message layer is verified. */
export interface VerifiedRequest {
  json: Record<string, unknown>;
  entry: RequestLogEntry;
  path: string;
}

/** Hides token values in logged bodies (inspection shows tokens masked). */
function maskSecrets(text: string): string {
  return text.replace(
    /"(accessToken|paymentMethodId|refreshToken|authCode)"(\s*):(\s*)"([^"]{0,200})"/g,
    (_m, key: string, a: string, b: string, value: string) => `"${key}"${a}:${b}"${maskSecret(value)}"`,
  );
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return typeof v === 'string' ? v : undefined;
}

/** Writes an Antom response: HTTP 200, JSON, `response-time`, `client-id` and (if `signed`) a signature. */
export function sendAntom(ctx: SandboxContext, reply: FastifyReply, path: string, body: AntomBody, signed: boolean): FastifyReply {
  const text = JSON.stringify(body);
  const responseTime = isoWithOffset(ctx.clock.now());
  reply.code(200).header('content-type', 'application/json; charset=UTF-8').header('response-time', responseTime).header('client-id', ctx.clientId);
  if (signed) {
    const signature = signBase64(signContent('POST', path, ctx.clientId, responseTime, text), ctx.keys.privateKey);
    reply.header('signature', formatSignatureHeader(signature));
  }
  return reply.send(text);
}

/**
 * The message layer of every API call, in Antom's order: size, media type, Client-Id,
 * Request-Time, Signature (RSA256 over `POST <path as received>\n<client-id>.<request-time>.<raw
 * body>` with the registered merchant key), then UTF-8, JSON, nesting. A refusal is answered
 * here (HTTP 200, F) and the business rules never run. Answers to a bad signature or an
 * unknown client carry no signature, as at Antom; every other answer is signed.
 */
export function verifyMessage(ctx: SandboxContext, endpoint: string, req: FastifyRequest, reply: FastifyReply): VerifiedRequest | undefined {
  const path = req.raw.url ?? req.url;
  const { raw, tooLarge } = rawBodyOf(req.body);
  const clientId = header(req, 'client-id');
  const requestTime = header(req, 'request-time');
  const entry: RequestLogEntry = {
    at: ctx.clock.now(),
    method: req.method,
    path,
    endpoint,
    clientId,
    requestTime,
    verification: 'NOT_CHECKED',
    bodyExcerpt: maskSecrets(raw.subarray(0, 500).toString('utf8')),
  };
  const ours = clientId === ctx.clientId;
  const refuse = (verification: RequestLogEntry['verification'], code: string, message: string, signed: boolean): undefined => {
    entry.verification = verification;
    entry.resultStatus = 'F';
    entry.resultCode = code;
    logRequest(ctx, entry);
    sendAntom(ctx, reply, path, fail(code, message), signed);
    return undefined;
  };
  if (tooLarge) return refuse('TOO_LARGE', 'PARAM_ILLEGAL', 'the request body exceeds 1 MB', ours);
  const contentType = header(req, 'content-type') ?? '';
  const [mediaType = '', ...params] = contentType.split(';').map((s) => s.trim().toLowerCase());
  const charset = params
    .find((p) => p.startsWith('charset='))
    ?.slice(8)
    .replace(/"/g, '');
  if (mediaType !== 'application/json' || (charset !== undefined && charset !== 'utf-8')) {
    return refuse('BAD_MEDIA_TYPE', 'PARAM_ILLEGAL', 'Content-Type must be application/json; charset=UTF-8', ours);
  }
  if (!clientId) return refuse('BAD_HEADERS', 'PARAM_ILLEGAL', 'the Client-Id header is missing', false);
  if (!ours) return refuse('CLIENT_INVALID', 'CLIENT_INVALID', 'the client id is invalid', false);
  if (!requestTime || parseRequestTime(requestTime) === undefined) {
    return refuse('BAD_HEADERS', 'PARAM_ILLEGAL', 'the Request-Time header is missing or invalid', true);
  }
  const signature = parseSignatureHeader(header(req, 'signature'));
  if (signature?.algorithm !== 'RSA256') return refuse('INVALID_SIGNATURE', 'INVALID_SIGNATURE', 'the signature is invalid', false);
  // Only key version 1 is registered; an omitted version means the latest, as at Antom.
  if (signature.keyVersion !== undefined && signature.keyVersion !== '1') {
    return refuse('KEY_NOT_FOUND', 'KEY_NOT_FOUND', 'no key is registered for this key version', false);
  }
  if (!verifyBase64(signContent('POST', path, clientId, requestTime, raw), signature.signature, ctx.merchantKey)) {
    return refuse('INVALID_SIGNATURE', 'INVALID_SIGNATURE', 'the signature is invalid', false);
  }
  entry.verification = 'OK';
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw);
  } catch {
    return refuse('OK', 'PARAM_ILLEGAL', 'the body is not valid UTF-8', true);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return refuse('OK', 'PARAM_ILLEGAL', 'the body is not valid JSON', true);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return refuse('OK', 'PARAM_ILLEGAL', 'the body must be a JSON object', true);
  if (nestsDeeperThan(json, MAX_DEPTH)) return refuse('OK', 'PARAM_ILLEGAL', 'the body nests too deeply', true);
  return { json: json as Record<string, unknown>, entry, path };
}
